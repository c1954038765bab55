"""The sensor writers' fast paths against the slow ones they stand for.

The CSV writer writes most rows without the csv module; the indicator reader
decodes only the properties it uses. Each is checked against the general path
on arbitrary text, so a fast path cannot drift from RFC 4180 or from STIX.
"""

from __future__ import annotations

import csv
import io

import orjson
from hypothesis import given
from hypothesis import strategies as st

from accord import formats
from accord.formats._sensors import _clean

text = st.text(st.characters(codec="utf-8"), max_size=30)


@given(value=text, source=text, desc=text, url=text)
def test_csv_rows_are_what_the_csv_module_writes(
    value: str, source: str, desc: str, url: str
) -> None:
    item = formats.Sensed("indicator--1", [("domain", value)], source, desc, url, "")
    out = io.StringIO()
    formats.CsvWriter(out).write(item)
    expected = io.StringIO()
    expected.write(formats.CSV_HEADER)
    row = ["domain", value, "indicator--1", source, _clean(desc), "", url]
    csv.writer(expected, lineterminator="\r\n").writerow(row)
    assert out.getvalue() == expected.getvalue()
    assert list(csv.reader(io.StringIO(out.getvalue(), newline="")))[1] == row


def _indicator(**extra: object) -> bytes:
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--6ed04c1b-250e-5f0f-8310-76baa108b380",
        "created": "2026-12-06T00:00:00.000Z",
        "modified": "2026-12-06T00:00:00.000Z",
        "pattern": "[domain-name:value = 'evil.example']",
        "pattern_type": "stix",
        "valid_from": "2026-12-06T00:00:00.000Z",
        "x_vendor": {"pattern": "[ipv4-addr:value = '1.2.3.4']", "nested": [1, 2]},
        **extra,
    }
    return orjson.dumps(obj)


def test_an_indicator_is_read_from_the_properties_it_needs() -> None:
    data = _indicator(
        created_by_ref="identity--1",
        name="the name",
        external_references=[{"source_name": "a"}, {"source_name": "b", "url": "https://b/x"}],
    )
    got = formats.sensed(data, {"identity--1": "CERT-A"}, "2026-12-07T00:00:00.000Z")
    assert got == formats.Sensed(
        "indicator--6ed04c1b-250e-5f0f-8310-76baa108b380",
        [("domain", "evil.example")],
        "CERT-A",
        "the name",  # no description: the name
        "https://b/x",  # the first reference with a URL
        "",
    )


def test_labels_name_the_source_when_the_producer_is_unknown() -> None:
    got = formats.sensed(_indicator(labels=["botnet"]), {}, "2026")
    assert got is not None and got.source == "botnet"
    got = formats.sensed(_indicator(), {}, "2026")
    assert got is not None and got.source == "accord"


def test_what_a_sensor_cannot_use_is_none() -> None:
    now = "2026-12-07T00:00:00.000Z"
    assert formats.sensed(_indicator(revoked=True), {}, now) is None
    assert formats.sensed(_indicator(valid_until="2026-12-01T00:00:00.000Z"), {}, now) is None
    assert formats.sensed(_indicator(pattern_type="sigma"), {}, now) is None
    assert formats.sensed(_indicator(description=5), {}, now) is None  # not STIX's type
    assert formats.sensed(b"{not json", {}, now) is None
    kept = formats.sensed(_indicator(valid_until="2027-01-01T00:00:00.000Z"), {}, now)
    assert kept is not None and kept.valid_until == "2027-01-01T00:00:00.000Z"
