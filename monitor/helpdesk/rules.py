"""Hand-offs nobody clicked: `[[helpdesk.rules]]` applied to newly scored mentions, the scheduler's
retries of hand-offs that did not go through, and a selection handed over at once (the bulk action).

Each goes through `send_to_helpdesk`, so a mention reaches a helpdesk once whoever asks and however
often: the link is unique per (mention, helpdesk), and a rule never picks a mention that has one.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from monitor.config.helpdesk import HelpdeskSettings
from monitor.config.settings import ResponderSettings
from monitor.errors import GrumbleError, HelpdeskBusy
from monitor.helpdesk.handoff import SENDING_LEASE, send_to_helpdesk
from monitor.helpdesk.registry import Helpdesks
from monitor.mention import utcnow
from monitor.ranking import now_offset
from monitor.store.helpdesk_links import HelpdeskLink, due_links, rule_matches

log = logging.getLogger(__name__)

RULES_ACTOR = "helpdesk rules"
RETRY_ACTOR = "scheduler"
# Rules look at mentions scored this recently, as the responder rules do.
RULE_WINDOW = timedelta(days=2)


def apply_helpdesk_rules(
    engine: Engine,
    settings: HelpdeskSettings,
    helpdesks: Helpdesks,
    responder: ResponderSettings,
    now: datetime | None = None,
    limit: int = 200,
) -> list[HelpdeskLink]:
    """Hand each recently scored open mention that a rule matches to that rule's helpdesk. Returns the
    links it made or tried (sent, unconfirmed or failed)."""
    now = now or utcnow()
    handled: list[HelpdeskLink] = []
    for rule in settings.rules:
        # priority >= min_priority, said of the stored key (monitor/ranking.py): key - offset >= ln(min).
        min_key = math.log(rule.min_priority) + now_offset(now) if rule.min_priority > 0 else None
        with engine.connect() as connection:
            matched = rule_matches(
                connection,
                rule.helpdesk,
                now - RULE_WINDOW,
                limit,
                source=rule.source,
                watch=rule.watch,
                verdict=rule.verdict,
                min_rank_key=min_key,
            )
        for mention_id in matched:
            link = _send(engine, mention_id, rule.helpdesk, helpdesks, RULES_ACTOR, responder, now)
            if link is not None:
                handled.append(link)
    return handled


def retry_handoffs(
    engine: Engine, helpdesks: Helpdesks, responder: ResponderSettings, now: datetime | None = None
) -> list[HelpdeskLink]:
    """Try again the hand-offs whose backoff is over (and those a crash left "sending")."""
    now = now or utcnow()
    tried = []
    for link in due_links(engine, now, SENDING_LEASE):
        if link.helpdesk not in helpdesks.settings.accounts:
            continue  # no longer configured: it waits for the helpdesk to come back, or for nobody
        again = _send(engine, link.mention_id, link.helpdesk, helpdesks, RETRY_ACTOR, responder, now)
        if again is not None:
            tried.append(again)
    return tried


@dataclass(frozen=True)
class BulkOutcome:
    mention_id: int
    link: HelpdeskLink | None
    error: str | None

    def describe(self) -> str:
        if self.link is None:
            return f"mention {self.mention_id}: {self.error}"
        if self.link.sent:
            return f"mention {self.mention_id}: {self.link.remote_url}"
        return f"mention {self.mention_id}: {self.link.state}: {self.link.error}"


def send_many(
    engine: Engine,
    mention_ids: Sequence[int],
    helpdesk: str,
    helpdesks: Helpdesks,
    actor: str,
    responder: ResponderSettings,
    now: datetime | None = None,
) -> list[BulkOutcome]:
    """The bulk action: hand each mention to `helpdesk`, one by one, each exactly once; a mention
    that cannot go now says why and the others go on."""
    outcomes = []
    client = helpdesks.get(helpdesk)
    for mention_id in mention_ids:
        try:
            link = send_to_helpdesk(engine, mention_id, client, actor, responder, now)
        except GrumbleError as exc:
            outcomes.append(BulkOutcome(mention_id, None, str(exc)))
            continue
        outcomes.append(BulkOutcome(mention_id, link, None))
    return outcomes


def _send(
    engine: Engine,
    mention_id: int,
    helpdesk: str,
    helpdesks: Helpdesks,
    actor: str,
    responder: ResponderSettings,
    now: datetime,
) -> HelpdeskLink | None:
    try:
        return send_to_helpdesk(engine, mention_id, helpdesks.get(helpdesk), actor, responder, now)
    except HelpdeskBusy as exc:
        log.info("mention %d: %s", mention_id, exc)
        return None
