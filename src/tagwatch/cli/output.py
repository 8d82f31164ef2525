"""Render rows as a Rich table, JSON or CSV: one helper for every listing command."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["Format", "render"]


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def render(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: Format, title: str = "",
           console: Console | None = None) -> None:
    if fmt is Format.json:
        sys.stdout.write(json.dumps([{c: r.get(c) for c in columns} for r in rows], indent=2, default=str) + "\n")
        return
    if fmt is Format.csv:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        sys.stdout.write(buf.getvalue())
        return
    table = Table(title=title or None)
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in columns))
    (console or Console()).print(table)
