"""What a log source did with its lines: events, and the lines it skipped and why."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["MAX_MESSAGES", "Skip", "SkipReason", "SourceStats"]

MAX_MESSAGES = 100  # details kept; counts are always exact

# Why a line was skipped.
SkipReason = str
MALFORMED = "malformed"  # wrong number of fields, bad JSON, bad number, missing fields
TRUNCATED = "truncated"  # the input ended inside the line (a cut file, a broken .gz)
BINARY = "binary"  # not UTF-8 text, or NUL bytes
UNKNOWN = "unknown format"  # a line no reader of the chosen format understands


@dataclass(frozen=True, slots=True)
class Skip:
    """One skipped line: where, why, and what it started with."""

    source: str
    line: int
    reason: SkipReason
    detail: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}: {self.detail}"


@dataclass(slots=True)
class SourceStats:
    """Counts of one or more inputs; the first MAX_MESSAGES skips are kept with details."""

    lines: int = 0
    events: int = 0
    ignored: int = 0  # well-formed records that carry no observable (e.g. Zeek stats.log)
    skipped: Counter[str] = field(default_factory=Counter)
    skips: list[Skip] = field(default_factory=list)
    formats: Counter[str] = field(default_factory=Counter)  # records read, by format

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def merge(self, other: SourceStats) -> None:
        """Add another input's counts (and its details, while there is room)."""
        self.lines += other.lines
        self.events += other.events
        self.ignored += other.ignored
        self.skipped.update(other.skipped)
        self.formats.update(other.formats)
        self.skips.extend(other.skips[: MAX_MESSAGES - len(self.skips)])

    def skip(self, source: str, line: int, reason: SkipReason, detail: str) -> None:
        self.skipped[reason] += 1
        if len(self.skips) < MAX_MESSAGES:
            self.skips.append(Skip(source, line, reason, detail[:120]))
