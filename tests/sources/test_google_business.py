"""Google Business Profile reviews (monitor/sources/google_business.py) on a loopback server.

Google publishes no example bodies for the v4 review methods and no 200 page was recorded (see
../shared/data/payloads/google_business_profile/SOURCE.md): the fake API (tests/sources/google_fakes.py)
and tests/sources/fixtures/google_business.json are built from the documented JSON representations in
official-doc_v4-reviews_reference-excerpts.txt, and the tests below check that the source asks and reads
exactly what that reference documents. The recorded error bodies are replayed as they were recorded.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from monitor.errors import (
    ReplyRejected,
    ReplyUnconfirmed,
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceRateLimited,
)
from monitor.mention import Watch
from monitor.sources import google_business
from monitor.sources.base import ReplyTarget, SourceSettings
from monitor.sources.google_business import GoogleBusinessSource, split_translation
from monitor.sources.http import build_client
from tests.sources.fakes import load_fixture
from tests.sources.google_fakes import (
    ACCOUNT,
    LOCATION,
    OAUTH,
    SERVICE_ACCOUNT_JSON,
    FakeGoogleBusiness,
    google_error,
)
from tests.support.cassettes import PAYLOADS
from tests.support.http_replay import ReplayServer, Reply

FOLDER = PAYLOADS / "google_business_profile"
PARENT = f"accounts/{ACCOUNT}/locations/{LOCATION}"
LIST_PATH = f"/v4/{PARENT}/reviews"


def recorded(name: str) -> Path:
    path = FOLDER / name
    if not path.exists():  # fail, never skip
        pytest.fail(f"payload {path} is missing (../shared/data/payloads/google_business_profile)")
    return path


def source(server: ReplayServer, *, timeout_s: float = 5.0, **options: Any) -> GoogleBusinessSource:
    settings = SourceSettings(
        "google_business",
        base_url=server.url,
        max_backfill=options.pop("max_backfill", 200),
        timeout_s=timeout_s,
        options={**OAUTH, "token_url": f"{server.url}/token", **options},
    )
    return GoogleBusinessSource(settings, build_client(settings, google_business.DEFAULT_BASE_URL))


def watch(*locations: str) -> Watch:
    return Watch(name="acme", sources={"google_business": {"locations": list(locations or [PARENT])}})


def reviews() -> list[dict[str, Any]]:
    return copy.deepcopy(load_fixture("google_business")["items"])


def target(review: dict[str, Any]) -> ReplyTarget:
    return ReplyTarget(
        "google_business",
        review["reviewId"],
        url=f"https://business.google.com/reviews/l/{LOCATION}",
        raw=review,
    )


def drain(gbp: GoogleBusinessSource, cursor: str | None) -> tuple[list[Any], str | None]:
    mentions = []
    for _ in range(20):
        page = gbp.fetch(watch(), cursor)
        mentions.extend(page.mentions)
        cursor = page.next_cursor
        if not page.has_more:
            return mentions, cursor
    raise AssertionError("still more after 20 pages")


# --- conformance: every payload file --------------------------------------------------------------------


def test_every_payload_file_is_covered_here() -> None:
    if not FOLDER.exists():
        pytest.fail(f"the Business Profile payloads are missing: expected {FOLDER}")
    assert {p.name for p in FOLDER.iterdir()} == {
        "SOURCE.md",
        "official-doc_v4-reviews_reference-excerpts.txt",
        "recorded_error-strings_403_429_reviews.txt",
        "recorded_error_404_reviews-list_notFound.json",
    }


def test_requests_and_limits_are_the_documented_ones(replay_server: ReplayServer) -> None:
    reference = recorded("official-doc_v4-reviews_reference-excerpts.txt").read_text(encoding="utf-8")
    flat = " ".join(reference.split())
    assert f"The maximum pageSize is {google_business.MAX_PAGE_SIZE}." in flat
    assert "Valid orders to sort by are rating, rating desc and updateTime desc" in flat
    assert f"maximum length {google_business.REPLY_LIMIT_BYTES} bytes" in flat
    assert "STAR_RATING_UNSPECIFIED, ONE, TWO, THREE, FOUR, FIVE" in flat
    assert list(google_business.STARS) == ["ONE", "TWO", "THREE", "FOUR", "FIVE"]
    assert google_business.SCOPE in flat
    assert f"GET {google_business.DEFAULT_BASE_URL}/v4/{{parent=accounts/*/locations/*}}/reviews" in flat
    assert (
        f"PUT {google_business.DEFAULT_BASE_URL}/v4/{{name=accounts/*/locations/*/reviews/*}}/reply" in flat
    )
    # Every field the source reads is in the documented Review representation.
    for field in (
        "name",
        "reviewId",
        "reviewer",
        "starRating",
        "comment",
        "createTime",
        "updateTime",
        "reviewReply",
    ):
        assert f'"{field}":' in reference
    for field in ("displayName", "isAnonymous", "nextPageToken", "averageRating", "totalReviewCount"):
        assert f'"{field}":' in reference

    fake = FakeGoogleBusiness(replay_server)
    fake.reviews = reviews()
    source(replay_server, page_size=2).fetch(watch(), None)
    (request,) = replay_server.requests_to(LIST_PATH)
    assert request.query == {"pageSize": "2", "orderBy": "updateTime desc"}
    assert request.headers["authorization"] == "Bearer ya29.fake-1"
    assert replay_server.requests_to("/token")[0].form()["grant_type"] == "refresh_token"


def test_documented_review_fields_are_mapped(replay_server: ReplayServer) -> None:
    fake = FakeGoogleBusiness(replay_server)
    fake.reviews = reviews()
    mentions, _ = drain(source(replay_server), None)

    dana, mo, jonas, priya, anonymous = mentions
    assert dana.external_id == "AbFvOqacme0000" and dana.rating == 1 and dana.author == "Dana K"
    assert (
        dana.text.startswith("Waited 40 minutes")
        and dana.created_at.isoformat() == "2026-11-01T11:55:00+00:00"
    )
    assert dana.url == f"https://business.google.com/reviews/l/{LOCATION}"
    assert mo.rating == 5 and "reviewMediaItems" in mo.raw
    assert jonas.text == "The shop was closed during opening hours"
    assert jonas.raw["business"]["original_text"].startswith("Der Laden")
    assert priya.raw["business"]["owner_reply"]["comment"] == "Thank you Priya!"
    assert anonymous.author is None and anonymous.raw["business"]["anonymous"] is True
    assert all(m.raw["business"]["location"] == PARENT for m in mentions)


def test_recorded_404_for_an_unknown_location(replay_server: ReplayServer) -> None:
    FakeGoogleBusiness(replay_server)
    body = recorded("recorded_error_404_reviews-list_notFound.json").read_bytes()
    replay_server.route("GET", LIST_PATH, Reply(404, body, {"Content-Type": "application/json"}))
    with pytest.raises(SourceNotFound, match=r"NOT_FOUND notFound: Requested entity was not found\."):
        source(replay_server).fetch(watch(), None)


def test_recorded_quota_answers_are_rate_limits(replay_server: ReplayServer) -> None:
    """The file holds client-rendered strings and one raw 429 RESOURCE_EXHAUSTED body (People API, the
    same envelope): the body is replayed as is, the GBP message inside Google's envelope."""
    FakeGoogleBusiness(replay_server)
    text = recorded("recorded_error-strings_403_429_reviews.txt").read_text(encoding="utf-8")
    raw_body = next(line for line in text.splitlines() if line.startswith('{"error":{"code":429'))
    replay_server.route("GET", LIST_PATH, Reply(429, raw_body, {"Content-Type": "application/json"}))
    with pytest.raises(SourceRateLimited, match="RESOURCE_EXHAUSTED") as caught:
        source(replay_server).fetch(watch(), None)
    assert caught.value.retry_after == 60

    message = re.search(r'"(Quota exceeded for quota metric \'Requests per minute\'[^"]*)"', text)
    assert message is not None
    replay_server.route(
        "GET", LIST_PATH, google_error(429, message.group(1), "rateLimitExceeded", "RESOURCE_EXHAUSTED")
    )
    with pytest.raises(SourceRateLimited, match="Requests per minute"):
        source(replay_server).fetch(watch(), None)


def test_a_403_is_an_auth_error_naming_the_settings(replay_server: ReplayServer) -> None:
    FakeGoogleBusiness(replay_server)
    replay_server.route(
        "GET",
        LIST_PATH,
        google_error(403, "The caller does not have permission", "forbidden", "PERMISSION_DENIED"),
    )
    with pytest.raises(SourceAuthError) as caught:
        source(replay_server).fetch(watch(), None)
    assert "GRUMBLE_GOOGLE_BUSINESS_REFRESH_TOKEN" in str(caught.value)
    assert OAUTH["client_secret"] not in str(caught.value) and OAUTH["refresh_token"] not in str(caught.value)


# --- behaviour --------------------------------------------------------------------------------------------


def test_stars_are_words_and_a_review_with_stars_only_is_kept(replay_server: ReplayServer) -> None:
    fake = FakeGoogleBusiness(replay_server)
    fake.reviews = reviews()[:1]
    fake.reviews.append({**copy.deepcopy(fake.reviews[0]), "reviewId": "AbFvOqstars", "starRating": "TWO"})
    del fake.reviews[1]["comment"]
    fake.reviews.append(
        {
            "reviewId": "AbFvOqnothing",
            "starRating": "STAR_RATING_UNSPECIFIED",
            "updateTime": "2026-11-01T10:00:00Z",
        }
    )
    mentions, _ = drain(source(replay_server), None)
    assert [(m.external_id, m.rating, m.text) for m in mentions[1:]] == [("AbFvOqstars", 2.0, "")]


def test_pages_follow_next_page_tokens(replay_server: ReplayServer) -> None:
    fake = FakeGoogleBusiness(replay_server)
    fake.reviews = reviews()
    mentions, _ = drain(source(replay_server, page_size=2), None)
    assert len(mentions) == 5
    assert [r.query.get("pageToken") for r in replay_server.requests_to(LIST_PATH)] == [None, "2", "4"]


def test_an_edited_review_comes_through_again(replay_server: ReplayServer) -> None:
    fake = FakeGoogleBusiness(replay_server)
    fake.reviews = reviews()
    gbp = source(replay_server, page_size=2)
    first, cursor = drain(gbp, None)
    changed = {
        **fake.reviews[1],
        "starRating": "ONE",
        "comment": "Repair broke again a week later.",
        "updateTime": "2026-11-01T12:30:00Z",
    }
    fake.reviews = [changed] + [r for r in fake.reviews if r["reviewId"] != changed["reviewId"]]
    again, cursor = drain(gbp, cursor)
    (mention,) = again
    assert mention.external_id == first[1].external_id and (first[1].rating, mention.rating) == (5.0, 1.0)
    assert mention.text == "Repair broke again a week later."
    assert drain(gbp, cursor)[0] == []


def test_watch_locations_are_checked(replay_server: ReplayServer) -> None:
    gbp = source(replay_server)
    with pytest.raises(SourceError, match=r"needs locations = \["):
        gbp.fetch(Watch(name="acme", sources={"google_business": {}}), None)
    with pytest.raises(SourceError, match="is not of the form"):
        gbp.fetch(watch("locations/9876543210"), None)


def test_only_oauth_credentials_are_taken(replay_server: ReplayServer) -> None:
    settings = SourceSettings("google_business", options={"service_account_json": SERVICE_ACCOUNT_JSON})
    gbp = GoogleBusinessSource(settings, build_client(settings, google_business.DEFAULT_BASE_URL))
    missing = gbp.missing_login()
    assert missing is not None and "GRUMBLE_GOOGLE_BUSINESS_REFRESH_TOKEN" in missing
    assert "SERVICE_ACCOUNT" not in missing


def test_reply_puts_the_comment_and_find_reply_sees_it(replay_server: ReplayServer) -> None:
    fake = FakeGoogleBusiness(replay_server)
    fake.reviews = reviews()
    gbp = source(replay_server)
    text = "Dana, we are sorry about the wait. Please ask for Sam next time, he will look after you."

    posted = gbp.reply(target(fake.reviews[0]), text, "k")

    (put,) = fake.posts()
    assert put.path == f"{LIST_PATH}/AbFvOqacme0000/reply" and put.json() == {"comment": text}
    assert posted.id == f"{PARENT}/reviews/AbFvOqacme0000/reply"
    assert gbp.find_reply(target(fake.reviews[0]), text, "k") == posted
    assert gbp.find_reply(target(fake.reviews[0]), "other", "k") is None
    assert (
        gbp.find_reply(
            target({**fake.reviews[0], "name": f"{PARENT}/reviews/gone", "reviewId": "gone"}), text, "k"
        )
        is None
    )

    gbp.delete_reply(target(fake.reviews[0]))
    assert gbp.find_reply(target(fake.reviews[0]), text, "k") is None
    assert replay_server.requests[-2].method == "DELETE"


def test_the_review_name_is_rebuilt_from_the_location_when_raw_has_no_name(
    replay_server: ReplayServer,
) -> None:
    fake = FakeGoogleBusiness(replay_server)
    fake.reviews = reviews()
    bare = ReplyTarget("google_business", "AbFvOqacme0001", raw={"business": {"location": PARENT}})
    source(replay_server).reply(bare, "Thanks!", "k")
    assert fake.posts()[0].path == f"{LIST_PATH}/AbFvOqacme0001/reply"
    with pytest.raises(ReplyRejected, match="cannot tell which location"):
        source(replay_server).reply(ReplyTarget("google_business", "x"), "Thanks!", "k")


@pytest.mark.parametrize(("text", "ok"), [("x" * 4096, True), ("é" * 2048, True), ("é" * 2049, False)])
def test_replies_over_4096_bytes_are_refused_before_sending(
    replay_server: ReplayServer, text: str, ok: bool
) -> None:
    fake = FakeGoogleBusiness(replay_server)
    fake.reviews = reviews()
    gbp = source(replay_server)
    assert gbp.measure(text).ok is ok and gbp.measure(text).unit == "bytes"
    if ok:
        gbp.reply(target(fake.reviews[0]), text, "k")
    else:
        with pytest.raises(ReplyRejected) as caught:
            gbp.reply(target(fake.reviews[0]), text, "k")
        assert caught.value.reason == "too_long"
    assert len(fake.posts()) == (1 if ok else 0)


def test_a_reply_that_timed_out_after_landing_is_found(replay_server: ReplayServer) -> None:
    fake = FakeGoogleBusiness(replay_server)
    fake.reviews = reviews()
    gbp = source(replay_server, timeout_s=0.5)
    fake.slow_s = 2.0
    with pytest.raises(ReplyUnconfirmed, match="timed out"):
        gbp.reply(target(fake.reviews[0]), "On it.", "k")
    fake.slow_s = 0.0
    assert gbp.find_reply(target(fake.reviews[0]), "On it.", "k") is not None
    assert len(fake.posts()) == 1


def test_a_reply_to_a_deleted_review_is_rejected(replay_server: ReplayServer) -> None:
    FakeGoogleBusiness(replay_server)
    gone = {"name": f"{PARENT}/reviews/gone", "reviewId": "gone"}
    with pytest.raises(ReplyRejected) as caught:
        source(replay_server).reply(target(gone), "Sorry!", "k")
    assert caught.value.reason == "deleted"


def test_translation_split() -> None:
    assert split_translation("(Translated by Google) Nice\n\n(Original)\nSchön") == ("Nice", "Schön")
    assert split_translation("  plain text ") == ("plain text", None)
    assert json.dumps(split_translation(""))
