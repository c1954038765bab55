"""STIX timestamps (STIX 2.1 §2.15) and the version key built from them.

A STIX timestamp is RFC 3339 in UTC with the ``Z`` designator and an optional
fraction of a second of any length: ``YYYY-MM-DDTHH:MM:SS[.s+]Z``. ``created``
and ``modified`` must carry at least millisecond precision (§3.2), which
:func:`fraction_digits` lets the validator check.

The version key is the timestamp with its fraction right-padded with zeros to
nine digits, so that plain string comparison orders versions (the newest
version of an object is the one with the latest ``modified``). A fraction longer than nine
digits is kept whole; such timestamps order correctly against each other only
up to the ninth digit, which no real producer exceeds.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = [
    "GOOD",
    "epoch_us",
    "fraction_digits",
    "key_of",
    "parse_timestamp",
    "timestamp_key",
    "timestamp_problem",
    "version_key",
]

# Ranges are in the expression; only "day exists in that month" is left to code.
_TS_RE = re.compile(
    r"(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"T([01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)(?:\.(\d+))?Z\Z"
)
_LOOSE_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z\Z")
_DATE_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)\Z")
_MONTH_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_KEY_DIGITS = 9

# Timestamps repeat heavily inside a bundle (created == modified, one import
# time for thousands of objects); remember the good ones with their version key.
# Bounded so that a hostile stream cannot grow it without end.
GOOD: dict[str, str] = {}
_CACHE_LIMIT = 100_000


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def timestamp_key(value: str) -> str | None:
    """Check a STIX timestamp and return its version key.

    Args:
        value: the string to check.

    Returns:
        The version key (see :func:`version_key`), or None when ``value`` is not
        a valid STIX timestamp.
    """
    key = GOOD.get(value)
    if key is not None:
        return key
    m = _TS_RE.match(value)
    if m is None:
        return None
    day = int(m[3])
    if day > 28:
        month = int(m[2])
        if day > _MONTH_DAYS[month] or (month == 2 and day == 29 and not _is_leap(int(m[1]))):
            return None
    key = key_of(value)
    if len(GOOD) >= _CACHE_LIMIT:
        GOOD.clear()
    GOOD[value] = key
    return key


def fraction_digits(value: str) -> int:
    """How many digits a timestamp's fraction of a second has; -1 if it is not a timestamp."""
    if timestamp_key(value) is None:
        return -1
    # The fixed part YYYY-MM-DDTHH:MM:SS is 19 characters; then ".digits" and "Z".
    return len(value) - 21 if value[19] == "." else 0


def timestamp_problem(value: object) -> str:
    """Explain in plain words why ``value`` is not a STIX timestamp (slow path)."""
    if type(value) is not str:
        return f"must be a timestamp string, not {type(value).__name__}"
    m = _LOOSE_RE.match(value)
    if m is None:
        return f"{value!r} is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.fraction]Z, in UTC)"
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    if not 1 <= month <= 12:
        return f"{value!r}: month {month} does not exist"
    if day < 1 or day > _MONTH_DAYS[month] or (month == 2 and day == 29 and not _is_leap(year)):
        return f"{value!r}: day {day} does not exist in {year}-{month:02d}"
    if hour > 23:
        return f"{value!r}: hour {hour} is out of range 00-23"
    if minute > 59:
        return f"{value!r}: minute {minute} is out of range 00-59"
    if second > 60:
        return f"{value!r}: second {second} is out of range 00-60"
    return f"{value!r} is not a STIX timestamp"  # not reached: the loose form is the strict one


def key_of(value: str) -> str:
    """The version key of a timestamp already known to be valid (uncached)."""
    dot = value.find(".", 19)
    if dot < 0:
        return value[:-1] + ".000000000Z"
    pad = _KEY_DIGITS - (len(value) - dot - 2)
    if pad <= 0:
        return value
    return value[:-1] + "0" * pad + "Z"


def version_key(timestamp: str) -> str:
    """Normalise a STIX timestamp to the fixed-width version key.

    Args:
        timestamp: a valid STIX timestamp such as ``2020-01-01T00:00:00.1Z``.

    Returns:
        The timestamp with a nine-digit fraction, e.g. ``2020-01-01T00:00:00.100000000Z``;
        a longer fraction is kept whole.

    Raises:
        ValueError: ``timestamp`` is not a valid STIX timestamp.
    """
    key = timestamp_key(timestamp) if type(timestamp) is str else None
    if key is None:
        raise ValueError(timestamp_problem(timestamp))
    return key


def parse_timestamp(value: str) -> datetime:
    """Parse a STIX timestamp (or a bare ``YYYY-MM-DD`` date) into an aware UTC datetime.

    A leap second (``:60``) becomes ``:59.999999``; a fraction beyond microseconds
    is truncated, as :class:`datetime` cannot hold it.

    Args:
        value: e.g. ``2024-05-01T12:00:00Z``, ``2024-05-01T12:00:00.123Z`` or ``2024-05-01``.

    Raises:
        ValueError: with the reason, when ``value`` is neither form or names a
            date that does not exist.
    """
    if type(value) is not str:
        raise ValueError(timestamp_problem(value))
    text = value.strip()
    d = _DATE_RE.match(text)
    if d is not None:
        try:
            return datetime(int(d[1]), int(d[2]), int(d[3]), tzinfo=UTC)
        except ValueError as exc:
            raise ValueError(f"{value!r}: {exc}") from None
    digits = fraction_digits(text)
    if digits < 0:
        raise ValueError(timestamp_problem(text))
    m = _LOOSE_RE.match(text)
    assert m is not None  # fraction_digits accepted it
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    micro = int((m[7] or "0")[:6].ljust(6, "0"))
    if second == 60:
        second, micro = 59, 999_999
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError as exc:  # year 0000, which RFC 3339 allows and datetime does not
        raise ValueError(f"{value!r}: {exc}") from None


_EPOCH_NAIVE = datetime(1970, 1, 1)
_US = timedelta(microseconds=1)


def epoch_us(value: str) -> int | None:
    """A STIX timestamp as microseconds since the Unix epoch, as `parse_timestamp` reads it.

    A leap second (``:60``) is ``:59.999999`` and a fraction beyond microseconds
    is cut off, so the whole seconds order as the first 19 characters of the
    text do.

    Args:
        value: the string to read.

    Returns:
        The microseconds, or None when ``value`` is not a STIX timestamp with a
        time of day (a bare date is not), or names year 0000.
    """
    key = timestamp_key(value)
    if key is None:
        return None
    # The version key has a nine-digit fraction: its first 26 characters are ISO 8601
    # to the microsecond, which datetime reads at C speed.
    try:
        return (datetime.fromisoformat(key[:26]) - _EPOCH_NAIVE) // _US
    except ValueError:
        if key[17:19] != "60":
            return None  # year 0000: RFC 3339 allows it, datetime (and parse_timestamp) not
    try:
        return (datetime.fromisoformat(key[:17] + "59.999999") - _EPOCH_NAIVE) // _US
    except ValueError:
        return None
