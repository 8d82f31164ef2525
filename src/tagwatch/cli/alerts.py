"""``tagwatch alerts [ack|escalate|note|close|show]``: list alerts and work them."""

from __future__ import annotations

import os
from typing import Annotated, Optional

import typer

from ..model import iso
from ..services import changes
from ..store import open_store
from .common import DEFAULT_DB, ColumnsOpt, DbOpt, FormatOpt, WideOpt, console, friendly, now_ms
from .output import Format, Listing, render, render_record

__all__ = ["alerts_app"]

alerts_app = typer.Typer(help="List alerts, or work them: ack, escalate, note, close.")
ALERTS = Listing(("id", "kind", "severity", "status", "subject_id", "order_id", "order_version", "condition_id",
                  "device_id", "start", "end", "confirmed"),
                 default=("id", "kind", "status", "subject_id", "start", "end"),
                 times={"start", "end", "confirmed"})
ALERT = ALERTS.plus(["retracted", "retract_reason"], times=["retracted"], text=["retract_reason"])
EVENTS = Listing(("at", "actor", "action", "note"), times={"at"}, text={"note"})


@alerts_app.callback(invoke_without_command=True)
@friendly
def alerts(ctx: typer.Context, subject: Optional[str] = None, kind: Optional[str] = None,
           status: Optional[str] = None, all_: Annotated[bool, typer.Option("--all", help="Include retracted.")] = False,
           fmt: FormatOpt = Format.table, columns: ColumnsOpt = None, wide: WideOpt = False, db: DbOpt = DEFAULT_DB):
    """List alerts (open ones have no end)."""
    if ctx.invoked_subcommand:
        return
    view = (ALERTS.plus(["retracted_ms"], default=True, times=["retracted_ms"]) if all_ else ALERTS).view(columns, wide)
    rows = open_store(db).alerts(subject, kind, status, include_retracted=all_)
    for r in rows:
        r.update(start=iso(r["start_ms"]), end=iso(r["end_ms"]), confirmed=iso(r["confirmed_ms"]))
    render(rows, view, fmt, f"Alerts ({len(rows)})")


@alerts_app.command("show")
@friendly
def alerts_show(alert_id: int, fmt: FormatOpt = Format.table, db: DbOpt = DEFAULT_DB):
    """One alert with its history of actions (who did what, when)."""
    store = open_store(db)
    rows = [r for r in [store.alert(alert_id)] if r is not None]
    if not rows:
        raise LookupError(f"no alert {alert_id}")
    alert = {**rows[0], "start": iso(rows[0]["start_ms"]), "end": iso(rows[0]["end_ms"]),
             "confirmed": iso(rows[0]["confirmed_ms"]), "retracted": iso(rows[0]["retracted_ms"])}
    render_record(alert, ALERT, fmt, f"Alert {alert_id}")
    events = [{**e, "at": iso(e["ts_ms"])} for e in store.alert_events(alert_id)]
    render(events, EVENTS, fmt, "History")


def _act(action: str):
    @friendly
    def command(alert_id: int, note: str = "", by: Annotated[str, typer.Option(help="Who acts.")] = "",
                db: DbOpt = DEFAULT_DB):
        actor = by or os.environ.get("USER", "operator")
        row = changes.act_on_alert(open_store(db), alert_id, action, actor, "cli", note, now_ms())
        console.print(f"alert {alert_id}: {action} by {actor}; status {row['status']}")
    command.__doc__ = f"{action.capitalize()} an alert."
    return command


for _name, _action in (("ack", "acknowledge"), ("escalate", "escalate"), ("note", "note"), ("close", "close")):
    alerts_app.command(_name)(_act(_action))
