"""Log in (a password for an expiring token) and say who I am."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from ..services import throttle
from ..services.users import AuthError, Busy, authenticate, issue_token
from .deps import CurrentUser, NowDep, StoreDep
from .schemas import TokenPublic

router = APIRouter(prefix="/api", tags=["auth"])


@router.post("/auth/token", response_model=TokenPublic)
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], store: StoreDep, now: NowDep, request: Request):
    """Exchange a username and password for a bearer token that expires (429: too many failures
    from this client, with Retry-After; 503: too many logins at once)."""
    address = request.client.host if request.client else "unknown"
    try:
        throttle.check(store, form.username, address, now)
        user = authenticate(store, form.username, form.password)
    except throttle.Throttled as e:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(e),
                            headers={"Retry-After": str(e.retry_after_s)}) from None
    except Busy as e:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(e), headers={"Retry-After": "2"}) from None
    except AuthError as e:
        throttle.failed(store, form.username, address, now)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(e), headers={"WWW-Authenticate": "Bearer"}) from None
    throttle.succeeded(store, form.username, address)
    token, expires = issue_token(store, user, now)
    return TokenPublic(access_token=token, expires_ms=expires, username=user.username, role=user.role)


@router.get("/me")
def me(user: CurrentUser):
    """The logged-in user: name, role, force (police) and caseload (probation)."""
    return {"username": user.username, "role": user.role, "force": user.force, "caseload": sorted(user.caseload)}
