"""Text clean-up shared by training and inference, so both see the same input distribution."""

from __future__ import annotations

import html
import re
import unicodedata

# A 1 MB post would cost seconds to tokenise only to be cut to the model window; keep
# plenty of characters from both ends so token-level truncation can still choose.
MAX_CHARS_HEAD = 2000
MAX_CHARS_TAIL = 1000

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@\w{1,30}")
# TweetEval keeps some escapes literally (e.g. "\u2019"); decode them so the model sees the character.
_LITERAL_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_SPACE = re.compile(r"\s+")
# Pictographs (arrows, dingbats, emoji planes). The MiniLM vocabulary maps them all to [UNK],
# and TweetEval train has none, so they are spelled out as their Unicode names ("pouting face",
# "thumbs down sign"), words the model can read. Repeats collapse to one.
_PICTOGRAPH = re.compile(r"([\u2190-\u2bff\U0001f000-\U0001faff])(?:\1|[\ufe0f\u200d\U0001f3fb-\U0001f3ff])*")
_JOINERS = re.compile(r"[\ufe0f\u200d\U0001f3fb-\U0001f3ff]")


def _decode_escape(match: re.Match[str]) -> str:
    return chr(int(match.group(1), 16))


def _drop_lone_surrogates(text: str) -> str:
    # Lone surrogates (from broken JSON/escapes) make the Rust tokenizer raise; pair what
    # can be paired and replace the rest.
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _spell_pictograph(match: re.Match[str]) -> str:
    name = unicodedata.name(match.group(1), "")
    return f" {name.lower()} " if name else " "


def clip_chars(text: str) -> str:
    if len(text) <= MAX_CHARS_HEAD + MAX_CHARS_TAIL:
        return text
    return text[:MAX_CHARS_HEAD] + " ... " + text[-MAX_CHARS_TAIL:]


def normalise(text: str, *, spell_pictographs: bool = True) -> str:
    """Clean one raw post the way the model was trained: TweetEval conventions for URLs and users.

    spell_pictographs=False drops emoji instead of naming them: their English names would make
    the language detector call an emoji-only post English.
    """
    text = clip_chars(text)
    text = html.unescape(text)
    text = _LITERAL_ESCAPE.sub(_decode_escape, text)
    text = _drop_lone_surrogates(text)
    text = _URL.sub("http", text)
    text = _HANDLE.sub("@user", text)
    text = _PICTOGRAPH.sub(_spell_pictograph if spell_pictographs else " ", text)
    text = _JOINERS.sub("", text)
    return _SPACE.sub(" ", text).strip()
