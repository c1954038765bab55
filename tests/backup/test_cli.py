"""``accord backup``, ``accord restore --check`` and ``accord restore`` through the CLI."""

from __future__ import annotations

import stat
from pathlib import Path

from accord.service.node import init_node
from accord.settings import load_settings
from tests.cli_run import run


def test_backup_check_and_restore_on_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "node"
    init_node(load_settings({"ACCORD_HOME": str(home), "ACCORD_DATABASE_URL": ""}), "cli")
    code, out, err = run(home, "backup", str(tmp_path / "b"), env={"ACCORD_DATABASE_URL": ""})
    assert code == 0, err
    assert out.startswith("backed up sqlite node 'cli': 0 versions of 0 objects, log size 0")
    code, out, err = run(home, "restore", "--check", str(tmp_path / "b"))
    assert code == 0, err
    assert out.startswith("ok (contents and files): sqlite node 'cli'")
    restored = tmp_path / "restored"
    code, out, err = run(restored, "restore", str(tmp_path / "b"), env={"ACCORD_DATABASE_URL": ""})
    assert code == 0, err
    assert out.startswith("restored and verified sqlite node 'cli'")
    assert stat.S_IMODE((restored / "identity.key").stat().st_mode) == 0o600
    code, out, err = run(restored, "restore", str(tmp_path / "b"), env={"ACCORD_DATABASE_URL": ""})
    assert code == 1
    assert err.strip().splitlines()[-1].startswith("error: ")
    assert "already holds a database: --force replaces it" in err
    code, out, err = run(restored, "backup", str(tmp_path / "b"), env={"ACCORD_DATABASE_URL": ""})
    assert code == 1
    assert "exists: a backup goes into a new (or empty) directory" in err


def test_a_backup_inside_the_node_directory_holds_no_copy_of_itself(tmp_path: Path) -> None:
    home = tmp_path / "node"
    init_node(load_settings({"ACCORD_HOME": str(home), "ACCORD_DATABASE_URL": ""}), "cli")
    (home / "agreements").mkdir()
    (home / "agreements" / "a.toml").write_text("# an agreement\n")
    for name in ("first", "second"):
        code, _, err = run(
            home, "backup", str(home / "backups" / name), env={"ACCORD_DATABASE_URL": ""}
        )
        assert code == 0, err
    files = sorted(
        p.relative_to(home / "backups" / "second").as_posix()
        for p in (home / "backups" / "second").rglob("*")
        if p.is_file()
    )
    assert files == [
        "accord.db",
        "manifest.json",
        "node/agreements/a.toml",
        "node/backups/first/accord.db",
        "node/backups/first/manifest.json",
        "node/backups/first/node/agreements/a.toml",
        "node/backups/first/node/identity.key",
        "node/backups/first/node/identity.pub",
        "node/backups/first/node/node.toml",
        "node/identity.key",
        "node/identity.pub",
        "node/node.toml",
    ]
