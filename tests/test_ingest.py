"""Fix files in, rows or named rejects out; duplicates and re-ingest change nothing."""

import json

import pytest

from tagwatch.services import ingest as ingest_uc
from tagwatch.ingest.fixes import FileError
from tagwatch.model import Device, Subject

NOW = 1_774_000_000_000  # 2026-03-20T09:46:40Z
HEADER = "device_id,ts,lat,lon,accuracy_m,battery_pct,strap\n"
GOOD = "TAG1,2026-03-20T09:00:00+00:00,51.45,-0.02,10,80,ok\n"


@pytest.fixture
def tagged(store):
    store.add_subject(Subject("S1"), NOW)
    store.add_device(Device("TAG1"), NOW)
    store.assign("TAG1", "S1", NOW - 86_400_000)
    return store


def ingest(store, tmp_path, text, name="fixes.csv"):
    p = tmp_path / name
    p.write_text(text)
    return ingest_uc.ingest_files(store, [p], NOW)


@pytest.mark.parametrize("line, code", [
    ("TAG1,2026-03-20T09:01:00+00:00,91.0,-0.02,10,80,ok", "bad_coordinates"),
    ("TAG1,2026-03-20T09:01:00+00:00,NaN,-0.02,10,80,ok", "bad_coordinates"),
    ("TAG1,2026-03-20T09:01:00+00:00,51.45,,10,80,ok", "bad_coordinates"),
    ("TAG1,2026-03-20T09:01:00+00:00,north,-0.02,10,80,ok", "bad_coordinates"),
    ("TAG9,2026-03-20T09:01:00+00:00,51.45,-0.02,10,80,ok", "unknown_device"),
    ("TAG1,2026-03-20T10:00:00+00:00,51.45,-0.02,10,80,ok", "future_timestamp"),
    ("TAG1,2026-03-20T09:01:00,51.45,-0.02,10,80,ok", "naive_timestamp"),
    ("TAG1,yesterday,51.45,-0.02,10,80,ok", "bad_timestamp"),
    ("TAG1,2026-03-20T09:01:00Z,51.45,-0.02", "unparsable"),
    ("TAG1,2026-03-20T09:01:00Z,51.45,-0.02,10,180,ok", "bad_value"),
    ("TAG1,2026-03-20T09:01:00Z,51.45,-0.02,-5,80,ok", "bad_value"),
    ("TAG1,2026-03-20T09:01:00Z,51.45,-0.02,10,80,cut", "bad_value"),
    (",2026-03-20T09:01:00Z,51.45,-0.02,10,80,ok", "missing_field"),
])
def test_each_rejection_reason_keeps_the_good_neighbours(tagged, tmp_path, line, code):
    later = "TAG1,2026-03-20T09:02:00+00:00,51.45,-0.02,10,80,ok\n"
    rep = ingest(tagged, tmp_path, HEADER + GOOD + line + "\n" + later)
    assert (rep.accepted, rep.rejected, rep.reasons) == (2, 1, {code: 1})
    (rej,) = tagged.rejects()
    assert rej["reason"].startswith(code + ":") and rej["line_no"] == 3 and rej["raw"] == line
    assert tagged.count("fixes") == 2


def test_naive_timestamp_message_says_how_to_fix(tagged, tmp_path):
    ingest(tagged, tmp_path, HEADER + "TAG1,2026-03-20T09:01:00,51.45,-0.02,10,80,ok\n")
    assert "add Z or e.g. +01:00" in tagged.rejects()[0]["reason"]


def test_reingesting_changes_nothing_and_counts_duplicates(tagged, tmp_path):
    text = HEADER + GOOD + GOOD + "TAG1,2026-03-20T10:00:00+01:00,51.45,-0.02,10,80,ok\n"  # same instant
    first = ingest(tagged, tmp_path, text)
    assert (first.accepted, first.duplicates) == (1, 2)
    second = ingest(tagged, tmp_path, text)
    assert (second.accepted, second.duplicates, second.rejected) == (0, 3, 0)
    assert tagged.count("fixes") == 1


def test_store_keeps_the_first_of_two_rows_for_one_instant_and_missing_numbers_as_null(tagged):
    """The bulk paths (SQLite executemany, PostgreSQL COPY) agree: batch order decides, NaN is NULL."""
    import numpy as np
    from sqlalchemy import select

    from tagwatch.store import schema

    t = 1_774_000_000_000
    cols = {"device_id": np.array(["TAG1", "TAG1", "TAG1"], dtype=object), "ts_ms": np.array([t, t, t + 60_000]),
            "lat": np.array([51.5, 51.6, 51.7]), "lon": np.array([-0.1, -0.1, -0.1]), "x": np.array([1.0, 2.0, 3.0]),
            "y": np.array([1.0, 2.0, 3.0]), "accuracy_m": np.array([np.nan, 5.0, 7.0]),
            "battery_pct": np.array([80.0, 80.0, np.nan]), "strap": np.array(["ok", "ok", "ok"], dtype=object),
            "received_ms": np.array([t, t, t + 60_000])}
    assert tagged.insert_fix_columns(cols) == 2
    assert tagged.insert_fix_columns(cols) == 0
    with tagged.engine.connect() as c:
        rows = c.execute(select(schema.fixes.c.ts_ms, schema.fixes.c.lat, schema.fixes.c.accuracy_m,
                                schema.fixes.c.battery_pct).order_by(schema.fixes.c.ts_ms)).all()
    assert [tuple(r) for r in rows] == [(t, 51.5, None, 80.0), (t + 60_000, 51.7, 7.0, None)]
    odd = {k: v[:1].copy() for k, v in cols.items()}
    odd["device_id"] = np.array(['TAG "2", spare'], dtype=object)  # quotes and a comma survive the bulk path
    assert tagged.insert_fix_columns(odd) == 1
    with tagged.engine.connect() as c:
        assert c.execute(select(schema.fixes.c.device_id).where(schema.fixes.c.device_id != "TAG1")).scalar_one() \
            == 'TAG "2", spare'


def test_jsonl_and_status_reports_without_position(tagged, tmp_path):
    lines = [
        {"device_id": "TAG1", "ts": "2026-03-20T09:00:00Z", "lat": 51.45, "lon": -0.02, "accuracy_m": 8},
        {"device_id": "TAG1", "ts": "2026-03-20T09:01:00Z", "lat": None, "lon": None, "battery_pct": 55},
        "not json",
        [1, 2],
    ]
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n"
    rep = ingest(tagged, tmp_path, text, "fixes.jsonl")
    assert (rep.accepted, rep.rejected, rep.reasons) == (2, 2, {"unparsable": 2})
    track = tagged.load_track("S1")
    assert len(track) == 2 and track.has_position.tolist() == [True, False]
    assert track.battery_pct[1] == 55


def test_header_without_required_columns_is_a_clear_file_error(tagged, tmp_path):
    with pytest.raises(FileError, match="lacks required column"):
        ingest(tagged, tmp_path, "device,time,lat,lon\nTAG1,2026-03-20T09:00:00Z,51.45,-0.02\n")
    assert tagged.count("fixes") == 0


def test_received_at_column_is_kept(tagged, tmp_path):
    ingest(tagged, tmp_path, "device_id,ts,lat,lon,received_at\nTAG1,2026-03-20T09:00:00Z,51.45,-0.02,2026-03-20T09:30:00Z\n")
    assert tagged.load_track("S1").received_ms.tolist() == [1_773_999_000_000]


def test_fix_outside_any_assignment_is_stored_but_not_anyones(tagged, tmp_path):
    rep = ingest(tagged, tmp_path, HEADER + "TAG1,2026-03-10T09:00:00Z,51.45,-0.02,10,80,ok\n")
    assert rep.accepted == 1 and len(tagged.load_track("S1")) == 0
