"""The fuzz targets in the suite: every corpus input holds, and a short atheris run.

`make fuzz` runs each target for FUZZ_SECONDS (600 by default). Here each
target replays its whole corpus in-process (the seeds and the inputs fuzzing
kept), then one atheris process fuzzes every target at once (``run all``: each
input through every target, over every corpus) for a few seconds, so that CI
sees a target that no longer starts, or a crash close to the corpus.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.__main__ import INSTRUMENT, ROOT, SEEDS
from tests.fuzz.targets import TARGETS

SMOKE_SECONDS = 6


def test_every_target_has_a_corpus_and_its_instrumentation() -> None:
    assert set(INSTRUMENT) == set(TARGETS)
    for name in TARGETS:
        assert any((SEEDS / name).glob("seed-*")), name


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_corpus_input_holds_the_contract(name: str) -> None:
    inputs = sorted(p for p in (SEEDS / name).iterdir() if p.is_file())
    assert inputs, f"no corpus for {name} under {SEEDS / name}"
    for path in inputs:
        TARGETS[name](path.read_bytes())  # raises (AssertionError or other) on a breach


def test_every_target_fuzzes_briefly_without_a_crash(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "tests.fuzz", "run", "all"]
    cmd += ["--seconds", str(SMOKE_SECONDS), "--work", str(tmp_path)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 0 and summary["crashes"] == 0, (summary, done.stderr[-3000:])
    seeds = sum(1 for name in TARGETS for p in (SEEDS / name).iterdir() if p.is_file())
    assert summary["executions"] > seeds  # past the corpus: it fuzzed


def test_make_fuzz_runs_every_target() -> None:
    makefile = (ROOT / "Makefile").read_text()
    [line] = [x for x in makefile.splitlines() if x.startswith("FUZZ_TARGETS ?=")]
    assert line.split("?=")[1].split() == list(TARGETS)
