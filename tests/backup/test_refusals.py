"""Tampered backups, occupied targets and failed backups: refused, and nothing left half-done."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from sqlalchemy import create_engine

from accord.exceptions import BackupError, BackupInvalid, RestoreRefused
from accord.service import backup
from accord.service.ingest import ingest_objects
from accord.service.node import Node
from accord.store import _backup as db
from tests.conftest import settings_for
from tests.taxii.helpers import indicator


def _small(node: Node, count: int = 30, start: int = 0) -> None:
    outcomes = ingest_objects(
        node,
        [indicator(n) for n in range(start, start + count)],
        source=("test", "t"),
        collection_pks=[],
    )
    assert all(o.ok for o in outcomes)


def _database_file(src: Path) -> Path:
    return next(p for p in (src / "accord.db", src / "accord.pgdump") if p.exists())


def test_occupied_targets_changed_bytes_and_failed_backups_are_refused(
    node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small(node)
    backup.backup(node.settings, tmp_path / "b")
    _refused_over_data_or_a_node(node, tmp_path)
    # One changed byte of the database copy or dump.
    path = _database_file(tmp_path / "b")
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    settings = settings_for(tmp_path / "fresh", node.settings.database_url)
    with pytest.raises(BackupInvalid, match="damaged or changed") as caught:
        backup.restore(settings, tmp_path / "b")
    assert caught.value.where == str(path)
    with pytest.raises(BackupInvalid, match="damaged or changed"):
        backup.verify(tmp_path / "b")
    assert not settings.home.exists()
    # A backup that fails leaves no destination, not even a partial one.
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(BackupError, match="exists: a backup goes into a new"):
        backup.backup(node.settings, tmp_path / "full")
    if node.settings.database_url:  # PostgreSQL: no pg_dump on PATH
        monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
        with pytest.raises(BackupError, match="pg_dump: not found on PATH"):
            backup.backup(node.settings, tmp_path / "b2")
    else:  # SQLite: the database file is gone
        (node.settings.home / "accord.db").rename(tmp_path / "moved.db")
        with pytest.raises(BackupError, match="SQLite backup failed"):
            backup.backup(node.settings, tmp_path / "b2")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith((".b2", "b2"))] == []


def test_a_changed_count_in_the_manifest_is_refused_and_the_restore_undone(
    node: Node, tmp_path: Path
) -> None:
    _small(node)
    made = backup.backup(node.settings, tmp_path / "b")
    manifest = tmp_path / "b" / "manifest.json"
    data = orjson.loads(manifest.read_bytes())
    data["contents"]["versions"] += 1
    manifest.write_bytes(orjson.dumps(data))
    url = node.settings.database_url
    schema = made.manifest.pg_schema
    if schema:  # the original's schema dropped: the restore goes back into it
        node.close()
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        engine.dispose()
    settings = settings_for(tmp_path / "t", url)
    message = "object versions: the manifest says 31, the database holds 30"
    with pytest.raises(BackupInvalid, match=message):
        backup.restore(settings, tmp_path / "b")
    assert not settings.home.exists()
    if schema:  # pg_restore ran, and what it restored was dropped again
        assert db.pg_schema_tables(url, schema) == 0
    else:
        with pytest.raises(BackupInvalid, match="object versions"):
            backup.verify(tmp_path / "b")


def test_a_missing_key_file_is_refused(make_node: Callable[..., Node], tmp_path: Path) -> None:
    node = make_node()
    backup.backup(node.settings, tmp_path / "b")
    (tmp_path / "b" / "node" / "identity.key").unlink()
    settings = settings_for(tmp_path / "t")
    with pytest.raises(BackupInvalid, match=r"identity\.key: listed in the manifest, missing"):
        backup.restore(settings, tmp_path / "b")
    assert not settings.home.exists()
    # Dropping it from the manifest too does not help: the key is required.
    manifest = tmp_path / "b" / "manifest.json"
    data = orjson.loads(manifest.read_bytes())
    data["files"] = [f for f in data["files"] if not f["path"].endswith("identity.key")]
    manifest.write_bytes(orjson.dumps(data))
    with pytest.raises(BackupInvalid, match=r"lists no node/identity\.key"):
        backup.verify(tmp_path / "b")


def test_changed_stored_bytes_are_found_by_the_digest(
    make_node: Callable[..., Node], tmp_path: Path
) -> None:
    """An object's bytes changed, the file's hash rewritten to match: the digest sees it."""
    node = make_node()
    _small(node)
    backup.backup(node.settings, tmp_path / "b")
    copy = tmp_path / "b" / "accord.db"
    engine = create_engine(f"sqlite:///{copy}")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE objects SET data = replace(data, 'indicator 7', 'indicator 8')"
        )
    engine.dispose()
    manifest = tmp_path / "b" / "manifest.json"
    data = orjson.loads(manifest.read_bytes())
    data["database"]["sha256"], data["database"]["bytes"] = backup._sha256(copy)
    manifest.write_bytes(orjson.dumps(data))
    with pytest.raises(BackupInvalid, match="digest of objects: the manifest says sha256:"):
        backup.verify(tmp_path / "b")


def _refused_over_data_or_a_node(node: Node, tmp_path: Path) -> None:
    """A restore over a database with tables, or a node directory, is refused unless forced."""
    if node.settings.database_url:  # the original's own schema: it holds tables
        occupied = settings_for(tmp_path / "t", node.settings.database_url)
        with pytest.raises(RestoreRefused, match="already holds tables: --force replaces it"):
            backup.restore(occupied, tmp_path / "b")
        assert not occupied.home.exists()
        return
    settings = settings_for(tmp_path / "t")
    backup.restore(settings, tmp_path / "b")
    with pytest.raises(RestoreRefused, match=r"accord\.db: already holds a database"):
        backup.restore(settings, tmp_path / "b")
    elsewhere = settings_for(tmp_path / "t", f"sqlite:///{tmp_path / 'other.db'}")
    with pytest.raises(RestoreRefused, match="already holds an Accord node: --force replaces it"):
        backup.restore(elsewhere, tmp_path / "b")
    assert not (tmp_path / "other.db").exists()
    (settings.home / "identity.key").write_text("another key")
    again = backup.restore(settings, tmp_path / "b", force=True)
    assert again.manifest.contents.versions == 30
    assert (settings.home / "identity.key").read_bytes() == (
        node.settings.home / "identity.key"
    ).read_bytes()
