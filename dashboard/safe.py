"""Mention text, author names and URLs are attacker-controlled: helpers that keep them inert."""

from __future__ import annotations

import re
from urllib.parse import urlparse

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def escape_markdown(text: str) -> str:
    """Backslash every character Markdown (and Streamlit's extensions) could act on."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def safe_link(url: str | None) -> str | None:
    """The URL when it is plain http(s); None for javascript:, data: and anything else."""
    if not url:
        return None
    parsed = urlparse(url.strip())
    if parsed.scheme.lower() in ("http", "https") and parsed.netloc:
        return url.strip()
    return None
