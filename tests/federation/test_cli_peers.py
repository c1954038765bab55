"""Federation commands through CliRunner: peer add/list/failures/remove, sync, retract."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from accord.cli import app
from tests import cli_run
from tests.cli_run import runner
from tests.federation.nodes import indicator

TOKEN = "acc_cli-peer-token-never-printed"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "node"
    result = runner.invoke(app, ["init", str(h), "--name", "cert-test"])
    assert result.exit_code == 0, result.output
    return h


def run(home: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    base = {"ACCORD_PEER_RETRIES": "1", "ACCORD_PEER_TIMEOUT": "2"}
    return cli_run.run(home, *args, env={**base, **(env or {})})


def test_peer_add_list_failures_remove_and_a_failed_sync(home: Path) -> None:
    code, out, err = run(
        home,
        "peer",
        "add",
        "gone",
        "--url",
        "http://127.0.0.1:9",
        "--collection",
        "c0ffee00-0000-4000-8000-000000000000",
        env={"ACCORD_PEER_TOKEN": TOKEN},
    )
    assert code == 0, err
    assert "added peer gone" in out and TOKEN not in out
    code, out, _ = run(home, "peer", "list")
    assert code == 0 and "gone" in out and "new" in out and TOKEN not in out
    # The mapped collection was created under the peer's name.
    code, out, _ = run(home, "collection", "list")
    assert "gone" in out
    code, out, err = run(home, "sync")
    assert code == 1
    assert "FAILED" in out and "connection failed" in out and TOKEN not in out + err
    code, out, _ = run(home, "peer", "list")
    assert "failing (1x)" in out, out
    assert "Connection refused" in out and TOKEN not in out
    code, out, err = run(home, "peer", "failures", "gone")
    assert code == 0 and "0 refused" in err
    code, _, err = run(home, "sync", "--peer", "nobody")
    assert code == 1 and err.startswith("error: no peer named 'nobody'")
    code, out, _ = run(home, "peer", "remove", "gone")
    assert code == 0 and "removed peer gone" in out
    code, out, _ = run(home, "peer", "list")
    assert "gone" not in out
    code, _, err = run(home, "sync")
    assert code == 0 and "no peers" in err


def test_peer_add_refuses_what_cannot_work(home: Path) -> None:
    code, _, err = run(home, "peer", "add", "p", "--url", "ftp://x", "--collection", "c")
    assert code == 1 and "is not an http(s) URL" in err
    code, _, err = run(home, "peer", "add", "p", "--url", "http://u:pw@x", "--collection", "c")
    assert code == 1 and "must not hold credentials" in err and "pw" not in err
    code, _, err = run(home, "peer", "add", "p", "--url", "http://x")
    assert code == 1 and "give a collection to pull or one to push to" in err
    code, _, err = run(home, "peer", "add", "p", "--url", "http://x", "--push-collection", "c")
    assert code == 1 and "--push-from" in err


def test_retract_and_retractions(home: Path, tmp_path: Path) -> None:
    source = tmp_path / "one.json"
    source.write_bytes(orjson.dumps([indicator(1), indicator(1, "2024-02-01T00:00:00.000Z")]))
    code, _, err = run(home, "import", str(source), "--collection", "shared")
    assert code == 0, err
    target = indicator(1)["id"]
    code, out, err = run(home, "retract", target)
    assert code == 0, err
    assert "2 earlier version(s) deleted" in out and "in 1 collection(s)" in out
    code, out, _ = run(home, "retract", target)
    assert code == 0 and "already retracted" in out
    code, out, _ = run(home, "retractions")
    assert target in out and "this node" in out
    code, out, _ = run(home, "show", target, "--json")
    shown = [orjson.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert shown and all(o["revoked"] is True and "name" not in o for o in shown)
    code, _, err = run(home, "retract", "indicator--00000000-0000-4000-8000-00000000dead")
    assert code == 1 and err.startswith("error: no object with id")
