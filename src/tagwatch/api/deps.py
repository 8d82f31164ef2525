"""Injected dependencies: the store, the clock, the current user, role rules, stated purpose.

Every access rule lives here as a dependency, so a route states who may call it in its
signature and handlers never check roles themselves. No token: 401. A valid token of
a role (or a probation officer outside their caseload, police outside their force's
shared matches): 403. The token comes in the ``Authorization`` header; only the event
stream (``stream_user``) also takes it as ``?token=``, because a browser's EventSource
cannot send headers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request, status
from fastapi.security import OAuth2PasswordBearer

from ..services.users import AuthError, User, user_for_token
from ..store import Store

__all__ = ["StoreDep", "NowDep", "CurrentUser", "allow", "Purpose", "SubjectAccess", "visible_subjects",
           "check_subject", "MONITORING_PROBATION", "StreamToken", "stream_user", "OptionalPurpose", "require_purpose"]

_bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)
MONITORING_PROBATION = ("monitoring", "probation")


# async: FastAPI runs a plain function dependency in a worker thread, a hop per request.
async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_now(request: Request) -> int:
    return request.app.state.clock()


StoreDep = Annotated[Store, Depends(get_store)]
NowDep = Annotated[int, Depends(get_now)]


def _user_for(store: Store, now: int, token: str | None) -> User:
    if not token:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "log in first (Authorization: Bearer TOKEN)",
                            headers={"WWW-Authenticate": "Bearer"})
    try:
        return user_for_token(store, token, now)
    except AuthError as e:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(e), headers={"WWW-Authenticate": "Bearer"}) from None


def current_user(store: StoreDep, now: NowDep, token: Annotated[str | None, Depends(_bearer)]) -> User:
    """The user the bearer token names; 401 when there is none or it is not valid."""
    return _user_for(store, now, token)


def stream_token(header: Annotated[str | None, Depends(_bearer)],
                 token: Annotated[str | None, Query(description="The bearer token, for EventSource, which cannot "
                                                                "send an Authorization header.")] = None) -> str | None:
    """The bearer token from the header, else from ``?token=`` (the event stream only)."""
    return header or token


StreamToken = Annotated[str | None, Depends(stream_token)]


def stream_user(store: StoreDep, now: NowDep, token: StreamToken) -> User:
    """As ``current_user``, with the token in the header or in ``?token=``."""
    return _user_for(store, now, token)


CurrentUser = Annotated[User, Depends(current_user)]


def allow(*roles: str, user_from: Callable[..., User] = current_user) -> Callable[[User], User]:
    """A dependency admitting only ``roles`` (403 for the others); ``user_from`` finds the user."""
    def dependency(user: User = Depends(user_from)) -> User:
        if user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"the {user.role} role may not do this")
        return user
    dependency.__name__ = "allow_" + "_".join(roles)
    return dependency


def require_purpose(text: str) -> str:
    """``text`` if it states a purpose (3 characters or more), else 400."""
    if len(text) < 3:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            "state the purpose of this location read (X-Purpose header or ?purpose=)")
    return text


def optional_purpose(x_purpose: Annotated[str | None, Header(description="Why location data is read (audited).")] = None,
                     purpose: Annotated[str | None, Query(description="Same as the X-Purpose header.")] = None) -> str:
    """The stated purpose, or "" (for a route that reads locations only on some requests)."""
    return (x_purpose or purpose or "").strip()[:500]


def stated_purpose(text: Annotated[str, Depends(optional_purpose)]) -> str:
    """Location reads must say why; the reason goes into the audit log."""
    return require_purpose(text)


OptionalPurpose = Annotated[str, Depends(optional_purpose)]
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
