"""Contract tests read from the OpenAPI document the API serves: every route answers every status code it
declares, with a body of the declared schema and media type.

Replies are posted through the Mastodon fake on a loopback server (tests/respond/fakes.py), so "post"
runs the real exactly-once path over HTTP. The status codes any route taking a token can answer (401,
403, 404, 422, 429) are provoked the same way for every route taking a token, other routers included;
a route's success and 409 are provoked by its scenario below (`SCENARIOS`; a router whose own tests
cover its successes may leave them out).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import Engine

from models.labels import LABELS
from monitor.api.auth import ROLE_EXTENSION
from monitor.auth.users import ROLES
from monitor.config import ResponderSettings
from monitor.respond.workflow import Repliers
from monitor.store.api_tokens import create_token
from tests.api.conftest import Api, make_api, one_case, one_mention, unconfigured
from tests.respond.fakes import FakeMastodon
from tests.support.http_replay import ReplayServer

# Responders' replies wait for an admin's approval; admins' are posted at once.
SETTINGS = ResponderSettings(approval_roles=("responder",))
TEXT = "Hi, sorry about that: it is fixed in 2.3."


DECLARED = "declared"


@dataclass
class Call:
    """One request: the path's parameters, the body, the query, and whose token (None: no token; by
    default a token with exactly the role the route declares, so each success also shows that role is
    enough)."""

    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    query: dict[str, Any] = field(default_factory=dict)
    role: str | None = DECLARED
    content: bytes | None = None


@dataclass
class World:
    """The API under test (`api`, posting to the Mastodon fake), and `setup`, the same store served with
    no source able to post, to leave replies approved and unposted."""

    api: Api
    setup: Api

    def mention(self, source: str = "mastodon") -> int:
        return one_mention(self.api.engine, source)

    def case(self, source: str = "mastodon") -> int:
        return one_case(self.api, source)

    def reply(self, state: str, source: str = "mastodon") -> tuple[int, int]:
        """A case with a reply in `state`: draft, awaiting_approval, or approved (not posted)."""
        case = self.case(source)
        if state == "draft":
            answer = self.api.call("POST", f"/cases/{case}/reply/draft", json={"text": TEXT})
        elif state == "awaiting_approval":
            answer = self.api.call("POST", f"/cases/{case}/reply/submit", "responder", json={"text": TEXT})
        else:
            answer = self.setup.call("POST", f"/cases/{case}/reply/submit", json={"text": TEXT})
        assert answer.status_code == 200 and answer.json()["reply"]["status"] == state, answer.text
        return case, int(answer.json()["reply"]["id"])


def _reply_call(state: str, source: str = "mastodon", **extra: Any) -> Callable[[World], Call]:
    def build(world: World) -> Call:
        case, reply = world.reply(state, source)
        return Call({"case_id": case, "reply_id": reply}, **extra)

    return build


def _conflicting_draft(world: World) -> Call:
    """admin-bot wrote version 1 of the draft; a responder who loaded none of it (base_version 0) is
    refused rather than saving over it."""
    case, _ = world.reply("draft")
    saved = world.api.call("POST", f"/cases/{case}/reply/draft", "responder", json={"text": TEXT + " v2"})
    assert saved.status_code == 200, saved.text
    return Call({"case_id": case}, {"text": TEXT + " mine", "base_version": 0})


# (method, path) -> status -> the request that gets it. 401, 403, 404, 422 and 429 are provoked for every
# route in `provoke`.
SCENARIOS: dict[tuple[str, str], dict[int, Callable[[World], Call]]] = {
    ("get", "/mentions"): {200: lambda w: Call(query={"label": "all", "limit": 2})},
    ("get", "/mentions/{mention_id}"): {200: lambda w: Call({"mention_id": w.mention()})},
    ("put", "/mentions/{mention_id}/label"): {
        200: lambda w: Call({"mention_id": w.mention()}, {"label": "positive"})
    },
    ("post", "/mentions/{mention_id}/case"): {
        201: lambda w: Call({"mention_id": w.mention()}),
        200: lambda w: Call({"mention_id": w.api.get(f"/cases/{w.case()}").json()["mention_id"]}),
    },
    ("get", "/cases/{case_id}"): {200: lambda w: Call({"case_id": w.case()})},
    ("put", "/cases/{case_id}/assignee"): {200: lambda w: Call({"case_id": w.case()}, {"assignee": "dana"})},
    ("put", "/cases/{case_id}/status"): {200: lambda w: Call({"case_id": w.case()}, {"status": "resolved"})},
    ("post", "/cases/{case_id}/notes"): {201: lambda w: Call({"case_id": w.case()}, {"text": "called them"})},
    ("put", "/cases/{case_id}/tags"): {200: lambda w: Call({"case_id": w.case()}, {"tags": ["billing"]})},
    ("get", "/cases/{case_id}/replies"): {200: _reply_call("draft")},
    ("post", "/cases/{case_id}/reply/draft"): {
        200: lambda w: Call({"case_id": w.case()}, {"text": TEXT}),
        409: _conflicting_draft,
    },
    ("post", "/cases/{case_id}/reply/submit"): {
        200: lambda w: Call({"case_id": w.case()}, {"text": TEXT}),
        # Over the App Store's 5,970 characters.
        409: lambda w: Call({"case_id": w.case("appstore")}, {"text": "x" * 6000}),
    },
    ("post", "/cases/{case_id}/replies/{reply_id}/approve"): {
        # [responder] approver_role: admin (the default).
        200: _reply_call("awaiting_approval", role="admin"),
        409: _reply_call("draft"),
    },
    ("post", "/cases/{case_id}/replies/{reply_id}/post"): {
        200: _reply_call("approved"),
        409: _reply_call("draft"),
    },
    ("post", "/cases/{case_id}/replies/{reply_id}/by-hand"): {
        200: _reply_call("approved", "appstore", json={"sent": "https://apps.apple.com/r/1"}),
        409: _reply_call("draft", json={}),
    },
    ("post", "/cases/{case_id}/replies/{reply_id}/send-back"): {
        200: _reply_call("awaiting_approval", json={"reason": "softer, please"}, role="admin"),
        409: _reply_call("draft", json={}),
    },
    ("get", "/watches"): {200: lambda w: Call()},
    ("get", "/sources"): {200: lambda w: Call()},
    ("get", "/streams"): {200: lambda w: Call()},
}
MY_PATHS = {path for _, path in SCENARIOS}


@pytest.fixture
def world(sqlite_engine: Engine, replay_server: ReplayServer) -> Iterator[World]:
    fake = FakeMastodon(replay_server)
    posting = fake.source()
    repliers = Repliers(lambda name: posting if name == "mastodon" else unconfigured(name))
    api = make_api(sqlite_engine, responder=SETTINGS, repliers=repliers)
    setup = make_api(sqlite_engine, responder=SETTINGS, tokens=api.tokens)
    with api.client, setup.client:
        yield World(api, setup)


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def _body_json(call: Call, op: dict[str, Any]) -> Any:
    if call.json is not None or "requestBody" not in op:
        return call.json
    return {}


def send(api: Api, method: str, path: str, call: Call, op: dict[str, Any]) -> httpx.Response:
    url = re.sub(r"\{(\w+)\}", lambda m: str(call.params[m.group(1)]), path)
    options: dict[str, Any] = {"params": call.query}
    if call.content is not None:
        options["content"] = call.content
        options["headers"] = {"Content-Type": "application/json"}
    elif method != "get":
        options["json"] = _body_json(call, op)
    role = op[ROLE_EXTENSION] if call.role == DECLARED else call.role
    return api.call(method.upper(), url, role, **options)


def check(
    document: dict[str, Any], op: dict[str, Any], status: int, answer: httpx.Response, what: str
) -> None:
    """The answer has the status wanted, and the media type and schema the document declares for it."""
    assert answer.status_code == status, f"{what}: wanted {status}, got {answer.status_code}: {answer.text}"
    declared = op["responses"][str(status)]["content"]
    media_type = answer.headers["content-type"].split(";")[0]
    assert media_type in declared, f"{what}: {media_type} is not declared for {status}"
    schema = {**declared[media_type]["schema"], "components": document["components"]}
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(answer.json())]
    assert errors == [], f"{what}: the body does not match the declared schema: {errors}"
    if status >= 400:
        assert answer.json()["status"] == status and answer.json()["detail"]


def _below(role: str) -> str:
    return ROLES[ROLES.index(role) - 1]


def _path_ids(path: str, value: Any) -> dict[str, Any]:
    return {name: value for name in re.findall(r"\{(\w+)\}", path)}


def provoke(world: World, method: str, path: str, op: dict[str, Any], status: int) -> Call:
    """A request that should be answered `status`, for any route taking a token."""
    if status in SCENARIOS.get((method, path), {}):
        return SCENARIOS[(method, path)][status](world)
    scenario = SCENARIOS.get((method, path), {})
    # Refused before the route runs, so any ids do for another router's route.
    base = scenario[min(scenario)](world) if scenario else Call(_path_ids(path, 1))
    if status == 401:
        return Call(base.params, base.json, base.query, role=None)
    if status == 403:
        return Call(base.params, base.json, base.query, role=_below(op[ROLE_EXTENSION]))
    if status == 404:
        return Call(_path_ids(path, 999_999), base.json, base.query, role="admin")
    if status == 422:
        if "requestBody" in op:
            return Call(base.params, content=b"{not json")
        if "{" in path:
            return Call(_path_ids(path, "not-a-number"), base.json, base.query)
        return Call(base.params, base.json, {**base.query, "limit": 0})
    raise AssertionError(f"no way to provoke {status} on {method.upper()} {path}: add it to SCENARIOS")


def test_every_route_answers_every_status_it_declares_and_in_the_declared_shape(world: World) -> None:
    document = world.api.get("/openapi.json", role=None).json()
    operations = [(m, p, op) for m, p, op in _operations(document) if ROLE_EXTENSION in op]
    assert {(m, p) for m, p, _ in operations} >= set(SCENARIOS), "a scenario names a route that is gone"
    generic = {401, 403, 404, 422}
    for method, path, op in operations:
        for code in sorted(int(status) for status in op["responses"] if status != "429"):
            if code not in generic and (method, path) not in SCENARIOS:
                continue
            call = provoke(world, method, path, op, code)
            check(document, op, code, send(world.api, method, path, call, op), f"{method.upper()} {path}")


def test_every_route_taking_a_token_is_rate_limited_per_token_with_retry_after(sqlite_engine: Engine) -> None:
    limited = make_api(sqlite_engine, per_minute=1)
    with limited.client:
        document = limited.get("/openapi.json", role=None).json()
        for index, (method, path, op) in enumerate(_operations(document)):
            if ROLE_EXTENSION not in op:
                continue
            assert "429" in op["responses"], f"{method.upper()} {path} does not declare 429"
            # A token of its own for each route: its first request is served, its second refused.
            name = f"burst-{index}"
            limited.tokens[name] = create_token(sqlite_engine, name, "admin")
            call = Call(_path_ids(path, 999_999), role=name)
            first = send(limited, method, path, call, op)
            assert first.status_code != 429, f"{method.upper()} {path}: {first.text}"
            second = send(limited, method, path, call, op)
            check(document, op, 429, second, f"{method.upper()} {path}")
            assert 1 <= int(second.headers["retry-after"]) <= 60


def test_the_document_declares_each_route_s_role_and_a_bearer_scheme(api: Api) -> None:
    document = api.get("/openapi.json", role=None).json()
    assert document["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "a token from `grumble token create`",
    }
    label = document["components"]["schemas"]["Relabel"]["properties"]["label"]
    assert label["enum"] == list(LABELS)  # the API's labels are the model's
    roles = {(m, p): op.get(ROLE_EXTENSION) for m, p, op in _operations(document) if p in MY_PATHS}
    assert roles[("get", "/mentions")] == "viewer"
    assert roles[("put", "/cases/{case_id}/status")] == "responder"
    assert set(roles.values()) <= set(ROLES)
    docs = api.get("/docs", role=None)
    assert docs.status_code == 200 and "/api/v1/openapi.json" in docs.text
