"""``tagwatch subjects ...`` and ``tagwatch devices ...``: people on an order, and their tags."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..model import Device, RiskLevel, Subject, iso
from ..services.devicekeys import issue_key
from ..store import open_store
from .common import DEFAULT_DB, actor, ColumnsOpt, DbOpt, FormatOpt, WideOpt, console, friendly, now_ms, ts_opt
from .output import Format, Listing, render

__all__ = ["subjects_app", "devices_app"]

subjects_app = typer.Typer(help="People on an order.", no_args_is_help=True)
devices_app = typer.Typer(help="Tags, and who wears them.", no_args_is_help=True)
SUBJECTS = Listing(("id", "name", "risk_level", "offence", "borough"), text={"name", "offence", "borough"})
DEVICES = Listing(("device_id", "kind", "model", "subject_id", "from", "to"), times={"from", "to"}, text={"model"})


@subjects_app.command("add")
@friendly
def subjects_add(subject_id: str, name: str = "", risk: RiskLevel = RiskLevel.MEDIUM, offence: str = "",
                 borough: str = "", db: DbOpt = DEFAULT_DB):
    """Register a person on (or about to be on) an order."""
    open_store(db).add_subject(Subject(subject_id, name, risk, offence, borough), now_ms())
    console.print(f"added subject {subject_id}")


@subjects_app.command("list")
@friendly
def subjects_list(fmt: FormatOpt = Format.table, columns: ColumnsOpt = None, wide: WideOpt = False,
                  db: DbOpt = DEFAULT_DB):
    """List subjects."""
    view = SUBJECTS.view(columns, wide)
    rows = [{"id": s.id, "name": s.name, "risk_level": str(s.risk_level), "offence": s.offence, "borough": s.borough}
            for s in open_store(db).subjects()]
    render(rows, view, fmt, "Subjects")


@devices_app.command("add")
@friendly
def devices_add(device_id: str, kind: str = "gps", model: str = "", db: DbOpt = DEFAULT_DB):
    """Register a tag and issue its key (printed once, on stdout; stored only as a digest)."""
    store = open_store(db)
    store.add_device(Device(device_id, kind, model), now_ms())
    _print_key(device_id, issue_key(store, device_id, actor(), "cli", now_ms()), f"added device {device_id}")


@devices_app.command("rotate-key")
@friendly
def devices_rotate_key(device_id: str, db: DbOpt = DEFAULT_DB):
    """Issue a new key for a tag (printed once); the old key stops working at once."""
    store = open_store(db)
    _print_key(device_id, issue_key(store, device_id, actor(), "cli", now_ms()), f"new key for {device_id}")


def _print_key(device_id: str, key: str, what: str) -> None:
    console.print(f"{what}; its key (shown once; OsmAnd: add &key=... to the server URL):")
    print(key)


@devices_app.command("assign")
@friendly
def devices_assign(device_id: str, subject_id: str,
                   start: Annotated[Optional[str], typer.Option("--from", help="ISO time with offset; default now.")] = None,
                   db: DbOpt = DEFAULT_DB):
    """Fit a tag to a subject (a swap ends the previous tag's assignment at that time)."""
    open_store(db).assign(device_id, subject_id, ts_opt(start, "--from", now_ms()))
    console.print(f"{device_id} assigned to {subject_id}")


@devices_app.command("list")
@friendly
def devices_list(fmt: FormatOpt = Format.table, columns: ColumnsOpt = None, wide: WideOpt = False,
                 db: DbOpt = DEFAULT_DB):
    """List tags with their assignments (current and past)."""
    view = DEVICES.view(columns, wide)
    store = open_store(db)
    worn = {}
    for a in store.assignments():
        worn.setdefault(a.device_id, []).append(a)
    rows = []
    for d in store.devices():
        for a in worn.get(d.id) or [None]:
            rows.append({"device_id": d.id, "kind": d.kind, "model": d.model,
                         "subject_id": a and a.subject_id, "from": a and iso(a.from_ms), "to": a and iso(a.to_ms)})
    render(rows, view, fmt, "Devices")
