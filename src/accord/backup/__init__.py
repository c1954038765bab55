"""Backups' pure core: no I/O.

- `_digest`: the canonical digest over stored rows, the same on SQLite and PostgreSQL.
- `_manifest`: the backup's manifest (what it holds, what the database must hold),
  its JSON form, and the comparison a verification makes.
"""

from accord.backup._digest import RowDigest
from accord.backup._manifest import (
    FORMAT,
    Contents,
    FileEntry,
    LogState,
    Manifest,
    differences,
    parse_manifest,
)

__all__ = [
    "FORMAT",
    "Contents",
    "FileEntry",
    "LogState",
    "Manifest",
    "RowDigest",
    "differences",
    "parse_manifest",
]
