"""Every input fuzzing crashed on, as a test (docs/fuzzing.md, "Regressions found").

Each test runs the input through its target (the contract) and checks what
the fixed code now does with it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import orjson
import pytest
from stix2matcher.matcher import match as reference_match

from accord.exceptions import AgreementInvalid, PatternMatchError, PeerError
from accord.logsources import LogParser, SourceStats
from accord.logsources._stixlines import parse_time
from accord.patterns import match
from accord.policy import Context, Recipient, decide, parse_agreement
from accord.service._foreign import decode_list
from accord.stix import prepare
from accord.taxii._client_retry import parse_retry_after
from accord.taxii.client import MEDIA_TYPE, TaxiiClient
from tests.fuzz import samples, targets


def test_stix_observables_are_a_set_whatever_the_property_order() -> None:
    # Found by `stix` (harness): a file's custom hash keys given out of order index the
    # same values in another order once the bytes are canonical (keys sorted).
    obj = {
        "type": "file",
        "spec_version": "2.1",
        "id": "file--5a27d487-c542-5f97-a065-a8866b477b46",
        "hashes": {"OHA-256": "ca97", "relationship_type": "indicates", "cource_ref": "x"},
    }
    targets.stix(orjson.dumps(obj))
    first = prepare(obj)
    again = prepare(orjson.loads(first.data))
    assert first.data == again.data
    assert first.observables != again.observables  # the order differs ...
    assert set(first.observables) == set(again.observables)  # ... the values do not


@pytest.mark.parametrize("hours", ["inf", "nan", "1e300", "876001"])
def test_agreement_embargo_must_be_a_number_of_hours_up_to_a_century(hours: str) -> None:
    # Found by `agreement`: `embargo_hours = inf` (or 1e300) was taken, and every
    # decision then raised OverflowError computing the cutoff.
    text = f'members = ["a"]\ntlp_ceiling = "red"\nembargo_hours = {hours}\n'
    targets.agreement(text.encode())
    with pytest.raises(AgreementInvalid, match="embargo_hours") as err:
        parse_agreement(text, "a.toml", "a")
    assert err.value.key == "embargo_hours"


def test_agreement_a_century_of_embargo_is_taken() -> None:
    text = 'members = ["a"]\ntlp_ceiling = "red"\nembargo_hours = 876000\n'
    assert parse_agreement(text, "a.toml", "a").embargo_hours == 876000  # type: ignore[union-attr]


def test_embargo_ending_after_the_year_9999_withholds() -> None:
    # Seen while fixing the above: `created` + the embargo past 9999-12-31 overflowed.
    agreement = parse_agreement(
        'members = ["a"]\ntlp_ceiling = "red"\nembargo_hours = 48\n', "a", "a"
    )
    obj = {**samples.OBJECTS[0], "created": "9999-12-31T23:00:00.000Z"}
    obj["modified"] = obj["created"]
    prepare(obj)  # a valid object
    ctx = Context(samples.NODE_IDENTITY)
    decision = decide(obj, agreement, Recipient("a"), ctx, datetime(2026, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]
    assert decision.verdict == "withhold"
    assert any("after 9999-12-31" in r for r in decision.reasons), decision.reasons


@pytest.mark.parametrize("data", [b"\xff\xfe1", b"\xfe\xff\xd8\x00"])
def test_a_cut_utf16_list_is_read_with_its_bad_units_replaced(data: bytes) -> None:
    # Found by `lists`: a UTF-16 byte order mark and an odd byte count raised
    # UnicodeDecodeError out of `accord import-list`.
    targets.lists(data)
    lines, note = decode_list("l.txt", data)
    assert note is not None and "UTF-16" in note and "not all of it" in note
    assert lines == ["\ufffd"]


def _page(body: bytes) -> object:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": MEDIA_TYPE})

    with TaxiiClient("http://peer.invalid", "/api/", transport=httpx.MockTransport(answer)) as c:
        return c.get_objects("collection--x")


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'"x"',
        b'{"objects": 5}',
        b'{"objects": [], "more": "yes"}',
        b'{"objects": [], "more": true, "next": 5}',
    ],
)
def test_a_peer_page_that_is_no_envelope_is_a_peer_error(body: bytes) -> None:
    # Found by `taxii_envelope`: a peer answering `[]` or `{"objects": 5}` raised
    # AttributeError or TypeError out of the client, not PeerError.
    targets.taxii_envelope(body)
    with pytest.raises(PeerError):
        _page(body)


def test_a_peer_envelope_is_still_read() -> None:
    page = _page(orjson.dumps({"objects": samples.OBJECTS[:2], "more": True, "next": "12"}))
    assert page.objects == samples.OBJECTS[:2] and page.more and page.next == "12"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "seconds", ["99999999999999999999", "99999999999999999999.5", "400000000000"]
)
def test_within_longer_than_any_span_takes_in_every_span(seconds: str) -> None:
    # Found by `pattern_match`: WITHIN 99999999999999999999 SECONDS raised OverflowError.
    pattern = (
        "([ipv4-addr:value = '198.51.100.7'] AND [domain-name:value = 'a.example'])"
        f" WITHIN {seconds} SECONDS"
    )
    targets.pattern_match(pattern.encode() + b"\n[]")
    observed = [
        {
            "type": "observed-data",
            "id": f"observed-data--b67d30ff-02ac-498a-92f9-32f845f448c{n}",
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z",
            "first_observed": stamp,
            "last_observed": stamp,
            "number_observed": 1,
            "objects": {"0": obj},
        }
        for n, (stamp, obj) in enumerate(
            [
                ("0001-01-01T00:00:00Z", {"type": "ipv4-addr", "value": "198.51.100.7"}),
                ("9999-12-31T23:59:59Z", {"type": "domain-name", "value": "a.example"}),
            ]
        )
    ]
    # (The reference matcher overflows on these itself: no oracle here.)
    found = match(pattern, observed, stix_version="2.0")
    assert len(found) == 2
    short = pattern.replace(seconds, "1")
    assert match(short, observed, stix_version="2.0") == []
    assert reference_match(short, observed, False, "2.0") == []


@pytest.mark.parametrize("value", ["1\u00b20", "\u0661\u0662", "\u00b2"])
def test_retry_after_takes_ascii_digits_only(value: str) -> None:
    # Found by `taxii_query`: a peer's `Retry-After: 1²0` passed str.isdigit() and
    # raised ValueError out of the client's retry loop.
    targets.taxii_query(value.encode("latin-1", "replace") + b"\nlimit=1")
    assert parse_retry_after(value) is None
    assert parse_retry_after(" 120 ") == 120.0


@pytest.mark.parametrize(
    "meta",
    [
        {"last_observed": "2025-91-01T10:00:05.000Z"},
        {"first_observed": 7},
        {"number_observed": "2"},
    ],
)
def test_observed_data_with_a_bad_time_or_count_is_a_pattern_match_error(
    meta: dict[str, object],
) -> None:
    # Found by `pattern_match`: last_observed "2025-91-01..." raised ValueError (a
    # string number_observed TypeError) out of match(); observed data is untrusted.
    sdo = {
        "type": "observed-data",
        "id": "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
        "created": "2025-01-01T10:00:00.000Z",
        "modified": "2025-01-01T10:00:00.000Z",
        "first_observed": "2025-01-01T10:00:00.000Z",
        "last_observed": "2025-01-01T10:00:05.000Z",
        "number_observed": 1,
        "objects": {"0": {"type": "ipv4-addr", "value": "198.51.100.7"}},
        **meta,
    }
    pattern = "[ipv4-addr:value = '198.51.100.7']"
    targets.pattern_match(pattern.encode() + b"\n" + orjson.dumps([sdo]))
    with pytest.raises(PatternMatchError, match="observ"):
        match(pattern, [sdo], stix_version="2.0")


@pytest.mark.parametrize(
    "objects",
    [
        [{"id": "ipv4-addr--4d22aae0-2bf9-5427-8819-e4f6abf20a53"}],
        [{"type": "ipv4-addr", "value": "198.51.100.7"}],
        [7],
        {"type": "ipv4-addr"},
        [{"type": "observed-data", "object_refs": "ipv4-addr--x"}],
        [
            {
                "type": "observed-data",
                "first_observed": "2025-01-01T00:00:00Z",
                "last_observed": "2025-01-01T00:00:00Z",
                "number_observed": 1,
                "object_refs": ["ipv4-addr--4d22aae0-2bf9-5427-8819-e4f6abf20a53"],
            },
            {
                "type": "ipv4-addr",
                "id": "ipv4-addr--4d22aae0-2bf9-5427-8819-e4f6abf20a53",
                "value": "198.51.100.7",
            },
        ],
    ],
)
def test_a_bundle_of_the_wrong_shape_is_a_pattern_match_error(objects: object) -> None:
    # Found by `pattern_match`: an object without `type` in a bundle raised KeyError
    # out of match() (no `id`, even on the observed-data: KeyError; not a list or not
    # objects: TypeError).
    bundle: dict[str, object] = {"type": "bundle", "objects": objects}
    bundle["id"] = "bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    pattern = "[ipv4-addr:value = '198.51.100.7']"
    targets.pattern_match(pattern.encode() + b"\n" + orjson.dumps([bundle]))
    with pytest.raises(PatternMatchError):
        match(pattern, [bundle])


@pytest.mark.parametrize("separator", [b"\\x{", b"\\x0", b"\\"])
def test_a_zeek_separator_that_is_no_escape_is_a_malformed_line(separator: bytes) -> None:
    # Found by `zeek`: "#separator \x{" raised UnicodeDecodeError out of LogParser.feed.
    data = b"#separator " + separator + b"\n#fields\tts\tid.orig_h\n1764547200.0\t10.0.0.5\n"
    targets.zeek(data)
    stats = SourceStats()
    parser = LogParser("z.log", "zeek", stats=stats)
    events = [parser.feed(raw, n) for n, raw in enumerate(data.splitlines(), 1)]
    assert stats.skipped["malformed"] == 1
    assert events[2] is not None  # the tab separator stays, the data line is read


def test_an_eve_event_type_that_is_no_string_is_counted_as_other() -> None:
    # Found by `eve`: "event_type": {...} raised TypeError (unhashable) out of feed().
    line = (
        b'{"timestamp":"2026-12-01T00:00:00.123456+0000","event_type":{"a":1},"src_ip":"10.0.0.5"}'
    )
    targets.eve(line)
    stats = SourceStats()
    event = LogParser("eve.json", "eve", stats=stats).feed(line, 1)
    assert event is not None and stats.formats["eve other"] == 1


@pytest.mark.parametrize(
    "ts", [b"1764549720.e07200", b"nan", b"inf", b"1e300", b"-1e20", b"9" * 400]
)
def test_a_time_no_stix_timestamp_can_say_is_malformed(ts: bytes) -> None:
    # Found by `csv`: a time of "1764549720.e07200" (inf) was taken, and building the
    # event's observed-data raised ValueError (NaN); Zeek's ts and JSON times alike.
    line = ts + b",198.51.100.7,4444,a.example,https://a.example/\n"
    targets.csv(line)
    assert parse_time(ts.decode()) is None
    stats = SourceStats()
    parser = LogParser("z.log", "zeek", stats=stats)
    for n, raw in enumerate([b"#fields\tts\tid.orig_h\n", ts + b"\t10.0.0.5\n"], 1):
        assert parser.feed(raw, n) is None
    assert stats.skipped["malformed"] == 1
