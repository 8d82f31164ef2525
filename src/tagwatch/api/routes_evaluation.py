"""Programme evaluation: the evaluator page's figures and the boundaries its maps are drawn on.

Aggregates only (monthly programme figures, area figures by LSOA and borough): the evaluator
role never receives an individual or a location.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from ..services import areas, programme
from ..services.users import User
from .deps import NowDep, StoreDep, allow

router = APIRouter(prefix="/api/evaluation", tags=["evaluation"])
Figures = Annotated[User, Depends(allow("evaluator", "admin", "monitoring"))]


@router.get("")
def evaluation(store: StoreDep, user: Figures, now: NowDep,
               start: Annotated[str | None, Query(alias="from", description="First month, YYYY-MM.")] = None,
               end: Annotated[str | None, Query(alias="to", description="Last month, YYYY-MM.")] = None,
               borough: Annotated[str | None, Query(description="Programme figures of this borough's subjects.")] = None,
               pilot: Annotated[list[str] | None, Query(
                   description="Pilot boroughs, comma-separated or repeated (with pilot_start).")] = None,
               pilot_start: Annotated[str | None, Query(description="The pilot's first month, YYYY-MM.")] = None,
               baseline: Annotated[int | None, Query(description="Baseline year; default the first.")] = None):
    """Programme figures by month, area figures, the pilot's effect and proven reoffending against a matched group."""
    boroughs = [b.strip() for p in pilot or [] for b in p.split(",") if b.strip()]
    return programme.evaluator_data(store, start, end, borough or None, boroughs or None,
                                            pilot_start or None, baseline, now_ms=now)


@router.get("/boundaries")
def evaluation_boundaries(store: StoreDep, user: Figures, level: Literal["lsoa", "borough"] = "lsoa"):
    """Boundaries (GeoJSON) of the LSOAs or boroughs the area figures cover, for the page's maps."""
    return Response(json.dumps(areas.area_boundaries(store, level)), media_type="application/geo+json")
