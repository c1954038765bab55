"""Backups: ``accord backup DEST`` and ``accord restore SRC`` (``--check`` only verifies)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from accord.cli._common import app, current_settings, err, out, user_errors
from accord.service import backup as backups


def _note(message: str) -> None:
    err.print(f"… {message}", markup=False)


def _summary(verb: str, checked: backups.Checked, where: Path) -> str:
    m = checked.manifest
    c = m.contents
    return (
        f"{verb} {m.backend} node {m.node_name!r}: {c.versions:,} versions of {c.ids:,} objects,"
        f" log size {c.log.size:,} root {c.log.root[:16]}…, {checked.bytes / 1e6:,.1f} MB,"
        f" {where}, {checked.seconds:.1f} s"
    )


@app.command("backup")
@user_errors
def backup_cmd(
    dest: Annotated[Path, typer.Argument(help="A new directory for the backup.")],
) -> None:
    """A consistent online backup of the node (database, keys, files) with its manifest."""
    checked = backups.backup(current_settings(), dest, note=_note)
    out.print(_summary("backed up", checked, dest), markup=False)


@app.command("restore")
@user_errors
def restore_cmd(
    src: Annotated[Path, typer.Argument(help="A backup directory made by `accord backup`.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the node and database already there.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Only verify the backup; restore nothing.")
    ] = False,
) -> None:
    """Restore a backup into ACCORD_HOME and its database, verified against the manifest."""
    if check:
        checked = backups.verify(src)
        what = (
            "contents and files"
            if checked.contents_checked
            else "files (a dump's contents are checked on restore)"
        )
        out.print(_summary(f"ok ({what}):", checked, src), markup=False)
        return
    checked = backups.restore(current_settings(), src, force=force, note=_note)
    out.print(_summary("restored and verified", checked, current_settings().home), markup=False)
