"""`make audit` (scripts/audit.py) fails on a known-vulnerable dependency, and ignores on purpose.

pip-audit runs for real over this environment; its vulnerability service is a
small OSV-protocol server on loopback that knows one advisory for an installed
dependency (the real services are not reachable from the test machines).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit.py"
ADVISORY = "TEST-2026-0001"
IGNORED = "TEST-2026-0002"
# Dependencies of Accord, installed wherever the tests run: one advisory each.
ADVISORIES = {"rfc8785": ADVISORY, "rbloom": IGNORED}
VULNERABLE = "rfc8785"


class _Osv(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        answer: dict[str, object] = {}
        name = query["package"]["name"]
        if name in ADVISORIES:
            event = [{"introduced": "0"}, {"fixed": "999.0"}]
            affected: dict[str, object] = {"package": {"name": name, "ecosystem": "PyPI"}}
            affected["ranges"] = [{"type": "ECOSYSTEM", "events": event}]
            vuln = {"id": ADVISORIES[name], "summary": "a test", "affected": [affected]}
            answer = {"vulns": [vuln]}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def osv() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Osv)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    finally:
        server.shutdown()
        server.server_close()


def _audit(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_a_known_vulnerable_dependency_fails_the_audit_and_an_ignored_one_does_not(
    osv: str,
) -> None:
    # One pip-audit run (it is the slow part): one advisory reported, one ignored on purpose.
    run = _audit("--vulnerability-service", "osv", "--osv-url", osv, "--ignore-vuln", IGNORED)
    assert run.returncode == 1, run.stdout + run.stderr
    assert (
        f"VULNERABLE {VULNERABLE} {version(VULNERABLE)}: {ADVISORY}; fixed in 999.0" in run.stdout
    )
    assert IGNORED not in run.stdout and "rbloom" not in run.stdout
    assert "1 known vulnerabilities" in run.stdout
    audited = int(run.stdout.split("audit: ")[1].split()[0])
    assert audited > 50  # the whole environment, not the project alone
