"""``tagwatch crimes ...``: import reported crimes (police batches, tagwatch CSV) and list them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from typing import Optional

from rich.progress import Progress

from ..services import changes
from .common import (DEFAULT_DB, ColumnsOpt, DbOpt, FormatOpt, WideOpt, console, exit_for_rejects, friendly, now_ms,
                     ts_opt)
from ..codec import InputError
from ..correlate import MatchParams
from ..correlate.score import ScoreParams
from ..services.correlation import correlate, run_matches
from ..ingest.crimes import read_crime_file
from ..model import iso
from .output import Format, Listing, render, render_record
from ..store import open_store

__all__ = ["crimes_app", "correlate_cmd", "matches_app"]

crimes_app = typer.Typer(help="Reported crimes, for correlation with tracks.", no_args_is_help=True)
matches_app = typer.Typer(help="Correlation matches: show one, and qualify, authorise and share it.", no_args_is_help=True)
CRIMES = Listing(("force", "crime_ref", "version", "crime_type", "from", "to", "lat", "lon", "location_accuracy_m",
                  "changed"),
                 default=("force", "crime_ref", "version", "crime_type", "from", "to"),
                 times={"from", "to"}, text={"crime_type", "changed"})
MATCHES = Listing(("id", "run_id", "subject_id", "force", "crime_ref", "crime_version", "evidence", "closest_m",
                   "closest", "first_within", "last_within", "within_s", "speed_mps", "heading_deg", "score",
                   "significant", "parts"),
                  default=("id", "subject_id", "crime_ref", "closest_m", "closest", "score", "significant"),
                  times={"closest", "first_within", "last_within"}, text={"parts"})
MATCH = MATCHES.plus(["engine_version"])
DECISIONS = Listing(("at", "actor", "action", "force", "note"), times={"at"}, text={"note"})


@crimes_app.command("import")
@friendly
def crimes_import(files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)],
                  check: Annotated[bool, typer.Option("--correlate/--no-correlate",
                                                      help="Check new and changed crimes against tracks now.")] = True,
                  db: DbOpt = DEFAULT_DB):
    """Import crime-mapping batches or tagwatch crime CSVs; each row accepted or rejected with a reason."""
    store = open_store(db)
    rejected = 0
    for path in files:
        batch = read_crime_file(path)
        counts = store.record_crime_batch(batch, now_ms())
        reasons: dict[str, int] = {}
        for _, _, reason in batch.rejects:
            code = reason.split(":", 1)[0]
            reasons[code] = reasons.get(code, 0) + 1
        console.print(f"{path}: {batch.format} {batch.force} {batch.batch_id} [bold]{batch.outcome}[/bold]: "
                      f"new {counts['new']}, new versions {counts['new_version']}, unchanged {counts['unchanged']}, "
                      f"rejected {counts['rejected']}"
                      + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(reasons.items()))}; see tagwatch rejects)"
                         if reasons else ""))
        if check and store.last_changed_crimes:
            run = correlate(store, now_ms(), crime_keys=set(store.last_changed_crimes))
            console.print(f"checked {run['crimes']} new or changed crimes against {run['subjects']} subjects: "
                          f"{run['matches']} matches, {run['significant']} significant (run {run['run_id']})")
        rejected += counts["rejected"]
    exit_for_rejects(rejected)


@crimes_app.command("list")
@friendly
def crimes_list(all_versions: Annotated[bool, typer.Option("--all-versions", help="Every version, not only the latest.")] = False,
                fmt: FormatOpt = Format.table, columns: ColumnsOpt = None, wide: WideOpt = False,
                db: DbOpt = DEFAULT_DB):
    """List reported crimes (latest version of each)."""
    view = CRIMES.view(columns, wide)
    rows = [{**r, "from": iso(r["from_ms"]), "to": iso(r["to_ms"])} for r in open_store(db).crimes(all_versions)]
    render(rows, view, fmt, "Crimes")


@friendly
def correlate_cmd(since: Annotated[Optional[str], typer.Option(help="Crimes from (ISO, offset).")] = None,
                  until: Annotated[Optional[str], typer.Option(help="Crimes until (ISO, offset).")] = None,
                  radius: Annotated[float, typer.Option(help="Metres from the crime location.")] = 100.0,
                  type_radius: Annotated[Optional[list[str]], typer.Option(
                      help="Radius for one crime type, TYPE=METRES (repeatable), e.g. TOMV=200.")] = None,
                  buffer: Annotated[float, typer.Option(help="Minutes added before and after the crime window.")] = 15.0,
                  max_gap: Annotated[float, typer.Option(help="Minutes: longer gaps are not joined by a segment.")] = 10.0,
                  gap_near: Annotated[float, typer.Option(
                      help="Metres: an unaccounted gap counts only if it starts or ends this near the site "
                           "('inf': any reachable gap).")] = MatchParams().gap_near_m,
                  threshold: Annotated[float, typer.Option(help="Score at or above which a match is significant.")] = ScoreParams().threshold,
                  risk: Annotated[Optional[list[str]], typer.Option(help="Only subjects of this risk level (repeatable).")] = None,
                  significant: Annotated[bool, typer.Option("--significant", help="List only significant matches.")] = False,
                  fmt: FormatOpt = Format.table, columns: ColumnsOpt = None, wide: WideOpt = False,
                  db: DbOpt = DEFAULT_DB):
    """Check tracks against reported crimes; the run and its matches are stored, never erased."""
    view = MATCHES.view(columns, wide)  # a wrong column name stops before the run is stored
    store = open_store(db)
    params = MatchParams(radius_m=radius, buffer_s=buffer * 60, max_gap_s=max_gap * 60, gap_near_m=gap_near)
    by_type = {}
    for item in type_radius or []:
        kind, sep, metres = item.partition("=")
        if not sep:
            raise InputError(f"--type-radius {item!r}: write TYPE=METRES, e.g. TOMV=200")
        by_type[kind.strip()] = float(metres)
    with Progress(console=console) as prog:
        task = prog.add_task("correlate", total=len(store.subjects()))
        run = correlate(store, now_ms(), ts_opt(since, "--since"), ts_opt(until, "--until"), params,
                        ScoreParams(threshold=threshold), set(risk) if risk else None,
                        on_subject=lambda _s: prog.advance(task), radius_by_type=by_type)
    console.print(f"run {run['run_id']} ({run['engine_version']}): {run['crimes']} crimes x {run['subjects']} subjects: "
                  f"{run['matches']} matches, {run['significant']} significant")
    rows = [{**r, "closest": iso(r["closest_ms"]), "first_within": iso(r["first_within_ms"]),
             "last_within": iso(r["last_within_ms"])} for r in run_matches(store, run["run_id"], significant)]
    render(rows, view, fmt, f"Matches of run {run['run_id']}")


@matches_app.command("show")
@friendly
def matches_show(match_id: int, fmt: FormatOpt = Format.table, db: DbOpt = DEFAULT_DB):
    """One match with the decisions made about it."""
    store = open_store(db)
    m = store.match(match_id)
    if m is None:
        raise LookupError(f"no match {match_id}")
    row = {**m, "closest": iso(m["closest_ms"]), "first_within": iso(m["first_within_ms"]),
           "last_within": iso(m["last_within_ms"])}
    render_record(row, MATCH, fmt, f"Match {match_id}")
    reviews = [{**r, "at": iso(r["ts_ms"])} for r in store.match_reviews(match_id)]
    render(reviews, DECISIONS, fmt, "Decisions")


@matches_app.command("review")
@friendly
def matches_review(match_id: int,
                   action: Annotated[str, typer.Argument(help="qualified, rejected, authorised, shared or withdrawn.")],
                   by: Annotated[str, typer.Option("--by", help="Who decides.")],
                   force: Annotated[Optional[str], typer.Option(help="Police force (authorised, shared, withdrawn).")] = None,
                   note: str = "", db: DbOpt = DEFAULT_DB):
    """Record a decision about a match; sharing with a force needs an authorisation for that force first."""
    changes.review_match(open_store(db), match_id, action, by, "cli", now_ms(), force, note)
    console.print(f"match {match_id}: {action} by {by}" + (f" ({force})" if force else ""))
