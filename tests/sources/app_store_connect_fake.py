"""A fake App Store Connect API on the loopback ReplayServer, built from Apple's documentation.

No recording of a customerReviews listing with responses, of POST /v1/customerReviewResponses or of
GET /v1/customerReviews/{id}/response exists (../shared/data/payloads/app_store_connect/SOURCE.md), so
the answers follow Apple's documented example of the listing (official-doc_GET-apps-id-customerReviews_*
.json: envelope, `links.next` with a cursor, `meta.paging`) and the OpenAPI schema for the rest
(CustomerReviewResponseV1Response, ErrorResponse). Errors use Apple's `errors` list; the 401 body is the
recorded NOT_AUTHORIZED one.

The server checks every request's bearer token for real: it verifies the ES256 signature with the public
half of the key the test made, the audience, the issuer, the key id in the header, and that the token
lives no longer than Apple's 20 minutes. A token that fails gets Apple's 401.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from monitor.sources import app_store_connect
from monitor.sources.base import SourceSettings
from monitor.sources.http import build_client
from tests.support.http_replay import ReplayServer, Reply, Request

ISSUER_ID = "57246542-96fe-1a63-e053-0824d011072a"
KEY_ID = "2X9R4HXF34"
APP_ID = "1234567890"
REVIEWS = re.compile(r"/v1/apps/([^/]+)/customerReviews")
RESPONSE_OF_REVIEW = re.compile(r"/v1/customerReviews/([^/]+)/response")
RESPONSES = "/v1/customerReviewResponses"
NOT_AUTHORIZED = {
    "errors": [
        {
            "status": "401",
            "code": "NOT_AUTHORIZED",
            "title": "Authentication credentials are missing or invalid.",
            "detail": "Provide a properly configured and signed bearer token, and make sure that it has not "
            "expired. Learn more about Generating Tokens for API Requests "
            "https://developer.apple.com/go/?id=api-generating-tokens",
        }
    ]
}


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def p8_text(key: ec.EllipticCurvePrivateKey) -> str:
    """The key as App Store Connect hands it out: PKCS#8 PEM (an AuthKey_<id>.p8 file)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def apple_error(status: int, code: str, title: str, detail: str) -> Reply:
    error = {"id": "5becf2db-2f12-4d6a-9dc2-6ceb33c683b4", "status": str(status), "code": code}
    return Reply.json({"errors": [{**error, "title": title, "detail": detail}]}, status)


@dataclass
class FakeAppStoreConnect:
    server: ReplayServer
    key: ec.EllipticCurvePrivateKey = field(default_factory=new_key)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    responses: dict[str, dict[str, Any]] = field(default_factory=dict)  # review id -> response resource
    slow_s: float = 0.0  # take the response, then answer this late
    refuse: Reply | None = None  # answer POSTs with this instead
    claims: list[dict[str, Any]] = field(default_factory=list)  # every verified token's claims
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.server.route("GET", REVIEWS, self._reviews)
        self.server.route("POST", RESPONSES, self._create)
        self.server.route("GET", RESPONSE_OF_REVIEW, self._response_of)

    # --- auth ---------------------------------------------------------------------------------------------

    def _refused(self, request: Request) -> Reply | None:
        """Apple's 401 for a token that is missing, badly signed, for someone else or too long-lived."""
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return Reply.json(NOT_AUTHORIZED, 401)
        token = auth.removeprefix("Bearer ")
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(
                token,
                self.key.public_key(),
                algorithms=["ES256"],
                audience="appstoreconnect-v1",
                issuer=ISSUER_ID,
                options={"require": ["iss", "aud", "iat", "exp"]},
            )
        except jwt.PyJWTError:
            return Reply.json(NOT_AUTHORIZED, 401)
        if header.get("kid") != KEY_ID or header.get("typ") != "JWT" or claims["exp"] - claims["iat"] > 1200:
            return Reply.json(NOT_AUTHORIZED, 401)
        self.claims.append(claims)
        return None

    # --- reading ------------------------------------------------------------------------------------------

    def _reviews(self, request: Request) -> Reply:
        refused = self._refused(request)
        if refused:
            return refused
        match = REVIEWS.fullmatch(request.path)
        assert match
        app_id = match.group(1)
        limit = int(request.query.get("limit", 50))
        start = int(request.query.get("cursor", "AQ.0").removeprefix("AQ.") or 0)
        territories = request.query.get("filter[territory]")
        items = [
            r
            for r in self.reviews
            if not territories or r.get("attributes", {}).get("territory") in territories.split(",")
        ]
        chunk = items[start : start + limit]
        base = f"{self.server.url}/v1/apps/{app_id}/customerReviews"
        kept = {k: v for k, v in request.query.items() if k != "cursor"}
        links: dict[str, str] = {"self": f"{base}?{urlencode(kept)}"}
        if start + limit < len(items):
            # Apple's next link keeps the request's parameters and adds the cursor (the documented example).
            links["next"] = f"{base}?{urlencode({'cursor': f'AQ.{start + limit}', **kept})}"
        answer: dict[str, Any] = {
            "data": [self._with_link(r) for r in chunk],
            "links": links,
            "meta": {"paging": {"total": len(items), "limit": limit}},
        }
        if "response" in request.query.get("include", "").split(","):
            ids = [r.get("id") for r in chunk if isinstance(r, dict)]
            answer["included"] = [self.responses[i] for i in ids if i in self.responses]
        return Reply.json(answer)

    def _with_link(self, review: Any) -> Any:
        if not isinstance(review, dict) or review.get("id") not in self.responses:
            return review
        response = self.responses[review["id"]]
        relationships = {"response": {"data": {"type": "customerReviewResponses", "id": response["id"]}}}
        return {**review, "relationships": relationships}

    # --- responses ----------------------------------------------------------------------------------------

    def posts(self) -> list[Request]:
        return [r for r in self.server.requests if r.method == "POST" and r.path == RESPONSES]

    def _create(self, request: Request) -> Reply:
        refused = self._refused(request)
        if refused:
            return refused
        if self.refuse is not None:
            return self.refuse
        data = request.json()["data"]
        assert data["type"] == "customerReviewResponses"
        review = data["relationships"]["review"]["data"]
        assert review["type"] == "customerReviews"
        if not any(r.get("id") == review["id"] for r in self.reviews):
            return apple_error(
                404,
                "NOT_FOUND",
                "The specified resource does not exist",
                f"There is no resource of type 'customerReviews' with id '{review['id']}'",
            )
        # "If a response already exists, this endpoint updates the response by overwriting it."
        old = self.responses.get(review["id"])
        resource = {
            "type": "customerReviewResponses",
            "id": old["id"] if old else f"resp-{next(self._ids)}",
            "attributes": {
                "responseBody": data["attributes"]["responseBody"],
                "lastModifiedDate": "2026-11-01T12:00:00-07:00",
                "state": "PENDING_PUBLISH",
            },
            "relationships": {"review": {"data": {"type": "customerReviews", "id": review["id"]}}},
        }
        self.responses[review["id"]] = resource
        link = f"{self.server.url}{RESPONSES}/{resource['id']}"
        return Reply(
            201,
            Reply.json({"data": {**resource, "links": {"self": link}}, "links": {"self": link}}).body,
            {"Content-Type": "application/json", "Location": link},
            delay_s=self.slow_s,
        )

    def _response_of(self, request: Request) -> Reply:
        refused = self._refused(request)
        if refused:
            return refused
        match = RESPONSE_OF_REVIEW.fullmatch(request.path)
        assert match
        resource = self.responses.get(match.group(1))
        if resource is None:
            return apple_error(
                404,
                "NOT_FOUND",
                "The specified resource does not exist",
                f"There is no resource of type 'customerReviewResponses' for review '{match.group(1)}'",
            )
        return Reply.json({"data": resource, "links": {"self": f"{self.server.url}{request.path}"}})

    def publish(self, review_id: str) -> None:
        """Apple's moderators let the response through: it shows on the App Store."""
        self.responses[review_id]["attributes"]["state"] = "PUBLISHED"

    def source(
        self, timeout_s: float = 5.0, max_backfill: int = 200, **options: Any
    ) -> app_store_connect.AppStoreConnectSource:
        settings = SourceSettings(
            "app_store_connect",
            base_url=self.server.url,
            timeout_s=timeout_s,
            max_backfill=max_backfill,
            options={"issuer_id": ISSUER_ID, "key_id": KEY_ID, "private_key": p8_text(self.key), **options},
        )
        return app_store_connect.AppStoreConnectSource(
            settings, build_client(settings, app_store_connect.DEFAULT_BASE_URL)
        )


def review(
    review_id: str,
    created: str,
    body: str,
    rating: int = 1,
    territory: str = "USA",
    title: str = "Acme review",
    nickname: str = "dana_k",
) -> dict[str, Any]:
    """A customerReviews resource shaped like Apple's documented example."""
    self_link = f"https://api.appstoreconnect.apple.com/v1/customerReviews/{review_id}"
    return {
        "type": "customerReviews",
        "id": review_id,
        "attributes": {
            "rating": rating,
            "title": title,
            "body": body,
            "reviewerNickname": nickname,
            "createdDate": created,
            "territory": territory,
        },
        "relationships": {
            "response": {
                "links": {"self": f"{self_link}/relationships/response", "related": f"{self_link}/response"}
            }
        },
        "links": {"self": self_link},
    }
