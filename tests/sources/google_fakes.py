"""Fake Google APIs on the loopback ReplayServer: the OAuth token endpoint, Google Play's reviews API
(androidpublisher v3) and Business Profile's reviews API (v4).

Built from Google's documented shapes (../shared/data/payloads/google_play and google_business_profile:
the reference pages and their examples; no recorded 200 page exists for Business Profile): the list
envelopes, the paging tokens, the error envelope {"error": {"code", "message", "errors", "status"}}.
Each fake keeps the replies it saved, so `find_reply` can look them up, and can answer a reply too
late (`slow_s`), which is how the timeout tests make a client give up on a request that did land.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from monitor.sources.google_auth import JWT_BEARER
from tests.support.http_replay import ReplayServer, Reply, Request

PACKAGE = "com.acme.app"
ACCOUNT = "1234567890"
LOCATION = "9876543210"
CLIENT_EMAIL = "grumble@acme-project.iam.gserviceaccount.com"
OAUTH = {
    "client_id": "1234.apps.googleusercontent.com",
    "client_secret": "GOCSPX-fake",
    "refresh_token": "1//0fake",
}


def _make_key() -> tuple[str, Any]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem, private.public_key()


PRIVATE_PEM, PUBLIC_KEY = _make_key()
SERVICE_ACCOUNT_JSON = json.dumps(
    {
        "type": "service_account",
        "project_id": "acme-project",
        "private_key_id": "kid-0001",
        "private_key": PRIVATE_PEM,
        "client_email": CLIENT_EMAIL,
        "token_uri": "https://oauth2.googleapis.com/token",
    }
)


def google_error(code: int, message: str | None, reason: str, status: str, domain: str = "global") -> Reply:
    """Google's error envelope, as the recorded bodies in ../shared/data/payloads/google_play show it."""
    body = {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
            "status": status,
        }
    }
    return Reply.json(body, code)


@dataclass
class FakeTokenEndpoint:
    """oauth2.googleapis.com/token: the JWT-bearer grant (checked against PUBLIC_KEY) and refresh tokens."""

    server: ReplayServer
    issued: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server.route("POST", "/token", self._token)

    @property
    def url(self) -> str:
        return f"{self.server.url}/token"

    def valid(self, request: Request) -> bool:
        return request.headers.get("authorization", "").removeprefix("Bearer ") in self.issued

    def _token(self, request: Request) -> Reply:
        form = request.form()
        if form.get("grant_type") == JWT_BEARER:
            try:
                jwt.decode(form["assertion"], PUBLIC_KEY, algorithms=["RS256"], audience=self.url)
            except jwt.PyJWTError as exc:
                return Reply.json({"error": "invalid_grant", "error_description": f"Invalid JWT: {exc}"}, 400)
        elif form.get("grant_type") == "refresh_token":
            if (
                form.get("refresh_token") != OAUTH["refresh_token"]
                or form.get("client_secret") != OAUTH["client_secret"]
            ):
                return Reply.json({"error": "invalid_grant", "error_description": "Bad Request"}, 400)
        else:
            return Reply.json({"error": "unsupported_grant_type"}, 400)
        token = f"ya29.fake-{len(self.issued) + 1}"
        self.issued.append(token)
        return Reply.json({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})


def unauthenticated() -> Reply:
    return google_error(
        401, "Request is missing required authentication credential.", "required", "UNAUTHENTICATED"
    )


@dataclass
class Saved:
    review_id: str
    text: str


# --- Google Play -----------------------------------------------------------------------------------------

PLAY_REVIEWS = re.compile(r"/androidpublisher/v3/applications/([^/]+)/reviews")
PLAY_REVIEW = re.compile(r"/androidpublisher/v3/applications/([^/]+)/reviews/([^/:]+)")
PLAY_REPLY = re.compile(r"/androidpublisher/v3/applications/([^/]+)/reviews/([^/]+):reply")


class FakeGooglePlay:
    """reviews.list / reviews.get / reviews.reply for the reviews `items()` returns, newest-modified first."""

    def __init__(self, server: ReplayServer, items: Callable[[], list[dict[str, Any]]] | None = None) -> None:
        self.server = server
        self.tokens = FakeTokenEndpoint(server)
        self._items = items or (lambda: self.reviews)
        self.reviews: list[dict[str, Any]] = []
        self.saved: list[Saved] = []
        self.slow_s = 0.0
        server.route("GET", PLAY_REVIEWS, self._list)
        server.route("GET", PLAY_REVIEW, self._get)
        server.route("POST", PLAY_REPLY, self._reply)

    def posts(self) -> list[Request]:
        return [r for r in self.server.requests if r.method == "POST" and PLAY_REPLY.fullmatch(r.path)]

    def _find(self, review_id: str) -> dict[str, Any] | None:
        return next((r for r in self._items() if r.get("reviewId") == review_id), None)

    def _with_reply(self, review: dict[str, Any]) -> dict[str, Any]:
        reply = next((s for s in reversed(self.saved) if s.review_id == review.get("reviewId")), None)
        if reply is None:
            return review
        comments = [c for c in review.get("comments", []) if "developerComment" not in c]
        developer = {"text": reply.text, "lastModified": {"seconds": "1796140800", "nanos": 0}}
        return {**review, "comments": [*comments, {"developerComment": developer}]}

    def _list(self, request: Request) -> Reply:
        if not self.tokens.valid(request):
            return unauthenticated()
        if PLAY_REVIEWS.fullmatch(request.path).group(1) != PACKAGE:  # type: ignore[union-attr]
            return google_error(404, "Package not found: " + request.path, "notFound", "NOT_FOUND")
        size = int(request.query.get("maxResults", 10))
        start = int(request.query.get("token") or 0)
        items = self._items()
        page = [self._with_reply(r) for r in items[start : start + size]]
        answer: dict[str, Any] = {"reviews": page} if page else {}
        if start + size < len(items):
            answer["tokenPagination"] = {"nextPageToken": str(start + size)}
        answer["pageInfo"] = {"totalResults": len(page), "resultPerPage": size, "startIndex": start}
        return Reply.json(answer)

    def _get(self, request: Request) -> Reply:
        if not self.tokens.valid(request):
            return unauthenticated()
        match = PLAY_REVIEW.fullmatch(request.path)
        review = self._find(unquote(match.group(2))) if match else None
        if review is None:
            return google_error(404, "No review found.", "notFound", "NOT_FOUND")
        return Reply.json(self._with_reply(review))

    def _reply(self, request: Request) -> Reply:
        if not self.tokens.valid(request):
            return unauthenticated()
        match = PLAY_REPLY.fullmatch(request.path)
        review_id = unquote(match.group(2)) if match else ""
        if self._find(review_id) is None:
            return google_error(404, "No review found.", "notFound", "NOT_FOUND")
        text = request.json().get("replyText") or ""
        if not text or len(text) > 350:
            return google_error(
                400, "Bad Reply Request: replyText is too long or missing", "badRequest", "INVALID_ARGUMENT"
            )
        self.saved.append(Saved(review_id, text))
        answer = Reply.json(
            {"result": {"replyText": text, "lastEdited": {"seconds": "1796140800", "nanos": 0}}}
        )
        return Reply(answer.status, answer.body, answer.headers, delay_s=self.slow_s)


# --- Google Business Profile -----------------------------------------------------------------------------

GBP_REVIEWS = re.compile(r"/v4/accounts/([^/]+)/locations/([^/]+)/reviews")
GBP_REVIEW = re.compile(r"/v4/accounts/([^/]+)/locations/([^/]+)/reviews/([^/]+)")
GBP_REPLY = re.compile(r"/v4/accounts/([^/]+)/locations/([^/]+)/reviews/([^/]+)/reply")


class FakeGoogleBusiness:
    """accounts.locations.reviews list / get / updateReply / deleteReply, newest-updated first."""

    def __init__(self, server: ReplayServer, items: Callable[[], list[dict[str, Any]]] | None = None) -> None:
        self.server = server
        self.tokens = FakeTokenEndpoint(server)
        self._items = items or (lambda: self.reviews)
        self.reviews: list[dict[str, Any]] = []
        self.saved: list[Saved] = []
        self.deleted: list[str] = []
        self.slow_s = 0.0
        server.route("GET", GBP_REVIEWS, self._list)
        server.route("GET", GBP_REVIEW, self._get)
        server.route("PUT", GBP_REPLY, self._reply)
        server.route("DELETE", GBP_REPLY, self._delete)

    def posts(self) -> list[Request]:
        return [r for r in self.server.requests if r.method == "PUT" and GBP_REPLY.fullmatch(r.path)]

    def _find(self, review_id: str) -> dict[str, Any] | None:
        return next((r for r in self._items() if r.get("reviewId") == review_id), None)

    def _with_reply(self, review: dict[str, Any]) -> dict[str, Any]:
        reply = next((s for s in reversed(self.saved) if s.review_id == review.get("reviewId")), None)
        if reply is None or review.get("reviewId") in self.deleted:
            return review
        return {**review, "reviewReply": {"comment": reply.text, "updateTime": "2026-11-30T12:00:00Z"}}

    def _list(self, request: Request) -> Reply:
        if not self.tokens.valid(request):
            return unauthenticated()
        match = GBP_REVIEWS.fullmatch(request.path)
        if match is None or (match.group(1), match.group(2)) != (ACCOUNT, LOCATION):
            return google_error(404, "Requested entity was not found.", "notFound", "NOT_FOUND")
        size = int(request.query.get("pageSize", 50))
        start = int(request.query.get("pageToken") or 0)
        items = self._items()
        page = [self._with_reply(r) for r in items[start : start + size]]
        answer: dict[str, Any] = {"reviews": page, "averageRating": 3.4, "totalReviewCount": len(items)}
        if start + size < len(items):
            answer["nextPageToken"] = str(start + size)
        return Reply.json(answer)

    def _get(self, request: Request) -> Reply:
        if not self.tokens.valid(request):
            return unauthenticated()
        match = GBP_REVIEW.fullmatch(request.path)
        review = self._find(unquote(match.group(3))) if match else None
        if review is None:
            return google_error(404, "Requested entity was not found.", "notFound", "NOT_FOUND")
        return Reply.json(self._with_reply(review))

    def _reply(self, request: Request) -> Reply:
        if not self.tokens.valid(request):
            return unauthenticated()
        match = GBP_REPLY.fullmatch(request.path)
        review_id = unquote(match.group(3)) if match else ""
        if self._find(review_id) is None:
            return google_error(404, "Requested entity was not found.", "notFound", "NOT_FOUND")
        comment = request.json().get("comment") or ""
        if not comment or len(comment.encode("utf-8")) > 4096:
            return google_error(
                400, "Request contains an invalid argument.", "badRequest", "INVALID_ARGUMENT"
            )
        self.saved.append(Saved(review_id, comment))
        if review_id in self.deleted:
            self.deleted.remove(review_id)
        answer = Reply.json({"comment": comment, "updateTime": "2026-11-30T12:00:00Z"})
        return Reply(answer.status, answer.body, answer.headers, delay_s=self.slow_s)

    def _delete(self, request: Request) -> Reply:
        if not self.tokens.valid(request):
            return unauthenticated()
        match = GBP_REPLY.fullmatch(request.path)
        review_id = unquote(match.group(3)) if match else ""
        if self._find(review_id) is None:
            return google_error(404, "Requested entity was not found.", "notFound", "NOT_FOUND")
        self.deleted.append(review_id)
        return Reply.json({})
