"""Names the node knows (malware, intrusion sets and their aliases) found in a text."""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"[\w\-]+")
MAX_WORDS = 5  # longest name looked for, in words
MIN_CHARS = 4  # shorter names ("APT", "Ice") match too much prose


def mentioned_names(text: str, names: Iterable[str]) -> frozenset[str]:
    """The names (lower-cased) that occur in the text as whole words, in one pass."""
    wanted: dict[tuple[str, ...], str] = {}
    for name in names:
        words = tuple(w.lower() for w in _WORD.findall(name))
        if words and len(words) <= MAX_WORDS and len(name) >= MIN_CHARS:
            wanted[words] = name.lower()
    if not wanted:
        return frozenset()
    lengths = sorted({len(k) for k in wanted})
    tokens = [w.lower() for w in _WORD.findall(text)]
    found: set[str] = set()
    for i in range(len(tokens)):
        for n in lengths:
            key = tuple(tokens[i : i + n])
            if key in wanted:
                found.add(wanted[key])
    return frozenset(found)
