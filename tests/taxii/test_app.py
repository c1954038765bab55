"""The app's life (one node per process) and its place in the layers."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest

import accord.taxii
from accord.service.node import Node
from accord.settings import load_settings
from accord.taxii import create_app
from accord.taxii._serve import environment
from tests.taxii.helpers import TAXII

pytestmark = pytest.mark.anyio

EDGE = Path(accord.taxii.__file__).resolve().parent


async def test_the_app_opens_its_node_when_it_starts_and_closes_it_when_it_stops(
    node: Node,
) -> None:
    app = create_app(node.settings)
    state = app.state.taxii
    assert state.node is None
    async with app.router.lifespan_context(app):
        assert state.node is not None
        assert state.node.info.id == node.info.id
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            r = await client.get("/api/v21/", headers={"Accept": TAXII})
        assert r.json()["title"] == "Accord node test"
    assert state.node is None


async def test_a_given_node_is_left_open(node: Node) -> None:
    app = create_app(node.settings, node)
    async with app.router.lifespan_context(app):
        pass
    assert app.state.taxii.node is node
    assert node.store.collections() == []  # still usable


def test_workers_get_the_same_settings_from_their_environment(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "ACCORD_HOME": str(tmp_path),
            "ACCORD_DATABASE_URL": "postgresql+psycopg://u@h:5/db?options=-csearch_path%3Ds",
            "ACCORD_TAXII_TITLE": "CERT-X, TAXII",
            "ACCORD_TAXII_MAX_PAGE": "77",
            "ACCORD_TAXII_REQUEST_TIMEOUT": "2.5",
        }
    )
    env = environment(settings)
    assert env["ACCORD_TAXII_MAX_PAGE"] == "77"
    assert load_settings(env) == settings


def test_the_edge_reaches_the_database_only_through_the_services() -> None:
    for path in sorted(EDGE.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                module = node.module if isinstance(node, ast.ImportFrom) else None
                for name in [*names, module or ""]:
                    assert not name.startswith(("sqlalchemy", "psycopg", "sqlite3")), path.name
                if module == "accord.store":
                    # Value types only (who is asking), never the store itself.
                    assert {a.name for a in node.names} <= {"Member"}, path.name
                assert not (module or "").startswith("accord.store."), path.name
            if isinstance(node, ast.Attribute):
                assert node.attr != "store", f"{path.name} uses node.store"
