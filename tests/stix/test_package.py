"""The shape of the stix and patterns packages: public API, purity, import order."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import accord.patterns
import accord.stix

_SRC = Path(__file__).resolve().parents[2] / "src" / "accord"
# The pure core may import the standard library, orjson, regex (MATCHES with a
# time limit, accord.patterns.Matcher), and itself.
_ALLOWED = ("accord.stix", "accord.patterns", "accord.exceptions", "orjson", "regex")


def test_public_api() -> None:
    assert sorted(accord.stix.__all__) == [
        "Record",
        "STIX_TYPES",
        "TLP1_IDS",
        "TLP2_IDS",
        "TLP2_ID_OF",
        "TLP_IDS",
        "Tlp",
        "is_identifier",
        "is_type_name",
        "normalize_query",
        "parse_timestamp",
        "prepare",
        "tlp_of_refs",
        "version_key",
    ]
    assert sorted(accord.patterns.__all__) == [
        "CompiledPattern",
        "DEFAULT_LIMITS",
        "Event",
        "Hit",
        "Limits",
        "Matcher",
        "Pattern",
        "compile_cached",
        "explain",
        "match",
        "parse",
        "pattern_observables",
        "validate",
        "warnings_of",
    ]
    for module in (accord.stix, accord.patterns):
        for name in module.__all__:
            value = getattr(module, name)
            if callable(value):
                assert value.__doc__, name
            # Functions document their arguments; classes and one-argument predicates need not.
            if callable(value) and not isinstance(value, type) and name != "is_type_name":
                assert "Args:" in value.__doc__, name
    assert accord.stix.Record._fields == (
        "id",
        "type",
        "version",
        "spec_version",
        "revoked",
        "data",
        "observables",
        "notes",
        "tlp",
        "created",
    )


@pytest.mark.parametrize("package", ["stix", "patterns"])
def test_pure_core_imports_nothing_outer(package: str) -> None:
    stdlib = sys.stdlib_module_names
    for path in sorted((_SRC / package).glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in stdlib or name.startswith(_ALLOWED), f"{path.name} imports {name}"


@pytest.mark.parametrize("first", ["accord.patterns", "accord.stix", "accord.patterns._keys"])
def test_imports_in_any_order(first: str) -> None:
    """stix uses patterns for indicator keys and patterns uses stix's normalisation."""
    code = (
        f"import {first}; from accord.stix import prepare;"
        " from accord.patterns import pattern_observables"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "path", sorted((_SRC / "stix").glob("*.py")) + sorted((_SRC / "patterns").glob("*.py"))
)
def test_modules_stay_small(path: Path) -> None:
    # STYLE.md: one module per concept, split before a module reaches 1,000 lines.
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 900
