"""``tagwatch orders ...``: add, vary, end and list orders with their conditions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..services import changes
from .common import DEFAULT_DB, actor, ColumnsOpt, DbOpt, FormatOpt, WideOpt, console, friendly, now_ms
from ..codec import InputError, condition_to_dict, conditions_checked, parse_ts
from ..model import OrderType, iso
from .output import Format, Listing, render
from ..store import open_store

__all__ = ["orders_app"]

orders_app = typer.Typer(help="Orders as courts and prisons write them, and their variations.", no_args_is_help=True)
ORDERS = Listing(("order_id", "subject_id", "type", "start", "end", "end_reason", "version", "effective_from",
                  "reason", "conditions"),
                 default=("order_id", "subject_id", "version", "effective_from", "end", "conditions"),
                 times={"start", "end", "effective_from"}, text={"end_reason", "reason", "conditions"})

Curfew = Annotated[Optional[Path], typer.Option(help="GeoJSON of the curfew address zone (inclusion zone).")]
CurfewSchedule = Annotated[Optional[str], typer.Option(help="Curfew timetable, e.g. 'Mon-Fri 19:00-07:00; Sat,Sun 21:00-07:00'.")]
FirstNight = Annotated[Optional[str], typer.Option(help="Local start of the first curfew night, e.g. 2026-03-20T21:00.")]
Exclusion = Annotated[Optional[list[Path]], typer.Option(help="GeoJSON exclusion zone (repeatable); its file name is the condition id.")]
ExclusionSchedule = Annotated[Optional[str], typer.Option(help="Only exclude during this timetable (default: always).")]
Attendance = Annotated[Optional[Path], typer.Option(help="GeoJSON of a place to attend.")]
AttendanceSchedule = Annotated[Optional[str], typer.Option(help="Attendance windows, e.g. 'Tue 10:00-11:00'.")]
Trail = Annotated[bool, typer.Option(help="Trail monitoring: positions recorded, no zone.")]
AlcoholAbstinence = Annotated[bool, typer.Option(help="Alcohol abstinence, read by an alcohol tag (no zone).")]
ConditionsFile = Annotated[Optional[Path], typer.Option(help="JSON list of conditions (the enrolment format).")]


def _json_file(path: Path, what: str):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as e:  # not UTF-8, not JSON, nested too deep
        raise InputError(f"cannot read {what} {path}: {str(e)[:200] or type(e).__name__}") from None


def _zone(path: Path) -> dict:
    return _json_file(path, "zone GeoJSON")


def _conditions(curfew, curfew_schedule, first_night, exclusion, exclusion_schedule, attendance,
                attendance_schedule, trail, conditions_file) -> list[dict]:
    out: list[dict] = []
    if conditions_file:
        items = _json_file(conditions_file, "conditions file")
        if not isinstance(items, list):
            raise InputError(f"{conditions_file}: a conditions file holds a JSON list of conditions")
        out.extend(items)
    if curfew or curfew_schedule:
        if not (curfew and curfew_schedule):
            raise InputError("a curfew needs both --curfew ZONE.geojson and --curfew-schedule")
        out.append({"id": "curfew", "kind": "curfew", "zone": _zone(curfew), "schedule": curfew_schedule,
                    "first_night_start": first_night})
    for path in exclusion or []:
        out.append({"id": Path(path).stem, "kind": "exclusion", "zone": _zone(path), "schedule": exclusion_schedule})
    if attendance or attendance_schedule:
        if not (attendance and attendance_schedule):
            raise InputError("attendance needs both --attendance ZONE.geojson and --attendance-schedule")
        out.append({"id": "attendance", "kind": "attendance", "zone": _zone(attendance), "schedule": attendance_schedule})
    if trail:
        out.append({"id": "trail", "kind": "trail"})
    return out


@orders_app.command("add")
@friendly
def orders_add(order_id: str, subject: Annotated[str, typer.Option(help="Subject id.")],
               type_: Annotated[OrderType, typer.Option("--type", help="licence, community or bail.")],
               start: Annotated[str, typer.Option(help="ISO time with offset.")],
               end: Annotated[Optional[str], typer.Option(help="Planned end, ISO time with offset.")] = None,
               curfew: Curfew = None, curfew_schedule: CurfewSchedule = None, first_night: FirstNight = None,
               exclusion: Exclusion = None, exclusion_schedule: ExclusionSchedule = None,
               attendance: Attendance = None, attendance_schedule: AttendanceSchedule = None,
               trail: Trail = False, alcohol_abstinence: AlcoholAbstinence = False, conditions: ConditionsFile = None,
               db: DbOpt = DEFAULT_DB):
    """Add an order with its conditions (version 1)."""
    items = _conditions(curfew, curfew_schedule, first_night, exclusion, exclusion_schedule, attendance,
                        attendance_schedule, trail, conditions)
    if alcohol_abstinence:
        items.append({"id": "alcohol", "kind": "alcohol_abstinence"})
    conds = conditions_checked(items, changes.service_area())
    if not conds:
        raise InputError("an order needs at least one condition (--curfew, --exclusion, --attendance, --trail, "
                         "--alcohol-abstinence)")
    changes.create_order(open_store(db), order_id, subject, str(type_), parse_ts(start, "--start"),
                                 None if end is None else parse_ts(end, "--end"),
                                 [condition_to_dict(c) for c in conds], actor(), "cli", now_ms())
    console.print(f"added order {order_id} for {subject} with {len(conds)} condition(s)")


@orders_app.command("vary")
@friendly
def orders_vary(order_id: str, effective: Annotated[str, typer.Option("--from", help="When the variation takes effect (ISO, offset).")],
                reason: Annotated[str, typer.Option(help="Why (court, probation decision).")] = "variation",
                drop: Annotated[Optional[list[str]], typer.Option(help="Condition id to remove (repeatable).")] = None,
                curfew: Curfew = None, curfew_schedule: CurfewSchedule = None, first_night: FirstNight = None,
                exclusion: Exclusion = None, exclusion_schedule: ExclusionSchedule = None,
                attendance: Attendance = None, attendance_schedule: AttendanceSchedule = None,
                trail: Trail = False, conditions: ConditionsFile = None, db: DbOpt = DEFAULT_DB):
    """Vary an order from a given time: a new version with conditions added, replaced (same id) or dropped."""
    store = open_store(db)
    order = changes.find_order(store, order_id)
    current = {c.id: condition_to_dict(c) for c in max(order.versions, key=lambda v: v.version).conditions}
    new = _conditions(None, None, None, exclusion, exclusion_schedule, attendance, attendance_schedule,
                      trail, conditions)
    if curfew or curfew_schedule:  # a new address, new hours, or both; the rest carries over
        old = current.get("curfew", {})
        zone = _zone(curfew) if curfew else old.get("zone")
        schedule = curfew_schedule or old.get("schedule")
        if not (zone and schedule):
            raise InputError("this order has no curfew yet: give both --curfew and --curfew-schedule")
        new.append({"id": "curfew", "kind": "curfew", "zone": zone, "schedule": schedule,
                    "first_night_start": first_night})
    v = changes.vary_order(store, order_id, parse_ts(effective, "--from"), reason, actor(), "cli", now_ms(),
                                   new, drop or [])
    version = v.version
    current = {c.id: c for c in v.conditions}
    console.print(f"order {order_id} is now at version {version} from {effective}: {', '.join(current)}")


@orders_app.command("end")
@friendly
def orders_end(order_id: str, at: Annotated[str, typer.Option(help="When it ended (ISO, offset).")],
               reason: Annotated[str, typer.Option(help="completed, revoked, recalled, ...")] = "completed",
               db: DbOpt = DEFAULT_DB):
    """End an order (completed, revoked or recalled); monitoring under it stops then."""
    changes.end_order(open_store(db), order_id, parse_ts(at, "--at"), reason, actor(), "cli", now_ms())
    console.print(f"order {order_id} ended ({reason})")


@orders_app.command("list")
@friendly
def orders_list(subject: Optional[str] = None, fmt: FormatOpt = Format.table, columns: ColumnsOpt = None,
                wide: WideOpt = False, db: DbOpt = DEFAULT_DB):
    """List orders with their versions and conditions."""
    view = ORDERS.view(columns, wide)
    rows = []
    for o in open_store(db).orders(subject):
        for v in o.versions:
            rows.append({"order_id": o.id, "subject_id": o.subject_id, "type": str(o.type), "start": iso(o.start_ms),
                         "end": iso(o.effective_end_ms()), "end_reason": o.end_reason, "version": v.version,
                         "effective_from": iso(v.effective_from_ms), "reason": v.reason,
                         "conditions": "; ".join(f"{c.id}:{c.kind}" + (f" [{c.schedule}]" if c.schedule else "")
                                                 for c in v.conditions)})
    render(rows, view, fmt, "Orders")

