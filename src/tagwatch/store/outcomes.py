"""What became of matches shared with police: recorded by the force, appended, never updated."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from . import schema as s

__all__ = ["OutcomeRecords"]


class OutcomeRecords:
    engine: Any

    def add_match_outcome(self, row: dict[str, Any]) -> dict[str, Any]:
        with self.engine.begin() as c:
            row = {**row, "id": c.execute(insert(s.match_outcomes).values(**row)).inserted_primary_key[0]}
        return row

    def match_outcomes(self, match_id: int | None = None) -> list[dict[str, Any]]:
        """Outcomes in the order recorded (the last per match is its current outcome)."""
        q = select(s.match_outcomes).order_by(s.match_outcomes.c.id)
        if match_id is not None:
            q = q.where(s.match_outcomes.c.match_id == match_id)
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q).mappings()]
