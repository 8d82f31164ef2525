"""Fixes over HTTP: a JSON batch from a gateway, and the OsmAnd protocol of phone trackers."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from ..ingest.osmand import record_from_json, record_from_params
from ..model import iso
from ..services.ingest import ingest_live
from ..services.users import User
from .deps import NowDep, StoreDep, allow
from .schemas import FixBatch, IngestPublic

router = APIRouter(tags=["ingest"])


@router.post("/api/fixes", response_model=IngestPublic)
def post_fixes(batch: FixBatch, store: StoreDep, now: NowDep, user: Annotated[User, Depends(allow("gateway", "admin"))]):
    """Store a batch of fixes; the reply comes only after they are committed to disk."""
    rep, ev = ingest_live(store, batch.fixes, f"api:{user.username}", now)
    return IngestPublic(accepted=rep.accepted, duplicates=rep.duplicates, rejected=rep.rejected,
                        reasons=rep.reasons, alerts_new=ev.new if ev else 0)


def _osmand(store, record: dict, now: int) -> PlainTextResponse:
    rep, _ = ingest_live(store, [record], "osmand", now)
    if rep.rejected:
        # Traccar answers 400 to a report it cannot use; the reason is kept in the rejects.
        return PlainTextResponse(next(iter(rep.reasons)), status_code=400)
    return PlainTextResponse("OK")


@router.get("/osmand", response_class=PlainTextResponse)
def osmand_get(request: Request, store: StoreDep, now: NowDep):
    """OsmAnd / Traccar Client report as query parameters (id, lat, lon, timestamp, accuracy, batt)."""
    return _osmand(store, record_from_params(request.query_params, iso(now)), now)


@router.post("/osmand", response_class=PlainTextResponse)
async def osmand_post(request: Request, store: StoreDep, now: NowDep):
    """OsmAnd report as query or form parameters, or Traccar Client 9's JSON body."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        record = record_from_json(body, iso(now)) if isinstance(body, dict) else {"device_id": "", "ts": iso(now)}
    else:
        params = dict(request.query_params)
        params.update({k: v for k, v in (await request.form()).items() if isinstance(v, str)})
        record = record_from_params(params, iso(now))
    return await run_in_threadpool(_osmand, store, record, now)
