"""The TAXII benchmark's results: rows, the Markdown table, and the issue's goals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from _common import verdict
from _ingest_proc import MIB
from _taxii_client import GET, POST, Transfer

ACCORD_SQLITE = "Accord, SQLite"
ACCORD_POSTGRES = "Accord, PostgreSQL, 2 workers"
MEDALLION = "medallion (memory backend)"
BIG_READ = "Accord, SQLite, imported set"

GOAL_SIZE = 100_000
GOAL_READ_SIZE = 1_000_000
GOAL_TIMES = {POST: 20.0, GET: 10.0}
GOAL_READ_RATE = 50_000.0


@dataclass(frozen=True)
class Row:
    """One direction of one contender.

    Attributes:
        contender: who served.
        direction: ``POST`` or ``GET``.
        objects: the objects sent or to be read.
        transfer: what was measured (None: failed or not run, see ``note``).
        peak_rss: the server's peak resident set size in bytes (None: unknown).
        note: why there is no measure.
        setup: what the set-up before the measure took (the large read's import).
    """

    contender: str
    direction: str
    objects: int
    transfer: Transfer | None = None
    peak_rss: int | None = None
    note: str = ""
    setup: str = ""

    @property
    def rate(self) -> float | None:
        """Objects per second (an upper bound after a timeout)."""
        return self.transfer.rate if self.transfer else None

    @property
    def timed_out(self) -> bool:
        """True when the time limit came first."""
        return self.transfer is not None and self.transfer.timed_out


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:,.1f}"


def _times(ratio: float) -> str:
    return f"{ratio:,.0f}x" if ratio >= 100 else f"{ratio:.3g}x"


def _ratio(row: Row, reference: Row | None) -> tuple[float | None, str]:
    """rate / reference rate, with "≥" or "≤" where one of them is a bound."""
    rate = row.rate
    ref = reference.rate if reference else None
    if rate is None or not ref or reference is None or (row.timed_out and reference.timed_out):
        return None, ""
    mark = "≤ " if row.timed_out else "≥ " if reference.timed_out else ""
    return rate / ref, mark


def _medallion(rows: Sequence[Row], direction: str) -> Row | None:
    return next((r for r in rows if r.contender == MEDALLION and r.direction == direction), None)


def _ratio_cell(row: Row, rows: Sequence[Row]) -> str:
    if row.contender == BIG_READ:
        rate = row.rate
        if rate is None:
            return "—"
        return f"{'≤ ' if row.timed_out else ''}{_times(rate / GOAL_READ_RATE)} the goal"
    if row.contender == MEDALLION:
        return "—"
    ratio, mark = _ratio(row, _medallion(rows, row.direction))
    return "—" if ratio is None else f"{mark}{_times(ratio)} medallion"


def _direction(row: Row) -> str:
    return "POST, envelopes" if row.direction == POST else "GET, pages"


def _cells(row: Row, rows: Sequence[Row]) -> list[str]:
    transfer = row.transfer
    peak = "—" if row.peak_rss is None else f"{row.peak_rss / MIB:,.0f}"
    head = [row.contender, _direction(row), f"{row.objects:,}"]
    if transfer is None:
        return [*head, "—", row.note or "not run", "—", "—", "—", peak, "—"]
    rate = transfer.rate
    if transfer.timed_out:
        seconds = f"> {transfer.seconds:,.{0 if transfer.seconds >= 10 else 2}f}"
        seconds += f" (timeout, {transfer.done:,} done)"
        per_second = "—" if rate is None else f"≤ {rate:,.0f}"
    else:
        seconds = f"{transfer.seconds:,.2f}"
        per_second = "—" if rate is None else f"{rate:,.0f}"
    return [
        *head,
        f"{len(transfer.latencies):,}",
        seconds,
        per_second,
        _ms(transfer.percentile(0.50)),
        _ms(transfer.percentile(0.99)),
        peak,
        _ratio_cell(row, rows),
    ]


def table(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table."""
    head = (
        "| contender | direction | objects | requests | seconds | objects/s | p50 ms | p99 ms"
        " | server peak RSS MiB | ratio |\n"
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"
    )
    lines = [head]
    for row in rows:
        cells = _cells(row, rows)
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    setups = [f"- {row.contender}: {row.setup}" for row in rows if row.setup]
    return "\n".join(lines + (["", *setups] if setups else []))


def _against_medallion(row: Row, rows: Sequence[Row]) -> str:
    target = GOAL_TIMES[row.direction]
    medallion = _medallion(rows, row.direction)
    what = f"{row.contender}: {row.direction} at least {target:.0f}x medallion"
    ratio, mark = _ratio(row, medallion)
    if ratio is None or medallion is None:
        return f"- n/a: {what} (no rate to compare)"
    if mark == "≥ ":  # medallion timed out: its true rate is lower, so a pass stays a pass
        ok = True if ratio >= target else None
    elif mark == "≤ ":  # Accord timed out: its true rate is lower, so a fail stays a fail
        ok = False if ratio < target else None
    else:
        ok = ratio >= target
    suffix = ", medallion timed out" if medallion.timed_out else ""
    return f"- {verdict(ok)}: {what} ({mark}{ratio:,.1f}x{suffix})"


def goals(rows: Sequence[Row], size: int, read_size: int) -> str:
    """The issue's goals, PASS / FAIL / n/a, one line each."""
    lines = []
    if size != GOAL_SIZE or read_size != GOAL_READ_SIZE:
        lines.append(
            f"The goals are set at {GOAL_SIZE:,} objects POSTed and read, and a read of"
            f" {GOAL_READ_SIZE:,} stored objects; this run has {size:,} and {read_size:,},"
            " so these verdicts are indicative only."
        )
    for row in rows:
        if row.contender in (ACCORD_SQLITE, ACCORD_POSTGRES):
            lines.append(_against_medallion(row, rows))
    big = next((row for row in rows if row.contender == BIG_READ), None)
    what = f"{BIG_READ}: full paginated read over {GOAL_READ_RATE:,.0f} objects/s"
    if big is None or big.rate is None:
        lines.append(f"- n/a: {what} (not measured)")
    else:
        rate = big.rate
        # After a timeout the rate is an upper bound: under the goal, it fails for sure.
        ok = (False if rate <= GOAL_READ_RATE else None) if big.timed_out else rate > GOAL_READ_RATE
        bound = "≤ " if big.timed_out else ""
        lines.append(f"- {verdict(ok)}: {what} ({bound}{rate:,.0f}/s of {big.objects:,})")
    return "\n".join(lines)
