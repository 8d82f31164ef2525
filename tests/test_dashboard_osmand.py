"""End to end through the live engine, in headless Chromium: a fix posted over OsmAnd moves the
subject's marker on the open live map, and the fixes that confirm an exclusion breach put it in
the open alert queue within 2 s, with no reload: tag -> server -> rules -> alert -> operator.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from conftest import offset
from served import e2e_skips, login, state_purpose  # tests/served.py

pytestmark = e2e_skips()
OUT = Path(__file__).resolve().parents[1] / "test-output"
SOON = 2000  # ms


@pytest.fixture(scope="module")
def server(engine_web):
    OUT.mkdir(exist_ok=True)
    return engine_web


def _osmand(w, lat: float, lon: float, t_ms: int) -> float:
    t0 = time.monotonic()
    r = httpx.get(w.url + "/osmand", params={"id": "TAG2", "key": w.keys["TAG2"], "lat": lat, "lon": lon, "timestamp": t_ms // 1000,
                                             "accuracy": 5, "batt": 90})
    assert r.status_code == 200 and r.text == "OK", r.text
    return t0


def test_an_osmand_fix_moves_the_marker_and_a_breach_reaches_the_queue(browse, server):
    page, w = browse, server
    login(page, w.url, "mon")
    state_purpose(page)
    page.locator("#live-list li[data-subject=S2]").wait_for()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")

    # S2 walks into the exclusion zone 1 km east of its route (conftest's web world).
    lon, lat = offset(1000, -3000)
    lat, lon = round(lat, 6), round(lon, 6)
    _osmand(w, lat, lon, w.now_ms - 5 * 60_000)
    expect(page.locator("#live-map")).to_have_attribute("data-moved", f"S2 {lat},{lon}", timeout=SOON)

    page.click("nav a[href='#alerts']")
    page.locator("tbody tr").first.wait_for()
    before = set(page.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.alert)"))
    for minutes in (4, 3, 2):  # three fixes over two minutes inside: the dwell rule confirms the breach
        confirmed_at = _osmand(w, lat, lon, w.now_ms - minutes * 60_000)
    expect(page.locator("tbody tr")).to_have_count(len(before) + 1, timeout=SOON)
    waited = time.monotonic() - confirmed_at
    after = set(page.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.alert)"))
    (added,) = after - before
    stored = w.store.alert(int(added))
    assert (stored["kind"], stored["subject_id"], stored["end_ms"]) == ("exclusion_breach", "S2", None)
    assert waited < SOON / 1000
    expect(page.locator("#alarm")).to_be_visible()  # exclusion breaches are high severity
    page.screenshot(path=OUT / "dashboard-osmand-breach.png", full_page=True)
