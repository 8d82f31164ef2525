"""Crime-scene matches: the review queue (monitoring), what was shared with a force (police), and
what became of it (outcomes, recorded by that force)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from ..services import changes, outcomes, views
from ..services.users import User
from .deps import NowDep, Purpose, StoreDep, allow
from .schemas import MatchOutcomeCreate, MatchReviewCreate

router = APIRouter(prefix="/api", tags=["matches"])
Monitoring = Annotated[User, Depends(allow("monitoring"))]


def match_access(match_id: int, store: StoreDep, user: Annotated[User, Depends(allow("monitoring", "police"))]) -> User:
    """Monitoring; police only for a match shared (and not withdrawn) with their force."""
    if user.role == "police" and match_id not in store.shared_match_ids(user.force):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"match {match_id} has not been shared with {user.force}")
    if store.match(match_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no match {match_id}")
    return user


def police_match_access(match_id: int, store: StoreDep, user: Annotated[User, Depends(allow("police"))]) -> User:
    """Police only, and only for a match shared (and not withdrawn) with their force."""
    return match_access(match_id, store, user)


@router.get("/matches")
def list_matches(store: StoreDep, now: NowDep, user: Monitoring, purpose: Purpose, significant: bool = True):
    """Matches for review (significant ones by default) with the decisions made so far (audited)."""
    return views.match_list(store, user, purpose, now, significant)


@router.get("/matches/{match_id}")
def get_match(match_id: int, store: StoreDep, now: NowDep, purpose: Purpose,
              user: Annotated[User, Depends(match_access)]):
    """A match with its evidence: the crime, the decisions and the track around it (audited)."""
    return views.match_evidence(store, user, match_id, purpose, now)


@router.post("/matches/{match_id}/review", status_code=201)
def review_match(match_id: int, body: MatchReviewCreate, store: StoreDep, now: NowDep, user: Monitoring):
    """Qualify, reject, authorise, share with a force, or withdraw a match (audited)."""
    return changes.review_match(store, match_id, body.action, user.username, user.role, now,
                                        body.force, body.note)


@router.get("/shared")
def shared_with_me(store: StoreDep, now: NowDep, user: Annotated[User, Depends(allow("police"))], purpose: Purpose):
    """Matches shared with the caller's force: subject, crime place, closest approach (audited with the purpose)."""
    return views.shared_matches(store, user, purpose, now)


@router.post("/matches/{match_id}/outcomes", status_code=201)
def record_outcome(match_id: int, body: MatchOutcomeCreate, store: StoreDep, now: NowDep,
                   user: Annotated[User, Depends(police_match_access)]):
    """Record what became of a match shared with the caller's force: charged, convicted, ... (audited)."""
    outcomes.record_match_outcome(store, match_id, body.outcome, body.on, user.force, user.username, now,
                                          body.note, user.role)
    return outcomes.match_outcomes(store, match_id)


@router.get("/matches/{match_id}/outcomes")
def list_outcomes(match_id: int, store: StoreDep, user: Annotated[User, Depends(match_access)]):
    """A match's outcomes in the order recorded; the last is its current one (no location)."""
    return outcomes.match_outcomes(store, match_id)
