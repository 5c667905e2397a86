"""The helpdesks' webhooks, received at /hooks/<helpdesk> on the dashboard's server: verified
(inbound.py), de-duplicated, and a resolved or reopened conversation moves its case through the
transition table (monitor/respond/transitions.py: ("helpdesk", "resolved" / "reopened")).

The delivery's key, the case's move and the link's status are written in one transaction, so a crash
keeps none of them and the helpdesk's retry acts once; the same delivery again answers 200 and does
nothing. A refused call (unsigned 401, forged or stale 403) is logged with its reason and the caller's
address, and nothing is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from monitor.config.helpdesk import HelpdeskSettings
from monitor.helpdesk.inbound import SCHEMES, News, Refused, verified_news
from monitor.mention import utcnow
from monitor.respond.transitions import apply_transition
from monitor.store.cases import case_for_mention
from monitor.store.helpdesk_links import link_by_remote, record_delivery, set_delivery_outcome, update_link

log = logging.getLogger(__name__)

# Where the dashboard's server receives them: /hooks/chatwoot, /hooks/zammad, /hooks/freescout.
HOOKS_PREFIX = "/hooks/"
# Webhook bodies are conversation objects: far under this. A bigger body is refused before it is read whole.
MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True)
class Answer:
    status: int
    outcome: str


def receive(
    engine: Engine,
    settings: HelpdeskSettings,
    helpdesk: str,
    headers: dict[str, str],
    body: bytes,
    now: datetime | None = None,
    client: str | None = None,
) -> Answer:
    """Verify and act on one delivery (`headers` with lower-case names). Never raises for bad input."""
    now = now or utcnow()
    account = settings.accounts.get(helpdesk)
    try:
        if helpdesk in SCHEMES and account is None:
            raise Refused(404, f"{helpdesk} is not configured: add [helpdesk.{helpdesk}] to grumble.toml")
        news = verified_news(helpdesk, headers, body, account.webhook_secret if account else None, now)
    except Refused as refusal:
        log.warning("refused a %s webhook from %s: %s", helpdesk, client or "an unknown address", refusal)
        return Answer(refusal.status, str(refusal))
    outcome = _act(engine, helpdesk, news, now)
    log.info("%s webhook %s: %s", helpdesk, news.delivery_id or news.key[:12], outcome)
    return Answer(200, outcome)


def _act(engine: Engine, helpdesk: str, news: News, now: datetime) -> str:
    with engine.begin() as connection:
        if not record_delivery(
            connection, helpdesk, news.key, now, news.delivery_id, news.event, news.remote_id
        ):
            return "already received: nothing done again"
        link = None if news.remote_id is None else link_by_remote(connection, helpdesk, news.remote_id)
        if link is None:
            outcome = "ignored: not a conversation Grumble handed over"
        elif news.change is None:
            outcome = f"nothing to do: {news.event or 'event'} with status {news.status or 'none'}"
        else:
            update_link(connection, link.id, remote_status=news.status, updated_at=now)
            before = case_for_mention(connection, link.mention_id)
            note = f"{helpdesk} {news.status} {link.remote_url or link.remote_id}"
            after = apply_transition(
                connection, link.mention_id, "helpdesk", news.change, helpdesk, now, note
            )
            if before is not None and after is not None and before.status != after.status:
                outcome = (
                    f"{news.change} the case of mention {link.mention_id} ({before.status} -> {after.status})"
                )
            else:
                shown = after.status if after is not None else "no case"
                outcome = f"no change: the case of mention {link.mention_id} is {shown}"
        set_delivery_outcome(connection, helpdesk, news.key, outcome)
        return outcome


def hook_endpoint(
    settings: Callable[[], HelpdeskSettings], engine: Callable[[], Engine]
) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint for POST /hooks/{helpdesk}; config and engine are looked up per call (the
    dashboard's cached ones), so the server imports without a database."""

    async def hook(request: Request) -> Response:
        helpdesk = request.path_params["helpdesk"]
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return JSONResponse({"detail": "body too large"}, status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"detail": "body too large"}, status_code=413)
        headers = {name.lower(): value for name, value in request.headers.items()}
        client = request.client.host if request.client else None
        answer = await run_in_threadpool(receive, engine(), settings(), helpdesk, headers, body, None, client)
        return JSONResponse({"detail": answer.outcome}, status_code=answer.status)

    return hook
