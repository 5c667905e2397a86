"""A mention's history as sentences people read ("dana approved the reply"), one per kind of event in
`mention_events`; every place that shows the history words it through `event_sentence`.

The kinds are written by monitor/respond/ (cases, replies, posting, transitions), by
monitor/store/triage.py (relabel) and by monitor/store/edits.py (the source's edits and deletions).
A kind not listed here (a newer version's, or a typo) still reads as a sentence, with its before and
after values."""

from __future__ import annotations

from collections.abc import Callable

from monitor.auth.users import shown_name
from monitor.respond.cases import RULES_ACTOR
from monitor.respond.reply_approval import approver_in_note, approver_words
from monitor.store.edits import SOURCE_ACTOR
from monitor.store.triage import MentionEvent

# "with the case" / "with the mention": the note transitions.py gives the side that followed.
_FOLLOWED = ("with the case", "with the mention")


# What screens, sentences and mails call a case status or a mention's triage state: one name per thing
# ("handled", never "resolved"; "not relevant", never "dismissed"). The stored values keep their names.
STATUS_WORDS = {"resolved": "handled", "dismissed": "not relevant"}


def _words(value: str | None) -> str:
    return status_words(value) if value else "nothing"


def status_words(status: str) -> str:
    """A case status or triage state as people read it: "in progress", "handled", "not relevant"."""
    return STATUS_WORDS.get(status, status.replace("_", " "))


# What the source told us (store/edits.py): the author's own doing, worded as theirs.
_BY_THE_AUTHOR = {"edited": "The author edited it", "deleted": "The author deleted the post"}


def _actor(event: MentionEvent) -> str:
    if event.actor == SOURCE_ACTOR:
        return "Grumble"  # a change the source's news caused (an edit reopening the case)
    if event.actor == RULES_ACTOR:
        return "The assignment rules"
    actor = shown_name(event.actor)
    return actor[:1].upper() + actor[1:] if actor == "you" else actor


def _status(event: MentionEvent) -> str:
    if event.after == "resolved":
        return "marked the case handled"
    if event.after == "dismissed":
        return "closed the case as not relevant"
    if event.before in ("resolved", "dismissed"):
        return f"reopened the case ({_words(event.after)})"
    return f"moved the case from {_words(event.before)} to {_words(event.after)}"


def _triage(event: MentionEvent) -> str:
    return {
        "handled": "marked the mention handled",
        "dismissed": "marked the mention not relevant",
        "open": "reopened the mention",
    }.get(event.after or "", f"marked the mention {_words(event.after)}")


def _assign(event: MentionEvent) -> str:
    if not event.after:
        was = f" (was {shown_name(event.before)})" if event.before else ""
        return f"unassigned the case{was}"
    if event.after == event.actor:
        return "took the case"
    return f"assigned the case to {shown_name(event.after)}"


def _tags(event: MentionEvent) -> str:
    return f"set the tags to {event.after}" if event.after else "removed the tags"


def _submit(event: MentionEvent) -> str:
    if event.after == "awaiting_approval":
        approver, _ = approver_in_note(event.note)
        by = f" by {approver_words(approver)}" if approver else ""
        return f"submitted the reply for approval{by}"
    return "submitted the reply"


def _edit(event: MentionEvent) -> str:
    if event.before == "approved":
        return "edited the approved reply (it needs approval again)"
    return "edited the reply (it is a draft again)"


SENTENCES: dict[str, Callable[[MentionEvent], str]] = {
    "case": lambda e: "opened a case",
    "status": _status,
    "triage": _triage,
    "assign": _assign,
    "tags": _tags,
    "note": lambda e: "added a note",
    "relabel": lambda e: f"relabelled the mention from {_words(e.before)} to {_words(e.after)}",
    "reply_draft": lambda e: "drafted a reply",
    "reply_edit": _edit,
    "reply_submit": _submit,
    "reply_approve": lambda e: "approved the reply",
    "reply_send_back": lambda e: "sent the reply back to its author",
    "reply_return": lambda e: "sent the reply back to its author",  # before reply_send_back
    "reply_posting": lambda e: "started posting the reply",
    "reply_posted": lambda e: "posted the reply",
    "reply_by_hand": lambda e: "marked the reply as posted by hand",
    "reply_failed": lambda e: "tried to post the reply, and it failed",
    "reply_unconfirmed": lambda e: "posted the reply, but the source did not confirm it",
    "reply_state": lambda e: f"saw the store mark the reply {_words(e.after)}",
}


def _unknown(event: MentionEvent) -> str:
    change = ""
    if event.before or event.after:
        change = f" from {_words(event.before)} to {_words(event.after)}"
    return f"changed {_words(event.action)}{change}"


def event_sentence(event: MentionEvent) -> str:
    """ "dana approved the reply.", with the event's note after a colon ("... for approval: priority 3.2
    is at least 3"); a change that only followed the other side says so."""
    if event.actor == SOURCE_ACTOR and event.action in _BY_THE_AUTHOR:
        sentence = _BY_THE_AUTHOR[event.action]
        note = (event.note or "").strip() if event.action == "edited" else ""
        return f"{sentence}: {note}" if note else f"{sentence}."
    sentence = f"{_actor(event)} {SENTENCES.get(event.action, _unknown)(event)}"
    note = (event.note or "").strip()
    if event.action == "reply_submit":
        note = approver_in_note(note)[1]  # the approver is in the sentence
    if note in _FOLLOWED:
        return f"{sentence}, {note.replace('with the', 'along with the')}."
    return f"{sentence}: {note}" if note else f"{sentence}."
