"""The manifest of a backup: what it holds, and what the database in it must hold.

A backup directory holds ``manifest.json``, the database copy and the node
directory's files under ``node/``. The manifest names every file with its size,
SHA-256 and mode, and says what a database restored from the copy must
contain (`Contents`): the schema revision, rows per table, digests over the
stored bytes and the transparency log's size and root. A verification
recomputes `Contents` from the database and lists the `differences`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from accord.exceptions import BackupInvalid

FORMAT = "accord-backup/1"
MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class LogState:
    """The transparency log in the copy: its size and root, and its latest signed checkpoint."""

    size: int
    root: str  # hex of the RFC 9162 root over every entry
    checkpoint_size: int | None = None
    checkpoint_root: str | None = None


@dataclass(frozen=True, slots=True)
class Contents:
    """What a database must hold to be the one backed up.

    Attributes:
        revision: the Alembic schema revision.
        versions: rows of ``objects`` (every stored version).
        ids: distinct object ids.
        tables: rows of every table of the schema, by name.
        digests: `RowDigest` hex digests by name (``objects``, ``log_entries``).
        log: the transparency log.
    """

    revision: str
    versions: int
    ids: int
    tables: dict[str, int]
    digests: dict[str, str]
    log: LogState


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file of the backup: its path inside the backup, size, SHA-256 and mode."""

    path: str
    bytes: int
    sha256: str
    mode: int  # the permission bits, restored as they were (the key stays 0600)


@dataclass(frozen=True, slots=True)
class Manifest:
    """The whole manifest (``manifest.json``)."""

    accord_version: str
    created: str
    backend: str  # sqlite or postgresql
    node_id: str
    node_name: str
    database: FileEntry
    contents: Contents
    files: tuple[FileEntry, ...]
    pg_schema: str | None = None
    pg_dump_version: str | None = None
    format: str = field(default=FORMAT)

    def to_json(self) -> bytes:
        """The manifest as indented JSON, keys sorted."""
        data = asdict(self)
        data["files"] = list(data["files"])
        return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def _need(data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise BackupInvalid(where, f"{key!r} is missing or not a {getattr(kind, '__name__', kind)}")
    return value


def _file(data: Any, where: str) -> FileEntry:
    if not isinstance(data, dict):
        raise BackupInvalid(where, "a file entry is not an object")
    return FileEntry(
        path=_need(data, "path", str, where),
        bytes=_need(data, "bytes", int, where),
        sha256=_need(data, "sha256", str, where),
        mode=_need(data, "mode", int, where),
    )


def _counts(data: Any, key: str, kind: type, where: str) -> dict[str, Any]:
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, kind) and not isinstance(v, bool)
        for k, v in data.items()
    ):
        raise BackupInvalid(where, f"{key!r} is not a map of {kind.__name__}")
    return dict(data)


def _contents(data: Any, where: str) -> Contents:
    if not isinstance(data, dict):
        raise BackupInvalid(where, "'contents' is not an object")
    log = _need(data, "log", dict, where)
    optional = (int, type(None))
    cp_size = log.get("checkpoint_size")
    cp_root = log.get("checkpoint_root")
    if not isinstance(cp_size, optional) or not isinstance(cp_root, str | None):
        raise BackupInvalid(where, "the log's checkpoint is not a size and a root")
    return Contents(
        revision=_need(data, "revision", str, where),
        versions=_need(data, "versions", int, where),
        ids=_need(data, "ids", int, where),
        tables=_counts(data.get("tables"), "tables", int, where),
        digests=_counts(data.get("digests"), "digests", str, where),
        log=LogState(
            _need(log, "size", int, where), _need(log, "root", str, where), cp_size, cp_root
        ),
    )


def parse_manifest(raw: bytes, where: str) -> Manifest:
    """Read ``manifest.json``.

    Raises:
        BackupInvalid: not JSON, another format, or a field missing or of the wrong type.
    """
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BackupInvalid(where, f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BackupInvalid(where, "not a JSON object")
    if data.get("format") != FORMAT:
        raise BackupInvalid(where, f"format {data.get('format')!r}: this Accord reads {FORMAT}")
    backend = _need(data, "backend", str, where)
    if backend not in ("sqlite", "postgresql"):
        raise BackupInvalid(where, f"backend {backend!r}: sqlite or postgresql")
    files = _need(data, "files", list, where)
    return Manifest(
        accord_version=_need(data, "accord_version", str, where),
        created=_need(data, "created", str, where),
        backend=backend,
        node_id=_need(data, "node_id", str, where),
        node_name=_need(data, "node_name", str, where),
        database=_file(data.get("database"), where),
        contents=_contents(data.get("contents"), where),
        files=tuple(_file(f, where) for f in files),
        pg_schema=data.get("pg_schema") if isinstance(data.get("pg_schema"), str) else None,
        pg_dump_version=(
            data.get("pg_dump_version") if isinstance(data.get("pg_dump_version"), str) else None
        ),
    )


def differences(expected: Contents, found: Contents) -> list[str]:
    """What the database found holds unlike the manifest, one line each (empty: none)."""
    out: list[str] = []

    def check(name: str, want: object, got: object) -> None:
        if want != got:
            out.append(f"{name}: the manifest says {want}, the database holds {got}")

    check("schema revision", expected.revision, found.revision)
    check("object versions", expected.versions, found.versions)
    check("object ids", expected.ids, found.ids)
    for table in sorted(set(expected.tables) | set(found.tables)):
        check(f"rows of {table}", expected.tables.get(table), found.tables.get(table))
    for name in sorted(set(expected.digests) | set(found.digests)):
        check(f"digest of {name}", expected.digests.get(name), found.digests.get(name))
    check("log size", expected.log.size, found.log.size)
    check("log root", expected.log.root, found.log.root)
    check("latest checkpoint size", expected.log.checkpoint_size, found.log.checkpoint_size)
    check("latest checkpoint root", expected.log.checkpoint_root, found.log.checkpoint_root)
    return out
