"""What the console's indexes keep of one stored version: its text and its references.

Filled at ingest by the writer (one parse of the bytes, only for versions that
carry a name, a description or a reference) and by migration 0008 for the
versions stored before it.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson

# The references the object page and the graph follow (STIX 2.1 §4, §5).
REF_PROPS = ("source_ref", "target_ref", "sighting_of_ref")
REF_LIST_PROPS = ("object_refs", "observed_data_refs", "where_sighted_refs", "sample_refs")
# Indexed text is bounded: a 200 kB description is searchable by its first 8 kB.
MAX_TEXT = 8_192
_HINTS = (b'"name"', b'"description"', b'_ref"', b'_refs"')

TextRow = tuple[int, str, str]
RefRow = tuple[str, int, str]


def _text(obj: dict[str, object], key: str) -> str:
    value = obj.get(key)
    return value[:MAX_TEXT] if type(value) is str else ""


def index_rows(versions: Iterable[tuple[int, bytes]]) -> tuple[list[TextRow], list[RefRow]]:
    """The free-text rows (added, name, description) and reference rows (ref, added, prop)."""
    texts: list[TextRow] = []
    refs: list[RefRow] = []
    for added, data in versions:
        if not any(h in data for h in _HINTS):
            continue
        obj = orjson.loads(data)
        if type(obj) is not dict:
            continue
        name, description = _text(obj, "name"), _text(obj, "description")
        if name or description:
            texts.append((added, name, description))
        seen: set[tuple[str, str]] = set()
        for prop in REF_PROPS:
            value = obj.get(prop)
            if type(value) is str and len(value) <= 300:
                seen.add((value, prop))
        for prop in REF_LIST_PROPS:
            values = obj.get(prop)
            if type(values) is list:
                seen.update((v, prop) for v in values if type(v) is str and len(v) <= 300)
        refs.extend((ref, added, prop) for ref, prop in seen)
    return texts, refs
