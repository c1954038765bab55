"""Every community command has help text and appears in docs/community.md."""

from __future__ import annotations

from pathlib import Path

from accord.cli import app
from tests.cli_run import run, runner

COMMANDS = [
    "community card",
    "community create",
    "community join",
    "community status",
    "community verify",
    "community leave",
    "community absorb",
    "propose admit",
    "propose remove",
    "propose rotate-key",
    "propose adopt-norm",
    "propose change-norm",
    "propose repeal-norm",
    "propose change-thresholds",
    "vote",
]


def test_every_community_command_has_help_and_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "community.md").read_text()
    for command in COMMANDS:
        result = runner.invoke(app, [*command.split(), "--help"])
        assert result.exit_code == 0, result.output
        assert f"accord {command}" in docs, f"docs/community.md lacks `accord {command}`"


def test_a_node_in_no_community_is_told_so(tmp_path: Path) -> None:
    home = tmp_path / "n"
    assert runner.invoke(app, ["init", str(home)]).exit_code == 0
    for args in (("community", "status"), ("vote", "ab", "--yes"), ("community", "verify")):
        code, _, err = run(home, *args)
        assert code == 1 and "joined no community" in err, (args, err)
    code, _, err = run(home, "vote", "ab", "--yes", "--no")
    assert code == 1 and "exactly one of --yes, --no, --abstain" in err
