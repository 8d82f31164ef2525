"""``tagwatch ingest | evaluate | rejects``: fix files in, the rules re-run, rejected rows out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from ..model import iso
from ..services import evaluation
from ..services.ingest import IngestOutcome, ingest_and_evaluate
from ..store import Store, open_store
from .common import (DEFAULT_DB, ColumnsOpt, DbOpt, FormatOpt, WideOpt, console, exit_for_rejects, friendly, now_ms,
                     ts_opt)
from .output import Format, Listing, render

__all__ = ["ingest", "evaluate_cmd", "rejects", "ingest_with_progress"]

REJECTS = Listing(("id", "source", "line_no", "reason", "raw", "received"), times={"received"},
                  text={"source", "reason", "raw"})


def ingest_with_progress(store: Store, files: list[Path], as_of: Optional[int], evaluate: bool = True,
                         device: Optional[str] = None) -> IngestOutcome:
    """Run the ingest use case with progress bars, then print what it did."""
    now = now_ms()
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  console=console, transient=False) as prog:
        read = prog.add_task("ingest", total=sum(Path(f).stat().st_size for f in files))

        def on_evaluate(n_subjects: int):
            task = prog.add_task("evaluate", total=n_subjects)
            return lambda _sid: prog.advance(task)

        out = ingest_and_evaluate(store, files, now, as_of, evaluate, device,
                                  on_read=lambda n: prog.advance(read, n), on_evaluate=on_evaluate)
    rep, ev, run = out.ingest, out.evaluation, out.recheck
    console.print(f"accepted [bold]{rep.accepted}[/bold], duplicates {rep.duplicates}, rejected {rep.rejected}"
                  + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(rep.reasons.items()))}; see tagwatch rejects)"
                     if rep.rejected else ""))
    if ev is not None:
        console.print(f"evaluated {ev.subjects} subjects as of {iso(now if as_of is None else as_of)}: alerts new {ev.new}, "
                      f"updated {ev.updated}, retracted {ev.retracted}")
    if run:
        console.print(f"re-checked {run['subjects']} subjects against {run['crimes']} crimes: "
                      f"{run['matches']} matches, {run['significant']} significant (run {run['run_id']})")
    return out


@friendly
def ingest(files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)],
           as_of: Annotated[Optional[str], typer.Option(help="Evaluation horizon; default now.")] = None,
           evaluate: Annotated[bool, typer.Option(help="Re-evaluate the subjects the new fixes touch.")] = True,
           device: Annotated[Optional[str], typer.Option(help="Device id for GPX files (GPX carries none).")] = None,
           db: DbOpt = DEFAULT_DB):
    """Ingest fix files (CSV, JSON Lines, or GPX with --device); re-ingesting changes nothing."""
    out = ingest_with_progress(open_store(db), files, ts_opt(as_of, "--as-of"), evaluate, device)
    exit_for_rejects(out.ingest.rejected)


@friendly
def evaluate_cmd(as_of: Annotated[Optional[str], typer.Option(help="Evaluation horizon; default now.")] = None,
                 db: DbOpt = DEFAULT_DB):
    """Re-evaluate every subject's whole history (e.g. after changing rule settings)."""
    store = open_store(db)
    as_of_ms = ts_opt(as_of, "--as-of", now_ms())
    with Progress(console=console) as prog:
        task = prog.add_task("evaluate", total=len(store.subjects()))
        ev = evaluation.evaluate(store, as_of_ms, now_ms(), on_subject=lambda _s: prog.advance(task))
    console.print(f"evaluated {ev.subjects} subjects as of {iso(as_of_ms)}: alerts new {ev.new}, "
                  f"updated {ev.updated}, retracted {ev.retracted}, unchanged {ev.unchanged}")


@friendly
def rejects(fmt: FormatOpt = Format.table, limit: int = 200, columns: ColumnsOpt = None, wide: WideOpt = False,
            db: DbOpt = DEFAULT_DB):
    """List rejected input rows with their reasons."""
    view = REJECTS.view(columns, wide)
    rows = [{**r, "received": iso(r["received_ms"])} for r in open_store(db).rejects(limit)]
    render(rows, view, fmt, "Rejected rows")
