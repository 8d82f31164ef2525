"""Readable CLI output at 80 and 100 columns: every listing and record view fits the terminal and
never cuts an id, a kind or a time; --wide and --columns; JSON and CSV stay complete."""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from tagwatch.cli import alcohol, alerts, app, areas, crimes, ingest, orders, outcomes, output, subjects, web
from tagwatch.store import open_store

runner = CliRunner()
WIDTHS = (80, 100)
LONDON = ZoneInfo("Europe/London")
AS_OF = "2026-03-20T10:00:00Z"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The web world (alerts, matches, decisions, users, audit) plus an acknowledged alert, an
    outcome, a rejected row, an alcohol subject with a drinking curve and two police.uk months."""
    from conftest import WEB_T0, build_web_world, drink_curve, enrol_alcohol, tac_readings, write_police_uk_months
    tmp = tmp_path_factory.mktemp("output")
    url = f"sqlite:///{tmp / 'out.db'}"
    store = open_store(url)
    w = build_web_world(store)
    day = 86_400_000
    enrol_alcohol(store, "A1", "CAM1", "OA1", WEB_T0 - 5 * day)
    readings = tac_readings(WEB_T0 - 5 * day, WEB_T0, drink_curve(WEB_T0 - 3 * day))
    (tmp / "readings.jsonl").write_text("\n".join(json.dumps(r) for r in readings) + "\n")
    (tmp / "bad.csv").write_text("device_id,ts,lat,lon,accuracy_m\nTAG1,2026-03-20T12:00:00,51.45,-0.02,10\n")
    w.url = url
    w.call = lambda *args, **kw: _invoke(url, args, **kw)
    w.call("alcohol", "ingest", tmp / "readings.jsonl", "--as-of", AS_OF)
    assert w.call("ingest", tmp / "bad.csv", "--no-evaluate", ok=False).exit_code == 1  # its one row rejected
    w.call("alerts", "ack", w.alerts["S1"], "--by", "op1", "--note", "called the subject [no answer]")
    w.call("matches", "outcome", w.shared_match, "no further action", "--on", "2026-03-25", "--force", "MPS",
           "--by", "pol", "--note", "alibi checked")
    w.call("areas", "import", *write_police_uk_months(tmp, ["2025-03", "2026-03"]))
    return w


def _invoke(url, args, width=100, ok=True):
    result = runner.invoke(app, [*map(str, args), "--db", url], env={"COLUMNS": str(width)})
    if ok:
        assert result.exit_code == 0, result.output
    return result


# (arguments, the listing it renders); the listing says which columns a table shows by default.
LISTINGS = [
    (("alerts",), alerts.ALERTS),
    (("subjects", "list"), subjects.SUBJECTS),
    (("devices", "list"), subjects.DEVICES),
    (("orders", "list"), orders.ORDERS),
    (("rejects",), ingest.REJECTS),
    (("crimes", "list"), crimes.CRIMES),
    (("correlate",), crimes.MATCHES),
    (("matches", "outcomes"), outcomes.OUTCOMES),
    (("areas", "list"), areas.MONTHS),
    (("areas", "index"), areas.LSOA_INDEX),
    (("areas", "index", "--level", "borough"), areas.BOROUGH_INDEX),
    (("areas", "trends"), areas.TRENDS),
    (("alcohol", "events", "--all", "--as-of", AS_OF), alcohol.CURVES),
    (("alcohol", "days", "A1", "--as-of", AS_OF), alcohol.DAYS),
    (("users", "list"), web.USERS),
    (("audit", "list"), web.AUDIT),
]
IDS = [" ".join(a[:2]) + (" borough" if "borough" in a else "") for a, _ in LISTINGS]


def _parts(text: str) -> list[list[dict]]:
    """The JSON arrays a command writes, one after another (a show command writes two)."""
    decoder, parts, text, i = json.JSONDecoder(), [], text.strip(), 0
    while i < len(text):
        part, i = decoder.raw_decode(text, i)
        parts.append(part)
        while i < len(text) and text[i].isspace():
            i += 1
    return parts


def _shown(listing, row: dict, year: bool = True, skip=()) -> list[str]:
    """The text a table cell must show whole: every shown column but free text, times in London time."""
    return [output.london_time(row[c], year) if c in listing.times else str(row[c])
            for c in listing.default or listing.columns
            if c not in listing.text and c not in skip and row.get(c) not in (None, "")]


def _years(listing, rows: list[dict]) -> set[int]:
    """The years of the times a table shows (one year: said once under the table, not in each cell)."""
    return {datetime.fromisoformat(r[c]).astimezone(LONDON).year for r in rows
            for c in listing.default or listing.columns if c in listing.times and r.get(c)}


def _assert_fits(result, width: int) -> None:
    too_long = [line for line in result.output.splitlines() if len(line) > width]
    assert not too_long, f"lines over {width} columns:\n" + "\n".join(too_long)
    assert "…" not in result.output, result.output


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args, listing", LISTINGS, ids=IDS)
def test_listing_fits_and_cuts_nothing(world, args, listing, width):
    skip = {"id"} if args[0] == "correlate" else set()  # each correlate run stores its matches under new ids
    rows = json.loads(world.call(*args, "--format", "json").stdout)
    assert rows, "the world should give every listing some rows"
    result = world.call(*args, width=width)
    _assert_fits(result, width)
    lines, years = result.stdout.splitlines(), _years(listing, rows)
    for row in rows:
        cells = _shown(listing, row, len(years) > 1, skip)
        assert any(all(c in line for c in cells) for line in lines), f"{cells} not whole on one line:\n{result.stdout}"
    if len(years) == 1:
        assert lines[-1].strip() == f"Europe/London time, {years.pop()}"


def test_kinds_statuses_and_london_times_are_whole(world):
    out = world.call("alerts", width=80).stdout
    assert out.splitlines()[1].split() == ["id", "kind", "status", "subject_id", "start", "end"]
    assert "exclusion_breach" in out and "no_comms" in out and "acknowledged" in out
    assert "20 Mar 10:44" in out and "Europe/London time, 2026" in out  # JSON keeps 2026-03-20T10:44:00Z
    assert "2026-03-20T10:44:00Z" in world.call("alerts", "--format", "json").stdout


# (arguments, the listings of its parts: the record, then its history)
SHOWS = [
    (("alerts", "show", "{alert}"), [alerts.ALERT, alerts.EVENTS]),
    (("matches", "show", "{match}"), [crimes.MATCH, crimes.DECISIONS]),
    (("areas", "effect", "--pilot", "Lewisham", "--start", "2026-03"), [None]),
]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args, parts", SHOWS, ids=[a[0] for a, _ in SHOWS])
def test_show_is_a_field_list_with_the_history_below(world, args, parts, width):
    args = [a.format(alert=world.alerts["S1"], match=world.shared_match) for a in args]
    records = _parts(world.call(*args, "--format", "json").stdout)
    result = world.call(*args, width=width)
    _assert_fits(result, width)
    lines = result.stdout.splitlines()
    record, listing = records[0][0], parts[0] or output.Listing(tuple(records[0][0]))
    for field in listing.columns:  # one "field: value" line each, the value whole unless free text
        line = next((ln for ln in lines if ln.startswith(f"{field}:")), None)
        assert line is not None, f"no line for {field}:\n{result.stdout}"
        if field not in listing.text and record[field] is not None:
            value = output.london_time(record[field]) if field in listing.times else str(record[field])
            assert value in line
    for history, rows in zip(parts[1:], records[1:]):
        assert rows and any(ln.split() == list(history.columns) for ln in lines), result.stdout
        for row in rows:
            cells = _shown(history, row, len(_years(history, rows)) > 1)
            assert any(all(c in line for c in cells) for line in lines), cells


@pytest.mark.parametrize("args, line", [
    (("rules", "show"), r"dwell_s: +120"),
    (("alcohol", "rules"), r"threshold_g_dl: +0\.02"),
    (("report", "aamr", "--to", AS_OF), r"readings: +240"),
])
def test_settings_and_figures_are_a_field_list(world, args, line):
    result = world.call(*args, width=80)
    _assert_fits(result, 80)
    assert re.search(f"^{line} *$", result.stdout, re.M), result.stdout


@pytest.mark.parametrize("args, listing", LISTINGS, ids=IDS)
def test_wide_shows_every_column_whole(world, args, listing):
    rows = json.loads(world.call(*args, "--format", "json").stdout)
    result = world.call(*args, "--wide", width=80)
    assert "…" not in result.output
    lines = result.stdout.splitlines()
    assert lines[1].split() == list(rows[0])  # under the title: every column, in order
    every = output.Listing(tuple(rows[0]), times=listing.times)
    year, skip = len(_years(every, rows)) > 1, {"id"} if args[0] == "correlate" else set()
    for row in rows:  # at full width even free text is whole, on the row's line
        cells = _shown(every, row, year, skip)
        assert any(all(c in line for c in cells) for line in lines), f"{cells} not on one line:\n{result.stdout}"


def test_columns_picks_the_table_and_the_export(world):
    table = world.call("alerts", "--columns", "id, severity,device_id", width=80).stdout
    assert table.splitlines()[1].split() == ["id", "severity", "device_id"]
    csv_head = world.call("alerts", "--columns", "id,severity,device_id", "--format", "csv").stdout.splitlines()[0]
    assert csv_head == "id,severity,device_id"


@pytest.mark.parametrize("args, valid", [
    (("alerts",), "id, kind, severity, status"),
    (("audit", "list"), "id, at, actor, role, action"),
    (("areas", "index"), "code, name, borough, population"),
    (("alerts", "--format", "json"), "id, kind, severity"),
])
def test_unknown_column_is_an_error_that_lists_the_valid_ones(world, args, valid):
    result = world.call(*args, "--columns", "nope", ok=False)
    message = " ".join(result.output.split())
    assert result.exit_code == 2 and "unknown column 'nope'; choose from: " + valid in message


def test_columns_with_wide_is_an_error(world):
    result = world.call("alerts", "--columns", "id", "--wide", ok=False)
    assert result.exit_code == 2 and "not both" in result.output


def test_correlate_checks_the_columns_before_storing_a_run(world):
    runs = len({m["run_id"] for m in open_store(world.url).match_rows(False)})
    assert world.call("correlate", "--columns", "nope", ok=False).exit_code == 2
    assert len({m["run_id"] for m in open_store(world.url).match_rows(False)}) == runs


@pytest.mark.parametrize("args, listing", LISTINGS, ids=IDS)
def test_json_and_csv_stay_complete(world, args, listing):
    rows = json.loads(world.call(*args, "--format", "json").stdout)
    assert all(list(r)[:len(listing.columns)] == list(listing.columns) for r in rows)
    for r in rows:
        for c in listing.times:
            assert r[c] in (None, "") or re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", r[c]), (c, r[c])
    head = world.call(*args, "--format", "csv").stdout.splitlines()[0].split(",")
    assert head[:len(listing.columns)] == list(listing.columns)


def test_schedules_in_brackets_are_shown_not_read_as_markup(world):
    out = " ".join(world.call("orders", "list", width=80).stdout.split())
    assert "home:curfew [daily 19:00-07:00]" in out
    assert "called the subject [no answer]" in " ".join(world.call("alerts", "show", world.alerts["S1"]).stdout.split())


def test_a_terminal_too_narrow_gets_whole_values_past_its_edge(world):
    result = world.call("alerts", width=40)
    assert "…" not in result.output and "exclusion_breach" in result.stdout and "acknowledged" in result.stdout


@pytest.mark.parametrize("value, year, text", [
    ("2026-03-20T10:44:00Z", True, "20 Mar 2026 10:44"),  # GMT
    ("2026-03-20T10:44:00Z", False, "20 Mar 10:44"),
    ("2026-07-01T18:05:59Z", False, "01 Jul 19:05"),  # BST, to the minute
    ("2026-07-01T19:05:00+01:00", False, "01 Jul 19:05"),
    ("2026-12-31T23:30:00-01:00", True, "01 Jan 2027 00:30"),
    (1_774_003_440_000, True, "20 Mar 2026 10:44"),  # epoch ms
    (None, True, ""),
])
def test_london_time(value, year, text):
    assert output.london_time(value, year) == text
