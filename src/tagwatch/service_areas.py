"""Use cases of area analytics: import police.uk files, the community safety index, trends, the pilot's effect."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from .areas.policeuk import read_police_uk
from .store import Store
from .store import schema as s

__all__ = ["AreaImport", "import_area_files"]


@dataclass
class AreaImport:
    source: str
    status: str  # imported | unchanged
    rows: int
    no_location: int
    rejected: int
    months: list[tuple[str, str]]
    replaced: int = 0
    no_location_by_lsoa: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def import_area_files(store: Store, paths: list[Path], now_ms: int) -> list[AreaImport]:
    """Import police.uk street-level files. A force's month is replaced by the latest file that holds it;
    importing the same file again changes nothing (its rejects are not recorded twice)."""
    out = []
    for path in paths:
        parsed = read_police_uk(Path(path))
        sha = _sha256(Path(path))
        months = parsed.months()
        by_lsoa = parsed.no_location_by_lsoa()
        reasons: dict[str, int] = {}
        for _, _, reason in parsed.rejects:
            code = reason.split(":", 1)[0]
            reasons[code] = reasons.get(code, 0) + 1
        rep = AreaImport(str(path), "imported", parsed.n_rows, sum(by_lsoa.values()), len(parsed.rejects), months,
                         no_location_by_lsoa=by_lsoa, reasons=reasons)
        stored = store.area_month_hashes(months)
        if months and all(stored.get(p) == sha for p in months) or not months and _seen(store, sha):
            rep.status = "unchanged"
        else:
            rep.replaced = store.replace_area_months(str(path), sha, parsed.table, rep.no_location, parsed.rejects,
                                                     now_ms)["replaced"]
        out.append(rep)
    return out


def _seen(store: Store, sha: str) -> bool:
    with store.engine.connect() as c:
        return c.execute(select(s.area_files.c.id).where(s.area_files.c.sha256 == sha)).first() is not None
