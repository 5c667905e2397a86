"""App Store Connect API reviews: the JWT (verified by the loopback server with the key's public half),
reading and paging, and a replay of every file in ../shared/data/payloads/app_store_connect/.

The recordings are read in place; a missing one fails the test. Where Apple published no recording (a
listing with responses, the POST and GET of a response), the fake in app_store_connect_fake.py answers
from Apple's documented example and schema, and says so.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]  # (altair, a dependency of streamlit, brings it)
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from monitor.errors import (
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceRateLimited,
    SourceResponseError,
    SourceUnavailable,
)
from monitor.mention import Watch
from monitor.sources import app_store_connect
from monitor.sources.app_store_connect_token import LIFETIME_S, AppStoreConnectToken
from monitor.sources.base import ReplyTarget, SourceSettings
from monitor.sources.registry import build_source, source_names
from tests.sources.app_store_connect_fake import (
    APP_ID,
    ISSUER_ID,
    KEY_ID,
    FakeAppStoreConnect,
    new_key,
    p8_text,
    review,
)
from tests.support.cassettes import PAYLOADS
from tests.support.http_replay import ReplayServer, Reply

FOLDER = PAYLOADS / "app_store_connect"
NAME = "app_store_connect"
LIST_EXAMPLE = "official-doc_GET-apps-id-customerReviews_200_limit1_with-next-cursor.json"
VERSION_EXAMPLE = "official-doc_GET-appStoreVersions-id-customerReviews_200_limit1_territory-USA.json"
ERROR_400 = "official-doc_error_400_PARAMETER_ERROR.INVALID.http"
STATUS_DOC = "official-doc_status-codes_error-codes_rate-limits.txt"
ERROR_STRINGS = "recorded_error-strings_429-RATE_LIMIT_EXCEEDED_404_409.txt"
ERROR_401 = "recorded_error_401_NOT_AUTHORIZED.json"
ERROR_403 = "recorded_error_403_FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED.json"
SCHEMA_370 = "schema_asc-openapi-3.7.0_customerReviews-subset_DERIVED.json"
SCHEMA_441 = "schema_asc-openapi-4.4.1-SDK-PATCHED_customerReviews-subset_DERIVED.json"
EVERY_FILE = {
    LIST_EXAMPLE,
    VERSION_EXAMPLE,
    ERROR_400,
    STATUS_DOC,
    ERROR_STRINGS,
    ERROR_401,
    ERROR_403,
    SCHEMA_370,
    SCHEMA_441,
}


def read(name: str) -> str:
    path = FOLDER / name
    if not path.exists():
        pytest.fail(f"the recorded payload {path} is missing (../shared/data beside the repository)")
    return path.read_text(encoding="utf-8")


def watch(*apps: str, **options: Any) -> Watch:
    return Watch(
        name="acme", keywords=("acme",), sources={NAME: {"app_ids": list(apps or [APP_ID]), **options}}
    )


@pytest.fixture
def fake(replay_server: ReplayServer) -> FakeAppStoreConnect:
    return FakeAppStoreConnect(replay_server)


def test_every_file_in_the_payload_folder_is_replayed_here() -> None:
    if not FOLDER.exists():
        pytest.fail(f"the recorded payloads are missing: expected {FOLDER}")
    present = {p.name for p in FOLDER.iterdir() if p.name != "SOURCE.md"}
    assert present == EVERY_FILE, "a payload was added or removed: replay it here"


# --- the official examples, served to the collector ------------------------------------------------------


def test_the_documented_listing_becomes_one_review_and_its_next_cursor_is_followed_on_our_host(
    fake: FakeAppStoreConnect, replay_server: ReplayServer
) -> None:
    body = json.loads(read(LIST_EXAMPLE))
    app = "682658836"
    path = f"/v1/apps/{app}/customerReviews"
    last = {"data": [], "links": {"self": f"https://api.appstoreconnect.apple.com{path}"}, "meta": {}}
    replay_server.route("GET", path, Reply.json(body))
    replay_server.route("GET", path, Reply.json(last), query={"cursor": "AQ.AMt2C-U"})
    source = fake.source()

    page = source.fetch(watch(app), None)

    assert len(page.mentions) == len(body["data"]) == 1
    (mention,) = page.mentions
    attributes = body["data"][0]["attributes"]
    assert mention.source == NAME and mention.external_id == "00000028-b08c-0014-729e-fbd500000000"
    assert (mention.title, mention.text) == ("Awesome!!!", "It's a really fantastic app!")
    assert mention.rating == 5.0 and mention.author == "Anne Johnson"
    assert mention.created_at.isoformat() == "2017-11-15T16:10:34+00:00"  # -08:00 in Apple's answer
    assert mention.raw is not None and mention.raw["attributes"]["territory"] == attributes["territory"]
    assert mention.raw["app_id"] == app and "developer_response" not in mention.raw
    assert mention.url == f"https://apps.apple.com/app/id{app}?see-all=reviews"
    assert page.unsearched is False  # every review is about the app: no keyword filter
    assert page.has_more

    first = replay_server.requests_to(path)[0]
    assert first.query == {"sort": "-createdDate", "limit": "200", "include": "response"}
    page = source.fetch(watch(app), page.next_cursor)
    # Apple's next link names api.appstoreconnect.apple.com: its path and query went to base_url.
    second = replay_server.requests_to(path)[1]
    assert second.raw_path == f"{path}?cursor=AQ.AMt2C-U&limit=1"
    assert page.mentions == [] and not page.has_more


def test_the_documented_territory_listing_sends_the_filter_and_follows_its_link(
    fake: FakeAppStoreConnect, replay_server: ReplayServer
) -> None:
    body = json.loads(read(VERSION_EXAMPLE))
    replay_server.route("GET", f"/v1/apps/{APP_ID}/customerReviews", Reply.json(body))
    version_path = "/v1/appStoreVersions/d716c220-3de9-4cf2-a885-8cfb43a11087/customerReviews"
    replay_server.route("GET", version_path, Reply.json({"data": [], "links": {}}))
    source = fake.source()

    page = source.fetch(watch(territories=["usa"]), None)

    assert [m.title for m in page.mentions] == ["Pretty Stellar"] and len(body["data"]) == 1
    assert page.mentions[0].author == "Juan Chavez" and page.mentions[0].rating == 5.0
    asked = replay_server.requests_to(f"/v1/apps/{APP_ID}/customerReviews")[0]
    assert asked.query["filter[territory]"] == "USA"
    source.fetch(watch(territories=["usa"]), page.next_cursor)
    assert replay_server.requests_to(version_path)[0].query == {
        "cursor": "AQ.AJJtGDc",
        "filter[territory]": "USA",
        "limit": "1",
    }


def _http_file(name: str) -> tuple[int, dict[str, Any]]:
    """The status line and JSON body of Apple's documented exchange (request line, blank, response)."""
    text = read(name)
    match = re.search(r"^HTTP/1\.1 (\d{3}) .*$", text, re.MULTILINE)
    assert match, f"{name} has no status line"
    return int(match.group(1)), json.loads(text[match.end() :])


def test_the_documented_400_parameter_error_says_which_parameter(
    fake: FakeAppStoreConnect, replay_server: ReplayServer
) -> None:
    status, body = _http_file(ERROR_400)
    assert status == 400
    replay_server.route("GET", f"/v1/apps/{APP_ID}/customerReviews", Reply.json(body, status))
    with pytest.raises(SourceResponseError) as caught:
        fake.source().fetch(watch(), None)
    message = str(caught.value)
    assert "PARAMETER_ERROR.INVALID" in message and "'emaill' is not a valid filter type" in message
    assert "filter[emaill]" in message and "HTTP 400" in message


def test_the_recorded_401_names_the_key_settings_and_never_the_key(
    fake: FakeAppStoreConnect, replay_server: ReplayServer
) -> None:
    replay_server.route("GET", f"/v1/apps/{APP_ID}/customerReviews", Reply(401, read(ERROR_401)))
    source = fake.source()
    with pytest.raises(SourceAuthError) as caught:
        source.fetch(watch(), None)
    message = str(caught.value)
    assert "NOT_AUTHORIZED" in message and "Authentication credentials are missing or invalid" in message
    for setting in ("issuer_id", "key_id", "private_key_file", "GRUMBLE_APP_STORE_CONNECT_KEY_ID"):
        assert setting in message
    assert "PRIVATE KEY" not in message and p8_text(fake.key).splitlines()[1] not in message


def test_the_recorded_403_agreements_error_says_to_accept_them(
    fake: FakeAppStoreConnect, replay_server: ReplayServer
) -> None:
    replay_server.route("GET", f"/v1/apps/{APP_ID}/customerReviews", Reply(403, read(ERROR_403)))
    with pytest.raises(SourceAuthError) as caught:
        fake.source().fetch(watch(), None)
    message = str(caught.value)
    assert "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED" in message
    assert "accept the latest agreements in App Store Connect > Business" in message


def _status_table(text: str) -> dict[int, str]:
    return {int(m.group(1)): m.group(2).strip() for m in re.finditer(r"^\| (\d{3}) \| ([^|]+)\|", text, re.M)}


# What each documented error status becomes, and a code Apple documents for it.
DOCUMENTED = {
    400: (SourceResponseError, "PARAMETER_ERROR.INVALID"),
    403: (SourceAuthError, "FORBIDDEN_ERROR"),
    404: (SourceNotFound, "NOT_FOUND"),
    405: (SourceResponseError, "METHOD_NOT_ALLOWED"),
    409: (SourceResponseError, "ENTITY_ERROR"),
    422: (SourceResponseError, "ENTITY_UNPROCESSABLE"),
    429: (SourceRateLimited, "RATE_LIMIT_EXCEEDED"),
    500: (SourceUnavailable, "UNEXPECTED_ERROR"),
}


@pytest.mark.parametrize("status", sorted(DOCUMENTED))
def test_every_documented_error_status_maps_to_its_source_error(
    status: int, fake: FakeAppStoreConnect, replay_server: ReplayServer
) -> None:
    doc = read(STATUS_DOC)
    table = _status_table(doc)
    assert status in table, f"HTTP {status} is not in Apple's table any more"
    error, code = DOCUMENTED[status]
    assert code in doc or status == 500  # 500's code is not in the excerpt; the status alone decides
    limit = re.search(r"^(user-hour-lim:\d+;user-hour-rem:\d+;)$", doc, re.M)
    assert limit, "the documented X-Rate-Limit example"
    body = {
        "errors": [{"status": str(status), "code": code, "title": table[status], "detail": f"{code} here"}]
    }
    headers = {"X-Rate-Limit": limit.group(1)}
    replay_server.route("GET", f"/v1/apps/{APP_ID}/customerReviews", Reply.json(body, status, headers))
    with pytest.raises(error) as caught:
        fake.source().fetch(watch(), None)
    message = str(caught.value)
    assert code in message and f"{code} here" in message
    if status == 429:
        assert isinstance(caught.value, SourceRateLimited) and caught.value.retry_after == 60
        assert "user-hour-lim:3500" in message and "per API key per hour" in message
    if status == 403:
        assert "role" in message and "GRUMBLE_APP_STORE_CONNECT_KEY_ID" in message


def test_the_documented_post_semantics_are_create_or_overwrite() -> None:
    """Why `reply` answers again with one POST and never a DELETE: Apple's own words."""
    doc = read(STATUS_DOC)
    assert "`POST https://api.appstoreconnect.apple.com/v1/customerReviewResponses`" in doc
    assert "If a response already exists, this endpoint updates the response by overwriting it." in doc
    assert "Responses don’t appear in the App Store instantly." in doc


def _recorded_strings() -> dict[str, str]:
    text = read(ERROR_STRINGS)
    rate = re.search(r"response code 429 (RATE_LIMIT_EXCEEDED)\n(.+?)\.\. (.+?)\)$", text, re.M)
    gone = re.search(r"Status: 404 (NOT_FOUND) Detail: \"([^\"]+)\"", text)
    state = re.search(r"Status: 409 (STATE_ERROR) Detail: \"([^\"]+)\"", text)
    assert rate and gone and state, "the recorded error strings changed shape"
    return {
        "429_code": rate.group(1),
        "429_title": rate.group(2),
        "429_detail": rate.group(3),
        "404_detail": gone.group(2),
        "409_detail": state.group(2),
    }


def test_the_recorded_429_strings_become_a_rate_limit_that_says_apple_counts_per_hour(
    fake: FakeAppStoreConnect, replay_server: ReplayServer
) -> None:
    """The 429 body is rebuilt from the recorded title and detail (no raw 429 JSON was ever recorded)."""
    said = _recorded_strings()
    body = {
        "errors": [
            {
                "status": "429",
                "code": said["429_code"],
                "title": said["429_title"],
                "detail": said["429_detail"],
            }
        ]
    }
    replay_server.route(
        "GET", f"/v1/apps/{APP_ID}/customerReviews", Reply.json(body, 429, {"Retry-After": "120"})
    )
    with pytest.raises(SourceRateLimited) as caught:
        fake.source().fetch(watch(), None)
    assert caught.value.retry_after == 120
    assert "RATE_LIMIT_EXCEEDED" in str(caught.value) and "Please wait and try again" in str(caught.value)


def test_the_recorded_404_and_409_details_reach_the_reply_outcome(
    fake: FakeAppStoreConnect, replay_server: ReplayServer
) -> None:
    """Rebuilt from the recorded forum strings: a 409 on a response is a refusal with Apple's words, and
    a 404 on the review's response means there is none (find_reply says so rather than failing)."""
    from monitor.errors import ReplyRejected

    said = _recorded_strings()
    fake.reviews.append(review("r-1", "2026-11-01T05:00:00-07:00", "Acme crashes"))
    target = ReplyTarget(NAME, "r-1", url="https://apps.apple.com/app/id1?see-all=reviews")
    source = fake.source()
    assert source.find_reply(target, "Sorry!", "key-1") is None  # the fake's 404 NOT_FOUND
    conflict = {
        "errors": [
            {"status": "409", "code": "STATE_ERROR", "title": "conflict", "detail": said["409_detail"]}
        ]
    }
    fake.refuse = Reply.json(conflict, 409)
    with pytest.raises(ReplyRejected) as caught:
        source.reply(target, "Sorry!", "key-1")
    assert said["409_detail"] in str(caught.value) and caught.value.reason == "rejected"
    gone = {"errors": [{"status": "404", "code": "NOT_FOUND", "title": "gone", "detail": said["404_detail"]}]}
    fake.refuse = Reply.json(gone, 404)
    with pytest.raises(ReplyRejected) as caught:
        source.reply(target, "Sorry!", "key-1")
    assert caught.value.reason == "deleted" and said["404_detail"] in str(caught.value)


# --- the OpenAPI schemas: what we send and read is what Apple specifies ---------------------------------


def _validator(spec: dict[str, Any], schema: str) -> jsonschema.Draft202012Validator:
    root = {"$ref": f"#/components/schemas/{schema}", "components": spec["components"]}
    return jsonschema.Draft202012Validator(root)


@pytest.mark.parametrize("name", [SCHEMA_370, SCHEMA_441])
def test_requests_and_answers_match_apples_openapi_schema(
    name: str, fake: FakeAppStoreConnect, replay_server: ReplayServer
) -> None:
    spec = json.loads(read(name))
    listing = spec["paths"]["/v1/apps/{id}/customerReviews"]["get"]
    parameters = {p["name"]: p["schema"] for p in listing["parameters"]}
    assert "-createdDate" in parameters["sort"]["items"]["enum"]
    assert "response" in parameters["include"]["items"]["enum"]
    assert parameters["limit"]["maximum"] == app_store_connect.MAX_LIMIT
    assert "USA" in parameters["filter[territory]"]["items"]["enum"]
    response_schema = spec["components"]["schemas"]["CustomerReviewResponseV1"]
    assert set(response_schema["properties"]["attributes"]["properties"]["state"]["enum"]) == set(
        app_store_connect.STATES
    )
    assert "maxLength" not in json.dumps(
        spec["components"]["schemas"]["CustomerReviewResponseV1CreateRequest"]
    )
    read_attributes = spec["components"]["schemas"]["CustomerReview"]["properties"]["attributes"][
        "properties"
    ]
    assert {"rating", "title", "body", "reviewerNickname", "createdDate", "territory"} <= set(read_attributes)

    # The documented examples, our fixtures as the fake serves them, the body we POST and the answers.
    for example in (LIST_EXAMPLE, VERSION_EXAMPLE):
        _validator(spec, "CustomerReviewsResponse").validate(json.loads(read(example)))
    for error in (ERROR_401, ERROR_403):
        _validator(spec, "ErrorResponse").validate(json.loads(read(error)))
    fixtures = json.loads((Path(__file__).parent / "fixtures" / "app_store_connect.json").read_text())
    for item in fixtures["items"] + fixtures["newer"]:
        _validator(spec, "CustomerReview").validate(item)

    # The body we POST, and the fake's answers (built from the schema: no recording exists).
    fake.reviews.append(review("r-1", "2026-11-01T05:00:00-07:00", "Acme crashes"))
    source = fake.source()
    source.reply(ReplyTarget(NAME, "r-1"), "Sorry, fixed in 2.3", "key-1")
    (post,) = fake.posts()
    _validator(spec, "CustomerReviewResponseV1CreateRequest").validate(post.json())
    auth = {"Authorization": source.token.authorization()}
    created = httpx.post(f"{replay_server.url}/v1/customerReviewResponses", json=post.json(), headers=auth)
    assert created.status_code == 201
    _validator(spec, "CustomerReviewResponseV1Response").validate(created.json())
    got = httpx.get(f"{replay_server.url}/v1/customerReviews/r-1/response", headers=auth)
    _validator(spec, "CustomerReviewResponseV1Response").validate(got.json())
    listing = httpx.get(
        f"{replay_server.url}/v1/apps/{APP_ID}/customerReviews", params={"include": "response"}, headers=auth
    )
    assert listing.json()["included"][0]["type"] == "customerReviewResponses"
    _validator(spec, "CustomerReviewsResponse").validate(listing.json())


# --- reading and paging through the fake -------------------------------------------------------------------


def _reviews(n: int) -> list[dict[str, Any]]:
    return [
        review(f"r-{i}", f"2026-11-01T0{9 - i}:00:00-07:00", f"Acme review {i}", rating=1 + i % 5)
        for i in range(n)
    ]


def test_two_pages_through_links_next_with_one_token(
    fake: FakeAppStoreConnect, replay_server: ReplayServer
) -> None:
    fake.reviews.extend(_reviews(3))
    source = fake.source(page_size=2)
    first = source.fetch(watch(), None)
    assert [m.external_id for m in first.mentions] == ["r-0", "r-1"] and first.has_more
    second = source.fetch(watch(), first.next_cursor)
    assert [m.external_id for m in second.mentions] == ["r-2"] and not second.has_more

    asked = replay_server.requests_to(f"/v1/apps/{APP_ID}/customerReviews")
    assert "cursor" not in asked[0].query and asked[1].query["cursor"] == "AQ.2"
    assert asked[1].query["include"] == "response" and asked[1].query["sort"] == "-createdDate"
    # One signed token for the whole run (cached), verified by the server each time.
    assert len(fake.claims) == 2 and fake.claims[0] == fake.claims[1]

    fake.reviews.insert(0, review("r-new", "2026-11-01T10:00:00-07:00", "Acme is down again"))
    third = source.fetch(watch(), second.next_cursor)
    assert [m.external_id for m in third.mentions] == ["r-new"]  # only what is new since the last run


def test_a_next_link_to_another_host_is_not_followed(
    fake: FakeAppStoreConnect, replay_server: ReplayServer
) -> None:
    page = {
        "data": _reviews(1),
        "links": {"next": "https://evil.example/v1/apps/1/customerReviews?cursor=AQ.1"},
    }
    replay_server.route("GET", f"/v1/apps/{APP_ID}/customerReviews", Reply.json(page))
    with pytest.raises(SourceResponseError, match=r"evil\.example.*not followed.*base_url"):
        fake.source().fetch(watch(), None)


def test_the_existing_response_and_its_state_come_with_the_review(fake: FakeAppStoreConnect) -> None:
    fake.reviews.extend(_reviews(2))
    source = fake.source()
    source.reply(ReplyTarget(NAME, "r-1"), "Thanks, fixed in 2.3", "key-1")
    page = source.fetch(watch(), None)
    answered = {m.external_id: m for m in page.mentions}["r-1"]
    assert answered.raw is not None
    assert answered.raw["developer_response"] == {
        "id": "resp-1",
        "responseBody": "Thanks, fixed in 2.3",
        "lastModifiedDate": "2026-11-01T12:00:00-07:00",
        "state": "PENDING_PUBLISH",
    }
    assert "developer_response" not in ({m.external_id: m for m in page.mentions}["r-0"].raw or {})


def test_several_apps_are_one_stream_each(fake: FakeAppStoreConnect, replay_server: ReplayServer) -> None:
    fake.reviews.extend(_reviews(1))
    page = fake.source().fetch(watch("111", "222"), None)
    assert len(page.mentions) == 1  # the same review id from both: kept once
    assert {r.path for r in replay_server.requests} == {
        "/v1/apps/111/customerReviews",
        "/v1/apps/222/customerReviews",
    }
    assert set(json.loads(page.next_cursor or "{}")["streams"]) == {"111", "222"}


def test_a_watch_without_app_ids_says_what_to_add(fake: FakeAppStoreConnect) -> None:
    with pytest.raises(SourceError, match=r"app_ids = \[\.\.\.\].*\[watches\.sources\.app_store_connect\]"):
        fake.source().fetch(Watch(name="acme", keywords=("acme",), sources={NAME: {}}), None)


def test_the_source_is_registered_and_builds_against_apples_host() -> None:
    assert NAME in source_names()
    source = build_source(SourceSettings(NAME))
    assert isinstance(source, app_store_connect.AppStoreConnectSource)
    assert str(source.client.base_url).rstrip("/") == "https://api.appstoreconnect.apple.com"
    assert source.missing_login() is not None and "issuer_id" in (source.missing_login() or "")


# --- the token ----------------------------------------------------------------------------------------------


def test_the_token_follows_apples_rules_and_is_renewed_before_it_expires() -> None:
    key = new_key()
    now = [float(int(time.time()))]
    start = int(now[0])
    options = {"issuer_id": ISSUER_ID, "key_id": KEY_ID, "private_key": p8_text(key)}
    token = AppStoreConnectToken(NAME, options, clock=lambda: now[0])
    first = token.authorization().removeprefix("Bearer ")
    import jwt

    header = jwt.get_unverified_header(first)
    claims = jwt.decode(first, key.public_key(), algorithms=["ES256"], audience="appstoreconnect-v1")
    assert header == {"alg": "ES256", "kid": KEY_ID, "typ": "JWT"}
    assert claims["iss"] == ISSUER_ID and claims["iat"] == start
    assert 0 < claims["exp"] - claims["iat"] <= 20 * 60

    now[0] += 10 * 60
    assert token.authorization() == f"Bearer {first}"  # cached
    now[0] += LIFETIME_S - 10 * 60 - 60  # a minute before it runs out: made again
    renewed = token.authorization().removeprefix("Bearer ")
    assert renewed != first
    # Signed at the test's clock, 18 minutes from the real one: leeway lets the check accept that.
    again = jwt.decode(
        renewed, key.public_key(), algorithms=["ES256"], audience="appstoreconnect-v1", leeway=LIFETIME_S
    )
    assert again["iat"] == int(now[0]) and again["exp"] - again["iat"] <= 20 * 60


def test_a_token_signed_with_another_key_is_refused_by_the_server(
    fake: FakeAppStoreConnect, replay_server: ReplayServer
) -> None:
    fake.reviews.extend(_reviews(1))
    impostor = fake.source(private_key=p8_text(new_key()))
    with pytest.raises(SourceAuthError, match=r"NOT_AUTHORIZED.*private_key_file"):
        impostor.fetch(watch(), None)
    assert fake.claims == []
    assert len(fake.source().fetch(watch(), None).mentions) == 1 and len(fake.claims) == 1


def test_the_key_can_be_a_p8_file_or_pem_text_with_escaped_newlines(
    fake: FakeAppStoreConnect, tmp_path: Path
) -> None:
    fake.reviews.extend(_reviews(1))
    p8 = tmp_path / f"AuthKey_{KEY_ID}.p8"
    p8.write_text(p8_text(fake.key))
    assert len(fake.source(private_key=None, private_key_file=str(p8)).fetch(watch(), None).mentions) == 1
    one_line = p8_text(fake.key).strip().replace("\n", "\\n")  # as pasted into one environment line
    assert len(fake.source(private_key=one_line).fetch(watch(), None).mentions) == 1


def _key_error(fake: FakeAppStoreConnect, **options: Any) -> str:
    with pytest.raises(SourceAuthError) as caught:
        fake.source(**options).fetch(watch(), None)
    assert fake.server.requests == [], "nothing is sent without a usable key"
    return str(caught.value)


def test_missing_settings_are_named(fake: FakeAppStoreConnect) -> None:
    message = _key_error(fake, issuer_id="", private_key=None)
    assert "issuer_id, private_key_file (or private_key) missing" in message
    assert "GRUMBLE_APP_STORE_CONNECT_ISSUER_ID" in message and "Users and Access > Integrations" in message


def test_a_missing_key_file_names_the_setting_and_path(fake: FakeAppStoreConnect, tmp_path: Path) -> None:
    message = _key_error(fake, private_key=None, private_key_file=str(tmp_path / "AuthKey_X.p8"))
    assert "private_key_file" in message and "AuthKey_X.p8" in message and "cannot be read" in message


def test_a_damaged_key_is_reported_without_quoting_it(fake: FakeAppStoreConnect) -> None:
    pem = p8_text(fake.key)
    damaged = pem.replace(pem.splitlines()[2], "A" * len(pem.splitlines()[2]))
    message = _key_error(fake, private_key=damaged)
    assert "private_key" in message and "not a readable PEM private key" in message
    assert all(line not in message for line in pem.splitlines()[1:-1])


@pytest.mark.parametrize(
    "other",
    [
        lambda: ec.generate_private_key(ec.SECP384R1()),
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    ],
    ids=["p384", "rsa"],
)
def test_a_key_of_the_wrong_kind_is_refused(fake: FakeAppStoreConnect, other: Any) -> None:
    pem = other().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    message = _key_error(fake, private_key=pem.decode())
    assert "not the P-256 (ES256) key" in message


# --- configured from grumble.toml and GRUMBLE_* variables, collected into the store -----------------------


def test_a_key_from_the_environment_collects_reviews_into_the_store(
    fake: FakeAppStoreConnect, tmp_path: Path, sqlite_engine: Any
) -> None:
    from monitor.collect.run import collect
    from monitor.config import load_config
    from monitor.store.filters import MentionFilter
    from monitor.store.mentions import iter_all

    fake.reviews.extend(_reviews(3))
    config_file = tmp_path / "grumble.toml"
    config_file.write_text(
        f'[sources.app_store_connect]\nbase_url = "{fake.server.url}"\n'
        f'issuer_id = "{ISSUER_ID}"\nkey_id = "{KEY_ID}"\n'
        f'[[watches]]\nname = "acme"\nkeywords = ["acme"]\n'
        f'[watches.sources.app_store_connect]\napp_ids = ["{APP_ID}"]\n',
        encoding="utf-8",
    )
    # The .p8's text in one variable, as a secret store or a compose file hands it over.
    environ = {"GRUMBLE_APP_STORE_CONNECT_PRIVATE_KEY": p8_text(fake.key)}
    config = load_config(config_file, environ=environ)
    source = build_source(config.source_settings(NAME))

    collect(sqlite_engine, config.watches[0], source)

    stored = {row["external_id"]: row for row in iter_all(sqlite_engine, MentionFilter())}
    assert set(stored) == {"r-0", "r-1", "r-2"}
    assert stored["r-1"]["rating"] == 2.0 and stored["r-1"]["source"] == NAME
    assert len(fake.claims) == 1
    from monitor.config import is_secret

    assert is_secret("private_key")  # its value is never echoed in a config error
