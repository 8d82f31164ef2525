"""Render rows as a Rich table, JSON or CSV: one module for every listing and single-record command.

A :class:`Listing` names a command's columns: all of them (what JSON, CSV and ``--wide`` give),
the few a table shows by default, which hold times and which are free text. Tables are made to fit
the terminal (``COLUMNS``) without cutting anything: ids, kinds, times and numbers are never
wrapped or elided; only free text wraps. When even that cannot fit, the table runs past the
terminal's edge rather than hide a value. Times in tables are Europe/London local time, to the
minute (:func:`london_time`), with the year said once under the table when all fall in one year;
JSON and CSV keep the exact ISO 8601 UTC text.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..codec import InputError

__all__ = ["Format", "Listing", "View", "london_time", "render", "render_record"]

LONDON = ZoneInfo("Europe/London")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
GAP = 2  # spaces between table columns
TEXT_MIN = 10  # the narrowest a free-text column is folded to before the table runs past the terminal


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _london(value: Any) -> datetime | None:
    """A time column's value (epoch ms, or ISO 8601 text with an offset) in Europe/London; None if none."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        if isinstance(value, str):
            dt = datetime.fromisoformat(value)
            return dt.astimezone(LONDON) if dt.tzinfo else None
        return datetime.fromtimestamp(value / 1000, LONDON)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def london_time(value: int | str | None, year: bool = True) -> str:
    """Epoch ms or ISO 8601 text as compact Europe/London time, to the minute: ``01 Dec 2026 19:05``,
    or ``01 Dec 19:05`` without ``year`` (for a table whose times all fall in one year, said once)."""
    dt = _london(value)
    if dt is None:
        return "" if value is None else str(value)
    return f"{dt.day:02d} {MONTHS[dt.month - 1]}{f' {dt.year}' if year else ''} {dt.hour:02d}:{dt.minute:02d}"


@dataclass(frozen=True)
class Listing:
    """A command's columns: ``columns`` all of them in order (JSON, CSV, ``--wide``); ``default``
    those a table shows unless told (empty: all); ``times`` those holding a time; ``text`` free
    text that may wrap in a table."""
    columns: tuple[str, ...]
    default: tuple[str, ...] = ()
    times: frozenset[str] = frozenset()
    text: frozenset[str] = frozenset()

    def __post_init__(self):
        for name in ("columns", "default"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for name in ("times", "text"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        stray = [c for c in (*self.default, *self.times, *self.text) if c not in self.columns]
        if stray:
            raise ValueError(f"listing names columns it does not have: {', '.join(stray)}")

    def plus(self, columns: Iterable[str], default: bool = False, times: Iterable[str] = (),
             text: Iterable[str] = ()) -> Listing:
        """This listing with more columns at the end (also shown by default if ``default``)."""
        columns, shown = tuple(columns), self.default or self.columns
        return Listing((*self.columns, *columns), (*shown, *columns) if default else shown,
                       self.times | set(times), self.text | set(text))

    def view(self, only: str | None = None, wide: bool = False) -> View:
        """What to show: the default columns, every one (``wide``), or those named in ``only``
        (``"id,kind,start"``); an unknown name is an error that lists the valid ones."""
        if only is not None and wide:
            raise InputError("give --columns or --wide, not both")
        if only is None:
            return View(self, self.columns if wide else self.default or self.columns, wide=wide)
        names = tuple(dict.fromkeys(c.strip() for c in only.split(",") if c.strip()))
        unknown = [c for c in names if c not in self.columns]
        if unknown or not names:
            what = (f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}" if unknown
                    else "--columns names no column")
            raise InputError(f"{what}; choose from: {', '.join(self.columns)}")
        return View(self, names, explicit=True)


@dataclass(frozen=True)
class View:
    """The columns a table shows; JSON and CSV give every column unless some were named explicitly."""
    listing: Listing
    shown: tuple[str, ...]
    explicit: bool = False
    wide: bool = False

    @property
    def exported(self) -> tuple[str, ...]:
        return self.shown if self.explicit else self.listing.columns


def _view(spec: Listing | View | Sequence[str]) -> View:
    if isinstance(spec, View):
        return spec
    return (spec if isinstance(spec, Listing) else Listing(tuple(spec))).view()


def _export(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt: Format) -> None:
    if fmt is Format.json:
        sys.stdout.write(json.dumps([{c: r.get(c) for c in columns} for r in rows], indent=2, default=str) + "\n")
        return
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    sys.stdout.write(buf.getvalue())


def _cell(value: Any, is_time: bool, year: bool = True) -> str:
    if value is None:
        return ""
    return london_time(value, year) if is_time else str(value)


def _text(value: str, **style: Any) -> Text:
    """Plain text: brackets in a value (a schedule, a note) are not read as Rich markup."""
    return Text(value, **style)


def _width(texts: Iterable[str]) -> int:
    return max((cell_len(line) for t in texts for line in (t.splitlines() or [""])), default=0)


def _caption(years: set[int]) -> str | None:
    """Under a table with times: their zone, and their year when they share one (the cells omit it)."""
    if not years:
        return None
    return "Europe/London time" + (f", {min(years)}" if len(years) == 1 else "")


def _console(need: int, natural: int, wide: bool) -> Console:
    """The terminal's console, or a wider one when the table cannot fit without cutting a value."""
    console = Console()
    width = max(console.width, natural if wide else need)
    return console if width == console.width else Console(width=width)


def render(rows: Sequence[Mapping[str, Any]], spec: Listing | View | Sequence[str], fmt: Format,
           title: str = "") -> None:
    """Rows as a table (the view's columns, fitted to the terminal), or as JSON or CSV."""
    view = _view(spec)
    if fmt is not Format.table:
        _export(rows, view.exported, fmt)
        return
    listing = view.listing
    years = {dt.year for r in rows for c in view.shown if c in listing.times and (dt := _london(r.get(c)))}
    cells = [[_cell(r.get(c), c in listing.times, len(years) > 1) for c in view.shown] for r in rows]
    widths = [_width([c, *(row[i] for row in cells)]) for i, c in enumerate(view.shown)]
    text = [c in listing.text for c in view.shown]
    gaps = GAP * max(len(widths) - 1, 0)
    need = gaps + sum(min(w, TEXT_MIN) if t else w for w, t in zip(widths, text))
    table = Table(title=_text(title) if title else None, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                  padding=(0, GAP - 1, 0, 0), title_justify="left", caption_justify="left",
                  caption=_caption(years))
    for i, c in enumerate(view.shown):
        numeric = bool(rows) and all(isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool)
                                     for r in rows if r.get(c) is not None)
        if text[i]:
            table.add_column(c, overflow="fold")
        else:
            table.add_column(c, no_wrap=True, min_width=widths[i], justify="right" if numeric else "left")
    for row in cells:
        table.add_row(*map(_text, row))
    _console(need, gaps + sum(widths), view.wide).print(table)


def render_record(record: Mapping[str, Any], spec: Listing | View | Sequence[str], fmt: Format,
                  title: str = "") -> None:
    """One record as a vertical ``field: value`` list of every column (JSON and CSV: a one-row listing)."""
    view = spec.view(wide=True) if isinstance(spec, Listing) else _view(spec)
    if fmt is not Format.table:
        _export([record], view.exported, fmt)
        return
    keys = [f"{c}:" for c in view.shown]
    grid = Table.grid(padding=(0, GAP - 1, 0, 0))
    grid.add_column(no_wrap=True, min_width=_width(keys))
    grid.add_column(overflow="fold")
    for key, c in zip(keys, view.shown):
        grid.add_row(_text(key), _text(_cell(record.get(c), c in view.listing.times)))
    console = _console(_width(keys) + GAP - 1 + TEXT_MIN, 0, False)
    if title:
        console.print(_text(title, style="bold", overflow="fold"))
    console.print(grid)
