"""The dashboard end to end in a real headless Chromium (Debian's, driven by Playwright).

A small store is served by uvicorn on a free port; screenshots go to test-output/.
Every request the browser makes must go to that server: nothing from a CDN.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tagwatch.api import create_app
from tagwatch.api.app import node_modules_dir
from tagwatch.store import open_store

pytestmark = [
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="apt-get install -y chromium (.ci/run does)"),
    pytest.mark.skipif(node_modules_dir() is None, reason="npm ci has not installed Leaflet (make install-test does)"),
]
OUT = Path(__file__).resolve().parents[1] / "test-output"
PURPOSE = "end-to-end test of the dashboard"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import uvicorn

    from conftest import WEB_NOW, build_web_world
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.db'}")
    world = build_web_world(store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(store, clock=lambda: WEB_NOW), host="127.0.0.1", port=port,
                                        log_level="warning", access_log=False))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    world.url, world.store = f"http://127.0.0.1:{port}", store
    OUT.mkdir(exist_ok=True)
    yield world
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browse(page, server):
    """The page, with every request checked to stay on the test server."""
    foreign = []
    page.on("request", lambda r: urlsplit(r.url).netloc not in (urlsplit(server.url).netloc, "")
            and not r.url.startswith("data:") and foreign.append(r.url))
    page.set_default_timeout(15_000)
    yield page
    assert not foreign, f"the dashboard fetched from outside the server: {foreign[:5]}"


def login(page, url: str, username: str) -> None:
    page.goto(url + "/")
    page.fill("#username", username)
    page.fill("#password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_selector("#who:has-text('" + username + "')")


def state_purpose(page) -> None:
    page.fill("#purpose-first", PURPOSE)
    page.click("form button[type=submit]")


def test_monitoring_acknowledges_an_alert_and_shares_a_match(browse, server):
    page = browse
    login(page, server.url, "mon")
    state_purpose(page)  # the live map is a location read: it asks why first
    page.wait_for_selector("#live-list li")
    page.wait_for_selector("#live-map .leaflet-overlay-pane canvas")  # boroughs, zones and positions drawn
    assert page.locator("#live-list li").count() == 2
    page.screenshot(path=OUT / "dashboard-live.png", full_page=True)

    page.click("nav a[href='#alerts']")
    row = page.locator(f"tr[data-alert='{server.alerts['S1']}']")
    assert row.locator("[data-status]").inner_text() == "open"
    page.fill("#alert-note", "called the subject, on the way home")
    row.locator("button[data-action=acknowledge]").click()
    page.wait_for_selector(f"tr[data-alert='{server.alerts['S1']}'] [data-status=acknowledged]")
    page.screenshot(path=OUT / "dashboard-alerts.png", full_page=True)

    page.goto(server.url + "/#subject/S1")
    page.wait_for_selector("#track-at:has-text('of 180')")
    assert "acknowledge by mon" in page.locator(".timeline").inner_text()
    page.click("#track-play")
    page.wait_for_timeout(600)
    page.screenshot(path=OUT / "dashboard-subject.png", full_page=True)

    page.click("nav a[href='#matches']")
    row = page.locator(f"tr[data-match='{server.unshared_match}']")
    page.fill("#share-force", "CITY")
    for action in ("qualified", "authorised", "shared"):
        row.locator(f"button[data-action={action}]").click()
        page.wait_for_selector(f"tr[data-match='{server.unshared_match}'] :text('{action}')")
    page.wait_for_selector(f"tr[data-match='{server.unshared_match}'] [data-shared=CITY]")
    row.locator("button:has-text('Evidence')").click()
    page.wait_for_selector("#evidence-map[data-lsoas=shown]")
    page.screenshot(path=OUT / "dashboard-matches.png", full_page=True)

    entries = server.store.audit_entries(limit=20)
    reads = [e for e in entries if e["actor"] == "mon" and e["action"].startswith("read_")]
    assert {e["action"] for e in reads} >= {"read_positions", "read_track", "read_match_evidence"}
    assert all(e["purpose"] == PURPOSE for e in reads)


def test_police_see_only_matches_shared_with_their_force(browse, server):
    page = browse
    login(page, server.url, "pol")
    page.wait_for_selector("h1:has-text('Shared with your force')")
    rows = page.locator("tr[data-match]")
    assert [rows.nth(i).get_attribute("data-match") for i in range(rows.count())] == [str(server.shared_match)]
    assert page.locator("nav a").all_inner_texts() == ["Shared with us"]
    rows.first.locator("button:has-text('Evidence')").click()
    state_purpose(page)
    page.wait_for_selector("#evidence-map[data-lsoas=shown]")  # zoomed in: LSOA boundaries drawn
    page.screenshot(path=OUT / "dashboard-police.png", full_page=True)
    page.goto(server.url + "/#alerts")  # no free browsing: the API refuses
    page.wait_for_selector("main .error")
    assert re.search(r"may not", page.locator("main .error").inner_text())


def test_evaluator_and_admin_pages(browse, server):
    page = browse
    login(page, server.url, "eva")
    page.wait_for_selector("h1:has-text('Programme figures')")
    assert "alerts_by_kind: exclusion_breach" in page.locator("main").inner_text()
    page.screenshot(path=OUT / "dashboard-evaluator.png", full_page=True)
    page.click("#logout")
    login(page, server.url, "adm")
    page.click("#audit-verify")
    page.wait_for_selector("#audit-verdict.ok")
    page.screenshot(path=OUT / "dashboard-audit.png", full_page=True)
