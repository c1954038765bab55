"""The ingest benchmark's results: rows, the goals, and the Markdown table."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from _common import verdict
from _ingest_data import LAYOUT_BUNDLES, LAYOUT_JSONL, LAYOUT_SINGLE, Dataset
from _ingest_proc import MIB, Measurement

FLOOR = "raw floor (orjson + sqlite3)"
ACCORD_SQLITE = "Accord, SQLite"
ACCORD_POSTGRES = "Accord, PostgreSQL"
MEDALLION = "medallion (memory backend)"

GOAL_SCALE = 1_000_000
GIB = 1024 * MIB


@dataclass(frozen=True)
class Result:
    """One row of the report: a contender on a dataset, over one or more runs.

    Attributes:
        contender: who ran.
        dataset: the dataset's label.
        objects: the objects in the dataset.
        seconds: the median wall time of the runs (the time limit for a timeout).
        peak_rss: the largest peak RSS of the runs, in bytes.
        stored: the objects confirmed stored (less than ``objects`` after a timeout).
        runs: how many runs the row sums up.
        note: why a row has no rate (a failure), or what limited it (a timeout).
        layout: the dataset's layout, for the goals.
        generated: True on the generated indicators.
        size_bytes: the dataset's total file size.
    """

    contender: str
    dataset: str
    objects: int
    seconds: float | None
    peak_rss: int | None
    stored: int
    runs: int
    note: str = ""
    layout: str = ""
    generated: bool = False
    size_bytes: int = 0

    @property
    def timed_out(self) -> bool:
        """True when the time limit came before the last object."""
        return self.seconds is not None and self.stored < self.objects

    @property
    def rate(self) -> float | None:
        """Objects per second (after a timeout: an upper bound of the true rate)."""
        if self.seconds is None or self.seconds <= 0:
            return None
        return self.stored / self.seconds


def result(
    contender: str,
    dataset: Dataset,
    runs: int,
    *,
    seconds: float | None = None,
    peak_rss: int | None = None,
    stored: int = 0,
    note: str = "",
) -> Result:
    """A row of ``contender`` on ``dataset``."""
    return Result(
        contender,
        dataset.name,
        dataset.objects,
        seconds,
        peak_rss,
        stored,
        runs,
        note,
        dataset.layout,
        dataset.generated,
        dataset.size_bytes,
    )


def from_measurements(contender: str, dataset: Dataset, runs: Sequence[Measurement]) -> Result:
    """Sum up repeated runs: median time, largest peak; any failed run fails the row."""
    failures = [run.failure() for run in runs if not run.ok]
    if failures:
        return result(contender, dataset, len(runs), note=failures[0])
    return result(
        contender,
        dataset,
        len(runs),
        seconds=statistics.median(run.seconds for run in runs),
        peak_rss=max_peak(run.peak_rss for run in runs),
        stored=dataset.objects,
    )


def max_peak(peaks: Iterable[int | None]) -> int | None:
    """The largest known peak (None when no run's peak is known)."""
    return max((peak for peak in peaks if peak is not None), default=None)


# --- the table --------------------------------------------------------------------------


@dataclass
class References:
    """What the ratios divide by: the floor per dataset, medallion at its largest size."""

    floor: dict[str, float] = field(default_factory=dict)
    medallion: Result | None = None

    @classmethod
    def of(cls, results: Iterable[Result]) -> References:
        refs = cls()
        for result in results:
            rate = result.rate
            if result.contender == FLOOR and rate is not None:
                refs.floor[result.dataset] = rate
            elif (
                result.contender == MEDALLION
                and rate is not None
                and (refs.medallion is None or result.objects > refs.medallion.objects)
            ):
                refs.medallion = result
        return refs

    def floor_for(self, result: Result) -> float | None:
        """The floor's rate on the same dataset; medallion's data is the JSON-lines set."""
        if result.contender == MEDALLION:
            return next(
                (rate for name, rate in self.floor.items() if LAYOUT_JSONL in name),
                None,
            )
        return self.floor.get(result.dataset)


def _ratio(rate: float | None, reference: float | None, over: bool, under: bool) -> str:
    """rate / reference; ``over``: the rate is an upper bound, ``under``: the reference is."""
    if rate is None or not reference or (over and under):
        return "—"
    ratio = rate / reference
    shown = f"{ratio:,.0f}" if ratio >= 100 else f"{ratio:.3g}"
    return f"{'≤ ' if over else '≥ ' if under else ''}{shown}x"


def _row(result: Result, refs: References) -> str:
    rate = result.rate
    if result.seconds is None:
        seconds, per_second = f"failed ({result.note})", "—"
    elif result.timed_out:
        seconds = f"> {result.seconds:,.0f} (timeout, {result.stored:,} stored)"
        per_second = f"≤ {rate:,.0f}"
    else:
        seconds, per_second = f"{result.seconds:,.2f}", f"{rate:,.0f}"
    peak = "—" if result.peak_rss is None else f"{result.peak_rss / MIB:,.0f}"
    medallion = refs.medallion
    cells = [
        result.contender,
        result.dataset,
        f"{result.objects:,}",
        seconds,
        per_second,
        peak,
        _ratio(rate, refs.floor_for(result), result.timed_out, under=False),
        _ratio(
            rate,
            medallion.rate if medallion else None,
            result.timed_out,
            under=medallion is not None and medallion.timed_out,
        ),
    ]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def table(results: Sequence[Result]) -> str:
    """The results as a Markdown table."""
    refs = References.of(results)
    head = (
        "| contender | dataset | objects | seconds | objects/s | peak RSS MiB"
        " | ratio to floor | ratio to medallion |\n"
        "|---|---|--:|--:|--:|--:|--:|--:|"
    )
    return "\n".join([head, *(_row(result, refs) for result in results)])


# --- the goals --------------------------------------------------------------------------


def _memory_goal(result: Result) -> tuple[bool | None, str]:
    if result.peak_rss is None:
        return None, "no measurement"
    peak = result.peak_rss / MIB
    if result.layout == LAYOUT_SINGLE:
        limit = 2.5 * result.size_bytes
        text = f"peak {peak:,.0f} MiB ≤ 2.5 x file ({limit / MIB:,.0f} MiB)"
        return result.peak_rss <= limit, text
    return result.peak_rss < GIB, f"peak {peak:,.0f} MiB < 1,024 MiB"


def _goal_lines(result: Result, refs: References) -> list[str]:
    rate, floor, medallion = result.rate, refs.floor_for(result), refs.medallion
    half = None if rate is None or floor is None else rate >= floor / 2
    lines = [
        f"- {verdict(half)}: {result.layout}: at least half the raw floor's rate"
        + (f" ({rate / floor:.2f}x)" if rate and floor else "")
    ]
    if medallion is not None and medallion.rate and rate:
        times = rate / medallion.rate
        # A medallion that timed out has a smaller true rate: passing stays a pass.
        ok = times >= 20 or (None if medallion.timed_out else False)
        lines.append(
            f"- {verdict(ok)}: {result.layout}: at least 20x medallion at"
            f" {medallion.objects:,} ({'≥ ' if medallion.timed_out else ''}{times:,.1f}x)"
        )
    else:
        lines.append(f"- n/a: {result.layout}: at least 20x medallion (no medallion rate)")
    ok_mem, text = _memory_goal(result)
    lines.append(f"- {verdict(ok_mem)}: {result.layout}: {text}")
    return lines


def goals(results: Sequence[Result]) -> str:
    """The issue's goals, for Accord on SQLite over the generated indicators."""
    refs = References.of(results)
    mine = [r for r in results if r.contender == ACCORD_SQLITE and r.generated]
    if not mine:
        return "No Accord-on-SQLite result on the generated indicators: goals not evaluated."
    order = {LAYOUT_JSONL: 0, LAYOUT_BUNDLES: 1, LAYOUT_SINGLE: 2}
    mine.sort(key=lambda r: order.get(r.layout, 3))
    scale = mine[0].objects
    lines = []
    if scale != GOAL_SCALE:
        lines.append(
            f"The goals are set at {GOAL_SCALE:,} indicators; this run has {scale:,},"
            " so these verdicts are indicative only."
        )
    for result in mine:
        lines.extend(_goal_lines(result, refs))
    return "\n".join(lines)
