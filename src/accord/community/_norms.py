"""Norms: community rules in the vocabulary of sharing agreements, and the floor they make.

A norm is ``{"name": ..., "rule": {...}}``; its rule holds one or more of

- ``tlp_ceiling_outside``: the most restricted TLP level that may go to a
  recipient outside the community (``clear``, ``green``, ``amber``, ``amber+strict``);
- ``redact``: redaction kinds (`accord.policy.KINDS`) applied to every share;
- ``min_embargo_hours``: object type -> hours after ``created`` before it may go;
- ``exclude_types``: object types that never leave a node;
- ``jurisdiction``: residency code -> the recipient jurisdictions that may receive it;
- ``no_onward_red``: true: TLP:RED received from a peer never goes onward.

The adopted norms together make a `Floor`; `floor_agreement` puts it under an
agreement, taking for each rule the stricter of the two, so an agreement may be
stricter than the community, never looser. `contradictions` names where an
agreement file is looser than a norm (the norm wins).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from accord.exceptions import CommunityError
from accord.policy import KINDS, Agreement, Inbound, Tlp

RULE_KEYS = (
    "tlp_ceiling_outside",
    "redact",
    "min_embargo_hours",
    "exclude_types",
    "jurisdiction",
    "no_onward_red",
)
_NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}\Z")
_TYPE_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,249}\Z")
_CODE_RE = re.compile(r"[A-Z][A-Z0-9-]{1,15}\Z")
_MAX_HOURS = 24 * 365 * 10


@dataclass(frozen=True, slots=True)
class Norm:
    """An adopted norm: its name, its rule, and the proposal that adopted it."""

    name: str
    rule: Mapping[str, Any]
    proposal: str  # record id of the adopting proposal; "genesis" for the charter's

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "rule": dict(self.rule), "proposal": self.proposal}


def check_norm(norm: object, where: str) -> tuple[str, dict[str, Any]]:
    """A norm's name and rule, checked.

    Raises:
        CommunityError: naming ``where`` and what is wrong.
    """
    if not isinstance(norm, dict) or set(norm) != {"name", "rule"}:
        raise CommunityError(where, 'a norm is {"name": ..., "rule": {...}}')
    name = norm["name"]
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise CommunityError(where, f"norm name {name!r}: lower-case letters, digits, . _ -")
    return name, check_rule(norm["rule"], f"{where}: norm {name}")


def check_rule(rule: object, where: str) -> dict[str, Any]:
    """A norm's rule, checked (see the module docstring).

    Raises:
        CommunityError: naming ``where``, the key and what is wrong.
    """
    if not isinstance(rule, dict) or not rule:
        raise CommunityError(where, "the rule must be an object with at least one of the keys")
    for key in rule:
        if key not in RULE_KEYS:
            raise CommunityError(where, f"unknown rule {key!r}; expected {', '.join(RULE_KEYS)}")
    out: dict[str, Any] = {}
    if "tlp_ceiling_outside" in rule:
        value = rule["tlp_ceiling_outside"]
        try:
            level = Tlp.parse(value) if isinstance(value, str) else None
        except ValueError:
            level = None
        if level is None or level == Tlp.RED:
            raise CommunityError(where, f"tlp_ceiling_outside {value!r}: clear, green or amber")
        out["tlp_ceiling_outside"] = level.label.removeprefix("TLP:").lower()
    if "redact" in rule:
        kinds = _strings(rule["redact"], where, "redact")
        for k in kinds:
            if k not in KINDS:
                raise CommunityError(where, f"redact {k!r}: the kinds are {', '.join(KINDS)}")
        out["redact"] = kinds
    if "min_embargo_hours" in rule:
        table = rule["min_embargo_hours"]
        if not isinstance(table, dict) or not table:
            raise CommunityError(where, "min_embargo_hours: an object type -> hours")
        for t, h in table.items():
            if not _TYPE_RE.match(t):
                raise CommunityError(where, f"min_embargo_hours: {t!r} is not a STIX type")
            if not isinstance(h, int) or isinstance(h, bool) or not 0 < h <= _MAX_HOURS:
                raise CommunityError(where, f"min_embargo_hours.{t}: whole hours > 0, not {h!r}")
        out["min_embargo_hours"] = dict(sorted(table.items()))
    if "exclude_types" in rule:
        types = _strings(rule["exclude_types"], where, "exclude_types")
        for t in types:
            if not _TYPE_RE.match(t):
                raise CommunityError(where, f"exclude_types: {t!r} is not a STIX type")
        out["exclude_types"] = types
    if "jurisdiction" in rule:
        table = rule["jurisdiction"]
        if not isinstance(table, dict) or not table:
            raise CommunityError(where, "jurisdiction: a residency code -> jurisdictions")
        checked: dict[str, list[str]] = {}
        for code, allowed in table.items():
            codes = _strings(allowed, where, f"jurisdiction.{code}", empty=True)
            for c in [code, *codes]:
                if not _CODE_RE.match(c):
                    raise CommunityError(where, f"jurisdiction: {c!r} is not a code such as EU")
            checked[code] = codes
        out["jurisdiction"] = dict(sorted(checked.items()))
    if "no_onward_red" in rule:
        if rule["no_onward_red"] is not True:
            raise CommunityError(where, "no_onward_red: true (leave it out otherwise)")
        out["no_onward_red"] = True
    return out


def _strings(value: object, where: str, key: str, empty: bool = False) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise CommunityError(where, f"{key}: a list of strings, not {value!r}")
    if not value and not empty:
        raise CommunityError(where, f"{key}: the list is empty")
    if len(set(value)) != len(value):
        raise CommunityError(where, f"{key}: a value is repeated")
    return sorted(value)


# -- the floor -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """Which norm set a rule of the floor, and the proposal that adopted it."""

    norm: str
    proposal: str

    def __str__(self) -> str:
        return f"community norm {self.norm} (adopted by {self.proposal[:16]})"


@dataclass(frozen=True, slots=True)
class Floor:
    """The strictest of every adopted norm, rule by rule, each with its source."""

    ceiling_outside: tuple[Tlp, Source] | None = None
    redact: Mapping[str, Source] = field(default_factory=dict)
    embargo: Mapping[str, tuple[int, Source]] = field(default_factory=dict)
    excluded: Mapping[str, Source] = field(default_factory=dict)
    jurisdiction: Mapping[str, tuple[frozenset[str], Source]] = field(default_factory=dict)
    no_onward_red: Source | None = None

    @property
    def empty(self) -> bool:
        return not (
            self.ceiling_outside
            or self.redact
            or self.embargo
            or self.excluded
            or self.jurisdiction
            or self.no_onward_red
        )


def make_floor(norms: list[Norm]) -> Floor:
    """The floor of the adopted norms (in name order; ties keep the first)."""
    ceiling: tuple[Tlp, Source] | None = None
    redact: dict[str, Source] = {}
    embargo: dict[str, tuple[int, Source]] = {}
    excluded: dict[str, Source] = {}
    jurisdiction: dict[str, tuple[frozenset[str], Source]] = {}
    onward: Source | None = None
    for norm in sorted(norms, key=lambda n: n.name):
        src = Source(norm.name, norm.proposal)
        rule = norm.rule
        if "tlp_ceiling_outside" in rule:
            level = Tlp.parse(rule["tlp_ceiling_outside"])
            if ceiling is None or level < ceiling[0]:
                ceiling = (level, src)
        for k in rule.get("redact", ()):
            redact.setdefault(k, src)
        for t, h in rule.get("min_embargo_hours", {}).items():
            if t not in embargo or h > embargo[t][0]:
                embargo[t] = (h, src)
        for t in rule.get("exclude_types", ()):
            excluded.setdefault(t, src)
        for code, allowed in rule.get("jurisdiction", {}).items():
            codes = frozenset(allowed)
            if code in jurisdiction:
                codes = codes & jurisdiction[code][0]
            jurisdiction[code] = (codes, src)
        if rule.get("no_onward_red") and onward is None:
            onward = src
    return Floor(ceiling, redact, embargo, excluded, jurisdiction, onward)


def floor_agreement(
    agreement: Agreement, floor: Floor, inside: bool
) -> tuple[Agreement, list[str]]:
    """The agreement with the floor under it, and what the floor tightened.

    Args:
        agreement: the node's agreement.
        floor: the community's norms.
        inside: the recipient is a member of the community (the TLP ceiling
            norm is for recipients outside it).

    Returns:
        The agreement in force (the same object when the floor changes nothing),
        and one line per rule the floor made stricter, naming the norm.
    """
    if floor.empty:
        return agreement, []
    notes: list[str] = []
    changes: dict[str, Any] = {}
    if floor.ceiling_outside is not None and not inside:
        level, src = floor.ceiling_outside
        if agreement.ceiling > level:
            changes["ceiling"] = level
            notes.append(f"TLP ceiling {level.label} outside the community: {src}")
    missing = {k: s for k, s in floor.redact.items() if k not in agreement.redact}
    if missing:
        changes["redact"] = agreement.redact | frozenset(missing)
        for k, s in sorted(missing.items()):
            notes.append(f"redaction {k} on every share: {s}")
    new_excluded = {t: s for t, s in floor.excluded.items() if t not in agreement.types_excluded}
    if new_excluded:
        changes["types_excluded"] = agreement.types_excluded | frozenset(new_excluded)
        for t, s in sorted(new_excluded.items()):
            notes.append(f"type {t} excluded: {s}")
    if floor.jurisdiction:
        merged = dict(agreement.jurisdiction)
        for code, (allowed, src) in floor.jurisdiction.items():
            own = agreement.jurisdiction.get(code, frozenset({code}))
            tighter = own & allowed
            if tighter != own:
                merged[code] = tighter
                notes.append(
                    f"residency {code} only to {', '.join(sorted(tighter)) or 'none'}: {src}"
                )
        if merged != dict(agreement.jurisdiction):
            changes["jurisdiction"] = merged
    if not changes:
        return agreement, notes
    return replace(agreement, **changes), notes


def floor_inbound(inbound: Mapping[str, Inbound], floor: Floor) -> dict[str, Inbound]:
    """Inbound terms under ``no_onward_red``: no named RED recipient onward."""
    if floor.no_onward_red is None:
        return dict(inbound)
    return {p: replace(t, red_recipients=frozenset()) for p, t in inbound.items()}


def embargo_for(floor: Floor, otype: str, agreement: Agreement) -> tuple[int, Source] | None:
    """The norm's minimum embargo for a type where it is longer than the agreement's."""
    found = floor.embargo.get(otype)
    if found is None or found[0] <= agreement.embargo_hours:
        return None
    return found


def contradictions(agreement: Agreement | Inbound, floor: Floor) -> list[str]:
    """Where an agreement is looser than a norm: one line each, naming the norm (it wins)."""
    out: list[str] = []
    if isinstance(agreement, Inbound):
        if floor.no_onward_red is not None and agreement.red_recipients:
            out.append(f"names RED recipients onward, but {floor.no_onward_red} forbids it")
        return out
    if floor.ceiling_outside is not None and agreement.ceiling > floor.ceiling_outside[0]:
        level, src = floor.ceiling_outside
        out.append(
            f"tlp_ceiling {agreement.ceiling.label} is above {level.label}, "
            f"the ceiling outside the community set by {src}"
        )
    for k, src in sorted(floor.redact.items()):
        if k not in agreement.redact:
            out.append(f"does not redact {k}, which {src} applies to every share")
    for t, (hours, src) in sorted(floor.embargo.items()):
        if agreement.embargo_hours < hours and t not in agreement.types_excluded:
            out.append(f"embargo {agreement.embargo_hours:g} h for {t} is below {hours} h of {src}")
    for t, src in sorted(floor.excluded.items()):
        if t not in agreement.types_excluded and (
            not agreement.types_allowed or t in agreement.types_allowed
        ):
            out.append(f"type {t} may go, but {src} excludes it")
    for code, (allowed, src) in sorted(floor.jurisdiction.items()):
        own = agreement.jurisdiction.get(code, frozenset({code}))
        extra = own - allowed
        if extra:
            out.append(f"residency {code} may go to {', '.join(sorted(extra))}, beyond {src}")
    return out
