"""Alcohol reading files and API rows in; named rejects, idempotency and late uploads."""

import json

import pytest

from tagwatch.services import evaluation, ingest as ingest_uc, alcohol as svc
from tagwatch import codec as tw_codec
from tagwatch.ingest.fixes import FileError
from tagwatch.model import Device
from tagwatch.store import open_store

NOW = 1_774_000_000_000  # 2026-03-20T09:46:40Z
START = NOW - 10 * 86_400_000
HEADER = "device_id,ts,tac,skin_temp_c,ir_distance,tamper\n"
GOOD = "CAM1,2026-03-20T09:00:00+00:00,0.000,31.2,3.1,ok\n"


def _tagged(store, alc):
    alc.enrol(store, start_ms=START)
    store.add_device(Device("TAG9", "gps"), START)
    return store


@pytest.fixture
def tagged(store, alc):
    return _tagged(store, alc)


@pytest.fixture
def tagged_sqlite(tmp_path, alc):
    """Validation does not depend on the backend: the reasons are checked on SQLite alone."""
    return _tagged(open_store(f"sqlite:///{tmp_path / 'r.db'}"), alc)


def ingest(store, tmp_path, text, name="readings.csv"):
    p = tmp_path / name
    p.write_text(text)
    return svc.ingest_alcohol_files(store, [p], NOW)


@pytest.mark.parametrize("line, code", [
    ("CAM1,2026-03-20T09:01:00Z,0.7,31,3,ok", "bad_value"),
    ("CAM1,2026-03-20T09:01:00Z,-0.01,31,3,ok", "bad_value"),
    ("CAM1,2026-03-20T09:01:00Z,high,31,3,ok", "bad_value"),
    ("CAM1,2026-03-20T09:01:00Z,0.01,31,-2,ok", "bad_value"),
    ("CAM1,2026-03-20T09:01:00Z,0.01,hot,3,ok", "bad_value"),
    ("CAM1,2026-03-20T09:01:00Z,0.01,31,3,cut", "bad_value"),
    ("CAM1,2026-03-20T09:01:00Z,,31,3,ok", "missing_field"),
    ("CAM1,2026-03-20T09:01:00,0.01,31,3,ok", "naive_timestamp"),
    ("CAM1,soon,0.01,31,3,ok", "bad_timestamp"),
    ("CAM1,2026-03-20T11:00:00Z,0.01,31,3,ok", "future_timestamp"),
    ("CAM9,2026-03-20T09:01:00Z,0.01,31,3,ok", "unknown_device"),
    ("TAG9,2026-03-20T09:01:00Z,0.01,31,3,ok", "wrong_device"),
    ("CAM1,2026-03-20T09:01:00Z,0.01", "unparsable"),
])
def test_each_rejection_reason_keeps_the_good_neighbours(tagged_sqlite, tmp_path, line, code):
    tagged = tagged_sqlite
    rep = ingest(tagged, tmp_path, HEADER + GOOD + line + "\n" + "CAM1,2026-03-20T09:30:00Z,0.001,31,3,\n")
    assert (rep.accepted, rep.rejected, rep.reasons) == (2, 1, {code: 1})
    (rej,) = tagged.rejects()
    assert rej["reason"].startswith(code + ":") and rej["line_no"] == 3 and rej["raw"] == line
    assert tagged.count("alcohol_readings") == 2


def test_reingest_and_same_instant_are_duplicates(tagged, tmp_path):
    text = HEADER + GOOD + GOOD + "CAM1,2026-03-20T10:00:00+01:00,0.000,31,3,ok\n"
    assert (ingest(tagged, tmp_path, text).accepted, tagged.count("alcohol_readings")) == (1, 1)
    again = ingest(tagged, tmp_path, text)
    assert (again.accepted, again.duplicates, again.rejected) == (0, 3, 0)


def test_header_without_tac_is_refused_whole(tagged, tmp_path):
    with pytest.raises(FileError, match="lacks required column"):
        ingest(tagged, tmp_path, "device_id,ts,alcohol\nCAM1,2026-03-20T09:00:00Z,0.0\n")
    assert tagged.count("alcohol_readings") == 0


def test_jsonl_with_optional_columns_and_flags(tagged, tmp_path):
    lines = [{"device_id": "CAM1", "ts": "2026-03-20T09:00:00Z", "tac": 0.012, "tamper": True},
             {"device_id": "CAM1", "ts": "2026-03-20T09:30:00Z", "tac": 0, "received_at": "2026-03-20T09:40:00Z"},
             "{not json"]
    rep = ingest(tagged, tmp_path, "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
                 "readings.jsonl")
    assert (rep.accepted, rep.rejected, rep.reasons) == (2, 1, {"unparsable": 1})
    cols = tagged.load_readings([("CAM1", 0, None)])
    assert cols["tamper"].tolist() == [True, False] and cols["tac_g_dl"].tolist() == [0.012, 0.0]
    assert cols["received_ms"].tolist() == [NOW, NOW - 400_000] and cols["ir_distance_mm"][0] != cols["ir_distance_mm"][0]


def test_api_rows_count_and_evaluate(tagged, alc):
    rows = alc.readings(START, NOW - 3_600_000, alc.drink(START + 86_400_000))
    rows.append({"device_id": "CAM1", "ts": "not a time", "tac": 0.0})
    rows.append("a string is not a row")
    rep = svc.ingest_alcohol_rows(tagged, rows, NOW, source="api")
    assert (rep.accepted, rep.duplicates, rep.rejected) == (len(rows) - 2, 0, 2)
    assert {r["line_no"] for r in tagged.rejects()} == {len(rows) - 1, len(rows)}
    assert [a["kind"] for a in tagged.alerts()] == ["alcohol_drinking"]
    again = svc.ingest_alcohol_rows(tagged, rows[:-2], NOW, source="api")
    assert (again.accepted, again.duplicates) == (0, len(rows) - 2)
    assert len(tagged.alerts()) == 1


def test_late_readings_give_the_same_alerts_as_readings_in_time(store, alc):
    alc.enrol(store, start_ms=START)
    rows = alc.readings(START, NOW - 3_600_000, alc.drink(START + 2 * 86_400_000))
    held = [r for r in rows if "2026-03-13" <= r["ts"] < "2026-03-14"]  # a day held back by the base station
    first = [r for r in rows if r not in held]
    svc.ingest_alcohol_rows(store, first, NOW)
    gap = store.alerts(kind="alcohol_no_readings")
    assert [(a["start_ms"], a["end_ms"]) for a in gap] == [
        (tw_codec.parse_ts("2026-03-12T23:46:40Z"), tw_codec.parse_ts("2026-03-14T00:16:40Z"))]
    svc.ingest_alcohol_rows(store, list(reversed(held)), NOW + 3_600_000)
    assert store.alerts(kind="alcohol_no_readings") == []  # retracted, kept in history
    assert [a["retract_reason"] for a in store.alerts(include_retracted=True) if a["retracted_ms"]] == [
        "later data no longer supports this alert"]
    late = [(a["kind"], a["start_ms"], a["end_ms"]) for a in store.alerts()]
    fresh_store_rows = sorted(rows, key=lambda r: r["ts"])
    assert late == [("alcohol_drinking", *_event_span(fresh_store_rows))]


def _event_span(rows):
    above = [r["ts"] for r in rows if r["tac"] > 0.005]
    after = [r["ts"] for r in rows if r["ts"] > above[-1]]
    return tw_codec.parse_ts(above[0]), tw_codec.parse_ts(after[0])


def test_gps_evaluation_leaves_alcohol_alerts_and_raises_no_gps_alerts(store, alc):
    alc.enrol(store, start_ms=START)
    svc.ingest_alcohol_rows(store, alc.readings(START, NOW - 3_600_000, alc.drink(START + 86_400_000)), NOW)
    ev = evaluation.evaluate(store, NOW, NOW)  # every subject, whole history: the GPS rules
    assert ev.subjects == 1 and ev.retracted == 0 and ev.new == 0  # no fixes is no GPS no_comms for an alcohol-only order
    assert [a["kind"] for a in store.alerts()] == ["alcohol_drinking"]


def test_a_gps_tag_and_an_alcohol_tag_are_worn_together(store, alc):
    alc.enrol(store, start_ms=START)
    store.add_device(Device("TAG1", "gps"), START)
    store.assign("TAG1", "S1", START + 1000)
    store.add_device(Device("CAM2", "alcohol"), START)
    store.assign("CAM2", "S1", START + 2000)  # an alcohol tag swap ends the other alcohol tag only
    assert [(a.device_id, a.from_ms - START, a.to_ms and a.to_ms - START) for a in store.assignments("S1")] == [
        ("CAM1", 0, 2000), ("TAG1", 1000, None), ("CAM2", 2000, None)]


def test_fix_ingest_points_a_readings_file_to_the_alcohol_command(tmp_path):
    p = tmp_path / "readings.csv"
    p.write_text(HEADER + GOOD)
    store = open_store(f"sqlite:///{tmp_path / 'f.db'}")
    with pytest.raises(FileError, match="use tagwatch alcohol ingest"):
        ingest_uc.ingest_files(store, [p], NOW)
