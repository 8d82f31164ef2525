"""``tagwatch evidence``: export the evidence pack of a match (HTML or PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import DEFAULT_DB, DbOpt, console, friendly, now_ms
from ..services.evidence import export_evidence
from ..store import open_store

__all__ = ["evidence_cmd"]


@friendly
def evidence_cmd(match_ids: Annotated[list[int], typer.Argument(
                     help="Match id; several matches of the same crime make one pack with an exhibit per subject.")],
                 out: Annotated[Path, typer.Option("--out", "-o", help="FILE.html (self-contained) or FILE.pdf (A4).")],
                 by: Annotated[str, typer.Option("--by", help="Who exports the pack (printed on every page).")],
                 purpose: Annotated[str, typer.Option(
                     "--purpose", help="Why, e.g. the police request reference (printed on every page).")],
                 db: DbOpt = DEFAULT_DB):
    """Export the evidence pack of a match: summary, maps, positions, parameters, score, decisions."""
    done = export_evidence(open_store(db), match_ids, out, by, purpose, now_ms())
    console.print(f"wrote {done['path']} ({done['format']}, {done['bytes']:,} bytes): crime {done['crime']}, "
                  f"{done['exhibits']} exhibit{'s' if done['exhibits'] != 1 else ''}")
