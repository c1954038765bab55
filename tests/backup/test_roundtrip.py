"""Back up a node with real data, restore it, and serve both over TAXII on loopback."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import orjson
from sqlalchemy import create_engine

from accord.service import backup, transparency
from accord.service.node import KEY_FILE, NODE_FILE, PUB_FILE, Node, open_node
from accord.taxii import create_app
from tests.backup.conftest import Filled
from tests.conftest import settings_for
from tests.taxii.live import running

TAXII = "application/taxii+json;version=2.1"


def _served(node: Node, collection: str, token: str) -> list[tuple[str, bytes, str | None]]:
    """Every page of objects (all versions) and of the manifest, as served: URL, body, header."""
    pages: list[tuple[str, bytes, str | None]] = []
    headers = {"Accept": TAXII, "Authorization": f"Bearer {token}"}
    app = create_app(node.settings, node)
    with (
        running(app, node.settings) as base,
        httpx.Client(base_url=base, headers=headers, timeout=30) as client,
    ):
        for resource in ("objects", "manifest"):
            params: dict[str, str] = {"limit": "200", "match[version]": "all"}
            while True:
                path = f"/api/v21/collections/{collection}/{resource}/"
                r = client.get(path, params=params)
                assert r.status_code == 200, r.text
                pages.append((resource, r.content, r.headers.get("X-TAXII-Date-Added-Last")))
                body = orjson.loads(r.content)
                if not body.get("more"):
                    break
                params["next"] = body["next"]
    return pages


def test_a_restored_node_serves_exactly_what_the_original_served(
    filled: Filled, tmp_path: Path
) -> None:
    original = filled.node
    before = _served(original, filled.collection, filled.token)  # logs shares: the log grows
    transparency.current(original, force=True)  # a signed checkpoint over them
    made = backup.backup(original.settings, tmp_path / "b")
    c = made.manifest.contents
    assert c.versions == original.store.stats().versions > 100
    assert c.log.size == original.store.log_size() > 0
    assert c.log.checkpoint_size == c.log.size
    copy = tmp_path / "b" / made.manifest.database.path
    assert stat.S_IMODE(copy.stat().st_mode) == made.manifest.database.mode == 0o600
    url = original.settings.database_url
    if url:  # PostgreSQL: the original's schema dropped, restored into it from the dump
        original.close()
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{made.manifest.pg_schema}" CASCADE')
        engine.dispose()
    settings = settings_for(tmp_path / "restored", url)
    restored = backup.restore(settings, tmp_path / "b")
    assert restored.manifest == made.manifest
    home = settings.home
    assert stat.S_IMODE((home / KEY_FILE).stat().st_mode) == 0o600
    for name in (NODE_FILE, KEY_FILE, PUB_FILE):
        assert (home / name).read_bytes() == (original.settings.home / name).read_bytes()
    with open_node(settings) as node:
        assert node.info == original.info
        assert transparency.current(node).root.hex() == c.log.root
        after = _served(node, filled.collection, filled.token)
    assert len(after) >= 4  # pages of objects and of the manifest
    assert [p[0] for p in after] == [p[0] for p in before]
    assert after == before
