"""Mention text, author names and URLs are attacker-controlled: helpers that keep them inert.

Streamlit never renders HTML without `unsafe_allow_html` (which Grumble never passes); these close what
Markdown itself could do: links (javascript: ones included), images that load a beacon, Streamlit's
`:color[...]` directives, emoji shortcodes and LaTeX.
"""

from __future__ import annotations

import re

# Links follow the mail's rule: one safe_link, for digests, alerts and every page.
from monitor.surface.render import isolate_bidi, safe_link

__all__ = ["escape_markdown", "plain", "safe_link"]

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'])")


def escape_markdown(text: str) -> str:
    """Backslash every ASCII punctuation Markdown could act on; keep line breaks as line breaks;
    bidi controls removed and right-to-left runs isolated (render.isolate_bidi)."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", isolate_bidi(text))
    return escaped.replace("\r\n", "\n").replace("\n", "  \n")


def plain(text: str | None, limit: int | None = None) -> str:
    """Text for labels and captions (which also parse Markdown): escaped and optionally shortened."""
    value = text or ""
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    return escape_markdown(value)
