"""``accord match``: match log files against the node's indicators, store sightings."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from accord.cli._common import app, cli_node, current_settings, err, out, user_errors
from accord.service import match

FormatOpt = Literal["zeek", "eve", "jsonl", "csv"]


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[events]:,} events"),
        TextColumn("{task.fields[hits]:,} hits"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


@app.command("match")
@user_errors
def match_cmd(
    files: Annotated[list[Path], typer.Argument(help="Log files (plain or .gz).")],
    fmt: Annotated[
        FormatOpt | None,
        typer.Option("--format", "-f", help="Log format (default: detected per file)."),
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map", help="CSV column to object path, COLUMN=PATH (repeatable; PATH may be time)."
        ),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep matching one file as it grows (Ctrl-C ends).")
    ] = False,
    collection: Annotated[
        str | None,
        typer.Option(help="Collection for the sightings (default: ACCORD_SIGHTINGS_COLLECTION)."),
    ] = None,
    keep_observed: Annotated[
        int,
        typer.Option(
            "--keep-observed",
            min=0,
            help="Observed-data objects to store and reference per sighting (default 0).",
        ),
    ] = 0,
    top: Annotated[int, typer.Option(min=0, help="Indicators listed in the summary.")] = 20,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes that parse the logs (default: one per core for 8 MiB of input"
            " or more, else 1).",
        ),
    ] = None,
    private_peer: Annotated[
        list[str] | None,
        typer.Option(
            "--private-peer",
            help="Also look every value up privately in this peer's indicators (repeatable;"
            " `accord lookup`).",
        ),
    ] = None,
    min_standing: Annotated[
        float | None,
        typer.Option(
            "--min-standing",
            min=-1.0,
            max=1.0,
            help="Hits of indicators whose standing is below this make no sighting.",
        ),
    ] = None,
) -> None:
    """Match log files (Zeek, Suricata eve, STIX observed-data, CSV) against every indicator."""
    pairs = match.parse_mapping(mapping or [])
    total = None if follow else sum(p.stat().st_size for p in files if p.is_file())
    progress = _progress()
    with cli_node() as node, progress:
        task = progress.add_task(
            "following" if follow else "matching", total=total, events=0, hits=0
        )
        last = [0.0]

        def tick(read: int, events: int, hits: int) -> None:
            now = time.monotonic()
            if now - last[0] > 0.1:
                last[0] = now
                progress.update(task, completed=read, events=events, hits=hits)

        report = match.match_paths(
            node,
            [str(p) for p in files],
            fmt=fmt,
            mapping=pairs,
            follow=follow,
            collection=collection,
            keep_observed=keep_observed,
            progress=tick,
            workers=workers,
            min_standing=min_standing,
        )
    _print_report(report, top)
    if private_peer and not report.interrupted:
        _private(files, private_peer, fmt, pairs, collection)
    if report.interrupted and not follow:
        err.print("interrupted: the sightings counted so far are stored", markup=False)
        raise typer.Exit(130)
    if report.failed_inputs:
        raise typer.Exit(1)


def _private(
    files: list[Path],
    peers: list[str],
    fmt: FormatOpt | None,
    pairs: list[tuple[str, str]],
    collection: str | None,
) -> None:
    from accord.service import lookup_check
    from accord.taxii.client import connector
    from accord.taxii.lookup_client import lookup_connector  # httpx only when asking

    settings = current_settings()
    with cli_node() as node:
        for peer in peers:
            private = lookup_check.match_private(
                node,
                [str(p) for p in files],
                peer,
                lookup_connector(settings),
                log_connect=connector(settings),
                fmt=fmt,
                mapping=pairs,
                collection=collection,
            )
            for problem in private.errors[:20]:
                err.print(f"sighting not stored: {problem}", markup=False)
            for hit in private.check.hits:
                names = ", ".join(str(c.get("id")) for c in hit.contexts or ()) or "no context"
                out.print(f"held by {peer}: {hit.kind} {hit.value} ({names})", markup=False)
            out.print(private.summary(), markup=False)


def _print_report(report: match.MatchReport, top: int) -> None:
    stats = report.stats
    for skip in stats.skips[:20]:
        err.print(f"skipped: {skip}", markup=False)
    hidden = stats.skipped_total - min(len(stats.skips), 20)
    if hidden > 0:
        err.print(f"... and {hidden:,} more skipped lines", markup=False)
    for failed in report.failed_inputs:
        err.print(f"failed: {failed}", markup=False)
    for ind, reason in list(report.pattern_errors.items())[:20]:
        err.print(f"pattern refused: {ind}: {reason}", markup=False)
    for ind, reason in list(report.flagged.items())[:20]:
        err.print(f"flagged: {ind}: {reason}", markup=False)
    for problem in report.errors[:20]:
        err.print(f"sighting not stored: {problem}", markup=False)
    if report.hits and top:
        table = Table(
            "hits", "sighting count", "indicator", "name", "producer", "standing", box=None
        )
        for ind, n in report.hits.most_common(top):
            table.add_row(
                f"{n:,}",
                f"{report.counts.get(ind, n):,}",
                ind,
                report.names.get(ind, ""),
                report.producers.get(ind, ""),
                f"{report.standings.get(ind, 0.0):+.2f}",
            )
        out.print(table)
        if len(report.hits) > top:
            out.print(f"... and {len(report.hits) - top:,} more indicators hit", markup=False)
    for ind, n in report.suppressed.most_common(top or None):
        name = report.names.get(ind, "")
        out.print(
            f"not sighted: {ind} {name!r}, {n:,} hit(s): {report.suppressed_why[ind]}",
            markup=False,
        )
    if stats.skipped:
        by_reason = ", ".join(f"{n:,} {reason}" for reason, n in stats.skipped.most_common())
        out.print(f"skipped lines: {by_reason}", markup=False)
    out.print(report.summary(), markup=False)
