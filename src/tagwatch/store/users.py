"""Users of the web service and probation caseloads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update

from . import schema as s
from .errors import StoreError

__all__ = ["UserRecords"]


class UserRecords:
    engine: Any

    def add_user(self, username: str, password_hash: str, role: str, force: str | None, now_ms: int) -> None:
        with self.engine.begin() as c:
            if c.execute(select(s.users.c.username).where(s.users.c.username == username)).first():
                raise StoreError(f"user {username!r} already exists")
            c.execute(insert(s.users).values(username=username, password_hash=password_hash, role=role,
                                             force=force, created_ms=now_ms))

    def user(self, username: str) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            row = c.execute(select(s.users).where(s.users.c.username == username)).mappings().first()
        return dict(row) if row else None

    def users(self) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(select(s.users).order_by(s.users.c.username)).mappings()]

    def set_password_hash(self, username: str, password_hash: str) -> None:
        with self.engine.begin() as c:
            c.execute(update(s.users).where(s.users.c.username == username).values(password_hash=password_hash))

    def disable_user(self, username: str, now_ms: int) -> None:
        with self.engine.begin() as c:
            n = c.execute(update(s.users).where(s.users.c.username == username, s.users.c.disabled_ms.is_(None))
                          .values(disabled_ms=now_ms)).rowcount
        if n == 0:
            raise StoreError(f"no active user {username!r}")

    def set_caseload(self, username: str, subject_ids: list[str], now_ms: int) -> None:
        """Replace a probation officer's caseload."""
        with self.engine.begin() as c:
            known = set(c.execute(select(s.subjects.c.id).where(s.subjects.c.id.in_(subject_ids))).scalars())
            missing = sorted(set(subject_ids) - known)
            if missing:
                raise StoreError(f"unknown subject(s) {', '.join(missing)}")
            c.execute(delete(s.caseloads).where(s.caseloads.c.username == username))
            if subject_ids:
                c.execute(insert(s.caseloads), [{"username": username, "subject_id": sid, "assigned_ms": now_ms}
                                                for sid in sorted(set(subject_ids))])

    def caseload(self, username: str) -> set[str]:
        with self.engine.connect() as c:
            return set(c.execute(select(s.caseloads.c.subject_id).where(s.caseloads.c.username == username)).scalars())

    # -- login throttling (services.users decides; this only keeps the counts) -------------------
    def login_failures(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        t = s.login_failures
        with self.engine.connect() as c:
            return {r["key"]: dict(r) for r in c.execute(select(t).where(t.c.key.in_(keys))).mappings()}

    def set_login_failures(self, rows: list[dict[str, Any]]) -> None:
        """Replace the rows of these keys (``key, failures, last_ms, blocked_until_ms``)."""
        t = s.login_failures
        with self.engine.begin() as c:
            c.execute(delete(t).where(t.c.key.in_([r["key"] for r in rows])))
            c.execute(insert(t), rows)

    def clear_login_failures(self, key: str) -> None:
        with self.engine.begin() as c:
            c.execute(delete(s.login_failures).where(s.login_failures.c.key == key))
