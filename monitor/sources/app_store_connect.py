"""App Store Connect API: the reviews of apps you own, answered in the App Store.

Reading: GET /v1/apps/{id}/customerReviews, newest first (sort=-createdDate), up to 200 a page, with
include=response so a review arrives with the developer's response and its state. Pages are chained by
cursor through `links.next`, which is followed only on the configured host: the path and query of a
next link on that host or on Apple's own host go to base_url (a proxy or a test server), any other host
is refused, so the signed token never leaves for a host nobody configured. One stream per app (and
territory filter), so each app keeps its own place. Every review is about the app: pages are not
keyword-filtered (`unsearched` False). A review's text is its body, its title the title; the public
App Store page of the app is its link (reviews have no page of their own).

Replying: POST /v1/customerReviewResponses. Apple keeps one response per review and documents this call
as "Create or Update": posting to a review that has a response overwrites it, so answering again is one
POST, never a delete and a create (which would leave the review unanswered if the second call failed).
Apple sends no idempotency key back, and there is only one response a review, so `find_reply` reads
GET /v1/customerReviews/{id}/response and compares its text. A response is PENDING_PUBLISH until Apple
publishes it, then PUBLISHED: `PostedReply.state` says "pending" or "published", and
monitor/respond/remote_state.py keeps the case's reply up to date.

Apple documents no length limit for responseBody (the OpenAPI schema has no maxLength); 5,970 characters
is the limit App Store Connect's own form enforces and review tools cite. It is counted in UTF-16 units,
never fewer than the characters a reader sees, so a text within it is within it however Apple counts;
`max_characters` in [sources.app_store_connect] changes it.

Errors come in Apple's `errors` list (status, code, title, detail); they are mapped here so the message
says what to do: 401 NOT_AUTHORIZED names the key settings, 403 REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED
says to accept the agreements, 429 RATE_LIMIT_EXCEEDED waits (Apple counts requests per key per hour and
says so in X-Rate-Limit), 409 on a response is a refusal with Apple's detail.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import httpx

from monitor.errors import (
    ReplyUnconfirmed,
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceRateLimited,
    SourceResponseError,
    SourceUnavailable,
)
from monitor.mention import Mention, Page, Watch
from monitor.sources.app_store_connect_token import AppStoreConnectToken, settings_hint
from monitor.sources.base import PostedReply, ReplyTarget, SourceSettings, TextLength
from monitor.sources.http import (
    DEFAULT_RETRY_AFTER_S,
    SkipLog,
    build_client,
    check_status,
    decode_json,
    expect_list,
    expect_mapping,
    option_int,
    option_list,
    perform,
    retry_after_seconds,
    snippet,
)
from monitor.sources.paging import Batch, StreamState, fetch_streams
from monitor.sources.reply_errors import reply_request
from monitor.sources.reply_text import normalized
from monitor.sources.text import as_int, as_mapping, as_str, dig, metrics, parse_time

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.appstoreconnect.apple.com"
APPLE_HOST = urlsplit(DEFAULT_BASE_URL).netloc
REVIEWS_PATH = "/v1/apps/{app_id}/customerReviews"
RESPONSES_PATH = "/v1/customerReviewResponses"
RESPONSE_OF_REVIEW_PATH = "/v1/customerReviews/{review_id}/response"
APP_URL = "https://apps.apple.com/app/id{app_id}?see-all=reviews"
MAX_LIMIT = 200  # Apple's largest page of customerReviews
MAX_RESPONSE_CHARACTERS = 5970
# Apple's response states, in the words every source uses for PostedReply.state.
STATES = {"PENDING_PUBLISH": "pending", "PUBLISHED": "published"}
AGREEMENTS_HINT = (
    "an Account Holder must accept the latest agreements in App Store Connect > Business (Agreements, "
    "Tax, and Banking); the API answers nothing until they are in effect"
)


def _state(value: Any) -> str | None:
    text = as_str(value)
    return None if text is None else STATES.get(text, text.lower())


class AppStoreConnectSource:
    name: ClassVar[str] = "app_store_connect"

    def __init__(self, settings: SourceSettings, client: httpx.Client) -> None:
        self.settings = settings
        self.client = client
        self.token = AppStoreConnectToken(self.name, settings.options)
        self.page_size = option_int(settings.options, "page_size", MAX_LIMIT, maximum=MAX_LIMIT)
        self.max_pages = option_int(settings.options, "max_pages", 20, maximum=1000)
        self.max_characters = option_int(
            settings.options, "max_characters", MAX_RESPONSE_CHARACTERS, maximum=MAX_RESPONSE_CHARACTERS
        )
        self.auth_hint = f"Check the API key: {settings_hint(self.name)}"
        base = urlsplit(str(client.base_url))
        self._origin = (base.scheme, base.netloc)

    # --- reading --------------------------------------------------------------------------------------------

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        options = watch.options_for(self.name)
        app_ids = option_list(options, "app_ids") or option_list(options, "app_id")
        if not app_ids:
            raise SourceError(
                self.name,
                f"watch {watch.name!r} needs app_ids = [...] (the Apple ID of each app, from App Store "
                f"Connect > App Information) in [watches.sources.{self.name}]",
            )
        territories = [
            t.upper() for t in option_list(options, "territories") or option_list(options, "territory")
        ]
        suffix = f"?territory={','.join(territories)}" if territories else ""
        streams = {f"{app}{suffix}": (app, tuple(territories)) for app in app_ids}
        return fetch_streams(
            self.name,
            cursor,
            streams,
            self._page,
            max_backfill=self.settings.max_backfill,
            max_pages=self.max_pages,
        )

    def _page(self, spec: tuple[str, tuple[str, ...]], state: StreamState) -> Batch:
        app_id, territories = spec
        resource = f"the customer reviews of app {app_id}"
        params: list[tuple[str, str | int]] | None = None
        if state.pending and isinstance(state.token, str) and state.token:
            url = state.token  # the path and query of Apple's links.next, checked when it was stored
        else:
            url = REVIEWS_PATH.format(app_id=quote(app_id, safe=""))
            params = [
                ("sort", "-createdDate"),
                ("limit", min(self.page_size, state.room(self.settings.max_backfill))),
                ("include", "response"),
            ]
            if territories:
                params.append(("filter[territory]", ",".join(territories)))
        response = self._request("GET", url, resource=resource, params=params)
        data = expect_mapping(self.name, decode_json(self.name, response), "a customerReviews page")
        reviews = expect_list(self.name, data.get("data"), "data (the reviews)")
        included = _included(data.get("included"))
        skips = SkipLog(self.name)
        items = [
            item for item in (parse_review(r, app_id, included, skips) for r in reviews) if item is not None
        ]
        skips.report(f"a page of {resource}")
        next_link = as_str(dig(data, "links", "next"))
        next_token = self._follow(next_link) if next_link and reviews else None
        return Batch(items=items, next_token=next_token)

    def _follow(self, link: str) -> str:
        """The next page's path and query, to send to the configured host; another host is refused."""
        parts = urlsplit(link)
        if parts.netloc and (parts.scheme, parts.netloc) != self._origin and parts.netloc != APPLE_HOST:
            raise SourceResponseError(
                self.name,
                f"links.next points at {parts.scheme}://{parts.netloc}, not at the configured "
                f"{self._origin[0]}://{self._origin[1]}; not followed (the request would carry the API "
                "token there). Check [sources.app_store_connect] base_url",
            )
        if not parts.path.startswith("/v1/"):
            raise SourceResponseError(self.name, f"links.next is not an API path: {snippet(link)!r}")
        return parts.path + (f"?{parts.query}" if parts.query else "")

    # --- HTTP and Apple's errors ----------------------------------------------------------------------------

    def _request(self, method: str, url: str, *, resource: str, **kwargs: Any) -> httpx.Response:
        """One signed request; Apple's error answers read by raise_for_apple, anything else by status."""
        headers = {"Authorization": self.token.authorization()}
        response = perform(self.client, self.name, method, url, headers=headers, **kwargs)
        if response.status_code >= 400:
            if response.status_code == 401:
                self.token.forget()  # a token Apple refused is not sent again
            raise_for_apple(self.name, response, resource=resource, auth_hint=self.auth_hint)
        check_status(self.name, response, auth_hint=self.auth_hint, resource=resource)
        return response

    # --- replying -------------------------------------------------------------------------------------------

    def measure(self, text: str) -> TextLength:
        return TextLength(
            utf16_length(text),
            self.max_characters,
            "characters",
            "counted as Apple's systems count them: an emoji may count as 2",
        )

    def missing_login(self) -> str | None:
        missing = self.token.missing()
        if not missing:
            return None
        return f"an App Store Connect API key ({', '.join(missing)} missing): {settings_hint(self.name)}"

    def reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        """POST /v1/customerReviewResponses: creates the review's response, or overwrites the one it has."""
        what = f"the response to review {target.external_id}"
        body = {
            "data": {
                "type": "customerReviewResponses",
                "attributes": {"responseBody": text},
                "relationships": {"review": {"data": {"type": "customerReviews", "id": target.external_id}}},
            }
        }
        with reply_request(
            self.name,
            what,
            server="Apple",
            landed="Apple may have taken the response",
            gone=f"review {target.external_id} is gone (deleted by its author?)",
        ):
            response = self._request("POST", RESPONSES_PATH, resource=what, json=body)
        try:
            data = expect_mapping(self.name, decode_json(self.name, response), "the created response")
        except SourceResponseError as exc:
            raise ReplyUnconfirmed(self.name, f"{what} was answered unreadably: {exc.detail}") from None
        posted = self._posted(target, as_mapping(data.get("data")))
        if posted is None:
            raise ReplyUnconfirmed(self.name, f"{what} was answered without a response id")
        return posted

    def find_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply | None:
        """The review's response, when it says `text` (one response a review: no other can be ours)."""
        resource = f"the response to review {target.external_id}"
        path = RESPONSE_OF_REVIEW_PATH.format(review_id=quote(target.external_id, safe=""))
        try:
            response = self._request("GET", path, resource=resource)
        except SourceNotFound:
            return None
        data = expect_mapping(self.name, decode_json(self.name, response), resource)
        found = as_mapping(data.get("data"))
        said = as_str(dig(found, "attributes", "responseBody"))
        if said is None or normalized(said) != normalized(text):
            return None
        return self._posted(target, found)

    def _posted(self, target: ReplyTarget, resource: Mapping[str, Any]) -> PostedReply | None:
        response_id = as_str(resource.get("id"))
        if response_id is None:
            return None
        state = _state(dig(resource, "attributes", "state"))
        return PostedReply(id=response_id, url=target.url, state=state)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def apple_errors(response: httpx.Response) -> list[Mapping[str, Any]]:
    """Apple's `errors` list, or [] when the body is not one (a proxy's page, an empty body)."""
    try:
        data = response.json()
    except ValueError:
        return []
    errors = data.get("errors") if isinstance(data, Mapping) else None
    return [e for e in errors if isinstance(e, Mapping)] if isinstance(errors, list) else []


def _describe(error: Mapping[str, Any]) -> str:
    code = as_str(error.get("code")) or "(no code)"
    title = as_str(error.get("title"))
    detail = as_str(error.get("detail"))
    text = f"{code}: " + " ".join(part.rstrip(".") + "." for part in (title, detail) if part)
    where = as_str(dig(error, "source", "parameter")) or as_str(dig(error, "source", "pointer"))
    return f"{text} (at {where})" if where else text


def raise_for_apple(source: str, response: httpx.Response, *, resource: str, auth_hint: str) -> None:
    """Raise the SourceError an Apple error answer means; return when the body is not Apple's (the
    caller's generic check then maps it by status)."""
    errors = apple_errors(response)
    if not errors:
        return
    status = response.status_code
    codes = {as_str(e.get("code")) or "" for e in errors}
    said = "; ".join(_describe(e) for e in errors[:3])
    where = f"{response.request.method} {response.request.url.path}"
    if status == 401:
        raise SourceAuthError(source, f"HTTP 401 for {resource} ({where}): {said} {auth_hint}")
    if status == 403:
        if any("REQUIRED_AGREEMENTS" in code for code in codes):
            raise SourceAuthError(source, f"HTTP 403 for {resource}: {said} To fix it: {AGREEMENTS_HINT}")
        raise SourceAuthError(
            source,
            f"HTTP 403 for {resource} ({where}): {said} The API key's role may not do this, or the key was "
            "revoked: reading reviews works with a Customer Support key, but answering them has been refused "
            f"to every role but Admin (Apple Developer Forums thread 770673). {auth_hint}",
        )
    if status in (404, 410):
        raise SourceNotFound(source, f"HTTP {status}: {resource} does not exist ({where}): {said}")
    if status == 429:
        wait = retry_after_seconds(response.headers)
        budget = response.headers.get("x-rate-limit")
        per_hour = f" (X-Rate-Limit {budget})" if budget else ""
        raise SourceRateLimited(
            source,
            f"HTTP 429 on {where}: {said} Apple limits requests per API key per hour{per_hour}; "
            f"waiting {wait if wait is not None else DEFAULT_RETRY_AFTER_S:g} s",
            wait if wait is not None else DEFAULT_RETRY_AFTER_S,
        )
    if status >= 500:
        raise SourceUnavailable(source, f"HTTP {status} server error on {where}: {said} Will retry later")
    raise SourceResponseError(source, f"HTTP {status} for {resource} ({where}): {said}")


def _included(value: Any) -> dict[tuple[str, str], Mapping[str, Any]]:
    """The `included` resources by (type, id)."""
    found: dict[tuple[str, str], Mapping[str, Any]] = {}
    for item in value if isinstance(value, list) else []:
        if isinstance(item, Mapping):
            kind, item_id = as_str(item.get("type")), as_str(item.get("id"))
            if kind and item_id:
                found[kind, item_id] = item
    return found


def developer_response(
    review: Mapping[str, Any], included: Mapping[tuple[str, str], Mapping[str, Any]]
) -> dict[str, Any] | None:
    """The review's existing response from `included`, when the page brought it."""
    link = as_mapping(dig(review, "relationships", "response", "data"))
    response_id = as_str(link.get("id"))
    if response_id is None:
        return None
    resource = included.get(("customerReviewResponses", response_id))
    attributes = as_mapping(resource.get("attributes")) if resource else {}
    return {
        "id": response_id,
        "responseBody": as_str(attributes.get("responseBody")),
        "lastModifiedDate": as_str(attributes.get("lastModifiedDate")),
        "state": as_str(attributes.get("state")),
    }


def parse_review(
    review: Any, app_id: str, included: Mapping[tuple[str, str], Mapping[str, Any]], skips: SkipLog
) -> tuple[float, Mention] | None:
    if not isinstance(review, Mapping):
        skips.skip("not an object")
        return None
    review_id = as_str(review.get("id"))
    attributes = as_mapping(review.get("attributes"))
    created = parse_time(attributes.get("createdDate"))
    body = as_str(attributes.get("body"))
    title = as_str(attributes.get("title"))
    if review_id is None:
        skips.skip("without id")
        return None
    if created is None:
        skips.skip("without createdDate")
        return None
    if not (body or title or "").strip():
        skips.skip("without body")
        return None
    rating = as_int(attributes.get("rating"))
    raw: dict[str, Any] = {**review, "app_id": app_id}
    response = developer_response(review, included)
    if response is not None:
        raw["developer_response"] = response
    mention = Mention(
        source=AppStoreConnectSource.name,
        external_id=review_id,
        text=body if body and body.strip() else title or "",
        title=title if body and body.strip() else None,
        created_at=created,
        author=as_str(attributes.get("reviewerNickname")),
        url=APP_URL.format(app_id=quote(app_id, safe="")),
        rating=float(rating) if rating is not None and 1 <= rating <= 5 else None,
        metrics=metrics(rating=rating),
        raw=raw,
    )
    return created.timestamp(), mention


def build(settings: SourceSettings) -> AppStoreConnectSource:
    return AppStoreConnectSource(settings, build_client(settings, DEFAULT_BASE_URL))
