"""The REST API as an ASGI app: `build_api` makes the FastAPI app (its routes relative to /api/v1),
`api_server` mounts it at /api/v1 for `grumble api`, and `LazyApi` lets the dashboard mount it at import
time while reading the config and opening the database only on the first request."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, MutableMapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.routing import Mount

from monitor.api import problems
from monitor.api.auth import ROLE_EXTENSION, required_role
from monitor.api.context import ApiContext
from monitor.api.routers import ROUTERS
from monitor.auth.users import ROLES
from monitor.config import Config
from monitor.respond.workflow import Repliers
from monitor.token_bucket import Bucket

PREFIX = "/api/v1"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

DESCRIPTION = """\
Grumble's mentions, cases and replies for scripts and integrations.

Authenticate with `Authorization: Bearer <token>`; an admin makes tokens with
`grumble token create --name NAME --role ROLE` (viewer reads; responder also triages and answers;
admin everything). Each token may send a limited number of requests a minute (429 with Retry-After).
Every error is RFC 9457 problem JSON (`application/problem+json`).
"""


def _version() -> str:
    try:
        return version("grumble")
    except PackageNotFoundError:
        return "0"


def build_api(
    engine: Engine,
    config: Config,
    *,
    per_minute: int | None = None,
    repliers: Repliers | None = None,
) -> FastAPI:
    """The API over `engine`, its routes relative to where it is mounted (PREFIX). `per_minute`: each
    token's limit (default: [api] requests_per_minute); `repliers`: the sources that post replies
    (default: built from `config`, as the dashboard does)."""
    api = FastAPI(
        title="Grumble API",
        version=_version(),
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    api.state.grumble = ApiContext(
        engine=engine,
        config=config,
        # No waiting inside the server: a request over the limit is answered 429 at once.
        bucket=Bucket(per_minute or config.api.requests_per_minute, max_wait_s=0.0),
        repliers=repliers or Repliers.from_config(config, engine),
    )
    problems.install(api)
    for router in ROUTERS:
        _declare_roles(router)
        api.include_router(router)
    return api


def _takes_input(route: APIRoute) -> bool:
    # As FastAPI decides whether a route can answer 422; the inbox filters are declared in openapi_extra.
    return bool(get_flat_params(route.dependant) or route.body_field or route.openapi_extra)


def _declare_roles(router: APIRouter) -> None:
    """Each route's role in the OpenAPI document (`x-grumble-role`), read from the dependency that
    enforces it, so the document cannot say other than the code does."""
    for route in router.routes:
        if isinstance(route, APIRoute):
            if not _takes_input(route):
                route.responses.pop(422, None)  # nothing to validate: never answered
            role = required_role(route.dependant)
            if role == ROLES[0]:
                route.responses.pop(403, None)  # every token has the lowest role
            if role is not None:
                route.openapi_extra = {**(route.openapi_extra or {}), ROLE_EXTENSION: role}
                route.description = (
                    f"{route.description}\n\nNeeds a token with the {role} role or above.".strip()
                )


def api_server(engine: Engine, config: Config, **options: Any) -> Starlette:
    """What `grumble api` serves: the API under PREFIX, as the dashboard serves it."""
    return Starlette(routes=[Mount(PREFIX, app=build_api(engine, config, **options))])


class LazyApi:
    """An ASGI app that builds the API on its first request, with `load`'s engine and config."""

    def __init__(self, load: Callable[[], tuple[Engine, Config]]) -> None:
        self._load = load
        self._api: FastAPI | None = None
        self._lock = threading.Lock()

    def _built(self) -> FastAPI:
        with self._lock:
            if self._api is None:
                self._api = build_api(*self._load())
            return self._api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._built()(scope, receive, send)
