"""A live console on loopback: a real node, real data, four users, a clock the tests move."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn

from accord.service import ingest, sharing, users
from accord.service.node import Node, init_node, open_node
from accord.settings import load_settings
from accord.taxii import create_app
from accord.taxii._serve import server_config

PASSWORD = "correct horse battery staple"
ROLES = ("admin", "analyst", "auditor", "read-only")
EXAMPLES = Path("oasis/documentation/examples/example_json")
RLO = "\u202e"

# Attacker-controlled text, each in a real STIX field of a real object.
XSS_DESCRIPTION = '<script>document.title="pwned"</script><img src=x onerror="alert(1)">'
XSS_URL = "javascript:alert(document.cookie)"
RTL_NAME = f"invoice{RLO}fdp.exe"
BIG_PATTERN = "[domain-name:value = '" + "a" * 200_000 + ".example']"

# A short threat report (its text written for the tests): defanged IOCs, a CVE, a
# technique the text names, and markup in a sentence that must stay inert.
REPORT_TEXT = """# Operation Glasswing: a <b>loader</b> campaign

The actor sent phishing mail from billing@invoice-desk[.]com with a macro document.
The loader fetched its second stage from hxxp://update-cdn[.]net/gate.php and beaconed
to 203.0.113.77 every ten minutes.
It ran encoded PowerShell commands (T1059.001) to install itself.
The dropper exploited CVE-2023-23397 in Outlook.
A second server, 198.51.100.23, hosted the panel; we saw it on login-portal[.]org too.
"""
DRAFT_ID = __import__("hashlib").sha256(REPORT_TEXT.encode()).hexdigest()[:12]


class Clock:
    """Seconds since the epoch, moved by the tests (session expiry without sleeping)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class LiveConsole:
    url: str
    node: Node
    clock: Clock
    home: Path
    xss_ids: dict[str, str] = field(default_factory=dict)
    member_token: str = ""

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)

    def login(self, role: str) -> tuple[httpx.Client, str]:
        """A client logged in as the user of this role, and its CSRF token."""
        c = self.client()
        page = c.get("/console/login")
        token = csrf_of(page.text)
        r = c.post("/console/login", data={"csrf": token, "name": role, "password": PASSWORD})
        assert r.status_code == 303, r.text
        return c, csrf_of(c.get("/console/").text)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _xss_bundle(base: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """Real objects of the OASIS Poison Ivy example, their fields replaced by payloads."""
    objs = {o["type"]: o for o in base["objects"]}
    malware = dict(objs["malware"])
    malware.update(
        id="malware--0b7f6a2e-1f3e-4d2a-9b7a-6f6f0f1a2b3c",
        name=RTL_NAME,
        description=XSS_DESCRIPTION,
        external_references=[{"source_name": "vendor", "url": XSS_URL}],
    )
    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--5d3e8f5a-7b1c-4e2f-8a9b-0c1d2e3f4a5b",
        "created": "2024-03-01T00:00:00.000Z",
        "modified": "2024-03-01T00:00:00.000Z",
        "name": '"><svg onload=alert(2)>',
        "pattern": BIG_PATTERN,
        "pattern_type": "stix",
        "valid_from": "2024-03-01T00:00:00Z",
    }
    bundle = {"type": "bundle", "id": "bundle--9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"}
    bundle["objects"] = [malware, indicator]  # type: ignore[assignment]
    return orjson.dumps(bundle), {"malware": malware["id"], "indicator": indicator["id"]}


COMMUNITY_NORM = {"name": "slow-notes", "rule": {"min_embargo_hours": {"note": 1}}}


def _join_a_community(node: Node, where: Path) -> None:
    """A two-founder community (with a peer node made here), one genesis norm that touches
    no object of the tests, and one open proposal with this node's yes."""
    from accord.service import community

    settings = load_settings({"ACCORD_HOME": str(where / "peer")})
    init_node(settings, "cert-peer")
    peer = open_node(settings)
    genesis = where / "genesis.json"
    try:
        community.create(
            node,
            genesis,
            name="north-sea",
            jurisdiction="DE",
            founders=[community.card(peer, "NL")],
            norms=[COMMUNITY_NORM],
        )
        community.sign(peer, genesis)
    finally:
        peer.close()
    community.join(node, genesis)
    rule = {"redact": ["email"]}
    p = community.propose(node, {"type": "adopt-norm", "norm": {"name": "quiet", "rule": rule}})
    community.cast(node, p.id, "yes")


@pytest.fixture(scope="session")
def console_data() -> Path:
    from tests.conftest import SHARED_DATA

    if not (SHARED_DATA / EXAMPLES).is_dir():
        pytest.skip(f"third-party data not found at {SHARED_DATA} (set ACCORD_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def live_console(
    tmp_path_factory: pytest.TempPathFactory, console_data: Path
) -> Iterator[LiveConsole]:
    home = tmp_path_factory.mktemp("console") / "node"
    settings = load_settings(
        {
            "ACCORD_HOME": str(home),
            "ACCORD_WEB_MAX_UPLOAD": str(1_000_000),
            "ACCORD_WEB_SESSION_SECONDS": "600",
        }
    )
    init_node(settings, "cert-test")
    node = open_node(settings)
    for role in ROLES:
        users.add_user(node, role, role, PASSWORD)
    examples = console_data / EXAMPLES
    ingest.import_paths(
        node, [str(examples / "poisonivy.json"), str(examples / "apt1.json")], collection="shared"
    )
    xss, ids = _xss_bundle(orjson.loads((examples / "poisonivy.json").read_bytes()))
    (home / "xss.json").write_bytes(xss)
    report = ingest.import_paths(node, [str(home / "xss.json")], collection="shared")
    assert report.stored == 2, report.summary()
    from accord.service import reports

    draft = reports.import_document(node, REPORT_TEXT.encode(), "glasswing.md")
    assert draft.id == DRAFT_ID
    _join_a_community(node, home.parent)
    sharing.add_member(node, "partner", "soc@partner.example")
    sharing.grant(node, "shared", "partner", read=True, write=False)
    token, _ = sharing.create_token(node, "partner")
    clock = Clock()
    with serving(node, clock) as url:
        yield LiveConsole(url, node, clock, home, ids, token)
    node.close()


@contextmanager
def serving(node: Node, clock: Clock | None = None) -> Iterator[str]:
    """The node's app (TAXII and the console) on a loopback port in a thread: its URL."""
    port = _free_port()
    app = create_app(node.settings, node, clock=clock or Clock())
    server = uvicorn.Server(
        server_config(node.settings, app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the console did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
