"""Reports to intelligence, measured: IOC extraction on the ESET reports against
`ioc_groundtruth.jsonl`, for Accord and the libraries an analyst would try instead
(iocextract, ioc-finder, iocsearcher), with throughput and peak memory.

    .venv/bin/python bench/extract.py [--data ../shared/data] [--out report.md]

Scoring: per report, the set of distinct values of each type, compared after
casefolding. ESET's truth lists hashes for every report but domains, IPs, URLs,
e-mails, file names, registry keys and mutexes only for reports that come with
a MISP event; the "scoped" columns score those types only there (the headline),
the "every report" columns score every type everywhere (a floor on precision:
true IOCs ESET did not list count as false positives).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _extract_attack
from _common import package_version, report_header
from _extract_iocs import COMMON, TOOLS, TYPES, ToolResult, load, peak_memory, run_tool

ROOT = Path(__file__).resolve().parents[1]


def _row(name: str, r: ToolResult, seconds_mb: float) -> str:
    o, e, c = r.overall(True), r.overall(False), r.overall(True, COMMON)
    return (
        f"| {name} | {o.precision:.3f} | {o.recall:.3f} | **{o.f1:.3f}** | "
        f"{c.precision:.3f} | {c.recall:.3f} | {c.f1:.3f} | "
        f"{e.precision:.3f} | {e.recall:.3f} | {e.f1:.3f} | {r.seconds:.2f} | {seconds_mb:.2f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--parents",
        action="store_true",
        help="train the ATT&CK model on parent techniques only (default: as the node does, "
        "with sub-techniques, folded into their parents for scoring)",
    )
    ap.add_argument("--no-attack", action="store_true", help="skip the ATT&CK part")
    ap.add_argument(
        "--attack-only",
        action="store_true",
        help="train on the node's ATT&CK alone (no AnnoCTR sentences; dev still picks the "
        "threshold)",
    )
    args = ap.parse_args()
    eset = args.data / "eset"
    if not (eset / "ioc_groundtruth.jsonl").is_file():
        sys.exit(f"no ESET ground truth under {eset}")
    reports = load(eset)
    megabytes = sum(len(r.text.encode()) for r in reports) / 1e6
    versions = {n: package_version(n) for n in ("iocextract", "ioc-finder", "iocsearcher")}
    lines = report_header("Reports to intelligence: IOC extraction", time.gmtime(), versions)
    lines += ["", f"{len(reports)} ESET reports, {megabytes:.2f} MB of text.", ""]
    lines += [
        "| tool | P (scoped) | R | F1 | P (scoped, common types) | R | F1 | "
        "P (every report) | R | F1 | seconds | MB/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    results = []
    for name, fn in TOOLS.items():
        r = run_tool(name, fn, reports)
        results.append(r)
        if r.error:
            lines.append(f"| {name} | did not run: {r.error} ||||||||||")
            continue
        lines.append(_row(name, r, megabytes / r.seconds if r.seconds else 0.0))
    lines += [
        "",
        "Per IOC type (scoped), precision / recall (true positives, false positives, misses):",
        "",
    ]
    lines.append("| type | " + " | ".join(r.name for r in results if not r.error) + " |")
    lines.append("|---|" + "---|" * sum(1 for r in results if not r.error))
    for t in TYPES:
        cells = []
        for r in results:
            if r.error:
                continue
            s = r.scoped[t]
            cells.append(f"{s.precision:.2f} / {s.recall:.2f} ({s.tp}, {s.fp}, {s.fn})")
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    peak = peak_memory(reports)
    lines += ["", f"Accord peak Python heap on the largest report: {peak / 1e6:.1f} MB."]
    if not args.no_attack:
        lines += _attack_lines(
            args.data, subtechniques=not args.parents, learn_annoctr=not args.attack_only
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


def _attack_lines(data: Path, *, subtechniques: bool, learn_annoctr: bool) -> list[str]:
    bundle = data / "attack" / "enterprise-attack-18.1-derived-stix21.json"
    annoctr = data / "reports" / "annoctr"
    if not bundle.is_file() or not (annoctr / "splits.json").is_file():
        return ["", "ATT&CK or AnnoCTR not found: technique mapping not measured."]
    r = _extract_attack.run(
        bundle, annoctr, subtechniques=subtechniques, learn_annoctr=learn_annoctr
    )
    kind = "with sub-techniques (as the node)" if subtechniques else "parent techniques only"
    if not learn_annoctr:
        kind += ", trained on ATT&CK alone"
    return [
        "",
        f"## Text to ATT&CK, AnnoCTR test split ({r.test_docs} reports), model {kind}",
        "",
        f"Trained on {r.examples:,} sentences in "
        f"{r.train_seconds:.0f} s; threshold {r.threshold} chosen on dev (dev micro-F1 "
        f"{r.dev.micro:.3f}); mapping the test split took {r.map_seconds:.2f} s.",
        "",
        "| method | micro-F1 | macro-F1 | precision | recall |",
        "|---|---|---|---|---|",
        f"| Accord, per document | **{r.test.micro:.3f}** | {r.test.macro:.3f} | "
        f"{r.test.precision:.3f} | {r.test.recall:.3f} |",
        f"| keyword baseline, per document | {r.keyword.micro:.3f} | {r.keyword.macro:.3f} | "
        f"{r.keyword.precision:.3f} | {r.keyword.recall:.3f} |",
        f"| Accord, per sentence | {r.test_sentences.micro:.3f} | {r.test_sentences.macro:.3f} | "
        f"{r.test_sentences.precision:.3f} | {r.test_sentences.recall:.3f} |",
        "",
        "Macro-F1 is the mean of the per-document (per-sentence: per annotated sentence) F1.",
    ]


if __name__ == "__main__":
    main()
