from __future__ import annotations

from pathlib import Path

import stix2
from stix2patterns.validator import run_validator

from accord.extract import Extraction, Finding, Technique, find_iocs
from accord.extract._stix import Known, Source, build_draft, pattern_and_sco, sco_id
from accord.stix import prepare

TEXT = (
    "C2 at hxxp://bad[.]com/x?a=1 and 185.25.51[.]200; dropper C:\\Users\\Public\\it.exe.\n"
    "SHA-1 0be56a8c0d0de11e0e97b563cae6d1ee164f3317 and CVE-2021-40444. Mutexes\n"
    "HKLM\\Software\\Evil\\Run. Sednit did it.\n"
)
SOURCE = Source("ab" * 32, "r.txt", "Report", "2026-01-01T00:00:00.000Z", url="https://v.example/r")


def _draft(dropped: tuple[str, ...] = ()) -> list[dict[str, object]]:
    findings, _ = find_iocs(TEXT)
    ext = Extraction(findings, [Technique("T1059.001", "PowerShell", 0.9, ("s",))])
    ext.names = frozenset({"sednit"})
    known = Known(
        {"T1059.001": ("attack-pattern--" + "1" * 8 + "-1111-4111-8111-" + "1" * 12, "PowerShell")},
        {"sednit": "intrusion-set--" + "2" * 8 + "-2222-4222-8222-" + "2" * 12},
    )
    return build_draft(ext, SOURCE, known, dropped=dropped)


def test_every_object_is_valid_stix_and_patterns_parse() -> None:
    objects = _draft()
    for obj in objects:
        prepare(obj)
        if obj["type"] == "indicator":
            assert run_validator(str(obj["pattern"])) == [], obj["pattern"]
    patterns = {o["pattern"] for o in objects if o["type"] == "indicator"}
    assert "[url:value = 'http://bad.com/x?a=1']" in patterns
    assert "[file:hashes.'SHA-1' = '0be56a8c0d0de11e0e97b563cae6d1ee164f3317']" in patterns
    assert (
        "[file:name = 'it.exe' AND file:parent_directory_ref.path = 'C:\\\\Users\\\\Public']"
        in patterns
    )
    report = objects[0]
    assert report["type"] == "report"
    refs = report["object_refs"]
    assert isinstance(refs, list) and len(refs) == len(set(refs)) == len(objects) - 1 + 2
    assert report["external_references"] == [
        {
            "source_name": "report",
            "hashes": {"SHA-256": "ab" * 32},
            "url": "https://v.example/r",
            "description": "r.txt",
        }
    ]
    [vuln] = [o for o in objects if o["type"] == "vulnerability"]
    assert vuln["name"] == "CVE-2021-40444"
    [uses] = [o for o in objects if o.get("relationship_type") == "uses"]
    assert str(uses["source_ref"]).startswith("intrusion-set--2222")


def test_ids_are_deterministic_and_drops_are_left_out() -> None:
    assert [o["id"] for o in _draft()] == [o["id"] for o in _draft()]
    dropped = _draft(dropped=("185.25.51.200", "t1059.001"))
    text = str(dropped)
    assert "185.25.51.200" not in text and "attack-pattern--1111" not in text
    # STIX 2.1 §2.9: SCO ids as the stix2 library (the oracle) computes them.
    assert (
        sco_id("domain-name", {"value": "example.com"}) == stix2.DomainName(value="example.com").id
    )
    assert sco_id("file", {"name": "a.exe"}) == stix2.File(name="a.exe").id
    quoted = pattern_and_sco(Finding("mutex", "it's\\x"))
    assert quoted is not None and quoted[0] == "[mutex:name = 'it\\'s\\\\x']"
    assert run_validator(quoted[0]) == []


def test_a_real_eset_report_gives_a_valid_draft(shared_data: Path) -> None:
    text = (shared_data / "eset" / "reports" / "turla" / "README.adoc").read_text()
    findings, _ = find_iocs(text)
    objects = build_draft(Extraction(findings), SOURCE)
    assert len(objects) > 300
    for obj in objects:
        prepare(obj)
        if obj["type"] == "indicator":
            assert run_validator(str(obj["pattern"])) == [], obj["pattern"]
