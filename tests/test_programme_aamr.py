"""The programme report's sobriety-tags section, on a small hand-made dataset (figures worked out by hand)."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from tagwatch.services import alcohol as service_alcohol
from tagwatch.cli import app
from tagwatch.codec import parse_ts
from tagwatch.services.programme import programme_report
from tagwatch.store import open_store

HOUR = 3_600_000
DAY = 24 * HOUR
AAMR_KEYS = ["aamr_orders", "aamr_monitored_days", "aamr_compliant_days", "aamr_compliance_rate",
             "aamr_drinking_events", "aamr_integrity_alerts"]


def sobriety_pilot(store, alc, b) -> int:
    """Three alcohol orders across the January/February boundary (GMT, so every day is 24 hours).

    A (Lewisham): 30 Jan - 3 Feb, clean: Jan 30, 31 and Feb 1, 2 monitored and compliant.
    B (Lewisham): 31 Jan - 4 Feb; drinks at 20:00 on 31 Jan, the curve runs past midnight to about
       04:00: Jan 31 and Feb 1 not compliant, Feb 2 and 3 compliant; one drinking event, in January.
    C (Croydon): 1 - 6 Feb; strap tamper on 3 Feb 10:00-12:00 and an obstruction (skin 20 C) on
       4 Feb 14:00-15:30: those two days not compliant, Feb 1, 2 and 5 compliant; two integrity alerts.

    January: orders A, B = 2; monitored 2 + 1 = 3; compliant 2; rate 2/3; 1 event; 0 integrity alerts.
    February: orders A, B, C = 3; monitored 2 + 3 + 5 = 10; compliant 2 + 2 + 3 = 7; rate 0.7; 0; 2.
    Whole period: 3 orders; 13 monitored; 9 compliant; 9/13; 1 event; 2 alerts.
    Returns the horizon (10 Feb).
    """
    a0, b0, c0 = b.local(2026, 1, 30), b.local(2026, 1, 31), b.local(2026, 2, 1)
    alc.enrol(store, "SA", "CAMA", "OA", a0, a0 + 4 * DAY, borough="Lewisham")
    alc.enrol(store, "SB", "CAMB", "OB", b0, b0 + 4 * DAY, borough="Lewisham")
    alc.enrol(store, "SC", "CAMC", "OC", c0, c0 + 5 * DAY, borough="Croydon")
    rows = alc.readings(a0, a0 + 4 * DAY, device_id="CAMA")
    rows += alc.readings(b0, b0 + 4 * DAY, alc.drink(b0 + 20 * HOUR), device_id="CAMB")
    tamper = (b.local(2026, 2, 3, 10), b.local(2026, 2, 3, 12))
    obstructed = (b.local(2026, 2, 4, 14), b.local(2026, 2, 4, 15, 30))
    for r in alc.readings(c0, c0 + 5 * DAY, device_id="CAMC"):
        t = parse_ts(r["ts"])
        rows.append({**r, "tamper": "tamper" if tamper[0] <= t < tamper[1] else "ok",
                     "skin_temp_c": 20.0 if obstructed[0] <= t < obstructed[1] else r["skin_temp_c"]})
    horizon = b.local(2026, 2, 10)
    assert service_alcohol.ingest_alcohol_rows(store, rows, horizon).rejected == 0
    return horizon


def test_sobriety_tags_by_month(store, alc, b):
    horizon = sobriety_pilot(store, alc, b)
    rep = programme_report(store, "2026-01", "2026-02", as_of_ms=horizon)
    assert [sec.key for sec, _ in rep.sections][-2:] == ["aamr", "reoffending"]  # registered after the core ones
    (section,) = [(sec, ss) for sec, ss in rep.sections if sec.key == "aamr"]
    assert section[0].title == "Sobriety tags" and [s.key for s in section[1]] == AAMR_KEYS
    v = {k: (x.values, x.total) for k, x in rep.series().items()}
    assert v["aamr_orders"] == ([2, 3], 3)
    assert v["aamr_monitored_days"] == ([3, 10], 13)
    assert v["aamr_compliant_days"] == ([2, 7], 9)
    assert v["aamr_compliance_rate"][0] == pytest.approx([2 / 3, 7 / 10])
    assert v["aamr_compliance_rate"][1] == pytest.approx(9 / 13)
    assert v["aamr_drinking_events"] == ([1, 0], 1)
    assert v["aamr_integrity_alerts"] == ([0, 2], 2)
    # The same figures as the AAMR report over the same period (the section reuses its definitions).
    aamr, _ = service_alcohol.aamr(store, b.local(2026, 1, 1), b.local(2026, 3, 1), horizon)
    summary = aamr.summary()
    assert (summary["monitored_days"], summary["compliant_days"], summary["confirmed_drinking_events"]) == (13, 9, 1)
    # One borough keeps its subjects' rows only: C in Croydon.
    croydon = programme_report(store, "2026-01", "2026-02", "Croydon", horizon).series()
    assert croydon["aamr_monitored_days"].values == [0, 5] and croydon["aamr_compliant_days"].values == [0, 3]
    assert croydon["aamr_compliance_rate"].values == pytest.approx([None, 0.6])
    assert croydon["aamr_drinking_events"].total == 0 and croydon["aamr_integrity_alerts"].total == 2


def test_the_horizon_defaults_to_the_latest_reading(tmp_path, alc, b):
    """A programme of sobriety tags only (no GPS fix) still has a report."""
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    sobriety_pilot(store, alc, b)
    rep = programme_report(store)  # horizon: the last reading, 5 Feb 23:30
    assert rep.months == ["2026-01", "2026-02"]
    assert rep.series()["aamr_monitored_days"].values == [3, 10]


def test_no_alcohol_readings_no_sobriety_series(tmp_path, b):
    from tagwatch.model import Order, OrderType, OrderVersion, Subject
    store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    store.add_subject(Subject("A"), 0)
    store.add_order(Order("OA", "A", OrderType.LICENCE, b.local(2026, 3, 1), b.local(2026, 3, 5),
                          (OrderVersion("OA", 1, b.local(2026, 3, 1), ()),)), 0)
    rep = programme_report(store, "2026-03", "2026-03", as_of_ms=b.local(2026, 3, 10))
    assert {sec.key: ss for sec, ss in rep.sections}["aamr"] == []
    assert not any(k.startswith("aamr_") for k in rep.series())


def test_programme_html_and_json_hold_the_sobriety_section(tmp_path, alc, b):
    db = f"sqlite:///{tmp_path / 's.db'}"
    sobriety_pilot(open_store(db), alc, b)
    args = ["report", "programme", "--from", "2026-01", "--to", "2026-02", "--as-of", "2026-02-10T00:00:00Z",
            "--db", db]
    out = tmp_path / "p.html"
    res = CliRunner().invoke(app, [*args, "--format", "html", "--out", str(out)])
    assert res.exit_code == 0, res.output
    html = out.read_text()
    part = html[html.index("<h2>Sobriety tags</h2>"):]
    assert "<td>Sobriety tags: compliance rate</td><td>66.7%</td><td>70.0%</td><td>69.2%</td>" in part
    figures = re.findall(r"<figure>(<svg.*?</svg>)\s*</figure>", part, re.DOTALL)
    assert len(figures) == len(AAMR_KEYS)  # a plot for every series of the section
    assert "Confirmed drinking events" in figures[4] and "Tamper and obstruction alerts" in figures[5]
    doc = json.loads(CliRunner().invoke(app, [*args, "--format", "json"]).stdout)
    (aamr,) = [sec for sec in doc["sections"] if sec["key"] == "aamr"]
    assert {s["key"]: s["values"] for s in aamr["series"]}["aamr_monitored_days"] == [3, 10]
