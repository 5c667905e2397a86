"""Grumble's signing against the Standard Webhooks published test vectors
(../shared/data/payloads/standard_webhooks/official-test-vectors_hmac-sha256_DERIVED.json: values copied
from the reference libraries' tests), and the must-fail cases refused by a receiver that verifies
with the reference library."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from monitor.config.webhooks import signing_key
from monitor.webhooks.signing import signature, signed_headers
from tests.conftest import REPO
from tests.webhooks.receiver import verify_by_hand

VECTORS: dict[str, Any] = json.loads(
    (
        REPO.parent / "shared/data/payloads/standard_webhooks/official-test-vectors_hmac-sha256_DERIVED.json"
    ).read_text()
)
SIGNED = VECTORS["valid"]


@pytest.mark.parametrize("vector", SIGNED, ids=[vector["name"] for vector in SIGNED])
def test_signature_matches_the_published_vector(vector: dict[str, str]) -> None:
    key = signing_key(vector["secret"])
    made = signature(key, vector["webhook-id"], int(vector["webhook-timestamp"]), vector["payload"].encode())
    assert made == vector["expected_signature"]
    headers = signed_headers(
        [key],
        vector["webhook-id"],
        datetime.fromtimestamp(int(vector["webhook-timestamp"]), UTC),
        vector["payload"].encode(),
    )
    assert headers == {
        "webhook-id": vector["webhook-id"],
        "webhook-timestamp": vector["webhook-timestamp"],
        "webhook-signature": vector["expected_signature"],
    }


def _headers(vector: dict[str, str], signature_header: str) -> dict[str, str]:
    return {
        "webhook-id": vector["webhook-id"],
        "webhook-timestamp": vector["webhook-timestamp"],
        "webhook-signature": signature_header,
    }


def _at(vector: dict[str, str]) -> datetime:
    return datetime.fromtimestamp(int(vector["webhook-timestamp"]), UTC)


@pytest.mark.parametrize("bad", VECTORS["invalid_signatures_must_fail"], ids=lambda bad: bad["source"][:40])
def test_must_fail_signatures_are_refused_and_never_made(bad: dict[str, str]) -> None:
    vector = SIGNED[0]
    with pytest.raises(WebhookVerificationError):
        verify_by_hand(
            vector["secret"],
            _headers(vector, bad["webhook-signature"]),
            vector["payload"].encode(),
            _at(vector),
        )
    key = signing_key(vector["secret"])
    assert (
        signature(key, vector["webhook-id"], int(vector["webhook-timestamp"]), vector["payload"].encode())
        != (bad["webhook-signature"])
    )


def test_the_valid_signature_among_decoys_verifies() -> None:
    vector = SIGNED[0]
    decoys = VECTORS["multiple_signatures"]["decoys_used_around_the_valid_one_python_js_go_ruby_php_csharp"]
    header = " ".join([decoys[0], vector["expected_signature"], decoys[1]])
    verify_by_hand(vector["secret"], _headers(vector, header), vector["payload"].encode(), _at(vector))
    with pytest.raises(WebhookVerificationError):
        verify_by_hand(
            vector["secret"], _headers(vector, " ".join(decoys)), vector["payload"].encode(), _at(vector)
        )


def test_a_timestamp_over_five_minutes_off_is_refused() -> None:
    vector = SIGNED[0]
    headers = _headers(vector, vector["expected_signature"])
    body = vector["payload"].encode()
    verify_by_hand(vector["secret"], headers, body, _at(vector).replace(second=0))
    for off in (-301, 301):
        later = datetime.fromtimestamp(int(vector["webhook-timestamp"]) + off, UTC)
        with pytest.raises(WebhookVerificationError):
            verify_by_hand(vector["secret"], headers, body, later)
    # The reference library checks against the real clock: the vector's 2021 timestamp is too old.
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(vector["secret"]).verify(body, headers)


def test_a_rotation_carries_one_signature_per_key_and_either_secret_verifies_now() -> None:
    new, old = SIGNED[0]["secret"], SIGNED[1]["secret"]
    body = b'{"type":"case.opened"}'
    headers = signed_headers([signing_key(new), signing_key(old)], "msg_1", datetime.now(UTC), body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (new, old):
        Webhook(secret).verify(body, headers)  # the reference library, against its own clock


def test_secret_forms_the_reference_libraries_accept() -> None:
    forms = VECTORS["secret_forms_accepted_by_python_tests"]
    prefixed, bare = forms["with_or_without_whsec_prefix"]
    assert signing_key(prefixed) == signing_key(bare)
    for unpadded in forms["unpadded_base64_accepted"]:
        assert signing_key(unpadded.split(" ")[0])
    for empty in forms["empty_secret_rejected"]:
        with pytest.raises(ValueError, match="empty"):
            signing_key(empty)
    with pytest.raises(ValueError, match="base64"):
        signing_key("whsec_not*base64!")
    with pytest.raises(ValueError, match="bytes"):
        signing_key("whsec_c2hvcnQ=")
