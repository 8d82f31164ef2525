"""tagwatch evidence: the evidence pack of a match, checked against figures computed here."""

import io
import json
import re

import pytest
from typer.testing import CliRunner

from tagwatch.cli import app
from tagwatch.correlate import ENGINE_VERSION
from tagwatch.geo import to_bng, to_wgs84
from tagwatch.model import iso
from tagwatch.reports import STATEMENT

T0 = 1_781_949_600_000  # 2026-06-20T10:00:00Z, 11:00 in London (BST, +01:00)
MIN = 60_000
B_MS, CONTEXT_MS = 15 * MIN, 15 * MIN  # default buffer, and the span shown before and after the window
HOME = to_bng(-0.0200, 51.4500)  # Lewisham


def offset(dx_m: float, dy_m: float) -> tuple[float, float]:
    lon, lat = to_wgs84(HOME[0] + dx_m, HOME[1] + dy_m)
    return float(lon), float(lat)


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    """A store with a fix match (two subjects) and a segment-only match, built through the CLI."""
    tmp = tmp_path_factory.mktemp("evidence")
    db = f"sqlite:///{tmp / 'ev.db'}"
    runner = CliRunner()

    def call(*args):
        result = runner.invoke(app, [*map(str, args), "--db", db])
        assert result.exit_code == 0, result.output
        return result

    fixes: dict[str, list[tuple[int, str, str, float]]] = {"S1": [], "S2": [], "S3": []}
    for sid, risk, offence in (("S1", "high", "robbery"), ("S2", "low", "burglary"), ("S3", "low", "")):
        call("subjects", "add", sid, "--risk", risk, "--offence", offence)
        call("devices", "add", f"TAG{sid}")
        call("devices", "assign", f"TAG{sid}", sid, "--from", "2026-06-20T09:00:00Z")
        call("orders", "add", f"O{sid}", "--subject", sid, "--type", "licence", "--start", "2026-06-20T09:00:00Z",
             "--trail")
    for m in range(120):
        lon, lat = offset(m * 20.0, 0)  # S1 walks east at 1/3 m/s, 30 m from C1 at 10:50
        fixes["S1"].append((T0 + m * MIN, f"{lat:.6f}", f"{lon:.6f}", 5 + m % 7))
        lon, lat = offset(1000, -60)  # S3 stands still 90 m south of C1
        fixes["S3"].append((T0 + m * MIN, f"{lat:.6f}", f"{lon:.6f}", 25))
    for k in range(30):  # S2 every 4 min at 1 m/s, 50 m north of C2: only the 10:48-10:52 segment comes close
        lon, lat = offset(4880 + 60 * (4 * k - 48), 50)
        fixes["S2"].append((T0 + 4 * k * MIN, f"{lat:.6f}", f"{lon:.6f}", 8))
    lines = ["device_id,ts,lat,lon,accuracy_m,received_at"]
    for sid, rows in fixes.items():
        lines += [f"TAG{sid},{iso(t)},{lat},{lon},{acc},{iso(t)}" for t, lat, lon, acc in rows]
    (tmp / "fixes.csv").write_text("\n".join(lines) + "\n")
    call("ingest", tmp / "fixes.csv", "--as-of", "2026-06-20T13:00:00Z")
    c1, c2 = offset(1000, 30), offset(5000, 0)
    (tmp / "crimes.csv").write_text(
        "crime_id,crime_type,lat,lon,from,to,location_accuracy_m\n"
        f"C1,RB,{c1[1]:.6f},{c1[0]:.6f},2026-06-20T10:45:00Z,2026-06-20T10:55:00Z,0\n"
        f"C2,TFP,{c2[1]:.6f},{c2[0]:.6f},2026-06-20T10:50:00Z,2026-06-20T10:50:00Z,20\n")
    call("crimes", "import", tmp / "crimes.csv", "--no-correlate")
    matches = {(m["crime_ref"], m["subject_id"]): m
               for m in json.loads(call("correlate", "--format", "json").stdout)}
    assert set(matches) == {("C1", "S1"), ("C1", "S3"), ("C2", "S2")}
    s1 = matches[("C1", "S1")]["id"]
    call("matches", "review", s1, "qualified", "--by", "caseworker1", "--note", "on the path at 11:50")
    call("matches", "review", s1, "authorised", "--by", "supervisor2", "--force", "MPS")
    crimes = {c["crime_ref"]: c for c in json.loads(call("crimes", "list", "--format", "json").stdout)}
    return {"call": call, "tmp": tmp, "db": db, "matches": matches, "fixes": fixes, "crimes": crimes}


def export(pack, *ids, name="pack.html", purpose="MPS request 2026/123"):
    out = pack["tmp"] / name
    res = pack["call"]("evidence", *ids, "--out", out, "--by", "analyst7", "--purpose", purpose)
    assert f"wrote {out}" in res.output.replace("\n", "")
    return out


def rows(html: str) -> list[dict]:
    return [{"n": int(n), "cls": cls, "ts": int(ts), "d": float(d)} for cls, n, ts, d in re.findall(
        r'<tr class="pos (\w+)" data-n="(\d+)" data-ts-ms="(\d+)" data-distance-m="([\d.]+)"', html)]


def expected(pack, sid: str, crime_ref: str, from_ms: int, to_ms: int) -> list[tuple[int, float]]:
    """The fixes from 15 min before the buffered window to 15 min after, with distances computed here."""
    c = pack["crimes"][crime_ref]
    cx, cy = to_bng(c["lon"], c["lat"])
    out = []
    for t, lat, lon, _acc in pack["fixes"][sid]:
        if from_ms - B_MS - CONTEXT_MS <= t <= to_ms + B_MS + CONTEXT_MS:
            x, y = to_bng(float(lon), float(lat))
            out.append((t, ((x - cx) ** 2 + (y - cy) ** 2) ** 0.5))
    return out


def svg(html: str, name: str) -> str:
    return re.search(rf'<svg class="map {name}".*?</svg>', html, re.S).group(0)


def test_fix_match_pack_has_positions_maps_parameters_score_and_decisions(pack):
    m, m3 = pack["matches"][("C1", "S1")], pack["matches"][("C1", "S3")]
    html = export(pack, m["id"], m3["id"]).read_text()
    (a_html, b_html) = html.split('<section class="exhibit"')[1:]
    # Exhibit A (the higher score, S1): exactly the fixes 10:15-11:25 UTC, distances as computed here.
    want = expected(pack, "S1", "C1", T0 + 45 * MIN, T0 + 55 * MIN)
    got = rows(a_html)
    assert [r["ts"] for r in got] == [t for t, _ in want] and len(got) == 71
    assert [r["d"] for r in got] == pytest.approx([d for _, d in want], abs=0.06)
    in_window = [r["ts"] for r in got if r["cls"] != "context"]
    assert in_window[0] == T0 + 30 * MIN and in_window[-1] == T0 + 70 * MIN  # the window 10:30-11:10, ends included
    assert {r["ts"] for r in got if r["cls"] == "within"} == {t for t, d in want if d <= 100 and
                                                           T0 + 30 * MIN <= t <= T0 + 70 * MIN}
    # The detailed map: the radius, one accuracy circle per position; the overview: the radius too.
    detail = svg(a_html, "detail-A")
    assert len(re.findall(r'<circle class="radius"', detail)) == 1
    assert len(re.findall(r'<circle class="accuracy"', detail)) == len(got)
    assert '<circle class="radius"' in svg(a_html, "overview-A") and 'class="borough"' in svg(a_html, "overview-A")
    # Nothing loaded from anywhere: no URLs, scripts, images or external styles.
    assert not re.search(r"https?://|<script|<img|<link|<iframe|@import|url\((?!#)", html, re.I)
    # The statement, in the summary and in each exhibit.
    assert html.count(STATEMENT) == 3
    assert "does not show that the person committed or witnessed the crime, nor that no one else was there" in html
    # Times in Europe/London with the offset: 10:50Z is 11:50 BST.
    row = re.search(rf'data-ts-ms="{T0 + 50 * MIN}".*?</tr>', a_html).group(0)
    assert ">11:50:00 +01:00<" in row and "Europe/London, 2026-06-20" in a_html
    # The run's parameters, engine version and score parts, as stored.
    assert ENGINE_VERSION in a_html and "100 m" in a_html and "15 min" in a_html
    parts = json.loads(m["parts"])
    for name, value in parts.items():
        row = re.search(rf'<tr class="part" data-part="{name}">(.*?)</tr>', a_html).group(1)
        assert f">{value:.4g}<" in row
    assert f"{m['score']:.4f}" in a_html
    # Who qualified and authorised S1's match; S3's has no decision and says so.
    assert "caseworker1" in a_html and "supervisor2" in a_html and "on the path at 11:50" in a_html
    assert "has not been qualified or authorised" in b_html and "S3" in b_html
    assert len(re.findall(r'<circle class="accuracy"', svg(b_html, "detail-B"))) == len(rows(b_html))
    # Export record: who, why, when.
    assert "analyst7" in html and "MPS request 2026/123" in html


def test_segment_only_match_pack(pack):
    m = pack["matches"][("C2", "S2")]
    assert m["evidence"] == "segment"
    html = export(pack, m["id"], name="seg.html").read_text()
    want = expected(pack, "S2", "C2", T0 + 50 * MIN, T0 + 50 * MIN)
    got = rows(html)
    assert [r["ts"] for r in got] == [t for t, _ in want]
    assert [r["d"] for r in got] == pytest.approx([d for _, d in want], abs=0.06)
    assert min(r["d"] for r in got) > 120 and not any(r["cls"] == "within" for r in got)  # no fix within R
    assert "segment: only the straight path between two positions" in html
    # The segment is named: the 10:48 and 10:52 UTC positions (11:48 and 11:52 in London).
    n48, n52 = (r["n"] for r in got if r["ts"] in (T0 + 48 * MIN, T0 + 52 * MIN))
    assert re.search(rf"from position {n48} \(11:48:00 \+01:00, 130 m away\) to position {n52} \(11:52:00", html)
    assert "120 m" in html  # 100 m + the crime's 20 m location accuracy
    detail = svg(html, "detail-A")
    assert '<circle class="radius"' in detail and '<circle class="radius-r"' in detail
    assert len(re.findall(r'<circle class="accuracy"', detail)) == len(got)
    assert '<circle class="closest"' in detail
    assert "not qualified" in html


def test_pdf_pack_is_a_real_pdf(pack):
    pypdf = pytest.importorskip("pypdf")
    m = pack["matches"][("C2", "S2")]
    pdf = export(pack, m["id"], name="seg.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert "C2" in text and "Exhibit A" in text and "analyst7" in text
    assert "does not show that the person committed or witnessed the crime, nor that no one else was there" in text


@pytest.mark.parametrize("args, message", [
    (["999999", "--out", "x.html"], "no match 999999"),
    (["1", "--out", "x.txt"], "unsupported extension '.txt'"),
    (["1", "2", "3", "--out", "x.html"], "one evidence pack covers one crime"),
    (["1", "--out", "x.html", "--purpose", " "], "needs its purpose"),
])
def test_evidence_errors_are_one_line_and_exit_2(pack, args, message, monkeypatch):
    monkeypatch.chdir(pack["tmp"])
    opts = ["--by", "analyst7"] + ([] if "--purpose" in args else ["--purpose", "test"])
    result = CliRunner().invoke(app, ["evidence", *args, *opts, "--db", pack["db"]])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert not (pack["tmp"] / "x.html").exists() and not (pack["tmp"] / "x.txt").exists()


def test_pack_flags_a_withdrawn_match_and_a_newer_crime_version():
    """The pure core alone: store rows and a track in, the rendered pack out."""
    import numpy as np

    from tagwatch.reports import build_exhibit, build_pack, render_html
    from tagwatch.rules import Track

    crime = {"force": "MPS", "crime_ref": "R1", "version": 1, "crime_type": "TFP", "from_ms": T0, "to_ms": T0,
             "x": 530_000.0, "y": 180_000.0, "lat": 51.5, "lon": -0.12, "location_accuracy_m": 0.0, "changed": ""}
    ts = np.arange(T0 - 40 * MIN, T0 + 40 * MIN, MIN)
    track = Track.from_columns(ts, np.full(ts.size, 530_040.0), np.full(ts.size, 180_000.0), np.full(ts.size, 12.0),
                               device_ids=("TAG9",))
    params = {"match": {"radius_m": 100.0, "buffer_s": 900.0, "max_gap_s": 600.0, "max_speed_mps": 12.0},
              "radius_by_type": {}, "score": {"weights": {"closeness": 0.35, "time_within": 0.2, "evidence": 0.25,
                                                           "offence": 0.1, "risk": 0.1}, "threshold": 0.6}}
    match = {"id": 5, "run_id": 2, "run_started_ms": T0, "engine_version": "tagwatch-correlate 1",
             "run_params": json.dumps(params), "subject_id": "S9", "evidence": "fix", "closest_m": 40.0,
             "closest_ms": T0 - 15 * MIN, "first_within_ms": T0 - 15 * MIN, "last_within_ms": T0 + 15 * MIN,
             "within_s": 1800.0, "speed_mps": 0.0, "heading_deg": 0.0, "score": 0.74, "significant": 1,
             "parts": json.dumps({"closeness": 0.6, "time_within": 1.0, "evidence": 1.0, "offence": 0.0, "risk": 0.6})}
    reviews = [{"ts_ms": T0 + 60 * MIN, "action": "withdrawn", "actor": "sup3", "force": "MPS",
                "note": "crime record cancelled"}]
    exhibit = build_exhibit("A", match, crime, track, "medium", reviews)
    assert [p.ts_ms for p in exhibit.positions] == [t for t in ts if T0 - 30 * MIN <= t <= T0 + 30 * MIN]
    assert all(p.distance_m == pytest.approx(40.0) and p.within_radius == p.in_window for p in exhibit.positions)
    html = render_html(build_pack(crime, [exhibit], "analyst7", "test", T0 + 2 * 60 * MIN, "tagwatch", 2))
    assert "Match 5 (exhibit A) was withdrawn" in html and "crime record cancelled" in html
    assert "The police have since sent version 2 of this crime" in html
    assert "not moving" in html and "TAG9" in html


def test_crime_versions_by_number(store, tmp_path):
    from tagwatch.ingest.crimes import read_crime_file

    path = tmp_path / "c.csv"
    for i, start in enumerate(("2026-06-20T10:00:00Z", "2026-06-20T10:30:00Z")):
        path.write_text(f"crime_id,crime_type,lat,lon,from,to\nC9,RB,51.45,-0.02,{start},{start}\n")
        store.record_crime_batch(read_crime_file(path), i)
    assert store.latest_crime_version("local", "C9") == 2 and store.latest_crime_version("local", "X") is None
    assert store.crime_version("local", "C9", 1)["from_ms"] + 30 * MIN == store.crime_version("local", "C9", 2)["from_ms"]
    assert store.crime_version("local", "C9", 3) is None


def test_an_evidence_export_is_audited(pack):
    """Who exported which subjects' positions, over which time range, and why: one chained entry."""
    from tagwatch.services import audit as service_audit
    from tagwatch.store import open_store
    store = open_store(pack["db"])
    before = store.count("audit_log")
    m = pack["matches"][("C2", "S2")]
    export(pack, m["id"], name="audited.html", purpose="MPS request 2026/777")
    assert store.count("audit_log") == before + 1
    entry = list(store.audit_chain())[-1]
    report = service_audit.verify(store)
    assert report.ok and report.entries == before + 1
    assert (entry["action"], entry["actor"], entry["subject_ids"]) == ("export_evidence", "analyst7", "S2")
    assert entry["purpose"] == "MPS request 2026/777" and entry["from_ms"] < entry["to_ms"]
