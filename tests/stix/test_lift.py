"""Lifting STIX 2.0 objects to 2.1."""

from __future__ import annotations

import copy
import re
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
import stix2

from accord.stix import prepare

from .samples import IDENTITY, T, minimal

Obj = dict[str, Any]
_STIX_DIR = Path(__file__).resolve().parents[2] / "src" / "accord" / "stix"
NOTE = "lifted from STIX 2.0: "


def _v20(obj_type: str, **props: Any) -> Obj:
    """A STIX 2.0 object: no spec_version."""
    return {
        "type": obj_type,
        "id": f"{obj_type}--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": T,
        "modified": T,
        **props,
    }


def _lifted(obj: Obj, bundle_spec_version: str | None = "2.0") -> tuple[Obj, tuple[str, ...]]:
    record = prepare(obj, bundle_spec_version=bundle_spec_version)
    lifted = orjson.loads(record.data)
    assert lifted["spec_version"] == "2.1"
    assert record.spec_version == "2.1"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stix2.parse(lifted, allow_custom=True, version="2.1")  # the OASIS library agrees
    return lifted, record.notes


def test_indicator() -> None:
    obj = _v20(
        "indicator", labels=["malicious-activity"], pattern="[url:value = 'x']", valid_from=T
    )
    lifted, notes = _lifted(obj)
    assert lifted["indicator_types"] == ["malicious-activity"]
    assert "labels" not in lifted
    assert lifted["pattern_type"] == "stix"
    assert notes == (
        NOTE + "spec_version '2.1' added",
        NOTE + "labels → indicator_types",
        NOTE + "pattern_type 'stix' added",
    )


def test_indicator_keeps_its_pattern_type() -> None:
    obj = _v20(
        "indicator", labels=["x"], pattern="alert tcp any", pattern_type="snort", valid_from=T
    )
    lifted, notes = _lifted(obj)
    assert lifted["pattern_type"] == "snort"
    assert NOTE + "pattern_type 'stix' added" not in notes


def test_malware() -> None:
    lifted, notes = _lifted(_v20("malware", name="Poison Ivy", labels=["remote-access-trojan"]))
    assert lifted["malware_types"] == ["remote-access-trojan"]
    assert lifted["is_family"] is True
    assert "labels" not in lifted
    assert notes[1:] == (NOTE + "labels → malware_types", NOTE + "is_family true added")


@pytest.mark.parametrize(
    ("obj_type", "extra", "types_prop"),
    [
        ("threat-actor", {"name": "Evil Org"}, "threat_actor_types"),
        ("tool", {"name": "VNC"}, "tool_types"),
        ("report", {"name": "R", "published": T, "object_refs": [IDENTITY]}, "report_types"),
    ],
)
def test_labels_become_types(obj_type: str, extra: Obj, types_prop: str) -> None:
    lifted, notes = _lifted(_v20(obj_type, labels=["a", "b"], **extra))
    assert lifted[types_prop] == ["a", "b"]
    assert "labels" not in lifted
    assert NOTE + f"labels → {types_prop}" in notes


def test_other_types_keep_their_labels() -> None:
    lifted, notes = _lifted(_v20("attack-pattern", name="Phishing", labels=["x"]))
    assert lifted["labels"] == ["x"]
    assert notes == (NOTE + "spec_version '2.1' added",)


def test_identity_class_list_becomes_its_first_element() -> None:
    lifted, notes = _lifted(_v20("identity", name="Targets", identity_class=["unknown"]))
    assert lifted["identity_class"] == "unknown"
    assert notes[1] == NOTE + "identity_class list → its first element 'unknown'"
    lifted, notes = _lifted(_v20("identity", name="Targets", identity_class=["group", "class"]))
    assert lifted["identity_class"] == "group"
    assert notes[1].endswith("(1 more dropped)")


def test_identity_class_empty_list_stays_invalid() -> None:
    with pytest.raises(Exception, match="identity_class"):
        prepare(_v20("identity", name="Targets", identity_class=[]), bundle_spec_version="2.0")


def test_timestamps_padded_to_milliseconds() -> None:
    obj = _v20("campaign", name="C") | {
        "created": "2016-04-06T20:03:48Z",
        "modified": "2016-04-06T20:03:48.5Z",
    }
    lifted, notes = _lifted(obj)
    assert lifted["created"] == "2016-04-06T20:03:48.000Z"
    assert lifted["modified"] == "2016-04-06T20:03:48.500Z"
    assert notes[1:] == (
        NOTE + "created padded to millisecond precision",
        NOTE + "modified padded to millisecond precision",
    )


def test_explicit_spec_version_20() -> None:
    _, notes = _lifted(_v20("tool", name="VNC", spec_version="2.0"), bundle_spec_version=None)
    assert notes == (NOTE + "spec_version '2.0' → '2.1'",)


def test_missing_spec_version_is_20_even_without_a_bundle_hint() -> None:
    _, notes = _lifted(
        _v20("relationship", relationship_type="uses", source_ref=IDENTITY, target_ref=IDENTITY),
        bundle_spec_version=None,
    )
    assert notes == (NOTE + "spec_version '2.1' added",)


def test_a_21_object_in_a_20_bundle_is_not_lifted() -> None:
    obj = minimal("indicator") | {"labels": ["x"]}
    record = prepare(obj, bundle_spec_version="2.0")
    assert record.notes == ()
    assert orjson.loads(record.data) == obj


def test_scos_are_never_lifted() -> None:
    obj = minimal("ipv4-addr")
    record = prepare(obj, bundle_spec_version="2.0")
    assert record.notes == ()
    assert "spec_version" not in orjson.loads(record.data)


def test_custom_objects() -> None:
    sdo_like = _v20("x-acme-widget", name="w")
    record = prepare(sdo_like)
    assert record.notes == (NOTE + "spec_version '2.1' added",)
    sco_like = {"type": "x-acme-obs", "id": "x-acme-obs--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}
    assert prepare(sco_like | {"val": 1}).notes == ()
    assert prepare(sco_like | {"val": 1}, bundle_spec_version="2.0").notes == (
        NOTE + "spec_version '2.1' added",
    )


def test_the_input_is_not_modified() -> None:
    obj = _v20(
        "indicator", labels=["malicious-activity"], pattern="[url:value = 'x']", valid_from=T
    )
    before = copy.deepcopy(obj)
    prepare(obj, bundle_spec_version="2.0")
    assert obj == before


def test_invalid_20_objects_are_still_refused() -> None:
    with pytest.raises(Exception, match="pattern"):
        prepare(_v20("indicator", labels=["x"], valid_from=T), bundle_spec_version="2.0")


def test_the_mapping_is_documented() -> None:
    """The lifting table appears in the README and the package docstring."""
    import accord.stix

    readme = (_STIX_DIR / "README.md").read_text(encoding="utf-8")
    docstring = accord.stix.__doc__ or ""
    for text in (readme, docstring):
        for types_prop in (
            "indicator_types",
            "malware_types",
            "threat_actor_types",
            "tool_types",
            "report_types",
        ):
            assert re.search(r"``labels``[\s|]+``" + types_prop + "``", text), types_prop
        for fragment in (
            '``pattern_type: "stix"``',
            "``is_family: true``",
            '``spec_version: "2.1"``',
            "identity_class",
            "``.000``",
        ):
            assert fragment in text, fragment


@pytest.mark.data
def test_unit42_playbooks(shared_data: Path) -> None:
    notes: Counter[str] = Counter()
    lists = without_pattern_type = without_is_family = 0
    for path in sorted((shared_data / "unit42" / "playbook_json").glob("*.json")):
        bundle = orjson.loads(path.read_bytes())
        assert bundle["spec_version"] == "2.0"
        for obj in bundle["objects"]:
            lists += isinstance(obj.get("identity_class"), list)
            without_pattern_type += obj["type"] == "indicator" and "pattern_type" not in obj
            without_is_family += obj["type"] == "malware" and "is_family" not in obj
            record = prepare(obj, bundle_spec_version="2.0")
            notes.update(n.split(" '")[0] if "identity_class" in n else n for n in record.notes)
    assert notes[NOTE + "spec_version '2.1' added"] == 51_920
    assert notes[NOTE + "labels → indicator_types"] == 9_275
    # Some playbooks already carry the 2.1 pattern_type on their 2.0 indicators.
    assert 0 < without_pattern_type < 9_275
    assert notes[NOTE + "pattern_type 'stix' added"] == without_pattern_type
    assert notes[NOTE + "labels → malware_types"] == 92
    assert 0 < without_is_family <= 92
    assert notes[NOTE + "is_family true added"] == without_is_family
    assert notes[NOTE + "labels → report_types"] == 237
    assert lists > 0
    assert notes[NOTE + "identity_class list → its first element"] == lists
