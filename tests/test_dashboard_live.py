"""The dashboard's live updates end to end in headless Chromium: events published on the app's bus
(as the live engine will publish them) move a marker on the live map and change the alert queue
without a reload, a new high-severity alert sounds and stays on screen until seen, and the
header shows when the stream is down.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from served import e2e_skips, login, state_purpose  # tests/served.py

pytestmark = e2e_skips()
OUT = Path(__file__).resolve().parents[1] / "test-output"
SOON = 2000  # ms: what "without a reload, at once" means here


@pytest.fixture(scope="module")
def server(live_web):
    """The served web world of conftest (its bus is app.state.bus); the ``browse`` fixture checks against it."""
    OUT.mkdir(exist_ok=True)
    return live_web


def test_live_map_and_alert_queue_follow_the_stream(browse, server):
    page, w = browse, server
    status = page.locator("#live-status")
    login(page, w.url, "mon")
    state_purpose(page)
    s1 = page.locator("#live-list li[data-subject=S1]")
    s1.wait_for()
    expect(status).to_have_attribute("data-state", "live")
    expect(status).to_have_text("live")

    # A position moves S1's marker (and its line in the list), no reload.
    w.publish(w.position("S1", "TAG1", w.now_ms + 60_000, 51.4528, -0.0061))
    expect(page.locator("#live-map")).to_have_attribute("data-moved", "S1 51.4528,-0.0061", timeout=SOON)
    expect(s1).to_have_attribute("data-lat", "51.4528", timeout=SOON)
    assert page.locator("#live-list li").count() == 2
    w.publish(w.position("S1", "TAG1", w.now_ms, 51.0, -0.5))  # older than the one shown: ignored
    w.publish(w.position("S2", "TAG2", w.now_ms + 120_000, 51.4301, -0.0188))
    expect(page.locator("#live-list li[data-subject=S2]")).to_have_attribute("data-lat", "51.4301", timeout=SOON)
    assert s1.get_attribute("data-lat") == "51.4528"

    # A new high-severity alert: a banner (and a tone) on whatever page is open, until seen.
    alarm = page.locator("#alarm")
    expect(alarm).to_be_hidden()
    w.publish(w.alert(w.alert_rows["S1"], "new", id=9001, start_ms=w.now_ms - 60_000, end_ms=None,
                           status="open"))
    expect(alarm.locator("li[data-alert='9001']")).to_contain_text("exclusion breach", timeout=SOON)
    expect(alarm).to_be_visible()
    assert alarm.get_attribute("data-tones") == "1"
    page.screenshot(path=OUT / "dashboard-live-alarm.png", full_page=True)

    # The alert queue: new alerts go in at the top, updated ones change in place, retracted ones leave.
    page.click("nav a[href='#alerts']")
    page.locator(f"tr[data-alert='{w.alerts['S1']}']").wait_for()
    expect(status).to_have_attribute("data-state", "live")
    expect(alarm).to_be_visible()  # not seen yet
    rows = page.locator("tbody tr")
    n = rows.count()
    new = w.alert(w.alert_rows["S2"], "new", id=9002, start_ms=w.now_ms - 30_000, end_ms=None, status="open")
    w.publish(new)
    row = page.locator("tr[data-alert='9002']")
    expect(row.locator("[data-status]")).to_have_text("open", timeout=SOON)
    assert rows.first.get_attribute("data-alert") == "9002" and rows.count() == n + 1
    expect(alarm.locator("li")).to_have_count(2)
    assert alarm.get_attribute("data-tones") == "2"
    page.screenshot(path=OUT / "dashboard-alerts-live.png", full_page=True)
    w.publish(w.alert(new["alert"], "updated", status="acknowledged"))
    expect(row.locator("[data-status]")).to_have_text("acknowledged", timeout=SOON)
    assert rows.count() == n + 1 and rows.first.get_attribute("data-alert") == "9002"
    w.publish(w.alert(new["alert"], "retracted", retracted_ms=w.now_ms, retract_reason="late data"))
    expect(row).to_have_count(0, timeout=SOON)
    w.publish(w.alert(new["alert"], "new", id=9003, severity="low"))  # low severity: in the queue, no alarm
    expect(page.locator("tr[data-alert='9003']")).to_have_count(1, timeout=SOON)
    assert alarm.get_attribute("data-tones") == "2"
    page.click("#alarm-seen")
    expect(alarm).to_be_hidden()

    # resync: the page reloads its data (9003 was never stored, so it goes).
    with page.expect_response(lambda r: r.url.endswith("/api/alerts")):
        w.publish({"type": "resync"})
    expect(page.locator("tr[data-alert='9003']")).to_have_count(0)

    # The server stops streaming: the header says so, first reconnecting, then offline.
    w.server.stop()
    expect(status).to_have_attribute("data-state", "reconnecting", timeout=SOON + 1000)
    expect(status).to_have_text("reconnecting…")
    expect(status).to_have_attribute("data-state", "offline", timeout=10_000)
    page.screenshot(path=OUT / "dashboard-offline.png", full_page=True)
