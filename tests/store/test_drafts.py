"""Report drafts in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from accord.exceptions import UnknownDraft
from accord.store import SqlStore, open_store


@pytest.fixture
def store(backend: str) -> Iterator[SqlStore]:
    s = open_store(backend)
    yield s
    s.close()


def test_a_document_is_one_draft(store: SqlStore) -> None:
    sha = "ab" * 32
    row, new = store.put_draft(sha, "r.pdf", "Title", '{"x": 1}')
    assert new and row.id == sha[:12] and row.status == "draft"
    again, new = store.put_draft(sha, "other name", "Other", '{"x": 2}')
    assert not new and again.body == '{"x": 1}' and again.title == "Title"
    assert store.draft(sha[:6]).sha256 == sha
    assert [d.sha256 for d in store.drafts()] == [sha]


def test_prefixes_must_be_unique_and_hex(store: SqlStore) -> None:
    store.put_draft("abcdef" + "0" * 58, "a", "A", "{}")
    store.put_draft("abcdef" + "1" * 58, "b", "B", "{}")
    with pytest.raises(UnknownDraft, match="accord report list"):
        store.draft("abcdef")  # two match
    assert store.draft("abcdef1").name == "b"
    for bad in ("abc", "zzzzzzzz", "'; drop"):
        with pytest.raises(UnknownDraft):
            store.draft(bad)


def test_update_and_publish(store: SqlStore) -> None:
    sha = "cd" * 32
    store.put_draft(sha, "r", "R", "{}")
    row = store.update_draft(sha, '{"drops": ["x"]}')
    assert row.body == '{"drops": ["x"]}' and row.status == "draft" and row.published is None
    row = store.update_draft(sha, row.body, published_to="reports")
    assert row.status == "published" and row.collection == "reports" and row.published
    with pytest.raises(UnknownDraft):
        store.update_draft("ef" * 32, "{}")
