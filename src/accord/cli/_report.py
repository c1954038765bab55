"""``accord report``: documents to reviewed STIX drafts, published through ingest."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from accord.cli._common import app, cli_node, err, out, user_errors, when
from accord.service import reports

report_app = typer.Typer(
    help="Reports (text, HTML, PDF) to IOCs, ATT&CK techniques and a STIX draft, reviewed "
    "before anything is shared.",
    no_args_is_help=True,
)
app.add_typer(report_app, name="report")


@report_app.command("import")
@user_errors
def import_cmd(
    refs: Annotated[list[str], typer.Argument(help="Report files or http(s) URLs.")],
    collection: Annotated[
        str | None,
        typer.Option("--collection", "-c", help="Collection to publish into later (default)."),
    ] = None,
    tlp: Annotated[
        str | None,
        typer.Option(
            "--tlp",
            help="TLP 2.0 marking for every object: clear, green, amber, amber+strict, red.",
        ),
    ] = None,
) -> None:
    """Read reports into drafts that no partner can see until `accord report publish`."""
    with cli_node() as node:
        for ref in refs:
            d = reports.import_report(
                node, ref, collection=collection, tlp=tlp, notify=lambda m: err.print(m)
            )
            ext = d.extraction()
            state = "new draft" if d.new else "already imported as draft"
            out.print(
                f"{state} {d.id}: {len(ext.kept)} indicators kept, "
                f"{len(ext.findings) - len(ext.kept)} dropped, {len(ext.techniques)} techniques "
                f"from {ref}",
                markup=False,
            )
            for w in ext.warnings:
                out.print(f"  warning: {w}", markup=False)


@report_app.command("list")
@user_errors
def list_cmd() -> None:
    """Every draft: id, status, counts, title."""
    with cli_node() as node:
        table = Table("draft", "status", "indicators", "techniques", "imported", "title")
        for d in reports.drafts(node):
            ext = d.extraction()
            status = d.row.status + (f" → {d.row.collection}" if d.row.collection else "")
            table.add_row(
                d.id,
                status,
                str(len(ext.kept)),
                str(len(ext.techniques)),
                when(d.row.created),
                d.row.title,
            )
        out.print(table)


@report_app.command("show")
@user_errors
def show_cmd(
    draft: Annotated[str, typer.Argument(help="Draft id (or a unique prefix of 6+ digits).")],
    dropped: Annotated[
        bool, typer.Option("--dropped", help="Also list the values dropped, with the reason.")
    ] = False,
) -> None:
    """A draft's findings with their evidence sentences, and its techniques with scores."""
    with cli_node() as node:
        d = reports.draft(node, draft)
        ext = d.extraction()
        drops = {v.casefold() for v in d.body["drops"]}
        out.print(f"draft {d.id} ({d.row.status}): {d.row.title}", markup=False)
        out.print(f"source: {d.body['name']}  sha256: {d.row.sha256}", markup=False)
        for w in ext.warnings:
            out.print(f"warning: {w}", markup=False)
        out.print("indicators:", markup=False)
        for f in ext.findings:
            edited = f.value.casefold() in drops
            if (f.dropped or edited) and not dropped:
                continue
            why = (
                " [dropped by the analyst]"
                if edited
                else (f" [dropped: {f.dropped}]" if f.dropped else "")
            )
            out.print(f"  {f.type:13} {f.value}{why}", markup=False)
            out.print(f"      evidence: {f.evidence}", markup=False)
        out.print("techniques:", markup=False)
        for t in ext.techniques:
            label = "named in the text" if t.explicit else f"score {t.score:.2f}"
            out.print(f"  {t.attack_id:10} {t.name} ({label})", markup=False)
            for s in t.sentences[:3]:
                out.print(f"      evidence: {s}", markup=False)


@report_app.command("edit")
@user_errors
def edit_cmd(
    draft: Annotated[str, typer.Argument(help="Draft id (or a unique prefix).")],
    drop: Annotated[
        list[str] | None,
        typer.Option("--drop", help="Leave this value (IOC, CVE, technique id) out; repeatable."),
    ] = None,
    add_technique: Annotated[
        list[str] | None,
        typer.Option("--add-technique", help="Add an ATT&CK technique id; repeatable."),
    ] = None,
) -> None:
    """Drop values from a draft and add techniques the text did not give."""
    with cli_node() as node:
        d = reports.edit_draft(node, draft, drop=drop or (), add_techniques=add_technique or ())
        out.print(
            f"draft {d.id}: {len(d.body['drops'])} value(s) dropped, "
            f"{len(d.body['added_techniques'])} technique(s) added",
            markup=False,
        )


@report_app.command("publish")
@user_errors
def publish_cmd(
    draft: Annotated[str, typer.Argument(help="Draft id (or a unique prefix).")],
    collection: Annotated[
        str | None,
        typer.Option("--collection", "-c", help="Collection id or title (created if new)."),
    ] = None,
) -> None:
    """Store the draft's STIX objects in a collection through the usual ingest path."""
    with cli_node() as node:
        p = reports.publish_draft(node, draft, collection=collection)
        failed = [o for o in p.outcomes if not o.ok]
        out.print(
            f"published draft {p.draft.id} to {p.draft.row.collection}: "
            f"{p.stored} objects stored, {len(failed)} refused (provenance: report "
            f"{p.draft.row.sha256})",
            markup=False,
        )
        for o in failed[:20]:
            out.print(f"  refused {o.id}: {o.message}", markup=False)
