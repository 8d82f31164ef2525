"""The audit log: append-only, each entry hash-chained to the one before.

An entry's hash is SHA-256 over its own fields (id included) and the previous entry's
hash. Editing an entry changes its hash; deleting one leaves a gap in the ids and a
``prev_hash`` that no longer matches; deleting the newest ones is caught by the chain
head kept in the meta table (which an attacker with write access could also rewrite:
note the head that ``tagwatch audit verify`` prints somewhere else to anchor it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import DDL, event, insert, select, update

from . import schema as s

__all__ = ["AuditRecords", "GENESIS", "entry_hash", "HASHED_FIELDS"]

GENESIS = "0" * 64
HASHED_FIELDS = ("id", "ts_ms", "actor", "role", "action", "subject_ids", "from_ms", "to_ms", "purpose", "detail",
                 "prev_hash")
HEAD_KEY = "audit_head"


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an entry's fields (not its own hash)."""
    text = json.dumps([entry[k] for k in HASHED_FIELDS], separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Defence in depth: the database itself refuses UPDATE and DELETE on the log. Someone who
# owns the database can drop these triggers; the hash chain still shows what they did.
_SQLITE_TRIGGERS = [
    DDL("CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"),
    DDL("CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"),
]
_PG_TRIGGERS = [
    DDL("CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$ LANGUAGE plpgsql"),
    DDL("CREATE OR REPLACE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"),
]
for _ddl in _SQLITE_TRIGGERS:
    event.listen(s.audit_log, "after_create", _ddl.execute_if(dialect="sqlite"))
for _ddl in _PG_TRIGGERS:
    event.listen(s.audit_log, "after_create", _ddl.execute_if(dialect="postgresql"))


class AuditRecords:
    engine: Any

    def append_audit(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Append one entry (fields as in ``HASHED_FIELDS`` less id and prev_hash); returns it with its hash."""
        meta = s.meta.c
        with self.engine.begin() as c:
            # Touch the head first: on PostgreSQL this locks its row, on SQLite it takes the
            # write lock, so concurrent appenders queue here and the chain never forks.
            if c.execute(update(s.meta).where(meta.key == HEAD_KEY).values(value=meta.value)).rowcount == 0:
                c.execute(insert(s.meta).values(key=HEAD_KEY, value=f"0:{GENESIS}"))
            last = c.execute(select(s.audit_log.c.id, s.audit_log.c.hash)
                             .order_by(s.audit_log.c.id.desc()).limit(1)).first()
            row = {"from_ms": None, "to_ms": None, "purpose": "", "detail": "", "subject_ids": "", **entry,
                   "id": (last.id + 1) if last else 1, "prev_hash": last.hash if last else GENESIS}
            row["hash"] = entry_hash(row)
            c.execute(insert(s.audit_log).values(**row))
            c.execute(update(s.meta).where(meta.key == HEAD_KEY).values(value=f"{row['id']}:{row['hash']}"))
        return row

    def audit_entries(self, limit: int | None = None, actor: str | None = None, subject_id: str | None = None,
                      newest_first: bool = True) -> list[dict[str, Any]]:
        a = s.audit_log.c
        q = select(s.audit_log).order_by(a.id.desc() if newest_first else a.id)
        if actor:
            q = q.where(a.actor == actor)
        if subject_id:
            # subject_ids is comma-separated; match a whole id only
            # autoescape: '_' and '%' in an id are matched as themselves, not as wildcards
            q = q.where(("," + a.subject_ids + ",").contains(f",{subject_id},", autoescape=True))
        if limit:
            q = q.limit(limit)
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q).mappings()]

    def audit_chain(self) -> Iterator[dict[str, Any]]:
        """Every entry in id order (streamed), for verification."""
        with self.engine.connect() as c:
            for r in c.execution_options(yield_per=5000).execute(select(s.audit_log).order_by(s.audit_log.c.id)).mappings():
                yield dict(r)

    def audit_head(self) -> tuple[int, str]:
        with self.engine.connect() as c:
            text = c.execute(select(s.meta.c.value).where(s.meta.c.key == HEAD_KEY)).scalar_one_or_none()
        if not text:
            return 0, GENESIS
        n, _, h = text.partition(":")
        return int(n), h
