"""What every CLI module shares: the console, common options, the error shell, the clock."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Annotated, Optional

import typer
from rich.console import Console

from ..clock import now_ms
from ..codec import InputError, parse_ts
from ..ingest.fixes import FileError
from .output import Format
from ..store import StoreError

__all__ = ["actor", "console", "ColumnsOpt", "DbOpt", "DEFAULT_DB", "FormatOpt", "WideOpt", "friendly", "now_ms", "ts_opt",
           "Format", "setting_pairs"]

console = Console(stderr=True)


def actor() -> str:
    """Who the audit log names for a CLI change: the login name."""
    import os
    return os.environ.get("USER") or "cli"

DEFAULT_DB = "sqlite:///tagwatch.db"


def _db_url(ctx: typer.Context, param: typer.CallbackParam, value: str) -> str:
    """A command's own ``--db`` wins; otherwise the root's ``tagwatch --db URL``; then $TAGWATCH_DB; then the default."""
    # By name: Typer carries its own copy of Click, so the enum class is not click.core's.
    if getattr(ctx.get_parameter_source(param.name), "name", None) != "COMMANDLINE":
        root = ctx.find_root().params.get("db")
        if root:
            return root
    return value


DbOpt = Annotated[str, typer.Option("--db", envvar="TAGWATCH_DB", callback=_db_url, help="SQLAlchemy URL of the store.")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table, json or csv.")]
ColumnsOpt = Annotated[Optional[str], typer.Option(
    "--columns", help="Columns to show, comma-separated (an unknown name lists the valid ones); "
    "with --format json or csv, the fields to give.")]
WideOpt = Annotated[bool, typer.Option(
    "--wide", help="Table: every column, at full width (may run past the terminal's edge).")]


def friendly(fn: Callable) -> Callable:
    """Turn errors the user can fix into a one-line message and exit code 2."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (InputError, StoreError, FileError, LookupError, ValueError, OSError) as e:
            console.print(f"[red]error:[/red] {e}")
            raise typer.Exit(2) from None
    return wrapper


def exit_for_rejects(rejected: int) -> None:
    """Exit 1 when rows were rejected (the rest were stored; ``tagwatch rejects`` lists why), else
    return (exit 0). Exit 2 (``friendly``) means nothing was done. docs/formats.md lists the codes."""
    if rejected:
        raise typer.Exit(1)


def ts_opt(text: Optional[str], what: str, default: Optional[int] = None) -> Optional[int]:
    return default if text is None else parse_ts(text, what)


def setting_pairs(pairs: list[str]) -> dict[str, float]:
    """``["dwell_s=180", ...]`` -> ``{"dwell_s": 180.0}``; a pair without ``=`` says how to write it."""
    overrides = {}
    for p in pairs:
        if "=" not in p:
            raise InputError(f"{p!r}: write NAME=VALUE")
        k, v = p.split("=", 1)
        overrides[k.strip()] = float(v)
    return overrides
