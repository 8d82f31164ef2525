"""Proven offences and the people of a reoffending study (tagged and comparison pool)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select

from . import schema as s

__all__ = ["ReoffendingRecords"]


class ReoffendingRecords:
    engine: Any

    def add_proven_offences(self, rows: list[dict[str, Any]]) -> int:
        """Insert offences, skipping any already stored (same person, dates and type). Returns how many were new."""
        if not rows:
            return 0
        t = s.proven_offences
        keys = ("person_id", "offence_date", "disposal_date", "offence_type")
        with self.engine.begin() as c:
            have = {tuple(r) for r in c.execute(select(*(t.c[k] for k in keys)).where(
                t.c.person_id.in_(sorted({r["person_id"] for r in rows}))))}
            new, seen = [], set()
            for r in rows:
                k = tuple(r[x] for x in keys)
                if k not in have and k not in seen:
                    seen.add(k)
                    new.append(r)
            for i in range(0, len(new), 5000):
                c.execute(insert(t), new[i:i + 5000])
        return len(new)

    def put_cohort_people(self, rows: list[dict[str, Any]]) -> int:
        """Add people, replacing a stored person's row by the new one. Returns how many rows were written."""
        last = {r["person_id"]: r for r in rows}
        ids = sorted(last)
        with self.engine.begin() as c:
            for i in range(0, len(ids), 5000):
                c.execute(delete(s.cohort_people).where(s.cohort_people.c.person_id.in_(ids[i:i + 5000])))
            vals = list(last.values())
            for i in range(0, len(vals), 5000):
                c.execute(insert(s.cohort_people), vals[i:i + 5000])
        return len(last)

    def cohort_people(self) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(select(s.cohort_people).order_by(s.cohort_people.c.person_id)).mappings()]

    def proven_offences(self) -> list[dict[str, Any]]:
        t = s.proven_offences
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(select(t).order_by(t.c.person_id, t.c.offence_date)).mappings()]
