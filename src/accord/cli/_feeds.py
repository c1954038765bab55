"""Commands over scheduled feeds: feed add, list, sync, remove."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from accord.cli._common import app, cli_node, current_settings, out, user_errors, when
from accord.service import feeds

feed_app = typer.Typer(
    help="Feeds pulled on a schedule (MISP, MISP feeds, STIX, CSV and text lists).",
    no_args_is_help=True,
)
app.add_typer(feed_app, name="feed")


@feed_app.command("add")
@user_errors
def feed_add_cmd(
    name: Annotated[str, typer.Argument(help="A name for the feed.")],
    url: Annotated[str, typer.Option("--url", help="The feed's URL (a MISP feed: its base).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="misp, misp-feed, stix, csv or txt.")],
    interval: Annotated[int, typer.Option(help="Seconds between syncs by `accord serve`.")] = 3600,
    tlp: Annotated[str, typer.Option(help="TLP of a list's entries (csv, txt).")] = "clear",
    expire_after: Annotated[
        int | None,
        typer.Option(help="Days an entry stays valid unreconfirmed (default: per type)."),
    ] = None,
    collection: Annotated[
        str | None,
        typer.Option("--collection", "-c", help="Collection id or title (default: NAME)."),
    ] = None,
) -> None:
    """Add a feed that `accord serve` (or `accord feed sync`) pulls."""
    with cli_node() as node:
        feed = feeds.add_feed(
            node,
            name,
            url=url,
            fmt=fmt,
            interval=interval,
            tlp=tlp,
            expire_after=expire_after,
            collection=collection,
        )
    out.print(f"added feed {feed.name!r} ({feed.format}, every {feed.interval} s)", markup=False)


@feed_app.command("list")
@user_errors
def feed_list_cmd() -> None:
    """Every feed, when it last synced, and its last error."""
    with cli_node() as node:
        found = feeds.list_feeds(node)
    table = Table("name", "format", "url", "every", "last sync", "error", box=None, pad_edge=False)
    for f in found:
        last = when(f.last_sync) if f.last_sync else "never"
        error = f"{f.last_error} ({f.failures} failure(s))" if f.last_error else ""
        table.add_row(f.name, f.format, f.url, f"{f.interval} s", last, error)
    out.print(table)
    out.print(f"{len(found)} feed(s)", markup=False)


@feed_app.command("sync")
@user_errors
def feed_sync_cmd(
    names: Annotated[list[str] | None, typer.Argument(help="Feeds to sync (default: all).")] = None,
) -> None:
    """Sync feeds now (for cron); exit code 1 when one failed."""
    from accord.taxii._feed_client import fetcher  # the network edge, imported when needed

    with cli_node() as node:
        reports = feeds.sync_feeds(node, fetcher(current_settings()), names or ())
    for r in reports:
        out.print(r.summary(), markup=False)
    if any(not r.ok for r in reports):
        raise typer.Exit(1)


@feed_app.command("remove")
@user_errors
def feed_remove_cmd(name: Annotated[str, typer.Argument(help="The feed's name.")]) -> None:
    """Forget a feed (what it delivered stays stored)."""
    with cli_node() as node:
        feeds.remove_feed(node, name)
    out.print(f"removed feed {name!r}", markup=False)
