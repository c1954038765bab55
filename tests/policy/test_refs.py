"""References to withheld objects (`accord.policy._refs`): the pure rules."""

from __future__ import annotations

from typing import Any

from accord.policy._refs import REFERRING_TYPES, drop_references, referenced

SECRET = "malware--0e2c3f4a-5b6c-4d7e-8f90-a1b2c3d4e5f6"
OPEN = "indicator--1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9"
IDENTITY = "identity--2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"


def withheld(ref: str) -> bool:
    return ref == SECRET


def _obj(otype: str, **props: Any) -> dict[str, Any]:
    return {"type": otype, "id": f"{otype}--9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a", **props}


def test_a_relationship_or_sighting_of_a_withheld_object_is_withheld() -> None:
    for props in ({"source_ref": OPEN, "target_ref": SECRET}, {"source_ref": SECRET}):
        copy, removed, why = drop_references(_obj("relationship", **props), withheld)
        assert copy is None and "withheld" in why and removed == []
    copy, _, why = drop_references(_obj("sighting", sighting_of_ref=SECRET), withheld)
    assert copy is None and "sighting_of_ref" in why
    rel = _obj("relationship", source_ref=OPEN, target_ref=OPEN)
    assert drop_references(rel, withheld) == (rel, [], "")


def test_withheld_ids_leave_the_lists_and_an_empty_required_list_withholds() -> None:
    report = _obj("report", object_refs=[OPEN, SECRET])
    copy, removed, why = drop_references(report, withheld)
    assert copy is not None and copy["object_refs"] == [OPEN] and why == ""
    assert report["object_refs"] == [OPEN, SECRET]  # the stored object is not changed
    assert [(r.kind, r.path, r.value) for r in removed] == [("reference", "object_refs", SECRET)]
    copy, removed, why = drop_references(_obj("grouping", object_refs=[SECRET]), withheld)
    assert copy is None and "every object" in why and len(removed) == 1
    sighting = _obj("sighting", sighting_of_ref=OPEN, where_sighted_refs=[SECRET])
    copy, removed, _ = drop_references(sighting, withheld)
    assert copy is not None and "where_sighted_refs" not in copy and len(removed) == 1


def test_referenced_names_only_what_the_rules_check() -> None:
    sighting = _obj(
        "sighting",
        sighting_of_ref=OPEN,
        observed_data_refs=[SECRET],
        where_sighted_refs=[IDENTITY],
        created_by_ref=IDENTITY,
    )
    assert referenced(sighting) == [OPEN, SECRET, IDENTITY]
    assert referenced(_obj("indicator", created_by_ref=IDENTITY)) == []
    assert "indicator" not in REFERRING_TYPES and "relationship" in REFERRING_TYPES
