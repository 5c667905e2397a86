"""Templates for mail (digests, alerts) and the small formatting helpers they share.

HTML templates (`*.html.j2`) are autoescaped: mention text, authors and URLs come from strangers on the
internet. Links to the original are only made for http(s) URLs (`safe_link`, the dashboard's rule too),
since escaping does not make a `javascript:` URL harmless in an href.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import datetime
from typing import Literal
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from monitor.mention import as_utc


@functools.cache
def environment() -> Environment:
    # Built on first use, not at import: the CLI imports this module for commands that never mail.
    env = Environment(
        loader=PackageLoader("monitor.surface", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Every value a template prints: a stranger's name with U+202E must not flip our line.
        finalize=_isolate_printed,
    )
    env.filters["nl2br"] = nl2br
    return env


# Embeddings, overrides, isolates and marks: what a stranger can use to reorder the text around theirs.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE = "\u2068", "\u2069"


def _isolate_printed(value: object) -> object:
    if isinstance(value, Markup):  # already-escaped HTML (nl2br): isolating it keeps it markup
        return Markup(isolate_bidi(str(value)))
    return isolate_bidi(value) if isinstance(value, str) else value


def isolate_bidi(text: str) -> str:
    """Untrusted text without bidi controls; a run holding right-to-left letters (or controls we
    removed) is wrapped in an isolate (FSI ... PDI) so it cannot reorder what follows it."""
    cleaned = _BIDI_CONTROLS.sub("", text)
    if cleaned == text and not _RIGHT_TO_LEFT.search(text):
        return text
    return FIRST_STRONG_ISOLATE + cleaned + POP_DIRECTIONAL_ISOLATE


def nl2br(text: str) -> Markup:
    """Escape first, then break lines: Outlook ignores `white-space: pre-wrap`."""
    return escape(text).replace("\n", Markup("<br>\n"))


def render(template: str, **context: object) -> str:
    return environment().get_template(template).render(**context)


def safe_link(url: str | None) -> str | None:
    """The URL if it is a plain http(s) link with a host, else None: the only links we let a mail client
    or the dashboard open (javascript:, data: and the like run or show something else). Whitespace or a
    control character anywhere rejects it too: it could end a header, or hide where the link goes."""
    if not url:
        return None
    candidate = url.strip()
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in candidate):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return candidate


def mention_link(public_url: str, mention_id: int) -> str:
    return f"{public_url}/mention?id={mention_id}"


# A digest is rendered once and sent to each recipient separately; this stands in the rendered text for
# the recipient's own unsubscribe link (letters and dashes only, so HTML escaping leaves it as it is).
UNSUBSCRIBE_LINK_MARK = "GRUMBLE-RECIPIENT-UNSUBSCRIBE-LINK"


def with_unsubscribe_placeholder(body: str) -> str:
    """A rendered digest for reading before it is sent (a dry run, the dashboard's preview)."""
    return body.replace(UNSUBSCRIBE_LINK_MARK, "(each recipient's own unsubscribe link)")


def unsubscribe_link(public_url: str, token: str) -> str:
    """The page a digest's Unsubscribe link opens; works without signing in (dashboard/server.py)."""
    return f"{public_url}/grumble/unsubscribe?token={quote(token, safe='')}"


def digest_settings_link(public_url: str, list_name: str | None = None) -> str:
    base = f"{public_url}/digests"
    return f"{base}?list={quote(list_name, safe='')}" if list_name else base


def age(created_at: datetime, now: datetime) -> str:
    seconds = max((as_utc(now) - as_utc(created_at)).total_seconds(), 0.0)
    if seconds < 3600:
        return f"{max(int(seconds // 60), 1)} min ago"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


def local_time(moment: datetime, timezone: str) -> str:
    return as_utc(moment).astimezone(ZoneInfo(timezone)).strftime("%a %d %b %Y %H:%M %Z")


TimePrecision = Literal["minute", "second", "clock"]
_TIME_FORMATS: dict[TimePrecision, str] = {
    "minute": "%Y-%m-%d %H:%M %Z",  # a moment in a table or a history
    "second": "%H:%M:%S %Z",  # something happening now (a reply being posted)
    "clock": "%H:%M %Z",  # a time later today (the next try)
}


def zoned_time(moment: datetime, timezone: str, precision: TimePrecision = "minute") -> str:
    """`moment` as a reader in `timezone` says it, with the zone's abbreviation so nobody wonders."""
    return as_utc(moment).astimezone(ZoneInfo(timezone)).strftime(_TIME_FORMATS[precision])


def count(n: int | None) -> str:
    """12345 -> '12.3k': reach is an order of magnitude, not an accounting figure."""
    if n is None:
        return "unknown"
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return f"{n / 1_000_000:.1f}M".replace(".0M", "M")


def plural(n: int, noun: str) -> str:
    return f"{count(n)} {noun}{'' if n == 1 else 's'}"


def percent(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{100 * value:.0f}%"


def shorten(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
