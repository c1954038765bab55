"""Which contenders can run on this machine: Accord, PostgreSQL, medallion.

Each is probed once, before anything is measured; one that is missing or does not answer
is left out with its reason, which the report lists under "Not run".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from _common import log, package_version
from _ingest_contenders import ContenderUnavailableError, check_postgres, find_accord
from _ingest_medallion import find_medallion, medallion_version

T = TypeVar("T")


@dataclass
class Contenders:
    """Who runs, and why the others do not.

    Attributes:
        accord: the ``accord`` executable (None: Accord does not run).
        postgres: the admin URL of a reachable PostgreSQL (None: not run on PostgreSQL).
        medallion: the ``medallion`` executable (None: medallion does not run).
        versions: the version of each contender found, for the report.
        skipped: one line per contender left out, with the reason.
    """

    accord: Path | None = None
    postgres: str | None = None
    medallion: Path | None = None
    versions: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def _try(what: str, skipped: list[str], probe: Callable[[], T]) -> T | None:
    """``probe()``, or None with the reason noted when the contender cannot run."""
    try:
        return probe()
    except ContenderUnavailableError as exc:
        reason = " ".join(str(exc).split())  # one line: libpq's messages span several
        skipped.append(f"{what}: {reason}")
        log(f"skipping {what}: {reason}")
        return None


def _medallion(explicit: Path | None) -> tuple[Path, str]:
    exe = find_medallion(explicit)
    return exe, medallion_version(exe)


def find_contenders(
    *,
    accord: Path | None,
    postgres: str,
    medallion: Path | None,
    skip_accord: bool = False,
    skip_postgres: bool = False,
    skip_medallion: bool = False,
) -> Contenders:
    """Probe each contender once; note each one that cannot run.

    Args:
        accord: the ``accord`` executable given (None: look for it).
        postgres: the admin URL of the PostgreSQL server.
        medallion: the ``medallion`` executable given (None: look for it).
        skip_accord: leave Accord out (and so PostgreSQL).
        skip_postgres: leave Accord on PostgreSQL out.
        skip_medallion: leave medallion out.
    """
    found = Contenders()
    if skip_accord:
        found.skipped.append("Accord: --skip-accord")
    elif exe := _try("Accord", found.skipped, lambda: find_accord(accord)):
        found.accord = exe
        found.versions["Accord"] = package_version("accord")
        if skip_postgres:
            found.skipped.append("Accord on PostgreSQL: --skip-postgres")
        elif pg := _try("PostgreSQL", found.skipped, lambda: check_postgres(postgres)):
            found.postgres, found.versions["PostgreSQL"] = postgres, pg
    if skip_medallion:
        found.skipped.append("medallion: --skip-medallion")
    elif med := _try("medallion", found.skipped, lambda: _medallion(medallion)):
        found.medallion, found.versions["medallion"] = med
    return found
