"""The console when its database is cut: 503 with Retry-After, never a 500 or a stack trace."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from sqlalchemy.engine import make_url

from accord.service import users
from tests.conftest import NodeFactory, terminate_backends
from tests.web.conftest import PASSWORD, csrf_of, serving

pytestmark = pytest.mark.postgres


def test_a_cut_database_is_a_503_page_and_the_console_recovers(
    make_node: NodeFactory, postgres_url: str, postgres_server: str
) -> None:
    name = f"accord-web-{uuid.uuid4().hex[:8]}"
    url = make_url(postgres_url).update_query_dict({"application_name": name})
    node = make_node(url.render_as_string(hide_password=False))
    users.add_user(node, "admin", "admin", PASSWORD)
    with serving(node) as base, httpx.Client(base_url=base, timeout=30) as client:
        token = csrf_of(client.get("/console/login").text)
        login = {"csrf": token, "name": "admin", "password": PASSWORD}
        assert client.post("/console/login", data=login, follow_redirects=False).status_code == 303
        assert client.get("/console/").status_code == 200
        assert terminate_backends(postgres_server, name) > 0
        time.sleep(0.1)
        # The pooled connection was used a moment ago: the page's first statement meets
        # the cut, and the console says so instead of failing.
        page = client.get("/console/")
        assert page.status_code == 503
        assert page.headers["retry-after"] == "2"
        assert "cannot be reached" in page.text and "Traceback" not in page.text
        assert client.get("/console/").status_code == 200  # recovered, same session
