"""TAXII 2.1 filters (§3.4): typed once, and every malformed value refused with a reason."""

from __future__ import annotations

import pytest

from accord.exceptions import TaxiiBadRequest
from accord.service.taxii import (
    DELETE_FILTERS,
    OBJECT_FILTERS,
    OBJECTS_FILTERS,
    VERSIONS_FILTERS,
    Filters,
    format_us,
    parse_filters,
    timestamp_us,
)

ID1 = "indicator--00000000-0000-4000-8000-000000000001"
ID2 = "malware--00000000-0000-4000-8000-000000000002"


def parse(query: list[tuple[str, str]], allowed: frozenset[str] = OBJECTS_FILTERS) -> Filters:
    return parse_filters(query, allowed, max_page=100)


def test_defaults() -> None:
    f = parse([])
    assert (f.limit, f.added_after, f.after) == (100, None, None)
    assert (f.ids, f.types, f.versions, f.spec_versions) == ((), (), ("last",), ())
    d = parse_filters([], DELETE_FILTERS, max_page=5, default_versions=("all",))
    assert d.versions == ("all",)


def test_every_filter_is_typed() -> None:
    f = parse(
        [
            ("limit", "7"),
            ("added_after", "2024-01-01T00:00:00.000001Z"),
            ("next", "1704067200000002"),
            ("match[id]", f"{ID1}, {ID2},{ID1}"),
            ("match[type]", "indicator,malware"),
            ("match[type]", "tool"),
            ("match[version]", "first,2024-01-01T00:00:00.5Z,last"),
            ("match[spec_version]", "2.1"),
            ("unrelated", "ignored"),
        ]
    )
    assert f.limit == 7
    assert f.added_after == 1704067200000001
    assert f.after == 1704067200000002
    assert f.ids == (ID1, ID2)
    assert f.types == ("indicator", "malware", "tool")
    assert f.versions == ("first", "2024-01-01T00:00:00.500000000Z", "last")
    assert f.spec_versions == ("2.1",)


def test_limit_is_capped() -> None:
    assert parse([("limit", "5000")]).limit == 100
    assert parse([("limit", "9" * 400)]).limit == 100


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("limit", "0", "positive integer"),
        ("limit", "-3", "positive integer"),
        ("limit", "1.5", "positive integer"),
        ("limit", "", "positive integer"),
        ("limit", "٣", "positive integer"),  # a digit, but not an ASCII one
        ("next", "abc", "not a value this server gave"),
        ("next", "9" * 20, "not a value this server gave"),
        ("next", "-1", "not a value this server gave"),
        ("added_after", "2024-01-01", "not a STIX timestamp"),
        ("added_after", "2024-01-01T00:00:00+01:00", "not a STIX timestamp"),
        ("added_after", "2024-02-30T00:00:00Z", "not a STIX timestamp"),
        ("added_after", "0000-01-01T00:00:00Z", "not a STIX timestamp"),
        ("match[id]", "indicator--nope", "not a STIX identifier"),
        ("match[id]", "a,,b", "empty value"),
        ("match[id]", "\x00", "not a STIX identifier"),
        ("match[type]", "Indicator", "not a STIX type name"),
        ("match[version]", "latest", "not last, first, all"),
        ("match[version]", "2024-01-01", "not last, first, all"),
        ("match[spec_version]", "two", "specification version"),
        ("match[colour]", "red", "no such filter"),
        ("match[]", "x", "no such filter"),
    ],
)
def test_malformed_values_are_refused(name: str, value: str, reason: str) -> None:
    with pytest.raises(TaxiiBadRequest, match=reason) as info:
        parse([(name, value)])
    assert info.value.details["parameter"] == name
    assert info.value.status == 400


def test_single_valued_filters_given_twice_are_refused() -> None:
    for name, value in (("limit", "1"), ("next", "5"), ("added_after", "2024-01-01T00:00:00Z")):
        with pytest.raises(TaxiiBadRequest, match="more than once"):
            parse([(name, value), (name, value)])


def test_too_many_values_are_refused() -> None:
    many = ",".join(f"indicator--00000000-0000-4000-8000-{n:012d}" for n in range(1001))
    with pytest.raises(TaxiiBadRequest, match="more than 1000 values"):
        parse([("match[id]", many)])


@pytest.mark.parametrize(
    ("allowed", "name"),
    [
        (OBJECT_FILTERS, "match[id]"),
        (OBJECT_FILTERS, "match[type]"),
        (VERSIONS_FILTERS, "match[version]"),
        (DELETE_FILTERS, "added_after"),
        (DELETE_FILTERS, "limit"),
        (DELETE_FILTERS, "next"),
    ],
)
def test_a_filter_the_endpoint_does_not_take_is_refused(allowed: frozenset[str], name: str) -> None:
    value = {"added_after": "2024-01-01T00:00:00Z", "limit": "1", "next": "1"}.get(name, "x")
    with pytest.raises(TaxiiBadRequest, match="this endpoint does not take it"):
        parse([(name, value)], allowed)


def test_timestamps_round_trip_at_microsecond_precision() -> None:
    us = timestamp_us("added_after", "2024-05-01T12:00:00.123456789Z")
    assert us == 1714564800123456
    assert format_us(us) == "2024-05-01T12:00:00.123456Z"
    assert timestamp_us("t", format_us(us)) == us
