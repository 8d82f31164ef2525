"""A subject's track as columns: the input of every rule."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Track"]


@dataclass(frozen=True)
class Track:
    """Reports of the tags a subject wore, sorted by ``ts_ms``.

    A report without a position (the tag is alive but has no GPS fix) has NaN ``x``/``y``.
    ``received_ms`` holds the arrival times of all reports, sorted: communication is
    judged by when data reached us, not by the time the tag stamped on it.
    """

    ts_ms: np.ndarray  # int64, sorted
    x: np.ndarray  # float64 BNG metres, NaN: no position
    y: np.ndarray
    accuracy_m: np.ndarray  # float64, NaN: not reported
    battery_pct: np.ndarray  # float64, NaN: not reported
    tamper: np.ndarray  # bool
    device: np.ndarray  # int32 index into device_ids
    device_ids: tuple[str, ...]
    received_ms: np.ndarray  # int64, sorted

    def __len__(self) -> int:
        return len(self.ts_ms)

    @property
    def has_position(self) -> np.ndarray:
        return ~np.isnan(self.x)

    @staticmethod
    def from_columns(
        ts_ms,
        x,
        y,
        accuracy_m=None,
        battery_pct=None,
        tamper=None,
        device=None,
        device_ids=("",),
        received_ms=None,
    ) -> Track:
        """Build a track from unsorted columns (sorting by time, deduplicating nothing)."""
        ts = np.asarray(ts_ms, dtype=np.int64)
        n = ts.size
        order = np.argsort(ts, kind="stable")

        def col(v, dtype, fill):
            arr = np.full(n, fill, dtype=dtype) if v is None else np.asarray(v, dtype=dtype)
            return arr[order]

        rec = ts if received_ms is None else np.asarray(received_ms, dtype=np.int64)
        return Track(
            ts_ms=ts[order],
            x=col(x, np.float64, np.nan),
            y=col(y, np.float64, np.nan),
            accuracy_m=col(accuracy_m, np.float64, np.nan),
            battery_pct=col(battery_pct, np.float64, np.nan),
            tamper=col(tamper, bool, False),
            device=col(device, np.int32, 0),
            device_ids=tuple(device_ids),
            received_ms=np.sort(rec),
        )

    def clipped(self, until_ms: int) -> Track:
        """The track as it was known at ``until_ms``: reports stamped and received by then."""
        if (not len(self) or self.ts_ms[-1] <= until_ms) and (
                not self.received_ms.size or self.received_ms[-1] <= until_ms):
            return self  # nothing to cut: no copies of a year of columns
        keep = self.ts_ms <= until_ms
        return Track(
            self.ts_ms[keep], self.x[keep], self.y[keep], self.accuracy_m[keep],
            self.battery_pct[keep], self.tamper[keep], self.device[keep], self.device_ids,
            self.received_ms[self.received_ms <= until_ms],
        )
