"""The retraction wire format and the pull cursor, as properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.exceptions import InvalidObject
from accord.service import sync
from accord.service._sync_pull import resume_after
from accord.service._sync_retract import tombstone
from accord.stix import parse_timestamp, prepare
from tests.federation.nodes import indicator

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@given(moments, moments, st.text(min_size=1, max_size=40))
def test_a_tombstone_is_a_valid_later_revoked_version_without_the_content(
    modified: datetime, now: datetime, description: str
) -> None:
    current: dict[str, Any] = indicator(
        3,
        modified=_stamp(modified),
        description=description,
        labels=["secret-source"],
        created_by_ref="identity--5a5a0000-0000-4000-8000-000000000001",
    )
    current["created"] = current["modified"]
    tomb = tombstone(current, now)
    record = prepare(tomb)  # valid STIX 2.1 for any client
    assert record.revoked and sync.is_retraction(tomb)
    assert parse_timestamp(tomb["modified"]) > modified
    assert record.version > prepare(current).version
    for gone in ("description", "labels", "name"):
        assert gone not in tomb
    assert tomb["created_by_ref"] == current["created_by_ref"]
    assert tomb["pattern"] == current["pattern"]  # required by the indicator type
    ext = tomb["extensions"][sync.RETRACTION_EXTENSION_ID]
    assert ext == {"extension_type": "property-extension", "retracted": tomb["modified"]}


def test_objects_without_versions_cannot_be_retracted() -> None:
    sco = {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": "ipv4-addr--" + "0" * 8 + "-0000-4000-8000-" + "0" * 12,
        "value": "198.51.100.1",
    }
    with pytest.raises(InvalidObject, match="without versions"):
        tombstone(sco)


def test_the_extension_definition_is_valid_and_stable() -> None:
    record = prepare(sync.EXTENSION_DEFINITION)
    assert record.id == sync.RETRACTION_EXTENSION_ID
    assert orjson.loads(record.data)["extension_types"] == ["property-extension"]


@given(moments)
def test_resume_after_is_one_microsecond_before_the_cursor(moment: datetime) -> None:
    cursor = _stamp(moment)
    after = resume_after(cursor)
    assert after is not None
    assert parse_timestamp(cursor) - parse_timestamp(after) == timedelta(microseconds=1)
    assert resume_after(None) is None
