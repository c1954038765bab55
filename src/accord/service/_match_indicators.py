"""The node's indicators in a `Matcher`, kept current without a rebuild.

`IndicatorFeed.load` compiles every current, non-revoked indicator of the
store whose ``pattern_type`` is ``stix``; `IndicatorFeed.poll` then reads only
the versions stored after the last ``date_added`` it saw (``date_added`` is
unique and commit-ordered, so nothing is missed) and applies each newer
version: a new indicator is added, a new version replaces the old one, a
revoked one (or one no longer in the STIX pattern language) is removed. An
older version arriving late changes nothing (STIX 2.1 §3.6: the latest
``modified`` is the current version). ``valid_from``/``valid_until`` go to the
matcher, which matches an event only inside them.

A pattern the matcher refuses (syntax, complexity) flags the indicator: it is
listed in `errors` with the reason and never stops the loading.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from accord.exceptions import AccordError
from accord.patterns import Matcher
from accord.service.node import Node
from accord.stix import parse_timestamp
from accord.store import Query, StoredObject

__all__ = ["IndicatorFeed", "Loaded"]


def _epoch(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Loaded:
    """What the matcher holds for one indicator (its stored version and producer)."""

    version: str
    added: int
    name: str
    created_by_ref: str | None


class IndicatorFeed:
    """Loads the node's indicators into a matcher and follows the store's new versions."""

    def __init__(self, node: Node, matcher: Matcher) -> None:
        self.node = node
        self.matcher = matcher
        self.loaded: dict[str, Loaded] = {}
        self.versions: dict[str, str] = {}  # id -> latest version seen, loaded or not
        self.errors: dict[str, str] = {}  # id -> why its pattern was refused
        self.warnings: dict[str, list[str]] = {}
        self.last_added = 0

    def _apply(self, obj: StoredObject) -> int:
        """Apply one stored version; 1 when the matcher changed."""
        self.last_added = max(self.last_added, obj.added)
        seen = self.versions.get(obj.id)
        if seen is not None and obj.version <= seen:
            return 0
        self.versions[obj.id] = obj.version
        changed = 0
        if obj.id in self.loaded:
            self.matcher.remove(obj.id)
            del self.loaded[obj.id]
            changed = 1
        self.errors.pop(obj.id, None)
        self.warnings.pop(obj.id, None)
        if obj.revoked:
            return changed
        data = orjson.loads(obj.data)
        pattern = data.get("pattern")
        if data.get("pattern_type", "stix") != "stix" or not isinstance(pattern, str):
            return changed
        try:
            warnings = self.matcher.add(
                obj.id,
                pattern,
                valid_from=_epoch(data.get("valid_from")),
                valid_until=_epoch(data.get("valid_until")),
            )
        except (AccordError, ValueError) as exc:
            self.errors[obj.id] = str(exc)
            return changed
        if warnings:
            self.warnings[obj.id] = list(warnings)
        creator = data.get("created_by_ref")
        self.loaded[obj.id] = Loaded(
            obj.version,
            obj.added,
            str(data.get("name") or ""),
            creator if isinstance(creator, str) else None,
        )
        return 1

    def _apply_all(self, objects: Iterable[StoredObject]) -> int:
        return sum(self._apply(obj) for obj in objects)

    def load(self) -> int:
        """Compile every current indicator; returns how many the matcher holds."""
        # Revoked ones too, so that their version is known and an older one arriving
        # later is not taken for new.
        self._apply_all(self.node.store.query(Query(types=("indicator",), include_revoked=True)))
        return len(self.loaded)

    def poll(self) -> int:
        """Apply the indicator versions stored since the last look; how many changed."""
        query = Query(types=("indicator",), all_versions=True, added_after=self.last_added)
        return self._apply_all(self.node.store.query(query))
