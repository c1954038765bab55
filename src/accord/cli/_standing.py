"""Commands of members' judgement: notes, opinions, false positives, standings, feedback."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from accord.cli._common import app, cli_node, out, user_errors
from accord.service import query
from accord.service import standing as standing_service
from accord.standing import FP_REASONS, OPINION_VALUES
from accord.store import HeldStanding

standing_app = typer.Typer(
    help="Standings of indicators: members' judgement.", no_args_is_help=True
)
app.add_typer(standing_app, name="standing")

IdArg = Annotated[str, typer.Argument(help="The STIX id spoken of (held here or not).")]


def describe(held: HeldStanding | None) -> str:
    """One line: a standing and what it is made of."""
    if held is None:
        return "standing 0.00 (no member has spoken of it)"
    s = held.standing
    parts = [f"{s.members} member(s)", f"{s.agree} agree", f"{s.disagree} disagree"]
    if s.sightings:
        parts.append(f"{s.sightings} by sighting")
    if s.false_positives:
        parts.append(f"{s.false_positives} false positive: {', '.join(s.reasons)}")
    return f"standing {s.score:+.2f} ({', '.join(parts)})"


def _said(said: standing_service.Said) -> None:
    obj = said.object
    target = obj["object_refs"][0]
    out.print(f"stored {obj['id']} in {said.collection!r}", markup=False)
    if not said.held:
        out.print(f"{target} is not held here: kept, it counts when it arrives", markup=False)
    if obj["type"] == "opinion":
        out.print(f"{target}: {describe(said.standing)}", markup=False)


@app.command("note")
@user_errors
def note_cmd(object_id: IdArg, text: Annotated[str, typer.Argument(help="The note.")]) -> None:
    """Write a note on an object (a STIX note by this node, shared like any object)."""
    with cli_node() as node:
        _said(standing_service.note(node, object_id, text))


@app.command("opinion")
@user_errors
def opinion_cmd(
    object_id: IdArg,
    value: Annotated[str, typer.Argument(help=" | ".join(OPINION_VALUES))],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (the opinion's explanation).")
    ] = None,
) -> None:
    """Give this node's opinion of an object (its latest opinion is the one that counts)."""
    with cli_node() as node:
        _said(standing_service.opinion(node, object_id, value, reason))


@app.command("false-positive")
@user_errors
def false_positive_cmd(
    object_id: IdArg,
    reason: Annotated[str, typer.Option("--reason", help=" | ".join(FP_REASONS))],
    comment: Annotated[
        str | None, typer.Option("--comment", help="Free text beside the reason.")
    ] = None,
) -> None:
    """Report an indicator as a false positive (a strongly-disagree opinion with a reason)."""
    with cli_node() as node:
        _said(standing_service.false_positive(node, object_id, reason, comment))


@standing_app.command("refresh")
@user_errors
def standing_refresh() -> None:
    """Rebuild every standing from the stored opinions and sightings (decay brought to now)."""
    started = time.perf_counter()
    with cli_node() as node:
        n = standing_service.refresh(node)
    out.print(f"{n:,} standing(s) computed in {time.perf_counter() - started:.2f} s", markup=False)


@standing_app.command("show")
@user_errors
def standing_show(object_id: IdArg) -> None:
    """The standing of one object and every member's remark on it."""
    with cli_node() as node:
        held = standing_service.standings_of(node, [object_id]).get(object_id)
        remarks = standing_service.remarks_on(node, object_id)
    out.print(f"{object_id}: {describe(held)}", markup=False)
    for line in remark_lines(remarks):
        out.print(line, markup=False)


def remark_lines(remarks: list[standing_service.Remark]) -> list[str]:
    """One line per remark, oldest first."""
    values = {v: k for k, v in OPINION_VALUES.items()}
    lines = []
    for r in remarks:
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r.at))
        if r.kind == "opinion":
            what = f"false positive ({r.reason})" if r.reason else values.get(r.value, "?")
        elif r.kind == "withdrawn":
            what = "opinion withdrawn"
        else:
            what = r.kind
        lines.append(f"  {at} {r.author or '(no author)'}: {what} [{r.source_id}]")
    return lines


@app.command("feedback")
@user_errors
def feedback_cmd(
    since: Annotated[
        str | None,
        typer.Option(help="Only what members sent at or after this time (date or timestamp)."),
    ] = None,
) -> None:
    """What members sent back on this node's indicators: sightings, opinions, false positives."""
    start = query.epoch(since, "--since") if since else None
    with cli_node() as node:
        found = standing_service.feedback(node, since=start)
    for fb in found:
        out.print(f"{fb.indicator_id} {fb.name!r}: {describe(fb.standing)}", markup=False)
        for v in fb.by:
            parts = []
            if v.sightings:
                parts.append(f"{v.sightings} sighting(s), count {v.sighted:,}")
            parts.extend(f"{n} {k}" for k, n in sorted(v.opinions.items()))
            parts.extend(f"{n} false positive ({k})" for k, n in sorted(v.false_positives.items()))
            if v.notes:
                parts.append(f"{v.notes} note(s)")
            out.print(f"  {v.who}: {', '.join(parts)}", markup=False)
    out.print(f"{len(found)} indicator(s) with feedback", markup=False)
