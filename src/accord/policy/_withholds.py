"""What an agreement withholds for certain, told by a version's stored columns alone.

A TAXII page read through an agreement used to read every stored version and
decide each one, withheld or not: under a TLP ceiling and an embargo a third
of the rows were read, screened and parsed only to be dropped. The store keeps
three columns per version that these rules read (``type``; ``tlp``, the
strictest TLP level among ``object_marking_refs``; ``created`` in
microseconds: `accord.stix.Record`), so the page query can leave those rows
out (``accord.store.PageQuery.withheld``).

`decide` stays the one authority. `Withholds` only names rows that `decide`
withholds whatever else holds (a type the agreement excludes or does not
allow, a level above the ceiling, a creation inside the embargo); the rows it
keeps are decided as before. tests/policy/test_withholds.py checks over
generated objects and agreements that every row it leaves out is one `decide`
withholds, and tests/store checks that the SQL leaves out the rows `row` names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from accord.policy._agreement import Agreement
from accord.policy._decide import _embargo_cutoff
from accord.stix import Tlp

# STIX 2.1 §7.2.1: marking definitions are the markings themselves; `decide`
# applies neither the ceiling nor the embargo to them.
EXEMPT_TYPES = ("marking-definition",)
_TOP = max(Tlp)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Withholds:
    """The rows one agreement withholds now, by their type, TLP and ``created`` columns.

    Attributes:
        types_allowed: only these types may go (empty: any type).
        types_excluded: these types never go.
        ceiling: a row whose ``tlp`` is above it stays home; ``None``: no row
            is withheld by its level.
        unmarked: a row without a TLP level (``tlp`` NULL) stays home too (the
            agreement's level for unmarked objects is above its ceiling).
        created_from: a row whose ``created`` (microseconds) is at or after it
            is under embargo; ``None``: no embargo.
        exempt: types the ceiling and the embargo do not apply to.
    """

    types_allowed: tuple[str, ...] = ()
    types_excluded: tuple[str, ...] = ()
    ceiling: int | None = None
    unmarked: bool = False
    created_from: int | None = None
    exempt: tuple[str, ...] = EXEMPT_TYPES

    def row(self, otype: str, tlp: int | None, created: int | None) -> bool:
        """Whether the agreement withholds a version with these columns (what the SQL says).

        Args:
            otype: the version's type.
            tlp: its ``tlp`` column (``None``: no TLP marking).
            created: its ``created`` column (``None``: none or unreadable).
        """
        if self.types_allowed and otype not in self.types_allowed:
            return True
        if otype in self.types_excluded:
            return True
        if otype in self.exempt:
            return False
        if self.ceiling is not None and (self.unmarked if tlp is None else tlp > self.ceiling):
            return True
        return (
            self.created_from is not None and created is not None and (created >= self.created_from)
        )


def _cutoff_us(now: datetime, hours: float) -> int | None:
    """The embargo's cutoff as `decide` compares it (whole seconds), in microseconds.

    `decide` holds a version under embargo when the first 19 characters of its
    ``created`` are at or after ``_embargo_cutoff``; ``created`` microseconds
    (`accord.stix.Record`) at or after the same whole second are exactly those.
    """
    try:
        text = _embargo_cutoff(now, hours)
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None  # out of datetime's range: `decide` alone says
    if moment.strftime("%Y-%m-%dT%H:%M:%S") != text:
        return None
    return (moment - _EPOCH) // _US


def withholds(agreement: Agreement, now: datetime) -> Withholds | None:
    """What ``agreement`` withholds at ``now`` whatever else holds (None: nothing so told).

    Args:
        agreement: the agreement in force.
        now: the moment of the decisions (the gate's ``now``: the embargo).
    """
    # Under the top level's ceiling no level is above it (nor the unmarked one).
    ceiling = int(agreement.ceiling) if agreement.ceiling < _TOP else None
    created_from = None
    if agreement.embargo_hours:
        created_from = _cutoff_us(now, agreement.embargo_hours)
    found = Withholds(
        tuple(sorted(agreement.types_allowed)),
        tuple(sorted(agreement.types_excluded)),
        ceiling,
        agreement.unmarked > agreement.ceiling,
        created_from,
    )
    told = found.types_allowed or found.types_excluded or ceiling is not None
    return found if told or created_from is not None else None
