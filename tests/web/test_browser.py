"""The console in Debian's Chromium, driven by Playwright: the analyst's flows, axe, inert XSS.

The browser is the system's (``/usr/bin/chromium``, installed by ``make dev-setup``
through apt), never one that Playwright downloads. Screenshots of every step
land in ``test-artifacts/web/`` (``ACCORD_TEST_ARTIFACTS``), which git ignores.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, expect, sync_playwright

from tests.conftest import IN_CI
from tests.web.conftest import DRAFT_ID, PASSWORD, REPORT_TEXT, RTL_NAME, LiveConsole

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(os.environ.get("ACCORD_TEST_ARTIFACTS", "test-artifacts")) / "web"
EXAMPLE = Path("oasis/documentation/examples/example_json/indicator-for-malicious-url.json")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: `make dev-setup` installs Debian's chromium"
        if IN_CI:
            pytest.fail(message + " (CI=true: the browser tests must run)")
        pytest.skip(message)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, live_console: LiveConsole) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id="Europe/Berlin"
    )
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    problems: list[str] = []

    def watch(msg: ConsoleMessage) -> None:
        # Refused pages (400, 401, 403) are part of the flows; a CSP refusal never is.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            problems.append(msg.text)

    pg.on("console", watch)
    pg.on("pageerror", lambda exc: problems.append(str(exc)))
    yield pg
    context.close()
    # No page may break the CSP (a refused inline script or style) or fail a script.
    assert problems == []


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def login(page: Page, console: LiveConsole, role: str = "admin") -> None:
    page.goto(console.url + "/console/login")
    page.get_by_label("User name").fill(role)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def serious(page: Page) -> list[str]:
    result = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in result.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def test_the_analysts_flow(page: Page, live_console: LiveConsole, console_data: Path) -> None:
    login(page, live_console)
    expect(page.locator("figure.chart svg").first).to_be_visible()
    # Times are shown in the reader's zone, with UTC on hover.
    first_time = page.locator("time").first
    expect(first_time).to_have_class(re.compile("local"))
    assert re.search(r"\+0[12]:00$", first_time.inner_text())
    assert (first_time.get_attribute("title") or "").endswith("Z UTC")
    shot(page, "01-dashboard")

    page.get_by_role("link", name="Search").click()
    page.get_by_label("Free text (name, description)").fill("poison ivy")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name=re.compile(r"\d+ matches"))).to_be_visible()
    expect(page.locator(".facets")).to_contain_text("malware")
    shot(page, "02-search")

    page.locator("table.objects a", has_text="Poison Ivy").first.click()
    expect(page.locator("h1")).to_contain_text("Poison Ivy")
    expect(page.get_by_role("heading", name="Who receives this")).to_be_visible()
    expect(page.locator("table", has_text="partner")).to_be_visible()
    shot(page, "03-object")

    page.get_by_role("link", name="Graph").click()
    expect(page.locator("#graph[data-ready]")).to_be_attached()
    assert page.locator("#graph canvas").count() > 0
    shot(page, "04-graph")
    # Clicking (tapping) a node of the drawing opens that object.
    target = page.evaluate(
        "() => { const cy = document.getElementById('graph').accordGraph;"
        " const n = cy.nodes('[!root]')[0]; n.emit('tap'); return n.id(); }"
    )
    page.wait_for_url(re.compile("/console/object/" + re.escape(target)))
    page.go_back()
    walked = page.locator(".graph-list a", has_text="walk from here").nth(1)
    walked.click()
    expect(page.get_by_role("heading", name=re.compile("Graph of"))).to_be_visible()

    page.get_by_role("link", name="Intake").click()
    page.get_by_label(re.compile("STIX bundle")).set_input_files(str(console_data / EXAMPLE))
    page.get_by_label(re.compile("Into collection")).fill("intake-test")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text("stored")
    expect(page.get_by_text("Created collection intake-test")).to_be_visible()
    shot(page, "05-intake")

    page.get_by_role("link", name="Administration").click()
    page.locator("#m-name").fill("ally-cert")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("status")).to_contain_text("added member ally-cert")
    page.locator("#t-member").select_option("ally-cert")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token").inner_text()
    assert token.startswith("acc_") and len(token) > 30
    shot(page, "06-admin-token")
    page.reload()
    assert token not in page.content()  # shown once

    page.goto(live_console.url + "/console/admin/agreements/partner")
    page.get_by_label("TOML text").fill('members = ["partner"]\ntlp_ceiling = "amber"\n')
    page.get_by_role("button", name="Check and save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved and in force")
    page.locator("#a-member").select_option("partner")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("table", has_text="shared")).to_contain_text("partner")
    shot(page, "07-agreement")
    # A broken agreement is refused, and the one in force stays.
    page.get_by_label("TOML text").fill('members = ["partner"]\ntlp_ceiling = "blue"\n')
    page.get_by_role("button", name="Check and save").click()
    expect(page.locator("p.error")).to_contain_text("tlp_ceiling")
    assert (
        'tlp_ceiling = "amber"' in (live_console.home / "agreements" / "partner.toml").read_text()
    )

    page.goto(live_console.url + "/console/")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    response = page.goto(live_console.url + "/console/search")
    assert response is not None and response.status == 401


def test_review_and_publish_a_report(page: Page, live_console: LiveConsole, tmp_path: Path) -> None:
    doc = tmp_path / "night-heron.md"
    doc.write_text(REPORT_TEXT.replace("Glasswing", "Night Heron"))
    login(page, live_console, "analyst")
    page.get_by_role("link", name="Intake").click()
    page.get_by_label(re.compile("Report file")).set_input_files(str(doc))
    page.get_by_role("button", name="Read report").click()
    expect(page.locator("h1")).to_contain_text("Operation Night Heron: a <b>loader</b> campaign")
    row = page.locator("tr", has_text="login-portal.org")
    row.get_by_role("button", name="Drop").click()
    expect(page.locator("tr", has_text="login-portal.org")).to_contain_text("by the analyst")
    shot(page, "10-report-review")
    page.get_by_label(re.compile("Collection")).fill("browser-reports")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("table").first).to_contain_text("published to browser-reports")
    page.locator("a[href^='/console/object/report--']").click()
    expect(page.locator("h1")).to_contain_text("Night Heron")


def test_attacker_text_stays_inert_in_the_browser(page: Page, live_console: LiveConsole) -> None:
    dialogs: list[str] = []

    def dialog(d: Dialog) -> None:
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    login(page, live_console, "read-only")
    page.goto(f"{live_console.url}/console/object/{live_console.xss_ids['malware']}")
    expect(page.locator("h1")).to_contain_text("U+202E")
    assert page.title() != "pwned"
    assert page.locator("a[href^='javascript:']").count() == 0
    expect(page.locator(".inert-url")).to_contain_text("javascript:alert")
    assert RTL_NAME not in page.inner_text("h1")
    page.goto(f"{live_console.url}/console/object/{live_console.xss_ids['indicator']}")
    expect(page.locator(".cut").first).to_contain_text("characters")
    page.goto(f"{live_console.url}/console/search?text=pwned")
    page.goto(f"{live_console.url}/console/graph/{live_console.xss_ids['malware']}")
    expect(page.locator("#graph[data-ready]")).to_be_attached()
    shot(page, "08-xss")
    assert dialogs == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_violations(
    browser: Browser, live_console: LiveConsole, scheme: str
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)  # type: ignore[arg-type]
    page = context.new_page()
    try:
        # The check can fail: axe finds an image without a text alternative.
        page.set_content('<html lang="en"><title>t</title><main><img src="data:,"></main></html>')
        assert any(v.startswith("image-alt") for v in serious(page))
        page.goto(live_console.url + "/console/login")
        assert serious(page) == []
        login(page, live_console)
        paths = [
            "/console/",
            "/console/search?text=poison",
            "/console/object/malware--0b7f6a2e-1f3e-4d2a-9b7a-6f6f0f1a2b3c",
            "/console/detection",
            "/console/intake",
            "/console/reports",
            f"/console/reports/{DRAFT_ID}",
            "/console/community",
            "/console/lookup",
            "/console/admin",
            "/console/admin/agreements",
            "/console/admin/agreements/partner?member=partner",
        ]
        found = {}
        for path in paths:
            page.goto(live_console.url + path)
            found[path] = serious(page)
        assert found == {path: [] for path in paths}
    finally:
        context.close()


def test_phone_layout_and_keyboard(browser: Browser, live_console: LiveConsole) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        login(page, live_console, "analyst")
        page.goto(live_console.url + "/console/search?text=poison")
        # Nothing wider than the phone: no sideways scrolling.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390 + 1
        shot(page, "09-phone-search")
        # The first Tab reaches the skip link, which moves focus to the content.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
    finally:
        context.close()
