"""The ``accord`` command: a thin edge over the services.

User errors are one line on stderr (``error: ...``) and exit code 1; long work
shows progress on stderr and ends with a one-line summary on stdout. The
commands live in modules by subject; importing them registers them on `app`.
"""

from __future__ import annotations

from accord.cli import (
    _backup,
    _community,
    _data,
    _feeds,
    _log,
    _lookup,
    _match,
    _members,
    _patterns,
    _peers,
    _policy,
    _report,
    _standing,
    _users,
)
from accord.cli._common import app

__all__ = ["app", "main"]

_COMMAND_MODULES = (
    _backup,
    _community,
    _data,
    _feeds,
    _log,
    _lookup,
    _match,
    _members,
    _patterns,
    _peers,
    _policy,
    _report,
    _standing,
    _users,
)


def main() -> None:
    """Entry point of the ``accord`` command."""
    app()
