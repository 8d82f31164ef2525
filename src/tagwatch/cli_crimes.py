"""``tagwatch crimes ...``: import reported crimes (police batches, tagwatch CSV) and list them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .cli_common import DEFAULT_DB, DbOpt, FormatOpt, console, friendly, now_ms
from .ingest.crimes import read_crime_file
from .model import iso
from .output import Format, render
from .store import open_store

__all__ = ["crimes_app"]

crimes_app = typer.Typer(help="Reported crimes, for correlation with tracks.", no_args_is_help=True)


@crimes_app.command("import")
@friendly
def crimes_import(files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)], db: DbOpt = DEFAULT_DB):
    """Import crime-mapping batches or tagwatch crime CSVs; each row accepted or rejected with a reason."""
    store = open_store(db)
    for path in files:
        batch = read_crime_file(path)
        counts = store.record_crime_batch(batch, now_ms())
        reasons: dict[str, int] = {}
        for _, _, reason in batch.rejects:
            code = reason.split(":", 1)[0]
            reasons[code] = reasons.get(code, 0) + 1
        console.print(f"{path}: {batch.format} {batch.force} {batch.batch_id} [bold]{batch.outcome}[/bold]: "
                      f"new {counts['new']}, new versions {counts['new_version']}, unchanged {counts['unchanged']}, "
                      f"rejected {counts['rejected']}"
                      + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(reasons.items()))}; see tagwatch rejects)"
                         if reasons else ""))


@crimes_app.command("list")
@friendly
def crimes_list(all_versions: Annotated[bool, typer.Option("--all-versions", help="Every version, not only the latest.")] = False,
                fmt: FormatOpt = Format.table, db: DbOpt = DEFAULT_DB):
    """List reported crimes (latest version of each)."""
    rows = [{**r, "from": iso(r["from_ms"]), "to": iso(r["to_ms"])} for r in open_store(db).crimes(all_versions)]
    render(rows, ["force", "crime_ref", "version", "crime_type", "from", "to", "lat", "lon", "location_accuracy_m",
                  "changed"], fmt, "Crimes")
