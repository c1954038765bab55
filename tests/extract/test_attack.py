from __future__ import annotations

import json
from pathlib import Path

import pytest

from accord.extract._attack import (
    NONE,
    TechniqueModel,
    attack_examples,
    clean,
    labelled_examples,
    link_id,
    sentences,
)

TS = "2020-01-01T00:00:00.000Z"


def _ap(n: int, tid: str, name: str, description: str) -> dict[str, object]:
    return {
        "type": "attack-pattern",
        "id": f"attack-pattern--{n}",
        "name": name,
        "description": description,
        "external_references": [{"source_name": "mitre-attack", "external_id": tid}],
    }


OBJECTS: list[dict[str, object]] = [
    _ap(1, "T1059.001", "PowerShell", "Adversaries may abuse PowerShell commands and scripts."),
    _ap(
        2,
        "T1566.001",
        "Spearphishing Attachment",
        "Adversaries may send spearphishing emails with a malicious attachment.",
    ),
    _ap(
        3,
        "T1486",
        "Data Encrypted for Impact",
        "Adversaries may encrypt data on target systems to interrupt availability.",
    ),
    {
        "type": "relationship",
        "relationship_type": "uses",
        "source_ref": "malware--x",
        "target_ref": "attack-pattern--1",
        "description": "[Foo](https://attack.mitre.org/software/S1) has run encoded PowerShell "
        "scripts to download its payload.(Citation: Vendor 2020)",
    },
    {
        "type": "relationship",
        "relationship_type": "uses",
        "source_ref": "malware--x",
        "target_ref": "attack-pattern--3",
        "description": "Foo encrypts the victim's files with AES and appends a ransom note.",
    },
]


def test_examples_from_attack_objects() -> None:
    examples, names = attack_examples(OBJECTS)
    assert names["T1059.001"] == "PowerShell"
    assert ("Foo has run encoded PowerShell scripts to download its payload.", "T1059.001") in (
        examples
    )
    assert clean("[X](http://a) ran (Citation: Y) it") == "X ran it"
    assert sentences("Short. This is a longer sentence here.\nAnother line with words.") == [
        "This is a longer sentence here.",
        "Another line with words.",
    ]
    assert link_id("https://attack.mitre.org/techniques/T1059/001") == "T1059.001"
    assert link_id("https://attack.mitre.org/tactics/TA0001") is None


def test_labelled_report_rows_give_positives_and_negatives() -> None:
    text = "The actor sent a phishing email to staff. The company is based in Ohio and sells tea."
    rows = [
        {
            "entity_type": "TECHNIQUE",
            "mention": "sent a phishing email",
            "context_left": "The actor",
            "context_right": "to staff.",
            "label_link": "https://attack.mitre.org/techniques/T1566",
        }
    ]
    ex = labelled_examples(text, rows)
    assert ex.count(("The actor sent a phishing email to staff.", "T1566")) == 3
    assert ("The company is based in Ohio and sells tea.", NONE) in ex


def test_model_maps_sentences_with_support() -> None:
    examples, names = attack_examples(OBJECTS)
    examples += [("The group is based in a country and targets banks.", NONE)] * 2
    examples += [("Its operators are active since 2015 in the region.", NONE)] * 2
    model = TechniqueModel(examples * 3, names)
    text = (
        "The loader runs encoded PowerShell scripts to download the payload.\n"
        "Then it encrypts the files with AES and leaves a ransom note.\n"
    )
    mapped = {t.attack_id: t for t in model.map(text)}
    assert "T1059.001" in mapped and "T1486" in mapped
    assert mapped["T1059.001"].sentences[0].startswith("The loader runs encoded PowerShell")
    assert mapped["T1059.001"].name == "PowerShell"
    with pytest.raises(ValueError, match="too few techniques"):
        TechniqueModel([("a b c d", NONE)], {})


@pytest.mark.slow
def test_real_attack_data_trains_and_maps(shared_data: Path) -> None:
    bundle = shared_data / "attack" / "enterprise-attack-18.1-derived-stix21.json"
    objects = json.loads(bundle.read_text())["objects"]
    examples, names = attack_examples(objects)
    assert len(examples) > 20_000 and len(names) > 600
    # Techniques in two families keep the test to seconds; the benchmark trains on all.
    some = [(t, label) for t, label in examples if label.startswith(("T1059", "T1486", "T1566"))]
    model = TechniqueModel(some, names)
    ids = {t.attack_id for t in model.map("The malware executes PowerShell commands.")}
    assert any(i.startswith("T1059") for i in ids)
