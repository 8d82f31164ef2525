"""Alcohol readings: stored as columns, skipping any (device_id, ts_ms) already stored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import select

from . import schema as s

__all__ = ["AlcoholRecords", "READING_COLUMNS"]

READING_COLUMNS = ("device_id", "ts_ms", "tac_g_dl", "skin_temp_c", "ir_distance_mm", "tamper", "received_ms")


class AlcoholRecords:
    engine: Any

    def insert_reading_columns(self, cols: dict[str, np.ndarray]) -> int:
        """Insert readings given as columns (``READING_COLUMNS``; NaN for a missing sensor value).

        A reading already stored (same device and time) is skipped: first write wins, so a
        re-sent upload changes nothing. Returns how many were new.
        """
        n = len(cols["ts_ms"])
        if n == 0:
            return 0
        values = [cols[c].tolist() for c in READING_COLUMNS]
        rows = [tuple(None if isinstance(v, float) and v != v else v for v in row) for row in zip(*values, strict=True)]
        if self.engine.dialect.name == "sqlite":
            sql = (f"INSERT OR IGNORE INTO alcohol_readings ({', '.join(READING_COLUMNS)}) "
                   f"VALUES ({', '.join('?' * len(READING_COLUMNS))})")
            with self.engine.begin() as c:
                raw = c.connection.driver_connection
                before = raw.total_changes
                raw.executemany(sql, rows)
                return raw.total_changes - before
        stmt = self._upsert_ignore(s.alcohol_readings).returning(s.alcohol_readings.c.ts_ms)
        with self.engine.begin() as c:
            return len(c.execute(stmt, [dict(zip(READING_COLUMNS, r, strict=True)) for r in rows]).all())

    def load_readings(self, spans: Sequence[tuple[str, int, int | None]]) -> dict[str, np.ndarray]:
        """Readings of each ``(device_id, from_ms, to_ms)`` span (to None: still worn), by time.

        Returns columns ``ts_ms, tac_g_dl, skin_temp_c, ir_distance_mm, tamper, received_ms``
        (NaN where a sensor value is missing) and ``device``, the index of the span's device
        in the sorted device ids, sorted by ``ts_ms``.
        """
        r = s.alcohol_readings.c
        cols = [r.ts_ms, r.tac_g_dl, r.skin_temp_c, r.ir_distance_mm, r.tamper, r.received_ms]
        device_ids = sorted({d for d, _, _ in spans})
        chunks = []
        with self.engine.connect() as c:
            for d, a, b in spans:
                where = [r.device_id == d, r.ts_ms >= a] + ([r.ts_ms < b] if b is not None else [])
                rows = [tuple(x) + (device_ids.index(d),) for x in c.execute(select(*cols).where(*where))]
                chunks.append(np.array(rows, dtype=np.float64).reshape(-1, 7))
        arr = np.concatenate(chunks) if chunks else np.zeros((0, 7))
        arr = arr[np.argsort(arr[:, 0], kind="stable")]
        return {"ts_ms": arr[:, 0].astype(np.int64), "tac_g_dl": arr[:, 1], "skin_temp_c": arr[:, 2],
                "ir_distance_mm": arr[:, 3], "tamper": arr[:, 4].astype(bool), "received_ms": arr[:, 5].astype(np.int64),
                "device": arr[:, 6].astype(np.int32), "device_ids": tuple(device_ids)}
