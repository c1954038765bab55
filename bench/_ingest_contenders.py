"""The command-line contenders: the raw floor and Accord (on SQLite and on PostgreSQL).

Each run gets a fresh store: a new SQLite file, a new ``ACCORD_HOME``, and for PostgreSQL a
new database made with ``CREATE DATABASE`` and dropped after the run. Only the import
command is timed; ``accord init`` is set-up.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from _ingest_data import Dataset
from _ingest_proc import Measurement, run_measured

FLOOR_SCRIPT = Path(__file__).with_name("_ingest_floor.py")
COLLECTION = "bench"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"

_run_ids = count(1)
_SUMMARY = re.compile(r"(?P<read>[\d,]+) objects read")


class ContenderUnavailableError(Exception):
    """A contender cannot run on this machine; the message says why."""


def scratch_dir(workdir: Path, name: str) -> Path:
    """A fresh, empty directory for one run."""
    path = workdir / f"{name}-{next(_run_ids):03d}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


# --- raw floor --------------------------------------------------------------------------


def run_floor(dataset: Dataset, workdir: Path, timeout: float) -> Measurement:
    """One run of the raw floor over the dataset's files, into a new SQLite file."""
    scratch = scratch_dir(workdir, "floor")
    try:
        result = run_measured(
            [sys.executable, FLOOR_SCRIPT, scratch / "floor.db", *dataset.files],
            env=None,
            timeout=timeout,
            log_prefix=scratch.with_suffix(".log"),
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if result.ok and dataset.generated and result.stdout.strip() != str(dataset.objects):
        raise RuntimeError(f"floor stored {result.stdout.strip()} rows of {dataset.objects}")
    return result


# --- Accord -----------------------------------------------------------------------------


def _locate_accord(explicit: Path | None) -> Path:
    if explicit is not None:
        if not explicit.is_file():
            raise ContenderUnavailableError(f"--accord {explicit}: no such file")
        return explicit
    beside = Path(sys.executable).with_name("accord")
    if beside.is_file():
        return beside
    which = shutil.which("accord")
    if which is None:
        raise ContenderUnavailableError("`accord` not found beside this Python nor on PATH")
    return Path(which)


def find_accord(explicit: Path | None) -> Path:
    """The ``accord`` executable: the given one, else beside this Python, else on PATH.

    Raises:
        ContenderUnavailableError: when it is not found or does not answer ``import --help``.
    """
    found = _locate_accord(explicit)
    probe = subprocess.run(
        [found, "import", "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    if probe.returncode != 0:
        last = (probe.stderr or probe.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ContenderUnavailableError(f"`accord import --help` failed: {last[0][:200]}")
    return found


def accord_env(home: Path, database_url: str | None) -> dict[str, str]:
    """This environment with ``ACCORD_HOME`` set, and the PostgreSQL URL (else none)."""
    env = {key: value for key, value in os.environ.items() if key != "ACCORD_DATABASE_URL"}
    env["ACCORD_HOME"] = str(home)
    if database_url is not None:
        env["ACCORD_DATABASE_URL"] = database_url
    return env


def run_accord(
    accord: Path,
    dataset: Dataset,
    workdir: Path,
    timeout: float,
    database_url: str | None = None,
) -> Measurement:
    """One ``accord init`` + timed ``accord import`` into a fresh node.

    Args:
        accord: the executable.
        dataset: what to import.
        workdir: where the node's home is made (and removed after).
        timeout: seconds allowed for the import.
        database_url: PostgreSQL URL, or None for the default SQLite store.
    """
    home = scratch_dir(workdir, "accord")
    env = accord_env(home, database_url)
    try:
        init = subprocess.run(
            [accord, "init", home],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if init.returncode != 0:
            last = (init.stderr or init.stdout).strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"`accord init` failed: {last[0][:200]}")
        result = run_measured(
            [accord, "import", *dataset.args, "--collection", COLLECTION],
            env=env,
            timeout=timeout,
            log_prefix=home.with_suffix(".log"),
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    _check_summary(result, dataset)
    return result


def _check_summary(result: Measurement, dataset: Dataset) -> None:
    """On generated data, Accord's summary line must count every object as read.

    The summary ("N objects read from K input(s), M stored, ...") is Accord's output, not
    a contract: a run whose output has no such line is not judged by it.
    """
    match = _SUMMARY.search(result.stdout)
    if result.ok and dataset.generated and match:
        read = int(match["read"].replace(",", ""))
        if read != dataset.objects:
            raise RuntimeError(f"accord read {read:,} of {dataset.objects:,} objects")


# --- PostgreSQL -------------------------------------------------------------------------


def check_postgres(admin_url: str) -> str:
    """The server's version.

    Raises:
        ContenderUnavailableError: when the server does not answer at ``admin_url``.
    """
    try:
        with psycopg.connect(admin_url, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.Error as exc:
        raise ContenderUnavailableError(f"PostgreSQL not reachable: {exc}".strip()) from exc
    return str(row[0]) if row else "unknown"


def _with_database(url: str, database: str, scheme: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((scheme, parts.netloc, f"/{database}", parts.query, ""))


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new, empty database for one run; yields Accord's URL for it, drops it after."""
    name = f"accord_bench_{os.getpid()}_{next(_run_ids):03d}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_database(admin_url, name, "postgresql+psycopg")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
