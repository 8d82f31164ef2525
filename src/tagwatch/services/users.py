"""Use cases for people: users with argon2 passwords, expiring signed tokens, caseloads.

Tokens are ``payload.signature``: the payload names the user, role and expiry; the
signature is HMAC-SHA256 under a key generated once per install (kept in the store's
meta table, or given as ``TAGWATCH_TOKEN_KEY``). Every request re-reads the user, so
disabling a user or changing a role takes effect at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
from contextlib import contextmanager
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from . import audit
from ..store import Store, StoreError
from ..store.schema import ROLES

__all__ = ["User", "ROLES", "AuthError", "add_user", "authenticate", "issue_token", "user_for_token",
           "set_caseload", "disable_user", "MIN_PASSWORD", "TOKEN_TTL_MS", "Busy", "MAX_HASHES"]

MIN_PASSWORD = 12
MAX_TOKEN = 4096  # characters; ours are about 150
TOKEN_TTL_MS = int(os.environ.get("TAGWATCH_TOKEN_TTL_MIN", "480")) * 60_000
_hasher = PasswordHasher()
MAX_HASHES = int(os.environ.get("TAGWATCH_MAX_HASHES", "4"))  # argon2 hashes at once (64 MiB each)
HASH_WAIT_S = 10.0
_hashing = threading.BoundedSemaphore(MAX_HASHES)
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class Busy(Exception):
    """Every password-hash slot stayed taken for ``HASH_WAIT_S``: answer 503, retry later."""


class AuthError(ValueError):
    """Wrong credentials, or a token that is malformed, forged, expired or of a disabled user."""


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: str
    force: str | None = None
    caseload: frozenset[str] = frozenset()


def add_user(store: Store, username: str, password: str, role: str, now_ms: int, force: str | None = None,
             caseload: list[str] | None = None, actor: str = "cli", actor_role: str = "cli") -> None:
    """Create a user (audited); police users need the force whose shared matches they may see."""
    if role not in ROLES:
        raise StoreError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise StoreError("a username is 1-64 letters, digits, '.', '-' or '_'")
    if len(password) < MIN_PASSWORD:
        raise StoreError(f"a password needs at least {MIN_PASSWORD} characters")
    if role == "police" and not force:
        raise StoreError("a police user needs --force (the force code matches are shared with, e.g. MPS)")
    with _hash_slot():
        password_hash = _hasher.hash(password)
    store.add_user(username, password_hash, role, force if role == "police" else None, now_ms)
    audit.record(store, actor, actor_role, "user_create", now_ms,
                         detail={"username": username, "role": role, "force": force})
    if caseload:
        set_caseload(store, username, caseload, now_ms, actor, actor_role)


def disable_user(store: Store, username: str, now_ms: int, actor: str = "cli", actor_role: str = "cli") -> None:
    """Disable a user: their tokens stop working at once; their row stays for the audit log."""
    store.disable_user(username, now_ms)
    audit.record(store, actor, actor_role, "user_disable", now_ms, detail={"username": username})


def set_caseload(store: Store, username: str, subject_ids: list[str], now_ms: int, actor: str = "cli",
                 actor_role: str = "cli") -> None:
    """Replace a probation officer's caseload (audited)."""
    user = store.user(username)
    if user is None:
        raise StoreError(f"no user {username!r}")
    if user["role"] != "probation":
        raise StoreError(f"{username} is {user['role']}; only probation users have a caseload")
    store.set_caseload(username, subject_ids, now_ms)
    audit.record(store, actor, actor_role, "caseload_set", now_ms, subject_ids, detail={"username": username})


def _load(store: Store, username: str) -> User | None:
    row = store.user(username)
    if row is None or row["disabled_ms"] is not None:
        return None
    caseload = frozenset(store.caseload(username)) if row["role"] == "probation" else frozenset()
    return User(row["username"], row["role"], row["force"], caseload)


@contextmanager
def _hash_slot():
    """One of ``MAX_HASHES`` slots for an argon2 hash (each takes tens of MiB), waited for at most
    ``HASH_WAIT_S``; :class:`Busy` when none comes free, so logins cannot exhaust memory."""
    if not _hashing.acquire(timeout=HASH_WAIT_S):
        raise Busy("the server is checking too many passwords at once; retry in a few seconds")
    try:
        yield
    finally:
        _hashing.release()


def authenticate(store: Store, username: str, password: str) -> User:
    row = store.user(username)
    try:
        with _hash_slot():
            _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise AuthError("wrong username or password") from None
    if row is None or row["disabled_ms"] is not None:
        raise AuthError("wrong username or password")
    if _hasher.check_needs_rehash(row["password_hash"]):
        with _hash_slot():
            new_hash = _hasher.hash(password)
        store.set_password_hash(username, new_hash)
    user = _load(store, username)
    assert user is not None
    return user


def _key(store: Store) -> bytes:
    env = os.environ.get("TAGWATCH_TOKEN_KEY")
    if env:
        return env.encode("utf-8")
    key = store.get_meta("token_key")
    if key is None:
        store.set_meta("token_key", secrets.token_hex(32))
        key = store.get_meta("token_key")
    return bytes.fromhex(key)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def issue_token(store: Store, user: User, now_ms: int, ttl_ms: int = TOKEN_TTL_MS) -> tuple[str, int]:
    """A signed token for ``user`` and its expiry (epoch ms)."""
    expires = now_ms + ttl_ms
    payload = _b64(json.dumps({"u": user.username, "r": user.role, "exp": expires, "n": secrets.token_hex(8)},
                              separators=(",", ":")).encode("utf-8"))
    sig = _b64(hmac.new(_key(store), payload.encode("ascii"), hashlib.sha256).digest())
    return f"{payload}.{sig}", expires


def user_for_token(store: Store, token: str, now_ms: int) -> User:
    payload, dot, sig = token.partition(".")
    if not dot or not token.isascii() or len(token) > MAX_TOKEN:
        raise AuthError("malformed token")
    expected = _b64(hmac.new(_key(store), payload.encode("ascii"), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, sig):
        raise AuthError("invalid token")
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError):
        raise AuthError("malformed token") from None
    if claims.get("exp", 0) <= now_ms:
        raise AuthError("token expired; log in again")
    user = _load(store, claims.get("u", ""))
    if user is None or user.role != claims.get("r"):
        raise AuthError("token no longer valid; log in again")
    return user
