"""police.uk street-level import: the real West Yorkshire files, rows without coordinates, malformed rows."""

import csv

import pytest
from typer.testing import CliRunner

from tagwatch.areas import read_police_uk
from tagwatch.cli import app
from tagwatch.codec import InputError
from tagwatch.services.areas import import_area_files
from tagwatch.store import open_store

# Rows, locations without coordinates, and LSOAs of each real file (counted independently with csv).
REAL = {"2016-07": (27176, 1347), "2017-07": (28537, 1541), "2018-07": (31635, 883)}
FORCE = "West Yorkshire Police"


def test_the_real_files_import_whole_and_again_change_nothing(tmp_path, west_yorkshire_files):
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    reps = import_area_files(store, west_yorkshire_files, now_ms=1)
    assert [(r.months, r.rows, r.no_location, r.rejected, r.status) for r in reps] == [
        ([(FORCE, m)], n, nl, 0, "imported") for m, (n, nl) in REAL.items()]
    # police.uk gives no LSOA when it gives no coordinates: they are counted under the blank code.
    assert [r.no_location_by_lsoa for r in reps] == [{"": nl} for _, nl in REAL.values()]
    assert store.count("area_crimes") == sum(n for n, _ in REAL.values())
    by_month = {r["month"]: r["n"] for r in store.area_counts(("month",))}
    assert by_month == {m: n for m, (n, _) in REAL.items()}
    again = import_area_files(store, west_yorkshire_files, now_ms=2)
    assert {r.status for r in again} == {"unchanged"}
    assert store.count("area_crimes") == sum(n for n, _ in REAL.values()) and store.count("rejects") == 0


def test_a_row_keeps_its_fields(west_yorkshire_files):
    t = read_police_uk(west_yorkshire_files[0]).table
    with open(west_yorkshire_files[0], newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))[1:]
    first = t.slice(0, 1).to_pylist()[0]
    r = rows[0]
    assert first == {"crime_id": r[0] or None, "month": r[1], "reported_by": r[2], "falls_within": r[3],
                     "lon": float(r[4]), "lat": float(r[5]), "location": r[6], "lsoa_code": r[7], "lsoa_name": r[8],
                     "crime_type": r[9], "outcome": r[10] or None, "context": r[11] or None}
    no_coords = t.filter(t["lon"].is_null())
    assert no_coords.num_rows == REAL["2016-07"][1] and no_coords["lat"].null_count == no_coords.num_rows


MALFORMED = [  # (how the row is spoiled, the reason code expected)
    (lambda r: r[:-1], "wrong_field_count"),
    (lambda r: r + ["extra"], "wrong_field_count"),
    (lambda r: [r[0], "2016-13", *r[2:]], "bad_month"),
    (lambda r: [*r[:2], "", *r[3:]], "missing_force"),
    (lambda r: [*r[:9], "Jaywalking", *r[10:]], "unknown_crime_type"),
    (lambda r: [*r[:4], "", *r[5:]], "bad_coordinates"),  # latitude without longitude
    (lambda r: [*r[:4], "west", *r[5:]], "bad_coordinates"),
    (lambda r: [*r[:4], "-40.5", *r[5:]], "bad_coordinates"),  # mid-Atlantic
    (lambda r: [*r[:7], "X0100", *r[8:]], "bad_lsoa_code"),
]


def malformed_copy(src, dst, every: int = 1000, limit: int | None = None):
    """A copy of a real file with one spoiled row every ``every`` rows; returns {line: reason code}."""
    with open(src, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:limit]
    expected = {}
    for k, (spoil, code) in enumerate(MALFORMED):
        i = (k + 1) * every
        body[i] = spoil(body[i])
        expected[i + 2] = code
    with open(dst, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *body])
    return expected, len(body)


def test_malformed_rows_are_rejected_with_line_and_reason(tmp_path, west_yorkshire_files):
    src = west_yorkshire_files[0]
    expected, n = malformed_copy(src, tmp_path / "2016-07-west-yorkshire-street.csv")
    f = read_police_uk(tmp_path / "2016-07-west-yorkshire-street.csv")
    assert {line: reason.split(":")[0] for line, _, reason in f.rejects} == expected
    assert f.n_rows == n - len(MALFORMED)
    line, raw, reason = next(r for r in f.rejects if r[2].startswith("unknown_crime_type"))
    assert "Jaywalking" in raw and line == 5 * 1000 + 2


def test_malformed_import_on_both_backends_records_rejects_once(store, tmp_path, west_yorkshire_files):
    path = tmp_path / "2016-07-west-yorkshire-street.csv"
    expected, n = malformed_copy(west_yorkshire_files[0], path, every=20, limit=400)
    rep, = import_area_files(store, [path], now_ms=5)
    assert (rep.rows, rep.rejected, rep.status) == (n - len(expected), len(expected), "imported")
    assert rep.reasons == {"wrong_field_count": 2, "bad_month": 1, "missing_force": 1, "unknown_crime_type": 1,
                           "bad_coordinates": 3, "bad_lsoa_code": 1}
    stored = store.rejects()
    assert sorted((r["line_no"], r["reason"].split(":")[0]) for r in stored) == sorted(expected.items())
    assert all(r["source"] == str(path) for r in stored)
    assert import_area_files(store, [path], now_ms=6)[0].status == "unchanged"
    assert store.count("rejects") == len(expected) and store.count("area_crimes") == rep.rows


def test_a_later_file_for_the_same_month_replaces_it(store, tmp_path, west_yorkshire_files):
    with open(west_yorkshire_files[0], newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    for path, body in ((first, rows[1:101]), (second, rows[1:61])):
        with open(path, "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows([rows[0], *body])
    import_area_files(store, [first], now_ms=1)
    rep, = import_area_files(store, [second], now_ms=2)  # fewer rows than stored: refused without replace
    assert (rep.status, store.count("area_crimes")) == ("refused", 100)
    assert rep.refused == "West Yorkshire Police 2016-07: 60 rows where 100 are stored"
    rep, = import_area_files(store, [second], now_ms=2, replace=True)
    assert (rep.status, rep.replaced, store.count("area_crimes")) == ("imported", 100, 60)
    assert import_area_files(store, [first], now_ms=3)[0].status == "imported"  # back to the first version
    assert store.count("area_crimes") == 100


def test_not_a_police_uk_file_is_refused_whole(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("crime_id,crime_type,lat,lon,from,to\n")
    with pytest.raises(InputError, match="not a police.uk street-level file"):
        read_police_uk(p)


def test_cli_import_prints_counts_and_refuses_other_files(tmp_path, west_yorkshire_files):
    db = f"sqlite:///{tmp_path / 'c.db'}"
    path = tmp_path / "2016-07-west-yorkshire-street.csv"
    malformed_copy(west_yorkshire_files[0], path, every=20, limit=400)
    runner = CliRunner()
    out = runner.invoke(app, ["areas", "import", str(path), "--db", db])
    assert out.exit_code == 1, out.output  # rows were rejected; the rest are stored
    assert "rejected 9" in " ".join(out.output.split()) and "without coordinates, kept" in " ".join(out.output.split())
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    out = runner.invoke(app, ["areas", "import", str(bad), "--db", db])
    assert out.exit_code == 2 and "not a police.uk street-level file" in " ".join(out.output.split())
    out = runner.invoke(app, ["areas", "list", "--db", db, "--format", "json"])
    assert out.exit_code == 0 and '"2016-07"' in out.output


def test_a_byte_order_mark_and_windows_line_ends_are_read(tmp_path, west_yorkshire_files):
    lines = west_yorkshire_files[0].read_bytes().split(b"\n")[:51]
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\r\n")
    f = read_police_uk(path)
    assert (f.n_rows, f.rejects) == (50, []) and f.table["context"].null_count == 50
