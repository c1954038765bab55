"""``accord pattern check``: parse one STIX pattern and explain it (no node needed)."""

from __future__ import annotations

from typing import Annotated

import typer

from accord.cli._common import app, err, out
from accord.exceptions import PatternError, PatternSyntaxError
from accord.patterns import explain, parse, validate, warnings_of

pattern_app = typer.Typer(help="The STIX 2.1 patterning language.", no_args_is_help=True)
app.add_typer(pattern_app, name="pattern")


@pattern_app.command("check")
def check(
    pattern: Annotated[str, typer.Argument(help="The STIX pattern, e.g. \"[url:value = 'x']\".")],
) -> None:
    """Parse a pattern: print its tree and the semantic warnings; exit 1 on errors."""
    try:
        parsed = parse(pattern)
    except PatternSyntaxError as exc:
        err.print(f"error: {exc.reason}", markup=False)
        err.print(f"  {pattern}", markup=False)
        err.print("  " + " " * exc.position + "^", markup=False)
        if exc.expected:
            err.print("expected: " + ", ".join(exc.expected), markup=False)
        raise typer.Exit(1) from exc
    except PatternError as exc:
        err.print(f"error: {exc.reason}", markup=False)
        raise typer.Exit(1) from exc
    out.print(explain(parsed), markup=False)
    problems = validate(pattern)  # the OASIS validator's verdict (hash shapes, qualifiers)
    for warning in warnings_of(parsed):
        if warning not in problems:
            out.print(f"warning: {warning}", markup=False)
    for problem in problems:
        err.print(f"error: {problem}", markup=False)
    if problems:
        raise typer.Exit(1)
    out.print("valid STIX 2.1 pattern", markup=False)
