"""The ``tagwatch`` command: the root Typer app, and the one place every command group joins it.

Each command module (``subjects``, ``orders``, ``ingest``, ...) defines its own group or
commands and imports nothing back from here, so the shell has no import circle.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from . import alcohol, areas, crimes, evidence, gateway, ingest, outcomes, pilot, reoffending, reports, web
from .alerts import alerts_app
from .orders import orders_app
from .rules import rules_app
from .subjects import devices_app, subjects_app

__all__ = ["app", "main"]

app = typer.Typer(help="tagwatch: electronic monitoring of GPS tags - enrol, ingest, enforce, alert.",
                  no_args_is_help=True, pretty_exceptions_enable=False)


@app.callback()
def root(db: Annotated[Optional[str], typer.Option(
        "--db", help="SQLAlchemy URL of the store, for every command (as git -C or psql -d); a command's own "
        "--db wins, then this, then $TAGWATCH_DB, then sqlite:///tagwatch.db.")] = None):
    """tagwatch: electronic monitoring of GPS tags - enrol, ingest, enforce, alert."""


# Groups, in the order `tagwatch --help` lists them.
for name, group in (("subjects", subjects_app), ("devices", devices_app), ("orders", orders_app),
                    ("rules", rules_app), ("alerts", alerts_app), ("crimes", crimes.crimes_app),
                    ("matches", crimes.matches_app), ("areas", areas.areas_app), ("alcohol", alcohol.alcohol_app),
                    ("report", reports.report_app), ("offences", reoffending.offences_app),
                    ("cohort", reoffending.cohort_app), ("users", web.users_app), ("audit", web.audit_app)):
    app.add_typer(group, name=name)

for name, command in (("ingest", ingest.ingest), ("evaluate", ingest.evaluate_cmd), ("rejects", ingest.rejects),
                      ("correlate", crimes.correlate_cmd), ("evidence", evidence.evidence_cmd),
                      ("simulate", pilot.simulate), ("simulate-cohort", reoffending.simulate_cohort_cmd),
                      ("load", pilot.load), ("demo", pilot.demo),
                      ("serve", web.serve), ("monitor", web.monitor), ("gateway", gateway.gateway)):
    app.command(name)(command)

# Commands of a group that live with the use case they share a module with.
reports.report_app.command("aamr")(alcohol.report_aamr)
reports.report_app.command("reoffending")(reoffending.report_reoffending)
crimes.matches_app.command("outcome")(outcomes.matches_outcome)
crimes.matches_app.command("outcomes")(outcomes.matches_outcomes)


def main() -> None:
    """Console-script entry point."""
    app()
