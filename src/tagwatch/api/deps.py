"""Injected dependencies: the store, the clock, the current user, role rules, stated purpose.

Every access rule lives here as a dependency, so a route states who may call it in its
signature and handlers never check roles themselves. No token: 401. A valid token of
a role (or a probation officer outside their caseload, police outside their force's
shared matches): 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request, status
from fastapi.security import OAuth2PasswordBearer

from ..services.users import AuthError, User, user_for_token
from ..store import Store

__all__ = ["StoreDep", "NowDep", "CurrentUser", "allow", "Purpose", "SubjectAccess", "visible_subjects",
           "check_subject", "MONITORING_PROBATION"]

_bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)
MONITORING_PROBATION = ("monitoring", "probation")


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_now(request: Request) -> int:
    return request.app.state.clock()


StoreDep = Annotated[Store, Depends(get_store)]
NowDep = Annotated[int, Depends(get_now)]


def current_user(store: StoreDep, now: NowDep, token: Annotated[str | None, Depends(_bearer)]) -> User:
    """The user the bearer token names; 401 when there is none or it is not valid."""
    if not token:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "log in first (Authorization: Bearer TOKEN)",
                            headers={"WWW-Authenticate": "Bearer"})
    try:
        return user_for_token(store, token, now)
    except AuthError as e:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(e), headers={"WWW-Authenticate": "Bearer"}) from None


CurrentUser = Annotated[User, Depends(current_user)]


def allow(*roles: str) -> Callable[[User], User]:
    """A dependency admitting only ``roles`` (403 for the others)."""
    def dependency(user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"the {user.role} role may not do this")
        return user
    dependency.__name__ = "allow_" + "_".join(roles)
    return dependency


def stated_purpose(x_purpose: Annotated[str | None, Header(description="Why location data is read (audited).")] = None,
                   purpose: Annotated[str | None, Query(description="Same as the X-Purpose header.")] = None) -> str:
    """Location reads must say why; the reason goes into the audit log."""
    text = (x_purpose or purpose or "").strip()
    if len(text) < 3:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            "state the purpose of this location read (X-Purpose header or ?purpose=)")
    return text[:500]


Purpose = Annotated[str, Depends(stated_purpose)]


def visible_subjects(store: Store, user: User) -> set[str] | None:
    """Subjects the user may see individually: None means all (monitoring)."""
    if user.role == "monitoring":
        return None
    if user.role == "probation":
        return set(user.caseload)
    return set()


def check_subject(store: Store, user: User, subject_id: str) -> None:
    """403 unless the user may see this subject (404 if it does not exist and they could)."""
    seen = visible_subjects(store, user)
    if seen is not None and subject_id not in seen:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"subject {subject_id} is not on your caseload")
    if not store.subject_exists(subject_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no subject {subject_id!r}")


def subject_access(subject_id: str, store: StoreDep,
                   user: Annotated[User, Depends(allow(*MONITORING_PROBATION))]) -> User:
    """Monitoring, or the probation officer whose caseload holds ``subject_id``."""
    check_subject(store, user, subject_id)
    return user


SubjectAccess = Annotated[User, Depends(subject_access)]
