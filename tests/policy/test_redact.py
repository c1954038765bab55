"""The redaction transforms, one by one: what they replace and what they leave."""

from __future__ import annotations

from typing import Any

import pytest

from accord.policy import KINDS, Removal, is_internal_address, redact_object, redact_text


@pytest.mark.parametrize(
    ("kind", "text", "gone", "kept"),
    [
        ("email", "write to j.doe+x@corp.example.org today", "j.doe+x@corp.example.org", "today"),
        ("phone", "call +49 30 1234567 or (555) 123-4567", "1234567", "call"),
        ("internal-address", "C2 at 10.1.2.3 and 203.0.113.5", "10.1.2.3", "203.0.113.5"),
        ("internal-address", "beacon fd12:3456::17 / fe80::1 / ::1", "fd12:3456::17", "beacon"),
        ("internal-address", "loopback 127.0.0.1, apipa 169.254.3.4", "169.254.3.4", "apipa"),
        ("internal-address", "docs 198.51.100.7 and 2001:db8::1", "\x00", "198.51.100.7"),
        ("profile-path", "C:\\Users\\alice\\AppData\\x.exe", "alice", "AppData"),
        ("profile-path", "/home/bob/.ssh/id_rsa and /Users/carol/x", "carol", ".ssh"),
    ],
)
def test_each_transform(kind: str, text: str, gone: str, kept: str) -> None:
    removed: list[Removal] = []
    out = redact_text(text, [kind], removed, "description")
    assert gone not in out
    assert kept in out
    assert all(r.kind == kind and r.path == "description" for r in removed)
    if gone != "\x00":
        assert any(gone in r.value for r in removed)
    else:
        assert not removed


def test_internal_addresses_are_the_rfc_ranges_only() -> None:
    for inside in ("10.0.0.1", "172.31.255.255", "192.168.1.1", "fc00::1", "fe80::1", "::1"):
        assert is_internal_address(inside), inside
    for outside in ("172.32.0.1", "8.8.8.8", "198.51.100.1", "2001:db8::1", "not an ip"):
        assert not is_internal_address(outside), outside


def test_x509_subjects_lose_personal_names_not_host_names() -> None:
    cert: dict[str, Any] = {
        "type": "x509-certificate",
        "spec_version": "2.1",
        "id": "x509-certificate--463d7b2a-8516-5a50-a3d7-6f801465d5de",
        "subject": "C=DE, O=Example AG, CN=Erika Mustermann, emailAddress=erika@example.de",
        "issuer": "C=US, O=Example CA, CN=ca.example.com",
    }
    copy, removed = redact_object(cert, frozenset({"x509-name"}), ())
    assert "Erika" not in copy["subject"] and "erika@" not in copy["subject"]
    assert "O=Example AG" in copy["subject"]
    assert copy["issuer"] == cert["issuer"]
    assert {r.value for r in removed} == {"Erika Mustermann", "erika@example.de"}
    assert "Erika" in cert["subject"]  # the stored object is not touched


def test_ids_refs_and_hashes_are_never_rewritten() -> None:
    obj: dict[str, Any] = {
        "type": "file",
        "spec_version": "2.1",
        "id": "file--fb0419a8-f09c-57f8-be64-71a80417591c",
        "hashes": {"SHA-256": "10.0.0.1"},
        "parent_directory_ref": "directory--93c0a9b0-520d-545d-9094-1a08ddf46b05",
        "name": "dropped by 10.0.0.1",
    }
    copy, removed = redact_object(obj, frozenset(KINDS), ())
    assert copy["hashes"] == obj["hashes"] and copy["id"] == obj["id"]
    assert copy["name"] == "dropped by [redacted-address]"
    assert [r.path for r in removed] == ["name"]


def test_named_fields_are_replaced_and_nothing_else_changes_without_a_match() -> None:
    obj = {"type": "note", "content": "talked to the victim", "abstract": "meeting"}
    copy, removed = redact_object(obj, frozenset(), ("content",))
    assert copy["content"] == "[redacted]" and copy["abstract"] == "meeting"
    assert removed == [Removal("field", "content", "talked to the victim")]
    same, none = redact_object(obj, frozenset(KINDS), ())
    assert same is obj and none == []
