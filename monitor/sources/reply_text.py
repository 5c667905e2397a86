"""A reply's text: templates with placeholders, lengths counted the way sources count, idempotency keys.

Templates come from `[[reply_templates]]` and canned replies (monitor/respond/canned.py) and may use
{author}, {brand}, {product}, {link} (the mention's URL) and {case_link} (its page in the dashboard);
`{{` and `}}` write a literal brace. Anything else in braces is an error that names the
template and the placeholders it may use, raised when the config is loaded, never when a reply is sent.

Lengths: Bluesky counts graphemes (what a reader sees as one character: 👩‍👩‍👧 is one), Mastodon counts
graphemes with every link as 23 and remote mentions without their domain, Reddit counts characters.
Graphemes are Unicode extended grapheme clusters, from the `regex` module's \\X.
"""

from __future__ import annotations

import html
import re
import secrets
import string
import time
from collections.abc import Mapping

import regex  # type: ignore[import-untyped]

from monitor.errors import TemplateError

PLACEHOLDERS = ("author", "brand", "product", "link", "case_link")
_GRAPHEME = regex.compile(r"\X")
_FORMATTER = string.Formatter()


def _known() -> str:
    return ", ".join("{" + name + "}" for name in PLACEHOLDERS)


def placeholders(text: str, name: str = "template") -> list[str]:
    """The placeholders `text` uses, in order; TemplateError for anything but the known ones."""
    try:
        parts = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise TemplateError(
            f"reply template {name!r}: {exc} (write {{{{ and }}}} for literal braces); "
            f"placeholders: {_known()}"
        ) from None
    found: list[str] = []
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in PLACEHOLDERS:
            shown = "{" + field + "}" if field else "{}"
            raise TemplateError(
                f"reply template {name!r}: unknown placeholder {shown}; use {_known()} "
                "(or {{ and }} for literal braces)"
            )
        if spec or conversion:
            raise TemplateError(
                f"reply template {name!r}: placeholder {{{field}}} takes no format or conversion "
                f"(found {{{field}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}})"
            )
        found.append(field)
    return found


def render(text: str, values: Mapping[str, str | None], name: str = "template") -> str:
    """The template with its placeholders filled; a placeholder without a value is a TemplateError."""
    used = placeholders(text, name)
    missing = sorted({field for field in used if not values.get(field)})
    if missing:
        hints = {
            "author": "this mention has no author",
            "link": "this mention has no link",
            "brand": "set brand in the watch or in [responder]",
            "product": "set product in the watch or in [responder]",
            "case_link": "set public_url in [dashboard]",
        }
        detail = "; ".join(f"{{{field}}}: {hints[field]}" for field in missing)
        raise TemplateError(f"reply template {name!r} cannot be filled: {detail}")
    return _FORMATTER.vformat(text, (), {field: values[field] for field in used})


def graphemes(text: str) -> int:
    """How many characters a reader sees: extended grapheme clusters (an emoji family is one)."""
    return len(_GRAPHEME.findall(text))


def normalized(text: str) -> str:
    """Text compared across a round trip through a source: entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(text).split())


# atproto TIDs: 13 characters of base32-sortable, the top bit clear (so the first character is 2-j).
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")


def new_idempotency_key(now_us: int | None = None) -> str:
    """A unique key for one reply, made when it is drafted: an atproto TID (microseconds since the epoch
    and 10 random bits). Mastodon takes it as Idempotency-Key, Bluesky as the post's record key, so a
    second create with the same key cannot make a second post there."""
    micros = time.time_ns() // 1000 if now_us is None else now_us
    value = ((micros & ((1 << 53) - 1)) << 10) | secrets.randbelow(1024)
    chars = []
    for _ in range(13):
        chars.append(TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_tid(key: str) -> bool:
    return bool(_TID.fullmatch(key))


# How servers word "your text is too long": Mastodon ("Text character limit of 500 exceeded"),
# Bluesky's record validation ("Record/text must not be longer than 300 graphemes").
_TOO_LONG = re.compile(
    r"character limit|too long|longer than|max(?:imum)?\s*(?:length|graphemes)", re.IGNORECASE
)


def refusal_reason(detail: str) -> str:
    """`too_long` when a server's refusal says the text is too long, else `rejected`."""
    return "too_long" if _TOO_LONG.search(detail) else "rejected"
