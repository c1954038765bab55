"""Backups of a node, and restores that are checked against what was backed up.

A backup is a directory::

    DEST/manifest.json    what the backup holds and what its database must hold
    DEST/accord.db        SQLite: a consistent copy by the online backup API
    DEST/accord.pgdump    PostgreSQL: pg_dump custom format, one schema
    DEST/node/...         the node directory's files: node.toml, identity.key (0600),
                          identity.pub, agreements/, community/, ... (not cache/)

It is written under a temporary name beside DEST and renamed at the end: a
failed backup leaves no DEST. A restore checks every file's size and SHA-256,
copies the database beside its target, recomputes `Contents` there (rows per
table, digests over the stored bytes, the log's root) and only then puts the
database and the node's files in place; on PostgreSQL, where the check needs the
restored tables, a restore that disagrees is dropped again.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

import accord
from accord.backup import Contents, FileEntry, Manifest, differences, parse_manifest
from accord.backup._manifest import MANIFEST
from accord.exceptions import BackupError, BackupInvalid, RestoreRefused
from accord.service.node import KEY_FILE, NODE_FILE, PUB_FILE, read_info
from accord.settings import Settings
from accord.store import _backup as db

SQLITE_FILE = "accord.db"
PG_FILE = "accord.pgdump"
NODE_DIR = "node"
# Never backed up: caches rebuilt on demand.
SKIPPED_DIRS = ("cache",)
REQUIRED = (NODE_FILE, KEY_FILE, PUB_FILE)
_BLOCK = 1 << 20

Note = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True, slots=True)
class Checked:
    """A verified backup: its manifest, and whether its database contents were recomputed."""

    manifest: Manifest
    contents_checked: bool
    bytes: int
    seconds: float


def _backend(url: str) -> str:
    return make_url(url).get_backend_name()


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(url, "an in-memory SQLite database cannot be backed up")
    return Path(database)


def _sha256(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while block := f.read(_BLOCK):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def _copy_file(source: Path, dest: Path, mode: int) -> tuple[str, int]:
    """Copy with the given mode from the start (a key is never readable by others); hash it."""
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    h = hashlib.sha256()
    size = 0
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode & 0o600)
    with source.open("rb") as f, os.fdopen(fd, "wb") as out:
        while block := f.read(_BLOCK):
            h.update(block)
            out.write(block)
            size += len(block)
    os.chmod(dest, mode)
    return h.hexdigest(), size


def _node_files(home: Path, skip: set[Path]) -> Iterator[Path]:
    """The node directory's regular files that matter, relative to it (``skip``: files, dirs)."""
    for root, dirs, files in os.walk(home):
        here = Path(root)
        if here == home:
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        # A backup written inside the node directory is not part of itself.
        dirs[:] = sorted(d for d in dirs if (here / d).resolve() not in skip)
        for name in sorted(files):
            path = here / name
            if path.resolve() in skip or not stat.S_ISREG(path.lstat().st_mode):
                continue
            yield path.relative_to(home)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- backup -------------------------------------------------------------------------------


def _database(url: str, stage: Path, note: Note) -> tuple[Path, Contents, str | None, str | None]:
    """Copy or dump the database into the stage; its file, contents, pg schema, pg_dump version."""
    if _backend(url) == "sqlite":
        copy = stage / SQLITE_FILE
        note("copying the SQLite database (online backup API)")
        db.sqlite_copy(_sqlite_path(url), copy)
        note("reading the copy: counts, digests, log root")
        return copy, db.database_contents(f"sqlite:///{copy}"), None, None
    dump = stage / PG_FILE
    with db.pg_snapshot(url) as (conn, snapshot):
        schema = db.current_schema(conn)
        note(f"pg_dump of schema {schema!r} on snapshot {snapshot}")
        proc, version = db.start_pg_dump(url, db.server_major(conn), schema, snapshot, dump)
        try:
            note("reading the same snapshot: counts, digests, log root")
            found = db.contents(conn)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        db.finish(proc, "pg_dump")
    return dump, found, schema, version


def backup(settings: Settings, dest: Path, note: Note = _quiet) -> Checked:
    """Back up the node at ``settings.home`` into the new directory ``dest``.

    Raises:
        NodeNotFound: there is no node at ``settings.home``.
        BackupError: DEST exists, or the copy, dump or a file failed (no DEST is left).
    """
    started = time.perf_counter()
    info = read_info(settings.home)
    home = settings.home.resolve()
    dest = dest.resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(str(dest), "exists: a backup goes into a new (or empty) directory")
    url = settings.effective_database_url
    stage = dest.parent / f".{dest.name}.partial-{secrets.token_hex(4)}"
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        stage.mkdir(mode=0o700)
    except OSError as exc:
        raise BackupError(str(dest.parent), f"cannot write here: {exc.strerror}") from exc
    try:
        copy, found, schema, version = _database(url, stage, note)
        note("hashing the database copy")
        digest, size = _sha256(copy)
        database = FileEntry(copy.name, size, digest, 0o600)
        skip: set[Path] = set()
        if _backend(url) == "sqlite":
            live = _sqlite_path(url).resolve()
            skip = {live.with_name(live.name + s) for s in ("", "-wal", "-shm", "-journal")}
        skip |= {stage.resolve(), dest}
        files = []
        for rel in _node_files(home, skip):
            mode = stat.S_IMODE((home / rel).stat().st_mode)
            digest, size = _copy_file(home / rel, stage / NODE_DIR / rel, mode)
            files.append(FileEntry(f"{NODE_DIR}/{rel.as_posix()}", size, digest, mode))
        manifest = Manifest(
            accord_version=accord.__version__,
            created=_now(),
            backend=_backend(url),
            node_id=info.id,
            node_name=info.name,
            database=database,
            contents=found,
            files=tuple(files),
            pg_schema=schema,
            pg_dump_version=version,
        )
        (stage / MANIFEST).write_bytes(manifest.to_json())
        total = sum(f.bytes for f in files) + database.bytes
        if dest.exists():
            dest.rmdir()  # empty, checked above
        os.rename(stage, dest)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return Checked(manifest, True, total, time.perf_counter() - started)


# -- verification -------------------------------------------------------------------------


def _check_file(src: Path, entry: FileEntry) -> None:
    path = src / entry.path
    if ".." in Path(entry.path).parts or Path(entry.path).is_absolute():
        raise BackupInvalid(str(src / MANIFEST), f"file path {entry.path!r} leaves the backup")
    if not path.is_file():
        raise BackupInvalid(str(path), "listed in the manifest, missing from the backup")
    digest, size = _sha256(path)
    if size != entry.bytes or digest != entry.sha256:
        raise BackupInvalid(
            str(path),
            f"{size} bytes, SHA-256 {digest[:16]}...: the manifest says"
            f" {entry.bytes} bytes, {entry.sha256[:16]}... (damaged or changed)",
        )


def read_backup(src: Path) -> Manifest:
    """The manifest of a backup whose every file is present, whole and unchanged.

    Raises:
        BackupInvalid: no manifest, a file missing or changed, a required node file absent.
    """
    where = src / MANIFEST
    try:
        raw = where.read_bytes()
    except FileNotFoundError as exc:
        raise BackupInvalid(str(src), f"no {MANIFEST}: not an Accord backup") from exc
    manifest = parse_manifest(raw, str(where))
    listed = {f.path for f in manifest.files}
    for name in REQUIRED:
        if f"{NODE_DIR}/{name}" not in listed:
            raise BackupInvalid(str(where), f"lists no {NODE_DIR}/{name}: the backup is incomplete")
    want = SQLITE_FILE if manifest.backend == "sqlite" else PG_FILE
    if manifest.database.path != want:
        raise BackupInvalid(str(where), f"database {manifest.database.path!r}: expected {want}")
    _check_file(src, manifest.database)
    for entry in manifest.files:
        _check_file(src, entry)
    return manifest


def _compare(expected: Contents, found: Contents, where: str) -> None:
    diffs = differences(expected, found)
    if diffs:
        raise BackupInvalid(where, "; ".join(diffs))


def verify(src: Path) -> Checked:
    """Check a backup without restoring it.

    Every file's size and SHA-256; for SQLite also the copy's contents (counts,
    digests, log root) against the manifest; for PostgreSQL that pg_restore reads
    the dump. A dump's contents are recomputed by `restore`, which needs the tables.

    Raises:
        BackupInvalid: anything differs from the manifest.
    """
    started = time.perf_counter()
    src = src.resolve()
    manifest = read_backup(src)
    checked = manifest.backend == "sqlite"
    if checked:
        copy = src / SQLITE_FILE
        found = db.database_contents(f"sqlite:///file:{copy}?mode=ro&uri=true")
        _compare(manifest.contents, found, str(copy))
    else:
        db.pg_list(src / PG_FILE)  # pg_restore can read it
    size = manifest.database.bytes + sum(f.bytes for f in manifest.files)
    return Checked(manifest, checked, size, time.perf_counter() - started)


# -- restore ------------------------------------------------------------------------------


def _refuse_home(home: Path, force: bool) -> None:
    if force or not home.exists():
        return
    if not home.is_dir():
        raise RestoreRefused(str(home), "is not a directory")
    if (home / NODE_FILE).exists():
        raise RestoreRefused(str(home), "already holds an Accord node: --force replaces it")
    if any(home.iterdir()):
        raise RestoreRefused(str(home), "is not empty: restore into an empty directory, or --force")


def _refuse_database(manifest: Manifest, url: str, force: bool) -> None:
    if force:
        return
    if manifest.backend == "sqlite":
        if db.sqlite_holds_data(_sqlite_path(url)):
            raise RestoreRefused(
                str(_sqlite_path(url)), "already holds a database: --force replaces it"
            )
    elif manifest.pg_schema and db.pg_schema_tables(url, manifest.pg_schema):
        raise RestoreRefused(
            url, f"schema {manifest.pg_schema!r} already holds tables: --force replaces it"
        )


def _restore_sqlite(src: Path, manifest: Manifest, target: Path, note: Note) -> None:
    made = not target.parent.exists()
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.restore-{secrets.token_hex(4)}")
    try:
        note("copying the database beside its target")
        _copy_file(src / SQLITE_FILE, staged, 0o600)
        note("checking the copy against the manifest")
        _compare(manifest.contents, db.database_contents(f"sqlite:///{staged}"), str(staged))
        for suffix in ("-wal", "-shm", "-journal"):  # an old WAL would be replayed on the new file
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        os.replace(staged, target)
    except BaseException:
        staged.unlink(missing_ok=True)
        if made:
            shutil.rmtree(target.parent, ignore_errors=True)  # made here, for this restore
        raise


def _restore_postgres(src: Path, manifest: Manifest, url: str, force: bool, note: Note) -> None:
    schema = manifest.pg_schema
    if schema is None:
        raise BackupInvalid(str(src / MANIFEST), "a PostgreSQL backup that names no schema")
    created = db.pg_prepare_schema(url, schema, replace=force)
    try:
        note(f"pg_restore into schema {schema!r}")
        db.pg_restore(url, src / PG_FILE, manifest.pg_dump_version)
        note("checking the restored database against the manifest")
        _compare(manifest.contents, db.database_contents(url), url)
    except BaseException:
        db.pg_drop_schema(url, schema)
        if not created:
            db.pg_prepare_schema(url, schema, replace=False)  # empty, as it was
        raise


def _place_files(src: Path, manifest: Manifest, home: Path) -> None:
    """Copy the node's files in beside their places, then rename them in; node.toml last."""
    home.mkdir(parents=True, exist_ok=True)
    tag = secrets.token_hex(4)
    entries = sorted(manifest.files, key=lambda f: f.path.endswith(f"/{NODE_FILE}"))
    staged: list[tuple[Path, Path]] = []
    try:
        for entry in entries:
            final = home / Path(entry.path).relative_to(NODE_DIR)
            temp = final.with_name(f".{final.name}.restore-{tag}")
            _copy_file(src / entry.path, temp, entry.mode)
            staged.append((temp, final))
        for temp, final in staged:
            os.replace(temp, final)
    finally:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)


def restore(settings: Settings, src: Path, *, force: bool = False, note: Note = _quiet) -> Checked:
    """Restore a backup into ``settings.home`` and its database, checked against the manifest.

    Raises:
        BackupInvalid: the backup is damaged, or the restored database differs (undone).
        RestoreRefused: the target holds a node or data and ``force`` is not set.
        BackupError: the backends differ, or a tool or file failed.
    """
    started = time.perf_counter()
    src = src.resolve()
    note("checking the backup's files")
    manifest = read_backup(src)
    if not db.known_revision(manifest.contents.revision):
        raise BackupInvalid(
            str(src / MANIFEST),
            f"schema revision {manifest.contents.revision} is unknown to Accord"
            f" {accord.__version__}: restore it with the Accord that made it"
            f" ({manifest.accord_version}) or newer",
        )
    home = settings.home.resolve()
    url = settings.effective_database_url
    if _backend(url) != manifest.backend:
        raise BackupError(
            url,
            f"the backup is of a {manifest.backend} node: restore it into {manifest.backend}"
            " (restores across backends are not supported)",
        )
    _refuse_database(manifest, url, force)
    _refuse_home(home, force)
    if manifest.backend == "sqlite":
        _restore_sqlite(src, manifest, _sqlite_path(url), note)
    else:
        _restore_postgres(src, manifest, url, force, note)
    note("placing the node's files")
    _place_files(src, manifest, home)
    size = manifest.database.bytes + sum(f.bytes for f in manifest.files)
    return Checked(manifest, True, size, time.perf_counter() - started)
