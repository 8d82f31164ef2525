"""Positions as the map needs them: WGS84 points of a subject, and each subject's latest fix."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from . import schema as s

__all__ = ["TrackRecords"]

POINT_COLUMNS = ("ts_ms", "lat", "lon", "accuracy_m", "battery_pct", "strap")


class TrackRecords:
    engine: Any

    def track_points(self, subject_id: str, from_ms: int, to_ms: int, limit: int = 50_000) -> list[dict[str, Any]]:
        """Fixes (with or without a position) of the devices a subject wore, in ``[from_ms, to_ms)``."""
        f = s.fixes.c
        out: list[dict[str, Any]] = []
        with self.engine.connect() as c:
            for a in self.assignments(subject_id):
                lo, hi = max(from_ms, a.from_ms), to_ms if a.to_ms is None else min(to_ms, a.to_ms)
                if lo >= hi:
                    continue
                q = (select(*(getattr(f, k) for k in POINT_COLUMNS), f.device_id)
                     .where(f.device_id == a.device_id, f.ts_ms >= lo, f.ts_ms < hi).order_by(f.ts_ms).limit(limit))
                out.extend(dict(r) for r in c.execute(q).mappings())
        out.sort(key=lambda r: r["ts_ms"])
        return out[:limit]

    def latest_positions(self, subject_ids: list[str] | None = None) -> list[dict[str, Any]]:
        """The newest fix with a position from each subject's current device."""
        f = s.fixes.c
        out = []
        current = [a for a in self.assignments() if a.to_ms is None
                   and (subject_ids is None or a.subject_id in subject_ids)]
        with self.engine.connect() as c:
            for a in current:
                q = (select(*(getattr(f, k) for k in POINT_COLUMNS))
                     .where(f.device_id == a.device_id, f.ts_ms >= a.from_ms, f.lat.is_not(None))
                     .order_by(f.ts_ms.desc()).limit(1))
                row = c.execute(q).mappings().first()
                if row:
                    out.append({"subject_id": a.subject_id, "device_id": a.device_id, **dict(row)})
        return out

    def last_fix_ms(self, subject_id: str) -> int | None:
        """Time (only) of the newest fix from any device the subject wore."""
        f = s.fixes.c
        best = None
        with self.engine.connect() as c:
            for a in self.assignments(subject_id):
                q = select(func.max(f.ts_ms)).where(f.device_id == a.device_id, f.ts_ms >= a.from_ms)
                if a.to_ms is not None:
                    q = q.where(f.ts_ms < a.to_ms)
                t = c.execute(q).scalar_one()
                if t is not None and (best is None or t > best):
                    best = t
        return best
