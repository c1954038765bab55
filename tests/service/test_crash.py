"""A process killed in the middle of an import.

The store is as it was before the file in progress; a rerun completes it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import pytest

from accord.service.node import open_node
from accord.store import Query
from tests.conftest import settings_for

TS = "2024-03-01T10:00:00.000Z"
FILES, PER_FILE = 6, 20_000


def _write_inputs(d: Path) -> None:
    d.mkdir()
    for f in range(FILES):
        with (d / f"part-{f}.jsonl").open("wb") as out:
            for i in range(PER_FILE):
                n = f * PER_FILE + i
                out.write(
                    orjson.dumps(
                        {
                            "type": "indicator",
                            "spec_version": "2.1",
                            "id": f"indicator--{uuid.UUID(int=n + (3 << 96), version=4)}",
                            "created": TS,
                            "modified": TS,
                            "pattern_type": "stix",
                            "valid_from": TS,
                            "pattern": f"[domain-name:value = 'host{n}.crash.example']",
                        }
                    )
                    + b"\n"
                )


def _accord() -> list[str]:
    exe = shutil.which("accord", path=str(Path(sys.executable).parent))
    assert exe, "the accord command is not installed in this environment"
    return [exe]


@pytest.mark.slow
def test_sigkill_mid_import_then_rerun(tmp_path: Path) -> None:
    home, inputs = tmp_path / "node", tmp_path / "in"
    _write_inputs(inputs)
    env = {**os.environ, "ACCORD_HOME": str(home), "ACCORD_BATCH_SIZE": "1000"}
    subprocess.run([*_accord(), "init"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(
        [*_accord(), "import", str(inputs), "-c", "crash"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    settings = settings_for(home)
    # Kill it once some files are committed and others not yet.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with open_node(settings) as node:
            stored = node.store.stats().versions
        if stored >= 2 * PER_FILE or proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with open_node(settings) as node:
        stored = node.store.stats().versions
        in_collection = sum(node.store.collection_sizes().values())
    assert stored % PER_FILE == 0, "a file was half-written"
    assert stored < FILES * PER_FILE, (
        "the import finished before it was killed: test proves nothing"
    )
    assert in_collection == stored
    rerun = subprocess.run(
        [*_accord(), "import", str(inputs), "-c", "crash"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"{FILES * PER_FILE - stored:,} stored" in rerun.stdout
    with open_node(settings) as node:
        assert node.store.stats().versions == FILES * PER_FILE
        ids = [o.id for o in node.store.query(Query(all_versions=True))]
    assert len(ids) == len(set(ids)) == FILES * PER_FILE
