"""The ``tagwatch`` command: a thin shell over :mod:`tagwatch.service`.

Each command opens the store, calls one use case, and turns errors the user can fix
into a one-line message and exit code 2.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from . import service, service_changes
from .cli_alcohol import alcohol_app
from .cli_areas import areas_app
from .cli_reports import report_app
from .cli_crimes import correlate_cmd, crimes_app, matches_app
from .cli_evidence import evidence_cmd
from .cli_orders import orders_app
from .cli_common import DEFAULT_DB, DbOpt, FormatOpt, console, friendly, now_ms, setting_pairs, ts_opt
from .model import Device, RiskLevel, Subject, iso
from .output import Format, render
from .service_correlate import recheck_after_ingest
from .store import Store, open_store

__all__ = ["app"]

app = typer.Typer(help="tagwatch: electronic monitoring of GPS tags - enrol, ingest, enforce, alert.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
subjects_app = typer.Typer(help="People on an order.", no_args_is_help=True)
devices_app = typer.Typer(help="Tags, and who wears them.", no_args_is_help=True)
rules_app = typer.Typer(help="Rule settings (dwell, hysteresis, health thresholds).", no_args_is_help=True)
alerts_app = typer.Typer(help="List alerts, or work them: ack, escalate, note, close.")
app.add_typer(subjects_app, name="subjects")
app.add_typer(devices_app, name="devices")
app.add_typer(orders_app, name="orders")
app.add_typer(rules_app, name="rules")
app.add_typer(alerts_app, name="alerts")
app.add_typer(crimes_app, name="crimes")
app.add_typer(matches_app, name="matches")
app.add_typer(areas_app, name="areas")
app.command("correlate")(correlate_cmd)
app.command("evidence")(evidence_cmd)
app.add_typer(alcohol_app, name="alcohol")
app.add_typer(report_app, name="report")

def store_at(db: str) -> Store:
    return open_store(db)


# -- subjects and devices -----------------------------------------------------------------------
@subjects_app.command("add")
@friendly
def subjects_add(subject_id: str, name: str = "", risk: RiskLevel = RiskLevel.MEDIUM, offence: str = "",
                 borough: str = "", db: DbOpt = DEFAULT_DB):
    """Register a person on (or about to be on) an order."""
    store_at(db).add_subject(Subject(subject_id, name, risk, offence, borough), now_ms())
    console.print(f"added subject {subject_id}")


@subjects_app.command("list")
@friendly
def subjects_list(fmt: FormatOpt = Format.table, db: DbOpt = DEFAULT_DB):
    """List subjects."""
    rows = [{"id": s.id, "name": s.name, "risk_level": str(s.risk_level), "offence": s.offence, "borough": s.borough}
            for s in store_at(db).subjects()]
    render(rows, ["id", "name", "risk_level", "offence", "borough"], fmt, "Subjects")


@devices_app.command("add")
@friendly
def devices_add(device_id: str, kind: str = "gps", model: str = "", db: DbOpt = DEFAULT_DB):
    """Register a tag."""
    store_at(db).add_device(Device(device_id, kind, model), now_ms())
    console.print(f"added device {device_id}")


@devices_app.command("assign")
@friendly
def devices_assign(device_id: str, subject_id: str,
                   start: Annotated[Optional[str], typer.Option("--from", help="ISO time with offset; default now.")] = None,
                   db: DbOpt = DEFAULT_DB):
    """Fit a tag to a subject (a swap ends the previous tag's assignment at that time)."""
    store_at(db).assign(device_id, subject_id, ts_opt(start, "--from", now_ms()))
    console.print(f"{device_id} assigned to {subject_id}")


@devices_app.command("list")
@friendly
def devices_list(fmt: FormatOpt = Format.table, db: DbOpt = DEFAULT_DB):
    """List tags with their assignments (current and past)."""
    store = store_at(db)
    worn = {}
    for a in store.assignments():
        worn.setdefault(a.device_id, []).append(a)
    rows = []
    for d in store.devices():
        for a in worn.get(d.id) or [None]:
            rows.append({"device_id": d.id, "kind": d.kind, "model": d.model,
                         "subject_id": a and a.subject_id, "from": a and iso(a.from_ms), "to": a and iso(a.to_ms)})
    render(rows, ["device_id", "kind", "model", "subject_id", "from", "to"], fmt, "Devices")


# -- ingest, evaluate, rejects -------------------------------------------------------------------------
def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                    console=console, transient=False)


def ingest_and_evaluate(store: Store, files: list[Path], as_of: Optional[int], evaluate: bool = True,
                        device: Optional[str] = None):
    now = now_ms()
    with _progress() as prog:
        task = prog.add_task("ingest", total=sum(Path(f).stat().st_size for f in files))
        rep = service.ingest_files(store, files, now, on_read=lambda n: prog.advance(task, n), device_id=device)
    console.print(f"accepted [bold]{rep.accepted}[/bold], duplicates {rep.duplicates}, rejected {rep.rejected}"
                  + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(rep.reasons.items()))}; see tagwatch rejects)"
                     if rep.rejected else ""))
    ev = None
    if evaluate and rep.touched:
        since = service.subjects_touched(store, rep.touched)
        as_of_ms = as_of if as_of is not None else now
        with Progress(console=console) as prog:
            task = prog.add_task("evaluate", total=len(since))
            ev = service.evaluate(store, as_of_ms, now, since, on_subject=lambda _s: prog.advance(task))
        console.print(f"evaluated {ev.subjects} subjects as of {iso(as_of_ms)}: alerts new {ev.new}, "
                      f"updated {ev.updated}, retracted {ev.retracted}")
        run = recheck_after_ingest(store, service.subjects_touched(store, rep.touched), now)
        if run:
            console.print(f"re-checked {run['subjects']} subjects against {run['crimes']} crimes: "
                          f"{run['matches']} matches, {run['significant']} significant (run {run['run_id']})")
    return rep, ev


@app.command()
@friendly
def ingest(files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)],
           as_of: Annotated[Optional[str], typer.Option(help="Evaluation horizon; default now.")] = None,
           evaluate: Annotated[bool, typer.Option(help="Re-evaluate the subjects the new fixes touch.")] = True,
           device: Annotated[Optional[str], typer.Option(help="Device id for GPX files (GPX carries none).")] = None,
           db: DbOpt = DEFAULT_DB):
    """Ingest fix files (CSV, JSON Lines, or GPX with --device); re-ingesting changes nothing."""
    ingest_and_evaluate(store_at(db), files, ts_opt(as_of, "--as-of"), evaluate, device)


@app.command("evaluate")
@friendly
def evaluate_cmd(as_of: Annotated[Optional[str], typer.Option(help="Evaluation horizon; default now.")] = None,
                 db: DbOpt = DEFAULT_DB):
    """Re-evaluate every subject's whole history (e.g. after changing rule settings)."""
    store = store_at(db)
    as_of_ms = ts_opt(as_of, "--as-of", now_ms())
    with Progress(console=console) as prog:
        task = prog.add_task("evaluate", total=len(store.subjects()))
        ev = service.evaluate(store, as_of_ms, now_ms(), on_subject=lambda _s: prog.advance(task))
    console.print(f"evaluated {ev.subjects} subjects as of {iso(as_of_ms)}: alerts new {ev.new}, "
                  f"updated {ev.updated}, retracted {ev.retracted}, unchanged {ev.unchanged}")


@app.command()
@friendly
def rejects(fmt: FormatOpt = Format.table, limit: int = 200, db: DbOpt = DEFAULT_DB):
    """List rejected input rows with their reasons."""
    rows = [{**r, "received": iso(r["received_ms"])} for r in store_at(db).rejects(limit)]
    render(rows, ["id", "source", "line_no", "reason", "raw", "received"], fmt, "Rejected rows")


# -- alerts ----------------------------------------------------------------------------------------------
ALERT_COLUMNS = ["id", "kind", "severity", "status", "subject_id", "order_id", "order_version", "condition_id",
                 "device_id", "start", "end", "confirmed"]


@alerts_app.callback(invoke_without_command=True)
@friendly
def alerts(ctx: typer.Context, subject: Optional[str] = None, kind: Optional[str] = None,
           status: Optional[str] = None, all_: Annotated[bool, typer.Option("--all", help="Include retracted.")] = False,
           fmt: FormatOpt = Format.table, db: DbOpt = DEFAULT_DB):
    """List alerts (open ones have no end)."""
    if ctx.invoked_subcommand:
        return
    rows = store_at(db).alerts(subject, kind, status, include_retracted=all_)
    for r in rows:
        r.update(start=iso(r["start_ms"]), end=iso(r["end_ms"]), confirmed=iso(r["confirmed_ms"]))
    render(rows, ALERT_COLUMNS + (["retracted_ms"] if all_ else []), fmt, f"Alerts ({len(rows)})")


@alerts_app.command("show")
@friendly
def alerts_show(alert_id: int, fmt: FormatOpt = Format.table, db: DbOpt = DEFAULT_DB):
    """One alert with its history of actions (who did what, when)."""
    store = store_at(db)
    rows = [r for r in store.alerts(include_retracted=True) if r["id"] == alert_id]
    if not rows:
        raise LookupError(f"no alert {alert_id}")
    alert = {**rows[0], "start": iso(rows[0]["start_ms"]), "end": iso(rows[0]["end_ms"]),
             "confirmed": iso(rows[0]["confirmed_ms"]), "retracted": iso(rows[0]["retracted_ms"])}
    render([alert], ALERT_COLUMNS + ["retracted", "retract_reason"], fmt, f"Alert {alert_id}")
    events = [{**e, "at": iso(e["ts_ms"])} for e in store.alert_events(alert_id)]
    render(events, ["at", "actor", "action", "note"], fmt, "History")


def _act(action: str):
    @friendly
    def command(alert_id: int, note: str = "", by: Annotated[str, typer.Option(help="Who acts.")] = "",
                db: DbOpt = DEFAULT_DB):
        actor = by or os.environ.get("USER", "operator")
        row = service_changes.act_on_alert(store_at(db), alert_id, action, actor, "cli", note, now_ms())
        console.print(f"alert {alert_id}: {action} by {actor}; status {row['status']}")
    command.__doc__ = f"{action.capitalize()} an alert."
    return command


for _name, _action in (("ack", "acknowledge"), ("escalate", "escalate"), ("note", "note"), ("close", "close")):
    alerts_app.command(_name)(_act(_action))


# -- rules -----------------------------------------------------------------------------------------------
@rules_app.command("show")
@friendly
def rules_show(db: DbOpt = DEFAULT_DB):
    """Show the rule settings in force for this store."""
    s = service.get_settings(store_at(db))
    render([{"setting": n, "value": getattr(s, n)} for n in s.names()], ["setting", "value"], Format.table, "Rules")


@rules_app.command("set")
@friendly
def rules_set(pairs: Annotated[list[str], typer.Argument(help="NAME=VALUE, e.g. dwell_s=180")], db: DbOpt = DEFAULT_DB):
    """Change rule settings (then run tagwatch evaluate to re-judge the history)."""
    overrides = setting_pairs(pairs)
    s = service.set_settings(store_at(db), **overrides)
    console.print("rules now: " + ", ".join(f"{k}={getattr(s, k)}" for k in overrides))


from . import cli_outcomes  # noqa: E402,F401  (registers matches outcome, outcomes)
from . import cli_pilot, cli_web  # noqa: E402,F401  (registers simulate, load, demo; serve, users, audit)
