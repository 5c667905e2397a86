"""Who is calling: a bearer token (`grumble token create`), its role, and its rate limit.

`require(role)` is the dependency each route names: it finds the token (revoked and unknown ones are
refused alike, 401), takes one request from the token's bucket (the shared token bucket kept in the
database, so every process serving the API counts against one limit; 429 with Retry-After), and checks
the role (viewer < responder < admin, monitor/auth/users.py; 403). The caller acts under the token's
name: the audit trail says which person or integration did what.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from monitor.api.context import ApiContext, api_context
from monitor.api.problems import Problem, responses
from monitor.auth.users import ROLES, User
from monitor.store.api_tokens import token_holder
from monitor.store.rate_limits import take_token

_bearer = HTTPBearer(auto_error=False, description="a token from `grumble token create`")
ROLE_EXTENSION = "x-grumble-role"  # the OpenAPI field naming the role a route needs
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="grumble"'}


@dataclass(frozen=True)
class Caller:
    """The token's holder, as the user the respond/ functions check roles on and name in the history."""

    name: str
    role: str

    @property
    def user(self) -> User:
        return User(name=self.name, role=self.role)


def rate_key(name: str) -> str:
    return f"api-token:{name}"


def authenticate(context: ApiContext, credentials: HTTPAuthorizationCredentials | None) -> Caller:
    if credentials is None:
        raise Problem(
            "unauthenticated",
            "Send a token in the header `Authorization: Bearer <token>`; an admin makes one with "
            "`grumble token create --name NAME --role ROLE`.",
            headers=_CHALLENGE,
        )
    found = token_holder(context.engine, credentials.credentials)
    if found is None or not found.active:
        # Unknown and revoked read the same: the answer does not tell a guesser which names exist.
        raise Problem(
            "unauthenticated",
            "This token is not valid: it was revoked or never made here. Ask an admin for a new one.",
            headers=_CHALLENGE,
        )
    return Caller(found.name, found.role)


def _limit(context: ApiContext, caller: Caller) -> None:
    taken = take_token(context.engine, rate_key(caller.name), context.bucket)
    if not taken.granted:
        retry_after = max(1, math.ceil(taken.wait_s))
        raise Problem(
            "rate-limited",
            f"This token may send {context.bucket.per_minute} requests a minute; "
            f"send the next one in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


def require(role: str) -> Callable[..., Caller]:
    """The dependency for a route open to `role` and the roles above it."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")

    def dependency(
        context: Annotated[ApiContext, Depends(api_context)],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Caller:
        caller = authenticate(context, credentials)
        _limit(context, caller)  # before the role: a token probing routes it may not use still counts
        if not caller.user.can(role):
            raise Problem(
                "forbidden",
                f"This needs a token with the {role} role or above; {caller.name!r} is a {caller.role}. "
                "Ask an admin for a token with that role.",
            )
        return caller

    dependency.grumble_role = role  # type: ignore[attr-defined]  # read by required_role
    return dependency


def required_role(dependant: Dependant) -> str | None:
    """The role a route's dependencies require (`require`), for the OpenAPI document; None: no token."""
    for sub in dependant.dependencies:
        role = getattr(sub.call, "grumble_role", None) or required_role(sub)
        if role is not None:
            return str(role)
    return None


# The three levels, for `caller: Annotated[Caller, Depends(VIEWER)]`.
VIEWER = require("viewer")
RESPONDER = require("responder")
ADMIN = require("admin")

# What every route that takes a token may answer besides its own codes: no or a bad token, a role too
# low, bad input, too many requests.
AUTH_RESPONSES = responses(401, 403, 422, 429)
