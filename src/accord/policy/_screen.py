"""A quick look at a stored version's bytes before `decide`: most need no parse.

The gate decides every stored version that a page reads. `decide` needs the
object parsed, and a JSON parse plus the rules cost more than serving the
version does. Yet under most agreements most versions cannot trigger a rule:
the bytes show it. A `Screen` answers, for one agreement, recipient and moment,
from the version's columns (type, id, version) and its stored bytes alone:

- ``SHARE``: no rule can withhold it and nothing in it can change (the stored
  bytes go as they are);
- ``WITHHOLD``: a rule withholds it for certain;
- ``SHARE_REDACTED``: no rule withholds it and only the text transforms may
  change it (an SDO or SRO whose bytes hold something a transform may take
  out): `Screen.outgoing` gives what goes, as `decide` would make it;
- ``None``: the bytes cannot settle it; the caller parses and calls `decide`.

Every answer is the verdict `decide` gives (tests/policy/test_screen.py checks
both on generated objects and agreements). The tests on the bytes are
necessary conditions: a property, label or marking that is absent from the
bytes is absent from the object. That holds for the bytes the store keeps:
canonical JSON written by orjson (STIX objects pass `accord.stix.prepare`),
where names and values are written literally; bytes with a ``\\u`` or ``\\/``
escape (another spelling of the same text) are left to `decide`. The embargo
is tested on the version column (``modified``, which STIX 2.1 §3.2 requires to
be no earlier than ``created``, and `prepare` checks): a version modified
before the embargo's cutoff was created before it too.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson

from accord.policy._agreement import Agreement
from accord.policy._decide import (
    _ADDRESS_TYPES,
    PERSONAL_TYPES,
    Context,
    Recipient,
    Verdict,
    _embargo_cutoff,
    _embargoed,
)
from accord.policy._redact import _text_kinds, might_redact, redact_text
from accord.stix import STIX_TYPES, TLP_IDS, tlp_of_refs

# Types whose decision needs more than the bytes show: membership, sightings, the
# markings themselves, objects that are nothing but personal data, certificates.
_PARSED_TYPES = frozenset(
    {
        "identity",
        "sighting",
        "marking-definition",
        "x509-certificate",
        *PERSONAL_TYPES,
        *_ADDRESS_TYPES,
    }
)
_MARKER = "[redacted"  # how every marker of accord.policy._redact begins
# Types every stored version of which has a `created` (STIX 2.1 §3.2: SDOs and SROs):
# `decide` redacts their JSON text whole, which `outgoing` does too.
_CREATED_TYPES = frozenset(t for t, rule in STIX_TYPES.items() if "created" in rule.required)
_V6_HINT = re.compile(rb":(?::|[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:)")  # "::" or three groups
# `_redact._INTERNAL_V4_HINT` with the rest of a dotted quad (`might_redact` needs one).
_V4_HINT = re.compile(rb"1(?:0|27|92\.168|72\.(?:1[6-9]|2\d|3[01])|69\.254)\.\d{1,3}\.\d{1,3}")


@dataclass(frozen=True, slots=True)
class _Compiled:
    """What a screen needs of one agreement, recipient and node context (no time)."""

    withheld_types: frozenset[str]
    above: frozenset[bytes]  # TLP marking ids above the ceiling
    unmarked_above: bool  # an object without a TLP marking is withheld
    residency: frozenset[bytes]  # residency marking ids
    telling: re.Pattern[bytes] | None  # the marking ids a rule looks at (others change nothing)
    labels_required: tuple[bytes, ...]  # as JSON strings: b'"label"'
    labels_excluded: tuple[bytes, ...]
    by_content: bool  # min_confidence: left to `decide`
    members: re.Pattern[bytes] | None  # other members' identities (attribution)
    # Needles that mean the copy may change: created_by_ref under anonymity, references
    # to objects that stay home (b'"email-addr--'), the free-text fields replaced whole.
    changes: tuple[bytes, ...]
    text_kinds: tuple[str, ...]


def _compile(agreement: Agreement, recipient: Recipient, ctx: Context) -> _Compiled:
    kinds = agreement.redact
    others = sorted(ctx.member_identities - {recipient.identity_id or ""})
    withheld = set(agreement.types_excluded)
    tlp = frozenset(m.encode() for m in TLP_IDS)
    above = frozenset(m.encode() for m, lv in TLP_IDS.items() if lv > agreement.ceiling)
    residency = frozenset(m.encode() for m in ctx.residency)
    telling = sorted(above | residency | (tlp if agreement.unmarked > agreement.ceiling else set()))
    return _Compiled(
        withheld_types=frozenset(withheld),
        above=above,
        unmarked_above=agreement.unmarked > agreement.ceiling,
        residency=residency,
        # One pass finds them all: the engine skips ahead to "marking-definition--".
        telling=re.compile(b"|".join(re.escape(m) for m in telling)) if telling else None,
        labels_required=tuple(orjson.dumps(x) for x in sorted(agreement.labels_required)),
        labels_excluded=tuple(orjson.dumps(x) for x in sorted(agreement.labels_excluded)),
        by_content=agreement.min_confidence is not None,
        members=re.compile(b"|".join(re.escape(i.encode()) for i in others)) if others else None,
        changes=(
            *((b'"created_by_ref"',) if agreement.attribution == "anonymous" else ()),
            *(f'"{t}--'.encode() for t, k in PERSONAL_TYPES.items() if k in kinds),
            *(orjson.dumps(f) + b":" for f in agreement.redact_fields),
        ),
        text_kinds=_text_kinds(kinds),
    )


# One compilation per agreement, recipient and context, kept while the agreement is
# in force (an agreement holds a dict: it is keyed by identity, and checked with `is`).
_CacheKey = tuple[int, Recipient, str, frozenset[tuple[str, str]], frozenset[str]]
_cache: dict[_CacheKey, tuple[Agreement, _Compiled]] = {}


def _compiled(agreement: Agreement, recipient: Recipient, ctx: Context) -> _Compiled:
    key = (
        id(agreement),
        recipient,
        ctx.node_identity,
        frozenset(ctx.residency.items()),
        ctx.member_identities,
    )
    hit = _cache.get(key)
    if hit is not None and hit[0] is agreement:
        return hit[1]
    if len(_cache) >= 256:
        _cache.clear()
    compiled = _compile(agreement, recipient, ctx)
    _cache[key] = (agreement, compiled)
    return compiled


class Screen:
    """The verdicts one agreement gives one recipient now, where the bytes settle them."""

    __slots__ = (
        "_allowed",
        "_c",
        "_ceiling",
        "_cutoff",
        "_embargo",
        "_excluded",
        "_hours",
        "_kinds",
        "_now",
        "_plain",
        "_unmarked",
    )

    def __init__(
        self, agreement: Agreement, recipient: Recipient, ctx: Context, now: datetime
    ) -> None:
        self._c = _compiled(agreement, recipient, ctx)
        self._allowed = agreement.types_allowed
        self._embargo = bool(agreement.embargo_hours)
        self._cutoff = _embargo_cutoff(now, agreement.embargo_hours) if self._embargo else ""
        self._kinds = agreement.redact
        self._ceiling = agreement.ceiling
        self._unmarked = agreement.unmarked
        self._excluded = agreement.labels_excluded
        self._now = now
        self._hours = agreement.embargo_hours
        self._plain: set[str] = set()  # types seen that need no parse and pass the type rules

    def verdict(self, otype: str, version: str, data: bytes) -> Verdict | None:
        """SHARE or WITHHOLD when the bytes settle it (as `decide` would), else None.

        Args:
            otype: the version's type (the store's column).
            version: the version's ``modified`` as the store keeps it
                (``YYYY-MM-DDTHH:MM:SS.fffffffffZ``), or its ``created`` without one.
            data: the stored canonical JSON bytes.
        """
        return self.verdicts([otype], [version], [data])[0]

    def verdicts(
        self, types: Sequence[str], versions: Sequence[str], datas: Sequence[bytes]
    ) -> list[Verdict | None]:
        """`verdict` for a page of versions at once.

        The page's bytes are joined (with NUL, which canonical JSON never holds
        raw and no test here matches), and each test scans them once at C speed:
        a page costs a few passes over its bytes, not a few calls per version.
        """
        c = self._c
        n = len(datas)
        buf = b"\0".join(datas)
        starts = list(itertools.accumulate([len(d) + 1 for d in datas], initial=0))
        on = _Scan(buf, starts)
        esc = on.escapes()
        marks: dict[int, set[bytes]] = {}
        if c.telling is not None:
            for m in c.telling.finditer(buf):
                marks.setdefault(on.index(m.start()), set()).add(m.group())
        required = [on.needle(x) for x in c.labels_required]
        excluded: set[int] = set()
        for x in c.labels_excluded:
            excluded |= on.needle(x)
        changes: set[int] = set()
        for x in c.changes:
            changes |= on.needle(x)
        if c.members is not None:
            changes |= on.regex(c.members)
        hints = self._hints(on, n) if c.text_kinds else set()
        embargo, cutoff = self._embargo, self._cutoff
        # The versions some test flagged; the others go as stored. Which versions
        # every rule looks at: all of them when labels are required, an unmarked
        # level is above the ceiling or the agreement reads content.
        plain = self._plain
        flagged = esc | marks.keys() | excluded | changes | hints
        for i, t in enumerate(types):
            if t not in plain:
                if self._is_plain(t):
                    plain.add(t)
                else:
                    flagged.add(i)
        if embargo:
            flagged.update(
                i
                for i, v in enumerate(versions)
                if not (v < cutoff and v[10:11] == "T" and v[-1:] == "Z")
            )
        if required or c.unmarked_above or c.by_content:
            flagged = set(range(n))
        out: list[Verdict | None] = [Verdict.SHARE] * n
        for i in sorted(flagged):
            out[i] = self._one(
                i, types[i], versions[i], datas[i], esc, marks, required, excluded, changes, hints
            )
        return out

    def _is_plain(self, otype: str) -> bool:
        c, allowed = self._c, self._allowed
        return not (
            otype in c.withheld_types
            or (allowed and otype not in allowed)
            or otype in _PARSED_TYPES
        )

    def _one(
        self,
        i: int,
        otype: str,
        version: str,
        data: bytes,
        esc: set[int],
        marks: dict[int, set[bytes]],
        required: list[set[int]],
        excluded: set[int],
        changes: set[int],
        hints: set[int],
    ) -> Verdict | None:
        """The verdict for one flagged version: every test, in the order of `decide`."""
        c, allowed = self._c, self._allowed
        if otype in c.withheld_types or (allowed and otype not in allowed):
            return Verdict.WITHHOLD
        if otype in _PARSED_TYPES or c.by_content or i in esc:
            return None
        withhold = False
        # TLP ceiling and residency: the marking ids in the bytes.
        found = marks.get(i)
        if found:
            if found & c.residency:
                return None
            if found & c.above:
                return self._confirm(data)  # above the ceiling, if in object_marking_refs
            if c.unmarked_above:
                if any(m.decode() in TLP_IDS for m in found):
                    return None  # a TLP marking at or below the ceiling, if top-level
                withhold = True  # no TLP marking at all: the unmarked level, above
        elif c.unmarked_above:
            withhold = True
        # Labels: a label absent from the bytes is absent from the object.
        if withhold or any(i not in has for has in required):
            return Verdict.WITHHOLD
        if required:
            return None  # all present somewhere: whether in `labels`, `decide` says
        if i in excluded:
            return self._confirm(data)  # excluded, if among `labels`
        # Embargo on `created` (STIX 2.1 §3.2: created <= modified, the version).
        if self._embargo and not (
            len(version) >= 20
            and version[10] == "T"
            and version[-1] == "Z"
            and version[:19] < self._cutoff
        ):
            return self._confirm(data)  # embargoed, if created late enough
        # Nothing must change in the outgoing copy. (Granular markings remove a property
        # only when above the ceiling or resident somewhere: their ids sent it to `decide`.)
        if i in changes:
            return None
        if i in hints:
            # A transform may find something in the text: `outgoing` redacts it as
            # `decide` does (the JSON text whole), where `decide` would do just that.
            if otype in _CREATED_TYPES and b"\\" not in data:
                return Verdict.SHARE_REDACTED
            return None
        return Verdict.SHARE

    def outgoing(self, data: bytes) -> bytes | None:
        """What goes for a version the screen found ``SHARE_REDACTED``: `decide`'s copy.

        Only the text transforms can change such a version (no rule withholds
        it, nothing else in it changes), and its JSON text has no escape: the
        transforms run over the text whole, as `decide` runs them.

        Args:
            data: the stored canonical JSON bytes.

        Returns:
            The redacted copy's canonical bytes, or None when the transforms
            find nothing (the version goes as stored).
        """
        text = data.decode()
        kinds = self._c.text_kinds
        if not might_redact(text, self._kinds):
            return None
        new = redact_text(text, kinds, [], "")
        if new == text:
            return None
        # `decide` writes the copy as canonical JSON, keys sorted. The stored text is
        # that, and the markers are plain text put inside its strings, so the new text
        # is too, unless a marker landed in a property name (which may sort elsewhere).
        if _marker_in_a_name(new):
            return orjson.dumps(orjson.loads(new), option=orjson.OPT_SORT_KEYS)
        return new.encode()

    def _hints(self, on: _Scan, n: int) -> set[int]:
        """The versions where a text transform might find something (`decide` redacts).

        Each test is necessary for its kind's part of `might_redact`: an ``@`` for an
        e-mail address, a ``+`` or ``(`` for a phone number, an internal IPv4 prefix
        and the rest of a dotted quad, or an IPv6 address's ``::`` or three groups.
        Digits, dots and colons are written alike in the bytes and the text.
        """
        found: set[int] = set()
        for kind in self._c.text_kinds:
            if kind == "email":
                found |= on.needle(b"@")
            elif kind == "phone":
                found |= on.needle(b"+") | on.needle(b"(")
            elif kind == "internal-address":
                found |= on.regex(_V4_HINT) | on.regex(_V6_HINT)
            else:
                return set(range(n))
        return found

    def _confirm(self, data: bytes) -> Verdict | None:
        """WITHHOLD when the parsed object is above the ceiling, carries an excluded
        label or is under embargo (rules of `decide` that withhold whatever else
        holds, for the types that reach here), else None: `decide` decides."""
        obj = orjson.loads(data)
        if type(obj) is not dict:
            return None
        level = tlp_of_refs(obj.get("object_marking_refs") or ())
        if (self._unmarked if level is None else level) > self._ceiling:
            return Verdict.WITHHOLD
        labels = obj.get("labels")
        if labels and self._excluded.intersection(labels):
            return Verdict.WITHHOLD
        created = obj.get("created")
        if (
            self._embargo
            and isinstance(created, str)
            and _embargoed(created, self._now, self._hours) is not None
        ):
            return Verdict.WITHHOLD
        return None


def _marker_in_a_name(text: str) -> bool:
    """Whether a redaction marker stands in a property name of canonical JSON text
    without escapes: there a string's closing quote is the next one, and a name is
    the string a ``:`` follows."""
    pos = text.find(_MARKER)
    while pos >= 0:
        end = text.find('"', pos)
        if end < 0 or text[end + 1 : end + 2] == ":":
            return True
        pos = text.find(_MARKER, end)
    return False


class _Scan:
    """Which versions of a joined page hold a needle or a match (each counted once)."""

    __slots__ = ("buf", "starts")

    def __init__(self, buf: bytes, starts: list[int]) -> None:
        self.buf = buf
        self.starts = starts  # where each version begins; the last: one past the end

    def index(self, pos: int) -> int:
        """The version a position of the joined bytes belongs to."""
        return bisect.bisect_right(self.starts, pos) - 1

    def escapes(self) -> set[int]:
        """The versions whose bytes hold a ``\\u`` or ``\\/`` escape (another spelling)."""
        buf, starts, found = self.buf, self.starts, set()
        pos = buf.find(b"\\")
        while pos >= 0:
            if buf[pos + 1 : pos + 2] in (b"u", b"/"):
                i = bisect.bisect_right(starts, pos) - 1
                found.add(i)
                pos = buf.find(b"\\", starts[i + 1])
            else:
                pos = buf.find(b"\\", pos + 2)
        return found

    def needle(self, needle: bytes) -> set[int]:
        """The versions whose bytes hold ``needle``."""
        buf, starts, found = self.buf, self.starts, set()
        pos = buf.find(needle)
        while pos >= 0:
            i = bisect.bisect_right(starts, pos) - 1
            found.add(i)
            pos = buf.find(needle, starts[i + 1])
        return found

    def regex(self, regex: re.Pattern[bytes]) -> set[int]:
        """The versions whose bytes ``regex`` matches in."""
        buf, starts, found = self.buf, self.starts, set()
        m = regex.search(buf)
        while m is not None:
            i = bisect.bisect_right(starts, m.start()) - 1
            found.add(i)
            m = regex.search(buf, starts[i + 1])
        return found
