"""@names in a note: "@dana can you look at this?" tells dana. A name is matched whole and without
case against the configured users (names may hold dots and dashes: "@dana.k", "@sam-ops"); an e-mail
address ("billing@acme.example") names nobody."""

from __future__ import annotations

import re
from collections.abc import Sequence

# Not after a letter, digit, dot or @, so an address's @ is not taken for one.
_AT_NAME = re.compile(r"(?<![\w.@])@(\w[\w.-]*)")


def mentioned_names(note: str, users: Sequence[str]) -> list[str]:
    """The users `note` @mentions, in the order first named, each once."""
    known = {name.lower(): name for name in users}
    found: list[str] = []
    for match in _AT_NAME.finditer(note):
        word = match.group(1)
        # "@dana." at the end of a sentence: the trailing dot is punctuation, unless the name has it.
        for candidate in (word, word.rstrip(".-")):
            name = known.get(candidate.lower())
            if name is not None:
                if name not in found:
                    found.append(name)
                break
    return found
