"""The compiled matcher: every active indicator in one index, fed one event at a time.

How to use it (the log sources and ``bench/match.py`` do this)::

    m = Matcher()
    m.add("indicator--...", "[domain-name:value = 'evil.example']", valid_from=t0)
    for event in events:              # accord.patterns.Event
        for hit in m.feed(event):     # accord.patterns.Hit
            ...

Compiling big lists (the 1.85 million maltrail domains, IPs and URLs): call
``add(indicator_id, "[domain-name:value = 'x']")`` (or ``ipv4-addr:value``,
``url:value``) for each. A pattern of exactly that shape skips the parser (one
regular expression, each distinct path text read once), so compiling costs a
few microseconds an indicator; :meth:`Matcher.add_equality` skips even that when
the caller already has the path and the value. Such indicators cost one dictionary entry each and
match with a dictionary lookup per event key; nothing else is kept of them.

Per event, :meth:`Matcher.feed` looks each ``(path, value)`` key up in the
equality index (hash hex lower-cased on both sides), then, only for paths
that have them, in the CIDR index (one lookup per prefix length) and the
per-path regexes (LIKE/MATCHES, behind one search for the literals they need).
Indicators whose key hit is proof enough (``=``/``IN`` of strings or integers
joined by ``OR``) hit at once; the others (a CIDR hit too) are evaluated with
the general evaluator on ``event.observed()`` (for ``[A AND B]`` only when
the event carries a key of both sides), and those spanning several
observations (AND/OR/FOLLOWEDBY between ``[...]``, WITHIN, REPEATS, START/STOP)
on a bounded window of their recent triggering events.

Bad input never stalls it: :meth:`Matcher.add` refuses patterns over the
complexity limits (raising :class:`PatternTooComplex`, the caller flags the
indicator), and a MATCHES search that runs over its time limit, or an
evaluation over its step budget, flags the indicator in :attr:`Matcher.flagged`
and takes it out of the index.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import unicodedata
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple

from accord.exceptions import PatternError, PatternMatchError, PatternTooComplex
from accord.patterns._ast import (
    Comparison,
    Group,
    ObservationExpr,
    ObservationOp,
    Qualified,
    SimpleObservation,
)
from accord.patterns._evaluate import CompiledPattern
from accord.patterns._lexer import KEYWORDS
from accord.patterns._observations import Observation, observations_of
from accord.patterns._parser import DEFAULT_LIMITS, Limits, parse, unquote
from accord.patterns._regex import check_regex, compile_regex, required_literal
from accord.patterns._semantics import SCO_PROPERTIES, comparisons, warnings_of
from accord.patterns._triggers import Triggers, confirm_of, is_direct, norm_value, triggers_of
from accord.patterns._values import inet_aton

__all__ = ["Event", "Hit", "Matcher"]


class Event(NamedTuple):
    """One observation from a log: the cheap keys first, the STIX form only on demand."""

    time: float
    """Epoch seconds (first_observed of the observation)."""
    keys: tuple[tuple[str, object], ...]
    """(object path, value) pairs, paths written as in patterns without quotes."""
    observed: Callable[[], list[dict[str, Any]]]
    """Builds the observed-data SDO list (with an embedded ``objects`` dict)."""
    line: int = 0
    """Where it came from (for messages), 0 if unknown."""


class Hit(NamedTuple):
    """An indicator matched: when, and on which events."""

    indicator_id: str
    first_seen: float
    last_seen: float
    events: tuple[Event, ...]


# "[type:prop.'key' = 'value']": the shape of most indicators, read without the parser.
_WS = "[ \t\r\n]*"
_SIMPLE = re.compile(
    r"\[" + _WS + r"([A-Za-z_][A-Za-z0-9_-]*):([A-Za-z_][A-Za-z0-9_]*"
    r"(?:\.(?:[A-Za-z_][A-Za-z0-9_]*|'[^'\\]*'))*)"
    + _WS
    + "="
    + _WS
    + r"'((?:[^'\\]|\\['\\])*)'"
    + _WS
    + r"\]\Z"
)
_SIMPLE_STEP = re.compile(r"\.(?:([A-Za-z_][A-Za-z0-9_]*)|'([^'\\]*)')")


# Object path text -> (key path, whether it needs no warning), or None when the
# text is not a plain path after all (a keyword where a name should be).
_SIMPLE_PATHS: dict[tuple[str, str], tuple[str, bool] | None] = {}
_UNSEEN: Any = object()


def _simple_path(type_: str, path: str) -> tuple[str, bool] | None:
    first, _, rest = path.partition(".")
    names = [type_, first]
    keys = [first]
    for ident, quoted in _SIMPLE_STEP.findall("." + rest if rest else ""):
        if ident:
            names.append(ident)
        keys.append(ident or quoted)
    if any(n in KEYWORDS or n in ("true", "false") for n in names):
        return None
    props = SCO_PROPERTIES.get(type_)
    quiet = props is not None and first in props and first != "hashes"
    return f"{type_}:{'.'.join(keys)}", quiet


def _simple(pattern: str) -> tuple[str, bool, str] | None:
    """(key path, no warning?, value) of ``[type:path = 'value']``, or None otherwise."""
    m = _SIMPLE.match(pattern)
    if m is None:
        return None
    type_, path, literal = m.groups()
    cached = _SIMPLE_PATHS.get((type_, path), _UNSEEN)
    if cached is _UNSEEN:
        cached = _simple_path(type_, path)
        if len(_SIMPLE_PATHS) < 10_000:
            _SIMPLE_PATHS[(type_, path)] = cached
    if cached is None:
        return None
    known: tuple[str, bool] = cached
    key, quiet = known
    if "\\" in literal:
        literal = unquote("'" + literal + "'")
    return key, quiet, literal


class _Entry:
    """An indicator that needs the evaluator (not a direct equality)."""

    __slots__ = (
        "compiled",
        "confirm",
        "span",
        "triggers",
        "types",
        "valid_from",
        "valid_until",
        "window",
    )

    def __init__(
        self,
        compiled: CompiledPattern,
        triggers: Triggers | None,
        valid_from: float | None,
        valid_until: float | None,
        window: deque[tuple[Event, list[Observation]]] | None,
        span: float | None,
        types: tuple[str, ...],
    ) -> None:
        self.compiled = compiled
        self.triggers = triggers
        self.valid_from = valid_from
        self.valid_until = valid_until
        self.window = window
        self.span = span
        self.types = types
        self.confirm: tuple[tuple[str, Any], ...] | None = None


def _ip_int(value: str) -> tuple[int, int] | None:
    """(version, integer) of a plain IP address string, or None."""
    if ":" in value:
        try:
            return 6, int(ipaddress.IPv6Address(value))
        except ValueError:
            return None
    if value.count(".") != 3:
        return None
    number = inet_aton(value)
    return None if number is None else (4, number)


def _needs_window(root: ObservationExpr) -> bool:
    """Whether a match can need more than one event (else each event is tried alone)."""
    if isinstance(root, SimpleObservation):
        return False
    if isinstance(root, Group):
        return _needs_window(root.expr)
    if isinstance(root, Qualified):
        if root.kind == "REPEATS" and root.args[0].text.lstrip("+") != "1":
            return True
        return _needs_window(root.expr)
    assert isinstance(root, ObservationOp)
    if root.op == "OR":
        return _needs_window(root.lhs) or _needs_window(root.rhs)
    return True


def _carried(event: Event) -> set[Any]:
    """The (path, index value) pairs of an event, as a set."""
    out: set[Any] = set()
    for path, value in event.keys:
        with contextlib.suppress(TypeError):  # an unhashable value is no key
            out.add((path, norm_value(path, value)))
    return out


def _add_id(table: dict[Any, Any], key: Any, indicator_id: str) -> None:
    cur = table.get(key)
    if cur is None:
        table[key] = indicator_id
    elif type(cur) is list:
        if indicator_id not in cur:
            cur.append(indicator_id)
    elif cur != indicator_id:
        table[key] = [cur, indicator_id]


def _drop_id(table: dict[Any, Any], key: Any, indicator_id: str) -> None:
    cur = table.get(key)
    if cur is None:
        return
    if type(cur) is list:
        if indicator_id in cur:
            cur.remove(indicator_id)
        if len(cur) == 1:
            table[key] = cur[0]
        elif not cur:
            del table[key]
    elif cur == indicator_id:
        del table[key]


class Matcher:
    """All active indicators compiled into one index; updated incrementally.

    Args:
        limits: complexity limits for :meth:`add`.
        regex_timeout: seconds one MATCHES search may take before the
            indicator is flagged.
        window: how many recent triggering events a multi-observation
            indicator keeps (its bounded state).
        max_steps: the binding work one evaluation may take (pairings of AND and
            FOLLOWEDBY, REPEATS candidates) before the indicator is flagged.
    """

    def __init__(
        self,
        *,
        limits: Limits = DEFAULT_LIMITS,
        regex_timeout: float = 0.05,
        window: int = 64,
        max_steps: int = 100_000,
    ) -> None:
        self.limits = limits
        self.max_steps = max_steps
        self.regex_timeout = regex_timeout
        self.window = window
        self.flagged: dict[str, str] = {}
        self.errors = 0
        """Evaluations skipped because the event's data broke the pattern (counted)."""
        self._eq: dict[str, dict[Any, Any]] = {}
        self._direct: dict[str, Any] = {}  # id -> (path, value) or tuple of them
        self._validity: dict[str, tuple[float | None, float | None]] = {}
        self._entries: dict[str, _Entry] = {}
        self._cidr: dict[str, dict[tuple[int, int], dict[int, Any]]] = {}
        self._regex: dict[str, list[tuple[Callable[[Any], bool], str, str | None]]] = {}
        self._always: dict[str, list[str]] = {}  # object type -> ids without triggers
        # Per event-key path, everything feed() looks at: (equality table, lower-case
        # the value?, CIDR tables, regexes, CIDR answers cache, literal prefilter of the
        # regexes). One lookup per key.
        # (A path with only an equality table maps to the table itself.)
        self._paths: dict[str, Any] = {}

    def _eq_table(self, path: str) -> dict[Any, Any]:
        table = self._eq.get(path)
        if table is None:
            table = self._eq[path] = {}
            self._refresh(path)
        return table

    def _refresh(self, path: str) -> None:
        """Rebuild the feed() entry of one path (after its CIDRs or regexes changed)."""
        eq, cidr, regex = self._eq.get(path), self._cidr.get(path), self._regex.get(path)
        if eq is None and not cidr and not regex:
            self._paths.pop(path, None)
            return
        prefilter = None
        if regex and all(lit for _s, _i, lit in regex):
            # One search for all the literals these regexes need: most values pass none.
            literals = sorted({lit for _s, _i, lit in regex if lit}, key=len, reverse=True)
            prefilter = re.compile("|".join(re.escape(lit) for lit in literals)).search
        lower = "hashes" in path
        if eq is not None and not lower and not cidr and not regex:
            self._paths[path] = eq  # feed() looks the value up at once
        else:
            self._paths[path] = (eq, lower, cidr or None, regex or None, {}, prefilter)

    def __len__(self) -> int:
        return len(self._direct) + len(self._entries)

    def __contains__(self, indicator_id: object) -> bool:
        return indicator_id in self._direct or indicator_id in self._entries

    # -- adding and removing ----------------------------------------------------
    def add_equality(
        self,
        indicator_id: str,
        path: str,
        value: str,
        *,
        valid_from: float | None = None,
        valid_until: float | None = None,
    ) -> None:
        """Add ``[path = 'value']`` without a pattern to read (the fastest way in).

        ``path`` is written as ``Event.keys`` writes it (``file:hashes.SHA-256``).
        """
        if indicator_id in self:
            self.remove(indicator_id)
        value = norm_value(path, value)
        _add_id(self._eq_table(path), value, indicator_id)
        self._direct[indicator_id] = (path, value)
        if valid_from is not None or valid_until is not None:
            self._validity[indicator_id] = (valid_from, valid_until)

    def add(
        self,
        indicator_id: str,
        pattern: str,
        *,
        valid_from: float | None = None,
        valid_until: float | None = None,
    ) -> list[str]:
        """Compile one indicator's pattern into the index (replacing an earlier one).

        Returns:
            Semantic warnings (object paths that are not STIX 2.1, odd hashes).

        Raises:
            PatternSyntaxError: not the STIX 2.1 grammar.
            PatternTooComplex: over a complexity limit, or a risky MATCHES regex.
            PatternMatchError: a literal with no value (e.g. 30 February).
        """
        simple = _simple(pattern) if len(pattern) < 4096 else None
        if simple is not None:
            path, quiet, value = simple
            self.add_equality(
                indicator_id, path, value, valid_from=valid_from, valid_until=valid_until
            )
            return [] if quiet else warnings_of(parse(pattern, self.limits))
        parsed = parse(pattern, self.limits)
        for c in comparisons(parsed.root):
            if isinstance(c, Comparison) and c.op == "MATCHES":
                try:
                    check_regex(unquote(c.value.text), pattern)  # type: ignore[union-attr]
                except re.error as exc:
                    raise PatternMatchError(pattern, f"invalid MATCHES regex: {exc}") from exc
        compiled = CompiledPattern(
            parsed, regex_timeout=self.regex_timeout, max_steps=self.max_steps
        )
        compiled.check()
        warnings = warnings_of(parsed)
        if indicator_id in self:
            self.remove(indicator_id)
        root = parsed.root
        triggers = triggers_of(root)
        if triggers is not None and is_direct(root) and not triggers.regex:
            triggers = Triggers(tuple(dict.fromkeys(triggers.eq)), triggers.cidr)
            self._direct[indicator_id] = triggers
            self._index_keys(indicator_id, triggers)
            if valid_from is not None or valid_until is not None:
                self._validity[indicator_id] = (valid_from, valid_until)
            return warnings
        single = not _needs_window(root)
        span = None
        if isinstance(root, Qualified) and root.kind == "WITHIN":
            span = float(root.args[0].text)
        entry = _Entry(
            compiled,
            triggers,
            valid_from,
            valid_until,
            None if single else deque(maxlen=self.window),
            span,
            tuple(dict.fromkeys(c.path.object_type for c in comparisons(root))),
        )
        entry.confirm = confirm_of(root)
        self._entries[indicator_id] = entry
        self._index(indicator_id, entry)
        return warnings

    def _index(self, indicator_id: str, entry: _Entry) -> None:
        t = entry.triggers
        if t is None:
            for type_ in entry.types:
                self._always.setdefault(type_, []).append(indicator_id)
            return
        self._index_keys(indicator_id, t)
        for path, source in t.regex:
            search = compile_regex(source, "", self.regex_timeout)
            literal = required_literal(source)
            self._regex.setdefault(path, []).append((search, indicator_id, literal))
            self._refresh(path)

    def _index_keys(self, indicator_id: str, t: Triggers) -> None:
        for path, value in t.eq:
            _add_id(self._eq_table(path), value, indicator_id)
        for path, net in t.cidr:
            table = self._cidr.setdefault(path, {}).setdefault((net.version, net.prefixlen), {})
            _add_id(table, int(net.network_address), indicator_id)
            self._refresh(path)

    def remove(self, indicator_id: str) -> None:
        """Take an indicator out of the index (revoked, expired, replaced); no-op if absent."""
        self._validity.pop(indicator_id, None)
        keys = self._direct.pop(indicator_id, None)
        if keys is not None:
            if type(keys) is Triggers:
                self._unindex_keys(indicator_id, keys)
            else:
                path, value = keys
                eq = self._eq.get(path)
                if eq is not None:
                    _drop_id(eq, value, indicator_id)
            return
        entry = self._entries.pop(indicator_id, None)
        if entry is None:
            return
        t = entry.triggers
        if t is None:
            for type_ in entry.types:
                ids = self._always.get(type_, [])
                if indicator_id in ids:
                    ids.remove(indicator_id)
            return
        self._unindex_keys(indicator_id, t)
        for path, _source in t.regex:
            kept = [r for r in self._regex.get(path, []) if r[1] != indicator_id]
            self._regex[path] = kept
            self._refresh(path)

    def _unindex_keys(self, indicator_id: str, t: Triggers) -> None:
        for path, value in t.eq:
            eq = self._eq.get(path)
            if eq is not None:
                _drop_id(eq, value, indicator_id)
        for path, net in t.cidr:
            table = self._cidr.get(path, {}).get((net.version, net.prefixlen))
            if table is not None:
                _drop_id(table, int(net.network_address), indicator_id)
            self._refresh(path)

    # -- matching -------------------------------------------------------------
    def feed(self, event: Event) -> list[Hit]:
        """Match one event against every indicator; the hits (often none)."""
        found = self._found(event)
        if found is None:
            return []
        return self._resolve(event, found)

    def wanted(self, event: Event) -> bool:
        """Whether some indicator's key is in the event (else `feed` would surely give nothing).

        Only lookups, no evaluation: a matcher's copy in another process can tell
        which events this one must be fed (`accord.service` splits big logs so).
        """
        return self._found(event) is not None

    def _found(self, event: Event) -> Any:
        """The indicators the event's keys touch (None: none), with repeats."""
        get = self._paths.get
        found: Any = None
        for path, value in event.keys:
            entry = get(path)
            if entry is None:
                continue
            if type(entry) is dict:  # the common case: an equality table, nothing else
                try:
                    ids = entry.get(value)
                except TypeError:  # an unhashable value (a list, an object) is no key
                    continue
                if ids is not None:
                    if found is None:
                        found = []
                    if type(ids) is list:
                        found.extend(ids)
                    else:
                        found.append(ids)
                continue
            found = self._key(entry, value, found)
        if self._always:
            found = self._untriggered(event, found)
        return found

    def _key(self, entry: tuple[Any, ...], value: Any, found: Any) -> Any:
        """One key of a path with more than a plain equality table."""
        table, lower, cidr, regex, cache, prefilter = entry
        if table is not None:
            try:
                ids = table.get(value.lower() if lower and type(value) is str else value)
            except TypeError:
                return found
            if ids is not None:
                found = (found or []) + (ids if type(ids) is list else [ids])
        if type(value) is not str:
            return found
        if cidr is not None:
            ids = cache.get(value)
            if ids is None:
                ids = self._cidr_lookup(value, cidr, cache)
            if ids:
                found = (found or []) + ids
        if regex is not None:
            if not value.isascii():  # LIKE and MATCHES compare NFC forms
                value = unicodedata.normalize("NFC", value)
            if prefilter is None or prefilter(value) is not None:
                found = self._regex_key(value, regex, found)
        return found

    def _cidr_lookup(self, value: str, cidr: Any, cache: dict[str, Any]) -> list[str]:
        """The CIDR indicators containing one address (one lookup per prefix length)."""
        ids: list[str] = []
        ip = _ip_int(value) if "/" not in value else None
        if ip is not None:
            version, number = ip
            bits = 32 if version == 4 else 128
            for (v, size), nets in cidr.items():
                if v == version:
                    got = nets.get(number >> (bits - size) << (bits - size))
                    if got is not None:
                        ids.extend(got if type(got) is list else (got,))
        if len(cache) >= 65_536:
            cache.clear()
        cache[value] = ids
        return ids

    def _regex_key(self, value: str, regex: Any, found: Any) -> Any:
        """The LIKE/MATCHES triggers of one key value."""
        for search, indicator_id, literal in regex:
            if (literal is not None and literal not in value) or indicator_id in self.flagged:
                continue
            try:
                hit = search(value)
            except PatternTooComplex as exc:
                self.flag(indicator_id, exc.reason)
                continue
            if hit:
                found = (found or []) + [indicator_id]
        return found

    def _untriggered(self, event: Event, found: Any) -> Any:
        """Indicators without triggers, for the object types this event carries."""
        types = {path.partition(":")[0] for path, _ in event.keys}
        for t in types:
            ids = self._always.get(t)
            if ids:
                found = (found or []) + ids
        return found

    def flag(self, indicator_id: str, reason: str) -> None:
        """Take an indicator out of the index, with the reason (``flagged`` keeps it)."""
        self.remove(indicator_id)
        self.flagged[indicator_id] = reason

    def _valid(self, lo: float | None, hi: float | None, t: float) -> bool:
        return (lo is None or t >= lo) and (hi is None or t < hi)

    def _resolve(self, event: Event, found: list[str]) -> list[Hit]:
        hits: list[Hit] = []
        seen: set[str] = set()
        observations: Any = None
        carried: set[Any] | None = None
        t = event.time
        for indicator_id in found:
            if indicator_id in seen:
                continue
            seen.add(indicator_id)
            entry = self._entries.get(indicator_id)
            if entry is None:
                validity = self._validity.get(indicator_id)
                if validity is None or self._valid(validity[0], validity[1], t):
                    hits.append(Hit(indicator_id, t, t, (event,)))
                continue
            if not self._valid(entry.valid_from, entry.valid_until, t):
                continue
            if entry.confirm is not None:
                if carried is None:
                    carried = _carried(event)
                if not any(k in carried for k in entry.confirm):
                    continue
            try:
                if entry.window is None:
                    if observations is None:
                        observations = observations_of(event.observed(), "2.0")
                    if entry.compiled.first(observations) is not None:
                        hits.append(Hit(indicator_id, t, t, (event,)))
                else:
                    hit = self._windowed(indicator_id, entry, event)
                    if hit is not None:
                        hits.append(hit)
            except PatternTooComplex as exc:
                self.flag(indicator_id, exc.reason)
            except PatternError:
                self.errors += 1
        return hits

    def _windowed(self, indicator_id: str, entry: _Entry, event: Event) -> Hit | None:
        window = entry.window
        assert window is not None
        # each event's observations are read once, when it enters the window
        window.append((event, observations_of(event.observed(), "2.0")))
        if entry.span is not None:
            while window and window[0][0].time < event.time - entry.span:
                window.popleft()
        observations: list[Observation] = []
        owners: list[int] = []
        for n, (_e, observed) in enumerate(window):
            observations.extend(observed)
            owners.extend([n] * len(observed))
        binding = entry.compiled.first(observations)
        if binding is None:
            return None
        used = sorted({owners[i] for i, _ in binding})
        events = tuple(window[n][0] for n in used)
        window.clear()
        times = [e.time for e in events]
        return Hit(indicator_id, min(times), max(times), events)
