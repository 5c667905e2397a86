"""Google access tokens (monitor/sources/google_auth.py) against a token endpoint on loopback.

The token endpoint is a fake built from Google's documented OAuth 2.0 exchanges (the JWT-bearer grant
for service accounts, RFC 7523; the refresh-token grant, RFC 6749): it checks the assertion's RS256
signature with the public half of a key generated here, and answers like oauth2.googleapis.com.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from monitor.config import load_config
from monitor.errors import SourceAuthError, SourceRateLimited, SourceResponseError, SourceUnavailable
from monitor.sources.base import USER_AGENT, SourceSettings
from monitor.sources.google_auth import JWT_BEARER, GoogleToken
from monitor.sources.http import build_client
from tests.support.http_replay import ReplayServer, Reply, Request

SCOPE = "https://www.googleapis.com/auth/androidpublisher"
CLIENT_EMAIL = "grumble@acme-project.iam.gserviceaccount.com"
REFRESH = {
    "client_id": "1234.apps.googleusercontent.com",
    "client_secret": "GOCSPX-s3cr3t-value",
    "refresh_token": "1//0refresh-token-value",
}


def make_key() -> tuple[str, Any]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem, private.public_key()


PRIVATE_PEM, PUBLIC_KEY = make_key()


def service_account_key(**changes: Any) -> dict[str, Any]:
    """The shape of the JSON key Google Cloud hands out (IAM > Service accounts > Keys)."""
    key = {
        "type": "service_account",
        "project_id": "acme-project",
        "private_key_id": "kid-0001",
        "private_key": PRIVATE_PEM,
        "client_email": CLIENT_EMAIL,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    key.update(changes)
    return key


@dataclass
class FakeTokenEndpoint:
    server: ReplayServer
    issued: list[str] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)
    expires_in: int = 3599
    leeway_s: float = 7200.0  # the tests' clock runs up to two hours ahead of the real one

    @property
    def url(self) -> str:
        return f"{self.server.url}/token"

    def __call__(self, request: Request) -> Reply:
        form = request.form()
        if form.get("grant_type") == JWT_BEARER:
            try:
                header = jwt.get_unverified_header(form["assertion"])
                claims = jwt.decode(
                    form["assertion"],
                    PUBLIC_KEY,
                    algorithms=["RS256"],
                    audience=self.url,
                    leeway=self.leeway_s,
                )
            except jwt.PyJWTError as exc:
                return Reply.json({"error": "invalid_grant", "error_description": f"Invalid JWT: {exc}"}, 400)
            assert header["kid"] == "kid-0001"
            self.claims.append(claims)
        elif form.get("grant_type") == "refresh_token":
            if form.get("client_secret") != REFRESH["client_secret"]:
                return Reply.json({"error": "invalid_client", "error_description": "Unauthorized"}, 401)
            if form.get("refresh_token") != REFRESH["refresh_token"]:
                return Reply.json({"error": "invalid_grant", "error_description": "Bad Request"}, 400)
        else:
            return Reply.json({"error": "unsupported_grant_type"}, 400)
        token = f"ya29.token-{len(self.issued) + 1}"
        self.issued.append(token)
        return Reply.json({"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"})


@pytest.fixture
def endpoint(replay_server: ReplayServer) -> Iterator[FakeTokenEndpoint]:
    fake = FakeTokenEndpoint(replay_server)
    replay_server.route("POST", "/token", fake)
    yield fake


def client() -> httpx.Client:
    return build_client(
        SourceSettings("google_play", timeout_s=2.0), "https://androidpublisher.googleapis.com"
    )


class Clock:
    def __init__(self) -> None:
        self.now = time.time()  # the fake endpoint checks iat/exp against the real time

    def __call__(self) -> float:
        return self.now


def test_a_service_account_key_signs_an_rs256_assertion_traded_for_a_token(
    endpoint: FakeTokenEndpoint,
) -> None:
    options = {"service_account_json": json.dumps(service_account_key()), "token_url": endpoint.url}
    token = GoogleToken.from_options("google_play", options, SCOPE, client=client())

    assert token.grant == "service_account" and token.missing() is None
    assert token.header() == {"Authorization": "Bearer ya29.token-1"}
    (claims,) = endpoint.claims
    assert claims["iss"] == CLIENT_EMAIL and claims["scope"] == SCOPE and claims["aud"] == endpoint.url
    assert claims["exp"] - claims["iat"] == 3600
    (request,) = endpoint.server.requests_to("/token")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert USER_AGENT in request.headers["user-agent"]


def test_the_key_can_be_a_file_a_toml_table_or_a_grumble_variable(
    endpoint: FakeTokenEndpoint, tmp_path: Path
) -> None:
    key_file = tmp_path / "play-key.json"
    key_file.write_text(json.dumps(service_account_key()), encoding="utf-8")
    for options in (
        {"service_account_file": str(key_file)},
        {"service_account_json": service_account_key()},  # an inline table in grumble.toml
    ):
        token = GoogleToken.from_options(
            "google_play", {**options, "token_url": endpoint.url}, SCOPE, client=client()
        )
        assert token.header()["Authorization"].startswith("Bearer ya29.")

    config_file = tmp_path / "grumble.toml"
    config_file.write_text("[sources.google_play]\n", encoding="utf-8")
    environ = {
        "GRUMBLE_GOOGLE_PLAY_SERVICE_ACCOUNT_JSON": json.dumps(service_account_key()),
        "GRUMBLE_GOOGLE_PLAY_TOKEN_URL": endpoint.url,
    }
    settings = load_config(config_file, environ=environ).source_settings("google_play")
    token = GoogleToken.from_options("google_play", settings.options, SCOPE, client=client())
    assert token.header() == {"Authorization": f"Bearer {endpoint.issued[-1]}"}
    assert len(endpoint.claims) == 3


def test_the_token_is_cached_until_shortly_before_it_expires(endpoint: FakeTokenEndpoint) -> None:
    clock = Clock()
    options = {"service_account_json": json.dumps(service_account_key()), "token_url": endpoint.url}
    token = GoogleToken.from_options("google_play", options, SCOPE, client=client(), clock=clock)
    first = token.header()
    clock.now += 3599 - 61
    assert token.header() == first and len(endpoint.issued) == 1
    clock.now += 2  # inside the last minute: renewed before it can die on the way
    assert token.header() == {"Authorization": "Bearer ya29.token-2"}
    token.invalidate()
    assert token.header() == {"Authorization": "Bearer ya29.token-3"}


def test_threads_asking_together_share_one_exchange(endpoint: FakeTokenEndpoint) -> None:
    options = {"service_account_json": json.dumps(service_account_key()), "token_url": endpoint.url}
    token = GoogleToken.from_options("google_play", options, SCOPE, client=client())
    barrier = threading.Barrier(8)
    headers: list[dict[str, str]] = []

    def ask() -> None:
        barrier.wait()
        headers.append(token.header())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(headers) == 8 and len({h["Authorization"] for h in headers}) == 1
    assert len(endpoint.issued) == 1


def test_a_refresh_token_is_traded_with_the_client_credentials(endpoint: FakeTokenEndpoint) -> None:
    token = GoogleToken.from_options(
        "google_business", {**REFRESH, "token_url": endpoint.url}, "scope-x", client=client()
    )
    assert token.grant == "refresh_token"
    assert token.header() == {"Authorization": "Bearer ya29.token-1"}
    form = endpoint.server.requests_to("/token")[0].form()
    assert form == {"grant_type": "refresh_token", **REFRESH}


def test_grants_say_which_ways_an_api_accepts(endpoint: FakeTokenEndpoint) -> None:
    options = {
        **REFRESH,
        "service_account_json": json.dumps(service_account_key()),
        "token_url": endpoint.url,
    }
    assert GoogleToken.from_options("x", options, SCOPE, client=client()).grant == "service_account"
    only_oauth = GoogleToken.from_options("x", options, SCOPE, client=client(), grants=("refresh_token",))
    assert only_oauth.grant == "refresh_token"


@pytest.mark.parametrize(
    ("changed", "fix"),
    [
        ({"client_secret": "GOCSPX-wrong-secret"}, "invalid_client"),
        ({"refresh_token": "1//0revoked-refresh-token"}, "invalid_grant"),
    ],
)
def test_a_refused_refresh_names_the_settings_and_never_the_secrets(
    endpoint: FakeTokenEndpoint, changed: dict[str, str], fix: str
) -> None:
    options = {**REFRESH, **changed, "token_url": endpoint.url}
    token = GoogleToken.from_options("google_business", options, "s", client=client())
    with pytest.raises(SourceAuthError) as caught:
        token.header()
    message = str(caught.value)
    assert fix in message and "GRUMBLE_GOOGLE_BUSINESS_REFRESH_TOKEN" in message
    for secret in (*changed.values(), REFRESH["client_secret"], REFRESH["refresh_token"]):
        assert secret not in message


def test_credentials_echoed_by_the_endpoint_are_masked(replay_server: ReplayServer) -> None:
    def echo(request: Request) -> Reply:
        form = request.form()
        body = {
            "error": "invalid_grant",
            "error_description": (
                f"refresh token {form['refresh_token']} for secret {form['client_secret']} is bad"
            ),
        }
        return Reply.json(body, 400)

    replay_server.route("POST", "/token", echo)
    options = {**REFRESH, "token_url": f"{replay_server.url}/token"}
    with pytest.raises(SourceAuthError) as caught:
        GoogleToken.from_options("google_business", options, "s", client=client()).header()
    message = str(caught.value)
    assert "refresh token *** for secret *** is bad" in message
    assert REFRESH["refresh_token"] not in message and REFRESH["client_secret"] not in message
    credentials = repr(GoogleToken.from_options("g", options, "s", client=client()).refresh)
    assert REFRESH["client_secret"] not in credentials and REFRESH["refresh_token"] not in credentials


def test_a_signature_google_refuses_is_an_auth_error_naming_the_key_setting(
    endpoint: FakeTokenEndpoint,
) -> None:
    other_pem, _ = make_key()  # a key Google does not know (deleted, or from another account)
    options = {
        "service_account_json": json.dumps(service_account_key(private_key=other_pem)),
        "token_url": endpoint.url,
    }
    with pytest.raises(SourceAuthError) as caught:
        GoogleToken.from_options("google_play", options, SCOPE, client=client()).header()
    message = str(caught.value)
    assert (
        "Signature verification failed" in message and "GRUMBLE_GOOGLE_PLAY_SERVICE_ACCOUNT_JSON" in message
    )
    assert "BEGIN PRIVATE KEY" not in message and other_pem.splitlines()[1] not in message


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"service_account_json": "{not json"}, "is not JSON"),
        (
            {"service_account_json": json.dumps(service_account_key(type="authorized_user"))},
            "not a service account",
        ),
        ({"service_account_json": json.dumps(service_account_key(private_key=""))}, "has no private_key"),
        (
            {
                "service_account_json": json.dumps(
                    service_account_key(private_key="-----BEGIN PRIVATE KEY-----\nAAAA\n")
                )
            },
            "cannot sign",
        ),
        ({"service_account_file": "/nonexistent/key.json"}, "cannot read service_account_file"),
        ({}, "GRUMBLE_GOOGLE_PLAY_SERVICE_ACCOUNT_FILE"),
    ],
)
def test_unusable_or_missing_credentials_say_what_to_fix_without_sending(
    endpoint: FakeTokenEndpoint, options: dict[str, Any], said: str
) -> None:
    token = GoogleToken.from_options(
        "google_play", {**options, "token_url": endpoint.url}, SCOPE, client=client()
    )
    with pytest.raises(SourceAuthError, match=said) as caught:
        token.header()
    assert "AAAA" not in str(caught.value)
    if said != "cannot sign":
        assert token.missing() is not None
    assert endpoint.server.requests_to("/token") == []


def test_endpoint_failures_map_to_the_source_error_tree(replay_server: ReplayServer) -> None:
    url = f"{replay_server.url}/token"
    options = {**REFRESH, "token_url": url}
    cases: list[tuple[Reply, type[Exception], str]] = [
        (Reply.json({"error": "x"}, 503), SourceUnavailable, "HTTP 503"),
        (
            Reply.json({"error": "rate"}, 429, headers={"Retry-After": "9"}),
            SourceRateLimited,
            "retry after 9",
        ),
        (Reply.text("<html>proxy</html>", 200, "text/html"), SourceResponseError, "other than JSON"),
        (Reply.json({"token_type": "Bearer"}), SourceResponseError, "without an access_token"),
    ]
    for reply, error, said in cases:
        replay_server.route("POST", "/token", reply)
        with pytest.raises(error, match=said):
            GoogleToken.from_options("google_business", options, "s", client=client()).header()


def test_an_unreachable_endpoint_is_unavailable() -> None:
    options = {**REFRESH, "token_url": "http://127.0.0.1:9/token"}
    with pytest.raises(SourceUnavailable, match="cannot reach"):
        GoogleToken.from_options("google_business", options, "s", client=client()).header()
