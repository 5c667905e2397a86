"""FreeScout, through its API & Webhooks module: a conversation in the configured mailbox, its customer
the configured placeholder address, the mention as the customer's thread.

The request is built from the module's documented body parameters (../shared/data/payloads/freescout/
official-doc_POST-api-conversations_body-params.txt) and its answer read as the documented 201 (an
empty body, the new id in the `Resource-ID` header). `imported: true` keeps FreeScout from mailing the
placeholder customer an auto-reply. Auth is the `X-FreeScout-API-Key` header.

The marker is in the subject. A retry lists the mailbox's conversations of the placeholder customer
(GET /api/conversations with mailboxId and customerEmail, newest first: filters from the module's API
documentation, not among the stored payloads) and looks for the marker in their subjects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from monitor.config.helpdesk import HelpdeskAccount
from monitor.errors import HelpdeskUnconfirmed
from monitor.helpdesk.base import Caller, Handoff, RemoteRef, build_client, remote_id

NAME = "freescout"
# A hand-off is looked for among this many of the placeholder customer's newest conversations.
SEARCH_PAGE_SIZE = 100


class FreeScout:
    name = NAME

    def __init__(self, account: HelpdeskAccount, client: httpx.Client | None = None) -> None:
        self.account = account
        auth = {"X-FreeScout-API-Key": account.token}
        self.caller = Caller(NAME, client or build_client(account, auth), account.token)

    def url(self, conversation_id: str) -> str:
        return f"{self.account.base_url}/conversation/{conversation_id}"

    def create(self, handoff: Handoff) -> RemoteRef:
        customer = {"email": self.account.customer_email}
        if handoff.author:
            customer["firstName"] = handoff.author[:100]
        response = self.caller.call(
            "POST",
            "/api/conversations",
            creating=True,
            json={
                "type": "email",
                "mailboxId": self.account.mailbox_id,
                "subject": handoff.subject,
                "customer": customer,
                "threads": [{"type": "customer", "text": handoff.body(), "customer": customer}],
                "imported": True,
                "status": "active",
            },
        )
        conversation_id = remote_id(response.headers.get("resource-id"))
        if conversation_id is None:
            location = response.headers.get("location") or ""
            conversation_id = remote_id(location.rstrip("/").rsplit("/", 1)[-1]) if location else None
        if conversation_id is None:
            raise HelpdeskUnconfirmed(
                NAME,
                f"HTTP {response.status_code} without a Resource-ID or Location header; "
                "looking for it next time",
            )
        return RemoteRef(conversation_id, self.url(conversation_id))

    def find(self, handoff: Handoff) -> RemoteRef | None:
        data = self.caller.json(
            "GET",
            "/api/conversations",
            params={
                "mailboxId": self.account.mailbox_id,
                "customerEmail": self.account.customer_email,
                "sortField": "createdAt",
                "sortOrder": "desc",
                "pageSize": SEARCH_PAGE_SIZE,
            },
        )
        for conversation in _conversations(data):
            conversation_id = remote_id(conversation.get("id"))
            if conversation_id is not None and handoff.marker in str(conversation.get("subject") or ""):
                return RemoteRef(conversation_id, self.url(conversation_id))
        return None


def _conversations(data: Any) -> list[Mapping[str, Any]]:
    """The list's conversations, in its HAL envelope (`_embedded.conversations`) or bare."""
    if isinstance(data, Mapping):
        embedded = data.get("_embedded")
        data = embedded.get("conversations") if isinstance(embedded, Mapping) else None
    return [item for item in data or [] if isinstance(item, Mapping)] if isinstance(data, list) else []
