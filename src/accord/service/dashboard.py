"""The console's dashboard, its intake and detection views, and agreement edits.

The dashboard's figures are counted at most once per ``ACCORD_WEB_DASHBOARD_SECONDS``
per store and reused meanwhile: on a node of millions of objects the counts
take longer than a page should, and a dashboard a few seconds old says the same.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from accord.exceptions import AgreementInvalid, ConfigError
from accord.service import console, egress, ingest, ledger
from accord.service.node import Node
from accord.service.sync import PeerView, list_peers
from accord.store import StoredObject
from accord.store._console import DAY_US
from accord.store._text import REF_LIST_PROPS

DAYS = 30
log = logging.getLogger("accord.web")

WEEK_US = 7 * DAY_US


def shares_this_week(node: Node, now: float) -> dict[str, int] | None:
    """Objects shared with each recipient in the 7 days before ``now`` (the transparency
    log's openings; None where the log is off)."""
    if not node.settings.log:
        return None
    return ledger.shared_since(node, int(now * 1e6) - WEEK_US)


@dataclass(frozen=True, slots=True)
class Dashboard:
    """The dashboard's figures, and when they were counted (µs since the epoch)."""

    counted: int
    by_type: dict[str, int]
    intake: list[tuple[int, int]]  # (day number since the epoch, versions stored)
    sightings: list[tuple[int, int]]
    most_sighted: list[tuple[str, str, int]]  # (indicator id, name, sightings)
    peers: list[PeerView]
    shared: dict[str, int] | None  # member → objects shared this week; None: not recorded
    database_bytes: int | None
    members: int
    collections: int


_cache: dict[str, tuple[float, Dashboard]] = {}
_counting: dict[str, threading.Event] = {}
_lock = threading.Lock()


def _days(counts: dict[int, int], today: int) -> list[tuple[int, int]]:
    return [(d, counts.get(d, 0)) for d in range(today - DAYS + 1, today + 1)]


def dashboard(node: Node, *, now: float | None = None) -> Dashboard:
    """The dashboard: counted once, then recounted in the background when it is stale.

    Only the first request of a process waits for the count (or a `warm` one
    started earlier); after that, a request given stale figures starts one
    recount in the background and is answered at once with the figures it has.
    """
    now = time.time() if now is None else now
    key = node.store.url
    with _lock:
        hit = _cache.get(key)
        running = _counting.get(key)
        if hit is not None:
            if now - hit[0] >= node.settings.web_dashboard_seconds and running is None:
                _start(node, key)
            return hit[1]
    if running is not None:
        running.wait()
        with _lock:
            hit = _cache.get(key)
        if hit is not None:
            return hit[1]
    board = _count(node, now)
    with _lock:
        _cache[key] = (now, board)
    return board


def warm(node: Node) -> None:
    """Count the dashboard in the background if this process has no figures yet."""
    key = node.store.url
    with _lock:
        if key not in _cache and key not in _counting:
            _start(node, key)


def _start(node: Node, key: str) -> None:
    """Recount in a thread (the caller holds _lock)."""
    done = _counting[key] = threading.Event()

    def run() -> None:
        try:
            when = time.time()
            board = _count(node, when)
            with _lock:
                _cache[key] = (when, board)
        except Exception:  # a background count must not take the server down
            log.exception("counting the dashboard failed; the figures stay as they were")
        finally:
            with _lock:
                _counting.pop(key, None)
            done.set()

    threading.Thread(target=run, name="accord-dashboard", daemon=True).start()


def _count(node: Node, now: float) -> Dashboard:
    today = int(now * 1e6) // DAY_US
    since = (today - DAYS + 1) * DAY_US
    top = node.store.most_referenced("sighting_of_ref", 10)
    titles = console.names(node, [i for i, _ in top])
    return Dashboard(
        counted=int(now * 1e6),
        by_type=dict(sorted(node.store.current_counts().items(), key=lambda kv: -kv[1])),
        intake=_days(node.store.added_per_day(since), today),
        sightings=_days(node.store.added_per_day(since, ("sighting",)), today),
        most_sighted=[(i, titles.get(i, i), n) for i, n in top],
        peers=list_peers(node),
        shared=shares_this_week(node, now),
        database_bytes=node.store.database_bytes(),
        members=len(node.store.members()),
        collections=len(node.store.collections()),
    )


def forget(node: Node) -> None:
    """Drop the cached dashboard (after an import from the console)."""
    with _lock:
        _cache.pop(node.store.url, None)


# -- intake ------------------------------------------------------------------------------


def import_upload(
    node: Node, filename: str, data: bytes, collection: str | None
) -> ingest.ImportReport:
    """Import one uploaded file through the CLI's import path.

    The bytes are written to a private temporary file named like the upload
    (its suffix says .json, .jsonl or .gz) and imported from there.
    """
    suffix = "".join(Path(filename).suffixes[-2:])[:16] or ".json"
    safe = "".join(ch for ch in Path(filename).stem if ch.isalnum() or ch in "-_.")[:64] or "upload"
    with tempfile.TemporaryDirectory(prefix="accord-upload-") as tmp:
        path = Path(tmp) / f"{safe}{suffix}"
        path.write_bytes(data)
        report = ingest.import_paths(node, [str(path)], collection=collection or None)
    forget(node)
    console.forget_facets()
    return report


# -- detection ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Detection:
    """The sightings this node made (`accord match`), newest first, with their indicators.

    Match runs themselves are not stored yet: what a run leaves is its sightings.
    """

    sightings: list[tuple[StoredObject, dict[str, object], str]]  # (sighting, data, indicator)


def detection(node: Node, limit: int = 100) -> Detection:
    """The latest sightings where this node is the sighter (``where_sighted_refs``)."""
    assert "where_sighted_refs" in REF_LIST_PROPS
    found = node.store.referring([node.info.id], props=("where_sighted_refs",), limit=limit)
    rows = []
    parsed = [(o, console.parse(o)) for _, _, o in found]
    titles = console.names(node, [str(d.get("sighting_of_ref", "")) for _, d in parsed])
    for o, d in parsed:
        ref = str(d.get("sighting_of_ref", ""))
        rows.append((o, d, titles.get(ref, ref)))
    return Detection(rows)


# -- agreements ----------------------------------------------------------------------------


def agreement_text(node: Node, name: str) -> str:
    """The text of an agreement file, as it is on disk ("" for a new one)."""
    path = _agreement_path(node, name)
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def _agreement_path(node: Node, name: str) -> Path:
    if not name or len(name) > 64 or not all(ch.isalnum() or ch in "-_" for ch in name):
        raise ConfigError(name or "(empty)", "an agreement name is letters, digits, - and _")
    return egress.agreements_dir(node) / f"{name}.toml"


def save_agreement(node: Node, name: str, text: str) -> None:
    """Write an agreement file, once it parses and fits with the others.

    The text is checked first and the file replaced atomically, so a refused
    edit leaves the agreement in force as it was.

    Raises:
        AgreementInvalid: the text is not a valid agreement, or clashes with another.
        ConfigError: a bad name.
    """
    path = _agreement_path(node, name)
    source = f"{egress.AGREEMENTS_DIR}/{path.name}"
    parsed = egress._parse(text, source, name)
    others = [a for a in egress.check_files(node)[0] if a.source != source]
    from accord.policy import check_book  # the book's checks: names and peers unique

    check_book([*others, parsed])
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".edit-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    egress.load_book(node)  # records the change in the agreement log


__all__ = [
    "AgreementInvalid",
    "Dashboard",
    "Detection",
    "agreement_text",
    "dashboard",
    "detection",
    "import_upload",
    "save_agreement",
]
