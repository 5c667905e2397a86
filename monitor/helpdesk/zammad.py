"""Zammad: a ticket in the configured group, its customer the configured placeholder (sent as
`customer_id: "guess:<email>"`, which Zammad finds or creates, or a user id), the mention as its first
article, a note (type "note", not internal, so agents see it as the customer's words).

The request follows Zammad's documented example (../shared/data/payloads/zammad/
official-doc_POST-api-v1-tickets_request.json) and the answer is read as its 201 example. Auth is
`Authorization: Token token=<token>`. The marker is in the ticket's title, so a retry finds the ticket
with GET /api/v1/tickets/search (a title search works with and without Elasticsearch).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from monitor.config.helpdesk import HelpdeskAccount
from monitor.errors import HelpdeskUnconfirmed
from monitor.helpdesk.base import Caller, Handoff, RemoteRef, build_client, created, remote_id

NAME = "zammad"


class Zammad:
    name = NAME

    def __init__(self, account: HelpdeskAccount, client: httpx.Client | None = None) -> None:
        self.account = account
        auth = {"Authorization": f"Token token={account.token}"}
        self.caller = Caller(NAME, client or build_client(account, auth), account.token)

    def url(self, ticket_id: str) -> str:
        return f"{self.account.base_url}/#ticket/zoom/{ticket_id}"

    def customer(self) -> str | int:
        customer = self.account.customer or ""
        return int(customer) if customer.isdigit() else f"guess:{customer}"

    def create(self, handoff: Handoff) -> RemoteRef:
        answer = self.caller.json(
            "POST",
            "/api/v1/tickets",
            creating=True,
            json={
                "title": handoff.subject,
                "group": self.account.group,
                "customer_id": self.customer(),
                "article": {
                    "subject": handoff.subject,
                    "body": handoff.body(),
                    "content_type": "text/plain",
                    "type": "note",
                    "internal": False,
                },
            },
        )
        ticket_id = remote_id(created(NAME, answer, "the new ticket").get("id"))
        if ticket_id is None:
            raise HelpdeskUnconfirmed(NAME, "the new ticket's answer has no id; looking for it next time")
        return RemoteRef(ticket_id, self.url(ticket_id))

    def find(self, handoff: Handoff) -> RemoteRef | None:
        data = self.caller.json(
            "GET", "/api/v1/tickets/search", params={"query": handoff.marker, "expand": "true", "limit": 10}
        )
        for ticket in _tickets(data):
            ticket_id = remote_id(ticket.get("id"))
            if ticket_id is not None and handoff.marker in str(ticket.get("title") or ""):
                return RemoteRef(ticket_id, self.url(ticket_id))
        return None


def _tickets(data: Any) -> list[Mapping[str, Any]]:
    """Search answers come as a list of tickets (expand=true), or as {"tickets": [ids], "assets":
    {"Ticket": {id: ticket}}} (without it, and on older versions)."""
    if isinstance(data, list):
        return [ticket for ticket in data if isinstance(ticket, Mapping)]
    if not isinstance(data, Mapping):
        return []
    assets = data.get("assets", {}).get("Ticket", {}) if isinstance(data.get("assets"), Mapping) else {}
    found = [assets.get(str(ticket_id)) for ticket_id in data.get("tickets") or []]
    return [ticket for ticket in found if isinstance(ticket, Mapping)]
