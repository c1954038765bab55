"""Observables for the value index, and normalising search strings the same way."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.stix import normalize_query, prepare

from .samples import minimal

Obj = dict[str, Any]


def _sco(obj_type: str, **props: Any) -> Obj:
    return {"type": obj_type, "id": f"{obj_type}--8e2e2d2b-17d4-5cbf-938f-98ee46b3cd3f", **props}


_MD5 = "D41D8CD98F00B204E9800998ECF8427E"
_SHA256 = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"

# (SCO, expected observables)
_SCO_CASES: list[tuple[Obj, tuple[tuple[str, str], ...]]] = [
    (_sco("ipv4-addr", value="198.51.100.3/32"), (("ipv4-addr", "198.51.100.3"),)),
    (_sco("ipv4-addr", value="198.51.100.0/24"), (("ipv4-addr", "198.51.100.0/24"),)),
    (
        _sco("ipv6-addr", value="2001:0DB8:0000:0000:0000:0000:0000:0001/128"),
        (("ipv6-addr", "2001:db8::1"),),
    ),
    (_sco("ipv6-addr", value="2001:db8::/32"), (("ipv6-addr", "2001:db8::/32"),)),
    (_sco("domain-name", value="Evil.Example."), (("domain-name", "evil.example"),)),
    (_sco("url", value=" https://Evil.Example/A "), (("url", "https://Evil.Example/A"),)),
    (
        _sco("url", value="Evil.Example"),
        (("domain-name", "evil.example"),),
    ),  # ESET: a bare domain as url
    (_sco("url", value="143.92.48.38"), (("ipv4-addr", "143.92.48.38"),)),
    (_sco("url", value="/dp/B074WC4NHW"), (("url", "/dp/B074WC4NHW"),)),  # no shape: kept as a url
    (_sco("email-addr", value="John.Doe@Example.COM"), (("email-addr", "john.doe@example.com"),)),
    (_sco("mac-addr", value="D2-FB-49-24-37-18"), (("mac-addr", "d2:fb:49:24:37:18"),)),
    (
        _sco("file", name="qwerty.DLL", hashes={"MD5": _MD5, "SHA-256": _SHA256}),
        (("hash", _MD5.lower()), ("hash", _SHA256.lower()), ("file-name", "qwerty.DLL")),
    ),
    (_sco("artifact", payload_bin="aGVsbG8=", hashes={"MD5": _MD5}), (("hash", _MD5.lower()),)),
    (_sco("x509-certificate", hashes={"SHA-256": _SHA256}), (("hash", _SHA256.lower()),)),
    (_sco("mutex", name="__CLEANSWEEP__"), (("mutex", "__CLEANSWEEP__"),)),
    (
        _sco("windows-registry-key", key="HKLM\\Software\\Run"),
        (("windows-registry-key", "hkey_local_machine\\software\\run"),),
    ),
    (_sco("autonomous-system", number=15139), (("autonomous-system", "AS15139"),)),
    (_sco("software", name="Word"), ()),
    (_sco("process", pid=4, command_line="evil.exe"), ()),
    (
        _sco("file", hashes={"MD5": _MD5, "md5": _MD5.lower()}),
        (("hash", _MD5.lower()),),
    ),  # deduplicated
]


@pytest.mark.parametrize(("obj", "expected"), _SCO_CASES)
def test_sco_observables(obj: Obj, expected: tuple[tuple[str, str], ...]) -> None:
    assert prepare(obj).observables == expected


@pytest.mark.parametrize(("obj", "expected"), [c for c in _SCO_CASES if c[1]])
def test_a_search_for_the_raw_value_finds_it(
    obj: Obj, expected: tuple[tuple[str, str], ...]
) -> None:
    """normalize_query turns what a user would type into the stored value."""
    raw = obj.get("value") or obj.get("name") or obj.get("key") or obj.get("number")
    if obj["type"] in ("file", "artifact", "x509-certificate"):
        raw = next(iter(obj["hashes"].values()))
    assert (expected[0][1]) == normalize_query(
        str(raw) if obj["type"] != "autonomous-system" else f"as{raw}"
    )


def test_observed_data_embedded_objects() -> None:
    obj = minimal("observed-data")
    del obj["object_refs"]
    obj["objects"] = {
        "0": {"type": "ipv4-addr", "value": "10.0.0.1"},
        "1": {"type": "network-traffic", "dst_ref": "0", "protocols": ["tcp"]},
        "2": {"type": "file", "hashes": {"SHA-256": _SHA256}, "name": "a.exe"},
        "3": {"type": "domain-name", "value": "a.example"},
    }
    assert prepare(obj).observables == (
        ("ipv4-addr", "10.0.0.1"),
        ("hash", _SHA256.lower()),
        ("file-name", "a.exe"),
        ("domain-name", "a.example"),
    )


def test_indicator_pattern() -> None:
    obj = minimal("indicator") | {
        "pattern": f"[domain-name:value = 'Evil.Example'] OR [file:hashes.MD5 = '{_MD5}']"
    }
    assert prepare(obj).observables == (("domain-name", "evil.example"), ("hash", _MD5.lower()))


def test_non_stix_patterns_give_nothing() -> None:
    obj = minimal("indicator") | {
        "pattern": "[domain-name:value = 'evil.example']",
        "pattern_type": "sigma",
    }
    assert prepare(obj).observables == ()


def test_sdos_give_nothing() -> None:
    assert prepare(minimal("malware") | {"name": "evil.example"}).observables == ()
    assert prepare(minimal("note") | {"content": "1.2.3.4"}).observables == ()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("  Evil.Example.  ", "evil.example"),
        ("xn--80ak6aa92e.com", "xn--80ak6aa92e.com"),
        ("10.0.0.1", "10.0.0.1"),
        ("10.0.0.1/32", "10.0.0.1"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("2001:db8::1/128", "2001:db8::1"),
        ("2001:DB8::/32", "2001:db8::/32"),
        (_MD5, _MD5.lower()),
        ("A" * 40, "a" * 40),
        (_SHA256, _SHA256.lower()),
        ("B" * 128, "b" * 128),
        ("ABCDEF", "ABCDEF"),  # hex, but not a hash length: unknown shape
        ("Admin@Example.COM", "admin@example.com"),
        (" HTTPS://Evil.Example/Path?Q=1 ", "HTTPS://Evil.Example/Path?Q=1"),
        ("D2:FB:49:24:37:18", "d2:fb:49:24:37:18"),
        ("AS64500", "AS64500"),
        ("as 64500", "AS64500"),
        ("HKCU\\Software\\Evil", "hkey_current_user\\software\\evil"),
        ("HKEY_LOCAL_MACHINE\\SYSTEM", "hkey_local_machine\\system"),
        ("  Some Mutex  ", "Some Mutex"),  # unknown: stripped only
        ("", ""),
    ],
)
def test_normalize_query(query: str, expected: str) -> None:
    assert normalize_query(query) == expected


@pytest.mark.data
def test_unit42_simple_indicators_are_found_by_their_value(shared_data: Path) -> None:
    """Every one-equality indicator yields one observable that a search for the raw value hits."""
    simple = re.compile(
        r"\[(domain-name:value|url:value|ipv4-addr:value|file:hashes\.'SHA-256') = '([^'\\]*)'\]\Z"
    )
    checked = 0
    for path in sorted((shared_data / "unit42" / "playbook_json").glob("*.json")):
        for obj in orjson.loads(path.read_bytes())["objects"]:
            m = simple.match(obj.get("pattern", ""))
            if obj["type"] != "indicator" or m is None:
                continue
            record = prepare(obj, bundle_spec_version="2.0")
            assert len(record.observables) == 1, (record.id, obj["pattern"])
            assert record.observables[0][1] == normalize_query(m[2]), obj["pattern"]
            checked += 1
    assert checked > 8_000


@pytest.mark.data
def test_eset_observables(shared_data: Path) -> None:
    kinds: dict[str, int] = {}
    for path in sorted((shared_data / "eset" / "stix21").glob("*.json")):
        for obj in orjson.loads(path.read_bytes())["objects"]:
            for kind, value in prepare(obj).observables:
                kinds[kind] = kinds.get(kind, 0) + 1
                assert value == value.strip()
                if kind in ("hash", "domain-name", "email-addr"):
                    assert value == value.lower()
    # Hashes dominate the ESET events; bare domains and addresses filed under url:value
    # land in their own kinds.
    assert kinds["hash"] > kinds["domain-name"] > 0
    assert kinds["ipv4-addr"] > 0
    assert kinds["url"] > 0
    assert set(kinds) <= {
        "hash",
        "domain-name",
        "ipv4-addr",
        "url",
        "email-addr",
        "file-name",
        "windows-registry-key",
        "mutex",
        "ipv6-addr",
    }


@pytest.mark.parametrize(
    "hostile",
    [
        "a@" + "." * 50_000 + " ",
        "a@b" + ".c" * 50_000 + " ",
        "a." * 50_000 + "1",
        "HKEY_" + "a" * 100_000 + "!",
        ":" * 100_000,
        "a" * 100_000 + "@b",
    ],
)
def test_normalize_query_is_fast_on_hostile_input(hostile: str) -> None:
    started = time.perf_counter()
    assert normalize_query(hostile) == hostile.strip()
    assert time.perf_counter() - started < 0.2


@given(st.text(max_size=80) | st.from_regex(r"[0-9a-fA-F:./]{2,50}", fullmatch=True))
def test_normalize_query_is_total_and_idempotent(text: str) -> None:
    once = normalize_query(text)
    assert isinstance(once, str)
    assert normalize_query(once) == once
