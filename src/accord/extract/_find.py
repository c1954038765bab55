"""Finding IOCs in text: refang, match, classify, drop false positives, keep evidence."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

from accord.extract import _filters as fp
from accord.extract import _patterns as p
from accord.extract._model import Finding, Mention
from accord.extract._refang import Refanged, refang

MAX_MENTIONS = 5  # mentions kept per value; `Finding.count` keeps the exact number
MAX_FINDINGS = 20_000  # distinct values per document
_SENTENCE_REACH = 300
_VERSION_BEFORE = re.compile(
    r"(?:version|ver\.?|v|build|release|firmware|update|rev\.?|chrome|firefox|edge|safari)\s*$",
    re.IGNORECASE,
)
_URL_TRAIL = ".,;:!?'\")]>*+"
_CASELESS = frozenset({"file", "registry-key"})
_MUTEX_CONTEXT = re.compile(r"mutex|mutant", re.IGNORECASE)
_IMPHASH_CONTEXT = re.compile(r"imphash|import hash", re.IGNORECASE)
_SSDEEP_CONTEXT = re.compile(r"ssdeep|fuzzy", re.IGNORECASE)
_URLISH = re.compile(r"[a-z][a-z0-9+.\-]*://", re.IGNORECASE)
_LINK_BEFORE = re.compile(r"(?:link:|\]\(|href=[\"']?)$", re.IGNORECASE)
_HEADING = re.compile(r"^(?:={1,6}|#{1,6})[ \t]+(.{1,200})$", re.MULTILINE)
_SECTION_KIND = (
    (re.compile(r"mutex|mutant", re.IGNORECASE), "mutex"),
    (re.compile(r"registry", re.IGNORECASE), "registry-key"),
    (re.compile(r"file ?names?|paths?\b|files? (?:created|dropped)", re.IGNORECASE), "file"),
)
_SENTENCE_END = re.compile(r"(?:[.!?](?=\s)|\n)")


def sentence_at(text: str, start: int, end: int) -> str:
    """The sentence, table row or list item around text[start:end], bounded in length."""
    lo = max(0, start - _SENTENCE_REACH)
    left = text[lo:start]
    cut = max(left.rfind("\n"), left.rfind(". "), left.rfind("? "), left.rfind("! "))
    s = lo + cut + 1 if cut >= 0 else lo
    m = _SENTENCE_END.search(text, end, min(len(text), end + _SENTENCE_REACH))
    e = m.end() if m else min(len(text), end + _SENTENCE_REACH)
    return " ".join(text[s:e].split())


def _section_kind(heading: str) -> str | None:
    for rx, kind in _SECTION_KIND:
        if rx.search(heading):
            return kind
    return None


class _Scan:
    """One document's scan: claimed spans, findings by (type, value)."""

    def __init__(self, original: str, rf: Refanged) -> None:
        self.original = original
        self.rf = rf
        self.text = rf.text
        self.claimed = bytearray(len(rf.text))
        self.by_key: dict[tuple[str, str], Finding] = {}
        self.truncated = False
        # Markdown / AsciiDoc headings: what a section lists ("Mutexes", "Registry keys").
        heads = [(m.start(), m.group(1)) for m in _HEADING.finditer(rf.text)]
        self._head_at = [h[0] for h in heads]
        self._head_kind = [_section_kind(h[1]) for h in heads]

    def section_kind(self, offset: int) -> str | None:
        """The IOC type the nearest heading above ``offset`` announces, if any."""
        i = bisect.bisect_right(self._head_at, offset) - 1
        return self._head_kind[i] if i >= 0 else None

    def free(self, start: int, end: int) -> bool:
        return self.claimed.find(1, start, end) == -1

    def claim(self, start: int, end: int) -> None:
        self.claimed[start:end] = b"\x01" * (end - start)

    def add(self, kind: str, value: str, start: int, end: int, dropped: str | None = None) -> None:
        self.claim(start, end)
        # Windows paths and registry keys are case-insensitive: one finding, first spelling.
        key = (kind, value.casefold() if kind in _CASELESS and "\\" in value else value)
        f = self.by_key.get(key)
        if f is None:
            if len(self.by_key) >= MAX_FINDINGS:
                self.truncated = True
                return
            f = self.by_key[key] = Finding(kind, value, dropped=dropped)
        elif dropped is not None and dropped.startswith("reference"):
            f.dropped = dropped  # a link target anywhere makes it the report's reference
        elif f.dropped is not None and dropped is None and not f.dropped.startswith("reference"):
            f.dropped = None  # one clean mention makes it a candidate indicator
        f.count += 1
        defanged = self.rf.was_defanged(start, end)
        f.defanged = f.defanged or defanged
        if len(f.mentions) < MAX_MENTIONS:
            os, oe = self.rf.span(start, end)
            f.mentions.append(
                Mention(os, oe, self.original[os:oe], sentence_at(self.original, os, oe))
            )

    def before(self, start: int, n: int = 24) -> str:
        return self.text[max(0, start - n) : start]


def _strip_url(url: str) -> str:
    while url and url[-1] in _URL_TRAIL:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _code_spans(scan: _Scan) -> None:
    """Whole code spans that are a path, a file name with spaces, or a registry key."""
    for m in p.CODE_SPAN.finditer(scan.text):
        gi = 1 if m.group(1) is not None else 2
        raw = m.group(gi)
        value = raw.strip()
        if not value or len(value) > 400:
            continue
        start = m.start(gi) + (len(raw) - len(raw.lstrip()))
        end = start + len(value)
        section = scan.section_kind(start)
        if p.REGKEY.match(value) and "\\" in value:
            scan.add("registry-key", _strip_key(value), start, end)
        elif _is_mutex(scan, value, start, section):
            scan.add("mutex", value, start, end)
        elif len(value.split()) <= 8 and _is_file(value) and not _URLISH.match(value):
            scan.add("file", value, start, end, _link_reason(scan, start))


def _strip_key(key: str) -> str:
    key = key.rstrip(".,;:")
    while (
        key and key[-1] in ")]" and key.count("[" if key[-1] == "]" else "(") < key.count(key[-1])
    ):
        key = key[:-1]
    return key


def _link_reason(scan: _Scan, start: int) -> str | None:
    """A value that is the target of a link in the markup is the report's own reference."""
    if _LINK_BEFORE.search(scan.before(start, 8)):
        return "reference link target"
    return None


def _is_mutex(scan: _Scan, value: str, start: int, section: str | None) -> bool:
    if section == "mutex":
        return " " not in value and not _URLISH.match(value)
    return bool(p.MUTEX.fullmatch(value) and _MUTEX_CONTEXT.search(scan.before(start, 3000)))


def _is_file(value: str) -> bool:
    ext = value.rsplit(".", 1)[-1].lower() if "." in value else ""
    pathish = value.startswith(("%", "/", "~", "\\\\")) or (len(value) > 2 and value[1] == ":")
    return ext in p.FILE_EXT or (pathish and ("\\" in value or "/" in value))


def _scan(scan: _Scan) -> None:
    t = scan.text
    for m in p.URL.finditer(t):
        url = _strip_url(m.group())
        if "." in url.split("://", 1)[1][:256] or ":" in url.split("://", 1)[1]:
            scan.add("url", url, m.start(), m.start() + len(url))
    for m in p.EMAIL.finditer(t):
        if scan.free(m.start(), m.end()) and p.public_suffix(m.group().rsplit("@", 1)[1]):
            value = m.group().lower()
            scan.add("email", value, m.start(), m.end(), fp.email_reason(value))
    _code_spans(scan)
    for m in p.REGKEY.finditer(t):
        if scan.free(m.start(), m.end()):
            scan.add("registry-key", _strip_key(m.group()), m.start(), m.end())
    for m in p.MUTEX.finditer(t):
        if scan.free(m.start(), m.end()) and _MUTEX_CONTEXT.search(scan.before(m.start(), 3000)):
            scan.add("mutex", m.group().rstrip(".,;:"), m.start(), m.end())
    for rx in (p.WINPATH, p.UNIXPATH):
        for m in rx.finditer(t):
            value = m.group().rstrip(".,;:+")
            if scan.free(m.start(), m.end()) and value.count("/") + value.count("\\") >= 1:
                scan.add("file", value, m.start(), m.start() + len(value))
    for m in p.USER_AGENT.finditer(t):
        if scan.free(m.start(), m.end()):
            ua = m.group().rstrip(" |;,")
            scan.add("user-agent", ua, m.start(), m.start() + len(ua))
    _hashes(scan)
    for m in p.CVE.finditer(t):
        scan.add("cve", m.group().upper(), m.start(), m.end())
    for m in p.ATTACK_ID.finditer(t):
        if scan.free(m.start(), m.end()):
            scan.add("attack-id", m.group().upper(), m.start(), m.end())
    _addresses(scan)
    _wallets(scan)
    _files_and_domains(scan)


def _hashes(scan: _Scan) -> None:
    t = scan.text
    for m in p.TLSH.finditer(t):
        if scan.free(m.start(), m.end()):
            scan.add("tlsh", m.group().upper(), m.start(), m.end())
    for m in p.SSDEEP.finditer(t):
        if scan.free(m.start(), m.end()) and _SSDEEP_CONTEXT.search(scan.before(m.start(), 400)):
            scan.add("ssdeep", m.group(), m.start(), m.end())
    for m in p.HEX.finditer(t):
        if not scan.free(m.start(), m.end()):
            continue
        value = m.group().lower()
        kind = p.HASH_TYPE[len(value)]
        if kind == "md5" and _IMPHASH_CONTEXT.search(scan.before(m.start(), 80)):
            kind = "imphash"
        scan.add(kind, value, m.start(), m.end(), fp.hash_reason(value))


def _addresses(scan: _Scan) -> None:
    t = scan.text
    for m in p.IPV4.finditer(t):
        if not scan.free(m.start(), m.end()):
            continue
        value = m.group()
        reason = fp.ip_reason(value)
        if reason is None and _VERSION_BEFORE.search(scan.before(m.start())):
            reason = "version number"
        scan.add("ipv4", value, m.start(), m.end(), reason)
    for m in p.IPV6.finditer(t):
        if scan.free(m.start(), m.end()) and p.valid_ipv6(m.group()):
            value = m.group().lower()
            scan.add("ipv6", value, m.start(), m.end(), fp.ip_reason(value))


def _wallets(scan: _Scan) -> None:
    t = scan.text
    for m in p.ETH.finditer(t):
        if scan.free(m.start(), m.end()):
            scan.add("eth", m.group(), m.start(), m.end())
    for m in p.XMR.finditer(t):
        if scan.free(m.start(), m.end()):
            scan.add("xmr", m.group(), m.start(), m.end())
    for m in p.BTC.finditer(t):
        v = m.group()
        if scan.free(m.start(), m.end()) and (v.startswith("bc1") or p.base58check(v)):
            scan.add("btc", v, m.start(), m.end())


def _files_and_domains(scan: _Scan) -> None:
    t = scan.text
    for m in p.FILENAME.finditer(t):
        if not scan.free(m.start(), m.end()):
            continue
        value = m.group()
        ext = value.rsplit(".", 1)[-1].lower()
        # "update.zip" or "evil.app" is a file unless the report defanged it as a host.
        if (
            p.public_suffix(value)
            and ext not in ("exe", "dll")
            and scan.rf.was_defanged(m.start(), m.end())
        ):
            continue
        scan.add("file", value, m.start(), m.end(), _link_reason(scan, m.start()))
    for m in p.DOMAIN.finditer(t):
        if not scan.free(m.start(), m.end()):
            continue
        value = m.group().rstrip(".")
        end = m.start() + len(value)
        if not p.public_suffix(value):
            continue
        defanged = scan.rf.was_defanged(m.start(), end)
        reason = fp.domain_reason(value)
        if reason is None and not defanged:
            reason = _domain_context(scan, value, m.start())
        scan.add("domain", value.lower(), m.start(), end, reason)


def _domain_context(scan: _Scan, value: str, start: int) -> str | None:
    before = scan.before(start, 1)
    if before in ("/", "\\"):
        return "part of a path or detection name"
    if any(c.isupper() for c in value) and not value.isupper():
        return "mixed-case identifier (code or detection name), not a host"
    if value.replace(".", "").isdigit():
        return "number"
    return None


def _references(scan: _Scan) -> None:
    """The report's own links: clickable URLs in a report that defangs its indicators,
    and hosts under the same registrable domain as those links."""
    findings = list(scan.by_key.values())
    defangs = any(f.defanged for f in findings)
    ref_domains: set[str] = set()
    for f in findings:
        if f.type != "url" or f.defanged or f.dropped:
            continue
        host = f.value.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0].lower()
        reason = fp.domain_reason(host) if p.public_suffix(host) else None
        if reason is None and defangs:
            reason = "reference link (clickable in a report that defangs its indicators)"
        if reason is not None:
            f.dropped = reason
            ref_domains.add(p.registrable(host))
    for f in findings:
        kept_domain = f.type == "domain" and f.dropped is None and not f.defanged
        if kept_domain and p.registrable(f.value) in ref_domains:
            f.dropped = "the report's own reference domain"


def find_iocs(text: str) -> tuple[list[Finding], list[str]]:
    """Every IOC-looking value of a text, kept or dropped with its reason.

    Returns:
        The findings in order of first mention, and warnings (limits reached).
    """
    scan = _Scan(text, refang(text))
    _scan(scan)
    _references(scan)
    findings = sorted(scan.by_key.values(), key=lambda f: f.mentions[0].start)
    warnings = []
    if scan.truncated:
        warnings.append(f"more than {MAX_FINDINGS:,} distinct values: the rest were not read")
    return findings, warnings


def iter_kept(findings: list[Finding]) -> Iterator[Finding]:
    return (f for f in findings if f.dropped is None)
