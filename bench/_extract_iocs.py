"""IOC extraction on the ESET reports: Accord and the libraries an analyst would try."""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from accord.extract import find_iocs

Found = dict[str, set[str]]
# The types the ESET truth knows, as bench types.
HASHES = ("md5", "sha1", "sha256", "sha512")
NETWORK = ("domain", "ipv4", "url", "email", "file", "registry-key", "mutex")
TYPES = HASHES + NETWORK
# The types every library measured extracts: the fair ground for the comparison.
COMMON = (*HASHES, "domain", "ipv4", "url", "email")
_TRUTH_TYPE = {
    "misp_domain": "domain",
    "misp_ipv4": "ipv4",
    "misp_email": "email",
    "misp_filename": "file",
    "misp_regkey": "registry-key",
    "misp_mutex": "mutex",
}


@dataclass(frozen=True, slots=True)
class Report:
    name: str
    text: str
    truth: Found
    has_misp: bool  # ESET published a MISP event: network, file and registry truth exists


def _hash_type(value: str) -> str | None:
    return {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}.get(len(value))


def load(eset: Path) -> list[Report]:
    reports = []
    for line in (eset / "ioc_groundtruth.jsonl").read_text().splitlines():
        row = json.loads(line)
        path = eset / "reports" / row["report"]
        if not path.is_file():
            continue
        truth: Found = {t: set() for t in TYPES}
        for key, values in row["ground_truth_in_text_after_refang"].items():
            for v in values:
                kind: str | None
                if key in _TRUTH_TYPE:
                    kind = _TRUTH_TYPE[key]
                elif key == "misp_url":
                    # ESET's MISP events put bare hosts in url attributes.
                    kind = "url" if "//" in v or "/" in v or ":" in v else "domain"
                    if kind == "domain" and v.replace(".", "").isdigit():
                        kind = "ipv4"
                else:
                    kind = _hash_type(v)
                if kind:
                    truth[kind].add(v.casefold())
        has_misp = any(s.endswith(".json") for s in row["ground_truth_sources"])
        reports.append(Report(row["report"], path.read_text(errors="replace"), truth, has_misp))
    return reports


def accord(text: str) -> Found:
    found: Found = {t: set() for t in TYPES}
    for f in find_iocs(text)[0]:
        if f.dropped is None and f.type in found:
            found[f.type].add(f.value.casefold())
    return found


def iocextract_(text: str) -> Found:
    import iocextract

    found: Found = {t: set() for t in TYPES}
    found["url"] = set(iocextract.extract_urls(text, refang=True))
    found["ipv4"] = set(iocextract.extract_ipv4s(text, refang=True))
    found["email"] = set(iocextract.extract_emails(text, refang=True))
    for kind, fn in (
        ("md5", iocextract.extract_md5_hashes),
        ("sha1", iocextract.extract_sha1_hashes),
        ("sha256", iocextract.extract_sha256_hashes),
        ("sha512", iocextract.extract_sha512_hashes),
    ):
        found[kind] = set(fn(text))
    return {k: {v.casefold() for v in vs} for k, vs in found.items()}


def ioc_finder(text: str) -> Found:
    from ioc_finder import find_iocs as finder

    r = finder(text)
    found: Found = {t: set() for t in TYPES}
    found["domain"] = set(r.get("domains", []))
    found["url"] = set(r.get("urls", []))
    found["ipv4"] = set(r.get("ipv4s", [])) | set(r.get("ipv4_cidrs", []))
    found["email"] = set(r.get("email_addresses_complete", r.get("email_addresses", [])))
    for kind in HASHES:
        found[kind] = set(r.get(kind + "s", []))
    paths = r.get("file_paths", [])
    found["file"] = set(paths)
    found["registry-key"] = set(r.get("registry_key_paths", []))
    return {k: {v.casefold() for v in vs} for k, vs in found.items()}


_SEARCHER: list[object] = []


def iocsearcher_(text: str) -> Found:
    from iocsearcher.searcher import Searcher

    if not _SEARCHER:
        _SEARCHER.append(Searcher())
    searcher = _SEARCHER[0]
    mapping = {
        "fqdn": "domain",
        "url": "url",
        "ip4": "ipv4",
        "email": "email",
        "md5": "md5",
        "sha1": "sha1",
        "sha256": "sha256",
        "sha512": "sha512",
    }
    found: Found = {t: set() for t in TYPES}
    for ioc in searcher.search_data(text):  # type: ignore[attr-defined]
        kind, value = ioc.name, ioc.value
        if kind in mapping:
            found[mapping[kind]].add(str(value).casefold())
    return found


TOOLS: dict[str, Callable[[str], Found]] = {
    "Accord": accord,
    "iocextract": iocextract_,
    "ioc-finder": ioc_finder,
    "iocsearcher": iocsearcher_,
}


@dataclass(slots=True)
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, found: set[str], truth: set[str]) -> None:
        self.tp += len(found & truth)
        self.fp += len(found - truth)
        self.fn += len(truth - found)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(slots=True)
class ToolResult:
    name: str
    scoped: dict[str, Score] = field(default_factory=dict)  # truth-covered reports only
    every: dict[str, Score] = field(default_factory=dict)  # every report, every type
    seconds: float = 0.0
    error: str | None = None
    misses: list[tuple[str, str, str]] = field(default_factory=list)
    extras: list[tuple[str, str, str]] = field(default_factory=list)

    def overall(self, scoped: bool = True, types: tuple[str, ...] = TYPES) -> Score:
        total = Score()
        for t, s in (self.scoped if scoped else self.every).items():
            if t not in types:
                continue
            total.tp += s.tp
            total.fp += s.fp
            total.fn += s.fn
        return total


def run_tool(name: str, fn: Callable[[str], Found], reports: list[Report]) -> ToolResult:
    result = ToolResult(name, {t: Score() for t in TYPES}, {t: Score() for t in TYPES})
    try:
        fn("warm up 1.2.3.4 evil[.]com")
    except Exception as exc:  # a library that does not run is reported, not fatal
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    started = time.perf_counter()
    outputs = [fn(r.text) for r in reports]
    result.seconds = time.perf_counter() - started
    for r, found in zip(reports, outputs, strict=True):
        for t in TYPES:
            got = found.get(t, set())
            result.every[t].add(got, r.truth[t])
            # The truth covers hashes of every report, the rest only with a MISP event.
            if t in HASHES or r.has_misp:
                result.scoped[t].add(got, r.truth[t])
                result.misses.extend((r.name, t, v) for v in r.truth[t] - got)
                result.extras.extend((r.name, t, v) for v in got - r.truth[t])
    return result


def peak_memory(reports: list[Report]) -> int:
    """Peak Python heap (bytes) while Accord reads the largest report."""
    biggest = max(reports, key=lambda r: len(r.text))
    tracemalloc.start()
    find_iocs(biggest.text)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak
