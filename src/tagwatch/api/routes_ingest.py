"""Fixes over HTTP: a JSON batch from a gateway, and the OsmAnd protocol of phone trackers.

Both only adapt HTTP to the live engine (``tagwatch.live``), which commits and judges them. An
OsmAnd report must carry its device's key (``key=`` in the query, the form or the JSON body):
without the right one it gets 401, is counted per device and address, and is not stored.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import PlainTextResponse

from ..ingest.osmand import report_from
from ..live.engine import LiveEngine
from ..live.writer import Overloaded
from ..model import iso
from ..services.users import User
from .deps import NowDep, allow
from .device_auth import REFUSED_BROWSER, REFUSED_KEY, device_authorised, from_a_browser
from .schemas import FixBatch, IngestPublic



def _not_from_a_browser(request: Request) -> None:
    if from_a_browser(request.headers.keys()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, REFUSED_BROWSER)


router = APIRouter(tags=["ingest"], dependencies=[Depends(_not_from_a_browser)])


def _engine(request: Request) -> LiveEngine:
    return request.app.state.live


async def _ingest(request: Request, records: list, source: str):
    """Hand records to the live engine; 503 with Retry-After when it is full, never a hang."""
    try:
        return await _engine(request).ingest(records, source)
    except Overloaded as e:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(e),
                            headers={"Retry-After": str(e.retry_after_s)}) from None
    except TimeoutError:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the store did not commit in time; retry",
                            headers={"Retry-After": "5"}) from None


@router.post("/api/fixes", response_model=IngestPublic)
async def post_fixes(batch: FixBatch, request: Request, user: Annotated[User, Depends(allow("gateway", "admin"))]):
    """Store a batch of fixes; the reply comes only after they are committed to disk (503: busy, retry)."""
    rep = await _ingest(request, batch.fixes, f"api:{user.username}")
    return IngestPublic(accepted=rep.accepted, duplicates=rep.duplicates, rejected=rep.rejected, reasons=rep.reasons)


async def _osmand(request: Request, record: dict, key: object) -> PlainTextResponse:
    address = request.client.host if request.client else "?"
    if not device_authorised(request.app.state.device_keys, record, key, address):
        return PlainTextResponse(REFUSED_KEY, status_code=401)
    rep = await _ingest(request, [record], "osmand")
    if rep.rejected:
        # Traccar answers 400 to a report it cannot use; the reason is kept in the rejects.
        return PlainTextResponse(next(iter(rep.reasons)), status_code=400)
    return PlainTextResponse("OK")


@router.get("/osmand", response_class=PlainTextResponse)
async def osmand_get(request: Request, now: NowDep):
    """OsmAnd / Traccar Client report as query parameters (id, key, lat, lon, timestamp, accuracy, batt)."""
    return await _osmand(request, *report_from(request.query_params, iso(now)))


@router.post("/osmand", response_class=PlainTextResponse)
async def osmand_post(request: Request, now: NowDep):
    """OsmAnd report as query or form parameters, or Traccar Client 9's JSON body."""
    params = dict(request.query_params)
    if request.headers.get("content-type", "").startswith("application/json"):
        return await _osmand(request, *report_from(params, iso(now), await request.body()))
    params.update({k: v for k, v in (await request.form()).items() if isinstance(v, str)})
    return await _osmand(request, *report_from(params, iso(now)))
