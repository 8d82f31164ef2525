"""Crime records: batches as received, crimes as versions (never overwritten)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select

from ..ingest.crimes import Crime, CrimeBatch
from . import schema as s

__all__ = ["CrimeRecords", "COMPARED"]

# The fields whose change makes a re-sent crime a new version.
COMPARED = ("crime_type", "from_ms", "to_ms", "x", "y", "location_accuracy_m", "description")


class CrimeRecords:
    engine: Any

    def record_crime_batch(self, batch: CrimeBatch, now_ms: int) -> dict[str, int]:
        """Store a parsed batch: its outcome, its rejects, and each crime as new, a new version, or unchanged."""
        counts = {"new": 0, "new_version": 0, "unchanged": 0, "rejected": len(batch.rejects)}
        self.last_changed_crimes: set[tuple[str, str]] = set()
        c_ = s.crimes.c
        with self.engine.begin() as c:
            bid = c.execute(insert(s.crime_batches).values(
                source=batch.source, format=batch.format, force=batch.force, batch_id=batch.batch_id,
                outcome=batch.outcome, accepted=len(batch.crimes), rejected=len(batch.rejects),
                imported_ms=now_ms)).inserted_primary_key[0]
            for crime in batch.crimes:
                last = c.execute(select(s.crimes).where(c_.force == crime.force, c_.crime_ref == crime.crime_ref)
                                 .order_by(c_.version.desc()).limit(1)).mappings().first()
                changed = [] if last is None else [k for k in COMPARED if last[k] != getattr(crime, k)]
                if last is not None and not changed:
                    counts["unchanged"] += 1
                    continue
                counts["new" if last is None else "new_version"] += 1
                self.last_changed_crimes.add((crime.force, crime.crime_ref))
                c.execute(insert(s.crimes).values(
                    force=crime.force, crime_ref=crime.crime_ref, version=1 if last is None else last["version"] + 1,
                    crime_type=crime.crime_type, from_ms=crime.from_ms, to_ms=crime.to_ms, x=crime.x, y=crime.y,
                    lat=crime.lat, lon=crime.lon, location_accuracy_m=crime.location_accuracy_m,
                    description=crime.description, batch=bid, changed=",".join(changed), imported_ms=now_ms))
            if batch.rejects:
                c.execute(insert(s.rejects), [{"source": batch.source, "line_no": line, "raw": raw[:2000],
                                               "reason": reason, "received_ms": now_ms}
                                              for line, raw, reason in batch.rejects])
        return counts

    def crimes(self, all_versions: bool = False) -> list[dict[str, Any]]:
        """Crimes, latest version of each unless ``all_versions``."""
        c_ = s.crimes.c
        q = select(s.crimes).order_by(c_.from_ms, c_.force, c_.crime_ref, c_.version)
        if not all_versions:
            latest = (select(c_.force, c_.crime_ref, func.max(c_.version).label("v"))
                      .group_by(c_.force, c_.crime_ref).subquery())
            q = q.join(latest, (c_.force == latest.c.force) & (c_.crime_ref == latest.c.crime_ref)
                       & (c_.version == latest.c.v))
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q).mappings()]

    def crime_version(self, force: str, crime_ref: str, version: int) -> dict[str, Any] | None:
        """One version of a crime, or None."""
        c_ = s.crimes.c
        q = select(s.crimes).where(c_.force == force, c_.crime_ref == crime_ref, c_.version == version)
        with self.engine.connect() as c:
            row = c.execute(q).mappings().first()
        return dict(row) if row else None

    def latest_crime_version(self, force: str, crime_ref: str) -> int | None:
        c_ = s.crimes.c
        q = select(func.max(c_.version)).where(c_.force == force, c_.crime_ref == crime_ref)
        with self.engine.connect() as c:
            return c.execute(q).scalar_one()

    def crime_batches(self) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(select(s.crime_batches).order_by(s.crime_batches.c.id)).mappings()]


def as_crime(row: dict[str, Any]) -> Crime:
    return Crime(row["force"], row["crime_ref"], row["crime_type"], row["from_ms"], row["to_ms"], row["x"], row["y"],
                 row["lat"], row["lon"], row["location_accuracy_m"], row["description"], "")
