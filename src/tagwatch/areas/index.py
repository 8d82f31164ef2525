"""The community safety index, in the spirit of the Vulnerable Localities Index (VLI).

Each variable becomes a rate per resident (2011 census usual residents) and is indexed to
the rate of the whole area studied: ``100 * local rate / area rate``, so 100 is the area's
average and 200 twice it. The index of a place is the mean of its variables' indices
(equal weights unless told otherwise); a place over ``threshold`` (200) is flagged. A
borough is indexed the same way from its summed counts and residents. Variables a user
supplies are either counts (turned into rates like crimes) or scores such as a deprivation
score, which are indexed to their resident-weighted mean over the area. Method and limits:
docs/analytics.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Variable", "IndexResult", "safety_index", "FLAG_AT"]

FLAG_AT = 200.0


@dataclass(frozen=True)
class Variable:
    name: str
    values: Mapping[str, float]  # LSOA code -> count (kind "count") or score (kind "score")
    kind: str = "count"  # count | score
    weight: float = 1.0


@dataclass
class IndexResult:
    variables: list[str]
    lsoas: list[dict]  # code, group, population, <var> (rate or score), <var>_index, index, flagged
    groups: list[dict]  # the same per group (borough)
    area: dict  # population, and per variable its area rate (counts) or resident-weighted mean (scores)
    dropped: list[str] = field(default_factory=list)  # variables with nothing in the whole area
    no_population: list[str] = field(default_factory=list)  # LSOAs left out: no residents recorded

    def top(self, n: int = 5, level: str = "lsoa") -> list[dict]:
        rows = self.lsoas if level == "lsoa" else self.groups
        return sorted(rows, key=lambda r: (-r["index"], r["code"]))[:n]


def safety_index(population: Mapping[str, float | None], variables: Sequence[Variable],
                 group_of: Mapping[str, str] | None = None, threshold: float = FLAG_AT) -> IndexResult:
    """Index every LSOA of ``population`` (the whole area) and every group of them."""
    no_pop = sorted(c for c, p in population.items() if not p or p <= 0)
    codes = sorted(c for c, p in population.items() if p and p > 0)
    pop = np.array([population[c] for c in codes], dtype=float)
    groups = group_of or {}
    gnames = sorted({groups.get(c, "") for c in codes})
    gidx = np.array([gnames.index(groups.get(c, "")) for c in codes], dtype=np.int64)
    gpop = np.bincount(gidx, weights=pop, minlength=len(gnames))
    kept, dropped = [], []
    lsoa_cols: dict[str, np.ndarray] = {}
    group_cols: dict[str, np.ndarray] = {}
    area = {"population": float(pop.sum())}
    for v in variables:
        x = np.array([v.values.get(c, 0.0 if v.kind == "count" else np.nan) for c in codes], dtype=float)
        if v.kind == "count":
            total = np.nansum(x)
            if total <= 0:
                dropped.append(v.name)
                continue
            rate, area_rate = x / pop, total / pop.sum()
            grate = np.bincount(gidx, weights=np.nan_to_num(x), minlength=len(gnames)) / gpop
        elif v.kind == "score":
            have = ~np.isnan(x)
            area_rate = float(np.sum(x[have] * pop[have]) / np.sum(pop[have])) if have.any() else 0.0
            if area_rate == 0:
                dropped.append(v.name)
                continue
            rate = x
            wsum = np.bincount(gidx[have], weights=x[have] * pop[have], minlength=len(gnames))
            psum = np.bincount(gidx[have], weights=pop[have], minlength=len(gnames))
            with np.errstate(invalid="ignore", divide="ignore"):
                grate = wsum / psum
        else:
            raise ValueError(f"variable {v.name!r}: kind must be 'count' or 'score', not {v.kind!r}")
        kept.append(v)
        area[v.name] = float(area_rate)
        lsoa_cols[v.name], lsoa_cols[v.name + "_index"] = rate, 100 * rate / area_rate
        group_cols[v.name], group_cols[v.name + "_index"] = grate, 100 * grate / area_rate
    weights = np.array([v.weight for v in kept], dtype=float)

    def combine(cols: dict[str, np.ndarray], n: int) -> np.ndarray:
        if not kept:
            return np.full(n, np.nan)
        m = np.vstack([cols[v.name + "_index"] for v in kept])
        w = np.where(np.isnan(m), 0.0, weights[:, None])
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.nansum(m * w, axis=0) / w.sum(axis=0)

    lsoa_index, group_index = combine(lsoa_cols, len(codes)), combine(group_cols, len(gnames))
    names = [v.name for v in kept]

    def rows(keys, col_map, index, pops, extra):
        out = []
        for i, key in enumerate(keys):
            r = {"code": key, **extra(i), "population": float(pops[i])}
            for n in names:
                r[n], r[n + "_index"] = _f(col_map[n][i]), _f(col_map[n + "_index"][i])
            r["index"] = _f(index[i])
            r["flagged"] = bool(r["index"] is not None and r["index"] > threshold)
            out.append(r)
        return out

    lsoa_rows = rows(codes, lsoa_cols, lsoa_index, pop, lambda i: {"group": groups.get(codes[i], "")})
    group_rows = rows(gnames, group_cols, group_index, gpop, lambda i: {"lsoas": int(np.sum(gidx == i))})
    return IndexResult(names, lsoa_rows, group_rows, area, dropped, no_pop)


def _f(v) -> float | None:
    v = float(v)
    return None if np.isnan(v) else v
