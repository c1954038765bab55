"""The accord command run in-process for the tests (Typer's CliRunner)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from accord.cli import app

runner = CliRunner()


def run(
    home: Path, *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """``accord --home HOME ARGS``: (exit code, stdout, stderr)."""
    result = runner.invoke(app, ["--home", str(home), *args], input=input, env=env)
    return result.exit_code, result.stdout, result.stderr
