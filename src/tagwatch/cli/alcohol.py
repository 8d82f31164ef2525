"""``tagwatch alcohol ...`` and ``tagwatch report aamr``: a thin shell over services.alcohol."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from ..services import alcohol as svc
from .common import (DEFAULT_DB, ColumnsOpt, DbOpt, FormatOpt, WideOpt, console, exit_for_rejects, friendly, now_ms,
                     setting_pairs, ts_opt)
from ..model import iso
from .output import Format, Listing, render, render_record
from ..store import Store, open_store

__all__ = ["alcohol_app", "ingest_readings_and_evaluate", "report_aamr"]

alcohol_app = typer.Typer(help="Alcohol tags: transdermal readings, drinking events, tamper, compliance.",
                          no_args_is_help=True)

AsOf = Annotated[str | None, typer.Option(help="Evaluation horizon (ISO with offset); default now.")]
CURVES = Listing(("subject_id", "start", "peak_at", "peak_g_dl", "end", "readings", "rise_g_dl_h", "fall_g_dl_h",
                  "confirmed", "verdict"),
                 default=("subject_id", "start", "peak_g_dl", "end", "verdict"),
                 times={"start", "peak_at", "end", "confirmed"}, text={"verdict"})
DAYS = Listing(("date", "order_id", "hours", "readings", "expected", "drinking", "obstruction_or_tamper",
                "missed_readings", "compliant"),
               default=("date", "hours", "drinking", "obstruction_or_tamper", "missed_readings", "compliant"))


def ingest_readings_and_evaluate(store: Store, files: list[Path], as_of: int | None, evaluate: bool = True):
    now = now_ms()
    with Progress(console=console) as prog:
        task = prog.add_task("ingest readings", total=sum(Path(f).stat().st_size for f in files))
        rep = svc.ingest_alcohol_files(store, files, now, on_read=lambda n: prog.advance(task, n))
    console.print(f"readings: accepted [bold]{rep.accepted}[/bold], duplicates {rep.duplicates}, rejected {rep.rejected}"
                  + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(rep.reasons.items()))}; see tagwatch rejects)"
                     if rep.rejected else ""))
    ev = None
    if evaluate and rep.touched:
        as_of_ms = as_of if as_of is not None else now
        subjects = sorted(svc.subjects_touched(store, rep.touched))
        ev = svc.evaluate_alcohol(store, as_of_ms, now, subjects)
        console.print(f"evaluated {ev.subjects} alcohol subjects as of {iso(as_of_ms)}: alerts new {ev.new}, "
                      f"updated {ev.updated}, retracted {ev.retracted}")
    return rep, ev


@alcohol_app.command("ingest")
@friendly
def ingest(files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)], as_of: AsOf = None,
           evaluate: Annotated[bool, typer.Option(help="Re-evaluate the subjects the readings touch.")] = True,
           db: DbOpt = DEFAULT_DB):
    """Ingest alcohol reading files (CSV or JSON Lines); re-ingesting changes nothing."""
    rep, _ = ingest_readings_and_evaluate(open_store(db), files, ts_opt(as_of, "--as-of"), evaluate)
    exit_for_rejects(rep.rejected)


@alcohol_app.command("evaluate")
@friendly
def evaluate(as_of: AsOf = None, db: DbOpt = DEFAULT_DB):
    """Re-judge every alcohol subject's whole history (e.g. after changing alcohol settings)."""
    store = open_store(db)
    as_of_ms = ts_opt(as_of, "--as-of", now_ms())
    ev = svc.evaluate_alcohol(store, as_of_ms, now_ms())
    console.print(f"evaluated {ev.subjects} alcohol subjects as of {iso(as_of_ms)}: alerts new {ev.new}, "
                  f"updated {ev.updated}, retracted {ev.retracted}, unchanged {ev.unchanged}")


@alcohol_app.command("events")
@friendly
def events(subject: str | None = None,
           all_: Annotated[bool, typer.Option("--all", help="Also curves that did not confirm, with the reason.")] = False,
           as_of: AsOf = None, fmt: FormatOpt = Format.table, columns: ColumnsOpt = None, wide: WideOpt = False,
           db: DbOpt = DEFAULT_DB):
    """Drinking events found on the curves (peak, rise and fall rates, verdict)."""
    view = CURVES.view(columns, wide)
    store = open_store(db)
    as_of_ms = ts_opt(as_of, "--as-of", now_ms())
    rows = []
    for sid in [subject] if subject else svc.alcohol_subjects(store):
        for c in svc.subject_verdict(store, sid, as_of_ms).curves:
            if all_ or c.confirmed:
                rows.append({"subject_id": sid, "start": iso(c.start_ms), "peak_at": iso(c.peak_ms),
                             "peak_g_dl": round(c.peak_g_dl, 3), "end": iso(c.end_ms), "readings": c.n_readings,
                             "rise_g_dl_h": None if c.rise_g_dl_h is None else round(c.rise_g_dl_h, 4),
                             "fall_g_dl_h": None if c.fall_g_dl_h is None else round(c.fall_g_dl_h, 4),
                             "confirmed": iso(c.confirm_ms), "verdict": c.verdict})
    render(rows, view, fmt, f"Alcohol curves ({len(rows)})")


@alcohol_app.command("days")
@friendly
def days(subject: str,
         start: Annotated[str | None, typer.Option("--from", help="Period start (ISO, offset).")] = None,
         end: Annotated[str | None, typer.Option("--to", help="Period end (ISO, offset).")] = None,
         as_of: AsOf = None, fmt: FormatOpt = Format.table, columns: ColumnsOpt = None, wide: WideOpt = False,
         db: DbOpt = DEFAULT_DB):
    """One subject's monitored days in Europe/London time, and whether each was compliant."""
    view = DAYS.view(columns, wide)
    store = open_store(db)
    to_ms = ts_opt(end, "--to")
    as_of_ms = ts_opt(as_of, "--as-of", min(to_ms, now_ms()) if to_ms is not None else now_ms())
    rows = [{"date": d.date.isoformat(), "order_id": d.order_id, "hours": d.hours, "readings": d.readings,
             "expected": round(d.expected, 1), "drinking": d.drinking, "obstruction_or_tamper": d.integrity,
             "missed_readings": d.gap, "compliant": d.compliant}
            for d in svc.subject_days(store, subject, ts_opt(start, "--from"), to_ms, as_of_ms)]
    render(rows, view, fmt, f"Monitored days of {subject} ({len(rows)})")


@alcohol_app.command("rules")
@friendly
def rules(db: DbOpt = DEFAULT_DB):
    """Show the alcohol rule settings in force for this store."""
    s = svc.get_alcohol_settings(open_store(db))
    render_record({n: getattr(s, n) for n in s.names()}, s.names(), Format.table, "Alcohol rules")


@alcohol_app.command("set")
@friendly
def set_(pairs: Annotated[list[str], typer.Argument(help="NAME=VALUE, e.g. threshold_g_dl=0.03")],
         db: DbOpt = DEFAULT_DB):
    """Change alcohol rule settings (then run tagwatch alcohol evaluate)."""
    overrides = setting_pairs(pairs)
    s = svc.set_alcohol_settings(open_store(db), **overrides)
    console.print("alcohol rules now: " + ", ".join(f"{k}={getattr(s, k)}" for k in overrides))


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    html = "html"


@friendly
def report_aamr(start: Annotated[str | None, typer.Option("--from", help="Period start; default the first alcohol order.")] = None,
                end: Annotated[str | None, typer.Option("--to", help="Period end (exclusive); default the horizon.")] = None,
                as_of: Annotated[str | None, typer.Option(help="Horizon; default --to if given (and past), else now.")] = None,
                fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="table, json or html.")] = ReportFormat.table,
                out: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output.")] = None,
                db: DbOpt = DEFAULT_DB):
    """Alcohol abstinence monitoring compliance for a period: orders, monitored days, readings, compliance."""
    store = open_store(db)
    now = now_ms()
    to_ms = ts_opt(end, "--to")
    as_of_ms = ts_opt(as_of, "--as-of", min(to_ms, now) if to_ms is not None else now)
    settings = svc.get_alcohol_settings(store)
    rep, verdicts = svc.aamr(store, ts_opt(start, "--from"), to_ms, as_of_ms, settings)
    summary = rep.summary()
    if fmt is ReportFormat.html:
        from ..reports.aamr import render_html
        text = render_html(rep, verdicts, settings, now)
    elif fmt is ReportFormat.json:
        text = json.dumps({"from": iso(rep.from_ms), "to": iso(rep.to_ms), "as_of": iso(rep.as_of_ms), **summary,
                           "orders": [_order_row(o) for o in rep.orders]}, indent=2) + "\n"
    else:
        figures = {k.replace("_", " "): v for k, v in summary.items()}
        render_record(figures, list(figures), Format.table,
                      f"AAMR {iso(rep.from_ms)} to {iso(rep.to_ms)} (as of {iso(rep.as_of_ms)})")
        return
    if out:
        Path(out).write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")
    else:
        sys.stdout.write(text)


def _order_row(o) -> dict:
    return {"order_id": o.order_id, "subject_id": o.subject_id, "start": iso(o.start_ms), "end": iso(o.end_ms),
            "ended": o.ended, "monitored_days": o.monitored_days, "readings": o.readings,
            "compliant_days": o.compliant_days, "confirmed_events": o.events, "peak_g_dl": o.peak_g_dl,
            "obstructions": o.obstructions, "tampers": o.tampers, "missed_readings_gaps": o.gaps}
