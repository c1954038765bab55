"""Remarks and standings: what members said of each object, and its standing, kept beside it.

Every write of an ``opinion``, ``sighting`` or ``note`` version (whatever
path it came by: an import, a TAXII add, a pull, `accord opinion`) updates,
in the same transaction, the ``remarks`` of the objects it names and the
standing of each (`accord.standing.standing` over that object's remarks, with
the store's `Rules`). Only the objects named are recomputed: a batch of
10,000 opinions touches at most 10,000 standings, however big the store.

A remark is kept by the object's id whether the object is held or not, so an
opinion that arrives before its indicator counts as soon as the indicator is
stored (nothing more is done then: the standing is already there).

Standings are computed at write time: their decay with age moves on only at
the next write about the object, or at `StandingStore.refresh_standings`
(``accord standing refresh``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
)

from accord.standing import Rules, Standing, Voice, newer, standing, voices_of
from accord.stix import parse_timestamp
from accord.store import _schema as s
from accord.store._clock import now_us

REMARK_TYPES = frozenset({"opinion", "sighting", "note"})
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Remark:
    """One member's remark on one object (a row of ``remarks``)."""

    object_id: str
    kind: str  # opinion, withdrawn, sighting, note
    author: str
    source_id: str
    object_added: int
    value: float
    reason: str | None
    at: float

    @property
    def bucket(self) -> str:
        return "opinion" if self.kind == "withdrawn" else self.kind

    @property
    def slot(self) -> str:
        return self.source_id if self.kind == "note" else self.author

    def voice(self) -> Voice:
        kind: Any = self.kind
        return Voice(self.author, kind, self.value, self.at, self.reason, self.source_id)


@dataclass(frozen=True, slots=True)
class HeldStanding:
    """A stored standing and when it was computed (microseconds since the epoch)."""

    object_id: str
    standing: Standing
    computed: int


def _epoch(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value).timestamp()
    except ValueError:
        return None


def remarks_of(added: int, data: bytes, rules: Rules) -> tuple[list[Remark], list[Remark]]:
    """The remarks one stored version gives, and the sighting remarks it withdraws."""
    obj = orjson.loads(data)
    if not isinstance(obj, dict):
        return [], []
    otype = obj.get("type")
    if otype == "note":
        refs, at, oid = obj.get("object_refs"), _epoch(obj.get("modified")), obj.get("id")
        if not isinstance(refs, list) or at is None or not isinstance(oid, str):
            return [], []
        author = obj.get("created_by_ref")
        who = author if isinstance(author, str) else ""
        return [
            Remark(ref, "note", who, oid, added, 0.0, None, at)
            for ref in dict.fromkeys(refs)
            if isinstance(ref, str)
        ], []
    if otype == "sighting" and obj.get("revoked") is True:
        author, ref, at = obj.get("created_by_ref"), obj.get("sighting_of_ref"), obj.get("modified")
        when = _epoch(at)
        if isinstance(author, str) and isinstance(ref, str) and when is not None:
            return [], [Remark(ref, "sighting", author, str(obj.get("id")), added, 0.0, None, when)]
        return [], []
    return [
        Remark(ref, v.kind, v.member, v.source, added, v.value, v.reason, v.at)
        for ref, v in voices_of(obj, rules.sighting)
    ], []


def _replaces(new: Remark, old: Remark) -> bool:
    if new.kind == "note":
        return (new.at, new.object_added) > (old.at, old.object_added)
    return newer(new.voice(), old.voice())


def _row(r: Remark) -> dict[str, Any]:
    return {
        "object_id": r.object_id,
        "bucket": r.bucket,
        "slot": r.slot,
        "kind": r.kind,
        "author": r.author,
        "source_id": r.source_id,
        "object_added": r.object_added,
        "value": r.value,
        "reason": r.reason,
        "at": r.at,
    }


def _remark(r: Any) -> Remark:
    object_id, kind, author, source_id, added, value, reason, at = r
    return Remark(object_id, kind, author, source_id, int(added), float(value), reason, float(at))


_REMARK_COLUMNS = (
    s.remarks.c.object_id,
    s.remarks.c.kind,
    s.remarks.c.author,
    s.remarks.c.source_id,
    s.remarks.c.object_added,
    s.remarks.c.value,
    s.remarks.c.reason,
    s.remarks.c.at,
)
_KEY = and_(
    s.remarks.c.object_id == bindparam("k_object"),
    s.remarks.c.bucket == bindparam("k_bucket"),
    s.remarks.c.slot == bindparam("k_slot"),
)


def apply_remarks(
    conn: Connection, remarks: Sequence[Remark], withdrawn: Sequence[Remark], rules: Rules
) -> int:
    """Keep each (object, bucket, slot)'s latest remark, then recompute the objects touched.

    Returns:
        How many standings were recomputed.
    """
    t = s.remarks
    best: dict[tuple[str, str, str], Remark] = {}
    for r in remarks:
        key = (r.object_id, r.bucket, r.slot)
        held = best.get(key)
        if held is None or _replaces(r, held):
            best[key] = r
    ids = sorted({k[0] for k in best} | {w.object_id for w in withdrawn})
    stored: dict[tuple[str, str, str], Remark] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows = conn.execute(select(*_REMARK_COLUMNS).where(t.c.object_id.in_(chunk))).all()
        for row in rows:
            r = _remark(row)
            stored[(r.object_id, r.bucket, r.slot)] = r
    write = [r for k, r in best.items() if k not in stored or _replaces(r, stored[k])]
    gone = [
        w
        for w in withdrawn
        if (k := (w.object_id, "sighting", w.author)) in stored and stored[k].at <= w.at
    ]
    drop = [r for r in write if (r.object_id, r.bucket, r.slot) in stored] + gone
    if drop:
        conn.execute(
            delete(t).where(_KEY),
            [{"k_object": r.object_id, "k_bucket": r.bucket, "k_slot": r.slot} for r in drop],
        )
    if write:
        conn.execute(insert(t), [_row(r) for r in write])
    touched = {r.object_id for r in write if r.kind != "note"} | {w.object_id for w in gone}
    return recompute(conn, sorted(touched), rules)


def recompute(conn: Connection, ids: Sequence[str], rules: Rules, now: int | None = None) -> int:
    """Compute and store the standing of these objects from their remarks."""
    t, st = s.remarks, s.standings
    now = now_us() if now is None else now
    done = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        voices: dict[str, list[Voice]] = {}
        rows = conn.execute(
            select(*_REMARK_COLUMNS).where(t.c.object_id.in_(chunk), t.c.bucket != "note")
        ).all()
        for row in rows:
            r = _remark(row)
            voices.setdefault(r.object_id, []).append(r.voice())
        conn.execute(delete(st).where(st.c.object_id.in_(chunk)))
        out = []
        for oid in chunk:
            found = standing(voices.get(oid, ()), rules, now / 1e6)
            if found.members:
                out.append(_standing_row(oid, found, now))
        if out:
            conn.execute(insert(st), out)
        done += len(chunk)
    return done


def _standing_row(oid: str, x: Standing, computed: int) -> dict[str, Any]:
    return {
        "object_id": oid,
        "score": x.score,
        "members": x.members,
        "agree": x.agree,
        "disagree": x.disagree,
        "sightings": x.sightings,
        "false_positives": x.false_positives,
        "reasons": ",".join(x.reasons),
        "computed": computed,
    }


def _held(r: Any) -> HeldStanding:
    oid, score, members, agree, disagree, sightings, fps, reasons, computed = r
    found = Standing(
        float(score),
        int(members),
        int(agree),
        int(disagree),
        int(sightings),
        int(fps),
        tuple(x for x in str(reasons).split(",") if x),
    )
    return HeldStanding(str(oid), found, int(computed))


_STANDING_COLUMNS = tuple(s.standings.c)


class StandingStore(ABC):
    """Remarks and standings on a SQLAlchemy engine (a mixin of SqlStore)."""

    engine: Engine
    standing_rules: Rules

    @abstractmethod
    def write_tx(self) -> AbstractContextManager[Connection]:
        """A transaction holding the store's single write lock (SqlStore gives it)."""

    def standings(self, ids: Iterable[str]) -> dict[str, HeldStanding]:
        """The stored standings of these objects (absent: no member spoke of it)."""
        wanted = list(dict.fromkeys(ids))
        out: dict[str, HeldStanding] = {}
        st = s.standings
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                for r in conn.execute(select(*_STANDING_COLUMNS).where(st.c.object_id.in_(chunk))):
                    held = _held(r)
                    out[held.object_id] = held
        return out

    def standings_since(self, computed_after: int = -1) -> list[HeldStanding]:
        """Every standing computed after this time (microseconds), oldest computation first."""
        st = s.standings
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*_STANDING_COLUMNS)
                .where(st.c.computed > computed_after)
                .order_by(st.c.computed, st.c.object_id)
            ).all()
        return [_held(r) for r in rows]

    def last_standing_computed(self) -> int:
        """When the latest standing was computed (microseconds; -1: none yet)."""
        st = s.standings
        with self.engine.connect() as conn:
            value = conn.execute(select(func.max(st.c.computed))).scalar()
        return -1 if value is None else int(value)

    def standing_scores(
        self,
        computed_after: int = -1,
        *,
        false_positives_at_least: int | None = None,
        score_below: float | None = None,
        score_at_least: float | None = None,
    ) -> Iterator[tuple[str, float, int, str, int]]:
        """(object id, score, false positives, reasons, computed) of standings, streamed.

        What a matcher over millions of indicators needs, filtered in SQL: only those
        computed after ``computed_after`` (microseconds) and, when given, those with at
        least ``false_positives_at_least`` reports OR a score below ``score_below``, or
        (alone) those with a score at or above ``score_at_least``.
        """
        st = s.standings
        stmt = select(
            st.c.object_id, st.c.score, st.c.false_positives, st.c.reasons, st.c.computed
        ).where(st.c.computed > computed_after)
        either = []
        if false_positives_at_least is not None:
            either.append(st.c.false_positives >= false_positives_at_least)
        if score_below is not None:
            either.append(st.c.score < score_below)
        if either:
            stmt = stmt.where(or_(*either))
        if score_at_least is not None:
            stmt = stmt.where(st.c.score >= score_at_least)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=5000).execute(stmt)
            for oid, score, fps, reasons, computed in result:
                yield str(oid), float(score), int(fps), str(reasons), int(computed)

    def remarks(
        self, object_ids: Iterable[str] = (), *, added_after: int | None = None
    ) -> list[Remark]:
        """Remarks on these objects (all objects when none is named), by time."""
        t = s.remarks
        stmt = select(*_REMARK_COLUMNS)
        if added_after is not None:
            stmt = stmt.where(t.c.object_added > added_after)
        wanted = list(dict.fromkeys(object_ids))
        out: list[Remark] = []
        with self.engine.connect() as conn:
            if not wanted:
                out = [_remark(r) for r in conn.execute(stmt)]
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                out.extend(_remark(r) for r in conn.execute(stmt.where(t.c.object_id.in_(chunk))))
        out.sort(key=lambda r: (r.at, r.object_id, r.source_id))
        return out

    def refresh_standings(self) -> int:
        """Rebuild every remark from the stored objects and recompute every standing.

        For the versions stored before migration 0010, after a change of the
        rules, and to bring the decay with age up to now. Returns how many
        standings were computed.
        """
        o = s.objects
        newer_o = o.alias("newer")
        current = ~exists().where(newer_o.c.id == o.c.id, newer_o.c.version > o.c.version)
        remarks: list[Remark] = []
        with self.write_tx() as conn:
            rows = conn.execute(
                select(o.c.added, o.c.data).where(o.c.type.in_(sorted(REMARK_TYPES)), current)
            )
            for added, data in rows:
                # A current version that withdraws a sighting gives no remark: its voice is gone.
                remarks.extend(remarks_of(int(added), bytes(data), self.standing_rules)[0])
            conn.execute(delete(s.remarks))
            conn.execute(delete(s.standings))
            best: dict[tuple[str, str, str], Remark] = {}
            for r in remarks:
                key = (r.object_id, r.bucket, r.slot)
                if key not in best or _replaces(r, best[key]):
                    best[key] = r
            if best:
                conn.execute(insert(s.remarks), [_row(r) for r in best.values()])
            ids = sorted({r.object_id for r in best.values() if r.kind != "note"})
            return recompute(conn, ids, self.standing_rules)
