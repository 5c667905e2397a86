"""Text clean-up shared by training and inference, so both see the same input distribution."""

from __future__ import annotations

import html
import re

# A 1 MB post would cost seconds to tokenise only to be cut to the model window; keep
# plenty of characters from both ends so token-level truncation can still choose.
MAX_CHARS_HEAD = 2000
MAX_CHARS_TAIL = 1000

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@\w{1,30}")
# TweetEval keeps some escapes literally (e.g. "\u2019"); decode them so the model sees the character.
_LITERAL_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_SPACE = re.compile(r"\s+")


def _decode_escape(match: re.Match[str]) -> str:
    return chr(int(match.group(1), 16))


def _drop_lone_surrogates(text: str) -> str:
    # Lone surrogates (from broken JSON/escapes) make the Rust tokenizer raise; pair what
    # can be paired and replace the rest.
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def clip_chars(text: str) -> str:
    if len(text) <= MAX_CHARS_HEAD + MAX_CHARS_TAIL:
        return text
    return text[:MAX_CHARS_HEAD] + " ... " + text[-MAX_CHARS_TAIL:]


def normalise(text: str) -> str:
    """Clean one raw post the way the model was trained: TweetEval conventions for URLs and users."""
    text = clip_chars(text)
    text = html.unescape(text)
    text = _LITERAL_ESCAPE.sub(_decode_escape, text)
    text = _drop_lone_surrogates(text)
    text = _URL.sub("http", text)
    text = _HANDLE.sub("@user", text)
    return _SPACE.sub(" ", text).strip()
