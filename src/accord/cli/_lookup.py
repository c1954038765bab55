"""``accord lookup``: private lookup (RFC 9497 VOPRF) as holder (offer) and querier (check)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from accord.cli._common import app, cli_node, current_settings, err, out, user_errors
from accord.service import lookup, lookup_check

lookup_app = typer.Typer(
    help="Private lookup: check values against a partner's indicators without either side "
    "disclosing its data (RFC 9497 VOPRF).",
    no_args_is_help=True,
)
app.add_typer(lookup_app, name="lookup")


@lookup_app.command("offer")
@user_errors
def offer_cmd(
    collection: Annotated[str, typer.Argument(help="Collection id or title.")],
    to: Annotated[
        list[str] | None,
        typer.Option("--to", help="Member to offer to (repeatable; default: every lookup grant)."),
    ] = None,
    context: Annotated[
        bool,
        typer.Option(
            "--context",
            help="Seal each value's context (indicator id, name, TLP) for members who hold it.",
        ),
    ] = False,
) -> None:
    """Make this epoch's key and each member's filter, and announce them in the log."""
    with cli_node() as node:
        report = lookup.offer(node, collection, to or (), context=context)
    table = Table("member", "values", "size class", "filter bytes", "filter digest", box=None)
    for m in report.members:
        table.add_row(
            m.member, f"{m.values:,}", f"{m.size_class:,}", f"{m.filter_bytes:,}", m.filter_digest
        )
    out.print(table)
    out.print(
        f"epoch {report.epoch} of {report.collection.title!r} (ends {report.not_after}), key "
        f"{report.public_key.hex()}: {len(report.members)} member(s) offered, "
        f"{report.ended} ended epoch(s) deleted in {report.seconds:.2f} s",
        markup=False,
    )


@lookup_app.command("check")
@user_errors
def check_cmd(
    values: Annotated[
        list[str], typer.Argument(help="Values: domains, addresses, URLs, hashes...")
    ],
    peer: Annotated[str, typer.Option("--peer", help="The peer holding the indicators.")],
    collection: Annotated[
        str | None,
        typer.Option("--collection", help="The peer's collection id (default: all it offers)."),
    ] = None,
) -> None:
    """Check values against a peer's indicators: only our hits are learnt, by us alone."""
    from accord.taxii.client import connector
    from accord.taxii.lookup_client import lookup_connector  # httpx only when asking

    settings = current_settings()
    with cli_node() as node:
        report = lookup_check.check(
            node, peer, values, lookup_connector(settings), collection, connector(settings)
        )
    for text, why in report.refused:
        err.print(f"refused: {text!r}: {why}", markup=False)
    if report.hits:
        table = Table("kind", "value", "collection", "indicator", "name", "tlp", box=None)
        for hit in report.hits:
            for ctx in hit.contexts or ({},):
                table.add_row(
                    hit.kind,
                    hit.value,
                    hit.collection,
                    str(ctx.get("id") or "-"),
                    str(ctx.get("name") or ""),
                    str(ctx.get("tlp") or ""),
                )
        out.print(table)
    out.print(report.summary(), markup=False)
