"""The dashboard end to end in a real headless Chromium (Debian's, driven by Playwright).

A small store is served by uvicorn on a free port; screenshots go to test-output/.
Every request the browser makes must go to that server: nothing from a CDN (the ``browse``
fixture of conftest.py checks).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tagwatch.api import create_app
from tagwatch.store import open_store

from served import E2E_PURPOSE as PURPOSE, e2e_skips, login, serve_app, state_purpose  # tests/served.py

pytestmark = e2e_skips()
OUT = Path(__file__).resolve().parents[1] / "test-output"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from conftest import WEB_NOW, build_web_world
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.db'}")
    world = build_web_world(store)
    _add_evaluation_data(store, tmp_path_factory.mktemp("policeuk"))
    OUT.mkdir(exist_ok=True)
    with serve_app(create_app(store, clock=lambda: WEB_NOW)) as srv:
        world.url, world.store = srv.url, store
        yield world


def _add_evaluation_data(store, tmp: Path) -> None:
    """What the evaluator's page draws besides the web world: 14 police.uk months of five boroughs
    (crime halved in Lewisham from October 2025) and a sobriety tag worn since 15 January with one
    drinking event."""
    from conftest import (
        WEB_NOW,
        drink_curve,
        enrol_alcohol,
        local,
        tac_readings,
        write_police_uk_months,
    )

    from tagwatch.areas.trends import month_range
    from tagwatch.services.alcohol import ingest_alcohol_rows
    from tagwatch.services.areas import import_area_files
    import_area_files(store, write_police_uk_months(tmp, month_range("2025-01", "2026-02"), pilot=("Lewisham",),
                                                    pilot_from="2025-10"), WEB_NOW)
    start = local(2026, 1, 15)
    enrol_alcohol(store, "SA", "CAMA", "OSA", start, borough="Lewisham")
    ingest_alcohol_rows(store, tac_readings(start, WEB_NOW - 3_600_000, drink_curve(local(2026, 2, 14, 20)),
                                            device_id="CAMA"), WEB_NOW)


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
    state_purpose(page)  # the list itself is an audited location read
    page.wait_for_selector("h1:has-text('Shared with your force')")
    rows = page.locator("tr[data-match]")
    assert [rows.nth(i).get_attribute("data-match") for i in range(rows.count())] == [str(server.shared_match)]
    assert page.locator("nav a").all_inner_texts() == ["Shared with us"]
    rows.first.locator("button:has-text('Evidence')").click()
    page.wait_for_selector("#evidence-map[data-lsoas=shown]")  # zoomed in: LSOA boundaries drawn
    page.screenshot(path=OUT / "dashboard-police.png", full_page=True)
    page.goto(server.url + "/#alerts")  # no free browsing: the API refuses
    page.wait_for_selector("main .error")
    assert re.search(r"may not", page.locator("main .error").inner_text())


def test_evaluator_sees_the_programme_and_area_figures(browse, server):
    page = browse
    api_paths = []
    page.on("request", lambda r: api_paths.append(urlsplit(r.url).path) if "/api/" in r.url else None)
    login(page, server.url, "eva")
    page.wait_for_selector("h1:has-text('Programme evaluation')")
    assert page.locator("nav a").all_inner_texts() == ["Evaluation", "Counts"]
    page.wait_for_selector("#eval-map[data-layer=index-lsoa]")
    lsoas = int(page.get_attribute("#eval-map", "data-drawn"))
    # every LSOA of the five boroughs the files cover, coloured by its index (the other 27 are not covered)
    from conftest import AREA_BOROUGHS

    from tagwatch.data import london_lsoas
    assert lsoas == sum(f["properties"]["borough"] in AREA_BOROUGHS for f in london_lsoas()["features"]) > 800
    assert page.locator("#eval-map .leaflet-overlay-pane canvas").count() == 1
    assert "Community safety index by LSOA" in page.locator("#eval-legend").inner_text()
    # A chart for every programme series, the sobriety tags' among them, and the area charts.
    sections = page.locator("details.section")
    assert "Sobriety tags" in sections.all_inner_texts()[-1]
    for key in ("people_on_tag", "compliance_rate", "aamr_compliance_rate", "aamr_drinking_events",
                "neighbourhood_crime", "forecast"):
        assert page.locator(f"figure[data-series={key}] svg.chart").count() == 1, key
    n_series = page.locator("details.section tbody tr").count()
    assert page.locator("details.section figure svg.chart").count() == n_series > 40
    bars = page.locator("figure[data-series=aamr_drinking_events] rect.bar")
    assert [bars.nth(i).locator("title").text_content() for i in range(bars.count())] == [
        "Confirmed drinking events, 2026-01: 0", "Confirmed drinking events, 2026-02: 1",
        "Confirmed drinking events, 2026-03: 0"]
    page.screenshot(path=OUT / "dashboard-evaluator.png", full_page=True)

    page.select_option("#eval-layer", "index-borough")
    page.wait_for_selector("#eval-map[data-layer=index-borough]")
    assert int(page.get_attribute("#eval-map", "data-drawn")) == page.locator("h3:has-text('Boroughs') + div tbody tr").count()
    page.select_option("#eval-layer", "rate-burglary")
    page.wait_for_selector("#eval-map[data-layer=rate-burglary]")
    assert "per 1,000 residents a month" in page.locator("#eval-legend").inner_text()
    page.locator("#eval-map-box").screenshot(path=OUT / "dashboard-evaluator-map.png")

    page.fill("#eval-pilot-start", "2025-10")  # a start but no pilot borough: the API says what is missing
    page.click("#eval-update")
    page.wait_for_selector("main .error")
    assert "go together" in page.locator("main .error").inner_text()
    page.select_option("#eval-pilot", ["Lewisham"])
    page.click("#eval-update")
    page.wait_for_selector("#pilot-effect")
    assert "Pilot boroughs: Lewisham (1)" in page.locator("#pilot-effect").inner_text()
    assert page.locator("figure[data-series=pilot_effect] svg.chart").count() == 1
    page.locator("#pilot-effect").scroll_into_view_if_needed()
    page.screenshot(path=OUT / "dashboard-evaluator-effect.png")

    text = page.locator("main").inner_text()
    assert not [sid for sid in ("S1", "S2", "SA", "OS1", "TAG1", "CAMA") if re.search(rf"\b{sid}\b", text)]
    assert set(api_paths) <= {"/api/auth/token", "/api/map/config", "/api/evaluation", "/api/evaluation/boundaries"}
    page.click("nav a[href='#stats']")
    page.wait_for_selector("h1:has-text('Programme figures')")
    assert "alerts_by_kind: exclusion_breach" in page.locator("main").inner_text()


def test_admin_verifies_the_audit_chain(browse, server):
    page = browse
    login(page, server.url, "adm")
    page.click("#audit-verify")
    page.wait_for_selector("#audit-verdict.ok")
    page.screenshot(path=OUT / "dashboard-audit.png", full_page=True)
