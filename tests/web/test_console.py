"""The console over real HTTP on loopback: roles on every route, CSRF, sessions, bad input."""

from __future__ import annotations

import contextlib
import html
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from accord.service import sharing, users
from accord.service.users import RIGHTS
from accord.settings import load_settings
from accord.web import _admin, _pages, _reports, create_console
from tests.cli_run import run
from tests.web.conftest import (
    BIG_PATTERN,
    DRAFT_ID,
    PASSWORD,
    RLO,
    ROLES,
    XSS_URL,
    LiveConsole,
    csrf_of,
)

OBJECT = "malware--0b7f6a2e-1f3e-4d2a-9b7a-6f6f0f1a2b3c"

# Every route of the console and the right it needs (admin, analyst, auditor, read-only).
ROUTES: list[tuple[str, str, str]] = [
    ("GET", "/console/", "read"),
    ("GET", "/console/search?type=malware", "read"),
    ("GET", f"/console/object/{OBJECT}", "read"),
    ("GET", f"/console/graph/{OBJECT}", "read"),
    ("GET", f"/console/graph/{OBJECT}/elements", "read"),
    ("GET", "/console/detection", "read"),
    ("GET", "/console/log", "read"),
    ("GET", "/console/reports", "read"),
    ("GET", "/console/community", "read"),
    ("GET", "/console/lookup", "read"),
    ("GET", f"/console/reports/{DRAFT_ID}", "read"),
    ("POST", f"/console/reports/{DRAFT_ID}/findings", "import"),
    ("POST", f"/console/reports/{DRAFT_ID}/techniques", "import"),
    ("POST", f"/console/reports/{DRAFT_ID}/publish", "import"),
    ("POST", "/console/intake/report", "import"),
    ("GET", "/console/intake", "import"),
    ("POST", "/console/intake", "import"),
    ("GET", "/console/admin", "audit"),
    ("POST", "/console/admin/members", "admin"),
    ("POST", "/console/admin/tokens", "admin"),
    ("POST", "/console/admin/tokens/revoke", "admin"),
    ("POST", "/console/admin/collections", "admin"),
    ("POST", "/console/admin/grants", "admin"),
    ("POST", "/console/admin/users", "admin"),
    ("POST", "/console/admin/users/remove", "admin"),
    ("POST", "/console/admin/peers/sync", "admin"),
    ("GET", "/console/admin/agreements", "audit"),
    ("GET", "/console/admin/agreements/partner", "audit"),
    ("POST", "/console/admin/agreements/partner", "admin"),
]
OPEN = {("GET", "/login"), ("POST", "/login"), ("POST", "/logout")}


def _template(path: str) -> str:
    path = path.split("?")[0].removeprefix("/console")
    path = path.replace(OBJECT, "{object_id}").replace(DRAFT_ID, "{draft_id}")
    return path.replace("agreements/partner", "agreements/{name}")


def test_the_table_covers_every_route(tmp_path: Path) -> None:
    app = create_console(load_settings({"ACCORD_HOME": str(tmp_path)}), lambda: None)
    routes = [*app.routes, *_pages.router.routes, *_admin.router.routes, *_reports.router.routes]
    served = {
        (m, r.path) for r in routes if isinstance(r, APIRoute) for m in r.methods or ()
    } - OPEN
    tabled = {(m, _template(p) or "/") for m, p, _ in ROUTES}
    assert served == tabled


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "right"), ROUTES)
def test_each_role_reaches_exactly_its_routes(
    live_console: LiveConsole, role: str, method: str, path: str, right: str
) -> None:
    client, csrf = live_console.login(role)
    with contextlib.closing(client):
        if method == "GET":
            r = client.get(path)
        else:
            r = client.post(path, data={"csrf": csrf}, files={"x": ("x", b"")})
    allowed = right in RIGHTS[users.check_role(role)]
    if allowed:
        assert r.status_code not in (401, 403), (role, path, r.status_code, r.text[-500:])
    else:
        assert r.status_code == 403, (role, path, r.status_code)
        assert "may not do this" in r.text and right in r.text


@pytest.mark.parametrize(("method", "path", "right"), ROUTES)
def test_no_session_no_page(live_console: LiveConsole, method: str, path: str, right: str) -> None:
    with live_console.client() as c:
        r = c.request(method, path)
    assert r.status_code == 401
    assert "log in" in r.text.lower()


def test_a_taxii_token_never_opens_the_console(live_console: LiveConsole) -> None:
    token = live_console.member_token
    with live_console.client() as c:
        taxii = c.get("/taxii2/", headers={"Authorization": f"Bearer {token}"})
        assert taxii.status_code == 200
        for auth in (
            f"Bearer {token}",
            f"Basic {__import__('base64').b64encode(f'partner:{token}'.encode()).decode()}",
        ):
            r = c.get("/console/", headers={"Authorization": auth})
            assert r.status_code == 401
        # Nor does the token as a login password of a user named like the member.
        page = c.get("/console/login")
        r = c.post(
            "/console/login",
            data={"csrf": csrf_of(page.text), "name": "partner", "password": token},
        )
        assert r.status_code == 401 and "wrong user name or password" in r.text


def test_every_page_has_the_strict_csp(live_console: LiveConsole) -> None:
    client, _ = live_console.login("admin")
    with contextlib.closing(client):
        for _, path, _ in [r for r in ROUTES if r[0] == "GET"] + [("GET", "/console/login", "")]:
            r = client.get(path)
            csp = r.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "style-src 'self'" in csp
            assert "unsafe-inline" not in csp and "default-src 'none'" in csp
            assert r.headers["x-frame-options"] == "DENY"
            assert "<script>" not in r.text and " style=" not in r.text
            # Every form that posts carries the CSRF token.
            posts = r.text.count('method="post"')
            assert r.text.count('name="csrf"') == posts, path
        r = client.get("/console/static/console.css")
        assert r.status_code == 200 and "content-security-policy" in r.headers


def test_session_cookie_flags(live_console: LiveConsole) -> None:
    with live_console.client() as c:
        page = c.get("/console/login")
        r = c.post(
            "/console/login",
            data={"csrf": csrf_of(page.text), "name": "read-only", "password": PASSWORD},
        )
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=600" in cookie
    assert "secure" not in cookie  # plain HTTP on loopback; auto sets it behind TLS


def test_a_wrong_csrf_token_is_refused_and_nothing_is_stored(live_console: LiveConsole) -> None:
    client, csrf = live_console.login("admin")
    with contextlib.closing(client):
        for token in ("", "x" * len(csrf), csrf[:-1]):
            r = client.post("/console/admin/members", data={"csrf": token, "name": "evil-corp"})
            assert r.status_code == 403 and "security token" in r.text
        assert "evil-corp" not in client.get("/console/admin").text
        # The login form has its own token: a cross-site login is refused too.
        r = client.post(
            "/console/login", data={"csrf": "forged", "name": "admin", "password": PASSWORD}
        )
        assert r.status_code == 403


def test_the_session_expires_and_nothing_is_stored(live_console: LiveConsole) -> None:
    client, csrf = live_console.login("admin")
    with contextlib.closing(client):
        assert client.get("/console/").status_code == 200
        live_console.clock.offset = 601
        try:
            r = client.get("/console/")
            late = client.post("/console/admin/members", data={"csrf": csrf, "name": "too-late"})
        finally:
            live_console.clock.offset = 0
        assert r.status_code == 401 and "expired" in r.text
        assert late.status_code == 401 and "expired" in late.text
    assert "too-late" not in {m.member.name for m in sharing.members(live_console.node)}


def test_a_missing_right_stores_nothing(live_console: LiveConsole) -> None:
    client, csrf = live_console.login("analyst")
    with contextlib.closing(client):
        r = client.post("/console/admin/members", data={"csrf": csrf, "name": "sneaky"})
        assert r.status_code == 403 and "may not do this" in r.text and "analyst" in r.text
        r = client.post(
            "/console/admin/users",
            data={"csrf": csrf, "name": "root", "role": "admin", "password": PASSWORD},
        )
        assert r.status_code == 403
    assert "sneaky" not in {m.member.name for m in sharing.members(live_console.node)}
    assert "root" not in {u.name for u in users.users(live_console.node)}


def test_a_new_password_ends_the_sessions(live_console: LiveConsole) -> None:
    client, _ = live_console.login("auditor")
    with contextlib.closing(client):
        users.set_password(live_console.node, "auditor", PASSWORD + "!")
        try:
            assert client.get("/console/").status_code == 401
        finally:
            users.set_password(live_console.node, "auditor", PASSWORD)


def test_failed_logins_are_rate_limited(live_console: LiveConsole) -> None:
    # Counted from an hour on: the failures of earlier tests are out of the window.
    live_console.clock.offset = 3600
    with live_console.client() as c:
        token = csrf_of(c.get("/console/login").text)
        codes = [
            c.post(
                "/console/login", data={"csrf": token, "name": "nobody", "password": "wrong-one-!"}
            ).status_code
            for _ in range(6)
        ]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    # Five minutes later the address may try again (and the other tests may log in).
    live_console.clock.offset = 3600 + 301
    try:
        live_console.login("admin")[0].close()
    finally:
        live_console.clock.offset = 0


def test_attacker_text_renders_inert(live_console: LiveConsole) -> None:
    client, _ = live_console.login("read-only")
    with contextlib.closing(client):
        page = client.get(f"/console/object/{OBJECT}").text
        search = client.get("/console/search", params={"text": "pwned"}).text
        big = client.get(f"/console/object/{live_console.xss_ids['indicator']}").text
    assert "<script>document" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page
    # A javascript: URL is shown as text, never linked.
    assert f'href="{XSS_URL}' not in page and html.escape(XSS_URL) in page
    assert RLO not in page and "U+202E" in page
    assert "<svg onload" not in big
    # 200 kB of pattern: the page shows a bounded part and says so.
    assert len(big) < 60_000 and f"{len(BIG_PATTERN):,} characters" in big
    assert "<script>" not in search


def test_an_upload_over_the_limit_stores_nothing(live_console: LiveConsole) -> None:
    client, csrf = live_console.login("analyst")
    with contextlib.closing(client):
        before = client.get("/console/search", params={"type": "indicator"}).text.count(
            "/console/object/"
        )
        blob = b'{"type":"bundle","id":"bundle--1","objects":[' + b" " * 1_200_000 + b"]}"
        r = client.post(
            "/console/intake", data={"csrf": csrf}, files={"bundle": ("big.json", blob)}
        )
        assert r.status_code == 413 and "limited to 1,000,000 bytes" in r.text
        after = client.get("/console/search", params={"type": "indicator"}).text.count(
            "/console/object/"
        )
    assert before == after


def test_user_commands(tmp_path: Path) -> None:
    home = tmp_path / "n"
    assert run(home, "init")[0] == 0
    pw = tmp_path / "pw"
    pw.write_text("a long enough password\n")
    code, out, err = run(
        home, "user", "add", "zoe", "--role", "auditor", "--password-file", str(pw)
    )
    assert code == 0, err
    assert "added user 'zoe' (auditor)" in out
    code, out, _ = run(home, "user", "list")
    assert "zoe" in out and "auditor" in out
    code, _, err = run(home, "user", "add", "max", "--role", "boss", "--password-file", str(pw))
    assert code == 1 and "role 'boss'" in err
    short = tmp_path / "short"
    short.write_text("short\n")
    code, _, err = run(
        home, "user", "add", "max", "--role", "analyst", "--password-file", str(short)
    )
    assert code == 1 and "at least 12" in err
    assert run(home, "user", "remove", "zoe")[0] == 0
    code, _, err = run(home, "user", "remove", "zoe")
    assert code == 1 and "no user named 'zoe'" in err
    # Never a password on the command line: there is no such option.
    code, _, _ = run(home, "user", "add", "max", "--role", "analyst", "--password", "x" * 20)
    assert code != 0


def test_cookies_are_secure_behind_tls(tmp_path: Path) -> None:
    from starlette.requests import Request

    from accord.web._session import Sessions

    def request(scheme: str) -> Request:
        return Request(
            {
                "type": "http",
                "scheme": scheme,
                "path": "/",
                "headers": [],
                "server": ("node", 443),
                "query_string": b"",
            }
        )

    auto = Sessions(load_settings({"ACCORD_HOME": str(tmp_path)}), lambda: 0.0)
    assert auto.secure(request("https")) and not auto.secure(request("http"))
    always = Sessions(
        load_settings({"ACCORD_HOME": str(tmp_path), "ACCORD_WEB_SECURE_COOKIES": "always"}),
        lambda: 0.0,
    )
    assert always.secure(request("http"))


def test_the_log_page_shows_shares_to_auditors_only(live_console: LiveConsole) -> None:
    from accord.service import ledger

    node = live_console.node
    collection = node.store.collections()[0]
    member = node.store.create_member("cert-<b>audited</b>")
    ledger.share(
        node,
        channel="taxii-objects",
        collection=collection,
        member=member,
        agreement=None,
        added=[1, 2],
        body=b"{}",
    )
    auditor, _ = live_console.login("auditor")
    page = auditor.get("/console/log")
    assert page.status_code == 200
    assert "Latest checkpoint" in page.text and "Shares (auditor" in page.text
    assert "cert-&lt;b&gt;audited&lt;/b&gt;" in page.text and "<b>audited" not in page.text
    reader, _ = live_console.login("read-only")
    plain = reader.get("/console/log")
    assert plain.status_code == 200 and "Latest checkpoint" in plain.text
    assert "Shares (auditor" not in plain.text and "audited" not in plain.text
    auditor.close()
    reader.close()


def test_the_community_page(live_console: LiveConsole) -> None:
    from accord.service import community

    s = community.status(live_console.node)
    assert s is not None and len(s.open) == 1
    reader, _ = live_console.login("read-only")
    with contextlib.closing(reader):
        page = reader.get("/console/community")
    assert page.status_code == 200
    text = page.text
    assert s.view.state.hash in text and "north-sea" in text
    assert "cert-test" in text and "cert-peer" in text and ">NL<" in text and ">DE<" in text
    assert "slow-notes" in text and "the genesis" in text
    assert "{&#34;min_embargo_hours&#34;:{&#34;note&#34;:1}}" in text
    proposal = s.open[0]
    assert proposal.record.id in text and "adopt-norm" in text
    assert f"{proposal.tally.needed} of {proposal.tally.eligible}" in text
    assert '<td class="num">1</td>' in text  # this node's yes
    assert "no member has equivocated" in text


def test_the_lookup_page_shows_offers_to_admins_only(live_console: LiveConsole) -> None:
    from accord.privacy import blind, oprf_input
    from accord.service import lookup

    node = live_console.node
    shared = node.store.collection("shared")
    sharing.grant(node, "shared", "partner", read=True, write=False, lookup=True)
    report = lookup.offer(node, "shared")
    (made,) = report.members
    partner = node.store.member("partner")
    state = blind([oprf_input("ipv4-addr", "192.0.2.1"), oprf_input("domain-name", "a.example")])
    lookup.answer(node, partner, shared.id, report.epoch, state.body)
    admin, _ = live_console.login("admin")
    reader, _ = live_console.login("read-only")
    with contextlib.closing(admin), contextlib.closing(reader):
        full = admin.get("/console/lookup")
        plain = reader.get("/console/lookup")
    assert full.status_code == plain.status_code == 200
    row = f'<td class="num">{report.epoch}</td>'
    assert row in plain.text and report.public_key.hex()[:16] in plain.text
    assert "administrator" not in plain.text and "partner" not in plain.text
    assert "Offers by member (administrator" in full.text and "<bdi>partner</bdi>" in full.text
    assert f"{made.values:,}" in full.text and f"{made.size_class:,}" in full.text
    quota = node.settings.lookup_quota
    assert f"2 of {quota:,}" in full.text  # the batch of two evaluations


def test_an_objects_page_shows_members_opinions_and_its_standing(
    live_console: LiveConsole,
) -> None:
    from accord.service import standing

    ind = live_console.xss_ids["indicator"]
    client, _ = live_console.login("read-only")
    with contextlib.closing(client):
        before = client.get(f"/console/object/{ind}").text
        standing.false_positive(live_console.node, ind, "sinkholed")
        after = client.get(f"/console/object/{ind}").text
    assert "no member has spoken of it" in before
    assert "false positive: sinkholed" in after and "Standing <strong>-" in after
