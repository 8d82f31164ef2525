"""Use cases of area analytics: import police.uk files, the community safety index, trends, the pilot's effect."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from sqlalchemy import select

from ..areas.categories import NEIGHBOURHOOD_SERIES, slug
from ..areas.did import DidResult, difference_in_differences
from ..areas.index import FLAG_AT, IndexResult, Variable, safety_index
from ..areas.policeuk import read_police_uk
from ..codec import InputError
from ..data import lsoa_lookup
from ..store import Store
from ..store import schema as s

__all__ = ["AreaImport", "AreaIndex", "import_area_files", "area_lsoas", "read_extra_variables",
           "community_safety_index", "BoroughSeries", "borough_series", "pilot_effect", "area_boundaries"]


@dataclass
class AreaImport:
    source: str
    status: str  # imported | unchanged | refused
    rows: int
    no_location: int
    rejected: int
    months: list[tuple[str, str]]
    replaced: int = 0
    refused: str = ""  # why a file was not imported (it holds fewer rows of a month than are stored)
    no_location_by_lsoa: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def import_area_files(store: Store, paths: list[Path], now_ms: int, replace: bool = False) -> list[AreaImport]:
    """Import police.uk street-level files. A force's month is replaced by the latest file that holds it,
    unless that file holds fewer of its rows than are stored (a truncated or partial download): then the
    file is refused (status ``refused``, ``refused`` says why) unless ``replace``. Importing the same
    file again changes nothing (its rejects are not recorded twice)."""
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
        elif not replace and (shrunk := _shrunk_months(store, parsed.table, months)):
            rep.status, rep.refused = "refused", shrunk
        else:
            rep.replaced = store.replace_area_months(str(path), sha, parsed.table, rep.no_location, parsed.rejects,
                                                     now_ms)["replaced"]
        out.append(rep)
    return out


def _shrunk_months(store: Store, table, months: list[tuple[str, str]]) -> str:
    """What a file would shrink: '(force) (month): N rows where M are stored', or ''."""
    if not months:
        return ""
    lo, hi = min(m for _, m in months), max(m for _, m in months)
    stored = {(r["reported_by"], r["month"]): r["n"] for r in store.area_counts(("reported_by", "month"), (lo, hi))}
    new: dict[tuple[str, str], int] = {}
    for pair in zip(table["reported_by"].to_pylist(), table["month"].to_pylist(), strict=True):
        new[pair] = new.get(pair, 0) + 1
    return "; ".join(f"{f} {m}: {new.get((f, m), 0)} rows where {stored[(f, m)]} are stored"
                     for f, m in months if new.get((f, m), 0) < stored.get((f, m), 0))


def _seen(store: Store, sha: str) -> bool:
    with store.engine.connect() as c:
        return c.execute(select(s.area_files.c.id).where(s.area_files.c.sha256 == sha)).first() is not None


# -- the community safety index ------------------------------------------------------------------
def _force_key(name: str) -> str:
    """'West Yorkshire Police', 'Metropolitan Police Service', 'Kent Constabulary' -> 'west yorkshire', ..."""
    n = " ".join(name.lower().split())
    for suffix in (" police service", " police", " constabulary"):
        if n.endswith(suffix):
            n = n[: -len(suffix)]
    return n


@dataclass
class AreaIndex:
    result: IndexResult
    names: dict[str, str]  # LSOA code -> name
    forces: list[str]
    months: list[str]
    rows_used: int
    rows_unplaced: int  # no LSOA (police.uk gave no location)
    rows_outside: int  # in an LSOA outside the area studied (e.g. across a force boundary)
    las_left_out: list[str] = field(default_factory=list)  # boroughs the imported files do not cover


def area_lsoas(forces: list[str] | None = None, las: list[str] | None = None) -> dict[str, dict]:
    """The LSOAs (from the England lookup) of the named police forces or local authorities."""
    lookup = lsoa_lookup()
    if las:
        wanted = {x.lower() for x in las}
        found = {c: r for c, r in lookup.items() if r["la_name"].lower() in wanted or r["la_code"].lower() in wanted}
        missing = wanted - {r["la_name"].lower() for r in found.values()} - {r["la_code"].lower() for r in found.values()}
        if missing:
            raise InputError(f"unknown local authority: {', '.join(sorted(missing))} (use names as in the ONS lookup, "
                             "e.g. Leeds, Lewisham)")
        return found
    keys = {_force_key(f) for f in forces or []}
    found = {c: r for c, r in lookup.items() if _force_key(r["force"]) in keys}
    if not found:
        raise InputError(f"no LSOA of {', '.join(forces or []) or 'no force'} in the lookup: name the area with "
                         "--force or --la")
    return found


def studied_lsoas(store: Store, forces: list[str] | None = None,
                  las: list[str] | None = None) -> tuple[dict[str, dict], list[str]]:
    """The LSOAs of the area studied, and the local authorities left out because no imported row falls in them.

    Local authorities named with ``las`` are taken as given. An area taken from police forces
    (named, or those the imported files were reported by) keeps only the local authorities at
    least one imported row falls in: a police.uk month has crimes in every borough of its force,
    so a borough with none is one the files do not cover (a partial extract, or the simulator's
    four boroughs), not a borough without crime; counted as zero, it would flag every covered place.
    """
    stored = store.area_months_stored()
    lsoas = area_lsoas(forces or (None if las else sorted({m["reported_by"] for m in stored})), las)
    if las:
        return lsoas, []
    covered = {lsoas[r["lsoa_code"]]["la_name"] for r in store.area_counts(("lsoa_code",))
               if r["lsoa_code"] in lsoas}
    if not covered:
        return lsoas, []
    left_out = sorted({r["la_name"] for r in lsoas.values()} - covered)
    return {c: r for c, r in lsoas.items() if r["la_name"] in covered}, left_out


def read_extra_variables(path: Path) -> list[Variable]:
    """Per-LSOA variables from a CSV: ``lsoa_code`` then one column per variable; a name ending in
    ``_count`` is a count (made a rate per resident), any other a score (e.g. a deprivation score)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    if not rows or not rows[0] or rows[0][0].strip().lower() not in ("lsoa_code", "lsoa code", "lsoa11cd"):
        raise InputError(f"{path}: the first column must be lsoa_code, then one column per variable")
    names = [h.strip() for h in rows[0][1:]]
    values: dict[str, dict[str, float]] = {n: {} for n in names}
    for line, r in enumerate(rows[1:], start=2):
        if len(r) != len(names) + 1:
            raise InputError(f"{path}:{line}: {len(r)} fields where {len(names) + 1} are expected")
        for n, v in zip(names, r[1:], strict=True):
            if v.strip():
                try:
                    values[n][r[0].strip()] = float(v)
                except ValueError:
                    raise InputError(f"{path}:{line}: {n} {v!r} is not a number") from None
    return [Variable(n, values[n], "count" if n.endswith("_count") else "score") for n in names]


def community_safety_index(store: Store, forces: list[str] | None = None, las: list[str] | None = None,
                           categories: tuple[str, ...] = NEIGHBOURHOOD_SERIES, extra: list[Variable] = (),
                           months: tuple[str, str] | None = None, threshold: float = FLAG_AT) -> AreaIndex:
    """Index the LSOAs and local authorities of an area from the imported police.uk rows (and extra variables)."""
    stored = store.area_months_stored()
    if months:
        stored = [m for m in stored if months[0] <= m["month"] <= months[1]]
    if not stored:
        raise InputError("no police.uk months imported for that period: run tagwatch areas import first")
    data_forces = sorted({m["reported_by"] for m in stored})
    lsoas, left_out = studied_lsoas(store, forces, las)
    counts: dict[str, dict[str, float]] = {c: {} for c in categories}
    used = unplaced = outside = 0
    for r in store.area_counts(("lsoa_code", "crime_type"), months):
        if r["crime_type"] not in counts:
            continue
        if r["lsoa_code"] is None:
            unplaced += r["n"]
        elif r["lsoa_code"] not in lsoas:
            outside += r["n"]
        else:
            counts[r["crime_type"]][r["lsoa_code"]] = r["n"]
            used += r["n"]
    variables = [Variable(slug(c), counts[c]) for c in categories] + list(extra)
    result = safety_index({c: r["population"] for c, r in lsoas.items()}, variables,
                          {c: r["la_name"] for c, r in lsoas.items()}, threshold)
    return AreaIndex(result, {c: r["name"] for c, r in lsoas.items()}, forces or data_forces,
                     sorted({m["month"] for m in stored}), used, unplaced, outside, left_out)


# -- neighbourhood crime by borough: series, change, forecast, the pilot's effect ------------------
@dataclass
class BoroughSeries:
    months: list[str]  # the months imported (a force's month missing: not in the list)
    boroughs: list[str]
    categories: list[str]
    counts: np.ndarray  # boroughs x categories x months
    population: np.ndarray  # per borough (2011 census)

    def total(self) -> np.ndarray:
        """Boroughs x months, all categories."""
        return self.counts.sum(axis=1)

    def rate_per_1000(self) -> np.ndarray:
        return 1000 * self.total() / self.population[:, None]


def borough_series(store: Store, forces: list[str] | None = None, las: list[str] | None = None,
                   categories: tuple[str, ...] = NEIGHBOURHOOD_SERIES) -> BoroughSeries:
    """Monthly counts by borough (local authority) and police.uk category, from the imported months."""
    stored = store.area_months_stored()
    if not stored:
        raise InputError("no police.uk months imported: run tagwatch areas import first")
    lsoas, _left_out = studied_lsoas(store, forces, las)
    months = sorted({m["month"] for m in stored})
    boroughs = sorted({r["la_name"] for r in lsoas.values()})
    b_of = {c: boroughs.index(r["la_name"]) for c, r in lsoas.items()}
    cat_i = {c: i for i, c in enumerate(categories)}
    counts = np.zeros((len(boroughs), len(categories), len(months)))
    m_i = {m: i for i, m in enumerate(months)}
    for r in store.area_counts(("lsoa_code", "crime_type", "month")):
        if r["lsoa_code"] in b_of and r["crime_type"] in cat_i:
            counts[b_of[r["lsoa_code"]], cat_i[r["crime_type"]], m_i[r["month"]]] += r["n"]
    pop = np.zeros(len(boroughs))
    for c, r in lsoas.items():
        pop[b_of[c]] += r["population"] or 0
    return BoroughSeries(months, boroughs, list(categories), counts, pop)


def pilot_effect(series: BoroughSeries, pilot: list[str], start: str, alpha: float = 0.05) -> DidResult:
    """Difference-in-differences of neighbourhood crime per 1,000 residents a month: pilot boroughs
    against the others, before and from ``start`` (YYYY-MM)."""
    unknown = sorted({p for p in pilot} - set(series.boroughs))
    if unknown:
        raise InputError(f"pilot borough not in the area: {', '.join(unknown)} (the area has "
                         f"{', '.join(series.boroughs)})")
    treated = np.array([b in pilot for b in series.boroughs])
    post = np.array([m >= start for m in series.months])
    try:
        return difference_in_differences(series.rate_per_1000(), treated, post, alpha)
    except ValueError as e:
        raise InputError(str(e)) from None


def areas_report(store: Store, forces: list[str] | None = None, las: list[str] | None = None,
                 pilot: list[str] | None = None, start: str | None = None, baseline: int | None = None,
                 extra: list[Variable] = (), horizon: int = 12):
    """Everything ``tagwatch report areas`` shows, as an :class:`AreasReport` (render it with render_areas_html)."""
    from ..areas.boundaries import borough_geometries, lsoa_geometries
    from ..areas.trends import forecast
    from ..reports.areas_html import AreasReport
    ai = community_safety_index(store, forces, las, extra=extra)
    ser = borough_series(store, forces, las)
    lsoa_geoms = lsoa_geometries(r["code"] for r in ai.result.lsoas)
    borough_geoms = borough_geometries({r["code"]: r["group"] for r in ai.result.lsoas}, lsoa_geoms)
    fc, note = None, ""
    try:
        fc = forecast(ser.months, ser.total().sum(axis=0), horizon)
    except ValueError as e:
        note = f"No forecast: {e}."
    effect = pilot_effect(ser, pilot, start) if pilot and start else None
    title = f"Area crime and community safety: {', '.join(ai.forces)}"
    return AreasReport(title, ai, ser, lsoa_geoms, borough_geoms, baseline or int(ser.months[0][:4]), fc, note,
                       effect, list(pilot or []), start)


def area_boundaries(store: Store, level: str = "lsoa") -> dict:
    """GeoJSON (lon/lat) of the LSOAs or boroughs of the area the imported police.uk months cover (the
    area ``community_safety_index(store)`` indexes), for maps; properties ``code``, ``name``, ``borough``.
    An empty FeatureCollection when no month is imported."""
    if level not in ("lsoa", "borough"):
        raise InputError(f"level {level!r}: use lsoa or borough")
    stored = store.area_months_stored()
    if not stored:
        return {"type": "FeatureCollection", "features": []}
    lsoas, _left_out = studied_lsoas(store)
    return _boundaries(tuple(sorted({r["la_name"] for r in lsoas.values()})), level)


@lru_cache(maxsize=8)
def _boundaries(las: tuple[str, ...], level: str) -> dict:
    from ..areas.boundaries import borough_geometries, lsoa_geometries
    lsoas = area_lsoas(las=list(las))
    geoms = lsoa_geometries(lsoas)
    if level == "lsoa":
        features = [{"type": "Feature", "geometry": g,
                     "properties": {"code": c, "name": lsoas[c]["name"], "borough": lsoas[c]["la_name"]}}
                    for c, g in sorted(geoms.items())]
    else:
        boroughs = borough_geometries({c: r["la_name"] for c, r in lsoas.items()}, geoms)
        features = [{"type": "Feature", "geometry": g, "properties": {"code": b, "name": b, "borough": b}}
                    for b, g in sorted(boroughs.items())]
    return {"type": "FeatureCollection", "features": features}
