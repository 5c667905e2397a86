"""Who must approve a reply, and who may: approval that holds however the text came to be.

A reply waits for an approver when `[responder]` says so for its submitter (a role, a priority), when
someone whose role needs approval wrote any version of it (an admin cannot carry a responder's words
past approval by rewriting and submitting them), when it was edited after an approval (the new text
needs approval again), or when its submitter asked someone to approve it. The approver is chosen at
submit: a person, or a role ("role:admin": anyone with that role); by default the role of
`[responder] approver_role`. Whoever approves must hold that role, be the person chosen if one was,
and have written no version of the text (reply_versions).

For the people who are told (notifications read `mention_events`):
- `reply_submit` with `after` "awaiting_approval": the approver is at the start of the note,
  "approver: <user name or role:<role>>; <why it waits>"; `approver_in_note(note)` reads it back.
- `reply_approve` (actor: the approver; note: "version <n>") and `reply_send_back` (actor: the
  approver; note: the reason): the people to tell are the reply's authors,
  `store.reply_moves.latest_reply_authors(engine, mention_id)`.
- `reply_edit` with `before` "approved": an approved text was changed and needs approval again.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from monitor.auth.users import ROLES, User, shown_name
from monitor.config import ResponderSettings
from monitor.errors import ApprovalError
from monitor.store.cases import CaseReply
from monitor.store.reply_moves import ReplyVersion

ROLE_PREFIX = "role:"
APPROVER_NOTE = "approver: "


def approval_reasons(user: User, priority: float, settings: ResponderSettings) -> list[str]:
    """Why a reply by `user` to a mention of this priority waits for an approver (none: it does not)."""
    reasons = []
    if user.role in settings.approval_roles:
        reasons.append(f"replies by the {user.role} role need approval")
    if settings.approval_min_priority is not None and priority >= settings.approval_min_priority:
        # The words first; the numbers say why, against the setting that asks for it.
        threshold = settings.approval_min_priority
        reasons.append(
            f"a high-priority mention (priority {priority:.1f}; approval asked from {threshold:g})"
        )
    return reasons


def version_reasons(
    versions: Sequence[ReplyVersion], submitter: User, settings: ResponderSettings
) -> list[str]:
    """Why the reply's history makes it wait, whoever submits it: another author whose role needs
    approval, or an edit after an approval."""
    reasons: list[str] = []
    for version in versions:
        if version.author != submitter.name and version.author_role in settings.approval_roles:
            reasons.append(f"{version.author} ({version.author_role}) wrote part of it")
        if version.lapsed_approval:
            reasons.append(f"it was edited after {version.lapsed_approval} approved it")
    return list(dict.fromkeys(reasons))


def authors(reply: CaseReply, versions: Sequence[ReplyVersion]) -> set[str]:
    return {reply.author, *(version.author for version in versions)}


def default_approver(settings: ResponderSettings) -> str:
    return ROLE_PREFIX + settings.approver_role


def choose_approver(
    chosen: User | str | None, wrote: Collection[str], settings: ResponderSettings
) -> str | None:
    """The approver as stored ("dana" or "role:admin"), checked now so a submit cannot wait for
    someone who could never approve it. `chosen`: a person, or a role ("admin" or "role:admin")."""
    if chosen is None:
        return None
    if isinstance(chosen, User):
        if not chosen.can(settings.approver_role):
            raise ApprovalError(
                f"{chosen.name} cannot approve replies: approving needs the {settings.approver_role} role "
                f"and {chosen.name} is a {chosen.role}; choose someone else, or the role"
            )
        if chosen.name in wrote:
            raise ApprovalError(
                f"{chosen.name} wrote part of this reply; choose an approver who wrote none of it"
            )
        return chosen.name
    role = chosen.removeprefix(ROLE_PREFIX)
    if role not in ROLES or ROLES.index(role) < ROLES.index(settings.approver_role):
        allowed = ", ".join(ROLE_PREFIX + r for r in ROLES[ROLES.index(settings.approver_role) :])
        raise ApprovalError(f"{chosen!r} cannot approve replies; choose a person, or one of {allowed}")
    return ROLE_PREFIX + role


def approver_refusal(
    user: User, reply: CaseReply, wrote: Collection[str], settings: ResponderSettings
) -> str | None:
    """Why `user` may not approve this reply (None: they may)."""
    if not user.can(settings.approver_role):
        return f"approving replies needs the {settings.approver_role} role; {user.name} is a {user.role}"
    chosen = reply.approver
    if chosen is not None and chosen.startswith(ROLE_PREFIX):
        role = chosen.removeprefix(ROLE_PREFIX)
        if role in ROLES and not user.can(role):
            return f"this reply waits for approval by the {role} role; {user.name} is a {user.role}"
    elif chosen is not None and chosen != user.name:
        return f"this reply waits for {chosen}'s approval"
    if user.name in wrote:
        return (
            f"a reply is approved by someone who wrote none of it, and {user.name} wrote part of this one "
            f"(its authors: {', '.join(sorted(wrote))}); ask another {settings.approver_role}"
        )
    return None


def require_approver(
    user: User, reply: CaseReply, wrote: Collection[str], settings: ResponderSettings
) -> None:
    refused = approver_refusal(user, reply, wrote, settings)
    if refused is not None:
        raise ApprovalError(refused)


def approver_words(approver: str | None) -> str:
    """How the panel and the history name the approver: "dana", or "an admin"."""
    if approver is None:
        return "an approver"
    if approver.startswith(ROLE_PREFIX):
        role = approver.removeprefix(ROLE_PREFIX)
        return f"{'an' if role[:1] in 'aeiou' else 'a'} {role}"
    return shown_name(approver)


def submit_note(approver: str, reasons: Sequence[str]) -> str:
    return APPROVER_NOTE + approver + "; " + "; ".join(reasons)


def approver_in_note(note: str | None) -> tuple[str | None, str]:
    """(the approver, the rest) of a `reply_submit` event's note; (None, the note) when it names none."""
    if not note or not note.startswith(APPROVER_NOTE):
        return None, note or ""
    approver, _, rest = note.removeprefix(APPROVER_NOTE).partition("; ")
    return approver, rest
