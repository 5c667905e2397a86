"""Chatwoot, through its application API into an API-channel inbox: a contact for the mention's author
(found by our identifier, else created), a contact inbox, and a conversation whose first message is the
mention with its link, scores and author.

Requests follow Chatwoot's swagger (../shared/data/payloads/chatwoot/schema_application-swagger_*):
POST /contacts (answered as {"payload": {"contact", "contact_inbox"}} by real servers, per SOURCE.md,
or as the bare contact the swagger shows: both are read), GET /contacts/search, POST
/contacts/{id}/contact_inboxes, POST and GET /conversations. Auth is the `api_access_token` header.

The marker goes into the conversation's additional attributes and its first message; a retry finds the
conversation with the list's `q` search (which searches message text) and checks the marker is there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from monitor.config.helpdesk import HelpdeskAccount
from monitor.errors import HelpdeskUnconfirmed
from monitor.helpdesk.base import Caller, Handoff, RemoteRef, build_client, created, remote_id

NAME = "chatwoot"


class Chatwoot:
    name = NAME

    def __init__(self, account: HelpdeskAccount, client: httpx.Client | None = None) -> None:
        self.account = account
        self.caller = Caller(
            NAME, client or build_client(account, {"api_access_token": account.token}), account.token
        )
        self.prefix = f"/api/v1/accounts/{account.account_id}"

    def url(self, conversation_id: str) -> str:
        return (
            f"{self.account.base_url}/app/accounts/{self.account.account_id}/conversations/{conversation_id}"
        )

    def create(self, handoff: Handoff) -> RemoteRef:
        contact_id, source_id = self._contact_inbox(handoff)
        answer = self.caller.json(
            "POST",
            f"{self.prefix}/conversations",
            creating=True,
            json={
                "source_id": source_id,
                "inbox_id": self.account.inbox_id,
                "contact_id": contact_id,
                "status": "open",
                "additional_attributes": {
                    "grumble_ref": handoff.marker,
                    "grumble_source": handoff.source,
                    "grumble_link": handoff.url,
                },
                "custom_attributes": {
                    "grumble_verdict": handoff.label,
                    "grumble_priority": round(handoff.priority, 2),
                },
                "message": {"content": handoff.body()},
            },
        )
        conversation_id = remote_id(created(NAME, answer, "the new conversation").get("id"))
        if conversation_id is None:
            raise HelpdeskUnconfirmed(
                NAME, "the new conversation's answer has no id; looking for it next time"
            )
        return RemoteRef(conversation_id, self.url(conversation_id))

    def find(self, handoff: Handoff) -> RemoteRef | None:
        data = self.caller.json(
            "GET",
            f"{self.prefix}/conversations",
            params={
                "status": "all",
                "assignee_type": "all",
                "inbox_id": self.account.inbox_id,
                "q": handoff.marker,
            },
        )
        payload = data.get("data", {}).get("payload") if isinstance(data, Mapping) else None
        for conversation in payload if isinstance(payload, list) else []:
            conversation_id = remote_id(conversation.get("id")) if isinstance(conversation, Mapping) else None
            # The search matches message text; the marker must be this hand-off's, wherever it shows.
            if conversation_id is not None and handoff.marker in json.dumps(conversation):
                return RemoteRef(conversation_id, self.url(conversation_id))
        return None

    def _contact_inbox(self, handoff: Handoff) -> tuple[int | str, str]:
        """The author's contact (found by our identifier, else created) and a source id in our inbox."""
        identifier = f"grumble:{handoff.source}:{handoff.author or f'mention-{handoff.mention_id}'}"[:255]
        contact = self._find_contact(identifier)
        source_id = None
        if contact is None:
            answer = created(
                NAME,
                self.caller.json(
                    "POST",
                    f"{self.prefix}/contacts",
                    creating=True,
                    json={
                        "inbox_id": self.account.inbox_id,
                        "name": handoff.author or f"{handoff.source} author",
                        "identifier": identifier,
                        "additional_attributes": {"grumble_source": handoff.source},
                    },
                ),
                "the new contact",
            )
            payload = answer.get("payload", answer)
            payload = payload if isinstance(payload, Mapping) else {}
            contact = payload.get("contact", payload)
            contact_inbox = payload.get("contact_inbox")
            if isinstance(contact_inbox, Mapping):
                source_id = remote_id(contact_inbox.get("source_id"))
        contact_id = remote_id(contact.get("id")) if isinstance(contact, Mapping) else None
        if contact_id is None:
            raise HelpdeskUnconfirmed(NAME, "the contact's answer has no id; looking for it next time")
        if source_id is None:
            answer = created(
                NAME,
                self.caller.json(
                    "POST",
                    f"{self.prefix}/contacts/{contact_id}/contact_inboxes",
                    creating=True,
                    json={"inbox_id": self.account.inbox_id, "source_id": f"grumble-{handoff.marker}"},
                ),
                "the contact inbox",
            )
            source_id = remote_id(answer.get("source_id")) or f"grumble-{handoff.marker}"
        return int(contact_id) if contact_id.isdigit() else contact_id, source_id

    def _find_contact(self, identifier: str) -> Mapping[str, Any] | None:
        data = self.caller.json("GET", f"{self.prefix}/contacts/search", params={"q": identifier})
        payload = data.get("payload") if isinstance(data, Mapping) else None
        for contact in payload if isinstance(payload, list) else []:
            if isinstance(contact, Mapping) and contact.get("identifier") == identifier:
                return contact
        return None
