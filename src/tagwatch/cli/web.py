"""``tagwatch serve | users ... | audit ...``: the web service, its users, and the audit log."""

from __future__ import annotations

import getpass
import json
import os
import sys
from dataclasses import replace
from typing import Annotated, Optional

import typer

from ..services import audit, users
from .common import DEFAULT_DB, actor, ColumnsOpt, DbOpt, FormatOpt, WideOpt, console, friendly, now_ms
from ..codec import InputError
from ..model import iso
from .output import Format, Listing, render
from ..live.engine import LiveEngine, LiveSettings
from ..live.process import EngineProcess
from ..store import Store, open_store
from .gateway import AllowOpt, Gt06HostOpt, Gt06Options, Gt06PortOpt, IdleOpt, options, run, run_gt06

__all__ = ["serve_store", "serve", "monitor", "users_app", "audit_app"]

users_app = typer.Typer(help="People who use the web service, their roles and caseloads.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log of location reads and changes.", no_args_is_help=True)
PASSWORD_ENV = "TAGWATCH_PASSWORD"
USERS = Listing(("username", "role", "force", "caseload", "created", "disabled"), times={"created", "disabled"},
                text={"caseload"})
AUDIT = Listing(("id", "at", "actor", "role", "action", "subject_ids", "from", "to", "purpose", "detail"),
                default=("id", "at", "actor", "action", "subject_ids", "purpose"),
                times={"at", "from", "to"}, text={"subject_ids", "purpose", "detail"})


def serve_store(store: Store, host: str, port: int, tile_url: Optional[str] = None,
                live: Optional[LiveSettings] = None, monitor: bool = True, gt06: Optional[Gt06Options] = None) -> None:
    """Run the web service and its live engine on ``store`` until interrupted (``gt06``: and a GT06
    listener on the same event loop, feeding the same engine)."""
    import logging

    import uvicorn

    from ..api import WebSettings, create_app
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # The engine runs in a process of its own (docs/live.md): on two cores, HTTP and commits in one
    # interpreter would queue behind each other's lock.
    engine = EngineProcess(store.engine.url.render_as_string(hide_password=False), live or LiveSettings(), monitor)
    engine.start()
    settings = WebSettings(tile_url=tile_url or os.environ.get("TAGWATCH_TILE_URL"),
                           max_batch_bytes=int(os.environ.get("TAGWATCH_MAX_BATCH_BYTES", 8 << 20)))
    web = create_app(store, settings, live=engine)
    try:
        # access_log off: uvicorn's would log query strings, which for OsmAnd reports are positions (and for
        # /api/events the token). An open event stream never ends by itself: Ctrl-C closes it after 5 s.
        config = uvicorn.Config(web, host=host, port=port, access_log=False, log_level="info",
                                timeout_graceful_shutdown=5)
        if gt06 is None:
            uvicorn.Server(config).run()
        else:
            from ..gateway.coalesce import Coalescer
            from ..gateway.gt06_server import Gt06Gateway, KnownDevices

            sink = Coalescer(lambda records: engine.ingest(records, "gt06"))  # many devices per engine request
            gw = Gt06Gateway(sink, gt06.allow, gt06.idle_s, known=KnownDevices(store.device_ids))
            web.state.gt06 = gw  # its counters in GET /api/devices/refused
            run(run_gt06(gw, gt06, beside=uvicorn.Server(config).serve()))
    finally:
        engine.stop()  # the writer commits what it holds before the process ends


TickOpt = Annotated[float, typer.Option("--tick-s", help="How often the clock rules (no_comms, curfew start, "
                                        "attendance missed, order start/end) are looked at, in seconds.")]


@friendly
def serve(host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
          tile_url: Annotated[Optional[str], typer.Option(
              envvar="TAGWATCH_TILE_URL", help="XYZ tile server for the map, e.g. https://tiles.example/{z}/{x}/{y}.png "
              "(default: none; the map shows the shipped borough and LSOA boundaries).")] = None,
          tick_s: TickOpt = LiveSettings.tick_s,
          monitor: Annotated[bool, typer.Option("--monitor/--no-monitor", help="Run the clock rules in this process "
                                                "(--no-monitor when `tagwatch monitor` runs them apart).")] = True,
          gt06_port: Gt06PortOpt = None, gt06_host: Gt06HostOpt = "127.0.0.1", gt06_allow: AllowOpt = None,
          gt06_idle_s: IdleOpt = 600.0, db: DbOpt = DEFAULT_DB):
    """Serve the web API (docs at /docs), the dashboard (at /) and the live engine until Ctrl-C."""
    store = open_store(db, durable=True)
    if not store.users():
        console.print("[yellow]no users yet:[/yellow] create the first admin with "
                      "tagwatch users add NAME --role admin")
    console.print(f"dashboard http://{host}:{port}/  API docs http://{host}:{port}/docs")
    gt06 = None if gt06_port is None else options(gt06_port, gt06_host, gt06_allow, gt06_idle_s)
    serve_store(store, host, port, tile_url, replace(LiveSettings(), tick_s=tick_s), monitor, gt06)


@friendly
def monitor(tick_s: TickOpt = LiveSettings.tick_s, db: DbOpt = DEFAULT_DB):
    """Run the clock rules (no_comms, curfew start, attendance missed, order start/end) in their own process."""
    import logging
    import signal
    import threading

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    engine = LiveEngine(open_store(db, durable=True), settings=replace(LiveSettings(), tick_s=tick_s), memory=False)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    engine.start(monitor=True)
    console.print(f"monitoring {engine.subjects()} subjects every {tick_s:g} s (Ctrl-C stops); "
                  "run tagwatch serve --no-monitor beside it")
    stop.wait()
    engine.stop()


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if not sys.stdin.isatty():
        raise InputError(f"give the password on a terminal prompt, with --password-stdin, or in ${PASSWORD_ENV}")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise InputError("the two passwords differ")
    return first


@users_app.command("add")
@friendly
def users_add(username: str,
              role: Annotated[str, typer.Option(help="monitoring, probation, police, evaluator, admin or gateway.")],
              force: Annotated[Optional[str], typer.Option(help="Police: the force code matches are shared with (e.g. MPS).")] = None,
              caseload: Annotated[Optional[list[str]], typer.Option(help="Probation: a subject id (repeatable).")] = None,
              password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
              db: DbOpt = DEFAULT_DB):
    """Add a user; the password comes from a prompt, --password-stdin or $TAGWATCH_PASSWORD (never a default)."""
    store = open_store(db)
    users.add_user(store, username, _read_password(password_stdin), role, now_ms(), force, caseload or [],
                           actor=actor())
    console.print(f"added {role} user {username}")


@users_app.command("list")
@friendly
def users_list(fmt: FormatOpt = Format.table, columns: ColumnsOpt = None, wide: WideOpt = False,
               db: DbOpt = DEFAULT_DB):
    """List users with role, force, caseload and whether disabled."""
    view = USERS.view(columns, wide)
    store = open_store(db)
    rows = [{"username": u["username"], "role": u["role"], "force": u["force"] or "",
             "caseload": ",".join(sorted(store.caseload(u["username"]))), "created": iso(u["created_ms"]),
             "disabled": iso(u["disabled_ms"]) or ""} for u in store.users()]
    render(rows, view, fmt, "Users")


@users_app.command("disable")
@friendly
def users_disable(username: str, db: DbOpt = DEFAULT_DB):
    """Disable a user: their tokens stop working at once; the audit log keeps their name."""
    users.disable_user(open_store(db), username, now_ms(), actor=actor())
    console.print(f"disabled {username}")


@users_app.command("caseload")
@friendly
def users_caseload(username: str, subjects: Annotated[list[str], typer.Argument(help="Subject ids (replaces the caseload).")],
                   db: DbOpt = DEFAULT_DB):
    """Set a probation officer's caseload: the only subjects they can see."""
    users.set_caseload(open_store(db), username, subjects, now_ms(), actor=actor())
    console.print(f"{username}: caseload {', '.join(subjects)}")


@audit_app.command("list")
@friendly
def audit_list(limit: int = 50, actor: Optional[str] = None, subject: Optional[str] = None,
               fmt: FormatOpt = Format.table, columns: ColumnsOpt = None, wide: WideOpt = False,
               db: DbOpt = DEFAULT_DB):
    """Audit entries, newest first: who read or changed what, about whom, over which range, why."""
    view = AUDIT.view(columns, wide)
    rows = [{**r, "at": iso(r["ts_ms"]), "from": iso(r["from_ms"]) or "", "to": iso(r["to_ms"]) or ""}
            for r in open_store(db).audit_entries(limit, actor, subject)]
    render(rows, view, fmt, "Audit log")


@audit_app.command("verify")
@friendly
def audit_verify(db: DbOpt = DEFAULT_DB):
    """Check the audit log's hash chain; exit 1 if an entry was edited or deleted."""
    rep = audit.verify(open_store(db))
    if rep.ok:
        console.print(f"audit log intact: {rep.entries} entries; head {rep.head_id}:{rep.head_hash} "
                      "(note it elsewhere to anchor the chain)")
        return
    for p in rep.problems:
        console.print(f"[red]broken:[/red] {p}")
    console.print(json.dumps({"ok": False, "entries": rep.entries, "problems": len(rep.problems)}))
    raise typer.Exit(1)
