"""The data of the dashboard's evaluator page: aggregates only, as a pure function.

The evaluator role sees programme figures by month and area figures by LSOA and borough,
never an individual: no subject, device, order or alert id, no fix, and no crime location
finer than an LSOA. The page shows the same figures as ``tagwatch report programme`` and
``tagwatch report areas`` (HTML): this dictionary carries them with the map classes those
reports use, and the web service sends it as JSON as it is (plain numbers; NaN is null).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..areas.did import DidResult
from ..areas.index import IndexResult
from ..areas.trends import Forecast, change_against_baseline
from .programme import ProgrammeReport
from .svgmap import INDEX_BREAKS, NO_DATA, PALETTE, quantile_breaks

__all__ = ["evaluator_view"]


def evaluator_view(programme: ProgrammeReport | None = None, index: IndexResult | None = None,
                   lsoa_names: dict[str, str] | None = None, series: Any = None,
                   effect: DidResult | None = None, *, index_months: Sequence[str] = (),
                   forecast: Forecast | None = None, forecast_note: str = "", pilot: Sequence[str] = (),
                   pilot_start: str | None = None, baseline_year: int | None = None,
                   reoffending: Any = None) -> dict[str, Any]:
    """Everything the evaluator page shows; every argument is optional (a section is left out when absent).

    ``index_months``: the months the index sums (rates per 1,000 residents are per month);
    ``baseline_year``: the year later years of neighbourhood crime are compared with (default the first);
    ``reoffending``: a :class:`~tagwatch.reoffending.ReoffendingResult` (counts, balance, effects and curves only).
    """
    out: dict[str, Any] = {"role": "evaluator", "aggregates_only": True}
    if programme is not None:
        out["programme"] = programme.to_dict()
    if index is not None:
        out["safety_index"] = _safety_index(index, lsoa_names or {}, list(index_months))
    if series is not None:
        out["neighbourhood_crime"] = _neighbourhood_crime(series, baseline_year, forecast, forecast_note)
    if effect is not None:
        out["pilot_effect"] = {**effect.to_dict(), "pilot": list(pilot), "start": pilot_start}
    if reoffending is not None:
        out["reoffending"] = reoffending.to_dict()
    return _plain(out)


def _safety_index(index: IndexResult, names: dict[str, str], months: list[str]) -> dict[str, Any]:
    keep = ["code", "population", "index", "flagged", *[v + "_index" for v in index.variables]]
    per_month = max(1, len(months))
    lsoas = []
    for r in index.lsoas:
        row = {k: r[k] for k in keep} | {"borough": r["group"], "name": names.get(r["code"], "")}
        for v in index.variables:  # crimes per 1,000 residents a month, as the areas report maps them
            row[v + "_per_1000"] = None if r[v] is None else 1000 * r[v] / per_month
        lsoas.append(row)
    return {
        "variables": index.variables, "months": months,
        "boroughs": [{k: r[k] for k in keep} | {"lsoas": r["lsoas"]} for r in index.groups],
        "lsoas": lsoas,
        # Map classes: the index in fixed classes (100 = the area's average, over 200 flagged); each rate
        # with zero in its own class and quantiles of the rest; colours light (low) to dark.
        "index_breaks": list(INDEX_BREAKS),
        "rate_breaks": {v: list(quantile_breaks([r[v + "_per_1000"] for r in lsoas])) for v in index.variables},
        "palette": list(PALETTE), "no_data": NO_DATA,
    }


def _neighbourhood_crime(series: Any, baseline_year: int | None, forecast: Forecast | None,
                         note: str) -> dict[str, Any]:
    total = series.total()
    base = baseline_year or (int(series.months[0][:4]) if series.months else None)
    change = [{"borough": b, **ch} for i, b in enumerate(series.boroughs)
              for ch in (change_against_baseline(series.months, total[i], base) if base else [])]
    out = {"months": series.months, "boroughs": series.boroughs, "categories": series.categories,
           "per_1000_residents": series.rate_per_1000().round(4).tolist(),
           "counts": series.counts.astype(int).tolist(), "area_total": total.sum(axis=0).tolist(),
           "baseline_year": base, "change_against_baseline": change, "forecast": None, "forecast_note": note}
    if forecast is not None:
        out["forecast"] = {"months": forecast.months, "mean": list(forecast.mean), "lower": list(forecast.lower),
                           "upper": list(forecast.upper), "level": 1 - forecast.alpha, "model": forecast.model}
    return out


def _plain(v: Any) -> Any:
    """JSON-ready: numpy scalars to Python numbers, NaN and infinities to None, tuples to lists."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return [_plain(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
