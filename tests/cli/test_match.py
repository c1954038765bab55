"""``accord match`` through Typer's CliRunner, on real Zeek logs and small written ones."""

from __future__ import annotations

import uuid
from pathlib import Path

import orjson
import pytest

from accord.cli import app
from tests.cli_run import run, runner

TS = "2012-01-01T00:00:00.000Z"


def _indicator(n: int, pattern: str) -> dict[str, str]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=n + (13 << 80), version=4)}",
        "created": TS,
        "modified": TS,
        "name": f"cli test {n}",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": TS,
    }


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "node"
    assert runner.invoke(app, ["init", str(h)]).exit_code == 0
    bundle = tmp_path / "indicators.json"
    objects = [
        _indicator(1, "[ipv4-addr:value = '54.245.228.191']"),
        _indicator(2, "[domain-name:value = 'guyspy.com']"),
        _indicator(3, "[ipv4-addr:value = '203.0.113.77']"),
    ]
    bundle.write_bytes(
        orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})
    )
    code, _, err = run(h, "import", str(bundle))
    assert code == 0, err
    return h


def test_match_prints_hits_per_indicator_and_a_summary(home: Path, shared_data: Path) -> None:
    zat = shared_data / "zeek" / "zat"
    code, out, err = run(home, "match", str(zat / "conn.log"), str(zat / "dns.log"))
    assert code == 0, err
    lines = out.splitlines()
    assert "cli test 1" in out and "cli test 2" in out and "cli test 3" not in out
    assert "events" in lines[-1] and "2 sighting version(s)" in out
    assert "3 indicators" in lines[-1]
    code, out, _ = run(home, "search", "--type", "sighting", "--json")
    assert code == 0 and len(out.splitlines()) == 2


def test_match_csv_with_a_mapping_and_skipped_lines(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "fw.csv"
    log.write_bytes(
        b"time,src,dst\n"
        b"2024-03-01T10:00:00Z,192.0.2.1,203.0.113.77\n"
        b"2024-03-01T10:00:01Z,192.0.2.1\n"
        b"\xff\xfe binary\n"
        b"2024-03-01T10:00:02Z,192.0.2.2,203.0.113.77\n"
    )
    code, out, err = run(
        home,
        "match",
        str(log),
        "--format",
        "csv",
        "--map",
        "time=time",
        "--map",
        "src=ipv4-addr:value",
        "--map",
        "dst=ipv4-addr:value",
    )
    assert code == 0, err
    assert "skipped: " in err and ":3: malformed" in err and ":4: binary" in err
    assert (
        "skipped lines: 1 malformed, 1 binary" in out
        or "skipped lines: 1 binary, 1 malformed" in out
    )
    assert "cli test 3" in out
    row = next(line for line in out.splitlines() if "cli test 3" in line)
    assert row.split()[0] == "2"


def test_match_user_errors(home: Path, tmp_path: Path) -> None:
    code, _, err = run(home, "match", str(tmp_path / "x.csv"), "--map", "nonsense")
    assert code == 1 and err.startswith("error: --map 'nonsense'")
    code, _, err = run(home, "match", str(tmp_path / "missing.log"))
    assert code == 1 and "missing.log" in err


def test_match_with_workers_counts_what_one_process_counts(
    home: Path, tmp_path: Path, shared_data: Path
) -> None:
    zat = shared_data / "zeek" / "zat"
    code, one, err = run(home, "match", "--workers", "1", str(zat / "conn.log"))
    assert code == 0, err
    code, two, err = run(home, "match", "--workers", "2", str(zat / "conn.log"))
    assert code == 0, err

    def counts(out: str) -> str:  # the summary line without its time and rate
        return out.splitlines()[-1].split(" in ")[0].replace(" 1 sighting", " N sighting")

    assert counts(one) == counts(two) and "369 lines" in counts(one) and "9 hits" in counts(one)
    code, out, _ = run(home, "search", "--type", "sighting", "--json")
    [sighting] = [orjson.loads(line) for line in out.splitlines()]
    assert sighting["count"] == 18  # 9 hits in each run, one sighting counting both
    code, _, err = run(home, "match", "--workers", "0", str(zat / "conn.log"))
    assert code != 0 and "--workers" in err
