"""Offence and cohort files into a real store, through the CLI, and the reoffending report from it."""

import csv
import json

import jsonschema
import pytest
from typer.testing import CliRunner

from tagwatch.cli import app
from tagwatch.schemas import load_schema
from tagwatch.store import open_store

runner = CliRunner()


class Ran:
    def __init__(self, res):
        self.exit_code, self.raw = res.exit_code, res.output
        self.output = " ".join(res.output.split())  # the console wraps long lines


def run(*args) -> Ran:
    return Ran(runner.invoke(app, [str(a) for a in args]))


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    d = tmp_path_factory.mktemp("study")
    db = f"sqlite:///{d / 'r.db'}"
    assert run("simulate-cohort", "--cohort", 100, "--effect", -0.1, "--out", d / "c").exit_code == 0
    for what, name in (("cohort", "cohort.csv"), ("offences", "offences.csv")):
        res = run("--db", db, what, "import", d / "c" / name)
        assert res.exit_code == 0 and "0 rejected" in res.output, res.output
    return d, db


def test_simulated_files_follow_their_schemas(study):
    d, _ = study
    for schema, name in (("cohort", "cohort.csv"), ("offences", "offences.csv")):
        with open(d / "c" / name, newline="") as f:
            rows = list(csv.DictReader(f))
        assert rows
        for r in rows[:300]:
            jsonschema.validate({k: v for k, v in r.items() if v != "" or k not in ("ogrs", "offence_type")},
                                load_schema(schema))


def test_importing_again_adds_nothing(study):
    d, db = study
    n = len(open_store(db).proven_offences())
    res = run("--db", db, "offences", "import", d / "c" / "offences.csv")
    assert ", 0 new, 0 rejected" in res.output and len(open_store(db).proven_offences()) == n
    res = run("--db", db, "cohort", "import", d / "c" / "cohort.csv")
    assert res.exit_code == 0 and len(open_store(db).cohort_people()) == 1100


def test_bad_rows_are_rejected_with_a_reason_and_the_rest_kept(tmp_path):
    db = f"sqlite:///{tmp_path / 'r.db'}"
    f = tmp_path / "offences.csv"
    f.write_text("person_id,offence_date,disposal_date,disposal,offence_type\n"
                 "P1,2024-02-01,2024-03-01,conviction,theft\n"
                 "P1,2024-02-30,2024-03-01,conviction,theft\n"
                 "P2,2024-05-01,2024-04-01,caution,theft\n"
                 "P3,2024-05-01,2024-06-01,acquitted,theft\n"
                 ",2024-05-01,2024-06-01,caution,theft\n"
                 "P4,2024-05-01\n")
    res = run("--db", db, "offences", "import", f)
    assert res.exit_code == 0 and "6 rows, 1 new, 5 rejected" in res.output
    store = open_store(db)
    reasons = {r["line_no"]: r["reason"].split(":")[0] for r in store.rejects()}
    assert reasons == {3: "bad_date", 4: "disposal_before_offence", 5: "unknown_disposal", 6: "missing_person",
                       7: "unparsable"}
    c = tmp_path / "cohort.csv"
    c.write_text("person_id,group,start_date,age,gender,prior_offences,ogrs\n"
                 "P1,gps,2024-01-01,30,male,2,55\nP2,tagged,2024-01-01,30,male,2,\nP3,comparison,2024-01-01,30,x,2,\n"
                 "P4,comparison,2024-01-01,thirty,male,2,\nP5,comparison,2024-01-01,30,female,1.5,\n")
    res = run("--db", db, "cohort", "import", c)
    assert "5 rows, 1 new, 4 rejected" in res.output and "bad_group 1" in res.output and "bad_number 2" in res.output
    assert [p["person_id"] for p in store.cohort_people()] == ["P1"]
    (tmp_path / "nohead.csv").write_text("person_id,offence_date\nP1,2024-01-01\n")
    res = run("--db", db, "offences", "import", tmp_path / "nohead.csv")
    assert res.exit_code == 2 and "lacks required column" in res.output


def test_report_reoffending_json_table_and_html(study):
    d, db = study
    res = run("--db", db, "report", "reoffending", "--as-of", "2026-06-01", "--format", "json")
    doc = json.loads(res.raw)
    assert doc["n_tagged"] == 100 and doc["n_pool"] == 1000 and doc["refused"] is None
    rate = next(e for e in doc["effects"] if e["measure"] == "rate")
    assert rate["ci_low"] < rate["difference"] < rate["ci_high"]
    assert "person_id" not in res.output and "T00001" not in res.output  # aggregates only
    table = run("--db", db, "report", "reoffending", "--as-of", "2026-06-01")
    assert "Proven reoffending rate" in table.output and "without replacement" in table.output
    assert json.loads(run("--db", db, "report", "reoffending", "--as-of", "2026-06-01", "--replace", "-f",
                          "json").raw)["replace"] is True
    out = d / "r.html"
    assert run("--db", db, "report", "reoffending", "--as-of", "2026-06-01", "-f", "html", "--out", out).exit_code == 0
    html = out.read_text()
    assert html.count("<svg") == 2 and "Balance" in html and "Kaplan-Meier" in html and "T00001" not in html


def test_report_reoffending_refuses_a_small_cohort_and_filters_months(study):
    _, db = study
    doc = json.loads(run("--db", db, "report", "reoffending", "--as-of", "2026-06-01", "--from", "2023-01",
                         "--to", "2023-03", "-f", "json").raw)
    assert doc["n_tagged"] < 60 and doc["refused"].endswith("(the Justice Data Lab's minimum)") and not doc["effects"]
    res = run("--db", db, "report", "reoffending", "--programme", "alcohol", "--as-of", "2026-06-01", "-f", "json")
    assert json.loads(res.raw)["n_tagged"] == 0
    assert run("--db", db, "report", "reoffending", "--from", "2023-13").exit_code == 2


def test_programme_report_has_a_reoffending_section(study):
    from datetime import UTC, datetime

    from tagwatch.reports import programme_reoffending  # noqa: F401  (registers the section)
    from tagwatch.reports.programme import ProgrammeData, build_report
    from tagwatch.services.reoffending import programme_rows
    _, db = study
    as_of = int(datetime(2026, 6, 1, tzinfo=UTC).timestamp() * 1000)
    data = ProgrammeData(as_of, {}, [], [], [], [], extra=programme_rows(open_store(db), as_of))
    months = [f"{y}-{m:02d}" for y in (2023, 2024) for m in range(1, 13)]
    (sec, series) = next((s, ss) for s, ss in build_report(data, months).sections if s.key == "reoffending")
    v = {s.key: s for s in series}
    assert v["reoffending_started"].total == 100 == v["reoffending_measurable"].total
    doc = json.loads(run("--db", db, "report", "reoffending", "--as-of", "2026-06-01", "-f", "json").raw)
    assert doc["n_tagged"] == 100
    rows = data.extra["reoffending_tagged"]
    assert v["reoffending_rate"].total == pytest.approx(sum(r["reoffended"] for r in rows) / 100)
    assert sum(v["reoffending_started"].values) == 100
    # no cohort: the section has no series
    empty = ProgrammeData(as_of, {}, [], [], [], [])
    assert next(ss for s, ss in build_report(empty, months).sections if s.key == "reoffending") == []


def test_evaluator_data_carries_reoffending_aggregates_only(study):
    from datetime import UTC, datetime

    from tagwatch.services.programme import evaluator_data
    _, db = study
    d = evaluator_data(open_store(db), now_ms=int(datetime(2026, 6, 1, tzinfo=UTC).timestamp() * 1000))
    r = d["reoffending"]
    assert r["n_tagged"] == 100 and {e["measure"] for e in r["effects"]} >= {"rate", "frequency"}
    text = json.dumps(d)
    assert "T00001" not in text and "C00001" not in text and "person_id" not in text  # never a person
    assert "reoffending" not in evaluator_data(open_store(db))  # without a day to measure up to, no panel
