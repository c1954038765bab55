"""Pooled PostgreSQL connections: pinged at checkout only when they may have been cut unseen.

`accord.store._failures.ping_when_unsure`: a connection unused for more than
``IDLE_PING_SECONDS``, or one last used before a cut connection was seen, is pinged
(and replaced if dead) before a statement runs on it; one used a moment ago is
trusted. The fault tests (tests/faults/test_database.py) cut connections under load;
these pin down each case on one store.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from accord.exceptions import StoreUnavailable
from accord.store import SqlStore, _failures, open_store
from tests.conftest import terminate_backends

pytestmark = pytest.mark.postgres


@pytest.fixture
def named(postgres_url: str) -> Iterator[tuple[SqlStore, str]]:
    """A store whose connections carry an application_name of their own, and that name."""
    name = f"accord-live-{uuid.uuid4().hex[:8]}"
    url = make_url(postgres_url).update_query_dict({"application_name": name})
    store = open_store(url.render_as_string(hide_password=False))
    try:
        yield store, name
    finally:
        store.close()


def _cut(server: str, name: str) -> int:
    cut = terminate_backends(server, name)
    time.sleep(0.1)  # the backends are gone once their sockets are closed
    return cut


def _backend_pid(store: SqlStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def test_a_connection_cut_while_idle_is_replaced_unseen(
    named: tuple[SqlStore, str], postgres_server: str
) -> None:
    store, name = named
    before = _backend_pid(store)
    assert _cut(postgres_server, name) == 1
    time.sleep(_failures.IDLE_PING_SECONDS + 0.2)
    assert store.collections() == []  # pinged, found dead, replaced: no error
    assert _backend_pid(store) != before


def test_a_cut_seen_once_has_every_other_pooled_connection_pinged(
    named: tuple[SqlStore, str], postgres_server: str
) -> None:
    store, name = named
    with store.engine.connect() as one, store.engine.connect() as two:  # two in the pool
        one.exec_driver_sql("SELECT 1")
        two.exec_driver_sql("SELECT 1")
    assert _cut(postgres_server, name) == 2
    # Used a moment ago and no cut seen since: trusted, so the first statement meets the
    # cut (the client gets 503 and tries again) ...
    with pytest.raises(StoreUnavailable):
        store.collections()
    # ... and from then on the other pooled connection is pinged before it is lent.
    assert store.collections() == []
    assert store.collections() == []


def test_a_connection_used_a_moment_ago_is_lent_without_a_ping(
    named: tuple[SqlStore, str],
) -> None:
    store, _ = named
    store.collections()
    pings: list[object] = []
    dialect = store.engine.dialect
    real = dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return bool(real(dbapi_connection))  # type: ignore[arg-type]

    dialect.do_ping = counted  # type: ignore[method-assign]
    try:
        for _ in range(5):
            store.collections()
        assert pings == []
        time.sleep(_failures.IDLE_PING_SECONDS + 0.2)
        store.collections()
        assert len(pings) == 1
    finally:
        dialect.do_ping = real  # type: ignore[method-assign]
