"""Shared fixtures: the third-party data, the databases under test, nodes.

PostgreSQL: tests marked ``postgres`` (and the ``backend`` fixture's
``postgres`` side) run against ACCORD_TEST_POSTGRES_URL, each in a schema of
its own that is dropped afterwards. Where the server cannot be reached they
skip, except under ``CI=true``, where they fail: CI must never skip them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from accord.service.node import Node, init_node, open_node
from accord.settings import Settings, load_settings

# ../shared/data beside the project's root (DESIGN.md: "Where the data for tests lives").
SHARED_DATA = Path(
    os.environ.get("ACCORD_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
PG_URL = os.environ.get(
    "ACCORD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The third-party data folder; skips the test with a clear message where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"third-party data not found at {SHARED_DATA} (set ACCORD_SHARED_DATA)")
    return SHARED_DATA


def _pg_conninfo() -> str:
    url = make_url(PG_URL)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL conninfo; fails under CI=true when unreachable, skips elsewhere."""
    try:
        with psycopg.connect(_pg_conninfo(), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        message = f"PostgreSQL not reachable at {PG_URL}: {exc}"
        if IN_CI:
            pytest.fail(message + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(message)
    return _pg_conninfo()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A SQLAlchemy URL onto a fresh schema of the test database, dropped afterwards."""
    schema = f"accord_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def terminate_backends(server: str, application_name: str) -> int:
    """``pg_terminate_backend`` of every connection with this application_name: how many.

    Only a test's own connections carry its name: others share the server.
    """
    with psycopg.connect(server, autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s",
            (application_name,),
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for each backend: a SQLite file in tmp_path, a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgres_url"))


NodeFactory = Callable[..., Node]


@pytest.fixture
def make_node(tmp_path: Path) -> Iterator[NodeFactory]:
    """Make and open nodes in tmp_path; closed at the end of the test."""
    opened: list[Node] = []

    def factory(database_url: str = "", name: str = "test", **overrides: object) -> Node:
        home = tmp_path / f"node-{len(opened)}"
        settings = load_settings(
            {"ACCORD_HOME": str(home), "ACCORD_DATABASE_URL": database_url}, **overrides
        )
        init_node(settings, name)
        node = open_node(settings)
        opened.append(node)
        return node

    yield factory
    for node in opened:
        node.close()


@pytest.fixture
def node(make_node: NodeFactory, backend: str) -> Node:
    """An initialised node on each backend."""
    url = "" if backend.startswith("sqlite") else backend
    return make_node(url)


def settings_for(home: Path, database_url: str = "") -> Settings:
    """Settings for a node directory, as the CLI would read them."""
    return load_settings({"ACCORD_HOME": str(home), "ACCORD_DATABASE_URL": database_url})
