"""The values extraction produces: findings, their mentions and the whole result."""

from __future__ import annotations

from dataclasses import dataclass, field

# IOC types, named as the analyst reads them; `accord.extract.stix` maps them to STIX.
IOC_TYPES = (
    "ipv4",
    "ipv6",
    "domain",
    "url",
    "email",
    "md5",
    "sha1",
    "sha256",
    "sha512",
    "ssdeep",
    "imphash",
    "tlsh",
    "cve",
    "file",
    "registry-key",
    "mutex",
    "btc",
    "xmr",
    "eth",
    "user-agent",
    "attack-id",
)


@dataclass(frozen=True, slots=True)
class Mention:
    """One place a value occurs: offsets into the original text, as written there.

    Attributes:
        start: offset of the first character in the original (defanged) text.
        end: offset after the last character.
        written: the characters as the report wrote them (defanged or not).
        sentence: the sentence (or table row, list item) around them.
    """

    start: int
    end: int
    written: str
    sentence: str


@dataclass(slots=True)
class Finding:
    """One distinct value of one type, with every place it occurs (up to a bound).

    Attributes:
        type: one of `IOC_TYPES`.
        value: the refanged, normalised value (what goes into a pattern).
        mentions: where it occurs, first first.
        defanged: the report wrote it defanged at least once (a strong sign of an IOC).
        dropped: why it is not an indicator (a false-positive rule), or None.
        count: how many times it occurs (mentions keeps only the first few).
    """

    type: str
    value: str
    mentions: list[Mention] = field(default_factory=list)
    defanged: bool = False
    dropped: str | None = None
    count: int = 0

    @property
    def kept(self) -> bool:
        return self.dropped is None

    @property
    def evidence(self) -> str:
        return self.mentions[0].sentence if self.mentions else ""


@dataclass(frozen=True, slots=True)
class Technique:
    """An ATT&CK technique the text maps to, with the sentences that support it."""

    attack_id: str
    name: str
    score: float
    sentences: tuple[str, ...]
    explicit: bool = False  # the text names the id itself


@dataclass(slots=True)
class Extraction:
    """Everything read from one document.

    Attributes:
        findings: every distinct value found, kept and dropped.
        techniques: ATT&CK techniques mapped from the text (empty without a model).
        warnings: what could not be read, and what limits cut short.
        chars: length of the text that was read.
        pages: pages read (PDF), or None.
    """

    findings: list[Finding]
    techniques: list[Technique] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    chars: int = 0
    pages: int | None = None
    names: frozenset[str] = frozenset()  # known actor names the text mentions (lower case)
    title: str = ""  # the first heading (or line) of the text

    @property
    def kept(self) -> list[Finding]:
        return [f for f in self.findings if f.dropped is None]
