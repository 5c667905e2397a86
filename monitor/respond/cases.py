"""A case per mention: opened by hand or by `[[responder.rules]]`, assigned, tagged, noted, and moved
through its statuses (new, in_progress, waiting_for_approval, replied, resolved, dismissed).

A case's clock: `opened_at` is when the case was opened, while the clock (`clock_from`) runs from when
the mention reached us, since that is how long the customer has waited; the response and resolution
targets of `[responder]` fix its due times. Every change writes a `mention_events` row (who, what, when,
before, after): one audit trail. Status and the mention's triage change together, through
monitor/respond/transitions.py; replies are in replies.py and posting.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from monitor.config import ResponderRule, ResponderSettings
from monitor.errors import CaseError
from monitor.mention import utcnow
from monitor.respond.transitions import apply_transition
from monitor.store.cases import (
    Case,
    case_for_mention,
    case_opener,
    get_case,
    insert_case,
    mention_facts,
    uncased_scored_since,
    update_case,
    watches_of,
)
from monitor.store.triage import record_event

MAX_TAGS = 20
MAX_TAG_CHARS = 40
RULES_ACTOR = "rules"
# The note on a case opened by a rule that assigned it; monitor/team/ reads the assignee back from it.
_RULE_ASSIGNED = re.compile(r"assigned to (.+) by a rule")


def rule_assigned_note(assignee: str) -> str:
    return f"assigned to {assignee} by a rule"


def rule_assignee_in(note: str | None) -> str | None:
    """The assignee named in a rule-opened case's note, or None."""
    found = _RULE_ASSIGNED.fullmatch(note or "")
    return found.group(1) if found else None


def rule_assignee(
    rules: Sequence[ResponderRule], watches: list[str], source: str, label: str | None
) -> str | None:
    """The first matching rule's assignee."""
    for rule in rules:
        if rule.matches(watches, source, label):
            return rule.assignee
    return None


@dataclass(frozen=True)
class Opened:
    """What opening a case did: `new` False when someone had opened it already (a page drawn before
    they did still offered "Open a case"), with who did it, so the person can be told so."""

    case: Case
    new: bool
    opened_by: str | None


def open_case(
    engine: Engine, mention_id: int, actor: str, settings: ResponderSettings, now: datetime | None = None
) -> Case:
    """The mention's case, opened now if it has none (assigned by the first matching rule)."""
    return open_case_saying(engine, mention_id, actor, settings, now).case


def open_case_saying(
    engine: Engine, mention_id: int, actor: str, settings: ResponderSettings, now: datetime | None = None
) -> Opened:
    """`open_case`, saying whether this call opened it or found it open (and who opened it then)."""
    now = now or utcnow()
    with engine.begin() as connection:
        existing = case_for_mention(connection, mention_id)
        if existing is not None:
            return Opened(existing, False, case_opener(connection, mention_id))
        facts = mention_facts(connection, mention_id)
        assignee = rule_assignee(
            settings.rules, watches_of(connection, mention_id), facts.source, facts.label
        )
        clock_from = facts.collected_at
        inserted = insert_case(
            connection,
            {
                "mention_id": mention_id,
                "status": "new",
                "assignee": assignee,
                "tags": [],
                "opened_at": now,
                "clock_from": clock_from,
                "response_due_at": clock_from + timedelta(minutes=settings.response_target_minutes),
                "resolution_due_at": clock_from + timedelta(minutes=settings.resolution_target_minutes),
                "created_at": now,
                "updated_at": now,
            },
        )
        if inserted:
            note = rule_assigned_note(assignee) if assignee else None
            record_event(connection, mention_id, "case", None, "new", actor, now, note)
        case = case_for_mention(connection, mention_id)
        opener = actor if inserted else case_opener(connection, mention_id)
    assert case is not None
    return Opened(case, inserted, opener)


def apply_rules(
    engine: Engine,
    settings: ResponderSettings,
    now: datetime | None = None,
    window: timedelta = timedelta(days=2),
    limit: int = 1000,
) -> int:
    """Open and assign a case for each recently scored open mention that a rule matches. Returns how many.

    Run after scoring (the scheduler does), since rules may ask for a label."""
    if not settings.rules:
        return 0
    now = now or utcnow()
    opened = 0
    with engine.connect() as connection:
        candidates = [
            (row.id, watches_of(connection, row.id), row.source, row.label)
            for row in uncased_scored_since(connection, now - window, limit)
        ]
    for mention_id, watches, source, label in candidates:
        if rule_assignee(settings.rules, watches, source, label) is not None:
            open_case(engine, mention_id, RULES_ACTOR, settings, now)
            opened += 1
    return opened


def assign(
    engine: Engine, case_id: int, assignee: str | None, actor: str, now: datetime | None = None
) -> Case:
    now = now or utcnow()
    assignee = (assignee or "").strip() or None
    with engine.begin() as connection:
        case = get_case(connection, case_id)
        if case.assignee != assignee:
            update_case(connection, case_id, assignee=assignee, updated_at=now)
            record_event(connection, case.mention_id, "assign", case.assignee, assignee, actor, now)
        return get_case(connection, case_id)


def set_status(engine: Engine, case_id: int, status: str, actor: str, now: datetime | None = None) -> Case:
    """A person sets the case's status; resolving marks its mention handled, dismissing dismissed,
    reopening open (transitions.py)."""
    now = now or utcnow()
    with engine.begin() as connection:
        case = get_case(connection, case_id)
        apply_transition(connection, case.mention_id, "status", status, actor, now)
        return get_case(connection, case_id)


def triage(
    engine: Engine,
    mention_id: int,
    state: str,
    actor: str,
    now: datetime | None = None,
    note: str | None = None,
) -> None:
    """Mark a mention handled, dismissed or open again, and move its case along in the same transaction:
    handled resolves it, dismissed dismisses it, reopening a closed case puts it back in progress. So the
    inbox, the case and the digest never disagree about whether someone dealt with it."""
    now = now or utcnow()
    with engine.begin() as connection:
        apply_transition(connection, mention_id, "triage", state, actor, now, note)


def add_note(engine: Engine, case_id: int, text: str, actor: str, now: datetime | None = None) -> None:
    """An internal note: kept in the audit trail, never sent anywhere."""
    text = text.strip()
    if not text:
        raise CaseError("a note needs some text")
    now = now or utcnow()
    with engine.begin() as connection:
        case = get_case(connection, case_id)
        update_case(connection, case_id, updated_at=now)
        record_event(connection, case.mention_id, "note", None, None, actor, now, text)


def clean_tags(tags: Sequence[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        value = " ".join(str(tag).split())[:MAX_TAG_CHARS]
        if value and value.lower() not in (t.lower() for t in cleaned):
            cleaned.append(value)
    if len(cleaned) > MAX_TAGS:
        raise CaseError(f"a case takes at most {MAX_TAGS} tags; found {len(cleaned)}")
    return cleaned


def set_tags(
    engine: Engine, case_id: int, tags: Sequence[str], actor: str, now: datetime | None = None
) -> Case:
    now = now or utcnow()
    cleaned = clean_tags(tags)
    with engine.begin() as connection:
        case = get_case(connection, case_id)
        if list(case.tags) != cleaned:
            update_case(connection, case_id, tags=cleaned, updated_at=now)
            record_event(connection, case.mention_id, "tags", list(case.tags), cleaned, actor, now)
        return get_case(connection, case_id)
