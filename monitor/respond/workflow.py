"""What a person does to a case's reply, as one call that returns what to tell them.

A click on the case panel can be several steps: "Post reply" saves the text, submits it (the approval
rules decide whether it waits) and posts it at once when nothing waits and the source has a reply API.
Running those steps here, not in the dashboard, keeps the order and the error handling in one place
and lets the dashboard only draw: it passes a `ReplyAction` and shows the `Outcome`.

The sources that post are built here too (`Repliers`), from the config through the source registry,
once per process, so the dashboard never builds an HTTP client.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Engine

from monitor.auth.users import User
from monitor.config import Config, ResponderSettings
from monitor.errors import CaseError, DraftConflict, GrumbleError
from monitor.respond.posting import mark_replied_by_hand, post_reply, reply_target
from monitor.respond.replies import measure, return_reply, save_draft
from monitor.respond.reply_send import approve_and_post, submit_and_post
from monitor.sources.base import Replier, Source, TextLength
from monitor.sources.registry import build_source, reply_blocker
from monitor.store.cases import CaseReply, load_reply
from monitor.store.quotas import SharedQuotaLedger
from monitor.store.rate_limits import shared_rate_limits

Step = Literal["save", "submit", "approve", "send_back", "post", "by_hand"]
Tone = Literal["success", "info", "warning", "error"]


@dataclass(frozen=True)
class ReplyRoute:
    """How a mention's reply leaves Grumble: through its source's API, or copied and posted by hand."""

    source: str
    replier: Replier | None  # None: copy the text and post it on the source by hand
    by_hand_because: str | None  # why it cannot be posted from Grumble (no reply API, no login, a demo)

    def measure(self, text: str) -> TextLength:
        return measure(self.source, text, self.replier)


class Repliers:
    """The sources that can post replies, each built on first use and kept, so a process holds one HTTP
    client per source however many sessions post through it. Also the scheduler's `settle_unconfirmed`
    callable: source name -> replier, or None."""

    def __init__(self, build: Callable[[str], Source]) -> None:
        self._build = build
        self._built: dict[str, Replier | None] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: Config, engine: Engine) -> Repliers:
        # The database's rate limits: a reply posted from the dashboard spends the same per-client
        # allowance as the workers' collection (Reddit counts both against one OAuth client).
        limits, quotas = shared_rate_limits(engine), SharedQuotaLedger(engine)
        return cls(lambda name: build_source(config.source_settings(name), limits, quotas))

    def __call__(self, source: str) -> Replier | None:
        with self._lock:
            if source not in self._built:
                try:
                    built: Source | None = self._build(source)
                except GrumbleError:
                    # A source that cannot be built cannot post: its replies are copied by hand.
                    built = None
                self._built[source] = built if isinstance(built, Replier) else None
            return self._built[source]

    def route(self, source: str, external_id: str) -> ReplyRoute:
        """Whether this mention's reply can be posted from here, so nothing is offered that could only
        fail (no reply API, no login configured, a demo mention)."""
        replier = self(source)
        blocker = reply_blocker(replier, external_id)
        return ReplyRoute(source, None if blocker is not None else replier, blocker)


@dataclass(frozen=True)
class ReplyAction:
    """One click on the case panel, with what the panel held at that moment."""

    step: Step
    case_id: int
    reply_id: int | None = None  # the reply the panel showed: approve, send_back, post, by_hand
    text: str = ""  # the editor's text: save, submit
    template: str | None = None  # the template the text started from: save, submit
    reason: str = ""  # why it goes back to its author: send_back
    base_version: int | None = None  # the draft's version the panel loaded (0: none): save, submit
    approver: User | str | None = None  # who is asked to approve it (a person, "role:admin"): submit
    sent: str = ""  # the text or link that was posted by hand: by_hand


@dataclass(frozen=True)
class Outcome:
    """What a click did, and what to tell the person who clicked."""

    # "saved", "sent_back", "refused" (nothing changed: `message` says why), or the reply's status after
    # a submit, an approval or a post: "awaiting_approval", "approved", "posted", "failed", "unconfirmed",
    # "posted_by_hand"
    happened: str
    tone: Tone
    message: str | None
    reply: CaseReply | None  # the reply afterwards; None when refused
    # "conflict": someone else saved another version of the draft; both texts are on it
    conflict: DraftConflict | None = None


def run_reply_action(
    engine: Engine, action: ReplyAction, user: User, settings: ResponderSettings, repliers: Repliers
) -> Outcome:
    """Carry out the action; every refusal (a role, a state, a length, a source's answer) comes back as
    an Outcome, never as an exception. An unexpected error while posting is recorded as unconfirmed by
    posting.py and raised, since it is a bug to see."""
    try:
        return STEPS[action.step](engine, action, user, settings, repliers)
    except DraftConflict as exc:
        return Outcome("conflict", "error", str(exc), None, exc)
    except GrumbleError as exc:
        return Outcome("refused", "error", str(exc), None)


def reply_route(engine: Engine, case_id: int, repliers: Repliers) -> ReplyRoute:
    target = reply_target(engine, case_id)
    return repliers.route(target.source, target.external_id)


def _save(
    engine: Engine, action: ReplyAction, user: User, settings: ResponderSettings, repliers: Repliers
) -> Outcome:
    reply = save_draft(
        engine, action.case_id, action.text, user, template=action.template, base_version=action.base_version
    )
    return Outcome("saved", "success", "Draft saved.", reply)


def _submit(
    engine: Engine, action: ReplyAction, user: User, settings: ResponderSettings, repliers: Repliers
) -> Outcome:
    """Save, submit (the approval rules decide), and post at once when nothing waits and the source can."""
    reply = submit_and_post(
        engine,
        action.case_id,
        action.text,
        user,
        settings,
        repliers.route,
        template=action.template,
        base_version=action.base_version,
        approver=action.approver,
    )
    return _reported(reply)


def _approve(
    engine: Engine, action: ReplyAction, user: User, settings: ResponderSettings, repliers: Repliers
) -> Outcome:
    """Approve, and post at once where the source can."""
    return _reported(approve_and_post(engine, _reply_id(action), user, settings, repliers.route))


def _send_back(
    engine: Engine, action: ReplyAction, user: User, settings: ResponderSettings, repliers: Repliers
) -> Outcome:
    # The panel shows the reply back in the editor with the reason in its history: nothing more to say.
    reply = return_reply(engine, _reply_id(action), user, settings, action.reason)
    return Outcome("sent_back", "info", None, reply)


def _post(
    engine: Engine, action: ReplyAction, user: User, settings: ResponderSettings, repliers: Repliers
) -> Outcome:
    """Post an approved reply, or retry one left posting or unconfirmed (which looks on the source first)."""
    reply_id = _reply_id(action)
    route = reply_route(engine, action.case_id, repliers)
    if route.replier is None:
        message = (
            f"Cannot post from Grumble: {route.by_hand_because}. Copy the text and mark it replied by hand."
        )
        return Outcome("refused", "error", message, load_reply(engine, reply_id))
    return _reported(post_reply(engine, reply_id, user, route.replier))


def _by_hand(
    engine: Engine, action: ReplyAction, user: User, settings: ResponderSettings, repliers: Repliers
) -> Outcome:
    if not action.sent.strip():
        # The history keeps what reached the customer; the approved text may not be what was posted.
        message = "Say what you sent: paste the link to your reply on the source, or the text you posted."
        return Outcome("refused", "error", message, None)
    reply = mark_replied_by_hand(engine, _reply_id(action), user, sent=action.sent)
    return Outcome("posted_by_hand", "success", "Recorded as replied by hand.", reply)


STEPS: dict[str, Callable[[Engine, ReplyAction, User, ResponderSettings, Repliers], Outcome]] = {
    "save": _save,
    "submit": _submit,
    "approve": _approve,
    "send_back": _send_back,
    "post": _post,
    "by_hand": _by_hand,
}


def _reply_id(action: ReplyAction) -> int:
    if action.reply_id is None:
        raise CaseError(f"{action.step.replace('_', ' ')} needs the reply it acts on")
    return action.reply_id


def _reported(reply: CaseReply) -> Outcome:
    """Where a submitted, approved or posted reply ended up, in the words the panel shows."""
    if reply.status == "posted":
        return Outcome("posted", "success", f"Posted: {reply.remote_url or reply.remote_id}", reply)
    if reply.status == "failed":
        return Outcome("failed", "error", f"Not posted: {reply.error}. The draft is kept.", reply)
    if reply.status == "unconfirmed":
        return Outcome("unconfirmed", "warning", f"Not confirmed: {reply.error}", reply)
    if reply.status == "awaiting_approval":
        return Outcome("awaiting_approval", "info", "Submitted: the reply waits for an approver.", reply)
    if reply.status == "approved":
        message = "Ready: copy the reply, post it on the original, then mark it replied by hand."
        return Outcome("approved", "info", message, reply)
    return Outcome(reply.status, "info", None, reply)
