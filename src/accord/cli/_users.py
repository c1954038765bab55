"""``accord user``: the web console's accounts (never a password on the command line)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from accord.cli._common import app, cli_node, fail, out, user_errors, when
from accord.service import users

user_app = typer.Typer(
    help="Accounts of the web console (roles: admin, analyst, auditor, read-only).",
    no_args_is_help=True,
)
app.add_typer(user_app, name="user")


def _password(password_file: Path | None) -> str:
    if password_file is not None:
        # The file's first line: a trailing newline is not part of the password.
        lines = password_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    if not sys.stdin.isatty():
        raise fail("no terminal to ask the password on: give --password-file")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise fail("the two passwords differ")
    return first


PasswordFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--password-file",
        help="Read the password from the first line of this file (else asked on the terminal).",
        exists=True,
        dir_okay=False,
    ),
]


@user_app.command("add")
@user_errors
def user_add(
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[
        str, typer.Option("--role", "-r", help="admin, analyst, auditor or read-only.")
    ],
    password_file: PasswordFileOpt = None,
) -> None:
    """Add a console user; the password is asked for (or read from --password-file)."""
    users.check_role(role)
    users.check_name(name)
    password = _password(password_file)
    with cli_node() as node:
        user = users.add_user(node, name, role, password)
    out.print(f"added user {user.name!r} ({user.role})", markup=False)


@user_app.command("password")
@user_errors
def user_password(
    name: Annotated[str, typer.Argument(help="Login name.")],
    password_file: PasswordFileOpt = None,
) -> None:
    """Set a user's password (its open sessions end)."""
    password = _password(password_file)
    with cli_node() as node:
        users.set_password(node, name, password)
    out.print(f"new password for {name!r}; its sessions ended", markup=False)


@user_app.command("list")
@user_errors
def user_list() -> None:
    """List console users and their roles."""
    with cli_node() as node:
        found = users.users(node)
    table = Table("name", "role", "created", box=None, pad_edge=False)
    for u in found:
        table.add_row(u.name, u.role, when(u.created))
    out.print(table)


@user_app.command("remove")
@user_errors
def user_remove(name: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Remove a console user (its sessions end)."""
    with cli_node() as node:
        users.remove_user(node, name)
    out.print(f"removed user {name!r}", markup=False)
