"""A minimal valid STIX 2.1 object of every type, for the validation tests.

Each sample carries only what STIX 2.1 requires (plus what a constraint needs),
so that removing any property from it must make it invalid.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import stix2

T = "2016-04-06T20:03:48.000Z"
T_LATER = "2016-05-07T11:22:30.000Z"
IDENTITY = "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"
MARKING = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
INDICATOR = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
FILE = "file--9a1f834d-2506-5367-baec-7aa63996ac43"
IPV4 = "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"
EMAIL_ADDR = "email-addr--2d77a846-6264-5d51-b586-e43822ea1ea3"


def _sdo(obj_type: str, uuid: str, **props: object) -> dict[str, object]:
    return {
        "type": obj_type,
        "spec_version": "2.1",
        "id": f"{obj_type}--{uuid}",
        "created": T,
        "modified": T,
        **props,
    }


def _sco(obj_type: str, uuid: str, **props: object) -> dict[str, object]:
    return {"type": obj_type, "id": f"{obj_type}--{uuid}", **props}


_MINIMAL: dict[str, dict[str, object]] = {
    "attack-pattern": _sdo(
        "attack-pattern", "0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061", name="Spearphishing"
    ),
    "campaign": _sdo(
        "campaign", "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", name="Green Group Attacks"
    ),
    "course-of-action": _sdo(
        "course-of-action", "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", name="Block"
    ),
    "grouping": _sdo(
        "grouping",
        "84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
        context="suspicious-activity",
        object_refs=[INDICATOR],
    ),
    "identity": _sdo("identity", "e5f1b90a-d9b6-40ab-81a9-8a29df4b6b65", name="ACME Widget, Inc."),
    "incident": _sdo("incident", "e5f1b90a-d9b6-40ab-81a9-8a29df4b6b65", name="Breach"),
    "indicator": _sdo(
        "indicator",
        "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        pattern="[domain-name:value = 'evil.example']",
        pattern_type="stix",
        valid_from=T,
    ),
    "infrastructure": _sdo(
        "infrastructure", "38c47d93-d984-4fd9-b87b-d69d0841628d", name="Poison Ivy C2"
    ),
    "intrusion-set": _sdo(
        "intrusion-set", "4e78f46f-a023-4e5f-bc24-71b3ca22ec29", name="Bobcat Breakin"
    ),
    "location": _sdo(
        "location", "a6e9345f-5a15-4c29-8bb3-7dcc5d168d64", region="south-eastern-asia"
    ),
    "malware": _sdo("malware", "0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061", is_family=False),
    "malware-analysis": _sdo(
        "malware-analysis", "d25dc1d8-e5c5-4b6c-aab4-fc0b68296d88", product="av", result="malicious"
    ),
    "note": _sdo(
        "note",
        "0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
        content="Looks bad.",
        object_refs=[INDICATOR],
    ),
    "observed-data": _sdo(
        "observed-data",
        "b67d30ff-02ac-498a-92f9-32f845f448cf",
        first_observed=T,
        last_observed=T,
        number_observed=50,
        object_refs=[IPV4],
    ),
    "opinion": _sdo(
        "opinion", "b01efc25-77b4-4003-b18b-f6e24b5cd9f7", opinion="agree", object_refs=[INDICATOR]
    ),
    "report": _sdo(
        "report",
        "84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
        name="The Black Vine Cyberespionage Group",
        published=T,
        object_refs=[INDICATOR],
    ),
    "threat-actor": _sdo("threat-actor", "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", name="Evil Org"),
    "tool": _sdo("tool", "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", name="VNC"),
    "vulnerability": _sdo(
        "vulnerability", "0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061", name="CVE-2016-1234"
    ),
    "relationship": _sdo(
        "relationship",
        "44298a74-ba52-4f0c-87a3-1824e67d7fad",
        relationship_type="indicates",
        source_ref=INDICATOR,
        target_ref="malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
    ),
    "sighting": _sdo("sighting", "ee20065d-2555-424f-ad9e-0f8428623c75", sighting_of_ref=INDICATOR),
    "language-content": _sdo(
        "language-content",
        "b86b3a9b-1d07-4a8a-b1a6-e6b9a6f5d9b0",
        object_ref="campaign--12a111f0-b824-4baf-a224-83b80237a094",
        contents={"de": {"name": "Bank Angriff"}},
    ),
    "marking-definition": {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        "created": T,
        "definition_type": "statement",
        "definition": {"statement": "Copyright 2019, Example Corp"},
    },
    "extension-definition": _sdo(
        "extension-definition",
        "9c59fd79-4215-4ba2-920d-3e4f320e1e62",
        created_by_ref=IDENTITY,
        name="New SDO 1",
        schema="https://www.example.com/schema-newsdo-1/v1/",
        version="1.2.1",
        extension_types=["new-sdo"],
    ),
    "artifact": _sco("artifact", "ca17bcf8-9846-5ab4-8662-75c1bf6e63ee", payload_bin="aGVsbG8="),
    "autonomous-system": _sco(
        "autonomous-system", "f720c34b-98ae-597f-ade5-27ef187c2dc5", number=15139
    ),
    "directory": _sco(
        "directory", "93c0a9b0-520d-545d-9094-1a08ddf46b05", path="C:\\Windows\\System32"
    ),
    "domain-name": _sco("domain-name", "3c10e93f-798e-5a26-a0c1-08156efab7f5", value="example.com"),
    "email-addr": _sco(
        "email-addr", "2d77a846-6264-5d51-b586-e43822ea1ea3", value="john@example.com"
    ),
    "email-message": _sco(
        "email-message", "72b7698f-10c2-565a-a2a6-b4996a2f2265", is_multipart=False
    ),
    "file": _sco("file", "9a1f834d-2506-5367-baec-7aa63996ac43", name="qwerty.dll"),
    "ipv4-addr": _sco("ipv4-addr", "ff26c055-6336-5bc5-b98d-13d6226742dd", value="198.51.100.3"),
    "ipv6-addr": _sco("ipv6-addr", "1e61d36c-a16c-53b7-a80f-2a00161c96b1", value="2001:0db8::/96"),
    "mac-addr": _sco("mac-addr", "65cfcf98-8a6e-5a1b-8f61-379ac4f92d00", value="d2:fb:49:24:37:18"),
    "mutex": _sco("mutex", "eba44954-d4e4-5d3b-814c-2b17dd8de300", name="__CLEANSWEEP__"),
    "network-traffic": _sco(
        "network-traffic",
        "2568d22a-8998-58eb-99ec-3c8ca74f527d",
        dst_ref=IPV4,
        protocols=["tcp"],
    ),
    "process": _sco("process", "f52a906a-0dfc-40bd-92f1-e7778ead38a9", pid=1221),
    "software": _sco("software", "a1827f6d-ca53-5605-9e93-4316cd22a00a", name="Word"),
    "url": _sco(
        "url", "c1477287-23ac-5971-a010-5c287877fa60", value="https://example.com/research/"
    ),
    "user-account": _sco("user-account", "0d5b424b-93b8-5cd8-ac36-306e1789d63c", user_id="1001"),
    "windows-registry-key": _sco(
        "windows-registry-key",
        "2ba37ae7-2745-5082-9dfd-9486dad41016",
        key="hkey_local_machine\\system\\bar\\foo",
    ),
    "x509-certificate": _sco(
        "x509-certificate", "463d7b2a-8516-5a50-a3d7-6f801465d5de", serial_number="36:f7:d4:32"
    ),
}


def minimal(obj_type: str) -> dict[str, object]:
    """A fresh deep copy of the minimal valid object of ``obj_type``."""
    return copy.deepcopy(_MINIMAL[obj_type])


def types() -> list[str]:
    """Every type with a sample."""
    return sorted(_MINIMAL)


def stix2_accepts(obj: dict[str, Any]) -> bool:
    """The OASIS stix2 library's verdict, our differential oracle."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            stix2.parse(obj, allow_custom=True, version="2.1")
        except Exception:
            return False
    return True
