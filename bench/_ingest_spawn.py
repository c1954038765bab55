"""Run one command and record its own wall time, exit status and peak memory.

Used by ``_ingest_proc.py`` as ``python _ingest_spawn.py RESULT_JSON CMD...``. Why a
process in between: Linux carries a process's peak RSS across ``fork`` and ``exec``, so a
command started straight from the benchmark (hundreds of MiB, holding the datasets' counts
and medallion's envelopes) would report at least the benchmark's own size. Started from
this small process instead, the command's ``ru_maxrss`` is its own (this process is about
10 MiB, less than any contender). Keep its imports few for that reason.

It writes ``{"seconds": ..., "maxrss_kib": ..., "returncode": ...}`` to RESULT_JSON, and
exits with the command's exit code. SIGINT and SIGTERM sent to the process group reach the
command, and this process waits for it to end so that the result is still written.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time


def _ignore(signum: int, frame: object) -> None:
    """Stay alive to reap the command; a handler (unlike SIG_IGN) is reset at exec."""


def main(argv: list[str]) -> int:
    """Spawn ``argv[1:]``, wait for it, write the result to ``argv[0]``."""
    if len(argv) < 2:
        print("usage: _ingest_spawn.py RESULT_JSON CMD...", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, _ignore)
    signal.signal(signal.SIGTERM, _ignore)
    start = time.perf_counter()
    pid = os.posix_spawnp(argv[1], argv[1:], os.environ)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    result = {"seconds": seconds, "maxrss_kib": usage.ru_maxrss, "returncode": code}
    with open(argv[0], "w", encoding="utf-8") as out:
        json.dump(result, out)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
