"""``tagwatch areas ...``: police.uk street-level crime by area, and the community safety index."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from .common import DEFAULT_DB, ColumnsOpt, DbOpt, FormatOpt, WideOpt, console, exit_for_rejects, friendly, now_ms
from ..areas.categories import NEIGHBOURHOOD_SERIES, POLICE_UK_CATEGORIES
from ..areas.trends import change_against_baseline
from ..codec import InputError
from .output import Format, Listing, render, render_record
from ..services.areas import (borough_series, community_safety_index, import_area_files, pilot_effect,
                            read_extra_variables)
from ..store import open_store

__all__ = ["areas_app"]

areas_app = typer.Typer(help="Area crime statistics (police.uk street-level files) and the community safety index.",
                        no_args_is_help=True)
MONTHS = Listing(("reported_by", "month", "rows", "no_location", "rejected", "source"), text={"reported_by", "source"})
LSOA_INDEX = Listing(("code", "name", "borough", "population", "index", "flagged"), text={"name", "borough"})
BOROUGH_INDEX = Listing(("code", "lsoas", "population", "index", "flagged"), text={"code"})
TRENDS = Listing(("borough", "category", "baseline_year", "year", "months", "baseline", "value", "change_pct"),
                 default=("borough", "category", "year", "months", "baseline", "value", "change_pct"),
                 text={"borough", "category"})


@areas_app.command("import")
@friendly
def areas_import(files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)],
                 replace: Annotated[bool, typer.Option(
                     "--replace", help="Replace a stored month even with a file holding fewer of its rows.")] = False,
                 db: DbOpt = DEFAULT_DB):
    """Import police.uk street-level CSVs; a force's month is replaced by the latest file holding it
    (one holding fewer rows than are stored only with --replace)."""
    store = open_store(db)
    reports = import_area_files(store, files, now_ms(), replace)
    for rep in reports:
        months = ", ".join(f"{f} {m}" for f, m in rep.months) or "no month"
        if rep.status == "refused":
            console.print(f"[red]{rep.source}: not imported[/red], it would shrink {rep.refused}; "
                          "check the download, or give --replace")
            continue
        if rep.status == "unchanged":
            console.print(f"{rep.source}: unchanged ({months} already imported from this file)")
            continue
        unknown = rep.no_location_by_lsoa.get("", 0)
        console.print(f"{rep.source}: {months}: [bold]{rep.rows}[/bold] rows "
                      f"({rep.no_location} without coordinates, kept"
                      + (f"; {unknown} of them with no LSOA either" if unknown else "") + f"), rejected {rep.rejected}"
                      + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(rep.reasons.items()))}; see tagwatch rejects)"
                         if rep.rejected else "")
                      + (f"; replaced {rep.replaced} rows imported before" if rep.replaced else ""))
    exit_for_rejects(sum(r.rejected + (r.status == "refused") for r in reports))


@areas_app.command("list")
@friendly
def areas_list(fmt: FormatOpt = Format.table, columns: ColumnsOpt = None, wide: WideOpt = False,
               db: DbOpt = DEFAULT_DB):
    """The forces' months imported, with the file each came from."""
    view = MONTHS.view(columns, wide)
    render(open_store(db).area_months_stored(), view, fmt, "Area crime months")


def _months(start: str | None, end: str | None) -> tuple[str, str] | None:
    for v, what in ((start, "--from"), (end, "--to")):
        if v is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", v):
            raise InputError(f"{what} {v!r}: write a month as YYYY-MM")
    return None if start is None and end is None else (start or "0000-00", end or "9999-99")


@areas_app.command("index")
@friendly
def areas_index(force: Annotated[list[str] | None, typer.Option(
                    help="Area studied: the LSOAs of this police force (repeatable); default the forces imported.")] = None,
                la: Annotated[list[str] | None, typer.Option(
                    "--la", help="Area studied: the LSOAs of this local authority / borough (repeatable).")] = None,
                all_types: Annotated[bool, typer.Option(
                    "--all-types", help="Every police.uk category, not only the neighbourhood crime ones.")] = False,
                extra: Annotated[Path | None, typer.Option(
                    help="CSV of extra per-LSOA variables: lsoa_code, then columns (NAME_count: a count; else a score).",
                    exists=True, dir_okay=False)] = None,
                start: Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")] = None,
                end: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM.")] = None,
                level: Annotated[str, typer.Option(help="lsoa or borough.")] = "lsoa",
                top: Annotated[int, typer.Option(help="Show the N highest (0: all).")] = 20,
                fmt: FormatOpt = Format.table, columns: ColumnsOpt = None, wide: WideOpt = False,
                db: DbOpt = DEFAULT_DB):
    """The community safety index per LSOA or borough (100 = the area's average; over 200 flagged)."""
    if level not in ("lsoa", "borough"):
        raise InputError("--level must be lsoa or borough")
    cats = POLICE_UK_CATEGORIES if all_types else NEIGHBOURHOOD_SERIES
    ai = community_safety_index(open_store(db), force, la, cats, read_extra_variables(extra) if extra else [],
                                _months(start, end))
    res = ai.result
    console.print(f"{', '.join(ai.forces)}, {', '.join(ai.months)}: {len(res.lsoas)} LSOAs, {ai.rows_used} crimes "
                  f"used; {ai.rows_unplaced} without a location and {ai.rows_outside} in LSOAs outside the area left "
                  f"out; {sum(r['flagged'] for r in res.lsoas)} LSOAs and {sum(r['flagged'] for r in res.groups)} "
                  "boroughs over 200" + (f"; no crimes of {', '.join(res.dropped)}" if res.dropped else "")
                  + (f"; {len(ai.las_left_out)} boroughs with no imported row left out (not covered by the files)"
                     if ai.las_left_out else ""))
    rows = res.top(top or len(res.lsoas), "lsoa" if level == "lsoa" else "group")
    for r in rows:
        r["name"] = ai.names.get(r["code"], r["code"])
        r["borough"] = r.get("group")
        for k, v in list(r.items()):
            if isinstance(v, float):
                r[k] = round(v, 1) if k.endswith("index") or k == "population" else round(v, 6)
    listing = (LSOA_INDEX if level == "lsoa" else BOROUGH_INDEX).plus(f"{v}_index" for v in res.variables)
    render(rows, listing.view(columns, wide), fmt, f"Community safety index by {level} (top {len(rows)})")


@areas_app.command("trends")
@friendly
def areas_trends(baseline: Annotated[int | None, typer.Option(help="Baseline year; default the first year imported.")] = None,
                 force: Annotated[list[str] | None, typer.Option(help="Area: this police force (repeatable).")] = None,
                 la: Annotated[list[str] | None, typer.Option("--la", help="Area: this borough (repeatable).")] = None,
                 fmt: FormatOpt = Format.table, columns: ColumnsOpt = None, wide: WideOpt = False,
                 db: DbOpt = DEFAULT_DB):
    """Neighbourhood crime by borough and category: each later year against the baseline year (same months)."""
    view = TRENDS.view(columns, wide)
    ser = borough_series(open_store(db), force, la)
    base = baseline or int(ser.months[0][:4])
    rows = []
    for bi, b in enumerate(ser.boroughs):
        for ci, c in enumerate([*ser.categories, "all neighbourhood crime"]):
            values = ser.total()[bi] if ci == len(ser.categories) else ser.counts[bi, ci]
            for ch in change_against_baseline(ser.months, values, base):
                rows.append({"borough": b, "category": c, **ch,
                             "change_pct": None if ch["change_pct"] is None else round(ch["change_pct"], 1)})
    render(rows, view, fmt, f"Neighbourhood crime against {base}")


@areas_app.command("effect")
@friendly
def areas_effect(pilot: Annotated[list[str], typer.Option(help="A pilot borough (repeatable).")],
                 start: Annotated[str, typer.Option(help="First month of the pilot, YYYY-MM.")],
                 force: Annotated[list[str] | None, typer.Option(help="Area: this police force (repeatable).")] = None,
                 la: Annotated[list[str] | None, typer.Option("--la", help="Area: this borough (repeatable).")] = None,
                 confidence: Annotated[float, typer.Option(help="Confidence level of the interval.")] = 0.95,
                 fmt: FormatOpt = Format.table, db: DbOpt = DEFAULT_DB):
    """Difference-in-differences: neighbourhood crime per 1,000 residents in pilot boroughs against the others."""
    _months(start, None)
    ser = borough_series(open_store(db), force, la)
    r = pilot_effect(ser, pilot, start, 1 - confidence)
    row = {"effect_per_1000_per_month": round(r.effect, 4), "ci_low": round(r.ci_low, 4),
           "ci_high": round(r.ci_high, 4), "p_value": round(r.p_value, 4),
           "effect_pct": None if r.effect_pct is None else round(r.effect_pct, 1), "pilot_boroughs": r.n_treated,
           "other_boroughs": r.n_control, "months_before": r.n_pre, "months_from_start": r.n_post,
           "pre_trend": None if r.pre_trend is None else round(r.pre_trend, 4)}
    render_record(row, list(row), fmt, f"Pilot effect from {start} ({confidence:.0%} interval, {r.covariance})")
