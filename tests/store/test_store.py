"""The Store interface, run identically on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator

import orjson
import pytest
from sqlalchemy import create_engine, select

from accord.exceptions import StoreError, UnknownCollection
from accord.stix import Record
from accord.store import Grant, PageQuery, Query, SqlStore, _migrate, open_store
from accord.store._schema import FREE_TEXT_TABLES, metadata
from accord.store._schema import objects as objects_table


def rec(
    n: int,
    *,
    version: str = "2024-01-01T00:00:00.000000000Z",
    type_: str = "indicator",
    revoked: bool = False,
    body: str = "",
    observables: tuple[tuple[str, str], ...] = (),
    name: str | None = None,
    labels: tuple[str, ...] = (),
) -> Record:
    oid = f"{type_}--{uuid.UUID(int=n, version=4)}"
    obj: dict[str, object] = {"type": type_, "id": oid, "modified": version, "x_body": body}
    if name is not None:
        obj["name"] = name
    if labels:
        obj["labels"] = list(labels)
    data = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    return Record(oid, type_, version, "2.1", revoked, data, observables, (), None, None)


@pytest.fixture
def store(backend: str) -> Iterator[SqlStore]:
    s = open_store(backend)
    yield s
    s.close()


def test_migrations_build_exactly_the_schema(backend: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    store = open_store(backend)
    try:
        with store.engine.connect() as conn:
            # The free-text index is dialect-specific (FTS5 / tsvector) and not in the metadata.
            def ours(name: str | None, kind: str, parent: object) -> bool:
                return not (kind == "table" and str(name).startswith(FREE_TEXT_TABLES))

            context = MigrationContext.configure(conn, opts={"include_name": ours})
            diff = compare_metadata(context, metadata)
        assert diff == []
        assert _migrate.current_revision(store.engine) == _migrate.head_revision()
    finally:
        store.close()


def test_open_without_migrate_refuses_an_empty_database(tmp_path: object) -> None:
    from accord.exceptions import SchemaOutOfDate

    with pytest.raises(SchemaOutOfDate, match="needs"):
        open_store(f"sqlite:///{tmp_path}/empty.db", migrate=False)


def test_each_version_is_stored_once(store: SqlStore) -> None:
    src = store.ensure_source("file", "a.json")
    with store.writer() as w:
        first = w.add([rec(1), rec(2)], source_pk=src)
    with store.writer() as w:
        again = w.add([rec(1), rec(2)], source_pk=src)
    assert (first.stored, first.duplicates) == (2, 0)
    assert (again.stored, again.duplicates) == (0, 2)
    assert store.stats().versions == 2


def test_duplicates_inside_one_batch_are_stored_once(store: SqlStore) -> None:
    src = store.ensure_source("file", "a.json")
    with store.writer() as w:
        result = w.add([rec(1), rec(1), rec(1, body="other")], source_pk=src)
    assert (result.stored, result.duplicates, len(result.conflicts)) == (1, 1, 1)


def test_conflicting_content_keeps_the_first(store: SqlStore) -> None:
    src = store.ensure_source("file", "a.json")
    with store.writer() as w:
        w.add([rec(1, body="first")], source_pk=src)
    with store.writer() as w:
        result = w.add([rec(1, body="second")], source_pk=src)
    assert [c.id for c in result.conflicts] == [rec(1).id]
    (kept,) = store.query(Query(ids=(rec(1).id,)))
    assert orjson.loads(kept.data)["x_body"] == "first"


def test_current_is_the_latest_version_and_revoked_is_honoured(store: SqlStore) -> None:
    src = store.ensure_source("file", "a.json")
    v1, v2 = "2024-01-01T00:00:00.000000000Z", "2024-06-01T00:00:00.000000000Z"
    with store.writer() as w:
        w.add([rec(1, version=v2), rec(1, version=v1), rec(2)], source_pk=src)
    current = list(store.query(Query(ids=(rec(1).id,))))
    assert [o.version for o in current] == [v2]
    assert len(list(store.query(Query(ids=(rec(1).id,), all_versions=True)))) == 2
    with store.writer() as w:
        w.add([rec(2, version=v2, revoked=True)], source_pk=src)
    assert list(store.query(Query(ids=(rec(2).id,)))) == []
    (revoked,) = store.query(Query(ids=(rec(2).id,), include_revoked=True))
    assert revoked.revoked and revoked.version == v2
    assert store.stats().revoked == 1


def test_date_added_is_strictly_increasing(store: SqlStore) -> None:
    src = store.ensure_source("file", "a.json")
    with store.writer() as w:
        w.add([rec(i) for i in range(1, 500)], source_pk=src)
    with store.writer() as w:
        w.add([rec(i) for i in range(500, 600)], source_pk=src)
    added = [o.added for o in store.query(Query())]
    assert len(added) == 599
    assert all(a < b for a, b in itertools.pairwise(added))


def test_a_failed_transaction_leaves_the_store_as_it_was(store: SqlStore) -> None:
    src = store.ensure_source("file", "a.json")
    with store.writer() as w:
        w.add([rec(1)], source_pk=src)

    def failing_import() -> None:
        with store.writer() as w:
            w.add([rec(2), rec(3)], source_pk=src)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing_import()
    assert [o.id for o in store.query(Query())] == [rec(1).id]


def test_value_index_finds_objects(store: SqlStore) -> None:
    src = store.ensure_source("file", "a.json")
    with store.writer() as w:
        w.add(
            [
                rec(1, observables=(("ipv4-addr", "203.0.113.5"),)),
                rec(2, observables=(("domain-name", "evil.example"), ("ipv4-addr", "203.0.113.5"))),
                rec(3, observables=(("ipv4-addr", "203.0.113.6"),)),
            ],
            source_pk=src,
        )
    hits = {o.id for o in store.query(Query(value="203.0.113.5"))}
    assert hits == {rec(1).id, rec(2).id}
    assert store.stats().observables == 4


def test_collections_hold_versions_and_one_version_can_be_in_several(store: SqlStore) -> None:
    src = store.ensure_source("file", "a.json")
    red = store.create_collection("red", "first")
    blue = store.create_collection("blue")
    with store.writer() as w:
        w.add([rec(1), rec(2)], source_pk=src, collection_pks=[red.pk])
    with store.writer() as w:
        w.add([rec(2), rec(3)], source_pk=src, collection_pks=[blue.pk])
    assert {o.id for o in store.query(Query(collection_pk=red.pk))} == {rec(1).id, rec(2).id}
    assert {o.id for o in store.query(Query(collection_pk=blue.pk))} == {rec(2).id, rec(3).id}
    assert store.collection_sizes() == {red.pk: 2, blue.pk: 2}
    assert store.collection("red") == red
    assert store.collection(blue.id) == blue
    with pytest.raises(UnknownCollection):
        store.collection("green")
    with pytest.raises(StoreError, match="exists"):
        store.create_collection("red")


def _superseded(store: SqlStore) -> dict[tuple[str, str], bool]:
    o = objects_table
    with store.engine.connect() as conn:
        rows = conn.execute(select(o.c.id, o.c.version, o.c.superseded)).all()
    return {(oid, version): bool(flag) for oid, version, flag in rows}


V1, V2, V3 = (f"2024-01-0{d}T00:00:00.000000000Z" for d in (1, 2, 3))


def test_superseded_marks_every_older_version_whatever_the_arrival_order(
    store: SqlStore,
) -> None:
    src = store.ensure_source("file", "a.json")
    with store.writer() as w:  # newest first, the oldest in a later batch
        w.add([rec(1, version=V2), rec(2, version=V1), rec(2, version=V3)], source_pk=src)
    with store.writer() as w:
        w.add([rec(1, version=V1), rec(3)], source_pk=src)
    one, two, three = rec(1).id, rec(2).id, rec(3).id
    assert _superseded(store) == {
        (one, V1): True,
        (one, V2): False,
        (two, V1): True,
        (two, V3): False,
        (three, V1): False,
    }


def test_migration_0004_marks_the_versions_already_stored(backend: str) -> None:
    engine = create_engine(backend)
    try:
        _migrate.upgrade(engine, "0003")
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO sources (pk, kind, name, created) VALUES (1, 'file', 'a', 0)"
            )
            rows = [rec(1, version=V2), rec(1, version=V1), rec(2)]
            conn.execute(  # the 0003 columns only: superseded does not exist yet
                objects_table.insert(),
                [
                    {"added": added, "id": r.id, "type": r.type, "version": r.version}
                    | {"spec_version": "2.1", "revoked": False, "source_pk": 1, "data": r.data}
                    for added, r in enumerate(rows, 1)
                ],
            )
    finally:
        engine.dispose()
    store = open_store(backend)  # migrates to the head
    try:
        assert _superseded(store) == {
            (rec(1).id, V1): True,
            (rec(1).id, V2): False,
            (rec(2).id, V1): False,
        }
    finally:
        store.close()


def test_last_version_of_a_collection_ignores_newer_ones_held_elsewhere(store: SqlStore) -> None:
    src = store.ensure_source("file", "a.json")
    red = store.create_collection("red")
    blue = store.create_collection("blue")
    with store.writer() as w:
        w.add([rec(1, version=V1), rec(2, version=V1)], source_pk=src, collection_pks=[red.pk])
        w.add([rec(1, version=V2)], source_pk=src, collection_pks=[blue.pk])
    red_last = store.collection_page(PageQuery(red.pk, versions=("last",)))
    blue_last = store.collection_page(PageQuery(blue.pk, versions=("last",)))
    first = store.collection_page(PageQuery(blue.pk, versions=("first",)))
    assert [(i.obj.id, i.obj.version) for i in red_last.items] == [
        (rec(1).id, V1),
        (rec(2).id, V1),
    ]
    assert [(i.obj.id, i.obj.version) for i in blue_last.items] == [(rec(1).id, V2)]
    assert [(i.obj.id, i.obj.version) for i in first.items] == [(rec(1).id, V2)]


def test_provenance_records_every_source_once(store: SqlStore) -> None:
    a = store.ensure_source("file", "a.json")
    b = store.ensure_source("peer", "partner-b")
    assert store.ensure_source("file", "a.json") == a
    with store.writer() as w:
        w.add([rec(1)], source_pk=a)
    for _ in range(2):
        with store.writer() as w:
            w.add([rec(1)], source_pk=b)
    (obj,) = store.query(Query())
    sources = [(p.kind, p.name) for p in store.provenance(obj.added)]
    assert sources == [("file", "a.json"), ("peer", "partner-b")]


def test_filters_by_type_time_label_and_text(store: SqlStore) -> None:
    src = store.ensure_source("file", "a.json")
    with store.writer() as w:
        w.add(
            [
                rec(1, type_="malware", name="Black Basta", labels=("ransomware",)),
                rec(2, name="C2 of Emotet", version="2023-05-01T00:00:00.000000000Z"),
                rec(3, name="quiet", labels=("ransomware", "tlp-clear")),
            ],
            source_pk=src,
        )

    def ids(q: Query) -> set[str]:
        return {o.id for o in store.query(q)}

    assert ids(Query(types=("malware",))) == {rec(1, type_="malware").id}
    assert ids(Query(labels=("ransomware",))) == {rec(1, type_="malware").id, rec(3).id}
    assert ids(Query(labels=("ransomware", "tlp-clear"))) == {rec(3).id}
    assert ids(Query(text="emotet")) == {rec(2).id}
    assert ids(Query(text="BASTA")) == {rec(1, type_="malware").id}
    assert ids(Query(modified_until="2023-12-31T00:00:00.000000000Z")) == {rec(2).id}
    assert ids(Query(modified_since="2024-01-01T00:00:00.000000000Z")) == {
        rec(1, type_="malware").id,
        rec(3).id,
    }
    assert len(list(store.query(Query(limit=2)))) == 2


def test_meta_values(store: SqlStore) -> None:
    store.set_meta("node_name", "a")
    store.set_meta("node_name", "b")
    assert store.get_meta("node_name") == "b"
    assert store.get_meta("missing") is None


def test_unknown_backend_is_a_config_error() -> None:
    from accord.exceptions import ConfigError

    with pytest.raises(ConfigError, match="use sqlite or postgresql"):
        open_store("mysql://x@localhost/db")


def test_sqlite_uses_wal(tmp_path: object) -> None:
    store = open_store(f"sqlite:///{tmp_path}/wal.db")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        store.close()


def test_refresh_statistics_analyzes_postgres(postgres_url: str) -> None:
    from sqlalchemy import text

    store = open_store(postgres_url)
    try:
        src = store.ensure_source("file", "a.json")
        with store.writer() as w:
            w.add([rec(i) for i in range(1, 50)], source_pk=src)
        count = text(
            "SELECT analyze_count FROM pg_stat_user_tables"
            " WHERE relname = 'objects' AND schemaname = current_schema()"
        )
        with store.engine.connect() as conn:
            before = conn.execute(count).scalar_one()
        store.refresh_statistics()
        with store.engine.connect() as conn:
            after = conn.execute(count).scalar_one()
        assert after == before + 1
    finally:
        store.close()


def test_big_writes_refresh_postgres_statistics(postgres_url: str) -> None:
    from sqlalchemy import text

    count = text(
        "SELECT analyze_count FROM pg_stat_user_tables"
        " WHERE relname = 'objects' AND schemaname = current_schema()"
    )
    store = open_store(postgres_url)
    try:
        src = store.ensure_source("file", "a.json")
        with store.writer() as w:
            w.add([rec(i) for i in range(1, 1_000)], source_pk=src)
        with store.engine.connect() as conn:
            assert conn.execute(count).scalar_one() == 0
        with store.writer() as w:  # the 1,000th version written: ANALYZE once
            w.add([rec(1_000)], source_pk=src)
        with store.engine.connect() as conn:
            assert conn.execute(count).scalar_one() == 1
    finally:
        store.close()


def test_collection_grant_is_the_collection_and_that_members_grant(store: SqlStore) -> None:
    shared = store.create_collection("shared")
    other = store.create_collection("other")
    alice, bob = store.create_member("alice"), store.create_member("bob")
    store.set_grant(shared.pk, alice.pk, can_read=True, can_write=False)
    store.set_grant(shared.pk, bob.pk, can_read=False, can_write=True)
    found = store.collection_grant(shared.id, alice.pk)
    assert found is not None
    assert found[0] == shared
    assert found[1] == Grant(shared.pk, alice.pk, can_read=True, can_write=False)
    bobs = store.collection_grant(shared.id, bob.pk)
    assert bobs is not None and bobs[1] == Grant(shared.pk, bob.pk, False, True)
    assert store.collection_grant(other.id, alice.pk) == (other, None)  # no grant there
    assert store.collection_grant(shared.id, None) == (shared, None)  # anonymous
    assert store.collection_grant("no-such-collection", alice.pk) is None
    assert store.collection_grant(shared.title, alice.pk) is None  # by id only
