"""The accord command, end to end through Typer's CliRunner."""

from __future__ import annotations

import stat
import uuid
from pathlib import Path

import orjson
import pytest

from accord.cli import app
from tests.cli_run import run, runner

TS = "2024-03-01T10:00:00.000Z"


def _indicator(n: int, value: str) -> dict[str, str | list[str]]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=n + (7 << 90), version=4)}",
        "created": TS,
        "modified": TS,
        "name": f"C2 {value}",
        "labels": ["c2"],
        "pattern": f"[ipv4-addr:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": TS,
    }


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "node"
    result = runner.invoke(app, ["init", str(h), "--name", "cert-test"])
    assert result.exit_code == 0, result.output
    return h


def test_init_creates_identity_key_0600_and_refuses_twice(home: Path) -> None:
    key = home / "identity.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert 'name = "cert-test"' in (home / "node.toml").read_text()
    assert (home / "accord.db").exists()
    result = runner.invoke(app, ["init", str(home)])
    assert result.exit_code == 1
    assert "already holds an Accord node" in result.stderr


def test_commands_without_a_node_say_so(tmp_path: Path) -> None:
    code, _, err = run(tmp_path / "nowhere", "stats")
    assert code == 1
    assert err.startswith("error: no Accord node at")
    assert len(err.strip().splitlines()) == 1


def test_import_search_show_export_stats(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "b.json"
    objs = [_indicator(1, "203.0.113.5"), _indicator(2, "203.0.113.6")]
    src.write_bytes(
        orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objs})
    )
    code, out, err = run(home, "import", str(src), "--collection", "feeds")
    assert code == 0, err
    assert "2 stored" in out and "created collection 'feeds'" in err

    code, out, _ = run(home, "search", "203.0.113.5")
    assert code == 0
    assert str(objs[0]["id"]) in out and str(objs[1]["id"]) not in out

    code, out, _ = run(home, "search", "203.0.113.5/32", "--json")
    assert [orjson.loads(line)["id"] for line in out.splitlines()] == [objs[0]["id"]]

    code, out, _ = run(home, "search", "--label", "c2", "--type", "indicator", "--json")
    assert len(out.splitlines()) == 2

    code, out, _ = run(home, "show", str(objs[1]["id"]))
    assert code == 0 and f"from file {src.resolve()}" in out

    target = tmp_path / "out.json"
    code, _, err = run(home, "export", "--collection", "feeds", "-o", str(target))
    assert code == 0 and "exported 2 object(s)" in err
    exported = orjson.loads(target.read_bytes())
    assert exported["type"] == "bundle"
    assert sorted(o["id"] for o in exported["objects"]) == sorted(o["id"] for o in objs)

    code, out, _ = run(home, "export", "--format", "jsonl", "--value", "203.0.113.6")
    assert [orjson.loads(line)["id"] for line in out.splitlines()] == [objs[1]["id"]]

    code, out, _ = run(home, "stats", "--json")
    stats = orjson.loads(out)
    assert stats["objects"] == 2 and stats["collections"] == {"feeds": 2}
    assert stats["current_by_type"] == {"indicator": 2}


def test_import_from_stdin(home: Path) -> None:
    line = orjson.dumps(_indicator(3, "192.0.2.1")).decode()
    code, out, err = run(home, "import", "-", input=line + "\n")
    assert code == 0, err
    assert "1 stored" in out
    code, out, _ = run(home, "show", str(_indicator(3, "x")["id"]))
    assert "from stdin <stdin>" in out


def test_user_errors_are_one_line(home: Path, tmp_path: Path) -> None:
    code, _, err = run(home, "import", str(tmp_path / "missing.json"))
    assert code == 1 and err == f"error: {tmp_path / 'missing.json'}: no such file or directory\n"
    code, _, err = run(home, "search", "--since", "yesterday")
    assert code == 1 and err.startswith("error: --since 'yesterday'")
    code, _, err = run(home, "export", "--collection", "nope")
    assert code == 1 and "no collection with id or title 'nope'" in err
    broken = tmp_path / "broken.json"
    broken.write_bytes(b'{"type": "bundle", "objects": [}')
    code, _, err = run(home, "import", str(broken))
    assert code == 1 and "byte 31" in err


def test_collection_create_and_list(home: Path) -> None:
    cid = str(uuid.uuid4())
    code, out, _ = run(
        home, "collection", "create", "shared", "--description", "for partners", "--id", cid
    )
    assert code == 0 and cid in out
    code, out, _ = run(home, "collection", "list")
    assert "shared" in out and "for partners" in out and cid in out


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    commands = [
        "serve",
        "init",
        "import",
        "search",
        "show",
        "export",
        "stats",
        "settings",
        "collection create",
        "collection list",
        "collection grant",
        "collection revoke",
        "collection anonymous",
        "member add",
        "member list",
        "token create",
        "token list",
        "token revoke",
        "pattern check",
        "match",
        "agreement list",
        "agreement show",
        "agreement check",
        "policy explain",
        "policy preview",
        "member jurisdiction",
    ]
    for command in commands:
        result = runner.invoke(app, [*command.split(), "--help"])
        assert result.exit_code == 0, result.output
        assert f"accord {command}" in readme, f"README lacks `accord {command}`"


def test_every_setting_is_in_the_readme() -> None:
    from accord.settings import SETTINGS

    root = Path(__file__).resolve().parents[1]
    # The README, and the capability pages it points to (docs/).
    readme = "\n".join(p.read_text() for p in [root / "README.md", *sorted(root.glob("docs/*.md"))])
    for s in SETTINGS:
        assert f"`{s.name}`" in readme, s.name


def test_members_tokens_and_grants(home: Path) -> None:
    assert run(home, "collection", "create", "shared")[0] == 0
    code, out, _ = run(home, "member", "add", "cert-b", "--contact", "soc@b.example")
    assert code == 0 and "identity--" in out
    code, secret, err = run(home, "token", "create", "--member", "cert-b")
    secret = secret.strip()
    assert code == 0 and secret.startswith("acc_") and "not shown again" in err
    code, out, _ = run(home, "token", "list")
    assert secret[:10] in out and secret not in out
    code, out, _ = run(home, "collection", "grant", "shared", "--member", "cert-b", "--read")
    assert code == 0 and "cert-b may read 'shared'" in out
    code, out, _ = run(home, "member", "list")
    assert "shared (r)" in out and "jurisdiction" in out
    assert run(home, "member", "jurisdiction", "cert-b", "EU")[0] == 0
    code, out, _ = run(home, "member", "list")
    [row] = [line for line in out.splitlines() if line.startswith("cert-b")]
    assert " EU " in row
    code, _, err = run(home, "collection", "grant", "shared", "--member", "nobody", "--read")
    assert code == 1 and "no member named 'nobody'" in err
    code, out, _ = run(home, "token", "revoke", secret[:10])
    assert code == 0 and "revoked 1 token(s)" in out
    code, out, _ = run(home, "token", "revoke", secret[:10])
    assert code != 0
    from accord.service.node import open_node
    from tests.conftest import settings_for

    with open_node(settings_for(home)) as node:
        assert node.store.member_for_token(secret) is None
        assert node.store.grants()[0].can_read is True
