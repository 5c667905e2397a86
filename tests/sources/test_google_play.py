"""Google Play reviews (monitor/sources/google_play.py) on a loopback server.

Two halves: conformance replays of every file in ../shared/data/payloads/google_play (Google's documented
examples, the recorded error bodies, the discovery schema), served where the source asks; and the
behaviour the fake API (tests/sources/google_fakes.py, built from those documented shapes) makes easy
to stage: paging, edits coming through again, replies exactly once, the 350-character rule and quotas.
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
    SourceRateLimited,
    SourceResponseError,
    SourceUnavailable,
)
from monitor.mention import Watch
from monitor.sources import google_play
from monitor.sources.base import ReplyTarget, SourceSettings
from monitor.sources.google_play import GooglePlaySource, review_url
from monitor.sources.http import build_client
from monitor.sources.quota import MemoryQuotaLedger, QuotaExhausted, QuotaLedger
from monitor.sources.registry import build_source
from tests.sources.fakes import load_fixture
from tests.sources.google_fakes import (
    PACKAGE,
    SERVICE_ACCOUNT_JSON,
    FakeGooglePlay,
)
from tests.support.cassettes import PAYLOADS
from tests.support.http_replay import ReplayServer, Reply

FOLDER = PAYLOADS / "google_play"
LIST_PATH = f"/androidpublisher/v3/applications/{PACKAGE}/reviews"


def recorded(name: str) -> Path:
    path = FOLDER / name
    if not path.exists():  # fail, never skip: without the file the test would test nothing
        pytest.fail(f"payload {path} is missing (../shared/data/payloads/google_play beside the repo)")
    return path


def recorded_json(name: str) -> Any:
    return json.loads(recorded(name).read_text(encoding="utf-8"))


def source(
    server: ReplayServer, *, ledger: QuotaLedger | None = None, timeout_s: float = 5.0, **options: Any
) -> GooglePlaySource:
    settings = SourceSettings(
        "google_play",
        base_url=server.url,
        max_backfill=options.pop("max_backfill", 200),
        timeout_s=timeout_s,
        options={"service_account_json": SERVICE_ACCOUNT_JSON, "token_url": f"{server.url}/token", **options},
    )
    return GooglePlaySource(
        settings, build_client(settings, google_play.DEFAULT_BASE_URL), ledger=ledger or MemoryQuotaLedger()
    )


def watch(**options: Any) -> Watch:
    return Watch(
        name="acme", keywords=("acme",), sources={"google_play": {"package_names": [PACKAGE], **options}}
    )


def target(review_id: str) -> ReplyTarget:
    return ReplyTarget(
        "google_play", review_id, url=review_url(PACKAGE, review_id), raw={"play": {"package_name": PACKAGE}}
    )


# --- conformance: every payload file --------------------------------------------------------------------

COVERED = {
    "SOURCE.md",
    "official-doc_requests-pagination-errors-quotas.txt",
    "official-doc_reviews-get_200.json",
    "official-doc_reviews-list-item_200_translated-originalText.json",
    "official-doc_reviews-list_200_with-tokenPagination.json",
    "official-doc_reviews-reply_200.json",
    "official-doc_reviews-reply_request.http",
    "recorded_error_400_reviews-list_invalid-token-param.json",
    "recorded_error_401_permissionDenied_androidpublisher-purchases.json",
    "recorded_error_403_PERMISSION_DENIED_edits_java-client-inner-error.json",
    "recorded_error_403_quota-rateLimitExceeded_truncated-by-reporter.txt",
    "recorded_error_500_reviews-reply_null-message.json",
    "recorded_v2_reviews-list_200_page1-truncated-by-author.json",
    "schema_androidpublisher.v3.discovery.json",
    "schema_reviews-subset_DERIVED.json",
}


def test_every_payload_file_is_replayed_here() -> None:
    if not FOLDER.exists():
        pytest.fail(f"the Google Play payloads are missing: expected {FOLDER}")
    assert {p.name for p in FOLDER.iterdir()} == COVERED, "a payload file was added or removed: cover it here"


def test_documented_list_page_every_field_kept_and_the_next_page_asked_with_its_token(
    replay_server: ReplayServer,
) -> None:
    FakeGooglePlay(replay_server)  # the token endpoint
    body = recorded("official-doc_reviews-list_200_with-tokenPagination.json").read_bytes()
    replay_server.route("GET", LIST_PATH, Reply(200, body, {"Content-Type": "application/json"}))
    play = source(replay_server, page_size=50)

    page = play.fetch(watch(), None)

    assert [m.external_id for m in page.mentions] == ["12345678", "11223344"]
    assert page.has_more and not page.unsearched
    jane, john = page.mentions
    assert jane.text == "This is the best app ever!" and jane.rating == 5 and jane.author == "Jane Bloggs"
    assert jane.created_at.timestamp() == pytest.approx(1443676826.713)
    assert jane.url == "https://play.google.com/store/apps/details?id=com.acme.app&reviewId=12345678"
    play_data = dict(john.raw["play"])  # type: ignore[index]
    assert play_data["device"] == "trltecan" and play_data["app_version_name"] == "1.2.3"
    assert play_data["app_version_code"] == 12345 and play_data["android_os_version"] == 21
    assert play_data["device_metadata"]["productName"] == "E5333 (Xperia™ C4 Dual)"
    assert play_data["reviewer_language"] == "en" and john.language == "en"
    assert play_data["developer_reply"]["text"] == "That's great to hear!"
    assert john.metrics == {"rating": 5, "thumbs_up": 10, "thumbs_down": 3} and john.engagement == 10
    # 1974 is no time for a Play review: the mention gets the time it was seen, the given one is kept.
    assert "grumble_created_at_as_given" in john.raw  # type: ignore[operator]
    assert john.raw["comments"] == json.loads(body)["reviews"][1]["comments"]  # type: ignore[index]

    play.fetch(watch(), page.next_cursor)
    second = replay_server.requests_to(LIST_PATH)[-1]
    assert second.query == {"maxResults": "50", "token": "12334566"}
    assert second.headers["authorization"].startswith("Bearer ya29.")


def test_documented_translated_review_keeps_translation_and_original(replay_server: ReplayServer) -> None:
    FakeGooglePlay(replay_server)
    item = recorded_json("official-doc_reviews-list-item_200_translated-originalText.json")
    replay_server.route("GET", LIST_PATH, Reply.json({"reviews": [item]}))

    (mention,) = source(replay_server).fetch(watch(translation_language="en"), None).mentions

    assert replay_server.requests_to(LIST_PATH)[0].query["translationLanguage"] == "en"
    assert mention.text == "This is the best app ever!" and mention.language == "en"
    assert mention.raw["play"]["original_text"] == "Dies ist die beste App überhaupt!"  # type: ignore[index]
    assert mention.raw["play"]["translation_language"] == "en"  # type: ignore[index]


def test_recorded_v2_page_reads_the_same_on_v3(replay_server: ReplayServer) -> None:
    """A real Google answer (v2; the Review schema is v3's), cut by its author after one review."""
    FakeGooglePlay(replay_server)
    data = recorded_json("recorded_v2_reviews-list_200_page1-truncated-by-author.json")
    replay_server.route("GET", LIST_PATH, Reply.json(data))

    page = source(replay_server).fetch(watch(), None)

    (mention,) = page.mentions
    assert mention.external_id == data["reviews"][0]["reviewId"] and mention.external_id.startswith("gp:")
    assert mention.text == "會跳出來" and mention.title is None  # "\t會跳出來": no title before the tab
    assert mention.author is None and mention.rating == 3 and mention.language == "zh"
    assert mention.raw["play"]["device_metadata"]["manufacturer"] == "Asus"  # type: ignore[index]
    assert page.has_more


def test_documented_get_answer_has_no_reply_of_ours(replay_server: ReplayServer) -> None:
    FakeGooglePlay(replay_server)
    replay_server.route(
        "GET", f"{LIST_PATH}/87654321", Reply.json(recorded_json("official-doc_reviews-get_200.json"))
    )
    assert source(replay_server).find_reply(target("87654321"), "Thanks!", "k") is None
    review = recorded_json("official-doc_reviews-get_200.json")
    review["comments"].append({"developerComment": {"text": "Thanks!  ", "lastModified": {"seconds": "1"}}})
    replay_server.route("GET", f"{LIST_PATH}/87654321", Reply.json(review))
    found = source(replay_server).find_reply(target("87654321"), "Thanks!", "k")
    assert found is not None and found.id == "87654321" and found.url == review_url(PACKAGE, "87654321")


def test_documented_reply_request_and_answer(replay_server: ReplayServer) -> None:
    FakeGooglePlay(replay_server)
    documented = recorded("official-doc_reviews-reply_request.http").read_text(encoding="utf-8")
    body = json.loads(documented[documented.index("{") :])
    assert documented.startswith("POST ") and ":reply" in documented
    reply_path = f"{LIST_PATH}/review_id:reply"
    replay_server.route("POST", reply_path, Reply.json(recorded_json("official-doc_reviews-reply_200.json")))

    posted = source(replay_server).reply(target("review_id"), body["replyText"], "key-1")

    (request,) = replay_server.requests_to(reply_path)
    assert request.json() == body
    assert request.headers["content-type"] == "application/json"
    assert posted.id == "review_id" and posted.url == review_url(PACKAGE, "review_id")


def test_documented_limits_are_the_ones_kept() -> None:
    prose = recorded("official-doc_requests-pagination-errors-quotas.txt").read_text(encoding="utf-8")
    assert f"can contain at most {google_play.REPLY_LIMIT} characters" in " ".join(prose.split())
    assert f"up to {google_play.MAX_RESULTS} reviews" in " ".join(prose.split())
    assert re.search(rf"GET requests .* {google_play.READS_PER_HOUR}\s+per hour", prose, re.S)
    assert re.search(rf"POST requests .* {google_play.REPLIES_PER_DAY} per day", prose, re.S)
    assert "within the last week" in " ".join(prose.split())


def test_requests_match_the_discovery_document() -> None:
    discovery = recorded_json("schema_androidpublisher.v3.discovery.json")
    methods = discovery["resources"]["reviews"]["methods"]
    assert "/" + methods["list"]["path"].replace("{packageName}", PACKAGE) == LIST_PATH
    assert methods["list"]["httpMethod"] == "GET"
    assert {"token", "maxResults", "translationLanguage"} <= set(methods["list"]["parameters"])
    assert methods["reply"]["httpMethod"] == "POST" and methods["reply"]["path"].endswith("{reviewId}:reply")
    assert methods["get"]["path"].endswith("reviews/{reviewId}")
    assert discovery["schemas"]["ReviewsReplyRequest"]["properties"].keys() == {"replyText"}
    assert discovery["rootUrl"].rstrip("/") == google_play.DEFAULT_BASE_URL
    assert google_play.SCOPE in discovery["auth"]["oauth2"]["scopes"]


def test_fields_read_are_in_the_review_schema() -> None:
    schemas = recorded_json("schema_reviews-subset_DERIVED.json")["schemas"]
    user_comment = set(schemas["UserComment"]["properties"])
    assert {
        "text",
        "originalText",
        "starRating",
        "lastModified",
        "reviewerLanguage",
        "device",
        "deviceMetadata",
        "appVersionName",
        "appVersionCode",
        "androidOsVersion",
        "thumbsUpCount",
        "thumbsDownCount",
    } <= user_comment
    assert {"reviewId", "authorName", "comments"} <= set(schemas["Review"]["properties"])
    assert {"text", "lastModified"} <= set(schemas["DeveloperComment"]["properties"])
    assert "nextPageToken" in schemas["TokenPagination"]["properties"]


@pytest.mark.parametrize(
    ("name", "status", "error", "said"),
    [
        ("recorded_error_400_reviews-list_invalid-token-param.json", 400, SourceResponseError, "Bad request"),
        (
            "recorded_error_401_permissionDenied_androidpublisher-purchases.json",
            401,
            SourceAuthError,
            "GRUMBLE_GOOGLE_PLAY_SERVICE_ACCOUNT_FILE",
        ),
        (
            "recorded_error_403_PERMISSION_DENIED_edits_java-client-inner-error.json",
            403,
            SourceAuthError,
            "The caller does not have permission",
        ),
        (
            "recorded_error_403_quota-rateLimitExceeded_truncated-by-reporter.txt",
            403,
            SourceRateLimited,
            "quota",
        ),
        ("recorded_error_500_reviews-reply_null-message.json", 500, SourceUnavailable, "HTTP 500"),
    ],
)
def test_recorded_errors_on_the_listing(
    replay_server: ReplayServer, name: str, status: int, error: type[SourceError], said: str
) -> None:
    FakeGooglePlay(replay_server)
    replay_server.route(
        "GET", LIST_PATH, Reply(status, recorded(name).read_bytes(), {"Content-Type": "application/json"})
    )
    with pytest.raises(error) as caught:
        source(replay_server).fetch(watch(), None)
    assert said in str(caught.value)
    assert caught.value.source == "google_play"


def test_recorded_quota_error_waits_for_the_daily_reset_not_a_new_key(replay_server: ReplayServer) -> None:
    """403 rateLimitExceeded (usageLimits) is the quota, not the credentials; its body was cut short."""
    FakeGooglePlay(replay_server)
    body = recorded("recorded_error_403_quota-rateLimitExceeded_truncated-by-reporter.txt").read_bytes()
    replay_server.route("GET", LIST_PATH, Reply(403, body, {"Content-Type": "application/json"}))
    with pytest.raises(SourceRateLimited) as caught:
        source(replay_server).fetch(watch(), None)
    assert not isinstance(caught.value, SourceAuthError)
    assert 60 < caught.value.retry_after <= 25 * 3600  # "Queries per day": until midnight Pacific
    assert "rateLimitExceeded" in str(caught.value)


def test_recorded_500_on_a_reply_is_unconfirmed(replay_server: ReplayServer) -> None:
    fake = FakeGooglePlay(replay_server)
    fake.reviews = load_fixture("google_play")["items"]
    review_id = fake.reviews[0]["reviewId"]
    body = recorded("recorded_error_500_reviews-reply_null-message.json").read_bytes()
    replay_server.route(
        "POST", re.compile(r".*:reply"), Reply(500, body, {"Content-Type": "application/json"})
    )
    with pytest.raises(ReplyUnconfirmed, match=r"HTTP 500.*\(no message\).*may have saved it"):
        source(replay_server).reply(target(review_id), "Sorry about that!", "k")


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_or_html_pages_are_response_errors(replay_server: ReplayServer, cut: float) -> None:
    FakeGooglePlay(replay_server)
    body = recorded("official-doc_reviews-list_200_with-tokenPagination.json").read_bytes()
    replay_server.route(
        "GET", LIST_PATH, Reply(200, body[: int(len(body) * cut)], {"Content-Type": "application/json"})
    )
    with pytest.raises(SourceResponseError, match="malformed or truncated JSON"):
        source(replay_server).fetch(watch(), None)
    replay_server.route("GET", LIST_PATH, Reply.text("<html><body>Error 502</body></html>", 200, "text/html"))
    with pytest.raises(SourceResponseError, match="HTML where JSON was expected"):
        source(replay_server).fetch(watch(), None)


# --- behaviour on the fake API ----------------------------------------------------------------------------


def reviews() -> list[dict[str, Any]]:
    return copy.deepcopy(load_fixture("google_play")["items"])


def edit(review: dict[str, Any], text: str, stars: int, seconds: int) -> dict[str, Any]:
    edited = copy.deepcopy(review)
    comment = edited["comments"][0]["userComment"]
    comment.update(text=text, starRating=stars, lastModified={"seconds": str(seconds), "nanos": 0})
    return edited


def drain(play: GooglePlaySource, cursor: str | None) -> tuple[list[Any], str | None]:
    mentions = []
    for _ in range(20):
        page = play.fetch(watch(), cursor)
        mentions.extend(page.mentions)
        cursor = page.next_cursor
        if not page.has_more:
            return mentions, cursor
    raise AssertionError("still more after 20 pages")


def test_pages_follow_next_page_tokens_with_the_page_size(replay_server: ReplayServer) -> None:
    fake = FakeGooglePlay(replay_server)
    fake.reviews = reviews()
    mentions, _ = drain(source(replay_server, page_size=2), None)
    assert [m.external_id for m in mentions] == [r["reviewId"] for r in fake.reviews]
    assert [r.query.get("token") for r in replay_server.requests_to(LIST_PATH)] == [None, "2", "4"]
    assert {r.query["maxResults"] for r in replay_server.requests_to(LIST_PATH)} == {"2"}
    assert len(replay_server.requests_to("/token")) == 1, "one token for every page"


def test_an_edited_review_comes_through_again_as_the_same_review(replay_server: ReplayServer) -> None:
    """4 stars -> 1: reviews.list sends the review again with a newer lastModified; ordering by review id
    or remembering ids would drop it as already seen."""
    fake = FakeGooglePlay(replay_server)
    fake.reviews = reviews()
    play = source(replay_server, page_size=2)
    first, cursor = drain(play, None)
    assert len(first) == 5

    newest = int(fake.reviews[0]["comments"][0]["userComment"]["lastModified"]["seconds"])
    changed = edit(
        fake.reviews[3], "Update: the widget now crashes the launcher. Uninstalled.", 1, newest + 300
    )
    fake.reviews = [changed] + [r for r in fake.reviews if r["reviewId"] != changed["reviewId"]]
    again, cursor = drain(play, cursor)

    (mention,) = again
    assert mention.external_id == first[3].external_id
    assert mention.rating == 1 and first[3].rating == 3
    assert mention.text.startswith("Update: the widget")
    assert drain(play, cursor)[0] == []
    # The second run asked one page: the page after the edit held nothing new, so the pass ended.
    assert len(replay_server.requests_to(LIST_PATH)) == 3 + 2 + 1


def test_an_edit_listed_out_of_order_is_still_found(replay_server: ReplayServer) -> None:
    """Google does not promise the list's order: an edit below older reviews on a page is kept."""
    fake = FakeGooglePlay(replay_server)
    fake.reviews = reviews()
    play = source(replay_server, page_size=3)
    _, cursor = drain(play, None)
    newest = int(fake.reviews[0]["comments"][0]["userComment"]["lastModified"]["seconds"])
    fake.reviews[1] = edit(fake.reviews[1], "Now it is broken", 1, newest + 60)
    again, _ = drain(play, cursor)
    assert [m.external_id for m in again] == [fake.reviews[1]["reviewId"]]


def test_title_and_body_are_split_at_the_tab(replay_server: ReplayServer) -> None:
    fake = FakeGooglePlay(replay_server)
    fake.reviews = reviews()[:1]
    (mention,) = source(replay_server).fetch(watch(), None).mentions
    assert mention.title == "Logs me out"
    assert mention.text.startswith("The Acme app logged me out")


def test_a_watch_without_package_names_says_what_to_add(replay_server: ReplayServer) -> None:
    FakeGooglePlay(replay_server)
    with pytest.raises(SourceError, match=r"package_names = \[.*\[watches.sources.google_play\]"):
        source(replay_server).fetch(Watch(name="acme", sources={"google_play": {}}), None)


def test_an_unknown_package_is_not_found(replay_server: ReplayServer) -> None:
    from monitor.errors import SourceNotFound

    FakeGooglePlay(replay_server)
    with pytest.raises(SourceNotFound, match=r"com\.acme\.other"):
        source(replay_server).fetch(
            Watch(name="a", sources={"google_play": {"package_names": ["com.acme.other"]}}), None
        )


def test_without_credentials_it_says_what_to_set(replay_server: ReplayServer) -> None:
    settings = SourceSettings("google_play", base_url=replay_server.url, options={})
    play = GooglePlaySource(settings, build_client(settings, google_play.DEFAULT_BASE_URL))
    missing = play.missing_login()
    assert missing is not None and "GRUMBLE_GOOGLE_PLAY_SERVICE_ACCOUNT_JSON" in missing
    with pytest.raises(SourceAuthError, match="GRUMBLE_GOOGLE_PLAY_SERVICE_ACCOUNT_FILE"):
        play.fetch(watch(), None)
    assert replay_server.requests == []
    assert "used 0 of" in play.quota_status()[0], "a call that could not sign in spent no quota"


def test_a_revoked_token_is_dropped_and_the_next_fetch_gets_a_new_one(replay_server: ReplayServer) -> None:
    fake = FakeGooglePlay(replay_server)
    fake.reviews = reviews()
    play = source(replay_server)
    play.fetch(watch(), None)
    fake.tokens.issued.clear()  # revoked on Google's side
    with pytest.raises(SourceAuthError):
        play.fetch(watch(), None)
    play.fetch(watch(), None)
    assert len(replay_server.requests_to("/token")) == 2


# --- replies ----------------------------------------------------------------------------------------------


def test_reply_posts_the_text_and_find_reply_sees_it(replay_server: ReplayServer) -> None:
    fake = FakeGooglePlay(replay_server)
    fake.reviews = reviews()
    play = source(replay_server)
    review_id = fake.reviews[0]["reviewId"]
    text = "Sorry, Dana! We fixed the logout bug in 4.2.1 & our team will email you today."

    posted = play.reply(target(review_id), text, "key-1")

    (post,) = fake.posts()
    assert post.json() == {"replyText": text}
    assert post.path == f"{LIST_PATH}/gp%3AAOqpTOacme0000:reply"
    assert posted.id == review_id and posted.url == review_url(PACKAGE, review_id)
    assert play.find_reply(target(review_id), text, "key-1") == posted
    assert play.find_reply(target(review_id), "another text", "key-1") is None
    assert play.find_reply(target("gp:unknown"), text, "key-1") is None


def test_the_package_comes_from_the_stored_url_when_raw_lacks_it(replay_server: ReplayServer) -> None:
    fake = FakeGooglePlay(replay_server)
    fake.reviews = reviews()
    review_id = fake.reviews[0]["reviewId"]
    bare = ReplyTarget("google_play", review_id, url=review_url(PACKAGE, review_id))
    source(replay_server).reply(bare, "Thanks!", "k")
    assert len(fake.posts()) == 1


@pytest.mark.parametrize(
    ("text", "count", "ok"),
    [("x" * 350, 350, True), ("x" * 351, 351, False), ("x" * 349 + "😀", 351, False), ("é" * 350, 350, True)],
)
def test_replies_over_350_characters_are_refused_before_sending(
    replay_server: ReplayServer, text: str, count: int, ok: bool
) -> None:
    fake = FakeGooglePlay(replay_server)
    fake.reviews = reviews()
    play = source(replay_server)
    length = play.measure(text)
    assert (length.count, length.limit, length.ok) == (count, 350, ok)
    if ok:
        play.reply(target(fake.reviews[0]["reviewId"]), text, "k")
        assert len(fake.posts()) == 1
    else:
        with pytest.raises(ReplyRejected) as caught:
            play.reply(target(fake.reviews[0]["reviewId"]), text, "k")
        assert caught.value.reason == "too_long" and "350" in str(caught.value)
        assert fake.posts() == []


def test_a_reply_that_timed_out_after_landing_is_found_and_not_sent_again(
    replay_server: ReplayServer,
) -> None:
    fake = FakeGooglePlay(replay_server)
    fake.reviews = reviews()
    play = source(replay_server, timeout_s=0.5)
    review_id = fake.reviews[0]["reviewId"]
    fake.slow_s = 2.0
    with pytest.raises(ReplyUnconfirmed, match="timed out"):
        play.reply(target(review_id), "We are on it.", "k")
    fake.slow_s = 0.0
    assert play.find_reply(target(review_id), "We are on it.", "k") is not None
    assert len(fake.posts()) == 1


def test_a_reply_to_a_deleted_review_is_rejected(replay_server: ReplayServer) -> None:
    FakeGooglePlay(replay_server)
    with pytest.raises(ReplyRejected) as caught:
        source(replay_server).reply(target("gp:gone"), "Sorry!", "k")
    assert caught.value.reason == "deleted"


def test_a_reply_google_refuses_keeps_its_reason(replay_server: ReplayServer) -> None:
    fake = FakeGooglePlay(replay_server)
    fake.reviews = reviews()
    replay_server.route(
        "POST",
        re.compile(r".*:reply"),
        Reply.json({"error": {"code": 400, "message": "Bad Reply Request: replyText too long"}}, 400),
    )
    with pytest.raises(ReplyRejected) as caught:
        source(replay_server).reply(target(fake.reviews[0]["reviewId"]), "Sorry!", "k")
    assert caught.value.reason == "too_long"


# --- quotas -----------------------------------------------------------------------------------------------


def test_list_calls_are_counted_and_stop_before_the_hours_quota_leaving_room_for_lookups(
    replay_server: ReplayServer,
) -> None:
    fake = FakeGooglePlay(replay_server)
    fake.reviews = reviews()
    ledger = MemoryQuotaLedger()
    play = source(replay_server, ledger=ledger, reads_per_hour=10, list_quota_share=0.5)
    for _ in range(5):
        play.fetch(watch(), None)
    with pytest.raises(QuotaExhausted) as caught:
        play.fetch(watch(), None)
    assert isinstance(caught.value, SourceRateLimited) and 0 < caught.value.retry_after <= 3600
    assert "5 of the 5 units" in str(caught.value)
    assert len(replay_server.requests_to(LIST_PATH)) == 5, "the sixth call was never sent"
    # The other half of the hour is kept for reviews.get, which makes replies exactly-once.
    for _ in range(5):
        play.find_reply(target(fake.reviews[0]["reviewId"]), "x", "k")
    with pytest.raises(QuotaExhausted):
        play.find_reply(target(fake.reviews[0]["reviewId"]), "x", "k")
    assert any("com.acme.app reads: used 10 of 10 units this hour" in line for line in play.quota_status())


def test_replies_are_counted_per_app_and_day(replay_server: ReplayServer) -> None:
    fake = FakeGooglePlay(replay_server)
    fake.reviews = reviews()
    play = source(replay_server, replies_per_day=2)
    for review in fake.reviews[:2]:
        play.reply(target(review["reviewId"]), "Thanks!", "k")
    with pytest.raises(QuotaExhausted, match=r"reviews\.reply for com\.acme\.app"):
        play.reply(target(fake.reviews[2]["reviewId"]), "Thanks!", "k")
    assert len(fake.posts()) == 2
    assert any("replies: used 2 of 2 units this day" in line for line in play.quota_status())


def test_the_database_ledger_is_shared_by_sources_built_by_the_registry(
    replay_server: ReplayServer, sqlite_engine: Any
) -> None:
    from monitor.store.quotas import SharedQuotaLedger

    fake = FakeGooglePlay(replay_server)
    fake.reviews = reviews()
    settings = SourceSettings(
        "google_play",
        base_url=replay_server.url,
        options={
            "service_account_json": SERVICE_ACCOUNT_JSON,
            "token_url": f"{replay_server.url}/token",
            "reads_per_hour": 4,
            "list_quota_share": 1,
        },
    )
    ledger = SharedQuotaLedger(sqlite_engine)
    one, two = build_source(settings, quotas=ledger), build_source(settings, quotas=ledger)
    for play in (one, two, one, two):
        play.fetch(watch(), None)
    with pytest.raises(QuotaExhausted):
        one.fetch(watch(), None)
    assert len(replay_server.requests_to(LIST_PATH)) == 4


def test_quota_status_names_the_apps_it_knows_or_how_to_name_them(replay_server: ReplayServer) -> None:
    assert "package_names" in source(replay_server).quota_status()[0]
    lines = source(replay_server, package_names=[PACKAGE]).quota_status()
    assert lines[0].startswith("com.acme.app reads: used 0 of 200 units this hour")
    assert lines[1].startswith("com.acme.app replies: used 0 of 2,000 units this day")
