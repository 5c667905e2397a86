"""Chatwoot, Zammad and FreeScout as loopback servers (tests/support/http_replay.py), answering in the
shapes of their documented examples in ../shared/data/payloads/ (each answer names its file), and
keeping what was created, so a retry can be shown to find it rather than create a second.

`late_creates` makes the next create requests be recorded and then answered too late for the client's
timeout: the helpdesk made the conversation, the client never heard.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.cassettes import PAYLOADS
from tests.support.http_replay import ReplayServer, Reply, Request

CHATWOOT = PAYLOADS / "chatwoot"
ZAMMAD = PAYLOADS / "zammad"
FREESCOUT = PAYLOADS / "freescout"
TOKEN = "test-api-token-0123456789"
SECRET = "test-webhook-secret"
LATE_S = 1.0  # longer than the clients' timeout in these tests (0.2 s)


def document(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class Fake:
    server: ReplayServer
    late_creates: int = 0
    created: list[dict[str, Any]] = field(default_factory=list)

    def _late(self, reply: Reply) -> Reply:
        if self.late_creates <= 0:
            return reply
        self.late_creates -= 1
        return Reply(reply.status, reply.body, reply.headers, delay_s=LATE_S)

    def creates(self, path: str) -> list[Request]:
        return [r for r in self.server.requests if r.method == "POST" and r.path == path]


class FakeChatwoot(Fake):
    """Chatwoot's application API for account 1, inbox 7 (an API channel)."""

    ACCOUNT = 1
    INBOX = 7
    PREFIX = f"/api/v1/accounts/{ACCOUNT}"

    def __init__(self, server: ReplayServer) -> None:
        super().__init__(server)
        self.contacts: list[dict[str, Any]] = []
        p = self.PREFIX
        server.route("GET", f"{p}/contacts/search", self._search_contacts)
        server.route("POST", f"{p}/contacts", self._create_contact)
        server.route("POST", _pattern(rf"{p}/contacts/\d+/contact_inboxes"), self._contact_inbox)
        server.route("POST", f"{p}/conversations", self._create_conversation)
        server.route("GET", f"{p}/conversations", self._list_conversations)

    def _authorized(self, request: Request) -> Reply | None:
        if request.headers.get("api_access_token") != TOKEN:
            # The shape of bad_request_error in the swagger (401 on every application endpoint).
            return Reply.json({"errors": ["You need to sign in or sign up before continuing."]}, status=401)
        return None

    def _search_contacts(self, request: Request) -> Reply:
        # contacts_list_response of the swagger subset: {"meta": ..., "payload": [contact_list_item]}.
        q = request.query.get("q", "")
        found = [c for c in self.contacts if q and q in (c["identifier"] or "")]
        return self._authorized(request) or Reply.json({"meta": {"count": len(found)}, "payload": found})

    def _create_contact(self, request: Request) -> Reply:
        refused = self._authorized(request)
        if refused:
            return refused
        sent = request.json()
        contact = {
            "id": 100 + len(self.contacts),
            "name": sent.get("name"),
            "email": None,
            "identifier": sent.get("identifier"),
            "additional_attributes": sent.get("additional_attributes", {}),
            "custom_attributes": {},
            "contact_inboxes": [],
        }
        self.contacts.append(contact)
        # The envelope real servers send (SOURCE.md: contacts/create.json.jbuilder), not the swagger's.
        contact_inbox = {"source_id": str(uuid.uuid4()), "inbox": {"id": sent["inbox_id"], "name": "Social"}}
        return Reply.json({"payload": {"contact": contact, "contact_inbox": contact_inbox}})

    def _contact_inbox(self, request: Request) -> Reply:
        # contact_inboxes of the swagger subset: {"source_id", "inbox"}.
        sent = request.json()
        inbox = {"id": sent["inbox_id"], "name": "Social", "channel_type": "Channel::Api"}
        return self._authorized(request) or Reply.json({"source_id": sent.get("source_id"), "inbox": inbox})

    def _create_conversation(self, request: Request) -> Reply:
        refused = self._authorized(request)
        if refused:
            return refused
        sent = request.json()
        # The full conversation object real servers answer with (SOURCE.md), in the shape of
        # official-doc_webhook_conversation_status_changed.json.
        conversation = document(CHATWOOT / "official-doc_webhook_conversation_status_changed.json")
        conversation.pop("event")
        number = 500 + len(self.created)
        message = dict(conversation["messages"][0], id=9000 + number, content=sent["message"]["content"])
        message.update(conversation_id=number, message_type=1, content_type="text", content_attributes={})
        conversation.update(
            id=number,
            inbox_id=sent["inbox_id"],
            status=sent.get("status", "open"),
            channel="Channel::Api",
            additional_attributes=sent.get("additional_attributes", {}),
            custom_attributes=sent.get("custom_attributes", {}),
            messages=[message],
        )
        conversation["contact_inbox"].update(source_id=sent["source_id"], contact_id=sent["contact_id"])
        self.created.append(conversation)
        return self._late(Reply.json(conversation))

    def _list_conversations(self, request: Request) -> Reply:
        # conversation_list of the swagger subset: {"data": {"meta": ..., "payload": [...]}}; `q`
        # matches message text.
        q = request.query.get("q", "")
        found = [c for c in self.created if q in json.dumps(c["messages"])]
        meta = {"mine_count": 0, "unassigned_count": len(found), "assigned_count": 0, "all_count": len(found)}
        return self._authorized(request) or Reply.json({"data": {"meta": meta, "payload": found}})


class FakeZammad(Fake):
    """Zammad's ticket API."""

    def __init__(self, server: ReplayServer) -> None:
        super().__init__(server)
        server.route("POST", "/api/v1/tickets", self._create)
        server.route("GET", "/api/v1/tickets/search", self._search)

    def _authorized(self, request: Request) -> Reply | None:
        if request.headers.get("authorization") != f"Token token={TOKEN}":
            return Reply.json({"error": "authentication failed"}, status=401)
        return None

    def _create(self, request: Request) -> Reply:
        refused = self._authorized(request)
        if refused:
            return refused
        sent = request.json()
        # official-doc_POST-api-v1-tickets_201.json, with this ticket's id, number and title.
        ticket = document(ZAMMAD / "official-doc_POST-api-v1-tickets_201.json")
        number = 19 + len(self.created)
        ticket.update(id=number, number=str(22000 + number), title=sent["title"])
        self.created.append(ticket)
        return self._late(Reply.json(ticket, status=201))

    def _search(self, request: Request) -> Reply:
        query = request.query.get("query", "")
        found = [t for t in self.created if query and query in t["title"]]
        return self._authorized(request) or Reply.json(found)


class FakeFreeScout(Fake):
    """FreeScout's API & Webhooks module."""

    def __init__(self, server: ReplayServer) -> None:
        super().__init__(server)
        server.route("POST", "/api/conversations", self._create)
        server.route("GET", "/api/conversations", self._list)

    def _authorized(self, request: Request) -> Reply | None:
        if request.headers.get("x-freescout-api-key") != TOKEN:
            return Reply.json({"message": "API Key is either not provided or not valid"}, status=401)
        return None

    def _create(self, request: Request) -> Reply:
        refused = self._authorized(request)
        if refused:
            return refused
        sent = request.json()
        # The conversation object of official-doc_conversation-object_GET-conversation_and_webhook-body.json.
        conversation = document(
            FREESCOUT / "official-doc_conversation-object_GET-conversation_and_webhook-body.json"
        )
        number = 35 + len(self.created)
        conversation.update(id=number, number=number + 100, subject=sent["subject"], status=sent["status"])
        conversation["mailboxId"] = sent["mailboxId"]
        conversation["customer"]["email"] = sent["customer"]["email"]
        self.created.append(conversation)
        # official-doc_POST-api-conversations_201.http: 201, empty body, the id in Resource-ID.
        return self._late(Reply(201, b"", {"Resource-ID": str(number)}))

    def _list(self, request: Request) -> Reply:
        email = request.query.get("customerEmail")
        found = [c for c in reversed(self.created) if c["customer"]["email"] == email]
        page = {"size": len(found), "totalElements": len(found), "totalPages": 1, "number": 1}
        return self._authorized(request) or Reply.json({"_embedded": {"conversations": found}, "page": page})


def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


# --- webhook deliveries, signed as each helpdesk signs them ---------------------------------------------


def chatwoot_delivery(
    conversation_id: str, status: str, secret: str = SECRET, at: float | None = None
) -> tuple[dict[str, str], bytes]:
    """official-doc_webhook_conversation_status_changed.json for our conversation, signed per
    official-doc_webhook-signature_X-Chatwoot-Signature.txt (compact JSON, as Chatwoot sends)."""
    body = document(CHATWOOT / "official-doc_webhook_conversation_status_changed.json")
    body.update(id=int(conversation_id), status=status)
    raw = json.dumps(body, separators=(",", ":")).encode()
    stamp = str(int(time.time() if at is None else at))
    signature = hmac.new(secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Chatwoot-Timestamp": stamp,
        "X-Chatwoot-Signature": f"sha256={signature}",
        "X-Chatwoot-Delivery": str(uuid.uuid4()),
    }
    return headers, raw


def zammad_delivery(ticket_id: str, state: str, secret: str = SECRET) -> tuple[dict[str, str], bytes]:
    """official-doc_webhook_default-payload_regular.json for our ticket, signed per
    official-doc_webhook_headers-and-signature.txt (X-Hub-Signature: sha1=<hex>)."""
    body = document(ZAMMAD / "official-doc_webhook_default-payload_regular.json")
    body["ticket"] = copy.deepcopy(body["ticket"])
    body["ticket"].update(id=int(ticket_id), state=state, updated_at=f"2026-11-01T12:00:{len(state):02d}Z")
    raw = json.dumps(body, separators=(",", ":")).encode()
    signature = hmac.new(secret.encode(), raw, hashlib.sha1).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Zammad User Agent",
        "X-Zammad-Trigger": "grumble status",
        "X-Zammad-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature": f"sha1={signature}",
    }
    return headers, raw


def freescout_delivery(
    conversation_id: str, status: str, secret: str = SECRET
) -> tuple[dict[str, str], bytes]:
    """The conversation object (official-doc_conversation-object_GET-conversation_and_webhook-body.json)
    as a convo.status webhook, signed as official-doc_webhooks_events-and-signature.txt says receivers
    verify it (base64 HMAC-SHA1: unverified against the closed module)."""
    body = document(FREESCOUT / "official-doc_conversation-object_GET-conversation_and_webhook-body.json")
    body.update(id=int(conversation_id), status=status, updatedAt=f"2026-11-01T12:00:{len(status):02d}Z")
    raw = json.dumps(body).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha1).digest()).decode()
    headers = {
        "Content-Type": "application/json",
        "X-FreeScout-Event": "convo.status",
        "X-FreeScout-Signature": signature,
    }
    return headers, raw
