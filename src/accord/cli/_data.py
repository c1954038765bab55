"""Commands over the node's data: init, import, search, show, export, stats, collections."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, BinaryIO
from urllib.parse import urlsplit, urlunsplit

import orjson
import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from accord.cli._common import (
    app,
    cli_node,
    current_settings,
    err,
    fail,
    out,
    state,
    user_errors,
    when,
)
from accord.cli._standing import describe, remark_lines
from accord.service import feeds, ingest, query
from accord.service import standing as standing_service
from accord.service.node import init_node
from accord.settings import SETTINGS, load_settings
from accord.stix import Tlp


@app.callback()
def main_callback(
    home: Annotated[
        Path | None,
        typer.Option("--home", help="Node directory (default: $ACCORD_HOME or ./accord-data)."),
    ] = None,
) -> None:
    """Accord: a sovereign threat-intelligence exchange node."""
    state["home"] = home


@app.command("init")
@user_errors
def init_cmd(
    path: Annotated[
        Path | None, typer.Argument(help="Node directory (default: ACCORD_HOME).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Node name (default: directory name).")] = None,
) -> None:
    """Create a node: directory, Ed25519 identity key, node id and database."""
    settings = load_settings(home=path or state["home"])
    info = init_node(settings, name)
    out.print(f"initialised node {info.name!r} ({info.id}) in {settings.home}", markup=False)


@app.command("import")
@user_errors
def import_cmd(
    paths: Annotated[list[str], typer.Argument(help="Files, directories, or - for stdin.")],
    collection: Annotated[
        str | None,
        typer.Option("--collection", "-c", help="Collection id or title (created if new)."),
    ] = None,
    strict: Annotated[
        bool, typer.Option(help="Reject the whole input if any object is invalid (STIX).")
    ] = False,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="auto (by content and name), stix, misp, misp-feed (a feed directory), "
            "csv or txt (IOC lists).",
        ),
    ] = "auto",
    producer: Annotated[
        str | None, typer.Option(help="Lists: who produced them (default: the file name).")
    ] = None,
    tlp: Annotated[str, typer.Option(help="Lists: their TLP level.")] = "clear",
    kind: Annotated[
        str | None,
        typer.Option("--type", help="Lists: every value is of this type (else detected)."),
    ] = None,
    value_column: Annotated[
        str, typer.Option(help="CSV lists: the value's column (0-based index or header name).")
    ] = "0",
    type_column: Annotated[
        str | None, typer.Option(help="CSV lists: a column giving each value's type.")
    ] = None,
) -> None:
    """Import STIX 2.1 (2.0 lifted), MISP events and feeds (a directory or URL), IOC lists."""
    with tempfile.TemporaryDirectory(prefix="accord-feed-") as spool:
        local = _download_urls(paths, Path(spool))
        _import(local, collection, strict, fmt, producer, tlp, kind, value_column, type_column)


def _download_urls(paths: list[str], spool: Path) -> list[str]:
    """Paths, with each http(s) URL (a MISP feed) copied into the spool folder first."""
    urls = [p for p in paths if p.startswith(("http://", "https://"))]
    if not urls:
        return paths
    from accord.taxii._feed_client import fetcher  # the network edge, imported when needed

    fetch = fetcher(current_settings())
    local: list[str] = []
    for n, p in enumerate(paths):
        if p not in urls:
            local.append(p)
            continue
        folder = spool / f"feed-{n}"
        for problem in feeds.download_misp_feed(p, fetch, folder):
            err.print(f"not fetched: {problem}", markup=False)
        local.append(str(folder))
    return local


def _import(
    paths: list[str],
    collection: str | None,
    strict: bool,
    fmt: str,
    producer: str | None,
    tlp: str,
    kind: str | None,
    value_column: str,
    type_column: str | None,
) -> None:
    kinds = [(p, feeds.classify(p, fmt)) for p in paths]
    stix_paths = [p for p, k in kinds if k == "stix"]
    foreign = [(p, k) for p, k in kinds if k != "stix"]
    options = feeds.ListOptions(producer, Tlp.parse(tlp), kind, value_column, type_column)
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.fields[objects]:,} objects"),
        TextColumn("{task.fields[rate]:,.0f}/s"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    started = time.perf_counter()
    reports: list[ingest.ImportReport] = []
    with cli_node() as node, progress:
        task = progress.add_task("importing", objects=0, rate=0.0)

        def tick(read: int, inputs: int) -> None:
            rate = read / max(time.perf_counter() - started, 1e-9)
            progress.update(task, objects=read, rate=rate, description=f"{inputs} input(s) done")

        if stix_paths:
            reports.append(
                ingest.import_paths(
                    node, stix_paths, collection=collection, strict=strict, progress=tick
                )
            )
        if foreign:
            reports.append(
                feeds.import_foreign(
                    node, foreign, collection=collection, lists=options, progress=tick
                )
            )
    for report in reports:
        _print_report(report)
    if any(r.failed_inputs for r in reports):
        raise typer.Exit(1)


def _print_report(report: ingest.ImportReport) -> None:
    if report.created_collection and report.collection:
        err.print(
            f"created collection {report.collection.title!r} ({report.collection.id})", markup=False
        )
    for rejected in report.invalid[:20]:
        err.print(f"invalid: {rejected}", markup=False)
    for bad in report.bad_records[:20]:
        err.print(f"malformed: {bad}", markup=False)
    for name, conflict in report.conflicts[:20]:
        err.print(
            f"conflict: {name}: {conflict.id} version {conflict.version} differs from the stored "
            "one, which was kept",
            markup=False,
        )
    for failed in report.failed_inputs:
        err.print(f"failed (rolled back): {failed}", markup=False)
    hidden = report.invalid_count - min(len(report.invalid), 20)
    if hidden > 0:
        err.print(f"... and {hidden:,} more invalid objects", markup=False)
    if isinstance(report, feeds.ForeignReport):
        for problem in report.attribute_problems[:50]:
            err.print(f"attribute: {problem}", markup=False)
        for name, line in report.line_problems[:50]:
            err.print(f"refused: {name}: {line}", markup=False)
        for note in report.notes:
            err.print(f"note: {note}", markup=False)
        more = (
            report.attribute_problem_count
            + report.line_problem_count
            - min(len(report.attribute_problems), 50)
            - min(len(report.line_problems), 50)
        )
        if more > 0:
            err.print(f"... and {more:,} more problems", markup=False)
    out.print(report.summary(), markup=False)


ValueArg = Annotated[
    str | None, typer.Argument(help="An observable value: IP, domain, URL, hash, e-mail.")
]
TypeOpt = Annotated[list[str] | None, typer.Option("--type", "-t", help="STIX type (repeatable).")]
LabelOpt = Annotated[
    list[str] | None, typer.Option("--label", "-l", help="Required label (repeatable).")
]
TextOpt = Annotated[str | None, typer.Option("--text", help="Substring of name or description.")]
SinceOpt = Annotated[
    str | None, typer.Option("--since", help="modified at or after (timestamp or date).")
]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="modified at or before (timestamp or date).")
]
CollOpt = Annotated[str | None, typer.Option("--collection", "-c", help="Collection id or title.")]
AllOpt = Annotated[
    bool, typer.Option("--all-versions", help="Every version, not only the current.")
]
RevOpt = Annotated[bool, typer.Option("--include-revoked", help="Keep revoked objects.")]


@app.command("search")
@user_errors
def search_cmd(
    value: ValueArg = None,
    type_: TypeOpt = None,
    label: LabelOpt = None,
    text: TextOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    collection: CollOpt = None,
    all_versions: AllOpt = False,
    include_revoked: RevOpt = False,
    limit: Annotated[int, typer.Option(help="At most this many results (0: no limit).")] = 50,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the objects as JSON lines.")
    ] = False,
) -> None:
    """Find objects by observable value, type, label, time range or text."""
    with cli_node() as node:
        q = query.build_query(
            node,
            value=value,
            types=type_ or (),
            labels=label or (),
            text=text,
            since=since,
            until=until,
            collection=collection,
            all_versions=all_versions,
            include_revoked=include_revoked,
            limit=limit or None,
        )
        found = list(query.search(node, q))
    if as_json:
        for obj in found:
            sys.stdout.buffer.write(obj.data + b"\n")
        return
    table = Table(box=None, pad_edge=False)
    table.add_column("type", no_wrap=True)
    table.add_column("id", no_wrap=True)
    table.add_column("name / value", overflow="fold")
    table.add_column("modified", no_wrap=True)
    table.add_column("standing", no_wrap=True, justify="right")
    with cli_node() as node:
        held = standing_service.standings_of(node, [o.id for o in found])
    for obj in found:
        data = orjson.loads(obj.data)
        label_text = str(
            data.get("name")
            or data.get("value")
            or data.get("pattern")
            or data.get("content")
            or data.get("opinion")
            or ""
        )
        h = held.get(obj.id)
        shown = "-" if h is None else f"{h.standing.score:+.2f}/{h.standing.members}"
        if h is not None and h.standing.false_positives:
            shown += f" fp{h.standing.false_positives}"
        table.add_row(obj.type, obj.id, label_text[:80], str(data.get("modified", "")), shown)
    out.print(table)
    more = " (limit reached: --limit 0 for all)" if limit and len(found) == limit else ""
    out.print(f"{len(found)} object(s){more}", markup=False)


@app.command("show")
@user_errors
def show_cmd(
    object_id: Annotated[str, typer.Argument(help="A STIX id.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the versions as JSON lines.")
    ] = False,
) -> None:
    """Every stored version of one object, with its provenance."""
    with cli_node() as node:
        history = query.show(node, object_id)
        held = standing_service.standings_of(node, [object_id]).get(object_id)
        remarks = standing_service.remarks_on(node, object_id)
    for obj, sources in history.versions:
        if as_json:
            sys.stdout.buffer.write(obj.data + b"\n")
            continue
        state = " (revoked)" if obj.revoked else ""
        out.print(f"version {obj.version}{state}, date_added {when(obj.added)}", markup=False)
        for p in sources:
            out.print(f"  from {p.kind} {p.name} at {when(p.when)}", markup=False)
    if not as_json:
        out.print_json(history.versions[-1][0].data.decode())
        out.print(describe(held), markup=False)
        for line in remark_lines(remarks):
            out.print(line, markup=False)


@app.command("export")
@user_errors
def export_cmd(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File (default: stdout); a directory for misp."),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="bundle, jsonl, zeek-intel, suricata (with -o DIR: rules, hash lists and "
            "datasets), csv (indicators) or misp (a MISP feed directory, needs -o).",
        ),
    ] = "bundle",
    collection: CollOpt = None,
    value: Annotated[
        str | None, typer.Option("--value", help="Observable value mentioned.")
    ] = None,
    type_: TypeOpt = None,
    label: LabelOpt = None,
    text: TextOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    all_versions: AllOpt = False,
    include_revoked: RevOpt = False,
    for_member: Annotated[
        str | None,
        typer.Option("--for", help="Only what this member may receive (needs --collection)."),
    ] = None,
    min_standing: Annotated[
        float | None,
        typer.Option(
            "--min-standing",
            min=-1.0,
            max=1.0,
            help="Leave out indicators whose standing is below this (nobody spoke of it: 0).",
        ),
    ] = None,
) -> None:
    """Export a collection or a query: STIX, sensor formats (Zeek, Suricata, CSV) or MISP."""
    if fmt not in feeds.EXPORT_FORMATS:
        raise fail(f"--format {fmt!r}: use {', '.join(feeds.EXPORT_FORMATS)}")
    if for_member and not collection:
        raise fail("--for needs --collection: agreements cover collections")
    if fmt == "misp":
        if output is None or not collection:
            raise fail("--format misp writes a feed directory: give --output DIR and --collection")
        with cli_node() as node:
            if for_member:  # logged in the transparency log before the directory appears
                written = feeds.export_misp_feed_for(node, collection, output, for_member)
            else:
                written = feeds.export_misp_feed(node, collection, output)
        for problem in written.problems[:20]:
            err.print(f"not exported: {problem}", markup=False)
        err.print(f"exported {len(written.events):,} MISP event(s) to {output}", markup=False)
        return
    sensor = fmt in feeds.SENSOR_FORMATS
    with cli_node() as node:
        q = query.build_query(
            node,
            value=value,
            types=("indicator",) if sensor else type_ or (),
            labels=label or (),
            text=text,
            since=since,
            until=until,
            collection=collection,
            all_versions=all_versions,
            include_revoked=include_revoked,
        )
        objects = query.search(node, q)
        if min_standing is not None:
            objects = standing_service.at_least(node, objects, min_standing)
        if sensor and for_member and collection:
            if fmt == "suricata" and output is not None and (output.is_dir() or not output.suffix):
                raise fail("--for with --format suricata writes the rules to one file or stdout")
            # Spooled and logged in the transparency log before it is written out.
            sent = feeds.export_sensor_for(
                node, for_member, collection, fmt, objects, output, sys.stdout.buffer
            )
            err.print(f"exported {sent:,} indicator(s) as {fmt} for {for_member}", markup=False)
            return
        if sensor:
            counts = feeds.export_sensor(node, fmt, objects, output, sys.stdout.buffer)
            err.print(
                f"exported {counts.indicators:,} indicator(s) as {counts.lines:,} {fmt} line(s); "
                f"{counts.skipped:,} skipped (no value a sensor can use, or expired)",
                markup=False,
            )
            return
        layout: query.ExportFormat = "jsonl" if fmt == "jsonl" else "bundle"

        def write(out: BinaryIO) -> int:
            if for_member and collection:  # logged in the transparency log first
                return query.export_for(node, for_member, collection, objects, out, layout)
            return query.export(objects, out, layout)

        if output is None:
            count = write(sys.stdout.buffer)
        else:
            tmp = output.with_name(output.name + ".partial")
            with tmp.open("wb") as f:
                count = write(f)
            tmp.replace(output)  # never leave a half-written export under the real name
    err.print(f"exported {count:,} object(s)", markup=False)


@app.command("stats")
@user_errors
def stats_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Counts of objects, versions, observables and collections."""
    with cli_node() as node:
        st = query.stats(node)
        info = node.info
        url = node.database_url
    if as_json:
        payload = {
            "node": {"id": info.id, "name": info.name},
            "database": url,
            "objects": st.objects,
            "versions": st.versions,
            "revoked": st.revoked,
            "observables": st.observables,
            "sources": st.sources,
            "current_by_type": st.current_by_type,
            "collections": st.collections,
            "database_bytes": st.database_bytes,
        }
        sys.stdout.buffer.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2) + b"\n")
        return
    out.print(f"node {info.name} ({info.id}) on {url}", markup=False)
    size = f", {st.database_bytes / 1e6:,.1f} MB" if st.database_bytes else ""
    out.print(
        f"{st.objects:,} objects ({st.versions:,} versions, {st.revoked:,} revoked), "
        f"{st.observables:,} indexed observable values, {st.sources} sources{size}",
        markup=False,
    )
    table = Table("type", "current objects", box=None, pad_edge=False)
    for t, n in sorted(st.current_by_type.items(), key=lambda kv: -kv[1]):
        table.add_row(t, f"{n:,}")
    out.print(table)
    for title, n in st.collections.items():
        out.print(f"collection {title!r}: {n:,} versions", markup=False)


@app.command("serve")
@user_errors
def serve_cmd(
    host: Annotated[
        str, typer.Option(help="Address to bind (0.0.0.0: reachable from other machines).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes (more than one: use PostgreSQL).")
    ] = 1,
) -> None:
    """Serve the node's collections over TAXII 2.1 (discovery at /taxii2/)."""
    from accord.taxii import serve  # imported here: keeps the other commands' start fast
    from accord.taxii._client_sync import background_sync
    from accord.taxii._feed_client import background_feeds

    settings = current_settings()
    # Peers pulled and pushed, feeds pulled, each on its own interval.
    with background_sync(settings), background_feeds(settings):
        serve(settings, host, port, workers)


def _without_password(value: str) -> str:
    """A URL's password as ``***`` (a database URL's, on a shared terminal or in a log)."""
    parts = urlsplit(value)
    if "://" not in value or parts.password is None:
        return value
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


@app.command("settings")
def settings_cmd() -> None:
    """Every ACCORD_ setting with its current value and help."""
    for s in SETTINGS:
        value = _without_password(os.environ.get(s.name, s.default))
        out.print(f"{s.name}={value}", markup=False)
        out.print(f"    {s.help}", markup=False)
