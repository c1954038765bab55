"""Reports to intelligence: import a document as a draft, review it, publish it.

A draft lives in the store's ``report_drafts`` table, which no egress path
reads (TAXII, push, export and match read ``objects`` only): nothing of a
report is shared before an analyst publishes it, and publishing goes through
`ingest.ingest_objects`, with provenance ``report <SHA-256>``.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from accord.exceptions import InputError, InputTooLarge, UnknownCollection
from accord.extract import Extraction, Finding, Mention, Technique, find_iocs, refang_value
from accord.extract._documents import bounded, document_text, kind_of
from accord.extract._names import mentioned_names
from accord.extract._stix import Known, Source, build_draft
from accord.service import _report_attack, _report_pdf
from accord.service.ingest import Outcome, ingest_objects
from accord.service.node import Node
from accord.stix import TLP2_ID_OF, Tlp
from accord.store import DraftRow, Query

_HEADING = re.compile(r"^\s*(?:={1,6}|#{1,6})\s+(.{3,200})$", re.MULTILINE)
_ATTACK_ID = re.compile(r"^T\d{4}(?:\.\d{3})?$")


@dataclass(slots=True)
class Draft:
    """A stored draft, read back: what was found and what the analyst changed."""

    row: DraftRow
    body: dict[str, Any]
    new: bool = False

    @property
    def id(self) -> str:
        return self.row.id

    def extraction(self) -> Extraction:
        b = self.body
        findings = [
            Finding(
                f["type"],
                f["value"],
                [Mention(**m) for m in f["mentions"]],
                f["defanged"],
                f["dropped"],
                f["count"],
            )
            for f in b["findings"]
        ]
        techniques = [
            Technique(t["attack_id"], t["name"], t["score"], tuple(t["sentences"]), t["explicit"])
            for t in b["techniques"]
            if t["attack_id"].casefold() not in {d.casefold() for d in b["drops"]}
        ]
        return Extraction(
            findings, techniques, list(b["warnings"]), b["chars"], b["pages"], frozenset(b["names"])
        )

    def objects(self, node: Node) -> list[dict[str, object]]:
        """The STIX draft as it stands (edits applied)."""
        b = self.body
        tlp = TLP2_ID_OF[Tlp[b["tlp"]]] if b.get("tlp") else None
        source = Source(
            self.row.sha256, b["name"], self.row.title, b["created_ts"], b["url"], b["author"], tlp
        )
        return build_draft(self.extraction(), source, known_to(node), dropped=b["drops"])


@dataclass(slots=True)
class Published:
    draft: Draft
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def stored(self) -> int:
        return sum(1 for o in self.outcomes if o.ok)


def _stix_now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def _read(node: Node, ref: str) -> tuple[bytes, str | None, str | None]:
    """The bytes of a file or URL, bounded; with the URL and the content type."""
    limit = node.settings.report_max_bytes
    if ref.startswith(("http://", "https://")):
        try:
            with httpx.stream("GET", ref, follow_redirects=True, timeout=30.0) as resp:
                resp.raise_for_status()
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise InputTooLarge(ref, f"over the limit of {limit:,} bytes")
                    chunks.append(chunk)
                return b"".join(chunks), ref, resp.headers.get("content-type")
        except httpx.HTTPError as exc:
            raise InputError(ref, f"cannot fetch: {exc}") from exc
    path = Path(ref)
    if not path.is_file():
        raise InputError(ref, "no such file")
    size = path.stat().st_size
    if size > limit:
        raise InputTooLarge(ref, f"{size:,} bytes, over the limit of {limit:,}")
    return path.read_bytes(), None, None


def read_document(
    node: Node,
    data: bytes,
    name: str,
    content_type: str | None,
    notify: _report_attack.Notify | None = None,
) -> Extraction:
    """Text (with bounds), IOCs, techniques and known names of one document."""
    s = node.settings
    kind = kind_of(data, name, content_type)
    pages = None
    if kind == "pdf":
        text, pages, warnings = _report_pdf.read_pdf(
            data,
            name,
            max_pages=s.report_max_pages,
            max_chars=s.report_max_chars,
            seconds=s.report_seconds,
        )
        text, more = bounded(text, name, s.report_max_chars)
        warnings += more
    else:
        text, warnings = document_text(
            data, name, kind=kind, max_bytes=s.report_max_bytes, max_chars=s.report_max_chars
        )
    findings, more = find_iocs(text)
    warnings += more
    known = known_to(node)
    techniques = _explicit_techniques(findings, known)
    ext = Extraction(findings, techniques, warnings, len(text), pages)
    ext.names = mentioned_names(text, known.actors)
    ext.title = _title(text[:4096], name)
    ext.techniques = _merge(techniques, _report_attack.map_text(node, text, known, notify))
    return ext


def _explicit_techniques(findings: Iterable[Finding], known: Known) -> list[Technique]:
    out = []
    for f in findings:
        if f.type == "attack-id" and f.kept and _ATTACK_ID.match(f.value):
            name = known.attack_patterns.get(f.value, ("", ""))[1]
            sentences = tuple(m.sentence for m in f.mentions)
            out.append(Technique(f.value, name, 1.0, sentences, explicit=True))
    return out


def _merge(first: list[Technique], second: list[Technique]) -> list[Technique]:
    seen = {t.attack_id for t in first}
    return first + [t for t in second if t.attack_id not in seen]


def known_to(node: Node) -> Known:
    """ATT&CK patterns (by ATT&CK id) and malware / intrusion-set names the node holds."""
    patterns: dict[str, tuple[str, str]] = {}
    actors: dict[str, str] = {}
    query = Query(types=("attack-pattern", "malware", "intrusion-set"))
    for obj in node.store.query(query):
        o = orjson.loads(obj.data)
        if o.get("revoked") or o.get("x_mitre_deprecated"):
            continue
        if obj.type == "attack-pattern":
            for ref in o.get("external_references", []):
                if ref.get("source_name") == "mitre-attack" and ref.get("external_id"):
                    patterns[str(ref["external_id"])] = (obj.id, str(o.get("name", "")))
        else:
            for name in [o.get("name"), *o.get("aliases", []), *o.get("x_mitre_aliases", [])]:
                if isinstance(name, str) and len(name) >= 4:
                    actors.setdefault(name.lower(), obj.id)
    return Known(patterns, actors)


def _title(text_head: str, fallback: str) -> str:
    m = _HEADING.search(text_head)
    if m:
        return m.group(1).strip()
    for line in text_head.splitlines():
        if line.strip():
            return line.strip()[:200]
    return fallback


def import_report(
    node: Node,
    ref: str,
    *,
    collection: str | None = None,
    tlp: str | None = None,
    notify: _report_attack.Notify | None = None,
) -> Draft:
    """Read one file or URL into a draft; the same document gives back the same draft.

    ``notify`` is told of long work (training the ATT&CK model at first use).

    Raises:
        InputError: the document cannot be read (and why).
    """
    if tlp is not None:
        tlp = tlp.upper().replace("-", "_").replace("+", "_")
        if tlp not in Tlp.__members__:
            raise InputError(ref, f"--tlp {tlp}: use one of {', '.join(Tlp.__members__)}")
    data, url, content_type = _read(node, ref)
    return import_document(
        node,
        data,
        url or Path(ref).name,
        content_type,
        url=url,
        collection=collection,
        tlp=tlp,
        notify=notify,
    )


def import_document(
    node: Node,
    data: bytes,
    name: str,
    content_type: str | None = None,
    *,
    url: str | None = None,
    collection: str | None = None,
    tlp: str | None = None,
    notify: _report_attack.Notify | None = None,
) -> Draft:
    """One document's bytes (an upload) into a draft, as `import_report` does for a file.

    Raises:
        InputError: the document cannot be read, or its TLP is unknown.
        InputTooLarge: over ACCORD_REPORT_MAX_BYTES.
    """
    if tlp is not None:
        tlp = tlp.upper().replace("-", "_").replace("+", "_")
        if tlp not in Tlp.__members__:
            raise InputError(name, f"--tlp {tlp}: use one of {', '.join(Tlp.__members__)}")
    limit = node.settings.report_max_bytes
    if len(data) > limit:
        raise InputTooLarge(name, f"{len(data):,} bytes, over the limit of {limit:,}")
    sha = hashlib.sha256(data).hexdigest()
    try:
        existing = node.store.draft(sha)
    except KeyError:
        existing = None
    if existing is not None:
        return Draft(existing, orjson.loads(existing.body))
    ext = read_document(node, data, name, content_type, notify)
    title = ext.title or Path(name).name
    author = _author(url)
    body = {
        "name": name,
        "url": url,
        "author": author,
        "created_ts": _stix_now(),
        "tlp": tlp,
        "collection": collection,
        "chars": ext.chars,
        "pages": ext.pages,
        "findings": [asdict(f) for f in ext.findings],
        "techniques": [asdict(t) for t in ext.techniques],
        "names": sorted(ext.names),
        "warnings": ext.warnings,
        "drops": [],
        "added_techniques": [],
    }
    row, new = node.store.put_draft(sha, name, title, orjson.dumps(body).decode())
    return Draft(row, orjson.loads(row.body), new)


def _author(url: str | None) -> str:
    if not url:
        return "unknown source"
    from accord.extract._patterns import registrable

    return registrable(url.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0])


def drafts(node: Node) -> list[Draft]:
    return [Draft(r, orjson.loads(r.body)) for r in node.store.drafts()]


def draft(node: Node, ref: str) -> Draft:
    row = node.store.draft(ref)
    return Draft(row, orjson.loads(row.body))


def edit_draft(
    node: Node,
    ref: str,
    *,
    drop: Iterable[str] = (),
    add_techniques: Iterable[str] = (),
    restore: Iterable[str] = (),
) -> Draft:
    """Drop values (IOCs, CVEs, technique ids) and add techniques to a draft; ``restore``
    takes back an analyst's earlier drop of a value (a finding the extractor dropped by
    a false-positive rule stays dropped).

    Raises:
        InputError: a technique id that is not an ATT&CK technique id.
    """
    d = draft(node, ref)
    b = d.body
    for value in restore:
        v = refang_value(value.strip()).casefold()
        b["drops"] = [d for d in b["drops"] if d.casefold() != v]
    for value in drop:
        v = refang_value(value.strip())
        if v and v.casefold() not in {d.casefold() for d in b["drops"]}:
            b["drops"].append(v)
    known = known_to(node).attack_patterns
    present = {t["attack_id"] for t in b["techniques"]}
    for tid in add_techniques:
        tid = tid.strip().upper()
        if not _ATTACK_ID.match(tid):
            raise InputError(tid, "not an ATT&CK technique id (T1234 or T1234.001)")
        b["drops"] = [d for d in b["drops"] if d.casefold() != tid.casefold()]
        if tid not in present:
            name = known.get(tid, ("", ""))[1]
            added = Technique(tid, name, 1.0, ("added by the analyst",), explicit=True)
            b["techniques"].append(asdict(added))
            b["added_techniques"].append(tid)
    row = node.store.update_draft(d.row.sha256, orjson.dumps(b).decode())
    return Draft(row, b)


def publish_draft(node: Node, ref: str, *, collection: str | None = None) -> Published:
    """Store the draft's STIX objects through ingest, in a collection, as ``report <SHA-256>``.

    Raises:
        InputError: no collection given here nor at import.
    """
    d = draft(node, ref)
    target = collection or d.body.get("collection")
    if not target:
        raise InputError(d.id, "no collection: give --collection")
    try:
        coll = node.store.collection(target)
    except UnknownCollection:
        coll = node.store.create_collection(target)
    objects: list[object] = list(d.objects(node))
    outcomes = ingest_objects(
        node, objects, source=("report", d.row.sha256), collection_pks=[coll.pk]
    )
    row = node.store.update_draft(d.row.sha256, d.row.body, published_to=coll.title)
    return Published(Draft(row, d.body), outcomes)


@dataclass(frozen=True, slots=True)
class ReviewFinding:
    """One finding as the review shows it: kept, dropped by a rule, or by the analyst."""

    finding: Finding
    rule: str | None  # the false-positive rule that dropped it
    by_analyst: bool

    @property
    def kept(self) -> bool:
        return self.rule is None and not self.by_analyst


@dataclass(frozen=True, slots=True)
class ReviewTechnique:
    technique: Technique
    removed: bool  # removed by the analyst (its id dropped)
    added: bool  # added by the analyst


def review(d: Draft) -> tuple[list[ReviewFinding], list[ReviewTechnique]]:
    """A draft's findings and techniques with what the analyst changed, for a review page."""
    b = d.body
    drops = {v.casefold() for v in b["drops"]}
    added = {a.casefold() for a in b["added_techniques"]}
    findings = [
        ReviewFinding(f, f.dropped, f.value.casefold() in drops) for f in d.extraction().findings
    ]
    techniques = [
        ReviewTechnique(
            Technique(t["attack_id"], t["name"], t["score"], tuple(t["sentences"]), t["explicit"]),
            t["attack_id"].casefold() in drops,
            t["attack_id"].casefold() in added,
        )
        for t in b["techniques"]
    ]
    return findings, techniques
