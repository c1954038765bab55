"""A bundle of 500 MB: imported as a stream, in bounded memory, by the real command."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import orjson
import pytest

from accord.service.node import open_node
from tests.conftest import settings_for

TS = "2024-03-01T10:00:00.000Z"
SIZE = 500 * 1024 * 1024


def _write_bundle(path: Path) -> int:
    """A single ~500 MB bundle of 4 KB indicators; returns the object count."""
    filler = "lorem ipsum dolor sit amet " * 140
    n = 0
    with path.open("wb") as out:
        out.write(
            b'{"type": "bundle", "id": "bundle--'
            + str(uuid.uuid4()).encode()
            + b'", "objects": [\n'
        )
        while out.tell() < SIZE:
            if n:
                out.write(b",\n")
            out.write(
                orjson.dumps(
                    {
                        "type": "indicator",
                        "spec_version": "2.1",
                        "id": f"indicator--{uuid.UUID(int=n + (5 << 96), version=4)}",
                        "created": TS,
                        "modified": TS,
                        "pattern_type": "stix",
                        "valid_from": TS,
                        "pattern": f"[domain-name:value = 'h{n}.big.example']",
                        "description": filler,
                    }
                )
            )
            n += 1
        out.write(b"\n]}\n")
    return n


@pytest.mark.slow
def test_a_500_mb_bundle_streams_in_bounded_memory(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    count = _write_bundle(big)
    size = big.stat().st_size
    home = tmp_path / "node"
    env = {**os.environ, "ACCORD_HOME": str(home)}
    accord = str(Path(sys.executable).parent / "accord")
    subprocess.run([accord, "init"], env=env, check=True, capture_output=True)
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen([accord, "import", str(big)], env=env, stdout=o, stderr=e)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    stdout = out.read_text()
    assert proc.returncode == 0, err.read_text()
    assert f"{count:,} stored" in stdout
    peak = usage.ru_maxrss * 1024  # Linux reports KiB
    print(f"peak RSS {peak / 2**20:.0f} MiB for {size / 2**20:.0f} MiB, {stdout}")
    assert peak < 2.5 * size, f"peak RSS {peak / 2**20:.0f} MiB for a {size / 2**20:.0f} MiB file"
    big.unlink()
    with open_node(settings_for(home)) as node:
        assert node.store.stats().versions == count
