"""What every command shares: the app, consoles, node opening, error handling."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from accord.exceptions import AccordError, StrictImportFailed
from accord.service.node import Node, open_node
from accord.settings import Settings, load_settings

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="accord",
    help="Accord: a sovereign threat-intelligence exchange node (STIX 2.1, TAXII 2.1).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
collection_app = typer.Typer(help="Create, list and share collections.", no_args_is_help=True)
app.add_typer(collection_app, name="collection")
member_app = typer.Typer(help="Partner organisations that reach this node.", no_args_is_help=True)
app.add_typer(member_app, name="member")
token_app = typer.Typer(
    help="Access tokens of members (shown once, stored hashed).", no_args_is_help=True
)
app.add_typer(token_app, name="token")

# Piped output is not cut to 80 columns: ids must stay whole for scripts.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 250)
err = Console(stderr=True, highlight=False, soft_wrap=True)

state: dict[str, Any] = {"home": None}


def current_settings() -> Settings:
    return load_settings(home=state["home"])


@contextmanager
def cli_node() -> Iterator[Node]:
    """Open the node for one command."""
    node = open_node(current_settings())
    try:
        yield node
    finally:
        node.close()


def fail(message: str) -> typer.Exit:
    """Print a one-line error; the caller raises the returned Exit."""
    err.print(f"error: {message}", markup=False)
    return typer.Exit(1)


def user_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn Accord's errors into one line on stderr and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except StrictImportFailed as exc:
            for e in exc.errors[:20]:
                err.print(f"invalid: {e}", markup=False)
            raise fail(str(exc)) from exc
        except (AccordError, ValueError, OSError) as exc:
            raise fail(str(exc)) from exc

    return wrapper


def when(us: int) -> str:
    """A microsecond timestamp as ISO 8601 UTC."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(us / 1e6)) + f".{us % 1_000_000:06d}Z"
