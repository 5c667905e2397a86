"""Every kind of history event reads as a sentence, and every kind Grumble writes has its own."""

import datetime as dt
import re

from monitor.respond.history import SENTENCES, event_sentence
from monitor.store.triage import MentionEvent
from tests.conftest import REPO

AT = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


def event(
    action: str,
    before: str | None = None,
    after: str | None = None,
    note: str | None = None,
    actor: str = "Dana",
) -> MentionEvent:
    return MentionEvent(action, before, after, note, actor, AT)


def test_events_read_as_sentences() -> None:
    assert (
        event_sentence(event("reply_approve", "awaiting_approval", "approved")) == "Dana approved the reply."
    )
    assert event_sentence(
        event("reply_submit", "draft", "awaiting_approval", "waits for approval: priority 3.2 is at least 3")
    ) == ("Dana submitted the reply for approval: waits for approval: priority 3.2 is at least 3")
    assert event_sentence(event("triage", "open", "dismissed")) == "Dana marked the mention not relevant."
    assert event_sentence(event("status", "open", "resolved", "with the mention")) == (
        "Dana marked the case handled, along with the mention."
    )
    assert (
        event_sentence(event("status", "new", "in_progress"))
        == "Dana moved the case from new to in progress."
    )
    assert event_sentence(event("assign", None, "Lee")) == "Dana assigned the case to Lee."
    assert event_sentence(event("assign", "Lee", None)) == "Dana unassigned the case (was Lee)."
    assert event_sentence(event("case", None, "new", "assigned to Lee by a rule", actor="rules")) == (
        "The assignment rules opened a case: assigned to Lee by a rule"
    )
    assert event_sentence(event("note", note="called them back")) == "Dana added a note: called them back"
    assert event_sentence(event("relabel", "neutral", "negative")) == (
        "Dana relabelled the mention from neutral to negative."
    )


def test_an_unknown_kind_still_reads_as_a_sentence() -> None:
    assert event_sentence(event("sla_paused", "on", "off")) == "Dana changed sla paused from on to off."
    assert event_sentence(event("ping")) == "Dana changed ping."


def test_every_kind_grumble_records_has_its_own_sentence() -> None:
    # The writers of mention_events: a literal kind in each record_event call, or (posting.py) a name
    # picked from a table of "reply_..." kinds.
    writers = [*(REPO / "monitor" / "respond").glob("*.py"), REPO / "monitor" / "store" / "triage.py"]
    source = "\n".join(path.read_text(encoding="utf-8") for path in writers)
    recorded = set(re.findall(r"record_event\(\s*\w+,\s*[\w.]+,\s*\"(\w+)\"", source))
    recorded |= set(re.findall(r"\"(reply_\w+)\"", source))
    assert {"case", "status", "triage", "note", "relabel", "reply_posted", "reply_approve"} <= recorded
    assert recorded - set(SENTENCES) == set()
    for kind in recorded:
        sentence = event_sentence(event(kind, "draft", "approved"))
        assert "_" not in sentence and "->" not in sentence and sentence.startswith("Dana ")
