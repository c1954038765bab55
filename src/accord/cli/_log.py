"""Commands of the transparency log: status, verify, show, receipts, audit, auditors."""

from __future__ import annotations

import base64
from typing import Annotated

import orjson
import typer
from rich.table import Table

from accord.cli._common import (
    app,
    cli_node,
    current_settings,
    err,
    fail,
    member_app,
    out,
    user_errors,
    when,
)
from accord.exceptions import LedgerError
from accord.ledger import leaf_hash
from accord.service import transparency
from accord.service.taxii import timestamp_us

log_app = typer.Typer(
    help="The transparency log of every share: status, verify, entries, receipts.",
    no_args_is_help=True,
)
app.add_typer(log_app, name="log")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print as JSON.")]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@log_app.command("status")
@user_errors
def log_status(as_json: JsonOpt = False) -> None:
    """Size, root, the latest checkpoint and its cosigners; the logs this node witnesses."""
    with cli_node() as node:
        st = transparency.status(node)
    published, size, witnessed, evidence = st.published, st.size, st.witnessed, st.evidence
    origin, vkey = st.origin, st.vkey
    cp = published.checkpoint
    info = {
        "origin": origin,
        "vkey": vkey,
        "size": size,
        "checkpoint": {"size": cp.size, "root": _b64(cp.root), "signed": when(cp.signed)},
        "cosigners": list(published.cosigners),
        "witnessing": [
            {"origin": w.origin, "peer": w.peer, "size": w.size, "forked": w.forked}
            for w in witnessed
        ],
        "forks": [
            {"origin": e.origin, "reason": e.reason, "found": when(e.found)} for e in evidence
        ],
    }
    if as_json:
        out.print_json(orjson.dumps(info).decode())
        return
    out.print(f"origin      {origin}", markup=False)
    out.print(f"key         {vkey}", markup=False)
    out.print(f"entries     {size:,}", markup=False)
    out.print(f"checkpoint  size {cp.size:,}, root {_b64(cp.root)}, signed {when(cp.signed)}")
    cosigners = ", ".join(published.cosigners) or "none yet"
    out.print(f"cosigned by {cosigners}", markup=False)
    for w in witnessed:
        state = "FORKED: not cosigned any more" if w.forked else f"size {w.size:,}"
        out.print(f"witnessing  {w.peer or '-'} ({w.origin}): {state}", markup=False)
    for e in evidence:
        out.print(f"FORK        {e.origin} at {when(e.found)}: {e.reason}", markup=False)


@log_app.command("verify")
@user_errors
def log_verify(
    peer: Annotated[
        str | None, typer.Option("--peer", help="Check a peer's log through its tiles instead.")
    ] = None,
) -> None:
    """Rebuild the tree and check every hash and checkpoint; exit 1 on a fault or a fork."""
    with cli_node() as node:
        if peer is None:
            try:
                v = transparency.verify_own(node)
            except LedgerError as exc:
                raise fail(f"the log does not verify: {exc}") from exc
            out.print(
                f"ok: {v.entries:,} entries and {v.checkpoints:,} signed checkpoint(s) rebuilt,"
                f" root {_b64(v.root)}",
                markup=False,
            )
        else:
            from accord.taxii.client import connector  # httpx only when a peer is read

            try:
                cp, count = transparency.verify_peer(node, peer, connector(current_settings()))
            except LedgerError as exc:
                raise fail(f"peer {peer}'s log does not verify: {exc}") from exc
            out.print(
                f"ok: {count:,} entries of {peer} give its signed root {_b64(cp.root)}",
                markup=False,
            )
        forks = transparency.evidence(node)
    if forks:
        for e in forks:
            err.print(f"FORK: {e.origin}: {e.reason}", markup=False)
        raise typer.Exit(1)


@log_app.command("show")
@user_errors
def log_show(
    index: Annotated[int, typer.Argument(help="Entry index (0-based).")],
    as_json: JsonOpt = False,
) -> None:
    """One entry: its fields, leaf hash, inclusion in the latest checkpoint, and its opening."""
    with cli_node() as node:
        shown = transparency.entry(node, index)
    row, included = shown.row, shown.included_in
    info = {
        "index": row.idx,
        "recorded": when(row.recorded),
        "entry": orjson.loads(row.entry),
        "leaf": _b64(leaf_hash(row.entry)),
        "included_in": included,
    }
    if shown.opening is not None:
        o = shown.opening
        info["opening"] = {"recipient": o.recipient, "agreement": o.agreement}
    if as_json:
        out.print_json(orjson.dumps(info).decode())
        return
    for key, value in info.items():
        text = orjson.dumps(value).decode() if isinstance(value, dict) else value
        out.print(f"{key:12} {text if text is not None else 'not yet checkpointed'}", markup=False)


@log_app.command("receipts")
@user_errors
def log_receipts(
    peer: Annotated[str | None, typer.Option("--peer", help="Of this peer only.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="verified, pending or failed.")
    ] = None,
) -> None:
    """Receipts of what peers sent us: verified, pending (no checkpoint yet) or failed."""
    with cli_node() as node:
        receipts = transparency.receipts(node, peer, status)
    table = Table(box=None, pad_edge=False)
    for column in ("peer", "index", "status", "received", "checked", "note"):
        table.add_column(column, overflow="fold")
    for r in receipts:
        table.add_row(
            r.peer,
            str(r.idx),
            r.status,
            when(r.received),
            when(r.checked) if r.checked else "-",
            r.message,
        )
    out.print(table)
    counts = {
        s: sum(1 for r in receipts if r.status == s) for s in ("verified", "pending", "failed")
    }
    err.print(", ".join(f"{n} {s}" for s, n in counts.items()), markup=False)
    if counts["failed"]:
        raise typer.Exit(1)


@app.command("audit")
@user_errors
def audit_cmd(
    member: Annotated[str | None, typer.Option("--member", help="Shares to this member.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Recorded at or after (timestamp or date).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The auditor's view: every share (to a member), who, under which agreement, verified."""
    since_us = timestamp_us("--since", since) if since else None
    with cli_node() as node:
        shares = transparency.audit(node, member, since_us)
    if as_json:
        rows = [
            {
                "index": s.index,
                "recorded": when(s.recorded),
                "entry": s.entry,
                "recipient": s.recipient,
                "agreement": s.agreement,
                "versions": list(s.versions),
                "included": s.included,
                "problem": s.problem,
            }
            for s in shares
        ]
        out.print_json(orjson.dumps(rows).decode())
    else:
        table = Table(box=None, pad_edge=False)
        for column in ("index", "recorded", "recipient", "channel", "collection", "objects"):
            table.add_column(column, overflow="fold")
        table.add_column("agreement")
        table.add_column("verified")
        for s in shares:
            table.add_row(
                str(s.index),
                when(s.recorded),
                s.recipient,
                str(s.entry.get("channel")),
                str(s.entry.get("collection")),
                str(s.entry.get("count")),
                s.agreement or "-",
                "yes" if s.included else (s.problem or "not yet checkpointed"),
            )
        out.print(table)
    bad = [s for s in shares if s.problem]
    err.print(f"{len(shares)} share(s), {len(bad)} with a problem", markup=False)
    if bad:
        raise typer.Exit(1)


@member_app.command("auditor")
@user_errors
def member_auditor(
    name: Annotated[str, typer.Argument(help="Member name.")],
    off: Annotated[bool, typer.Option("--off", help="No longer an auditor.")] = False,
) -> None:
    """Let a member read the log's openings (who received what), or no longer."""
    with cli_node() as node:
        transparency.set_auditor(node, name, not off)
    out.print(f"{name}: {'no longer an auditor' if off else 'auditor'}", markup=False)
