"""``tagwatch matches outcome|outcomes``: what became of matches shared with police."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import DEFAULT_DB, ColumnsOpt, DbOpt, FormatOpt, WideOpt, console, friendly, now_ms
from ..model import iso
from .output import Format, Listing, render
from ..services.outcomes import record_match_outcome
from ..store import open_store

__all__ = ["matches_outcome", "matches_outcomes"]

OUTCOMES = Listing(("id", "match_id", "outcome", "outcome_on", "force", "actor", "recorded", "note"),
                   default=("id", "match_id", "outcome", "outcome_on", "force", "actor", "note"),
                   times={"recorded"}, text={"note"})


@friendly
def matches_outcome(match_id: int,
                    outcome: Annotated[str, typer.Argument(help="charged, convicted, 'no further action' or eliminated.")],
                    on: Annotated[str, typer.Option("--on", help="The date it happened, YYYY-MM-DD.")],
                    force: Annotated[str, typer.Option(help="The police force the match is shared with.")],
                    by: Annotated[str, typer.Option("--by", help="Who records it.")],
                    note: str = "", db: DbOpt = DEFAULT_DB):
    """Record what became of a match shared with a force (charged, convicted, no further action, eliminated)."""
    record_match_outcome(open_store(db), match_id, outcome, on, force, by, now_ms(), note)
    console.print(f"match {match_id}: {outcome} on {on} ({force}, recorded by {by})")


@friendly
def matches_outcomes(fmt: FormatOpt = Format.table, columns: ColumnsOpt = None, wide: WideOpt = False,
                     db: DbOpt = DEFAULT_DB):
    """Every outcome recorded, in order (the last per match is its current one)."""
    view = OUTCOMES.view(columns, wide)
    rows = [{**r, "recorded": iso(r["ts_ms"])} for r in open_store(db).match_outcomes()]
    render(rows, view, fmt, "Outcomes of shared matches")
