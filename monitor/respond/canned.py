"""Canned replies: texts a responder drops into the reply box by typing their short code, `/refund`.

Why `/` and not `#`: a hashtag is ordinary text in a post or a reply (`#refund` may be meant), while a
word starting with `/` is not (a link's slashes are inside a word, 24/7 starts with a digit). A code is
expanded only where it starts a word and names a reply; anything else is left as typed.

Three shelves, the nearer one first when two use a code: yours (personal), the team's (edited by
admins in the dashboard), and the `[[reply_templates]]` of grumble.toml. Those stay in the file, read
only (they are not copied into the database, so the file keeps saying what they are); an admin who
saves a team reply with a template's code replaces it without a restart.

Variables are the reply templates' (sources/reply_text.py): {author}, {brand}, {product}, {link} and
{case_link}. Who may change what: the team's replies are an admin's, a personal one its owner's (a
responder or an admin: whoever can reply).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from monitor.auth.users import User
from monitor.config import Config
from monitor.errors import TemplateError
from monitor.respond.replies import template_values
from monitor.sources.reply_text import placeholders, render
from monitor.store.canned_replies import (
    TEAM,
    CannedReply,
    CannedReplyError,
    delete_reply,
    get_reply,
    save_reply,
    stored_replies,
)

PREFIX = "/"
MAX_CODE_CHARS = 40
MAX_TITLE_CHARS = 120
TEAM_ROLE = "admin"  # the team's replies speak for the brand: the role that sets its other words
OWN_ROLE = "responder"  # a personal reply is for whoever can reply
_CODE = re.compile(r"[a-z0-9][a-z0-9_-]*")
# A code as typed: at the start of the text or after a space, up to the next character a code cannot hold.
_TYPED = re.compile(r"(?<!\S)/([A-Za-z0-9][A-Za-z0-9_-]*)(?![\w/])")


@dataclass(frozen=True)
class Expanded:
    """The reply box's text after its codes were replaced, and what happened to each code typed."""

    text: str
    used: tuple[str, ...] = ()  # codes replaced
    unknown: tuple[str, ...] = ()  # codes that name no reply: left as typed
    problems: tuple[str, ...] = ()  # replies that could not be filled in: left as typed, with why


def clean_code(code: str) -> str:
    """The code as stored: without its leading slash, lower case; CannedReplyError when unusable."""
    cleaned = code.strip().removeprefix(PREFIX).lower()
    if not _CODE.fullmatch(cleaned) or len(cleaned) > MAX_CODE_CHARS:
        raise CannedReplyError(
            f"a short code is letters, digits, - and _ (at most {MAX_CODE_CHARS}), starting with a letter "
            f"or digit, such as /refund; found {code.strip()!r}"
        )
    return cleaned


def _slug(name: str) -> str:
    """A [[reply_templates]] name as a code: "Late delivery" -> late-delivery."""
    slug = re.sub(r"[^a-z0-9_]+", "-", name.lower()).strip("-")
    return slug[:MAX_CODE_CHARS] or "template"


def config_replies(config: Config) -> list[CannedReply]:
    """The grumble.toml templates as read-only team replies, each coded by its name."""
    replies: list[CannedReply] = []
    for template in config.reply_templates:
        code, taken = _slug(template.name), {reply.code for reply in replies}
        suffix = 2
        while code in taken:  # two names may give one slug ("Sorry!" and "sorry")
            code, suffix = f"{_slug(template.name)}-{suffix}", suffix + 1
        replies.append(CannedReply(code=code, title=template.name, text=template.text))
    return replies


def shelves(engine: Engine, config: Config, user: User) -> tuple[list[CannedReply], list[CannedReply]]:
    """The team's replies (stored, then the grumble.toml ones no stored one replaces) and `user`'s own."""
    stored = stored_replies(engine, user.name)
    team = [reply for reply in stored if reply.team]
    replaced = {reply.code for reply in team}
    team += [reply for reply in config_replies(config) if reply.code not in replaced]
    own = [reply for reply in stored if not reply.team]
    return sorted(team, key=lambda reply: reply.code), own


def by_code(engine: Engine, config: Config, user: User) -> dict[str, CannedReply]:
    """What each code typed by `user` expands to: their own reply over the team's."""
    team, own = shelves(engine, config, user)
    return {reply.code: reply for reply in (*team, *own)}


def search(replies: Iterable[CannedReply], query: str) -> list[CannedReply]:
    """The replies whose code, title or text hold every word of `query` (any case)."""
    words = query.lower().removeprefix(PREFIX).split()
    return [
        reply
        for reply in replies
        if all(word in f"{reply.code} {reply.title} {reply.text}".lower() for word in words)
    ]


def expand(
    text: str, replies: Mapping[str, CannedReply], values: Callable[[], Mapping[str, str | None]]
) -> Expanded:
    """`text` with each typed code that names a reply replaced by that reply, filled in. `values` is
    called once, and only when a code is found (it reads the mention)."""
    used: list[str] = []
    unknown: list[str] = []
    problems: list[str] = []
    filled: dict[str, str] = {}
    known: list[Mapping[str, str | None]] = []

    def replace(match: re.Match[str]) -> str:
        code = match.group(1).lower()
        reply = replies.get(code)
        if reply is None:
            unknown.append(code)
            return match.group(0)
        if code not in filled:
            if not known:
                known.append(values())
            try:
                filled[code] = render(reply.text, known[0], f"{PREFIX}{code}")
            except TemplateError as exc:
                problems.append(str(exc))
                return match.group(0)
        used.append(code)
        return filled[code]

    expanded = _TYPED.sub(replace, text)
    return Expanded(expanded, tuple(used), tuple(dict.fromkeys(unknown)), tuple(dict.fromkeys(problems)))


def expand_for_mention(engine: Engine, config: Config, user: User, mention_id: int, text: str) -> Expanded:
    """The reply box's text with `user`'s codes expanded for this mention (the reply panel's call)."""
    if PREFIX not in text:
        return Expanded(text)
    return expand(text, by_code(engine, config, user), lambda: template_values(engine, config, mention_id))


def _may_change(user: User, owner: str) -> None:
    if owner == TEAM and not user.can(TEAM_ROLE):
        raise CannedReplyError(
            f"the team's canned replies are changed by an {TEAM_ROLE}; save it as your own reply instead"
        )
    if owner != TEAM and (owner != user.name or not user.can(OWN_ROLE)):
        raise CannedReplyError("a personal canned reply is changed only by the responder it belongs to")


def save(
    engine: Engine,
    user: User,
    *,
    code: str,
    title: str,
    text: str,
    team: bool,
    now: datetime,
    reply_id: int | None = None,
) -> CannedReply:
    """Creates (`reply_id` None) or changes a canned reply after checking who may and what it holds."""
    owner = TEAM if team else user.name
    if reply_id is not None:
        stored = get_reply(engine, reply_id)
        if stored is None:
            raise CannedReplyError("that canned reply is gone (deleted meanwhile?): save it as a new one")
        owner = stored.owner
    _may_change(user, owner)
    code = clean_code(code)
    if not text.strip():
        raise CannedReplyError(f"the canned reply /{code} needs the text it puts in the reply box")
    title = " ".join(title.split()) or code
    if len(title) > MAX_TITLE_CHARS:
        raise CannedReplyError(f"a title takes at most {MAX_TITLE_CHARS} characters; found {len(title)}")
    placeholders(text, f"{PREFIX}{code}")  # a wrong {variable} is refused now, not when it is used
    return save_reply(engine, CannedReply(code, title, text, owner, reply_id), user.name, now)


def delete(engine: Engine, user: User, reply_id: int) -> None:
    stored = get_reply(engine, reply_id)
    if stored is None:
        return  # deleted already: what was asked holds
    _may_change(user, stored.owner)
    delete_reply(engine, reply_id, stored.owner)
