"""Commands of community governance: the genesis, joining, status, proposals, votes, leaving."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from accord.cli._common import app, cli_node, fail, out, user_errors
from accord.community import DEFAULT_THRESHOLDS, KINDS_OF_DECISION, View, canonical
from accord.service import community

community_app = typer.Typer(
    help="The community this node belongs to: genesis, status, verify, leave.",
    no_args_is_help=True,
)
app.add_typer(community_app, name="community")
propose_app = typer.Typer(
    help="Sign and publish a proposal on the community's current state.", no_args_is_help=True
)
app.add_typer(propose_app, name="propose")

JurisdictionOpt = Annotated[
    str, typer.Option("--jurisdiction", help="This member's jurisdiction code (DE, EU, ...).")
]


@community_app.command("card")
@user_errors
def card_cmd(jurisdiction: JurisdictionOpt) -> None:
    """Print this node as a member entry (JSON), for a founder's genesis or an admit proposal."""
    with cli_node() as node:
        entry = community.card(node, jurisdiction)
    out.print(orjson.dumps(entry).decode(), markup=False)


def _thresholds(values: list[str]) -> dict[str, str] | None:
    if not values:
        return None
    found = dict(DEFAULT_THRESHOLDS)
    for v in values:
        kind, _, frac = v.partition("=")
        if kind not in KINDS_OF_DECISION or not frac:
            raise typer.BadParameter(f"{v!r}: KIND=N/D, KIND one of {', '.join(KINDS_OF_DECISION)}")
        found[kind] = frac
    return found


@community_app.command("create")
@user_errors
def create_cmd(
    file: Annotated[Path, typer.Argument(help="The genesis file to write, or to sign (--sign).")],
    name: Annotated[str | None, typer.Option("--name", help="The community's name.")] = None,
    jurisdiction: Annotated[
        str | None, typer.Option("--jurisdiction", help="This founder's jurisdiction code.")
    ] = None,
    founder: Annotated[
        list[Path] | None,
        typer.Option(
            "--founder",
            help="Another founder's card (accord community card).",
        ),
    ] = None,
    threshold: Annotated[
        list[str] | None,
        typer.Option("--threshold", help="KIND=N/D (membership, key, norm, thresholds)."),
    ] = None,
    period_hours: Annotated[int, typer.Option("--period-hours", help="Voting period.")] = 168,
    sign: Annotated[
        bool, typer.Option("--sign", help="Add this founder's signature to FILE.")
    ] = False,
) -> None:
    """Write a genesis file signed by this founder, or (--sign) sign one in turn."""
    with cli_node() as node:
        if sign:
            charter, missing = community.sign(node, file)
            left = f"; still to sign: {', '.join(missing)}" if missing else "; complete"
            out.print(f"signed {file} ({charter.name}){left}", markup=False)
            return
        if not name or not jurisdiction:
            raise fail("give --name and --jurisdiction (or --sign to sign an existing file)")
        cards = [orjson.loads(p.read_bytes()) for p in founder or []]
        charter = community.create(
            node,
            file,
            name=name,
            jurisdiction=jurisdiction,
            founders=cards,
            thresholds=_thresholds(threshold or []),
            period_hours=period_hours,
        )
    others = len(charter.members) - 1
    out.print(
        f"wrote {file}: community {charter.name} ({charter.id[:16]}), signed by this node; "
        f"{others} founder(s) to sign with `accord community create {file} --sign`",
        markup=False,
    )


@community_app.command("join")
@user_errors
def join_cmd(file: Annotated[Path, typer.Argument(help="The complete genesis file.")]) -> None:
    """Join the community of a genesis file every founder signed."""
    with cli_node() as node:
        charter = community.join(node, file)
    out.print(
        f"joined {charter.name} ({charter.id[:16]}); pull peers' '{community.COLLECTION}' "
        f"collections into '{community.INBOX}'",
        markup=False,
    )


def _status(v: View, me: str) -> list[str]:
    s = v.state
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    lines = [f"state {s.hash} (height {s.height}, community {s.community[:16]})"]
    lines.append("members:")
    for m in s.members:
        flags = " (this node)" if m.id == me else ""
        flags += " (withdrawn)" if m.id in v.withdrawn else ""
        lines.append(f"  {m.name} {m.jurisdiction} {m.id} key {m.key[:16]}{flags}")
    th = ", ".join(f"{k} {f.numerator}/{f.denominator}" for k, f in sorted(s.thresholds.items()))
    lines.append(f"thresholds: {th}; voting period {s.voting_period_hours} h")
    lines.append("norms:" if s.norms else "norms: none")
    for n in s.norms:
        lines.append(f"  {n.name}: {canonical(dict(n.rule)).decode()} (adopted by {n.proposal})")
    open_ = [p for p in v.proposals.values() if p.status == "open"]
    lines.append("open proposals:" if open_ else "open proposals: none")
    for p in sorted(open_, key=lambda p: p.record.id):
        t = p.tally
        state = "expired" if p.expires < now else f"until {p.expires}"
        lines.append(
            f"  {p.record.id} {p.record.action['type']} by {p.record.author}: yes {t.yes}, "
            f"no {t.no}, abstain {t.abstain}; needs {t.needed} of {t.eligible} ({state})"
        )
    lines.append("faults:" if v.faults else "faults: none")
    for f in v.faults:
        lines.append(f"  {f.member}: {f.kind}; evidence {', '.join(f.evidence)}")
    if v.deferred:
        lines.append(f"waiting: {len(v.deferred)} record(s) for their base state or proposal")
    return lines


@community_app.command("status")
@user_errors
def status_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="The view as canonical JSON.")] = False,
) -> None:
    """State hash, members, norms, open proposals with their tallies, and faults."""
    with cli_node() as node:
        v = community.view(node)
        me = node.info.id
        left = community.has_left(node)
    if as_json:
        out.print(canonical(v.document()).decode(), markup=False)
        return
    for line in _status(v, me):
        out.print(line, markup=False)
    if left:
        out.print("this node has left the community: its norms no longer bind it", markup=False)


@community_app.command("verify")
@user_errors
def verify_cmd() -> None:
    """Replay every record from the genesis, checking each signature and tally; exit 1 on faults."""
    with cli_node() as node:
        report = community.verify(node)
    for rid, why in sorted(report.refused.items()):
        out.print(f"refused {rid}: {why}", markup=False)
    out.print(
        f"{report.records} record(s) replayed, {report.accepted} valid; state {report.state_hash}"
        f" (height {report.height})",
        markup=False,
    )
    if report.refused:
        raise fail(f"{len(report.refused)} stored record(s) do not verify")


@community_app.command("leave")
@user_errors
def leave_cmd() -> None:
    """Withdraw from the community (a signed withdrawal); its norms stop binding this node."""
    with cli_node() as node:
        record = community.leave(node)
    out.print(f"withdrawal {record.id} published; this node has left", markup=False)


@community_app.command("absorb")
@user_errors
def absorb_cmd() -> None:
    """Check the records pulled into the inbox now (sync does it after every pull)."""
    with cli_node() as node:
        report = community.absorb(node)
    for rid, why in sorted(report.refused.items()):
        out.print(f"refused {rid}: {why}", markup=False)
    out.print(
        f"{report.accepted} accepted, {report.waiting} waiting, {len(report.refused)} refused",
        markup=False,
    )


def _publish(action: dict[str, Any]) -> None:
    with cli_node() as node:
        record = community.propose(node, action)
    out.print(f"proposal {record.id} ({action['type']}) published", markup=False)


RuleOpt = Annotated[str, typer.Option("--rule", help='The rule as JSON: {"exclude_types": [...]}')]


def _rule(text: str) -> dict[str, Any]:
    try:
        rule = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise typer.BadParameter(f"--rule is not JSON: {exc}") from None
    if not isinstance(rule, dict):
        raise typer.BadParameter("--rule must be a JSON object")
    return rule


@propose_app.command("admit")
@user_errors
def propose_admit(card: Annotated[Path, typer.Argument(help="The new member's card.")]) -> None:
    """Propose to admit a member (its card: accord community card)."""
    _publish({"type": "admit", "member": orjson.loads(card.read_bytes())})


@propose_app.command("remove")
@user_errors
def propose_remove(member: Annotated[str, typer.Argument(help="Member name or id.")]) -> None:
    """Propose to remove a member."""
    with cli_node() as node:
        state = community.view(node).state
    found = next((m.id for m in state.members if member in (m.id, m.name)), None)
    if found is None:
        raise fail(f"{member}: no member of the current state has that name or id")
    _publish({"type": "remove", "member": found})


@propose_app.command("rotate-key")
@user_errors
def propose_rotate() -> None:
    """Propose a new community key for this node (the old key signs its consent)."""
    with cli_node() as node:
        action = community.rotation(node)
        record = community.propose(node, action)
    out.print(f"proposal {record.id} (rotate-key) published; new key {action['key']}", markup=False)


@propose_app.command("adopt-norm")
@user_errors
def propose_adopt(name: Annotated[str, typer.Argument()], rule: RuleOpt) -> None:
    """Propose a new norm (see docs/community.md for the rules)."""
    _publish({"type": "adopt-norm", "norm": {"name": name, "rule": _rule(rule)}})


@propose_app.command("change-norm")
@user_errors
def propose_change(name: Annotated[str, typer.Argument()], rule: RuleOpt) -> None:
    """Propose a new rule for an adopted norm."""
    _publish({"type": "change-norm", "norm": {"name": name, "rule": _rule(rule)}})


@propose_app.command("repeal-norm")
@user_errors
def propose_repeal(name: Annotated[str, typer.Argument()]) -> None:
    """Propose to repeal an adopted norm."""
    _publish({"type": "repeal-norm", "name": name})


@propose_app.command("change-thresholds")
@user_errors
def propose_thresholds(
    threshold: Annotated[
        list[str], typer.Option("--threshold", help="KIND=N/D; kinds not given keep theirs.")
    ],
    period_hours: Annotated[
        int | None, typer.Option("--period-hours", help="A new voting period.")
    ] = None,
) -> None:
    """Propose new thresholds (and voting period)."""
    with cli_node() as node:
        state = community.view(node).state
    found = {k: f"{f.numerator}/{f.denominator}" for k, f in state.thresholds.items()}
    for v in threshold:
        kind, _, frac = v.partition("=")
        if kind not in KINDS_OF_DECISION or not frac:
            raise fail(f"{v!r}: KIND=N/D, KIND one of {', '.join(KINDS_OF_DECISION)}")
        found[kind] = frac
    period = period_hours if period_hours is not None else state.voting_period_hours
    _publish({"type": "change-thresholds", "thresholds": found, "voting_period_hours": period})


@app.command("vote")
@user_errors
def vote_cmd(
    proposal: Annotated[str, typer.Argument(help="The proposal's id (or a unique prefix).")],
    yes: Annotated[bool, typer.Option("--yes", help="Vote for it.")] = False,
    no: Annotated[bool, typer.Option("--no", help="Vote against it.")] = False,
    abstain: Annotated[bool, typer.Option("--abstain", help="Abstain.")] = False,
) -> None:
    """Sign and publish a vote on a proposal."""
    chosen = [c for c, on in (("yes", yes), ("no", no), ("abstain", abstain)) if on]
    if len(chosen) != 1:
        raise fail("give exactly one of --yes, --no, --abstain")
    with cli_node() as node:
        record = community.cast(node, proposal, chosen[0])
        v = community.view(node)
    pid = record.body["proposal"]
    p = v.proposals.get(pid)
    status = f"; the proposal is {p.status} (yes {p.tally.yes} of {p.tally.needed})" if p else ""
    out.print(f"vote {record.id} ({chosen[0]}) published{status}", markup=False)
