"""``tagwatch report ...``: programme and area reports (table, JSON or self-contained HTML).

The group is named ``report`` and lives in its own module so that other report
subcommands (e.g. ``report aamr`` for sobriety tags) join the same group.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .common import DEFAULT_DB, DbOpt, console, friendly
from ..codec import InputError
from ..store import open_store

__all__ = ["report_app"]

report_app = typer.Typer(help="Reports: the programme's figures by month, and area crime maps.", no_args_is_help=True)


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    html = "html"


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    Path(out).write_text(text, encoding="utf-8")
    console.print(f"wrote {out} ({len(text.encode()) / 1e6:.1f} MB)")


@report_app.command("areas")
@friendly
def report_areas(fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="html or json.")] = ReportFormat.html,
                 out: Annotated[Path | None, typer.Option(help="File to write; default standard output.")] = None,
                 force: Annotated[list[str] | None, typer.Option(help="Area: this police force (repeatable).")] = None,
                 la: Annotated[list[str] | None, typer.Option("--la", help="Area: this borough (repeatable).")] = None,
                 pilot: Annotated[list[str] | None, typer.Option(help="A pilot borough (repeatable).")] = None,
                 start: Annotated[str | None, typer.Option(help="The pilot's first month, YYYY-MM.")] = None,
                 baseline: Annotated[int | None, typer.Option(help="Baseline year; default the first.")] = None,
                 db: DbOpt = DEFAULT_DB):
    """Maps of the community safety index and crime rates by LSOA and borough, trends, forecast, pilot effect."""
    from ..services.areas import areas_report
    if bool(pilot) != bool(start):
        raise InputError("--pilot and --start go together")
    rep = areas_report(open_store(db), force, la, pilot, start, baseline)
    if fmt is ReportFormat.html:
        from ..reports.areas_html import render_areas_html
        _write(render_areas_html(rep), out)
        return
    if fmt is ReportFormat.table:
        raise InputError("report areas: use --format html or json")
    res = rep.index.result
    doc = {"forces": rep.index.forces, "months": rep.index.months, "variables": res.variables,
           "boroughs": res.groups, "lsoas": res.lsoas, "area": res.area,
           "series": {"months": rep.series.months, "boroughs": rep.series.boroughs,
                      "categories": rep.series.categories, "counts": rep.series.counts.tolist()},
           "effect": rep.effect.to_dict() if rep.effect else None}
    _write(json.dumps(doc, indent=1, default=str) + "\n", out)


@report_app.command("programme")
@friendly
def report_programme(start: Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")] = None,
                     end: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM.")] = None,
                     borough: Annotated[str | None, typer.Option(help="Only subjects of this borough.")] = None,
                     as_of: Annotated[str | None, typer.Option(
                         help="Horizon for orders still running (ISO with offset); default the latest fix.")] = None,
                     fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="table, json or html.")] =
                     ReportFormat.table,
                     out: Annotated[Path | None, typer.Option(help="File to write; default standard output.")] = None,
                     db: DbOpt = DEFAULT_DB):
    """The programme's figures by month: caseload, person-days, compliance, alerts, latencies, matches, recalls."""
    from .common import ts_opt
    from ..services.programme import programme_report
    rep = programme_report(open_store(db), start, end, borough, ts_opt(as_of, "--as-of"))
    if fmt is ReportFormat.json:
        _write(json.dumps(rep.to_dict(), indent=1) + "\n", out)
        return
    if fmt is ReportFormat.html:
        from ..reports.programme_html import render_programme_html
        _write(render_programme_html(rep), out)
        return
    from rich.table import Table

    from ..reports.programme_html import format_value
    table = Table(title="Programme report" + (f" - {borough}" if borough else ""))
    for col in ("series", *rep.months, "whole period"):
        table.add_column(col, justify="left" if col == "series" else "right")
    for sec, series in rep.sections:
        table.add_row(f"[bold]{sec.title}[/bold]")
        for s in series:
            table.add_row(s.label, *(format_value(v, s.unit) for v in s.values), format_value(s.total, s.unit))
    from rich.console import Console
    Console(width=max(100, 40 + 12 * len(rep.months))).print(table)
