"""Who is told about an event in the audit trail (`mention_events`), and how it reads to them.

One rule per kind of news, each from the event alone plus the case's reply as stored:
- assigned: a case assigned to you (by someone else, or by an assignment rule);
- approval: a reply submitted for approval, to the approver chosen at submit (the event's note names
  it, respond/reply_approval.py: a person, or everyone with the role "role:<role>" names), never to
  anyone who wrote a version of it (they may not approve it);
- approved / sent_back: to everyone who wrote a version of the reply, but the approver;
- mentioned: a note naming you with @name (notes.py).
Nobody is told about their own doing. Only configured users are told: they are who can sign in."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from monitor.auth.users import User
from monitor.config import ResponderSettings
from monitor.respond.cases import RULES_ACTOR, rule_assignee_in
from monitor.respond.reply_approval import ROLE_PREFIX, approver_in_note, default_approver
from monitor.store.notifications import StoredEvent, reply_people
from monitor.team.notes import mentioned_names

ASSIGNED = "assigned"
APPROVAL = "approval"
APPROVED = "approved"
SENT_BACK = "sent_back"
MENTIONED = "mentioned"
# Every kind, in the order the For you page lists the email choices, with how each reads there.
KINDS: dict[str, str] = {
    ASSIGNED: "A mention is assigned to me",
    APPROVAL: "A reply waits for my approval",
    APPROVED: "My reply was approved",
    SENT_BACK: "My reply was sent back",
    MENTIONED: "Someone @mentions me in a note",
}
SEND_BACK_ACTIONS = ("reply_return", "reply_send_back")


@dataclass(frozen=True)
class Told:
    """One person to tell about one event."""

    recipient: str
    kind: str
    detail: str | None = None


Rule = Callable[[StoredEvent, Connection, Sequence[User], ResponderSettings], list[Told]]


def _assigned(
    event: StoredEvent, _connection: Connection, users: Sequence[User], _settings: ResponderSettings
) -> list[Told]:
    if event.action == "case" and event.actor == RULES_ACTOR:
        assignee = rule_assignee_in(event.note)
        return _named(assignee, users, ASSIGNED, "by the assignment rules") if assignee else []
    return _named(event.after, users, ASSIGNED) if event.action == "assign" and event.after else []


def _approval(
    event: StoredEvent, connection: Connection, users: Sequence[User], settings: ResponderSettings
) -> list[Told]:
    if event.action != "reply_submit" or event.after != "awaiting_approval":
        return []
    people = reply_people(connection, event.mention_id)
    # The approver as chosen at that submit (its note names it), not as the reply says by now.
    named, why = approver_in_note(event.note)
    chosen = named or (people.approver if people else None) or default_approver(settings)
    if chosen.startswith(ROLE_PREFIX):
        role = chosen.removeprefix(ROLE_PREFIX)
        approvers = [Told(u.name, APPROVAL, why or None) for u in users if _has_role(u, role)]
    else:
        approvers = _named(chosen, users, APPROVAL, why or None)
    # Whoever wrote any version of the reply may not approve it: telling them to would be noise.
    writers = {w.lower() for w in people.writers} if people else set()
    return [told for told in approvers if told.recipient.lower() not in writers]


def _decided(
    event: StoredEvent, connection: Connection, users: Sequence[User], _settings: ResponderSettings
) -> list[Told]:
    if event.action == "reply_approve":
        kind = APPROVED
    elif event.action in SEND_BACK_ACTIONS:
        kind = SENT_BACK
    else:
        return []
    people = reply_people(connection, event.mention_id)
    writers = people.writers if people else ()
    reason = event.note if kind == SENT_BACK else None  # an approval's note is only its version
    return [told for writer in writers for told in _named(writer, users, kind, reason)]


def _mentioned(
    event: StoredEvent, _connection: Connection, users: Sequence[User], _settings: ResponderSettings
) -> list[Told]:
    if event.action != "note" or not event.note:
        return []
    names = mentioned_names(event.note, [u.name for u in users])
    return [told for name in names for told in _named(name, users, MENTIONED, event.note)]


RULES: tuple[Rule, ...] = (_assigned, _approval, _decided, _mentioned)


def _named(name: str, users: Sequence[User], kind: str, detail: str | None = None) -> list[Told]:
    """The configured user called `name` (matched without case), if there is one."""
    found = next((u for u in users if u.name.lower() == name.lower()), None)
    return [Told(found.name, kind, detail)] if found else []


def _has_role(user: User, role: str) -> bool:
    try:
        return user.can(role)
    except ValueError:  # a role this version does not know: nobody has it
        return False


def recipients(
    event: StoredEvent, connection: Connection, users: Sequence[User], settings: ResponderSettings
) -> list[Told]:
    """Who to tell about `event`: each person once, never the one who did it."""
    once: dict[str, Told] = {}
    for rule in RULES:
        for told in rule(event, connection, users, settings):
            if told.recipient != event.actor:
                once.setdefault(told.recipient, told)
    return list(once.values())


def sentence(kind: str, actor: str, detail: str | None = None) -> str:
    """How a notification reads, in the list and as an email's subject: "dana assigned you a mention"."""
    who = "The assignment rules" if actor == RULES_ACTOR else actor
    words = {
        ASSIGNED: f"{who} assigned a mention to you",
        APPROVAL: f"{who} asks for your approval of a reply",
        APPROVED: f"{who} approved your reply",
        SENT_BACK: f"{who} sent your reply back",
        MENTIONED: f"{who} mentioned you in a note",
    }
    said = words.get(kind, f"{who}: {kind}")
    if kind == SENT_BACK and detail:
        said += f": {_one_line(detail)}"
    return said


def _one_line(text: str, limit: int = 200) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
