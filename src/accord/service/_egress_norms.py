"""The community's norms under the egress gate: the floor each agreement stands on.

`accord.service.egress.open_gate` asks `under_norms` for the agreement in force: the
node's own agreement with the adopted norms of its community under it
(`accord.community.floor_agreement`: stricter is kept, looser is raised to the norm),
the inbound terms under ``no_onward_red``, and one line per rule the norms tightened,
each naming the norm and the proposal that adopted it (`accord policy explain`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from accord.community import Floor, contradictions, embargo_for, floor_agreement, floor_inbound
from accord.policy import ALL, Agreement, Inbound, Recipient, Tlp
from accord.service import community
from accord.service.node import Node

# What an uncovered recipient may receive when ACCORD_POLICY_UNCOVERED=share: all of it,
# before the community's floor goes under it.
UNCOVERED = Agreement(
    name="community-norms",
    members=frozenset({ALL}),
    collections=frozenset({ALL}),
    ceiling=Tlp.RED,
    unmarked=Tlp.CLEAR,
    source="the community's norms (no agreement of this node covers the recipient)",
)


def floor_of(node: Node) -> Floor | None:
    """The community's norms as a floor, when the node is in a community that has any."""
    norms = community.norms(node)
    return None if norms is None or norms.floor.empty else norms.floor


@dataclass(frozen=True, slots=True)
class Floored:
    """The agreement and inbound terms in force under the norms, and what they tightened."""

    agreement: Agreement | None
    open: bool  # still the grant alone (no floor, no agreement, uncovered=share)
    inbound: dict[str, Inbound]
    floor: Floor | None
    notes: tuple[str, ...]


def under_norms(
    node: Node,
    agreement: Agreement | None,
    open_mode: bool,
    recipient: Recipient,
    inbound: Mapping[str, Inbound],
) -> Floored:
    """The agreement (None: none covers the pair) with the community's floor under it.

    Args:
        open_mode: no agreement covers the pair and uncovered recipients are served:
            with norms in force, an agreement sharing everything stands in, floored.
    """
    norms = community.norms(node)
    if norms is None or norms.floor.empty or (agreement is None and not open_mode):
        return Floored(agreement, open_mode, dict(inbound), None, ())
    floor = norms.floor
    inside = recipient.identity_id in norms.member_ids or recipient.name in norms.member_names
    floored, notes = floor_agreement(agreement or UNCOVERED, floor, inside)
    if floor.no_onward_red is not None:
        notes.append(f"no onward sharing of TLP:RED: {floor.no_onward_red}")
    notes += [
        f"type {t}: embargo of at least {h} h: {src}"
        for t, (h, src) in sorted(floor.embargo.items())
        if embargo_for(floor, t, floored) is not None
    ]
    return Floored(floored, False, floor_inbound(inbound, floor), floor, tuple(notes))


def embargo_end(created: str, now: datetime, hours: int) -> str | None:
    """When a norm's embargo on an object created at ``created`` ends, if it has not yet."""
    try:
        start = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return "an unreadable created time"  # held: it cannot be shown to be over
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    until = start + timedelta(hours=hours)
    return until.strftime("%Y-%m-%dT%H:%M:%SZ") if until > now else None


def contradicting(node: Node, agreements: Sequence[Agreement | Inbound]) -> list[str]:
    """Where agreement files are looser than the community's norms (the norms win)."""
    floor = floor_of(node)
    if floor is None:
        return []
    return [f"{a.source}: {line}" for a in agreements for line in contradictions(a, floor)]
