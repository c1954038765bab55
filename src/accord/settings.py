"""The node's settings: one typed registry, read from the environment at one edge.

Every setting has the prefix ``ACCORD_``, a default and a line of help. The
registry (`SETTINGS`) drives `load_settings`, `accord settings` and the README's
configuration table (a test checks the README lists every one).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from accord.exceptions import ConfigError

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Setting:
    """One ``ACCORD_`` environment variable: name, default (as text) and help."""

    name: str
    default: str
    help: str
    parse: Callable[[str], object] = str


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "ACCORD_HOME",
        "./accord-data",
        "The node's directory: node.toml, identity key, SQLite file.",
    ),
    Setting(
        "ACCORD_DATABASE_URL",
        "",
        "SQLAlchemy URL of the store. Empty: the SQLite file accord.db in ACCORD_HOME. "
        "PostgreSQL: postgresql+psycopg://USER@HOST:PORT/DB.",
    ),
    Setting(
        "ACCORD_NODE_NAME",
        "",
        "Name given to a new node by `accord init` (default: the directory name).",
    ),
    Setting(
        "ACCORD_BATCH_SIZE",
        "5000",
        "Objects written per database round of an import (one transaction per input file).",
        _positive_int,
    ),
    Setting(
        "ACCORD_MAX_OBJECT_BYTES",
        str(64 * MiB),
        "Largest single STIX object accepted, in bytes, when a big bundle is read as a stream.",
        _positive_int,
    ),
    Setting(
        "ACCORD_STREAM_THRESHOLD_BYTES",
        str(64 * MiB),
        "Bundle files larger than this are parsed as a stream, one object at a time, "
        "so memory stays a small multiple of the largest object, not of the file.",
        _positive_int,
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True, slots=True)
class Settings:
    """The parsed settings of this process."""

    home: Path
    database_url: str
    node_name: str
    batch_size: int
    max_object_bytes: int
    stream_threshold_bytes: int

    @property
    def sqlite_path(self) -> Path:
        """The default SQLite file inside the node directory."""
        return self.home / "accord.db"

    @property
    def effective_database_url(self) -> str:
        """ACCORD_DATABASE_URL, or the node's own SQLite file when it is empty."""
        return self.database_url or f"sqlite:///{self.sqlite_path}"


def _value(env: Mapping[str, str], name: str) -> object:
    setting = _BY_NAME[name]
    raw = env.get(name, setting.default)
    try:
        return setting.parse(raw)
    except ValueError as exc:
        raise ConfigError(name, f"{raw!r} is not valid: {exc}") from exc


def load_settings(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read every setting from the environment (``os.environ`` by default).

    Args:
        env: the environment to read.
        overrides: field values that win over the environment (from CLI options).

    Raises:
        ConfigError: a value does not parse.
    """
    env = os.environ if env is None else env
    fields: dict[str, object] = {
        "home": Path(str(_value(env, "ACCORD_HOME"))).expanduser(),
        "database_url": _value(env, "ACCORD_DATABASE_URL"),
        "node_name": _value(env, "ACCORD_NODE_NAME"),
        "batch_size": _value(env, "ACCORD_BATCH_SIZE"),
        "max_object_bytes": _value(env, "ACCORD_MAX_OBJECT_BYTES"),
        "stream_threshold_bytes": _value(env, "ACCORD_STREAM_THRESHOLD_BYTES"),
    }
    fields.update({k: v for k, v in overrides.items() if v is not None})
    if isinstance(fields["home"], str):
        fields["home"] = Path(fields["home"])
    return Settings(**fields)  # type: ignore[arg-type]
