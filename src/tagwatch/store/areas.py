"""Area crime records (police.uk street-level files), stored a force's month at a time."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from sqlalchemy import and_, delete, func, insert, or_, select

from . import schema as s

__all__ = ["AreaRecords", "AREA_COLUMNS"]

AREA_COLUMNS = ("month", "reported_by", "falls_within", "crime_id", "lon", "lat", "location", "lsoa_code",
                "lsoa_name", "crime_type", "outcome", "context")


class AreaRecords:
    engine: Any

    def area_month_hashes(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The file hash each stored (reported_by, month) came from."""
        m = s.area_months.c
        if not pairs:
            return {}
        cond = or_(*(and_(m.reported_by == f, m.month == mo) for f, mo in pairs))
        with self.engine.connect() as c:
            return {(r.reported_by, r.month): r.sha256 for r in c.execute(select(s.area_months).where(cond))}

    def replace_area_months(self, source: str, sha256: str, table: pa.Table, no_location: int,
                            rejects: list[tuple[int | None, str, str]], now_ms: int) -> dict[str, int]:
        """Store one file's rows, replacing the rows of every (force, month) it holds; one transaction."""
        pairs = sorted({(f, mo) for f, mo in zip(table["reported_by"].to_pylist(), table["month"].to_pylist(), strict=True)})
        m, ac = s.area_months.c, s.area_crimes.c
        with self.engine.begin() as c:
            file_id = c.execute(insert(s.area_files).values(
                source=source, sha256=sha256, rows=table.num_rows, no_location=no_location, rejected=len(rejects),
                imported_ms=now_ms)).inserted_primary_key[0]
            replaced = 0
            for force, month in pairs:
                replaced += c.execute(delete(s.area_crimes).where(ac.reported_by == force, ac.month == month)).rowcount
                c.execute(delete(s.area_months).where(m.reported_by == force, m.month == month))
                c.execute(insert(s.area_months).values(reported_by=force, month=month, file_id=file_id, sha256=sha256))
            self._insert_area_rows(c, file_id, table)
            if rejects:
                c.execute(insert(s.rejects), [{"source": source, "line_no": line, "raw": raw[:2000], "reason": reason,
                                               "received_ms": now_ms} for line, raw, reason in rejects])
        return {"file_id": file_id, "replaced": replaced}

    def _insert_area_rows(self, c, file_id: int, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        values = [[file_id] * table.num_rows] + [table[k].to_pylist() for k in AREA_COLUMNS]
        names = ("file_id", *AREA_COLUMNS)
        if self.engine.dialect.name == "sqlite":
            # The driver's executemany: several times faster than the generic path, still parameterised.
            sql = f"INSERT INTO area_crimes ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            c.connection.driver_connection.executemany(sql, zip(*values, strict=True))
            return
        c.execute(insert(s.area_crimes), [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)])

    def area_counts(self, by: tuple[str, ...] = ("lsoa_code", "crime_type"),
                    months: tuple[str, str] | None = None) -> list[dict[str, Any]]:
        """Counts of area crimes grouped by columns of ``area_crimes`` (e.g. lsoa_code, crime_type, month)."""
        cols = [s.area_crimes.c[b] for b in by]
        q = select(*cols, func.count().label("n")).group_by(*cols)
        if months:
            q = q.where(s.area_crimes.c.month >= months[0], s.area_crimes.c.month <= months[1])
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q).mappings()]

    def area_months_stored(self) -> list[dict[str, Any]]:
        q = (select(s.area_months.c.reported_by, s.area_months.c.month, s.area_files.c.source,
                    s.area_files.c.rows, s.area_files.c.no_location, s.area_files.c.rejected)
             .join(s.area_files, s.area_months.c.file_id == s.area_files.c.id)
             .order_by(s.area_months.c.reported_by, s.area_months.c.month))
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q).mappings()]
