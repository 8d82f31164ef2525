"""Correlation matches and what people decided about them (qualify, authorise, share)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from . import schema as s
from .errors import StoreError

__all__ = ["MatchRecords"]


class MatchRecords:
    engine: Any

    def match(self, match_id: int) -> dict[str, Any] | None:
        """One stored match with its run's parameters and engine version, or None."""
        m, r = s.matches.c, s.correlation_runs.c
        q = (select(s.matches, r.engine_version, r.params.label("run_params"), r.started_ms.label("run_started_ms"))
             .join(s.correlation_runs, m.run_id == r.id).where(m.id == match_id))
        with self.engine.connect() as c:
            row = c.execute(q).mappings().first()
        return dict(row) if row else None

    def review_match(self, match_id: int, action: str, actor: str, now_ms: int, force: str | None = None,
                     note: str = "") -> dict[str, Any]:
        """Record a decision about a match. Sharing needs a force and a prior authorisation for it."""
        if action not in s.MATCH_ACTIONS:
            raise StoreError(f"unknown match action {action!r}: use one of {', '.join(s.MATCH_ACTIONS)}")
        if not actor:
            raise StoreError("a match decision needs the name of who made it")
        if self.match(match_id) is None:
            raise StoreError(f"no match {match_id}")
        if action in ("authorised", "shared", "withdrawn") and not force:
            raise StoreError(f"{action}: say which police force (--force)")
        history = self.match_reviews(match_id)
        if action == "shared" and not any(h["action"] == "authorised" and h["force"] == force for h in history):
            raise StoreError(f"match {match_id} is not authorised for sharing with {force}")
        row = {"match_id": match_id, "ts_ms": now_ms, "actor": actor, "action": action, "force": force, "note": note}
        with self.engine.begin() as c:
            row["id"] = c.execute(insert(s.match_reviews).values(**row)).inserted_primary_key[0]
        return row

    def match_rows(self, significant_only: bool = True, limit: int = 500) -> list[dict[str, Any]]:
        """Stored matches, newest run first, best score first."""
        m = s.matches.c
        q = select(s.matches).order_by(m.run_id.desc(), m.score.desc(), m.id).limit(limit)
        if significant_only:
            q = q.where(m.significant == 1)
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q).mappings()]

    def match_reviews(self, match_id: int) -> list[dict[str, Any]]:
        q = select(s.match_reviews).where(s.match_reviews.c.match_id == match_id).order_by(s.match_reviews.c.id)
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q).mappings()]

    def shared_match_ids(self, force: str | None = None) -> list[int]:
        """Matches shared (and not since withdrawn) with ``force``, or with any force."""
        q = select(s.match_reviews).where(s.match_reviews.c.action.in_(("shared", "withdrawn"))).order_by(s.match_reviews.c.id)
        state: dict[tuple[int, str | None], bool] = {}
        with self.engine.connect() as c:
            for r in c.execute(q).mappings():
                if force is None or r["force"] == force:
                    state[(r["match_id"], r["force"])] = r["action"] == "shared"
        return sorted({mid for (mid, _), on in state.items() if on})
