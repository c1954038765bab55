"""The architecture as a test: imports only point inward, and the core does no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import accord

SRC = Path(accord.__file__).resolve().parent
CORE = (
    "backup",
    "stix",
    "patterns",
    "policy",
    "ledger",
    "community",
    "privacy",
    "extract",
    "logsources",
    "standing",
    "formats",
    "limits",
)
OUTER = ("accord.store", "accord.service", "accord.taxii", "accord.web", "accord.cli")
# Modules whose use means I/O (files, network, databases, processes).
IO_MODULES = {
    "os",
    "io",
    "pathlib",
    "shutil",
    "socket",
    "sqlite3",
    "subprocess",
    "sqlalchemy",
    "psycopg",
    "httpx",
    "urllib",
    "gzip",
    "tempfile",
}
LAYERS = {
    "store": ("accord.service", "accord.taxii", "accord.web", "accord.cli"),
    "service": ("accord.taxii", "accord.web", "accord.cli"),
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py")) if (SRC / package).is_dir() else []


def test_the_core_imports_no_outer_layer_and_no_io() -> None:
    checked = 0
    for package in CORE:
        for path in _modules(package):
            checked += 1
            for name in _imports(path):
                assert not name.startswith(OUTER), f"{path.name} imports {name}"
                assert name.split(".")[0] not in IO_MODULES, f"{path.name} does I/O via {name}"
    assert checked >= 5  # stix/ and patterns/ exist


def test_inner_layers_do_not_import_outer_ones() -> None:
    for package, forbidden in LAYERS.items():
        paths = _modules(package)
        assert paths, package
        for path in paths:
            for name in _imports(path):
                assert not name.startswith(forbidden), f"{package}/{path.name} imports {name}"


def test_public_api_matches_all() -> None:
    public = {n for n in dir(accord) if not n.startswith("_") and n not in {"annotations"}}
    modules = {n for n in public if isinstance(getattr(accord, n), type(accord))}
    assert set(accord.__all__) == public - modules


def test_edges_go_through_the_services() -> None:
    """CLI, TAXII and the console call service functions; they never use the store themselves."""
    checked = 0
    for package in ("cli", "taxii", "web"):
        for path in _modules(package):
            checked += 1
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute):
                    assert node.attr != "store", f"{package}/{path.name} uses .store"
    assert checked >= 5
