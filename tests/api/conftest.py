"""The REST API in process (Starlette's TestClient speaks ASGI to the app `grumble api` serves) over a
store of its own: scored mentions, a token per role, and the sources' repliers as an empty config
builds them (App Store without a reply API, the others without a login)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from monitor.api.app import PREFIX, api_server
from monitor.auth.users import ROLES
from monitor.config import Config, ReplyTemplate, ResponderSettings
from monitor.mention import Mention, utcnow
from monitor.respond.workflow import Repliers
from monitor.sources.base import Source, SourceSettings
from monitor.sources.registry import build_source
from monitor.store.api_tokens import create_token
from monitor.store.mentions import import_mentions
from monitor.store.schema import mentions
from tests.factories import mention, watch
from tests.respond.conftest import set_priority

WATCHES = (watch("acme", brand="Acme", sources={"demo": {}}), watch("globex", sources={"demo": {}}))


def unconfigured(name: str) -> Source:
    return build_source(SourceSettings(name=name))


@dataclass
class Api:
    """A client of the API with a token for each role (`as_role`), and the store under it."""

    engine: Engine
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, role: str | None = "admin", **options: Any) -> httpx.Response:
        headers = dict(options.pop("headers", {}))
        if role is not None:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return self.client.request(method, PREFIX + path, headers=headers, **options)

    def get(self, path: str, role: str | None = "viewer", **options: Any) -> httpx.Response:
        return self.call("GET", path, role, **options)


def make_api(
    engine: Engine,
    *,
    responder: ResponderSettings | None = None,
    repliers: Repliers | None = None,
    per_minute: int = 10_000,
    tokens: dict[str, str] | None = None,
    templates: tuple[ReplyTemplate, ...] = (),
) -> Api:
    """The API over `engine`; `tokens`: those of another Api on the same store (default: one made per
    role)."""
    config = Config(
        path=None, watches=WATCHES, responder=responder or ResponderSettings(), reply_templates=templates
    )
    app = api_server(engine, config, per_minute=per_minute, repliers=repliers or Repliers(unconfigured))
    api = Api(engine, TestClient(app, raise_server_exceptions=False))
    api.tokens = (
        dict(tokens) if tokens is not None else {r: create_token(engine, f"{r}-bot", r) for r in ROLES}
    )
    return api


def seed(engine: Engine, count: int, watch_name: str = "acme", start: int = 0) -> list[int]:
    """`count` mentions of `watch_name`, scored negative with priorities count..1 (the first highest)."""
    now = utcnow()
    batch: list[Mention] = [
        mention(start + n, source="reddit", created_at=now - timedelta(minutes=n + 1)) for n in range(count)
    ]
    import_mentions(engine, watch_name, batch)
    with engine.connect() as connection:
        ids = dict(
            connection.execute(
                mentions.select()
                .with_only_columns(mentions.c.external_id, mentions.c.id)
                .where(mentions.c.external_id.in_([m.external_id for m in batch]))
            ).all()
        )
    ordered = [ids[m.external_id] for m in batch]
    for rank, mention_id in enumerate(ordered):
        set_priority(engine, mention_id, float(count - rank) + start, now)
    return ordered


_numbers = itertools.count(1)


def one_mention(engine: Engine, source: str = "mastodon") -> int:
    """A new negative mention of `source` (a Mastodon status id, else a review id), priority 2."""
    n = next(_numbers)
    external_id = str(117541070438400000 + n) if source == "mastodon" else f"review-{n}"
    import_mentions(engine, "acme", [mention(n, source=source, external_id=external_id)])
    with engine.connect() as connection:
        found = connection.scalar(
            mentions.select()
            .with_only_columns(mentions.c.id)
            .where(mentions.c.source == source, mentions.c.external_id == external_id)
        )
    assert isinstance(found, int)
    set_priority(engine, found, 2.0)
    return found


def one_case(api: Api, source: str = "mastodon") -> int:
    """A new mention's case, opened through the API."""
    answer = api.call("POST", f"/mentions/{one_mention(api.engine, source)}/case")
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


@pytest.fixture
def api(sqlite_engine: Engine) -> Iterator[Api]:
    built = make_api(sqlite_engine)
    with built.client:
        yield built
