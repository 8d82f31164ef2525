"""Log in (a password for an expiring token) and say who I am."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm

from ..service_users import AuthError, authenticate, issue_token
from .deps import CurrentUser, NowDep, StoreDep
from .schemas import TokenPublic

router = APIRouter(prefix="/api", tags=["auth"])


@router.post("/auth/token", response_model=TokenPublic)
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], store: StoreDep, now: NowDep):
    """Exchange a username and password for a bearer token that expires."""
    try:
        user = authenticate(store, form.username, form.password)
    except AuthError as e:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(e), headers={"WWW-Authenticate": "Bearer"}) from None
    token, expires = issue_token(store, user, now)
    return TokenPublic(access_token=token, expires_ms=expires, username=user.username, role=user.role)


@router.get("/me")
def me(user: CurrentUser):
    """The logged-in user: name, role, force (police) and caseload (probation)."""
    return {"username": user.username, "role": user.role, "force": user.force, "caseload": sorted(user.caseload)}
