"""``tagwatch simulate | load | demo``: synthetic pilots, bulk loads and the demo."""

from __future__ import annotations

import json
import shutil
import time
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import jsonschema
import typer
from rich.progress import Progress
from rich.table import Table

from ..services import enrolment, evaluation
from ..services.evaluation import EvalReport
from ..services.ingest import IngestReport
from .ingest import ingest_with_progress
from .common import DEFAULT_DB, DbOpt, console, friendly, now_ms, ts_opt
from ..codec import InputError, enrolment_from_dict, parse_ts
from ..model import iso
from ..rules import NAIVE_SETTINGS
from ..schemas import load_schema
from ..ingest.crimes import read_crime_file
from ..services.correlation import correlate, run_matches
from ..store import Store, open_store

__all__ = ["simulate", "load", "demo", "load_dir", "demo_users"]


@friendly
def simulate(subjects: Annotated[int, typer.Option(help="Number of subjects.")] = 100,
             days: Annotated[int, typer.Option(help="Length of the pilot in days.")] = 14,
             seed: Annotated[int, typer.Option(help="Random seed: same seed, same pilot.")] = 1,
             out: Annotated[Path, typer.Option(help="Directory to write the pilot to.")] = Path("pilot"),
             start: Annotated[str, typer.Option(help="First day (local), YYYY-MM-DD.")] = "2026-03-20",
             alcohol: Annotated[int, typer.Option(help="Also this many subjects on alcohol-abstinence orders.")] = 0):
    """Write a synthetic pilot (enrolment, fixes, alcohol readings, ground truth) in London boroughs."""
    from ..sim import simulate as run_sim
    with Progress(console=console) as prog:
        task = prog.add_task("simulate", total=subjects)
        summary = run_sim(out, subjects, days, seed, date.fromisoformat(start),
                          progress=lambda done, total: prog.update(task, completed=done, total=total), n_alcohol=alcohol)
    console.print(f"wrote {out}: {summary.n_subjects} subjects, {summary.n_fixes} fix rows, "
                  f"{summary.n_violations} injected violations, {summary.n_noise} noise excursions"
                  + (f"; {summary.n_alcohol} alcohol subjects, {summary.n_readings} readings" if alcohol else ""))


def load_dir(store: Store, directory: Path, as_of: Optional[int]) -> tuple[IngestReport, EvalReport]:
    """Enrol from DIR/enrolment.json, ingest DIR/fixes.csv, evaluate everyone."""
    directory = Path(directory)
    path = directory / "enrolment.json"
    if not path.exists():
        raise InputError(f"{directory} has no enrolment.json (see docs/formats.md)")
    doc = json.loads(path.read_text(encoding="utf-8"))
    try:
        jsonschema.validate(doc, load_schema("enrolment"))
    except jsonschema.ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
        raise InputError(f"{path}: at {where}: {e.message}") from None
    rep = enrolment.enrol(store, enrolment_from_dict(doc), now_ms())
    console.print("enrolled " + ", ".join(f"{k} {v}" for k, v in rep.added.items())
                  + (" (already there: " + ", ".join(f"{k} {v}" for k, v in rep.skipped.items() if v) + ")"
                     if any(rep.skipped.values()) else ""))
    if as_of is None and (directory / "pilot.json").exists():
        as_of = parse_ts(json.loads((directory / "pilot.json").read_text())["as_of"], "pilot as_of")
    if (directory / "crimes.csv").exists():
        crimes = read_crime_file(directory / "crimes.csv")
        counts = store.record_crime_batch(crimes, now_ms())
        console.print(f"crimes: new {counts['new']}, new versions {counts['new_version']}, "
                      f"unchanged {counts['unchanged']}, rejected {counts['rejected']}")
    street = sorted((directory / "police-uk").glob("*/*-street.csv"))
    if street:
        from ..services.areas import import_area_files
        reps = import_area_files(store, street, now_ms())
        console.print(f"police.uk area crime: {sum(r.rows for r in reps)} rows from {len(reps)} monthly files "
                      f"({sum(r.status == 'unchanged' for r in reps)} unchanged)")
    files = [p for p in (directory / "fixes.csv", directory / "fixes.jsonl") if p.exists()]
    ing = ingest_with_progress(store, files, as_of, evaluate=False).ingest
    as_of_ms = as_of if as_of is not None else now_ms()
    with Progress(console=console) as prog:
        task = prog.add_task("evaluate", total=len(store.subjects()))
        ev = evaluation.evaluate(store, as_of_ms, now_ms(), on_subject=lambda _s: prog.advance(task))
    console.print(f"evaluated {ev.subjects} subjects as of {iso(as_of_ms)}: {ev.new} new alerts")
    if (directory / "alcohol.csv").exists():
        from .alcohol import ingest_readings_and_evaluate
        ingest_readings_and_evaluate(store, [directory / "alcohol.csv"], as_of_ms)
    return ing, ev


@friendly
def load(directory: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
         as_of: Annotated[Optional[str], typer.Option(help="Evaluation horizon; default pilot.json's as_of, else now.")] = None,
         db: DbOpt = DEFAULT_DB):
    """Bulk-load a pilot directory (the simulator's format, docs/formats.md)."""
    load_dir(open_store(db), directory, ts_opt(as_of, "--as-of"))


@friendly
def demo(subjects: int = 100, days: int = 14, seed: int = 1,
         out: Annotated[Path, typer.Option(help="Working directory (recreated).")] = Path("demo-pilot"),
         serve: Annotated[bool, typer.Option("--serve/--no-serve",
                                             help="End by serving the dashboard on the pilot until Ctrl-C.")] = True,
         host: Annotated[str, typer.Option(help="Interface the dashboard listens on.")] = "127.0.0.1",
         port: Annotated[int, typer.Option(help="Port of the dashboard.")] = 8000):
    """Simulate a pilot, load it, evaluate it, score the alerts against the ground truth, then serve the dashboard."""
    from ..sim import score, simulate as run_sim
    t0 = time.perf_counter()
    if out.exists():
        shutil.rmtree(out)
    with Progress(console=console) as prog:
        task = prog.add_task("simulate", total=subjects)
        summary = run_sim(out, subjects, days, seed, progress=lambda d, t: prog.update(task, completed=d, total=t))
    t_sim = time.perf_counter()
    store = open_store(f"sqlite:///{out / 'tagwatch.db'}")
    ing, _ = load_dir(store, out, None)
    t_load = time.perf_counter()
    truth = json.loads((out / "truth.json").read_text())
    alerts = store.alerts()
    result = score([{"subject_id": a["subject_id"], "kind": a["kind"], "start": iso(a["start_ms"]),
                     "end": iso(a["end_ms"])} for a in alerts], truth)
    as_of = parse_ts(truth["as_of"], "truth as_of")
    naive = score([{"subject_id": e.subject_id, "kind": str(e.kind), "start": iso(e.start_ms), "end": iso(e.end_ms)}
                   for e in evaluation.episodes_with(store, as_of, NAIVE_SETTINGS)], truth)
    _print_summary(summary, ing, alerts, result, naive)
    t_corr = time.perf_counter()
    with Progress(console=console) as prog:
        task = prog.add_task("correlate", total=summary.n_subjects)
        run = correlate(store, now_ms(), on_subject=lambda _s: prog.advance(task))
    _print_correlation(run, run_matches(store, run["run_id"]), truth, time.perf_counter() - t_corr)
    console.print(f"timings: simulate {t_sim - t0:.1f} s, load+ingest+evaluate {t_load - t_sim:.1f} s; "
                  f"store {out / 'tagwatch.db'} (try: tagwatch alerts --db sqlite:///{out / 'tagwatch.db'})")
    logins = demo_users(store, [s.id for s in store.subjects()][:10])
    _print_logins(logins, host, port, out)
    if serve:
        from .web import serve_store
        console.print("serving the dashboard until Ctrl-C (tagwatch demo --no-serve to skip)")
        serve_store(store, host, port)
    else:
        console.print(f"not serving (--no-serve); to serve these logins later: "
                      f"tagwatch serve --db sqlite:///{out / 'tagwatch.db'} --port {port}")


DEMO_FORCE = "MPS"


def demo_users(store: Store, caseload: list[str]) -> list[tuple[str, str, str]]:
    """One user per role with a fresh random password, for the demo database only."""
    import secrets

    from ..services import users
    out = []
    for role in ("monitoring", "probation", "police", "evaluator", "admin"):
        name, password = f"demo-{role}", secrets.token_urlsafe(12)
        users.add_user(store, name, password, role, now_ms(), force=DEMO_FORCE if role == "police" else None,
                               caseload=caseload if role == "probation" else None, actor="demo")
        out.append((role, name, password))
    return out


def _print_logins(logins, host: str, port: int, out: Path) -> None:
    t = Table(title=f"Dashboard http://{host}:{port}/ (demo logins, valid for {out / 'tagwatch.db'} only)")
    for c in ("role", "username", "password", "sees"):
        t.add_column(c)
    sees = {"monitoring": "live map, every alert, match review (share a match with MPS)",
            "probation": "the 10 subjects on their caseload: tracks, alerts, conditions",
            "police": f"only matches shared with {DEMO_FORCE}, with their evidence",
            "evaluator": "programme figures only, never a location",
            "admin": "users, devices, the audit log"}
    for role, name, password in logins:
        t.add_row(role, name, password, sees[role])
    console.print(t)


def _print_correlation(run, matches, truth, seconds) -> None:
    offences = {(o["crime_id"], o["subject_id"]) for o in truth.get("offences", [])}
    significant = [m for m in matches if m["significant"]]
    found = {(m["crime_ref"], m["subject_id"]) for m in significant} & offences
    innocent = [m for m in significant if (m["crime_ref"], m["subject_id"]) not in offences]
    t = Table(title=f"Crime-scene correlation (run {run['run_id']})", show_header=False)
    t.add_row("crimes x subjects checked", f"{run['crimes']} x {run['subjects']} in {seconds:.1f} s")
    t.add_row("matches / significant", f"{run['matches']} / {run['significant']}")
    t.add_row("matches found only on a segment between fixes",
              str(sum(1 for m in matches if m["evidence"] == "segment")))
    t.add_row("offences by subjects found as significant matches (recall)",
              f"{len(found)} of {len(offences)}" + (f" ({len(found) / len(offences):.3f})" if offences else ""))
    t.add_row("significant matches that are innocent passers-by",
              f"{len(innocent)} of {len(significant)}" + (f" ({len(innocent) / len(significant):.3f})" if significant else ""))
    console.print(t)


def _print_summary(summary, ing, alerts, result, naive) -> None:
    r = result.to_dict()
    head = Table(title="Pilot", show_header=False)
    head.add_row("subjects", str(summary.n_subjects))
    head.add_row("fixes accepted / duplicates / rejected", f"{ing.accepted} / {ing.duplicates} / {ing.rejected}")
    head.add_row("alerts", str(len(alerts)))
    head.add_row("alerts per subject-day", f"{r['alerts_per_subject_day']:.3f}")
    head.add_row("true violations per subject-day (ground truth)", f"{r['true_violations_per_subject_day']:.3f}")
    head.add_row("precision / recall (all kinds)", f"{r['precision']:.3f} / {r['recall']:.3f}")
    head.add_row("noise excursions that raised an alert", f"{r['noise_alerted']} of {summary.n_noise}")
    n = naive.to_dict()
    head.add_row("naive rules (point in zone, no dwell): alerts per subject-day",
                 f"{n['alerts_per_subject_day']:.3f} (precision {n['precision']:.3f}, recall {n['recall']:.3f})")
    console.print(head)
    kinds = Table(title="Alerts by kind against ground truth")
    for c in ("kind", "alerts", "true", "precision", "recall"):
        kinds.add_column(c, justify="right" if c != "kind" else "left")
    for kind, k in sorted(r["per_kind"].items()):
        kinds.add_row(kind, str(k["n_alerts"]), str(k["n_true"]), f"{k['precision']:.3f}", f"{k['recall']:.3f}")
    console.print(kinds)
