"""Google Play reviews of your own apps (Google Play Developer API, androidpublisher v3), answered in the
store.

    GET  /androidpublisher/v3/applications/{packageName}/reviews            reviews.list (token paging)
    GET  /androidpublisher/v3/applications/{packageName}/reviews/{reviewId}  reviews.get
    POST /androidpublisher/v3/applications/{packageName}/reviews/{reviewId}:reply  {"replyText": ...}

Facts this module is built around (Google's "Reply to reviews" guide):

- reviews.list returns only reviews created or *modified* in the last seven days: poll at least daily
  (import older history from the Play Console's CSV export, monitor/sources/play_console.py).
- A review edited by its author (4 stars -> 1) comes back with a newer lastModified and must arrive
  again, as an edit of the same review. So the cursor orders reviews by lastModified, never by id:
  "already seen" means "seen at this lastModified". Google does not document the list's order, so a
  page is filtered item by item, and a pass ends at the first page holding nothing new.
- Every review of the app is about the brand: pages are not keyword-filtered (`unsearched` is False).
- The user's comment is "title<TAB>body" when the review has a title.
- Replies are at most 350 characters, and one per review: replying again replaces the reply.
- Quotas per app: about 200 GET requests an hour, 2,000 replies a day. They are counted before each
  call (monitor/sources/quota.py): listing stops at `list_quota_share` of the hour's reads, keeping the
  rest for the reviews.get lookups that make replies exactly-once. Google reports an exhausted quota as
  403 rateLimitExceeded: that is SourceRateLimited (google_api.py), not an auth error.

Reading a Review's JSON into a Mention is google_play_reviews.py; this module is the client that lists
and answers reviews, and the quota accounts it spends from.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from monitor.errors import (
    ConfigError,
    ReplyRejected,
    ReplyUnconfirmed,
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceResponseError,
)
from monitor.mention import Page, Watch
from monitor.sources.base import PostedReply, ReplyTarget, SourceSettings, TextLength
from monitor.sources.google_api import check_google_status
from monitor.sources.google_auth import GoogleToken
from monitor.sources.google_play_reviews import PLAY_KEY as PLAY_KEY
from monitor.sources.google_play_reviews import SOURCE, package_of, parse_review
from monitor.sources.google_play_reviews import language_code as language_code
from monitor.sources.google_play_reviews import review_url as review_url
from monitor.sources.http import (
    SkipLog,
    build_client,
    decode_json,
    expect_list,
    expect_mapping,
    option_int,
    option_list,
    send,
)
from monitor.sources.paging import Batch, StreamState, fetch_streams
from monitor.sources.quota import (
    PACIFIC,
    DailyWindow,
    HourlyWindow,
    MemoryQuotaLedger,
    Quota,
    QuotaAccount,
    QuotaLedger,
)
from monitor.sources.reply_errors import reply_request
from monitor.sources.reply_text import normalized
from monitor.sources.text import as_mapping, as_str

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://androidpublisher.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/androidpublisher"
REVIEWS_PATH = "/androidpublisher/v3/applications/{package}/reviews"
MAX_RESULTS = 100  # Google's page size ceiling for reviews.list
REPLY_LIMIT = 350
READS_PER_HOUR = 200
REPLIES_PER_DAY = 2000
LIST_QUOTA_SHARE = 0.9


class GooglePlaySource:
    name: ClassVar[str] = SOURCE

    def __init__(
        self,
        settings: SourceSettings,
        client: httpx.Client,
        *,
        ledger: QuotaLedger | None = None,
        token: GoogleToken | None = None,
    ) -> None:
        self.settings = settings
        self.client = client
        options = settings.options
        self.token = token or GoogleToken.from_options(
            self.name, options, SCOPE, client=client, grants=("service_account", "refresh_token")
        )
        self.page_size = option_int(options, "page_size", MAX_RESULTS, maximum=MAX_RESULTS)
        self.max_pages = option_int(options, "max_pages", 20, maximum=1000)
        self.translation_language = as_str(options.get("translation_language"))
        self.ledger = ledger if ledger is not None else _PROCESS_LEDGER
        self.reads_per_hour = option_int(options, "reads_per_hour", READS_PER_HOUR, maximum=1_000_000)
        self.replies_per_day = option_int(options, "replies_per_day", REPLIES_PER_DAY, maximum=1_000_000)
        self.list_share = _share(options.get("list_quota_share"), LIST_QUOTA_SHARE)
        self.auth_hint = (
            f"{self.token.settings_hint()}; and in Play Console > Users and permissions, give that account "
            "access to the app (view app information, and reply to reviews for replies)"
        )
        self._packages: dict[str, None] = dict.fromkeys(option_list(options, "package_names"))
        self._lock = threading.Lock()

    # --- quotas -------------------------------------------------------------------------------------

    def _reads(self, package: str, share: float = 1.0) -> QuotaAccount:
        quota = Quota(self.reads_per_hour, HourlyWindow(), share)
        return QuotaAccount(self.ledger, source=self.name, key=f"{package}:reads", quota=quota)

    def _replies(self, package: str) -> QuotaAccount:
        quota = Quota(self.replies_per_day, DailyWindow(PACIFIC))
        return QuotaAccount(self.ledger, source=self.name, key=f"{package}:replies", quota=quota)

    def quota_status(self) -> list[str]:
        """How each app's quotas stand, for `grumble status` and the Sources page."""
        with self._lock:
            packages = list(self._packages)
        if not packages:
            # Built just to report (no fetch yet): the apps are named in the watches, not here.
            return [
                "quotas are counted per app (200 reads an hour, 2,000 replies a day); list the apps in "
                "[sources.google_play] package_names to see them here"
            ]
        lines = []
        for package in packages:
            lines.append(f"{package} reads: {self._reads(package).usage().describe()}")
            lines.append(f"{package} replies: {self._replies(package).usage().describe()}")
        return lines

    # --- reading ------------------------------------------------------------------------------------

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        options = watch.options_for(self.name)
        packages = option_list(options, "package_names") or option_list(options, "package_name")
        if not packages:
            raise SourceError(
                self.name,
                f'watch {watch.name!r} needs package_names = ["com.example.app"] in '
                "[watches.sources.google_play] (the apps whose reviews to collect)",
            )
        language = as_str(options.get("translation_language")) or self.translation_language
        with self._lock:
            self._packages.update(dict.fromkeys(packages))
        key_suffix = f"/{language}" if language else ""
        streams = {f"{package}{key_suffix}": (package, language) for package in packages}
        return fetch_streams(
            self.name,
            cursor,
            streams,
            self._page,
            max_backfill=self.settings.max_backfill,
            max_pages=self.max_pages,
        )

    def _get(self, path: str, resource: str, **kwargs: Any) -> Any:
        response = self._send("GET", path, resource, **kwargs)
        return decode_json(self.name, response)

    def _send(self, method: str, path: str, resource: str, **kwargs: Any) -> httpx.Response:
        headers = {**kwargs.pop("headers", {}), **self.token.header()}
        try:
            return send(
                self.client,
                self.name,
                method,
                path,
                headers=headers,
                auth_hint=self.auth_hint,
                resource=resource,
                check=check_google_status,
                **kwargs,
            )
        except SourceAuthError:
            self.token.invalidate()  # revoked or rotated: the next call asks for a new one
            raise

    def _page(self, spec: tuple[str, str | None], state: StreamState) -> Batch:
        package, language = spec
        params: dict[str, str | int] = {
            "maxResults": min(self.page_size, state.room(self.settings.max_backfill))
        }
        if state.pending and state.token:
            params["token"] = str(state.token)
        if language:
            params["translationLanguage"] = language
        resource = f"the reviews of app {package}"
        self.token.access_token()  # signed in first, so a refused key spends no quota
        # Charged before sending: a call the hour's quota cannot take is never sent.
        self._reads(package, self.list_share).spend(1, f"reviews.list for {package}")
        data = expect_mapping(
            self.name,
            self._get(REVIEWS_PATH.format(package=quote(package, safe="")), resource, params=params),
            "a reviews.list answer",
        )
        reviews = expect_list(self.name, data.get("reviews"), "reviews")
        skips = SkipLog(self.name)
        items = [
            item for item in (parse_review(r, package, skips, language) for r in reviews) if item is not None
        ]
        skips.report(f"{resource}")
        next_token = as_str(as_mapping(data.get("tokenPagination")).get("nextPageToken")) if reviews else None
        # "Seen" is judged per review at its lastModified, so an edited review is new again; a page with
        # nothing new ends the pass (the list is newest-modified first in practice, not by contract).
        fresh = [(key, m) for key, m in items if not state.is_known(key, m.external_id)]
        if items and not fresh:
            return Batch(items=items, next_token=None)
        return Batch(items=fresh, next_token=next_token)

    # --- replying -----------------------------------------------------------------------------------

    def missing_login(self) -> str | None:
        return self.token.missing()

    def measure(self, text: str) -> TextLength:
        # Google's servers count UTF-16 units: an emoji outside the BMP is two of the 350.
        count = len(text.encode("utf-16-le")) // 2
        return TextLength(count, REPLY_LIMIT, "characters", "emoji count as 2, as Google counts them")

    def _package(self, target: ReplyTarget) -> str:
        package = package_of(target)
        if package is not None:
            with self._lock:
                self._packages.setdefault(package, None)
        else:
            with self._lock:
                known = list(self._packages)
            if len(known) == 1:
                return known[0]
            raise ReplyRejected(
                self.name,
                f"cannot tell which app review {target.external_id} belongs to (its stored data has no "
                "package name); reply in Play Console",
                "rejected",
            )
        return package

    def reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        """POST reviews/{id}:reply. One reply per review: posting again replaces it, never adds a second."""
        length = self.measure(text)
        if not length.ok:
            raise ReplyRejected(
                self.name,
                f"the reply is {length.describe()}; Google Play takes at most {REPLY_LIMIT}: shorten it",
                "too_long",
            )
        package = self._package(target)
        path = f"{_review_path(package, target.external_id)}:reply"
        what = f"the reply to review {target.external_id} of {package}"
        self.token.access_token()
        self._replies(package).spend(1, f"reviews.reply for {package}")
        with reply_request(
            self.name,
            what,
            server="Google Play",
            landed="Google Play may have saved it",
            gone=f"review {target.external_id} of {package} no longer exists on Google Play",
        ):
            response = self._send("POST", path, what, json={"replyText": text})
        try:
            result = as_mapping(
                expect_mapping(self.name, decode_json(self.name, response), "a reply answer").get("result")
            )
        except SourceResponseError as exc:
            raise ReplyUnconfirmed(self.name, f"{what} was answered unreadably: {exc.detail}") from None
        if as_str(result.get("replyText")) is None:
            raise ReplyUnconfirmed(self.name, f"{what} was answered without the reply it saved")
        return PostedReply(id=target.external_id, url=review_url(package, target.external_id))

    def find_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply | None:
        """reviews.get: the review's developer reply, if it says `text` (compared as normalized text)."""
        package = self._package(target)
        path = _review_path(package, target.external_id)
        self.token.access_token()
        self._reads(package).spend(1, f"reviews.get for {package}")
        try:
            data = self._get(path, f"review {target.external_id} of {package}")
        except SourceNotFound:
            return None
        review = expect_mapping(self.name, data, "a review")
        wanted = normalized(text)
        for comment in review.get("comments") or ():
            developer = as_mapping(as_mapping(comment).get("developerComment"))
            said = as_str(developer.get("text"))
            if said is not None and normalized(said) == wanted:
                return PostedReply(id=target.external_id, url=review_url(package, target.external_id))
        return None


def _review_path(package: str, review_id: str) -> str:
    return f"{REVIEWS_PATH.format(package=quote(package, safe=''))}/{quote(review_id, safe='')}"


def _share(value: Any, default: float) -> float:
    if value is None or value == "":
        return default
    try:
        share = float(value)
    except (TypeError, ValueError):
        share = -1.0
    if not 0 < share <= 1:
        raise ConfigError(
            f"[sources.google_play] list_quota_share (GRUMBLE_GOOGLE_PLAY_LIST_QUOTA_SHARE) must be more "
            f"than 0 and at most 1 (0.9 = 90 % of the hour's reads), got {value!r}"
        )
    return share


# Counts for a process built without the database's ledger (tests, `grumble collect` without a store):
# one per process, so sources built again for each run still share them.
_PROCESS_LEDGER = MemoryQuotaLedger()


def build(settings: SourceSettings) -> GooglePlaySource:
    return GooglePlaySource(settings, build_client(settings, DEFAULT_BASE_URL))


def build_with_quotas(settings: SourceSettings, ledger: QuotaLedger) -> GooglePlaySource:
    return GooglePlaySource(settings, build_client(settings, DEFAULT_BASE_URL), ledger=ledger)
