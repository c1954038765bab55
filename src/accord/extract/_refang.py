"""Refanging: undo what analysts do to make indicators unclickable, keeping offsets.

A report writes ``hxxp://evil[.]com`` so that nobody clicks it; patterns need
``http://evil.com``. `refang` rewrites the text and keeps a map from every
offset of the rewritten text back to the original, so that each finding can
point at the characters the analyst actually wrote. Libraries that refang
(ioc-fanger, iocextract) return only the new text, which loses the offsets:
that is why this small rewriter is Accord's own.
"""

from __future__ import annotations

import bisect
import re
from array import array
from dataclasses import dataclass

# Each defanging and what it stands for. Order matters only inside one
# alternation (longest first); the scan is one pass, left to right.
_DOT = r"\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\}|\[\.|\.\]|<\.>|\\\."
_RULES: tuple[tuple[str, str], ...] = (
    (r"\b(?:hxxp|hXXp|h\*\*p|h\[tt\]p|hxtp|htxp|meow)(?=s?(?:\[?:|://|\[://\]))", "http"),
    (r"\b(?:fxp|fxxp)(?=s?(?:\[?:|://|\[://\]))", "ftp"),
    (r"\[\s*://\s*\]|\(\s*://\s*\)|\[:\]//|\[:/\]/|:\[//\]", "://"),
    (r"\[\s*:\s*\]|\(\s*:\s*\)", ":"),
    (r"\[\s*/\s*\]", "/"),
    (r"\[\s*(?:@|at)\s*\]|\(\s*(?:@|at)\s*\)|\{\s*(?:@|at)\s*\}", "@"),
    (_DOT, "."),
    # "example [dot] com" with spaces only inside brackets is handled above;
    # a bare " dot " would turn prose into domains, so it is not refanged.
)
_SCAN = re.compile("|".join(f"(?P<r{i}>{p})" for i, (p, _) in enumerate(_RULES)), re.IGNORECASE)
_REPLACEMENT = {f"r{i}": r for i, (_, r) in enumerate(_RULES)}


@dataclass(frozen=True, slots=True)
class Refanged:
    """Refanged text and the way back to the original's offsets.

    Attributes:
        text: the refanged text.
        changed: the (start, end) spans of ``text`` that a rewrite produced.
    """

    text: str
    _new_starts: array[int]
    _old_starts: array[int]
    changed: tuple[tuple[int, int], ...]

    def original(self, offset: int) -> int:
        """The offset in the original text of ``offset`` in the refanged text."""
        i = bisect.bisect_right(self._new_starts, offset) - 1
        if i < 0:
            return offset
        return self._old_starts[i] + (offset - self._new_starts[i])

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of a refanged span (end exclusive)."""
        if end <= start:
            o = self.original(start)
            return o, o
        return self.original(start), self.original(end - 1) + 1

    def was_defanged(self, start: int, end: int) -> bool:
        """Whether any rewrite falls inside the refanged span [start, end)."""
        i = bisect.bisect_left(self.changed, (start, -1))
        return any(a < end and b > start for a, b in self.changed[max(0, i - 1) : i + 2])


def refang(text: str) -> Refanged:
    """Rewrite every defanged form (``hxxp``, ``[.]``, ``(.)``, ``[dot]``, ``[:]``,
    ``[at]``, ``fxp`` ...) to what it stands for, in one pass."""
    pieces: list[str] = []
    # Arrays, not lists: ten megabytes of "[.]" would cost a list of millions of ints.
    new_starts: array[int] = array("q")
    old_starts: array[int] = array("q")
    changed: list[tuple[int, int]] = []
    new_pos = 0
    old_pos = 0
    for m in _SCAN.finditer(text):
        if m.start() > old_pos:
            seg = text[old_pos : m.start()]
            new_starts.append(new_pos)
            old_starts.append(old_pos)
            pieces.append(seg)
            new_pos += len(seg)
        rep = _REPLACEMENT[m.lastgroup or ""]
        # Every character of the replacement maps to the start of the defanged token.
        for k in range(len(rep)):
            new_starts.append(new_pos + k)
            old_starts.append(m.start() if k < len(rep) - 1 else m.end() - 1)
        pieces.append(rep)
        changed.append((new_pos, new_pos + len(rep)))
        new_pos += len(rep)
        old_pos = m.end()
    if old_pos < len(text) or not pieces:
        new_starts.append(new_pos)
        old_starts.append(old_pos)
        pieces.append(text[old_pos:])
    return Refanged("".join(pieces), new_starts, old_starts, tuple(changed))


def refang_value(value: str) -> str:
    """Refang one value (an IOC typed by hand, ``--drop evil[.]com``)."""
    return refang(value).text
