"""Hardening of file ingest: a bad line costs that line only, never the file or its rest."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tagwatch.cli import app
from tagwatch.model import Device
from tagwatch.services.alcohol import ingest_alcohol_files
from tagwatch.services.ingest import ingest_files
from tagwatch.store import open_store

NOW = 1_800_000_000_000
HEADER = b"device_id,ts,lat,lon"


def _rows(n: int) -> list[bytes]:
    return [f"TAG1,2026-03-{1 + i // 86400:02d}T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z,"
            f"51.45,-0.02".encode() for i in range(n)]


def _store(tmp_path, kind="gps"):
    s = open_store(f"sqlite:///{tmp_path / 'f.db'}")
    s.add_device(Device("TAG1", kind), 0)
    return s


def _jsonl(rows: list[bytes]) -> list[bytes]:
    out = []
    for r in rows:
        d, t, la, lo = r.split(b",")
        out.append(b'{"device_id": "' + d + b'", "ts": "' + t + b'", "lat": ' + la + b', "lon": ' + lo + b"}")
    return out


@pytest.mark.parametrize("fault", ["utf8", "quote"])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_one_bad_line_in_a_large_file_costs_that_line_only(tmp_path, fault, fmt):
    n, k = 150_000, 120_001  # past the first Arrow block (4 MB) and several 1 MB read blocks
    rows = _rows(n)
    if fmt == "jsonl":
        rows = _jsonl(rows)
    rows[k] = rows[k].replace(b"TAG1", b"TAG\xff1" if fault == "utf8" else b'"TAG1', 1)
    path = tmp_path / f"fixes.{fmt}"
    path.write_bytes(b"\n".join(([HEADER] if fmt == "csv" else []) + rows) + b"\n")
    store = _store(tmp_path)
    rep = ingest_files(store, [path], NOW)
    assert (rep.accepted, rep.rejected) == (n - 1, 1)
    (reject,) = store.rejects()
    line = k + (2 if fmt == "csv" else 1)
    assert reject["line_no"] == line
    expected = {"utf8": "bad_encoding", "quote": "unparsable"}[fault]
    assert reject["reason"].startswith(expected) and len(reject["raw"]) < 100


def test_quotes_that_balance_are_read_and_a_stray_one_is_named(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('device_id,ts,lat,lon\n"TAG1",2026-03-01T00:00:00Z,51.45,-0.02\n'
                    'TAG1,"2026-03-01T00:01:00Z,51.45,-0.02\n' + "TAG1,2026-03-01T00:02:00Z,51.45,-0.02\n" * 3)
    store = _store(tmp_path)
    rep = ingest_files(store, [path], NOW)
    assert (rep.accepted, rep.duplicates, rep.rejected) == (2, 2, 1)
    assert store.rejects()[0]["reason"] == "unparsable: a quote opened on this line is never closed"


def test_an_unreadable_header_refuses_the_file(tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes(b"device_id,t\xffs,lat,lon\nTAG1,2026-03-01T00:00:00Z,51.45,-0.02\n")
    with pytest.raises(ValueError, match="header"):
        ingest_files(_store(tmp_path), [path], NOW)


@pytest.mark.parametrize("line", [b'{"device_id": "TAG1", "ts": "2026-03-01T00:00:00Z", "lat": ' + b"1" * 5000 + b', "lon": 0}',
                                  b"[" * 100_000 + b"]" * 100_000, b'{"device_id": "TAG1", "ts": 1e999}', b"\xc3\x28"])
def test_jsonl_lines_that_no_parser_likes_are_rejects(tmp_path, line):
    path = tmp_path / "x.jsonl"
    path.write_bytes(line + b"\n" + _jsonl(_rows(1))[0] + b"\n")
    rep = ingest_files(_store(tmp_path), [path], NOW)
    assert (rep.accepted, rep.rejected) == (1, 1)


def test_alcohol_readings_file_rejects_per_line(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"device_id,ts,tac\nCAM1,2026-03-01T00:00:00Z,0.0\nCAM1,2026-03-01T00:30:00Z,0.\xff\n"
                     b'CAM1,"2026-03-01T01:00:00Z,0.0\nCAM1,2026-03-01T01:30:00Z,' + b"9" * 400 + b"\n"
                     b"CAM1,2026-03-01T02:00:00Z,0.0\n")
    store = _store(tmp_path, "alcohol")
    store.add_device(Device("CAM1", "alcohol"), 0)
    rep = ingest_alcohol_files(store, [path], NOW)
    assert (rep.accepted, rep.rejected) == (2, 3)
    assert rep.reasons == {"bad_encoding": 1, "unparsable": 1, "bad_value": 1}


def test_exit_codes_say_whether_anything_was_rejected(tmp_path):
    db = f"sqlite:///{tmp_path / 'f.db'}"
    _store(tmp_path)
    runner = CliRunner()
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(b"\n".join([HEADER, *_rows(3)]) + b"\n")
    bad.write_bytes(b"\n".join([HEADER, *_rows(3), b"TAG1,\xff,1,1"]) + b"\n")
    codes = [runner.invoke(app, ["ingest", str(p), "--no-evaluate", "--db", db]).exit_code for p in (good, bad)]
    missing = tmp_path / "missing.csv"
    missing.write_text("device_id,ts\nTAG1,2026-03-01T00:00:00Z\n")
    codes.append(runner.invoke(app, ["ingest", str(missing), "--db", db]).exit_code)
    assert codes == [0, 1, 2]
    assert json.loads(runner.invoke(app, ["rejects", "--format", "json", "--db", db]).stdout)[0]["reason"].startswith(
        "bad_encoding")
