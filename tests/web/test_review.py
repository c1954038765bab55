"""Report review in the console: drafts, drop and restore, techniques, publish, upload."""

from __future__ import annotations

import contextlib
import re

import orjson

from accord.service import reports
from accord.store import Query
from tests.web.conftest import DRAFT_ID, REPORT_TEXT, LiveConsole

SECOND = REPORT_TEXT.replace("Glasswing", "Paper Kite").replace("203.0.113.77", "192.0.2.1")


def test_review_shows_what_was_found_and_what_the_analyst_changed(
    live_console: LiveConsole,
) -> None:
    node = live_console.node
    doc = b"Beacon to evil-panel[.]com and 203.0.113.9; it used T1105 and T1566.\n"
    d = reports.import_document(node, doc, "small.txt")
    assert d.new and reports.import_document(node, doc, "again.txt").id == d.id
    d = reports.edit_draft(node, d.id, drop=["evil-panel[.]com", "T1105"])
    findings, techniques = reports.review(d)
    by_value = {r.finding.value: r for r in findings}
    assert by_value["evil-panel.com"].by_analyst and not by_value["evil-panel.com"].kept
    assert by_value["203.0.113.9"].rule and not by_value["203.0.113.9"].by_analyst
    assert {r.technique.attack_id: r.removed for r in techniques} == {
        "T1105": True,
        "T1566": False,
    }
    d = reports.edit_draft(node, d.id, restore=["evil-panel.com"], add_techniques=["T1105"])
    findings, techniques = reports.review(d)
    assert all(not r.by_analyst for r in findings)
    assert not any(r.removed for r in techniques)


def _form_fields(page: str, action: str, value: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action`` for ``value``."""
    for form in re.findall(r"<form[^>]*>.*?</form>", page, re.S):
        if f'action="{action}"' in form and f'value="{value}"' in form:
            return dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    raise AssertionError(f"no form to {action} for {value}")


def test_an_analyst_reviews_and_publishes_a_draft(live_console: LiveConsole) -> None:
    client, csrf = live_console.login("analyst")
    with contextlib.closing(client):
        r = client.post(
            "/console/intake/report",
            data={"csrf": csrf},
            files={"report": ("paper-kite.md", SECOND.encode(), "text/markdown")},
        )
        assert r.status_code == 303, r.text[-500:]
        url = r.headers["location"]
        draft_id = url.rsplit("/", 1)[1]
        page = client.get(url).text
        assert "Operation Paper Kite: a &lt;b&gt;loader&lt;/b&gt; campaign" in page
        assert "<b>loader" not in page
        assert "hxxp://update-cdn[.]net/gate.php and beaconed" in page  # the evidence
        assert "documentation range" in page  # the rule that dropped 198.51.100.23
        # Drop a value, through the page's own form.
        action = f"/console/reports/{draft_id}/findings"
        fields = _form_fields(page, action, "login-portal.org")
        assert fields["action"] == "drop"
        assert client.post(action, data=fields).status_code == 303
        page = client.get(url).text
        assert _form_fields(page, action, "login-portal.org")["action"] == "restore"
        assert "by the analyst" in page
        # Remove the named technique, add another.
        tech = f"/console/reports/{draft_id}/techniques"
        r = client.post(tech, data={"csrf": csrf, "technique": "T1059.001", "action": "remove"})
        assert r.status_code == 303
        r = client.post(tech, data={"csrf": csrf, "technique": "t1566", "action": "add"})
        assert r.status_code == 303
        bad = client.post(tech, data={"csrf": csrf, "technique": "T99", "action": "add"})
        assert bad.status_code == 400 and "not an ATT&amp;CK technique id" in bad.text
        page = client.get(url).text
        assert "T1059.001</code> (removed)" in page and "added by the analyst" in page
        # Publishing needs a collection; then the published report has its object page.
        pub = f"/console/reports/{draft_id}/publish"
        r = client.post(pub, data={"csrf": csrf})
        assert r.status_code == 400 and "no collection" in r.text
        r = client.post(pub, data={"csrf": csrf, "collection": "reviewed-reports"})
        assert r.status_code == 303
        page = client.get(url).text
        assert "published" in page and "reviewed-reports" in page
        m = re.search(r'href="/console/object/(report--[0-9a-f-]+)"', page)
        assert m, "no link to the published report"
        report = client.get(f"/console/object/{m.group(1)}")
        assert report.status_code == 200 and "Paper Kite" in report.text
        listed = client.get("/console/reports").text
        assert draft_id in listed and DRAFT_ID in listed
    node = live_console.node
    coll = node.store.collection("reviewed-reports")
    stored = [orjson.loads(o.data) for o in node.store.query(Query(collection_pk=coll.pk))]
    patterns = " ".join(str(o.get("pattern", "")) for o in stored)
    assert "update-cdn.net" in patterns and "login-portal.org" not in patterns
    assert "198.51.100.23" not in patterns
    techniques = {
        r["external_id"]
        for o in stored
        if o["type"] == "attack-pattern"
        for r in o.get("external_references", [])
        if r.get("source_name") == "mitre-attack"
    }
    assert "T1566" in techniques and "T1059.001" not in techniques


def test_a_reader_sees_drafts_but_no_form(live_console: LiveConsole) -> None:
    client, csrf = live_console.login("read-only")
    with contextlib.closing(client):
        page = client.get(f"/console/reports/{DRAFT_ID}")
        assert page.status_code == 200 and "CVE-2023-23397" in page.text
        assert page.text.count('method="post"') == 1  # the logout form only
        r = client.post(
            f"/console/reports/{DRAFT_ID}/findings",
            data={"csrf": csrf, "value": "CVE-2023-23397", "action": "drop"},
        )
        assert r.status_code == 403
    assert reports.draft(live_console.node, DRAFT_ID).body["drops"] == []


def test_an_unknown_draft_and_a_bad_upload(live_console: LiveConsole) -> None:
    client, csrf = live_console.login("analyst")
    with contextlib.closing(client):
        assert client.get("/console/reports/000000000000").status_code == 404
        r = client.post("/console/intake/report", data={"csrf": csrf}, files={"x": ("x", b"")})
        assert r.status_code == 400 and "choose a report file" in r.text
