"""Commands over sharing agreements: list, show, check; explain and preview decisions."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.table import Table

from accord.cli._common import app, cli_node, err, fail, member_app, out, user_errors, when
from accord.policy import Agreement, Inbound
from accord.service import egress

agreement_app = typer.Typer(
    help="Sharing agreements: the TOML files in ACCORD_HOME/agreements/.", no_args_is_help=True
)
app.add_typer(agreement_app, name="agreement")
policy_app = typer.Typer(
    help="What the agreements decide: explain one object, preview a member's share.",
    no_args_is_help=True,
)
app.add_typer(policy_app, name="policy")

ToOpt = Annotated[str, typer.Option("--to", help="The member (by name) who would receive.")]
CollectionOpt = Annotated[
    str | None, typer.Option("--collection", "-c", help="Collection id or title.")
]


def _covers(a: Agreement | Inbound) -> str:
    if isinstance(a, Inbound):
        return f"from peer {a.peer}"
    return ", ".join(sorted(a.members)) + " on " + ", ".join(sorted(a.collections))


def _rules(a: Agreement) -> list[str]:
    rules = [f"ceiling {a.ceiling.label}", f"unmarked counts as {a.unmarked.label}"]
    if a.types_allowed:
        rules.append("types only " + ", ".join(sorted(a.types_allowed)))
    if a.types_excluded:
        rules.append("types never " + ", ".join(sorted(a.types_excluded)))
    if a.labels_required:
        rules.append("labels required " + ", ".join(sorted(a.labels_required)))
    if a.labels_excluded:
        rules.append("labels excluded " + ", ".join(sorted(a.labels_excluded)))
    if a.min_confidence is not None:
        rules.append(f"confidence >= {a.min_confidence}")
    if a.embargo_hours:
        rules.append(f"embargo {a.embargo_hours:g} h after created")
    for code, allowed in sorted(a.jurisdiction.items()):
        rules.append(f"residency {code} only to {', '.join(sorted(allowed))}")
    rules.append(f"attribution {a.attribution}")
    if a.redact:
        rules.append("redact " + ", ".join(sorted(a.redact)))
    if a.redact_fields:
        rules.append("redact fields " + ", ".join(a.redact_fields))
    if a.share_sightings:
        rules.append("shares other members' sightings")
    return rules


@agreement_app.command("list")
@user_errors
def agreement_list() -> None:
    """List the agreements in force, whom they cover and since when."""
    with cli_node() as node:
        infos, book = egress.agreements(node)
    table = Table(box=None, pad_edge=False)
    for column in ("name", "covers", "rules", "since", "file"):
        table.add_column(column, overflow="fold")
    for info in infos:
        a = info.agreement
        rules = (
            "; ".join(_rules(a))
            if isinstance(a, Agreement)
            else (
                f"reshare {'yes' if a.reshare else 'no'}; RED onward to "
                + (", ".join(sorted(a.red_recipients)) or "nobody")
            )
        )
        since = when(info.since) if info.since else ""
        table.add_row(a.name, _covers(a), rules, since, a.source)
    out.print(table)
    for problem in book.problems:
        err.print(f"invalid: {problem}", markup=False)
    if book.closed:
        err.print("nothing leaves this node until the invalid agreement is fixed", markup=False)


@agreement_app.command("show")
@user_errors
def agreement_show(
    name: Annotated[str, typer.Argument(help="The agreement's name (see `agreement list`).")],
) -> None:
    """Show one agreement: its rules, the text in force, and every recorded change."""
    with cli_node() as node:
        info, text, log = egress.agreement(node, name)
    a = info.agreement
    out.print(f"agreement {a.name} ({a.source}): {_covers(a)}", markup=False)
    if isinstance(a, Agreement):
        for rule in _rules(a):
            out.print(f"  {rule}", markup=False)
    out.print("in force:", markup=False)
    out.print(text.rstrip(), markup=False)
    out.print("log:", markup=False)
    for e in log:
        extra = f": {e.message}" if e.message else ""
        out.print(f"  {when(e.recorded)} {e.action} sha256:{e.digest[:16]}{extra}", markup=False)


@agreement_app.command("check")
@user_errors
def agreement_check() -> None:
    """Check every agreement file without putting it in force; exit 1 on any error."""
    with cli_node() as node:
        good, errors = egress.check_files(node)
        folder = egress.agreements_dir(node)
        against = egress.norm_contradictions(node)
    for a in good:
        out.print(f"ok: {a.source} ({a.name}: {_covers(a)})", markup=False)
    for e in errors:
        err.print(f"invalid: {e}", markup=False)
    for line in against:
        out.print(f"contradicts a community norm (the norm wins): {line}", markup=False)
    if errors:
        raise fail(f"{len(errors)} invalid agreement file(s) in {folder}")
    tail = f"; {len(against)} contradiction(s) of community norms" if against else ""
    out.print(f"{len(good)} agreement(s) valid{tail}", markup=False)


@policy_app.command("explain")
@user_errors
def policy_explain(
    object_id: Annotated[str, typer.Argument(help="A STIX object id.")],
    to: ToOpt,
    collection: CollectionOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
) -> None:
    """Explain what would leave for one object and one member, with every reason."""
    with cli_node() as node:
        explanations = egress.explain(node, object_id, to, collection)
    for x in explanations:
        if as_json:
            doc = {
                "collection": x.collection.title,
                "agreement": x.agreement,
                "mode": x.mode,
                "version": x.version,
                "community_norms": list(x.norms),
                **egress.decision_summary(x.decision),
            }
            out.print(orjson.dumps(doc).decode(), markup=False)
            continue
        d = x.decision
        under = f"agreement {x.agreement}" if x.agreement else f"no agreement ({x.mode})"
        out.print(f"{d.verdict} to {to} from {x.collection.title!r} under {under}", markup=False)
        for reason in d.reasons:
            out.print(f"  - {reason}", markup=False)
        for r in d.removed:
            out.print(f"  removed {r.kind} at {r.path}: {r.value}", markup=False)
        for note in x.norms:
            out.print(f"  floor: {note}", markup=False)


@policy_app.command("preview")
@user_errors
def policy_preview(to: ToOpt, collection: CollectionOpt = None) -> None:
    """Count what a member would receive, per collection, without sending anything."""
    with cli_node() as node:
        previews = egress.preview(node, to, collection)
    table = Table(box=None, pad_edge=False)
    for column in ("collection", "agreement", "shared", "redacted", "withheld"):
        table.add_column(
            column, justify="left" if column in ("collection", "agreement") else "right"
        )
    for p in previews:
        c = p.counts
        under = p.agreement or f"none ({p.mode})"
        table.add_row(
            p.collection.title, under, f"{c.shared:,}", f"{c.redacted:,}", f"{c.withheld:,}"
        )
    out.print(table)


@member_app.command("jurisdiction")
@user_errors
def member_jurisdiction(
    name: Annotated[str, typer.Argument(help="Member name.")],
    code: Annotated[
        str | None, typer.Argument(help="Jurisdiction code (EU, DE, CN...); none to clear.")
    ] = None,
) -> None:
    """Declare (or clear) a member's jurisdiction, for residency rules of agreements."""
    with cli_node() as node:
        set_to = egress.set_jurisdiction(node, name, code)
    out.print(f"{name}: jurisdiction {set_to or 'none'}", markup=False)
