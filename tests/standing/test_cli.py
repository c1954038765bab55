"""The commands of members' judgement through Typer's CliRunner, on a real SQLite node."""

from __future__ import annotations

import uuid
from pathlib import Path

import orjson
import pytest

from accord.cli import app
from accord.service.ingest import ingest_objects
from accord.service.node import open_node
from accord.settings import load_settings
from accord.standing import make_false_positive, make_opinion
from accord.store import Query
from tests.cli_run import run, runner

IND = f"indicator--{uuid.UUID(int=(14 << 80) + 1, version=4)}"
OTHER = "identity--2d3f7a6e-8c65-4e0a-9d65-7e3b0dbc8c40"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "node"
    assert runner.invoke(app, ["init", str(h)]).exit_code == 0
    bundle = tmp_path / "ind.json"
    ind = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": IND,
        "created": "2012-01-01T00:00:00.000Z",
        "modified": "2012-01-01T00:00:00.000Z",
        "name": "web server",
        "pattern": "[ipv4-addr:value = '54.245.228.191']",
        "pattern_type": "stix",
        "valid_from": "2012-01-01T00:00:00.000Z",
    }
    bundle.write_bytes(orjson.dumps(ind))
    assert run(h, "import", str(bundle))[0] == 0
    return h


def test_note_opinion_and_false_positive_are_stored_and_shown(home: Path) -> None:
    code, out, err = run(home, "opinion", IND, "agree", "--reason", "confirmed in IR-7")
    assert code == 0, err
    assert "stored opinion--" in out and "standing +0.25" in out
    code, out, err = run(home, "note", IND, "fired on our proxy")
    assert code == 0 and "stored note--" in out, err
    code, out, err = run(home, "false-positive", IND, "--reason", "Benign infrastructure")
    assert code == 0, err
    assert "false positive: benign-infrastructure" in out and "standing -0.50" in out
    code, out, _ = run(home, "show", IND)
    assert code == 0
    assert "standing -0.50 (1 member(s)" in out  # the node's latest opinion only
    assert "false positive (benign-infrastructure)" in out and ": note [note--" in out
    code, out, _ = run(home, "standing", "show", IND)
    assert code == 0 and out.count("[opinion--") == 1
    code, out, _ = run(home, "search", "--type", "indicator")
    assert "-0.50/1 fp1" in out
    code, out, _ = run(home, "search", "--text", "proxy")
    assert "note--" in out and "1 object(s)" in out
    code, out, _ = run(home, "standing", "refresh")
    assert code == 0 and "1 standing(s) computed" in out


def test_bad_input_is_one_line_with_what_is_wrong(home: Path) -> None:
    code, _, err = run(home, "opinion", IND, "probably")
    assert code == 1 and "opinion 'probably': use one of strongly-disagree" in err
    code, _, err = run(home, "false-positive", IND, "--reason", "because")
    assert code == 1 and "sinkholed" in err
    code, _, err = run(home, "note", "not-an-id", "text")
    assert code == 1 and "is not a STIX id" in err
    code, out, _ = run(home, "opinion", f"indicator--{uuid.uuid4()}", "neutral")
    assert code == 0 and "is not held here: kept, it counts when it arrives" in out
    code, _, err = run(home, "peer", "identity", "nobody", OTHER)
    assert code == 1
    code, _, err = run(
        home,
        "peer",
        "add",
        "x",
        "--url",
        "http://127.0.0.1:9",
        "--collection",
        str(uuid.uuid4()),
        "--identity-id",
        "identity--nope",
    )
    assert code == 1 and "is not a STIX identity id" in err


def test_export_min_standing_and_feedback_since(home: Path, tmp_path: Path) -> None:
    settings = load_settings({"ACCORD_HOME": str(home)})
    with open_node(settings) as node:
        # Make the indicator this node's own, and have a member and a stranger speak.
        [stored] = list(node.store.query(Query(ids=(IND,))))
        data = orjson.loads(stored.data)
        ingest_objects(
            node,
            [data | {"modified": "2012-02-01T00:00:00.000Z", "created_by_ref": node.info.id}],
            source=("file", "t"),
            collection_pks=[],
        )
        member = node.store.create_member("node-b", identity_id=OTHER).identity_id
        stranger = "identity--3e4a8b7f-9d76-4f1b-8e76-8f4c1ecd9d51"
        ingest_objects(
            node,
            [
                make_false_positive(member, IND, "sinkholed", "2026-12-02T00:00:00.000Z"),
                make_opinion(stranger, IND, "agree", "2026-11-01T00:00:00.000Z"),
            ],
            source=("file", "t"),
            collection_pks=[],
        )
    code, out, err = run(home, "feedback")
    assert code == 0, err
    assert "node-b: 1 false positive (sinkholed)" in out and "others: 1 agree" in out
    code, out, _ = run(home, "feedback", "--since", "2026-11-15")
    assert "node-b: 1 false positive (sinkholed)" in out and "others" not in out
    code, out, _ = run(home, "feedback", "--since", "2027-01-01")
    assert "0 indicator(s) with feedback" in out
    code, _, err = run(home, "feedback", "--since", "yesterday")
    assert code == 1 and "--since 'yesterday'" in err
    exported = tmp_path / "out.jsonl"
    out_args = ("export", "-f", "jsonl", "-t", "indicator", "-o", str(exported))
    code, _, err = run(home, *out_args, "--min-standing", "0")
    assert code == 0 and "exported 0 object(s)" in err  # its standing is below 0
    code, _, err = run(home, *out_args, "--min-standing", "-1")
    assert code == 0 and "exported 1 object(s)" in err and IND in exported.read_text()
