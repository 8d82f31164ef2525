"""``tagwatch offences import``, ``tagwatch cohort import``, ``tagwatch simulate-cohort`` and
``tagwatch report reoffending``: proven reoffending against a matched comparison group."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import DEFAULT_DB, DbOpt, console, friendly, now_ms
from ..store import open_store

__all__ = ["offences_app", "cohort_app", "simulate_cohort_cmd", "report_reoffending"]

offences_app = typer.Typer(help="Proven offences (convictions and cautions) per person, for reoffending.",
                           no_args_is_help=True)
cohort_app = typer.Typer(help="The people of a reoffending study: the tagged and the comparison pool.",
                         no_args_is_help=True)


def _say(rep) -> None:
    console.print(f"{rep.source}: {rep.rows} rows, {rep.new} new, {rep.rejected} rejected"
                  + (" (" + ", ".join(f"{k} {v}" for k, v in sorted(rep.reasons.items())) + "; see tagwatch rejects)"
                     if rep.rejected else ""))


@offences_app.command("import")
@friendly
def offences_import(file: Path, db: DbOpt = DEFAULT_DB):
    """Read proven offences from a CSV file (docs/formats.md); bad rows are rejected with a reason."""
    from ..services.reoffending import import_offences
    _say(import_offences(open_store(db), file, now_ms()))


@cohort_app.command("import")
@friendly
def cohort_import(file: Path, db: DbOpt = DEFAULT_DB):
    """Read the tagged people and the comparison pool, with start dates and covariates, from a CSV file."""
    from ..services.reoffending import import_cohort
    _say(import_cohort(open_store(db), file, now_ms()))


@friendly
def simulate_cohort_cmd(cohort: Annotated[int, typer.Option("--cohort", help="Number of tagged people.")] = 100,
                        effect: Annotated[float, typer.Option(help="True effect of tagging on the rate.")] = -0.1,
                        pool: Annotated[int, typer.Option(help="Comparison people per tagged person.")] = 10,
                        seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
                        out: Annotated[Path, typer.Option(help="Directory to write to.")] = Path("cohort")):
    """Write a synthetic reoffending study (cohort.csv, offences.csv) with a known effect of tagging."""
    from ..sim.cohort import simulate_cohort, write_cohort
    people = simulate_cohort(cohort, effect, seed, pool)
    c, o = write_cohort(out, people)
    console.print(f"wrote {c} ({len(people)} people, {cohort} tagged) and {o} "
                  f"({sum(len(p.offences) for p in people)} offences); true effect on the rate {effect:+g}")


class Fmt(StrEnum):
    table = "table"
    json = "json"
    html = "html"


@friendly
def report_reoffending(start: Annotated[Optional[str], typer.Option("--from", help="First start month, YYYY-MM.")] = None,
                       end: Annotated[Optional[str], typer.Option("--to", help="Last start month, YYYY-MM.")] = None,
                       programme: Annotated[Optional[str], typer.Option(help="gps or alcohol; default both.")] = None,
                       replace: Annotated[bool, typer.Option("--replace", help="Match with replacement.")] = False,
                       as_of: Annotated[Optional[str], typer.Option(
                           help="Date the data runs to, YYYY-MM-DD; default today.")] = None,
                       fmt: Annotated[Fmt, typer.Option("--format", "-f", help="table, json or html.")] = Fmt.table,
                       out: Annotated[Optional[Path], typer.Option(help="File to write; default standard output.")] = None,
                       db: DbOpt = DEFAULT_DB):
    """Proven reoffending of the tagged against a matched comparison group: rate, frequency, time to first."""
    from datetime import date

    from ..reports.reoffending import effect_rows, render_reoffending_html, summary_lines
    from ..services.reoffending import reoffending_study
    from .reports import _write
    day = date.fromisoformat(as_of) if as_of else datetime.fromtimestamp(now_ms() / 1000, UTC).date()
    res = reoffending_study(open_store(db), day, start, end, programme, replace)
    if fmt is Fmt.json:
        _write(json.dumps(res.to_dict(), indent=1) + "\n", out)
    elif fmt is Fmt.html:
        _write(render_reoffending_html(res), out)
    else:
        from rich.console import Console
        from rich.table import Table
        con = Console(width=160)
        for line in summary_lines(res):
            con.print(line, highlight=False)
        for title, rows in (("Effect of tagging", effect_rows(res)),
                            ("Balance (SMD)", [{"covariate": b["covariate"], "before": f"{b['smd_before']:+.3f}",
                                                "after": f"{b['smd_after']:+.3f}"} for b in res.balance])):
            if rows:
                t = Table(title=title)
                for k in rows[0]:
                    t.add_column(k)
                for r in rows:
                    t.add_row(*map(str, r.values()))
                con.print(t)
