"""The compiled Matcher: indexes, windows, validity, incremental updates, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.exceptions import PatternMatchError, PatternSyntaxError, PatternTooComplex
from accord.patterns import Event, Hit, Matcher, match


def _ts(t: float) -> str:
    whole = int(t)
    return f"2020-01-01T00:{whole // 60:02d}:{whole % 60:02d}Z"


def _event(t: float, objects: dict[str, dict[str, Any]]) -> Event:
    """An event whose keys are every path and value its objects carry (the contract)."""
    keys: list[tuple[str, object]] = []
    for obj in objects.values():
        type_ = obj["type"]
        for prop, value in obj.items():
            if prop == "type":
                continue
            if prop.endswith("_ref") and value in objects:
                ref = objects[value]
                for k, v in ref.items():
                    if isinstance(v, list):
                        keys.extend((f"{type_}:{prop}.{k}[*]", x) for x in v)
                    elif k != "type":
                        keys.append((f"{type_}:{prop}.{k}", v))
            elif isinstance(value, list):
                keys.extend((f"{type_}:{prop}[*]", v) for v in value)
            elif isinstance(value, dict):
                keys.extend((f"{type_}:{prop}.{k}", v) for k, v in value.items())
            else:
                keys.append((f"{type_}:{prop}", value))
    sdo = {
        "type": "observed-data",
        "id": "observed-data--1",
        "first_observed": _ts(t),
        "last_observed": _ts(t),
        "number_observed": 1,
        "objects": objects,
    }
    return Event(t, tuple(keys), lambda: [sdo])


def _ids(hits: list[Hit]) -> set[str]:
    return {h.indicator_id for h in hits}


_DOMAIN: dict[str, dict[str, Any]] = {"0": {"type": "domain-name", "value": "evil.example"}}
_CONN: dict[str, dict[str, Any]] = {
    "0": {"type": "ipv4-addr", "value": "10.1.2.3"},
    "1": {"type": "ipv4-addr", "value": "192.0.2.9"},
    "2": {
        "type": "network-traffic",
        "src_ref": "0",
        "dst_ref": "1",
        "dst_port": 443,
        "protocols": ["tcp"],
    },
}


def test_equality_hits_and_incremental_updates() -> None:
    m = Matcher()
    assert m.add("i--1", "[domain-name:value = 'evil.example']") == []
    m.add("i--2", "[domain-name:value = 'other.example']")
    m.add_equality("i--3", "domain-name:value", "evil.example")
    assert len(m) == 3
    hits = m.feed(_event(1, _DOMAIN))
    assert _ids(hits) == {"i--1", "i--3"}
    assert all(h.first_seen == h.last_seen == 1 and len(h.events) == 1 for h in hits)
    m.remove("i--1")
    assert _ids(m.feed(_event(2, _DOMAIN))) == {"i--3"}
    # replacing an indicator's pattern drops its old keys
    m.add("i--3", "[domain-name:value = 'third.example']")
    assert m.feed(_event(3, _DOMAIN)) == []
    assert len(m) == 2
    m.remove("i--404")  # absent: no error


def test_hash_values_match_whatever_their_case() -> None:
    m = Matcher()
    m.add("i--h", "[file:hashes.'SHA-256' = 'ABCDEF']")
    event = _event(1, {"0": {"type": "file", "hashes": {"SHA-256": "abcdef"}}})
    assert _ids(m.feed(event)) == {"i--h"}


def test_valid_from_and_valid_until_are_honoured() -> None:
    m = Matcher()
    m.add("i--v", "[domain-name:value = 'evil.example']", valid_from=10, valid_until=20)
    m.add("i--w", "[domain-name:value LIKE 'evil.%']", valid_from=10, valid_until=20)
    assert m.feed(_event(5, _DOMAIN)) == []
    assert _ids(m.feed(_event(10, _DOMAIN))) == {"i--v", "i--w"}
    assert m.feed(_event(20, _DOMAIN)) == []  # valid_until is exclusive


def test_cidr_index_ipv4_and_ipv6() -> None:
    m = Matcher()
    m.add("i--net", "[ipv4-addr:value ISSUBSET '10.0.0.0/8']")
    m.add("i--host", "[ipv4-addr:value ISSUBSET '10.1.2.3/32']")
    m.add("i--other", "[ipv4-addr:value ISSUBSET '172.16.0.0/12']")
    m.add("i--v6", "[ipv6-addr:value ISSUBSET '2001:db8::/32']")
    assert _ids(m.feed(_event(1, _CONN))) == {"i--net", "i--host"}
    v6 = _event(2, {"0": {"type": "ipv6-addr", "value": "2001:db8::5"}})
    assert _ids(m.feed(v6)) == {"i--v6"}
    m.remove("i--net")
    assert _ids(m.feed(_event(3, _CONN))) == {"i--host"}


def test_like_matches_and_references_are_evaluated_on_candidates() -> None:
    m = Matcher()
    m.add("i--like", "[domain-name:value LIKE '%.example']")
    m.add("i--re", "[domain-name:value MATCHES '^ev[a-z]+\\\\.']")
    m.add(
        "i--ref", "[network-traffic:dst_ref.value = '192.0.2.9' AND network-traffic:dst_port = 443]"
    )
    m.add(
        "i--no", "[network-traffic:dst_ref.value = '192.0.2.9' AND network-traffic:dst_port = 80]"
    )
    assert _ids(m.feed(_event(1, _DOMAIN))) == {"i--like", "i--re"}
    assert _ids(m.feed(_event(2, _CONN))) == {"i--ref"}


def test_indicators_without_cheap_keys_are_evaluated_by_object_type() -> None:
    m = Matcher()
    m.add("i--port", "[network-traffic:dst_port > 400]")
    m.add("i--not", "[domain-name:value != 'good.example']")
    assert _ids(m.feed(_event(1, _CONN))) == {"i--port"}
    assert _ids(m.feed(_event(2, _DOMAIN))) == {"i--not"}


def test_followedby_and_within_use_a_bounded_window() -> None:
    m = Matcher(window=4)
    pattern = "([ipv4-addr:value = '10.1.2.3'] FOLLOWEDBY [domain-name:value = 'evil.example'])"
    m.add("i--seq", pattern + " WITHIN 30 SECONDS")
    assert m.feed(_event(100, _DOMAIN)) == []  # the right side first: no match
    assert m.feed(_event(110, _CONN)) == []
    hits = m.feed(_event(120, _DOMAIN))
    assert _ids(hits) == {"i--seq"}
    assert (hits[0].first_seen, hits[0].last_seen) == (110, 120)
    assert [e.time for e in hits[0].events] == [110, 120]
    # too far apart: the window drops the old event
    assert m.feed(_event(200, _CONN)) == []
    assert m.feed(_event(300, _DOMAIN)) == []
    # the window holds at most `window` events whatever arrives
    for t in range(400, 420):
        m.feed(_event(t, _DOMAIN))
    entry = m._entries["i--seq"]
    assert entry.window is not None and len(entry.window) <= 4


def test_repeats_counts_distinct_events() -> None:
    m = Matcher()
    m.add("i--rep", "[domain-name:value = 'evil.example'] REPEATS 3 TIMES")
    assert m.feed(_event(1, _DOMAIN)) == []
    assert m.feed(_event(2, _DOMAIN)) == []
    hits = m.feed(_event(3, _DOMAIN))
    assert _ids(hits) == {"i--rep"} and len(hits[0].events) == 3


def test_bad_patterns_are_refused_at_add() -> None:
    m = Matcher()
    with pytest.raises(PatternSyntaxError):
        m.add("i--bad", "[domain-name:value = ]")
    with pytest.raises(PatternTooComplex, match="nesting"):
        m.add("i--deep", "(" * 100 + "[domain-name:value = 'x']" + ")" * 100)
    with pytest.raises(PatternTooComplex, match="nested repetition"):
        m.add("i--cat", "[domain-name:value MATCHES '^(a+)+$']")
    with pytest.raises(PatternTooComplex, match="back-references"):
        m.add("i--br", "[domain-name:value MATCHES '(a)\\\\1']")
    with pytest.raises(PatternMatchError, match="invalid MATCHES regex"):
        m.add("i--re", "[domain-name:value MATCHES '(']")
    assert len(m) == 0
    # semantic warnings, the indicator still matchable
    warnings = m.add("i--odd", "[domian-name:value = 'evil.example']")
    assert warnings and "not a STIX 2.1 cyber-observable type" in warnings[0]
    odd = _event(1, {"0": {"type": "domian-name", "value": "evil.example"}})
    assert _ids(m.feed(odd)) == {"i--odd"}


def test_a_slow_regex_is_flagged_not_stalling() -> None:
    m = Matcher(regex_timeout=1e-6)
    m.add("i--slow", "[url:value MATCHES '([a-d])*e']")
    m.add("i--fine", "[url:value = 'http://x/']")
    long_url = {"0": {"type": "url", "value": "abcd" * 250_000}}
    assert m.feed(_event(1, long_url)) == []
    assert "i--slow" in m.flagged and "took over" in m.flagged["i--slow"]
    assert "i--slow" not in m
    assert _ids(m.feed(_event(2, {"0": {"type": "url", "value": "http://x/"}}))) == {"i--fine"}


# -- the Matcher agrees with match() on single events ----------------------------------

_VALUES = st.sampled_from(["a", "ab", "10.0.0.1", 1, 443])


@st.composite
def _objects(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    objs: dict[str, dict[str, Any]] = {}
    for i in range(draw(st.integers(1, 3))):
        obj: dict[str, Any] = {"type": draw(st.sampled_from(["t", "u"]))}
        for prop in draw(st.sets(st.sampled_from(["p", "q"]), max_size=2)):
            # (an empty list gives no key: events are keyed by what they carry)
            obj[prop] = (
                draw(_VALUES)
                if draw(st.booleans())
                else draw(st.lists(_VALUES, min_size=1, max_size=2))
            )
        if i and draw(st.booleans()):
            obj["x_ref"] = "0"
        objs[str(i)] = obj
    return objs


_COMPARISON = st.sampled_from(
    [
        "t:p = 'a'",
        "t:p = 1",
        "u:q[*] = 'ab'",
        "t:q[0] = 'a'",
        "t:p IN ('a', 'ab')",
        "u:p != 'a'",
        "t:p LIKE 'a%'",
        "u:p MATCHES 'b$'",
        "t:p ISSUBSET '10.0.0.0/8'",
        "u:x_ref.p = 'a'",
        "t:p > 2",
        "NOT t:p = 'a'".replace("NOT t:p", "t:p NOT"),
    ]
)


@st.composite
def _single(draw: st.DrawFn) -> str:
    first = draw(_COMPARISON)
    rest = draw(st.lists(st.tuples(st.sampled_from(["AND", "OR"]), _COMPARISON), max_size=2))
    return "[" + first + "".join(f" {op} {c}" for op, c in rest) + "]"


@settings(max_examples=200, deadline=None)
@given(st.lists(_single(), min_size=1, max_size=4), _objects())
def test_feed_hits_exactly_what_match_finds(patterns: list[str], objects: dict[str, Any]) -> None:
    m = Matcher()
    for n, p in enumerate(patterns):
        m.add(f"i--{n}", p)
    event = _event(1, objects)
    expected = set()
    for n, p in enumerate(patterns):
        try:
            if match(p, event.observed(), False, "2.0"):
                expected.add(f"i--{n}")
        except ValueError:
            pass
    assert _ids(m.feed(event)) == expected


def test_a_subset_hit_beside_a_value_that_is_not_an_address_is_no_hit() -> None:
    # The reference raises on 'a' (not an address) instead of matching 10.0.0.1:
    # an error is no match, so the CIDR index's candidate must be confirmed.
    pattern = "[t:p ISSUBSET '10.0.0.0/8']"
    objects = {"0": {"type": "t", "p": "a"}, "1": {"type": "t", "p": "10.0.0.1"}}
    m = Matcher()
    m.add("i--net", pattern)
    event = _event(1, objects)
    with pytest.raises(ValueError, match="a"):
        match(pattern, event.observed(), False, "2.0")
    assert m.feed(event) == []
    alone = _event(2, {"1": objects["1"]})
    assert match(pattern, alone.observed(), False, "2.0") and _ids(m.feed(alone)) == {"i--net"}


def test_the_evaluator_runs_only_when_every_side_of_an_and_has_its_key() -> None:
    m = Matcher()
    m.add("i--port", "[network-traffic:dst_port = 443]")  # a key hit is proof enough
    m.add("i--never", "[network-traffic:dst_port = 443 AND network-traffic:dst_port = 80]")
    m.add("i--both", "[network-traffic:dst_port = 443 AND network-traffic:protocols[*] = 'tcp']")
    event = _event(1, _CONN)
    calls: list[int] = []

    def counted() -> list[dict[str, Any]]:
        calls.append(1)
        return event.observed()

    hits = m.feed(event._replace(observed=counted))
    assert _ids(hits) == {"i--port", "i--both"}
    assert len(calls) == 1  # only for i--both: i--never lacks port 80, i--port needs none


def _parsed_equality(pattern: str) -> tuple[str, str] | None:
    from accord.patterns import parse
    from accord.patterns._ast import Comparison, Literal, SimpleObservation
    from accord.patterns._parser import unquote

    try:
        root = parse(pattern).root
    except PatternSyntaxError:
        return None
    if not isinstance(root, SimpleObservation) or not isinstance(root.expr, Comparison):
        return None
    c = root.expr
    if c.op != "=" or c.negated or not isinstance(c.value, Literal) or c.value.kind != "str":
        return None
    return c.path.key(), unquote(c.value.text)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["file", "x-y", "AND", "true", "t", "a_b"]),
    st.lists(st.sampled_from(["name", "'SHA-256'", "OR", "false", "'a.b'", "v_2"]), min_size=1),
    st.text(alphabet="ab'\\ .%", max_size=6),
)
def test_the_shortcut_for_simple_patterns_reads_what_the_parser_reads(
    type_: str, steps: list[str], body: str
) -> None:
    from accord.patterns._index import _simple

    pattern = f"[{type_}:{'.'.join(steps)} = '{body}']"
    quick = _simple(pattern)
    full = _parsed_equality(pattern)
    if quick is not None:
        assert full == (quick[0], quick[2]), pattern
    elif full is not None:
        # only shapes the shortcut does not claim may fall through to the parser
        assert "'" in steps[0] or "\\" in body or "'" in body, pattern


def test_an_evaluation_over_its_step_budget_is_flagged() -> None:
    m = Matcher(max_steps=50)
    pair = "[domain-name:value = 'evil.example'] AND [domain-name:value = 'evil.example']"
    m.add("i--big", f"({pair}) REPEATS 5 TIMES")
    m.add("i--small", "[domain-name:value = 'evil.example']")
    for t in range(30):
        hits = m.feed(_event(t, _DOMAIN))
        assert "i--small" in _ids(hits)
    assert "i--big" in m.flagged and "steps" in m.flagged["i--big"]
    assert "i--big" not in m
    # with room enough the same pattern hits (ten distinct events)
    roomy = Matcher()
    roomy.add("i--big", f"({pair}) REPEATS 5 TIMES")
    assert any(roomy.feed(_event(t, _DOMAIN)) for t in range(10))


def test_qualifiers_on_one_observation_need_no_window() -> None:
    m = Matcher()
    start_stop = "START t'2020-01-01T00:00:00Z' STOP t'2020-01-01T00:01:00Z'"
    m.add("i--in", f"[domain-name:value = 'evil.example'] {start_stop}")
    m.add("i--or", "[domain-name:value = 'evil.example'] OR [ipv4-addr:value = '10.9.9.9']")
    assert m._entries["i--in"].window is None and m._entries["i--or"].window is None
    assert _ids(m.feed(_event(30, _DOMAIN))) == {"i--in", "i--or"}
    assert _ids(m.feed(_event(90, _DOMAIN))) == {"i--or"}  # after STOP
