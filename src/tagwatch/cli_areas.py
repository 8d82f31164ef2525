"""``tagwatch areas ...``: police.uk street-level crime by area, and the community safety index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .cli_common import DEFAULT_DB, DbOpt, FormatOpt, console, friendly, now_ms
from .output import Format, render
from .service_areas import import_area_files
from .store import open_store

__all__ = ["areas_app"]

areas_app = typer.Typer(help="Area crime statistics (police.uk street-level files) and the community safety index.",
                        no_args_is_help=True)


@areas_app.command("import")
@friendly
def areas_import(files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)], db: DbOpt = DEFAULT_DB):
    """Import police.uk street-level CSVs; a force's month is replaced by the latest file holding it."""
    store = open_store(db)
    for rep in import_area_files(store, files, now_ms()):
        months = ", ".join(f"{f} {m}" for f, m in rep.months) or "no month"
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


@areas_app.command("list")
@friendly
def areas_list(fmt: FormatOpt = Format.table, db: DbOpt = DEFAULT_DB):
    """The forces' months imported, with the file each came from."""
    rows = open_store(db).area_months_stored()
    render(rows, ["reported_by", "month", "rows", "no_location", "rejected", "source"], fmt, "Area crime months")
