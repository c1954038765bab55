"""Timestamps: the version key and parse_timestamp."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.stix import parse_timestamp, version_key
from accord.stix._timestamps import epoch_us


@pytest.mark.parametrize(
    ("timestamp", "key"),
    [
        ("2020-01-01T00:00:00Z", "2020-01-01T00:00:00.000000000Z"),
        ("2020-01-01T00:00:00.1Z", "2020-01-01T00:00:00.100000000Z"),
        ("2020-01-01T00:00:00.123Z", "2020-01-01T00:00:00.123000000Z"),
        ("2020-01-01T00:00:00.123456789Z", "2020-01-01T00:00:00.123456789Z"),
        ("2020-01-01T00:00:00.1234567891Z", "2020-01-01T00:00:00.1234567891Z"),  # kept whole
        ("2016-12-31T23:59:60Z", "2016-12-31T23:59:60.000000000Z"),
    ],
)
def test_version_key(timestamp: str, key: str) -> None:
    assert version_key(timestamp) == key


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("2020-01-01", "not a STIX timestamp"),
        ("2020-01-01T00:00:00", "not a STIX timestamp"),
        ("2020-01-01T00:00:00+00:00", "not a STIX timestamp"),
        ("2020-01-01t00:00:00z", "not a STIX timestamp"),
        ("2020-02-30T00:00:00Z", "day 30"),
        ("2020-00-10T00:00:00Z", "month 0"),
        ("2020-01-01T00:00:00.Z", "not a STIX timestamp"),
        (" 2020-01-01T00:00:00Z", "not a STIX timestamp"),
    ],
)
def test_version_key_refuses(bad: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        version_key(bad)


def _stix(d: datetime) -> str:
    """A STIX timestamp of ``d``, with a fraction of 0 to 6 digits."""
    digits = d.microsecond % 7
    fraction = f".{d.microsecond:06d}"[: 1 + digits] if digits else ""
    return d.strftime("-%m-%dT%H:%M:%S").join((f"{d.year:04d}", f"{fraction}Z"))


_stamps = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999)
).map(_stix)


@given(_stamps, _stamps)
def test_version_key_orders_as_time(a: str, b: str) -> None:
    """String order of keys is time order, whatever the fraction's length."""
    assert (version_key(a) < version_key(b)) == (parse_timestamp(a) < parse_timestamp(b))
    assert len(version_key(a)) == 30


def test_parse_timestamp() -> None:
    assert parse_timestamp("2024-05-01T12:00:00Z") == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert parse_timestamp("2024-05-01T12:00:00.123456789Z") == datetime(
        2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC
    )
    assert parse_timestamp(" 2024-05-01 ") == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_timestamp("2016-12-31T23:59:60Z") == datetime(
        2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC
    )
    assert parse_timestamp("2024-02-29").tzinfo is UTC


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("yesterday", "not a STIX timestamp"),
        ("2023-02-29", "day is out of range"),
        ("2023-02-29T00:00:00Z", "day 29"),
        ("0000-01-01T00:00:00Z", "year 0 is out of range"),
        ("2024-05-01T12:00:00+02:00", "not a STIX timestamp"),
    ],
)
def test_parse_timestamp_refuses(bad: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_timestamp(bad)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@given(_stamps, st.sampled_from(["", "60", "123456789"]))
def test_epoch_us_reads_as_parse_timestamp(stamp: str, change: str) -> None:
    """Microseconds since the epoch as parse_timestamp has them (leap seconds too)."""
    if change == "60":
        stamp = stamp[:17] + "60" + stamp[19:]
    elif change and "." in stamp:
        stamp = stamp[:-1] + change + "Z"  # a fraction longer than microseconds
    expected = (parse_timestamp(stamp) - _EPOCH) // timedelta(microseconds=1)
    assert epoch_us(stamp) == expected


def test_epoch_us_refuses_what_is_no_timestamp() -> None:
    for bad in ("2024-01-01", "0000-01-01T00:00:00.000Z", "2024-02-30T00:00:00Z", "x"):
        assert epoch_us(bad) is None, bad
