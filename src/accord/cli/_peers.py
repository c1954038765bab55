"""Commands of the federation: peers, sync, retraction."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from accord.cli._common import app, cli_node, current_settings, err, out, user_errors, when
from accord.service import sync as sync_service
from accord.service.transparency import peer_log_state

peer_app = typer.Typer(
    help="TAXII 2.1 servers this node pulls from and pushes to.", no_args_is_help=True
)
app.add_typer(peer_app, name="peer")


@peer_app.command("add")
@user_errors
def peer_add(
    name: Annotated[str, typer.Argument(help="Our name for the peer (its provenance name).")],
    url: Annotated[str, typer.Option(help="The peer's server URL, e.g. https://cti.example.")],
    token: Annotated[
        str | None,
        typer.Option(
            envvar="ACCORD_PEER_TOKEN",
            help="The peer's token for us (or the environment variable ACCORD_PEER_TOKEN). "
            "Stored sealed; never printed.",
        ),
    ] = None,
    api_root: Annotated[str, typer.Option(help="The peer's API root path or URL.")] = "/api/v21/",
    collection: Annotated[
        str | None, typer.Option(help="The peer's collection id to pull from.")
    ] = None,
    into: Annotated[
        str | None,
        typer.Option(help="Our collection (id or title) pulled objects go to; default: NAME."),
    ] = None,
    push_collection: Annotated[
        str | None, typer.Option(help="The peer's collection id to push to.")
    ] = None,
    push_from: Annotated[
        list[str] | None,
        typer.Option(help="Our collection (id or title) to push; repeatable."),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(help="HTTP Basic user name (default: send the token as a Bearer token)."),
    ] = None,
    interval: Annotated[
        int, typer.Option(min=1, help="Seconds between syncs in `accord serve`.")
    ] = 300,
    identity_id: Annotated[
        str | None,
        typer.Option(
            "--identity-id",
            help="The peer's STIX identity: the created_by_ref its opinions must "
            "carry (without it they are refused).",
        ),
    ] = None,
) -> None:
    """Add a peer: any TAXII 2.1 server (Accord or not) to pull from and/or push to."""
    with cli_node() as node:
        peer = sync_service.add_peer(
            node,
            name,
            url=url,
            api_root=api_root,
            collection=collection,
            token=token,
            username=user,
            into=into,
            push_collection=push_collection,
            push_from=push_from or (),
            interval=interval,
            identity_id=identity_id,
        )
    out.print(f"added peer {peer.name} ({peer.url})", markup=False)


@peer_app.command("identity")
@user_errors
def peer_identity(
    name: Annotated[str, typer.Argument(help="Peer name.")],
    identity_id: Annotated[
        str | None,
        typer.Argument(help="Its STIX identity id (leave out to unbind)."),
    ] = None,
) -> None:
    """Bind a peer to its STIX identity: the author its opinions must name."""
    with cli_node() as node:
        peer = sync_service.bind_identity(node, name, identity_id)
    out.print(f"peer {peer.name}: identity {peer.identity_id or 'none'}", markup=False)


@peer_app.command("list")
@user_errors
def peer_list() -> None:
    """Peers with their state: last sync, last error, pull cursor, push failures (no token)."""
    with cli_node() as node:
        views = sync_service.list_peers(node)
        logs = {v.peer.name: peer_log_state(node, v.peer.name) for v in views}
    table = Table(box=None, pad_edge=False)
    columns = ("name", "status", "url", "pull", "push", "cursor", "log", "last sync", "last error")
    for column in columns:
        table.add_column(column, overflow="fold")
    for v in views:
        p = v.peer
        status = "failing" if p.failures else ("ok" if (p.last_pull or p.last_push) else "new")
        if p.failures:
            status += f" ({p.failures}x)"
        pull = f"{p.collection} -> {v.into}" if p.collection else "-"
        push = f"{', '.join(v.push_from)} -> {p.push_collection}" if p.push_collection else "-"
        if v.push_failures:
            push += f" ({v.push_failures} refused: `accord peer failures {p.name}`)"
        last = max(p.last_pull or 0, p.last_push or 0)
        error = p.last_error or "-"
        if p.last_error and p.last_error_at:
            error = f"{when(p.last_error_at)}: {p.last_error}"
        table.add_row(
            p.name,
            status,
            p.url + p.api_root if not p.api_root.startswith("http") else p.api_root,
            pull,
            push,
            p.pull_cursor or "-",
            logs[p.name],
            when(last) if last else "never",
            error,
        )
    out.print(table)


@peer_app.command("failures")
@user_errors
def peer_failures(name: Annotated[str, typer.Argument(help="Peer name.")]) -> None:
    """The object versions a peer refused when we pushed them, with its message."""
    with cli_node() as node:
        failures = sync_service.push_failures(node, name)
    for f in failures:
        out.print(f"{f.object_id}\t{f.version}\t{when(f.at)}\t{f.message}", markup=False)
    err.print(f"{len(failures)} refused version(s)", markup=False)


@peer_app.command("remove")
@user_errors
def peer_remove(name: Annotated[str, typer.Argument(help="Peer name.")]) -> None:
    """Forget a peer (what it delivered stays, with its provenance)."""
    with cli_node() as node:
        sync_service.remove_peer(node, name)
    out.print(f"removed peer {name}", markup=False)


@app.command("sync")
@user_errors
def sync_cmd(
    peer: Annotated[
        list[str] | None, typer.Option("--peer", help="Sync only this peer; repeatable.")
    ] = None,
) -> None:
    """Pull from and push to the peers once (cron-friendly); exit code 1 if one failed."""
    from accord.taxii.client import connector  # imported here: httpx only when syncing

    settings = current_settings()
    with cli_node() as node:
        reports = sync_service.sync(node, connector(settings), peer or ())
    for report in reports:
        out.print(report.summary(), markup=False)
    if not reports:
        err.print("no peers: see `accord peer add`", markup=False)
    if any(not r.ok for r in reports):
        raise typer.Exit(1)


@app.command("retract")
@user_errors
def retract_cmd(
    object_id: Annotated[str, typer.Argument(help="The STIX id of the object to retract.")],
) -> None:
    """Withdraw an object shared by mistake: peers that hold it purge it on their next sync."""
    with cli_node() as node:
        report = sync_service.retract(node, object_id)
    if report.already:
        out.print(f"{object_id} was already retracted ({report.version})", markup=False)
        return
    out.print(
        f"retracted {object_id}: tombstone {report.version} in {report.collections}"
        f" collection(s), {report.purged} earlier version(s) deleted",
        markup=False,
    )


@app.command("retractions")
@user_errors
def retractions_cmd() -> None:
    """Objects retracted on this node, here or by a peer, and what was purged."""
    with cli_node() as node:
        done = sync_service.retractions(node)
    table = Table(box=None, pad_edge=False)
    for column in ("object", "tombstone", "by", "when", "purged"):
        table.add_column(column, overflow="fold")
    for r in done:
        by = "this node" if r.origin_kind == "local" else f"peer {r.origin}"
        table.add_row(r.object_id, r.version, by, when(r.at), str(r.purged))
    out.print(table)
