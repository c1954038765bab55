"""``accord report`` end to end, on both backends: import, list, show, edit, publish."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import orjson
import pytest

from accord.service.node import open_node
from accord.settings import load_settings
from accord.store import Query
from tests.cli_run import run
from tests.extract.pdfs import blank_pdf, encrypted_pdf, many_pages, text_pdf

TS = "2020-01-01T00:00:00.000Z"
REPORT = """= Operation Teapot: Sednit strikes again

The Sednit group sent spearphishing mail from ops[at]mail-secure[.]net.
The dropper contacts hxxps://update-srv[.]com/gate.php and 185.25.51[.]200.
It runs PowerShell (T1059.001) and writes %APPDATA%\\Microsoft\\svc.exe.
SHA-256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 exploits CVE-2023-23397.
More at https://www.welivesecurity.com/2020/post and https://blog.vendor.example/post.
"""


def _attack_bundle() -> bytes:
    def obj(kind: str, n: int, **extra: object) -> dict[str, object]:
        oid = f"{kind}--{uuid.UUID(int=n, version=4)}"
        return {
            "type": kind,
            "spec_version": "2.1",
            "id": oid,
            "created": TS,
            "modified": TS,
            **extra,
        }

    ext = [{"source_name": "mitre-attack", "external_id": "T1059.001"}]
    objects = [
        obj("attack-pattern", 1, name="PowerShell", external_references=ext),
        obj("intrusion-set", 2, name="APT28", aliases=["APT28", "Sednit", "Fancy Bear"]),
    ]
    return orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})


@pytest.fixture
def node_home(tmp_path: Path, backend: str) -> tuple[Path, dict[str, str]]:
    home = tmp_path / "node"
    env = {"ACCORD_DATABASE_URL": backend}
    code, _, err = run(home, "init", str(home), env=env)
    assert code == 0, err
    (tmp_path / "attack.json").write_bytes(_attack_bundle())
    code, _, err = run(home, "import", str(tmp_path / "attack.json"), env=env)
    assert code == 0, err
    return home, env


def _objects(home: Path, env: dict[str, str], kind: str) -> list[dict[str, object]]:
    settings = load_settings({"ACCORD_HOME": str(home), **env})
    node = open_node(settings)
    try:
        return [orjson.loads(o.data) for o in node.store.query(Query(types=(kind,)))]
    finally:
        node.close()


def test_import_review_edit_publish(node_home: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    home, env = node_home
    doc = tmp_path / "teapot.adoc"
    doc.write_text(REPORT)
    sha = hashlib.sha256(doc.read_bytes()).hexdigest()
    code, stdout, err = run(home, "report", "import", str(doc), "--tlp", "amber", env=env)
    assert code == 0, err
    assert f"new draft {sha[:12]}" in stdout
    # The draft is not in the store's objects: nothing to serve before publishing.
    assert _objects(home, env, "indicator") == []
    code, stdout, _ = run(home, "report", "import", str(doc), env=env)
    assert f"already imported as draft {sha[:12]}" in stdout
    code, stdout, _ = run(home, "report", "list", env=env)
    assert sha[:12] in stdout and "Operation Teapot" in stdout
    code, stdout, err = run(home, "report", "show", sha[:8], env=env)
    assert code == 0, err
    assert "url           https://update-srv.com/gate.php" in stdout
    assert "evidence: The dropper contacts hxxps://update-srv[.]com/gate.php" in stdout
    assert "T1059.001  PowerShell (named in the text)" in stdout
    assert "welivesecurity" not in stdout
    code, stdout, _ = run(home, "report", "show", sha[:8], "--dropped", env=env)
    assert "benign infrastructure" in stdout
    code, stdout, err = run(
        home,
        "report",
        "edit",
        sha[:12],
        "--drop",
        "185.25.51[.]200",
        "--add-technique",
        "T1566.001",
        env=env,
    )
    assert code == 0, err
    assert "1 value(s) dropped, 1 technique(s) added" in stdout
    code, stdout, err = run(home, "report", "publish", sha[:12], "--collection", "reports", env=env)
    assert code == 0, err
    assert "0 refused" in stdout and f"report {sha}" in stdout
    patterns = {str(o["pattern"]) for o in _objects(home, env, "indicator")}
    assert "[url:value = 'https://update-srv.com/gate.php']" in patterns
    assert "[email-addr:value = 'ops@mail-secure.net']" in patterns
    assert not any("185.25.51.200" in p for p in patterns)
    [report] = _objects(home, env, "report")
    assert report["external_references"][0]["hashes"] == {"SHA-256": sha}  # type: ignore[index]
    assert report["object_marking_refs"]
    refs = set(report["object_refs"])  # type: ignore[call-overload]
    assert f"attack-pattern--{uuid.UUID(int=1, version=4)}" in refs  # the node's ATT&CK object
    assert f"intrusion-set--{uuid.UUID(int=2, version=4)}" in refs  # named as "Sednit"
    [vuln] = _objects(home, env, "vulnerability")
    assert vuln["name"] == "CVE-2023-23397"
    uses = [o for o in _objects(home, env, "relationship") if o["relationship_type"] == "uses"]
    assert len(uses) == 2  # the intrusion set uses T1059.001 and T1566.001
    code, stdout, _ = run(home, "report", "list", env=env)
    assert "published" in stdout


def test_same_document_same_stix_ids_on_another_node(tmp_path: Path) -> None:
    doc = tmp_path / "r.md"
    doc.write_text(REPORT)
    ids = []
    for n in (1, 2):
        home = tmp_path / f"n{n}"
        assert run(home, "init", str(home))[0] == 0
        code, stdout, err = run(home, "report", "import", str(doc), env={})
        assert code == 0, err
        code, _, err = run(home, "report", "publish", stdout.split()[2].rstrip(":"), "-c", "r")
        assert code == 0, err
        env: dict[str, str] = {"ACCORD_DATABASE_URL": ""}
        ids.append(sorted(str(o["id"]) for o in _objects(home, env, "indicator")))
    assert ids[0] == ids[1] and ids[0]


def test_pdf_reports_and_bad_documents(tmp_path: Path) -> None:
    home = tmp_path / "node"
    assert run(home, "init", str(home))[0] == 0
    page = text_pdf(["The loader fetches hxxp://pdf-c2[.]net/a.bin", "from 91.92.93[.]94."])
    files = {
        "ok.pdf": page,
        "long.pdf": many_pages(page, 500),
        "scan.pdf": blank_pdf(2),
        "locked.pdf": encrypted_pdf(page),
        "corrupt.pdf": b"%PDF-1.7\n" + bytes(range(256)) * 50,
        "binary.txt": bytes(range(256)) * 50,
        "empty.txt": b"",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    code, stdout, err = run(home, "report", "import", str(tmp_path / "ok.pdf"))
    assert code == 0, err
    assert "2 indicators kept" in stdout
    code, stdout, err = run(home, "report", "import", str(tmp_path / "long.pdf"))
    assert code == 0, err
    assert "read the first 300 of 500 pages" in stdout
    expected = {
        "scan.pdf": "no text layer",
        "locked.pdf": "encrypted",
        "corrupt.pdf": "not a readable PDF",
        "binary.txt": "binary data",
        "empty.txt": "no text to read",
    }
    for name, reason in expected.items():
        code, _, err = run(home, "report", "import", str(tmp_path / name))
        assert code == 1 and reason in err, (name, err)
    code, _, err = run(home, "report", "show", "zzzzzz")
    assert code == 1 and "no report draft" in err
    code, _, err = run(home, "report", "import", str(tmp_path / "ok.pdf"), "--tlp", "purple")
    assert code == 1 and "--tlp" in err


def test_html_report_from_a_url(tmp_path: Path) -> None:
    import http.server
    import threading

    page = (
        "<html><head><title>t</title><script>var decoy = 'decoy-c2.com';</script></head>"
        "<body><h1>Campaign Kettle</h1><p>The implant beacons to "
        "<code>kettle-c2[.]org</code> over HTTPS.</p>"
        f'<img src="data:image/png;base64,{"A" * 2_000_000}"></body></html>'
    ).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        home = tmp_path / "node"
        assert run(home, "init", str(home))[0] == 0
        url = f"http://127.0.0.1:{server.server_address[1]}/kettle.html"
        code, stdout, err = run(home, "report", "import", url)
        assert code == 0, err
        assert "1 indicators kept" in stdout
        draft_id = stdout.split()[2].rstrip(":")
        code, stdout, _ = run(home, "report", "show", draft_id)
        assert "Campaign Kettle" in stdout and "domain        kettle-c2.org" in stdout
        assert "decoy" not in stdout
        code, _, err = run(home, "report", "publish", draft_id, "-c", "web")
        assert code == 0, err
        [report] = _objects(home, {"ACCORD_DATABASE_URL": ""}, "report")
        assert report["external_references"][0]["url"] == url  # type: ignore[index]
        code, _, err = run(home, "report", "import", f"{url[:-12]}missing", env={})
        assert code == 1
    finally:
        server.shutdown()
        server.server_close()
