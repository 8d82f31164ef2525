"""The data of the dashboard's evaluator page: aggregates only, as a pure function.

The evaluator role sees programme figures by month and area figures by LSOA and borough,
never an individual: no subject, device, order or alert id, no fix, and no crime location
finer than an LSOA. The web service renders this dictionary (JSON) as it is.
"""

from __future__ import annotations

from typing import Any

from ..areas.did import DidResult
from ..areas.index import IndexResult
from .programme import ProgrammeReport

__all__ = ["evaluator_view"]


def evaluator_view(programme: ProgrammeReport | None = None, index: IndexResult | None = None,
                   lsoa_names: dict[str, str] | None = None, series: Any = None,
                   effect: DidResult | None = None) -> dict[str, Any]:
    """Everything the evaluator page shows; every argument is optional (a section is left out when absent)."""
    out: dict[str, Any] = {"role": "evaluator", "aggregates_only": True}
    if programme is not None:
        out["programme"] = programme.to_dict()
    if index is not None:
        keep = ["code", "population", "index", "flagged", *[v + "_index" for v in index.variables]]
        out["safety_index"] = {
            "variables": index.variables,
            "boroughs": [{k: r[k] for k in keep} | {"lsoas": r["lsoas"]} for r in index.groups],
            "lsoas": [{k: r[k] for k in keep} | {"borough": r["group"], "name": (lsoa_names or {}).get(r["code"], "")}
                      for r in index.lsoas],
        }
    if series is not None:
        out["neighbourhood_crime"] = {"months": series.months, "boroughs": series.boroughs,
                                      "categories": series.categories,
                                      "per_1000_residents": series.rate_per_1000().round(4).tolist(),
                                      "counts": series.counts.astype(int).tolist()}
    if effect is not None:
        out["pilot_effect"] = effect.to_dict()
    return out
