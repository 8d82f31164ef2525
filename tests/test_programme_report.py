"""The programme report's arithmetic on a small hand-made dataset (figures worked out by hand)."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from tagwatch.cli import app
from tagwatch.model import AlertKind, Episode, Order, OrderType, OrderVersion, Subject
from tagwatch.reports.programme import SECTIONS, ProgrammeData, build_report, monitored_days, register_section
from tagwatch.services.outcomes import record_match_outcome
from tagwatch.services.programme import load_programme_data, programme_report
from tagwatch.store import StoreError
from tagwatch.store import schema as s

LONDON = ZoneInfo("Europe/London")
MIN = 60_000


def local(*args) -> int:
    return int(datetime(*args, tzinfo=LONDON).timestamp() * 1000)


def test_person_days_are_local_calendar_days_across_month_and_dst_boundaries():
    # 28 March 12:00 to 2 April 12:00: clocks go forward on 29 March (a 23-hour day).
    days = monitored_days([(local(2026, 3, 28, 12), local(2026, 4, 2, 12))])
    assert days[datetime(2026, 3, 28).date()] == pytest.approx(0.5)
    assert days[datetime(2026, 3, 29).date()] == pytest.approx(1.0)  # the whole 23-hour day is one person-day
    assert sum(v for d, v in days.items() if d.month == 3) == pytest.approx(3.5)
    assert sum(v for d, v in days.items() if d.month == 4) == pytest.approx(1.5)
    # Elapsed time would say 119 hours / 24 = 4.958 person-days; calendar days say 5.
    assert (local(2026, 4, 2, 12) - local(2026, 3, 28, 12)) / 86_400_000 == pytest.approx(119 / 24)
    # 25 October: clocks go back (a 25-hour day). Midnight to 12:30 local is 13.5 hours of it.
    autumn = monitored_days([(local(2026, 10, 25, 0), local(2026, 10, 25, 12, 30))])
    assert autumn == {datetime(2026, 10, 25).date(): pytest.approx(13.5 / 25)}
    # Overlapping orders count once.
    both = monitored_days([(local(2026, 5, 1), local(2026, 5, 3)), (local(2026, 5, 2), local(2026, 5, 4))])
    assert sum(both.values()) == pytest.approx(3.0)


def hand_made() -> ProgrammeData:
    """A in Lewisham: 28 Mar 12:00 - 2 Apr 12:00, recalled. B in Croydon: from 1 Apr, still on at 5 Apr 00:00."""
    orders = [
        {"id": "OA", "subject_id": "A", "start_ms": local(2026, 3, 28, 12), "end_ms": local(2026, 4, 2, 12),
         "ended_ms": local(2026, 4, 2, 12), "end_reason": "recalled after breach", "variations_ms": [local(2026, 3, 30, 9)]},
        {"id": "OB", "subject_id": "B", "start_ms": local(2026, 4, 1, 0), "end_ms": local(2026, 9, 1),
         "ended_ms": None, "end_reason": "", "variations_ms": []},
    ]
    alerts = [  # created 10 minutes after start; acknowledged after 10, 20, 30, 40 minutes
        {"id": 1, "subject_id": "A", "kind": "curfew_breach", "start_ms": local(2026, 3, 29, 22),
         "end_ms": local(2026, 3, 29, 22, 30), "created_ms": local(2026, 3, 29, 22, 10)},
        {"id": 2, "subject_id": "A", "kind": "low_battery", "start_ms": local(2026, 3, 30, 8), "end_ms": None,
         "created_ms": local(2026, 3, 30, 8, 10)},
        {"id": 3, "subject_id": "B", "kind": "exclusion_breach", "start_ms": local(2026, 4, 3, 23, 50),
         "end_ms": local(2026, 4, 4, 0, 20), "created_ms": local(2026, 4, 4, 0)},  # touches 3 and 4 April
        {"id": 4, "subject_id": "B", "kind": "no_comms", "start_ms": local(2026, 4, 4, 10), "end_ms": None,
         "created_ms": local(2026, 4, 4, 10)},
    ]
    events = [{"alert_id": i, "ts_ms": a["created_ms"] + lat * MIN, "action": "acknowledge"}
              for i, a, lat in ((1, alerts[0], 10), (2, alerts[1], 20), (3, alerts[2], 30), (4, alerts[3], 40))]
    events += [{"alert_id": 1, "ts_ms": alerts[0]["created_ms"] + 60 * MIN, "action": "close"},
               {"alert_id": 1, "ts_ms": alerts[0]["created_ms"] + 90 * MIN, "action": "close"},  # only the first counts
               {"alert_id": 3, "ts_ms": alerts[2]["created_ms"] + 120 * MIN, "action": "close"}]
    matches = [{"id": 10, "subject_id": "A", "closest_ms": local(2026, 3, 31, 14), "significant": True},
               {"id": 11, "subject_id": "A", "closest_ms": local(2026, 3, 31, 15), "significant": False},
               {"id": 12, "subject_id": "B", "closest_ms": local(2026, 4, 2, 15), "significant": True}]
    outcomes = [{"match_id": 10, "outcome": "charged", "outcome_on": "2026-04-03"}]
    return ProgrammeData(local(2026, 4, 5), {"A": "Lewisham", "B": "Croydon"}, orders, alerts, events, matches,
                         {10, 12}, outcomes)


def test_the_report_by_month():
    rep = build_report(hand_made(), ["2026-03", "2026-04"])
    v = {k: (x.values, x.total) for k, x in rep.series().items()}
    assert v["people_on_tag"] == ([1, 2], 2)
    assert v["orders_started"] == ([1, 1], 2) and v["orders_ended"] == ([0, 1], 1)
    assert v["orders_varied"] == ([1, 0], 1) and v["recalls"] == ([0, 1], 1) and v["orders_revoked"] == ([0, 0], 0)
    # A: 3.5 days in March, 1.5 in April; B: 1-4 April = 4 days (as of 5 April 00:00).
    assert v["person_days"][0] == pytest.approx([3.5, 5.5]) and v["person_days"][1] == pytest.approx(9.0)
    # Violations: A on 29 March (curfew; the low-battery alert is not a violation), B on 3 and 4 April.
    assert v["compliant_person_days"][0] == pytest.approx([2.5, 3.5])
    assert v["compliance_rate"][0] == pytest.approx([2.5 / 3.5, 3.5 / 5.5])
    assert v["compliance_rate"][1] == pytest.approx(6 / 9)
    assert v["alerts_curfew_breach"] == ([1, 0], 1)
    assert v["alerts_curfew_breach_per_person_day"][0] == pytest.approx([1 / 3.5, 0])
    assert v["alerts_exclusion_breach_per_person_day"][1] == pytest.approx(1 / 9)
    assert v["alerts_strap_tamper"] == ([0, 0], 0)  # every kind is listed, even with none
    # Acknowledgement: March 10 and 20 minutes, April 30 and 40; all four: median 25, p90 37 (linear).
    assert v["ack_median_min"] == ([15.0, 35.0], 25.0)
    assert v["ack_p90_min"][0] == pytest.approx([19.0, 39.0]) and v["ack_p90_min"][1] == pytest.approx(37.0)
    assert v["close_median_min"] == ([60.0, 120.0], 90.0)  # the first close of each alert
    assert v["matches"] == ([2, 1], 3) and v["significant_matches"] == ([1, 1], 2)
    assert v["shared_matches"] == ([1, 1], 2) and v["outcome_charged"] == ([0, 1], 1)
    assert v["outcome_convicted"] == ([0, 0], 0)


def test_one_borough():
    rep = build_report(hand_made(), ["2026-03", "2026-04"], borough="croydon")
    v = rep.series()
    assert v["people_on_tag"].values == [0, 1] and v["person_days"].values == pytest.approx([0, 4.0])
    assert v["compliance_rate"].values == pytest.approx([None, 2 / 4]) and v["matches"].values == [0, 1]
    assert v["outcome_charged"].total == 0


def test_other_parts_add_sections():
    register_section("extra", "An extra section", lambda data, months, shared: [])
    try:
        assert [sec.key for sec, _ in build_report(hand_made(), ["2026-03"]).sections][-1] == "extra"
    finally:
        del SECTIONS["extra"]


def _add_match(store, subject_id: str, closest_ms: int, significant: bool) -> int:
    with store.engine.begin() as c:
        run = c.execute(s.correlation_runs.insert().values(started_ms=0, engine_version="t", params="{}", n_crimes=1,
                                                           n_subjects=1, n_matches=1, n_significant=1)).inserted_primary_key[0]
        return c.execute(s.matches.insert().values(
            run_id=run, force="MPS", crime_ref=f"C{closest_ms}", crime_version=1, subject_id=subject_id,
            evidence="fix", closest_m=5.0, closest_ms=closest_ms, within_s=60.0, score=0.9, parts="{}",
            significant=int(significant))).inserted_primary_key[0]


@pytest.fixture
def small_pilot(store):
    """The hand-made pilot in a real store (both backends): orders, alerts and their actions, a shared match."""
    store.add_subject(Subject("A", borough="Lewisham"), 0)
    store.add_subject(Subject("B", borough="Croydon"), 0)
    store.add_order(Order("OA", "A", OrderType.LICENCE, local(2026, 3, 28, 12), None,
                          (OrderVersion("OA", 1, local(2026, 3, 28, 12), ()),)), 0)
    store.add_version(OrderVersion("OA", 2, local(2026, 3, 30, 9), (), "court variation"), 0)
    store.end_order("OA", local(2026, 4, 2, 12), "recalled after breach")
    store.add_order(Order("OB", "B", OrderType.COMMUNITY, local(2026, 4, 1), local(2026, 9, 1),
                          (OrderVersion("OB", 1, local(2026, 4, 1), ()),)), 0)
    created = local(2026, 3, 29, 22, 10)
    store.reconcile_alerts("A", None, [Episode(AlertKind.CURFEW_BREACH, "A", local(2026, 3, 29, 22),
                                               local(2026, 3, 29, 22, 30), local(2026, 3, 29, 22, 10))], created)
    (alert,) = store.alerts("A")
    store.act_on_alert(alert["id"], "acknowledge", "op1", "", created + 10 * MIN)
    store.act_on_alert(alert["id"], "close", "sup1", "", created + 60 * MIN)
    m = _add_match(store, "A", local(2026, 3, 31, 14), True)
    store.review_match(m, "authorised", "sup1", 0, force="MPS")
    store.review_match(m, "shared", "sup1", 0, force="MPS")
    return store, m


def test_outcomes_are_recorded_only_by_the_force_a_match_is_shared_with(small_pilot):
    store, m = small_pilot
    now = local(2026, 4, 10)
    with pytest.raises(StoreError, match="not shared with WYP"):
        record_match_outcome(store, m, "charged", "2026-04-03", "WYP", "DC Jones", now)
    with pytest.raises(StoreError, match="unknown outcome"):
        record_match_outcome(store, m, "cautioned", "2026-04-03", "MPS", "DC Jones", now)
    with pytest.raises(StoreError, match="in the future"):
        record_match_outcome(store, m, "charged", "2026-05-03", "MPS", "DC Jones", now)
    record_match_outcome(store, m, "charged", "2026-04-03", "MPS", "DC Jones", now)
    record_match_outcome(store, m, "convicted", "2026-04-09", "MPS", "DC Jones", now + 1)
    assert [o["outcome"] for o in store.match_outcomes(m)] == ["charged", "convicted"]
    v = programme_report(store, "2026-03", "2026-04", as_of_ms=local(2026, 4, 5)).series()
    assert v["outcome_convicted"].values == [0, 1] and v["outcome_charged"].total == 0  # the current outcome counts
    assert v["person_days"].values == pytest.approx([3.5, 5.5]) and v["orders_varied"].values == [1, 0]
    assert v["recalls"].values == [0, 1] and v["ack_median_min"].values == [10.0, None]
    assert v["compliance_rate"].values == pytest.approx([2.5 / 3.5, 5.5 / 5.5])
    assert v["shared_matches"].values == [1, 0]
    data = load_programme_data(store, local(2026, 4, 5))
    assert data.shared_ids == {m} and len(data.alerts) == 1


def test_cli_outcome_and_report_formats(tmp_path):
    from tagwatch.store import open_store
    db = f"sqlite:///{tmp_path / 'p.db'}"
    store = open_store(db)
    store.add_subject(Subject("A", borough="Lewisham"), 0)
    store.add_order(Order("OA", "A", OrderType.LICENCE, local(2026, 3, 28, 12), local(2026, 4, 20),
                          (OrderVersion("OA", 1, local(2026, 3, 28, 12), ()),)), 0)
    m = _add_match(store, "A", local(2026, 3, 31, 14), True)
    store.review_match(m, "authorised", "sup1", 0, force="MPS")
    store.review_match(m, "shared", "sup1", 0, force="MPS")
    runner = CliRunner()
    out = runner.invoke(app, ["matches", "outcome", str(m), "no further action", "--on", "2026-04-03", "--force", "MPS",
                              "--by", "DC Jones", "--db", db])
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["matches", "outcomes", "--format", "json", "--db", db])
    assert json.loads(out.stdout)[0]["outcome"] == "no further action"
    args = ["report", "programme", "--from", "2026-03", "--to", "2026-04", "--as-of", "2026-04-05T00:00:00+01:00",
            "--db", db]
    doc = json.loads(runner.invoke(app, [*args, "--format", "json"]).stdout)
    series = {x["key"]: x for sec in doc["sections"] for x in sec["series"]}
    assert series["outcome_no_further_action"]["values"] == [0, 1] and doc["months"] == ["2026-03", "2026-04"]
    table = runner.invoke(app, [*args, "--format", "table"])
    assert table.exit_code == 0 and "Monitored person-days" in table.output
    html = runner.invoke(app, [*args, "--format", "html", "--out", str(tmp_path / "p.html")])
    assert html.exit_code == 0, html.output
    text = (tmp_path / "p.html").read_text()
    assert text.count("<figure><svg") == len(series)  # a plot for every series
    out = runner.invoke(app, ["report", "programme", "--from", "2026-13", "--as-of", "2026-04-05T00:00:00Z", "--db", db])
    assert out.exit_code == 2 and "YYYY-MM" in out.output


def test_the_evaluator_view_holds_aggregates_and_no_individual(west_yorkshire_db):
    from tagwatch.reports.evaluator import evaluator_view
    from tagwatch.services.areas import borough_series, community_safety_index, pilot_effect
    from tagwatch.store import open_store
    data = hand_made()
    store = open_store(west_yorkshire_db)
    ai = community_safety_index(store)
    ser = borough_series(store)
    view = evaluator_view(build_report(data, ["2026-03", "2026-04"]), ai.result, ai.names, ser,
                          pilot_effect(ser, ["Leeds"], "2018-01"))
    text = json.dumps(view)  # plain JSON, as the web service sends it
    assert view["aggregates_only"] and view["programme"]["months"] == ["2026-03", "2026-04"]
    assert len(view["safety_index"]["lsoas"]) == 1388 and view["pilot_effect"]["n_treated"] == 1
    for secret in ('"A"', '"B"', '"OA"', '"OB"', '"lat"', '"lon"', "subject"):  # ids, locations, who
        assert secret not in text
