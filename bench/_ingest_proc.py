"""Run one contender in its own process and measure its wall time and peak memory.

Each command runs under ``_ingest_spawn.py`` (see there why), in a session of its own so a
time limit or a stop reaches everything it started. Peak memory is the command's own
maximum resident set size as the kernel reports it when it is reaped (``ru_maxrss``);
wall time runs from its spawn to its exit, interpreter start included.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

KIB = 1024
MIB = 1024 * 1024
SPAWNER = Path(__file__).with_name("_ingest_spawn.py")
GRACE = 10.0


@dataclass(frozen=True)
class Measurement:
    """What one run of a contender took.

    Attributes:
        seconds: wall-clock seconds from spawn to exit (the limit, after a timeout).
        peak_rss: the command's peak resident set size in bytes (None if it was killed).
        returncode: the exit code (negative: ended by that signal).
        timed_out: True when the run was stopped at its time limit.
        stdout: what the command wrote on standard output.
        stderr_tail: the last lines of its standard error, for a failure message.
    """

    seconds: float
    peak_rss: int | None
    returncode: int
    timed_out: bool
    stdout: str
    stderr_tail: str

    @property
    def ok(self) -> bool:
        """True when the run finished in time and exited 0."""
        return self.returncode == 0 and not self.timed_out

    def failure(self) -> str:
        """A one-line reason for a run that is not ``ok``."""
        if self.timed_out:
            return f"timed out after {self.seconds:.0f} s"
        last = self.stderr_tail.strip().splitlines()[-1:] or ["no error output"]
        return f"exit code {self.returncode}: {last[0][:200]}"


@dataclass(frozen=True)
class Outcome:
    """What the spawner recorded about the command."""

    seconds: float
    peak_rss: int
    returncode: int


class Spawned:
    """A command started under the spawner, in a session of its own."""

    def __init__(
        self,
        cmd: Sequence[str | os.PathLike[str]],
        *,
        env: Mapping[str, str] | None,
        stdout: IO[bytes],
        stderr: IO[bytes],
        result: Path,
    ) -> None:
        self.result = result
        result.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, SPAWNER, result, *cmd],
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )

    def wait(self, timeout: float | None) -> bool:
        """Wait for the command to end; False when ``timeout`` came first."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self, first: signal.Signals, grace: float = GRACE) -> None:
        """Send ``first`` to the session, then SIGKILL if it has not ended after ``grace``."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, first)
        if not self.wait(grace):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def outcome(self) -> Outcome | None:
        """The command's time, peak and exit code; None if the spawner was killed."""
        try:
            data = json.loads(self.result.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return Outcome(data["seconds"], data["maxrss_kib"] * KIB, data["returncode"])


def _tail(path: Path, lines: int = 20) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def run_measured(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    env: Mapping[str, str] | None,
    timeout: float,
    log_prefix: Path,
) -> Measurement:
    """Run ``cmd`` to its end (or its time limit) and measure it.

    Args:
        cmd: the command line.
        env: the command's whole environment (None: inherit).
        timeout: seconds before the command is stopped (SIGTERM, then SIGKILL).
        log_prefix: where its output goes: ``<prefix>.out``, ``<prefix>.err``.
    """
    out_path = log_prefix.with_suffix(".out")
    err_path = log_prefix.with_suffix(".err")
    with out_path.open("wb") as out, err_path.open("wb") as err:
        spawned = Spawned(
            cmd, env=env, stdout=out, stderr=err, result=log_prefix.with_suffix(".json")
        )
        try:
            finished = spawned.wait(timeout)
            if not finished:
                spawned.stop(signal.SIGTERM)
        except BaseException:  # Ctrl-C: the command is in its own session, so end it here.
            spawned.stop(signal.SIGKILL, grace=0)
            raise
    outcome = spawned.outcome()
    return Measurement(
        seconds=outcome.seconds if outcome and finished else timeout,
        peak_rss=outcome.peak_rss if outcome else None,
        returncode=outcome.returncode if outcome else spawned.proc.returncode,
        timed_out=not finished,
        stdout=out_path.read_text(encoding="utf-8", errors="replace"),
        stderr_tail=_tail(err_path),
    )
