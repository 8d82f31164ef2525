"""``tagwatch rules show | set``: the rule settings kept in the store."""

from __future__ import annotations

from typing import Annotated

import typer

from ..services import evaluation
from ..store import open_store
from .common import DEFAULT_DB, DbOpt, console, friendly, setting_pairs
from .output import Format, render_record

__all__ = ["rules_app"]

rules_app = typer.Typer(help="Rule settings (dwell, hysteresis, health thresholds).", no_args_is_help=True)


@rules_app.command("show")
@friendly
def rules_show(db: DbOpt = DEFAULT_DB):
    """Show the rule settings in force for this store."""
    s = evaluation.get_settings(open_store(db))
    render_record({n: getattr(s, n) for n in s.names()}, s.names(), Format.table, "Rules")


@rules_app.command("set")
@friendly
def rules_set(pairs: Annotated[list[str], typer.Argument(help="NAME=VALUE, e.g. dwell_s=180")], db: DbOpt = DEFAULT_DB):
    """Change rule settings (then run tagwatch evaluate to re-judge the history)."""
    overrides = setting_pairs(pairs)
    s = evaluation.set_settings(open_store(db), **overrides)
    console.print("rules now: " + ", ".join(f"{k}={getattr(s, k)}" for k in overrides))
