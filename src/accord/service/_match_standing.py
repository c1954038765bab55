"""Standings in detection: which hits `accord match` drops, and why.

An indicator reported as a false positive by at least
``ACCORD_FP_SUPPRESS_MEMBERS`` distinct members is *suppressed*: its hits make
no sighting, and the summary names it with the members' reasons. With
``--min-standing X``, an indicator whose standing is below X (0 for one nobody
spoke of) is dropped the same way.

The indicators stay in the matcher and the decision is taken per hit, in the
parent process (forked workers need not know the standings): the hot path of
matching is untouched, a suppressed indicator costs one dictionary lookup per
hit, and the summary can say how many hits each suppression took away. Only the
standings that drop hits are read (selected in SQL: a store of a million
standings with a few suppressed costs a few rows); with a positive
``--min-standing``, where every indicator nobody spoke of is dropped, those at
or above it are read instead. While following a log, standings computed since
the last look are read with the indicators (``poll``).
"""

from __future__ import annotations

from collections import Counter

from accord.patterns import Hit
from accord.service.node import Node

__all__ = ["StandingGate"]


class StandingGate:
    """The standings `match_paths` needs, and the hits they drop."""

    def __init__(self, node: Node, *, min_standing: float | None, suppress_members: int) -> None:
        self.node = node
        self.min_standing = min_standing
        self.suppress_members = suppress_members
        # With a positive minimum: the indicators whose standing lets their hits count.
        self.allowed: set[str] = set()
        self.blocked: dict[str, str] = {}  # indicator id -> why its hits are dropped
        self.last = -1
        # An indicator nobody spoke of stands at 0: below a positive minimum.
        self.default_blocked = (
            f"standing +0.00 is below --min-standing {min_standing:+.2f}"
            if min_standing is not None and min_standing > 0
            else None
        )

    def _judge(self, oid: str, score: float, fps: int, reasons: str) -> None:
        why = None
        if self.suppress_members and fps >= self.suppress_members:
            why = (
                f"suppressed: reported as a false positive by {fps} member(s)"
                f" ({reasons.replace(',', ', ')});"
                f" ACCORD_FP_SUPPRESS_MEMBERS={self.suppress_members}"
            )
        elif self.min_standing is not None and score < self.min_standing:
            why = f"standing {score:+.2f} is below --min-standing {self.min_standing:+.2f}"
        if why is None:
            self.blocked.pop(oid, None)
            if self.default_blocked is not None:
                self.allowed.add(oid)
        else:
            self.blocked[oid] = why
            self.allowed.discard(oid)

    def _read(self, computed_after: int, *, filtered: bool) -> int:
        store = self.node.store
        if not filtered:
            rows = store.standing_scores(computed_after)
        elif self.default_blocked is not None:
            # Everything is dropped but what stands high enough (and is not suppressed).
            rows = store.standing_scores(computed_after, score_at_least=self.min_standing)
        elif self.suppress_members or self.min_standing is not None:
            rows = store.standing_scores(
                computed_after,
                false_positives_at_least=self.suppress_members or None,
                score_below=self.min_standing,
            )
        else:
            rows = iter(())
        n = 0
        for oid, score, fps, reasons, computed in rows:
            n += 1
            self.last = max(self.last, computed)
            self._judge(oid, score, fps, reasons)
        return n

    def load(self) -> int:
        """Read the standings that decide; returns how many indicators are blocked."""
        # The clock before the read: a standing computed meanwhile is read again by poll.
        self.last = max(self.last, self.node.store.last_standing_computed())
        self._read(-1, filtered=True)
        return len(self.blocked)

    def poll(self) -> int:
        """Read every standing computed since the last look; how many changed."""
        return self._read(self.last, filtered=False)

    def keep(self, found: list[Hit], dropped: Counter[str], why: dict[str, str]) -> list[Hit]:
        """The hits that count; the others are added to ``dropped`` with their reason."""
        if not (self.blocked or self.default_blocked):
            return found
        kept = []
        for h in found:
            reason = self.why(h.indicator_id)
            if reason is None:
                kept.append(h)
            else:
                dropped[h.indicator_id] += 1
                why[h.indicator_id] = reason
        return kept

    def why(self, indicator_id: str) -> str | None:
        """Why this indicator's hits are dropped, or None when they count."""
        found = self.blocked.get(indicator_id)
        if found is None and self.default_blocked is not None and indicator_id not in self.allowed:
            return self.default_blocked
        return found
