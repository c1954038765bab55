"""Pages that leave out what an agreement withholds for certain (objects.tlp, objects.created).

Run identically on SQLite and PostgreSQL: the SQL must leave out exactly the
rows `accord.policy.Withholds.row` names, and the columns must hold what
`accord.stix.prepare` records, for versions written now and for those stored
before migration 0006.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from accord.policy import TLP_IDS, Tlp, Withholds
from accord.stix import Record, prepare
from accord.store import PageQuery, SqlStore, _migrate, open_store
from accord.store._schema import objects as objects_table

LEVEL_IDS = {level: next(m for m, lv in TLP_IDS.items() if lv is level) for level in Tlp}
STAMPS = (
    "2024-04-30T23:59:59.999Z",
    "2024-05-01T00:00:00.000Z",
    "2024-05-01T00:00:00.001Z",
    "2024-06-01T12:00:00.000Z",
)
CUTOFF = 1_714_521_600_000_000  # 2024-05-01T00:00:00Z in microseconds


def _objects(copies: int = 1) -> list[dict[str, Any]]:
    """Every mix of type, TLP marking (or none) and `created` the filter looks at."""
    out: list[dict[str, Any]] = []
    n = itertools.count(1)
    levels: list[Tlp | None] = [None, *Tlp]
    for _, otype, level, stamp in itertools.product(
        range(copies), ("indicator", "malware", "marking-definition"), levels, STAMPS
    ):
        oid = f"{otype}--{uuid.UUID(int=next(n), version=4)}"
        obj: dict[str, Any] = {"type": otype, "spec_version": "2.1", "id": oid, "created": stamp}
        if otype == "marking-definition":
            obj.update(definition_type="statement", definition={"statement": "x"})
        else:
            obj.update(modified="2024-07-01T00:00:00.000Z", name="n")
        if otype == "indicator":
            obj.update(pattern="[ipv4-addr:value = '198.51.100.7']", pattern_type="stix")
            obj.update(valid_from=stamp)
        if otype == "malware":
            obj["is_family"] = False
        if level is not None:
            obj["object_marking_refs"] = [LEVEL_IDS[level]]
        out.append(obj)
    return out


@pytest.fixture
def store(backend: str) -> Iterator[SqlStore]:
    s = open_store(backend)
    yield s
    s.close()


RULES = [
    Withholds(ceiling=int(Tlp.GREEN)),
    Withholds(ceiling=int(Tlp.GREEN), unmarked=True),
    Withholds(ceiling=int(Tlp.CLEAR), unmarked=True, created_from=CUTOFF),
    Withholds(created_from=CUTOFF),
    Withholds(types_excluded=("malware",), ceiling=int(Tlp.AMBER_STRICT)),
    Withholds(types_allowed=("indicator", "marking-definition"), created_from=CUTOFF),
    Withholds(types_allowed=("malware",), types_excluded=("malware",)),
    Withholds(ceiling=int(Tlp.AMBER), exempt=()),
]


def test_a_page_leaves_out_exactly_the_rows_withholds_names(store: SqlStore) -> None:
    records = [prepare(obj) for obj in _objects()]
    src = store.ensure_source("file", "a.json")
    coll = store.create_collection("c")
    with store.writer() as w:
        w.add(records, source_pk=src, collection_pks=[coll.pk])
    everything = {r.id for r in records}
    for rules in RULES:
        page = store.collection_page(PageQuery(coll.pk, limit=1000, withheld=rules))
        kept = {item.obj.id for item in page.items}
        expected = {r.id for r in records if not rules.row(r.type, r.tlp, r.created)}
        assert kept == expected, rules
        assert kept != everything or rules.types_allowed == ("indicator", "marking-definition")
    # Pages of 5 follow each other as without the filter, minus the rows it names.
    rules = RULES[2]
    seen: list[str] = []
    after = None
    while True:
        page = store.collection_page(PageQuery(coll.pk, after=after, limit=5, withheld=rules))
        seen += [item.obj.id for item in page.items]
        if not page.more:
            break
        after = page.items[-1].date_added
    assert seen == [r.id for r in records if not rules.row(r.type, r.tlp, r.created)]


def test_the_columns_hold_what_prepare_records(store: SqlStore) -> None:
    records = {r.id: r for r in (prepare(obj) for obj in _objects())}
    src = store.ensure_source("file", "a.json")
    with store.writer() as w:
        w.add(list(records.values()), source_pk=src)
    assert _columns(store) == {oid: (r.tlp, r.created) for oid, r in records.items()}
    amber = records[next(oid for oid, r in records.items() if r.tlp == Tlp.AMBER)]
    assert amber.tlp == 2 and amber.created is not None


def _columns(store: SqlStore) -> dict[str, tuple[int | None, int | None]]:
    o = objects_table
    with store.engine.connect() as conn:
        rows = conn.execute(select(o.c.id, o.c.tlp, o.c.created)).all()
    return {oid: (tlp, created) for oid, tlp, created in rows}


def test_migration_0006_fills_the_columns_of_versions_already_stored(backend: str) -> None:
    # More than one of the migration's batches of 2,000.
    records: list[Record] = [prepare(obj) for obj in _objects(copies=30)]
    engine = create_engine(backend)
    try:
        _migrate.upgrade(engine, "0005")
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO sources (pk, kind, name, created) VALUES (1, 'file', 'a', 0)"
            )
            conn.execute(  # the 0005 columns only: tlp and created do not exist yet
                objects_table.insert(),
                [
                    {"added": added, "id": r.id, "type": r.type, "version": r.version}
                    | {"spec_version": "2.1", "revoked": False, "source_pk": 1, "data": r.data}
                    for added, r in enumerate(records, 1)
                ],
            )
    finally:
        engine.dispose()
    store = open_store(backend)  # migrates to the head
    try:
        assert _columns(store) == {r.id: (r.tlp, r.created) for r in records}
        assert any(r.tlp is not None for r in records)
    finally:
        store.close()
