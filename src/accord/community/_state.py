"""The community state: a pure function of the charter and a set of records.

`replay` starts from the genesis state and walks the chain of adoptions:
at each state it takes the proposals that name that state as their base,
counts the votes of that state's members, and moves to the state the adopted
proposal makes (at most one per state; see docs/community.md for the rules).
Records are processed in the order of the chain and, within one state, in
record-id order, so the order they arrived in never matters: two nodes that
hold the same records compute the same view, byte for byte.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from accord.community._canon import canonical, digest, is_digest, verify, verify_message
from accord.community._charter import Charter, Member, check_member, check_thresholds
from accord.community._norms import Norm, check_norm
from accord.community._records import Record, read_record, rotation_proof_body
from accord.exceptions import RecordRefused

_FMT = "%Y-%m-%dT%H:%M:%S.%f"


def _fraction(f: Fraction) -> str:
    return f"{f.numerator}/{f.denominator}"


@dataclass(frozen=True, slots=True)
class State:
    """One state of the community; its hash is the SHA-256 of `document`'s canonical bytes."""

    community: str
    height: int
    parent: str
    adopted: str
    members: tuple[Member, ...]
    thresholds: dict[str, Fraction]
    voting_period_hours: int
    norms: tuple[Norm, ...]
    hash: str = ""

    @property
    def document(self) -> dict[str, Any]:
        return {
            "adopted": self.adopted,
            "community": self.community,
            "height": self.height,
            "members": [m.as_json() for m in self.members],
            "norms": [n.as_json() for n in self.norms],
            "parent": self.parent,
            "thresholds": {k: _fraction(v) for k, v in sorted(self.thresholds.items())},
            "voting_period_hours": self.voting_period_hours,
        }

    def member(self, member_id: str) -> Member | None:
        return next((m for m in self.members if m.id == member_id), None)

    def norm(self, name: str) -> Norm | None:
        return next((n for n in self.norms if n.name == name), None)


def _sealed(state: State) -> State:
    return State(
        state.community,
        state.height,
        state.parent,
        state.adopted,
        tuple(sorted(state.members)),
        state.thresholds,
        state.voting_period_hours,
        tuple(sorted(state.norms, key=lambda n: n.name)),
        digest(canonical(state.document)),
    )


def genesis_state(charter: Charter) -> State:
    """The state the charter makes."""
    return _sealed(
        State(
            charter.id,
            0,
            "",
            "",
            charter.members,
            charter.thresholds,
            charter.voting_period_hours,
            charter.norms,
        )
    )


def expiry(created: str, hours: int) -> str:
    """``created`` plus the voting period, in the same form."""
    moment = datetime.strptime(created[:-1], _FMT) + timedelta(hours=hours)
    return moment.strftime(_FMT)[:-3] + "Z"


@dataclass(frozen=True, slots=True)
class Tally:
    """The counted votes on one proposal."""

    yes: int
    no: int
    abstain: int
    eligible: int
    needed: int


@dataclass(frozen=True, slots=True)
class ProposalView:
    """A proposal as the state sees it.

    ``status``: ``adopted``, ``open`` (its base is the current state), or
    ``superseded`` (another proposal on its base was adopted).
    """

    record: Record
    status: str
    tally: Tally
    expires: str


@dataclass(frozen=True, slots=True)
class Fault:
    """A provable fault: the member, what it did, and the signed records that show it."""

    member: str
    kind: str  # "two votes on one proposal" | "yes on competing proposals"
    base: str  # the state the competing proposals amend
    evidence: tuple[str, ...]


@dataclass(slots=True)
class View:
    """Everything the records say: the state, its chain, proposals, faults, and each record's fate.

    Attributes:
        state: the current state.
        chain: every state from the genesis on.
        proposals: proposal id -> its view (proposals whose base is in the chain).
        faults: provable faults, in (base, member) order.
        accepted: record id -> record (valid: it counts or is kept as evidence).
        refused: record id (or the bytes' SHA-256) -> why it never counts.
        deferred: record id -> what it waits for (an unknown base or proposal).
        withdrawn: members of the current state who have withdrawn from it.
    """

    state: State
    chain: list[State]
    proposals: dict[str, ProposalView] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    accepted: dict[str, Record] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    deferred: dict[str, str] = field(default_factory=dict)
    withdrawn: frozenset[str] = frozenset()

    def document(self) -> dict[str, Any]:
        """The view as canonical-ready JSON (two nodes with the same records: the same bytes)."""
        return {
            "chain": [s.hash for s in self.chain],
            "faults": [
                {"base": f.base, "evidence": list(f.evidence), "kind": f.kind, "member": f.member}
                for f in self.faults
            ],
            "proposals": {
                pid: {
                    "expires": p.expires,
                    "status": p.status,
                    "tally": [p.tally.yes, p.tally.no, p.tally.abstain, p.tally.needed],
                }
                for pid, p in sorted(self.proposals.items())
            },
            "state": self.state.document,
            "state_hash": self.state.hash,
            "withdrawn": sorted(self.withdrawn),
        }


def _needed(threshold: Fraction, eligible: int) -> int:
    """The fewest yes votes that reach the threshold: yes / eligible >= threshold."""
    return -((-threshold.numerator * eligible) // threshold.denominator)


def _apply_check(state: State, p: Record) -> str | None:
    """Why a proposal's action cannot apply to its base state (None: it can)."""
    a = p.action
    kind = a["type"]
    if kind == "admit":
        m = check_member(a["member"], p.id)
        if state.member(m.id) is not None:
            return f"{m.id} is already a member"
        if any(x.key == m.key or x.name == m.name for x in state.members):
            return "another member has that key or name"
    elif kind == "remove":
        if state.member(a["member"]) is None:
            return f"{a['member']} is not a member"
        if len(state.members) == 1:
            return "would leave the community without members"
    elif kind == "rotate-key":
        old = state.member(a["member"])
        if old is None:
            return f"{a['member']} is not a member"
        if any(x.key == a["key"] for x in state.members):
            return "the new key is already a member's key"
        body = rotation_proof_body(state.community, old.id, a["key"], state.hash)
        # TUF, "Update the root role": the new root is signed by a threshold of the old
        # root's keys and by the new keys. Here: the old key consents to its successor and
        # the new key signs too (both bound to this state); the threshold is the vote.
        if not verify(old.key, "rotate-key", body, a["proof"]):
            return "the proof is not the old key's signature of the new key on this base"
        if not verify(a["key"], "rotate-key", body, a["new_proof"]):
            return "new_proof is not the new key's signature on this base"
    elif kind in ("adopt-norm", "change-norm"):
        name = a["norm"]["name"]
        present = state.norm(name) is not None
        if kind == "adopt-norm" and present:
            return f"norm {name} is already adopted (propose change-norm)"
        if kind == "change-norm" and not present:
            return f"there is no norm {name} to change"
    elif kind == "repeal-norm" and state.norm(a["name"]) is None:
        return f"there is no norm {a['name']} to repeal"
    return None


def _apply(state: State, p: Record, withdrawn: frozenset[str]) -> State:
    a = p.action
    kind = a["type"]
    members = {m.id: m for m in state.members}
    norms = {n.name: n for n in state.norms}
    thresholds, period = state.thresholds, state.voting_period_hours
    if kind == "admit":
        m = check_member(a["member"], p.id)
        members[m.id] = m
    elif kind == "remove":
        members.pop(a["member"], None)
    elif kind == "rotate-key":
        old = members[a["member"]]
        members[old.id] = Member(old.id, a["key"], old.name, old.jurisdiction)
    elif kind in ("adopt-norm", "change-norm"):
        name, rule = check_norm(a["norm"], p.id)
        norms[name] = Norm(name, rule, p.id)
    elif kind == "repeal-norm":
        norms.pop(a["name"], None)
    else:
        thresholds = check_thresholds(a["thresholds"], p.id)
        period = int(a["voting_period_hours"])
    for mid in withdrawn:
        members.pop(mid, None)
    return _sealed(
        State(
            state.community,
            state.height + 1,
            state.hash,
            p.id,
            tuple(members.values()),
            thresholds,
            period,
            tuple(norms.values()),
        )
    )


def read_all(charter: Charter, datas: Iterable[bytes]) -> tuple[dict[str, Record], dict[str, str]]:
    """Records read in form, one per id (of two signatures of one body, the lower);
    and the bytes refused with their reason."""
    records: dict[str, Record] = {}
    refused: dict[str, str] = {}
    for data in datas:
        try:
            r = read_record(data, charter.id)
        except RecordRefused as exc:
            refused[exc.what if is_digest(exc.what) else digest(data)] = exc.reason
            continue
        held = records.get(r.id)
        if held is None or r.sig < held.sig:
            records[r.id] = r
    return records, refused


def replay(charter: Charter, datas: Iterable[bytes]) -> View:
    """The view of a community from its charter and any set of record bytes."""
    records, refused = read_all(charter, datas)
    return replay_records(charter, records, refused)


def replay_records(charter: Charter, records: dict[str, Record], refused: dict[str, str]) -> View:
    """`replay` on records already read."""
    props: dict[str, list[Record]] = defaultdict(list)
    leaves: dict[str, list[Record]] = defaultdict(list)
    votes: dict[str, list[Record]] = defaultdict(list)
    for r in sorted(records.values(), key=lambda r: r.id):
        if r.kind == "proposal":
            props[r.base].append(r)
        elif r.kind == "withdrawal":
            leaves[r.base].append(r)
        else:
            votes[r.body["proposal"]].append(r)
    state = genesis_state(charter)
    view = View(state, [state], refused=dict(refused))
    done: set[str] = set()
    while True:
        adopted, withdrawn = _step(view, state, props, leaves, votes, done)
        if adopted is None:
            view.withdrawn = withdrawn
            break
        state = _apply(state, adopted, withdrawn)
        view.chain.append(state)
        view.state = state
    for r in records.values():
        if r.id in done:
            continue
        if r.kind == "vote":
            if r.body["proposal"] in view.refused:
                view.refused[r.id] = "its proposal was refused"
            else:
                view.deferred[r.id] = "waiting for its proposal (not held, or its base not reached)"
        else:
            view.deferred[r.id] = f"waiting for its base state {r.base[:16]} (not reached)"
    return view


def _valid(view: View, state: State, r: Record, what: str) -> bool:
    """Signed by a member of ``state`` with the key it has there; else refused."""
    member = state.member(r.author)
    if member is None:
        view.refused[r.id] = f"{r.author} is not a member of the {what}"
        return False
    if not verify_message(member.key, r.signed, r.sig):
        view.refused[r.id] = f"the signature does not verify with {member.name}'s key"
        return False
    return True


def _step(
    view: View,
    state: State,
    props: dict[str, list[Record]],
    leaves: dict[str, list[Record]],
    votes: dict[str, list[Record]],
    done: set[str],
) -> tuple[Record | None, frozenset[str]]:
    """Count the proposals on one state: the one adopted (if any) and who withdrew."""
    h = state.hash
    withdrawn = set()
    for w in leaves.get(h, ()):
        done.add(w.id)
        if _valid(view, state, w, "state it leaves"):
            view.accepted[w.id] = w
            withdrawn.add(w.author)
    gone = frozenset(withdrawn)
    eligible = [m.id for m in state.members if m.id not in gone]
    live: list[tuple[Record, str]] = []
    for p in props.get(h, ()):
        done.add(p.id)
        if not _valid(view, state, p, "base state"):
            continue
        why = _apply_check(state, p)
        if why is not None:
            view.refused[p.id] = f"cannot apply to its base state: {why}"
            continue
        view.accepted[p.id] = p
        live.append((p, expiry(p.created, state.voting_period_hours)))
    # Each member's counted votes on this base: proposal id -> member -> votes.
    cast: dict[str, dict[str, list[Record]]] = {}
    for p, expires in live:
        per: dict[str, list[Record]] = defaultdict(list)
        for v in votes.get(p.id, ()):
            done.add(v.id)
            if not _valid(view, state, v, "proposal's base state"):
                continue
            if v.author in gone:
                view.refused[v.id] = f"{v.author} withdrew from the proposal's base state"
                continue
            if v.created > expires:
                view.refused[v.id] = f"cast at {v.created}, after the proposal expired at {expires}"
                continue
            view.accepted[v.id] = v
            per[v.author].append(v)
        cast[p.id] = per
    # Equivocation: two votes on one proposal, or yes on two proposals of this base.
    faults: list[Fault] = []
    for _pid, per in cast.items():
        for member, vs in list(per.items()):
            if len(vs) > 1:
                faults.append(
                    Fault(member, "two votes on one proposal", h, tuple(v.id for v in vs))
                )
                del per[member]
    yeses: dict[str, list[Record]] = defaultdict(list)
    for per in cast.values():
        for member, vs in per.items():
            if vs[0].body["choice"] == "yes":
                yeses[member].append(vs[0])
    for member, vs in yeses.items():
        if len(vs) > 1:
            faults.append(Fault(member, "yes on competing proposals", h, tuple(v.id for v in vs)))
            for v in vs:
                del cast[v.body["proposal"]][member]
    view.faults.extend(sorted(faults, key=lambda f: (f.member, f.kind, f.evidence)))
    adopted: Record | None = None
    tallies: dict[str, Tally] = {}
    for p, _ in live:
        choices = [vs[0].body["choice"] for m, vs in cast[p.id].items() if m in eligible]
        needed = _needed(state.thresholds[p.decision], len(eligible))
        t = Tally(
            choices.count("yes"),
            choices.count("no"),
            choices.count("abstain"),
            len(eligible),
            needed,
        )
        tallies[p.id] = t
        if eligible and t.yes >= needed and adopted is None:
            adopted = p  # in id order: the lowest id wins a tie (only below the thresholds' rule)
    for p, expires in live:
        status = "adopted" if p is adopted else ("open" if adopted is None else "superseded")
        view.proposals[p.id] = ProposalView(p, status, tallies[p.id], expires)
    return adopted, gone
