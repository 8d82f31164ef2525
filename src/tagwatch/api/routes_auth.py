"""Log in (a password for an expiring token) and say who I am."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from ..services.users import AuthError, authenticate, issue_token
from .deps import CurrentUser, NowDep, StoreDep
from .schemas import TokenPublic

router = APIRouter(prefix="/api", tags=["auth"])
MAX_FAILURES, WINDOW_MS = 5, 5 * 60_000  # per username, per server process


def _recent_failures(request: Request, username: str, now: int) -> list[int]:
    failures = request.app.state.__dict__.setdefault("login_failures", {})
    recent = [t for t in failures.get(username, []) if t > now - WINDOW_MS]
    failures[username] = recent
    return recent


@router.post("/auth/token", response_model=TokenPublic)
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], store: StoreDep, now: NowDep, request: Request):
    """Exchange a username and password for a bearer token that expires."""
    recent = _recent_failures(request, form.username, now)
    if len(recent) >= MAX_FAILURES:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            f"too many failed logins for {form.username}; try again in a few minutes",
                            headers={"Retry-After": str((recent[0] + WINDOW_MS - now) // 1000 + 1)})
    try:
        user = authenticate(store, form.username, form.password)
    except AuthError as e:
        recent.append(now)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(e), headers={"WWW-Authenticate": "Bearer"}) from None
    token, expires = issue_token(store, user, now)
    return TokenPublic(access_token=token, expires_ms=expires, username=user.username, role=user.role)


@router.get("/me")
def me(user: CurrentUser):
    """The logged-in user: name, role, force (police) and caseload (probation)."""
    return {"username": user.username, "role": user.role, "force": user.force, "caseload": sorted(user.caseload)}
