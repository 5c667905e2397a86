"""Handing a mention's case to a helpdesk, exactly once per mention and helpdesk.

Modelled on posting a reply (monitor/respond/posting.py): intent recorded, network call, outcome
recorded, and a lost answer settled by finding.

1. `send_to_helpdesk` opens the mention's case if it has none (the helpdesk's status comes back to it),
   then claims the (mention, helpdesk) link in its own transaction before any request: a new link is
   inserted as "sending" with a fresh marker (unique per mention and helpdesk, so of two clicks or two
   processes one inserts, the other is told it is being sent); an old one moves to "sending" by
   compare-and-set. "sending" is on disk before the request leaves.
2. The client sends one create request chain and never retries it: a timeout, a 5xx or an unreadable
   answer leaves the link "unconfirmed" (it may exist), a refusal "failed" with the helpdesk's words.
3. A link left "unconfirmed", or "sending" past its lease (a crash between the request and the record),
   is claimed again the same way and then looked for on the helpdesk by its marker first: found, it is
   recorded as sent and nothing is created; not found, it is created with the same marker.
4. The scheduler (rules.py) tries failed and unconfirmed links again after a backoff (monitor/backoff.py),
   up to MAX_AUTOMATIC_ATTEMPTS; a refusal (bad token, unknown inbox) waits for a person.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from monitor.backoff import Backoff
from monitor.config.settings import ResponderSettings
from monitor.errors import HelpdeskBusy, HelpdeskError, HelpdeskRejected, HelpdeskUnconfirmed
from monitor.helpdesk.base import Handoff, Helpdesk, RemoteRef
from monitor.mention import utcnow
from monitor.ranking import priority_from_key
from monitor.respond.cases import open_case
from monitor.store.helpdesk_links import (
    HelpdeskLink,
    get_link,
    handoff_facts,
    insert_link,
    load_link,
    set_link_if,
    update_link,
)
from monitor.store.triage import record_event

log = logging.getLogger(__name__)

# A "sending" link older than this is taken to be left by a crashed process and may be claimed again.
SENDING_LEASE = timedelta(minutes=5)
# The scheduler's retries of a hand-off that did not go through, and how many it makes by itself.
RETRY = Backoff(base=timedelta(minutes=1), cap=timedelta(hours=1))
MAX_AUTOMATIC_ATTEMPTS = 8
EVENT = "helpdesk"  # the mention_events kind: before/after say the link's state


def new_marker() -> str:
    """One word of letters and digits, so a helpdesk's search (Elasticsearch, SQL LIKE) finds it whole."""
    return f"grumble{secrets.token_hex(8)}"


@dataclass(frozen=True)
class _Claim:
    link: HelpdeskLink  # as it is after the claim
    recovering: bool  # an earlier attempt may have created it: look on the helpdesk first
    done: bool = False  # already sent: nothing to do


def send_to_helpdesk(
    engine: Engine,
    mention_id: int,
    helpdesk: Helpdesk,
    actor: str,
    responder: ResponderSettings,
    now: datetime | None = None,
    lease: timedelta = SENDING_LEASE,
    retry: Backoff = RETRY,
) -> HelpdeskLink:
    """Hand the mention to `helpdesk` (see the module docstring). Returns the link as recorded: sent
    (remote_id, remote_url), unconfirmed or failed (error). Raises HelpdeskBusy while another caller
    is sending it."""
    now = now or utcnow()
    open_case(engine, mention_id, actor, responder, now)
    claim = _claim(engine, mention_id, helpdesk.name, actor, now, lease)
    if claim.done:
        return claim.link
    link = claim.link
    handoff = _handoff(engine, mention_id, link.marker, now)
    if claim.recovering:
        try:
            found = helpdesk.find(handoff)
        except HelpdeskError as exc:
            message = f"could not look for the earlier attempt, so nothing was created: {exc}"
            return _finish(engine, link, "unconfirmed", actor, now, message, retry)
        if found is not None:
            log.info("%s: mention %d's earlier attempt had made %s", helpdesk.name, mention_id, found.url)
            return _sent(engine, link, actor, now, found, "found on the helpdesk; not created again")
    try:
        made = helpdesk.create(handoff)
    except HelpdeskUnconfirmed as exc:
        log.warning("mention %d: %s", mention_id, exc)
        return _finish(engine, link, "unconfirmed", actor, now, str(exc), retry)
    except HelpdeskRejected as exc:
        log.warning("mention %d: %s", mention_id, exc)
        return _finish(engine, link, "failed", actor, now, str(exc), None)
    except HelpdeskError as exc:
        log.warning("mention %d: %s", mention_id, exc)
        return _finish(engine, link, "failed", actor, now, str(exc), retry)
    except Exception as exc:
        # Unknown: it may have been created. Recorded as unconfirmed, so the next try looks first.
        message = f"unexpected {type(exc).__name__}: {exc}; the next attempt looks on the helpdesk first"
        log.exception("mention %d: unexpected error handing it to %s", mention_id, helpdesk.name)
        _finish(engine, link, "unconfirmed", actor, now, message, retry)
        raise
    log.info("mention %d handed to %s: %s", mention_id, helpdesk.name, made.url)
    return _sent(engine, link, actor, now, made, made.url)


def _claim(
    engine: Engine, mention_id: int, helpdesk: str, actor: str, now: datetime, lease: timedelta
) -> _Claim:
    """Take the (mention, helpdesk) link for this caller: "sending" is written before any request."""
    with engine.begin() as connection:
        link = get_link(connection, mention_id, helpdesk)
        if link is None:
            inserted = insert_link(
                connection,
                {
                    "mention_id": mention_id,
                    "helpdesk": helpdesk,
                    "marker": new_marker(),
                    "state": "sending",
                    "attempts": 1,
                    "claimed_at": now,
                    "requested_by": actor,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            if not inserted:
                raise HelpdeskBusy(helpdesk, "this mention is being sent by another click or process")
            record_event(connection, mention_id, EVENT, None, f"{helpdesk} sending", actor, now, "attempt 1")
            created = get_link(connection, mention_id, helpdesk)
            assert created is not None
            return _Claim(created, recovering=False)
        if link.sent:
            return _Claim(link, recovering=False, done=True)
        if link.state == "sending" and link.claimed_at is not None and link.claimed_at + lease > now:
            raise HelpdeskBusy(
                helpdesk,
                f"this mention is being sent (since {link.claimed_at:%H:%M:%S} UTC); if that attempt died, "
                f"send again after {link.claimed_at + lease:%H:%M:%S} UTC, which looks on {helpdesk} first",
            )
        attempt = link.attempts + 1
        if not set_link_if(
            connection,
            link.id,
            (link.state,),
            at_attempt=link.attempts,
            state="sending",
            attempts=attempt,
            claimed_at=now,
            next_attempt_at=None,
            updated_at=now,
        ):
            raise HelpdeskBusy(helpdesk, "this mention is being sent by another click or process")
        # "failed" means the helpdesk refused or was not reached: nothing of it exists there.
        recovering = link.state != "failed"
        note = f"attempt {attempt}" + (
            f"; looking on {helpdesk} for the earlier attempt first" if recovering else ""
        )
        record_event(
            connection, mention_id, EVENT, f"{helpdesk} {link.state}", f"{helpdesk} sending", actor, now, note
        )
        return _Claim(load_link(connection, link.id), recovering=recovering)


def _handoff(engine: Engine, mention_id: int, marker: str, now: datetime) -> Handoff:
    with engine.connect() as connection:
        facts = handoff_facts(connection, mention_id)
    return Handoff(
        mention_id=mention_id,
        marker=marker,
        source=facts.source,
        text=facts.text,
        title=facts.title,
        author=facts.author,
        url=facts.url,
        created_at=facts.created_at,
        rating=facts.rating,
        label=facts.label,
        negative=facts.negative,
        neutral=facts.neutral,
        positive=facts.positive,
        priority=priority_from_key(facts.rank_key, now),
    )


def _finish(
    engine: Engine,
    link: HelpdeskLink,
    state: str,
    actor: str,
    now: datetime,
    note: str,
    retry: Backoff | None,
) -> HelpdeskLink:
    """Record a failed or unconfirmed attempt, while this attempt still holds the link."""
    automatic = retry is not None and link.attempts < MAX_AUTOMATIC_ATTEMPTS
    next_attempt_at = now + retry.delay(link.attempts) if retry is not None and automatic else None
    with engine.begin() as connection:
        if not set_link_if(
            connection,
            link.id,
            ("sending",),
            at_attempt=link.attempts,
            state=state,
            error=note,
            next_attempt_at=next_attempt_at,
            updated_at=now,
        ):
            log.warning(
                "%s link %d: %s not recorded: a later attempt took over", link.helpdesk, link.id, state
            )
            return load_link(connection, link.id)
        record_event(
            connection,
            link.mention_id,
            EVENT,
            f"{link.helpdesk} sending",
            f"{link.helpdesk} {state}",
            actor,
            now,
            note,
        )
        return load_link(connection, link.id)


def _sent(
    engine: Engine, link: HelpdeskLink, actor: str, now: datetime, made: RemoteRef, note: str
) -> HelpdeskLink:
    """Record the conversation or ticket made: a fact, recorded whoever holds the link now."""
    with engine.begin() as connection:
        current = load_link(connection, link.id)
        if current.sent:
            if current.remote_id != made.id:
                log.error(
                    "%s: mention %d handed over again as %s; first as %s",
                    link.helpdesk,
                    link.mention_id,
                    made.id,
                    current.remote_id,
                )
            return current
        values: dict[str, Any] = {"remote_id": made.id, "remote_url": made.url, "sent_at": now, "error": None}
        update_link(connection, link.id, state="sent", next_attempt_at=None, updated_at=now, **values)
        record_event(
            connection,
            link.mention_id,
            EVENT,
            f"{link.helpdesk} {current.state}",
            f"{link.helpdesk} sent",
            actor,
            now,
            note,
        )
        return load_link(connection, link.id)
