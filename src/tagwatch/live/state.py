"""Each subject's state in memory: the recent window of its track, its orders, its devices.

The window holds every report of the subject's devices (within their assignment periods)
stamped at or after ``window_from_ms``, and every arrival time at or after it: exactly what
``Store.load_track`` would read for a range that starts there, so an evaluation served from
memory sees the same columns as one served from the store. A read that starts earlier than
the window raises :class:`OutsideWindow`, and the caller falls back to the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..model import Assignment, Order
from ..rules.track import Track

__all__ = ["SubjectState", "OutsideWindow", "Columns"]


class OutsideWindow(Exception):
    """The range asked for starts before the window held in memory."""


_DTYPES = {"ts_ms": np.int64, "x": np.float64, "y": np.float64, "accuracy_m": np.float64,
           "battery_pct": np.float64, "tamper": np.bool_, "device": np.int16}


class Columns:
    """Growable numpy columns (amortised O(1) append)."""

    def __init__(self, dtypes: dict[str, type], capacity: int = 64) -> None:
        self.dtypes = dtypes
        self.n = 0
        self.data = {k: np.empty(capacity, dtype=t) for k, t in dtypes.items()}

    def append(self, **cols: np.ndarray) -> None:
        m = len(next(iter(cols.values())))
        if m == 0:
            return
        cap = len(next(iter(self.data.values())))
        if self.n + m > cap:
            new_cap = max(cap * 2, self.n + m)
            for k, arr in self.data.items():
                grown = np.empty(new_cap, dtype=arr.dtype)
                grown[:self.n] = arr[:self.n]
                self.data[k] = grown
        for k, v in cols.items():
            self.data[k][self.n:self.n + m] = v
        self.n += m

    def keep(self, mask: np.ndarray) -> None:
        """Keep the rows where ``mask`` is True (of the first ``n``), shrinking storage to fit."""
        kept = int(mask.sum())
        for k, arr in self.data.items():
            out = np.empty(max(kept, 16), dtype=arr.dtype)
            out[:kept] = arr[:self.n][mask]
            self.data[k] = out
        self.n = kept

    def __getitem__(self, k: str) -> np.ndarray:
        return self.data[k][:self.n]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.data.values())


@dataclass(eq=False)
class SubjectState:
    """What the live engine knows of one subject between evaluations."""
    subject_id: str
    orders: list[Order]
    assignments: list[Assignment]
    window_from_ms: int | None = None  # None: the window is not loaded yet
    fixes: Columns = field(default_factory=lambda: Columns(_DTYPES))
    received: Columns = field(default_factory=lambda: Columns({"received_ms": np.int64}))
    last_received_ms: int | None = None
    last_position_ms: int | None = None
    last_ts_ms: int | None = None
    as_of_ms: int | None = None  # horizon of the last evaluation
    dirty_from_ms: int | None = None  # earliest fix time (or horizon) not yet evaluated
    catching_up_since_ms: int | None = None  # a store-and-forward burst is arriving: since when
    catching_up_last_ms: int | None = None  # ...and its latest commit
    deadline_ms: int | None = None  # evaluate again by then even without data

    @property
    def device_ids(self) -> tuple[str, ...]:
        return tuple(sorted({a.device_id for a in self.assignments})) or ("",)

    def assignment_index(self, device_id: str, ts_ms: int) -> int | None:
        """Which of the subject's assignments a report of ``device_id`` at ``ts_ms`` falls in."""
        for i, a in enumerate(self.assignments):
            if a.device_id == device_id and a.from_ms <= ts_ms and (a.to_ms is None or ts_ms < a.to_ms):
                return i
        return None

    def load(self, track: Track, window_from_ms: int) -> None:
        """Fill the window from what the store holds from ``window_from_ms`` on."""
        self.window_from_ms = window_from_ms
        self.fixes, self.received = Columns(_DTYPES, max(64, len(track))), Columns({"received_ms": np.int64})
        ids = self.device_ids
        remap = np.array([ids.index(d) if d in ids else 0 for d in track.device_ids], dtype=np.int16)
        self.fixes.append(ts_ms=track.ts_ms, x=track.x, y=track.y, accuracy_m=track.accuracy_m,
                          battery_pct=track.battery_pct, tamper=track.tamper,
                          device=remap[track.device] if len(track) else np.zeros(0, np.int16))
        self.received.append(received_ms=track.received_ms)
        self._note(track.ts_ms, track.received_ms, ~np.isnan(track.x))

    def add(self, rows: dict[str, np.ndarray]) -> None:
        """Append newly stored reports (columns as the writer has them, already this subject's)."""
        ts, rx = rows["ts_ms"], rows["received_ms"]
        ids = self.device_ids
        dev = np.array([ids.index(d) for d in rows["device_id"]], dtype=np.int16)
        if self.window_from_ms is not None:
            keep = ts >= self.window_from_ms
            self.fixes.append(ts_ms=ts[keep], x=rows["x"][keep], y=rows["y"][keep],
                              accuracy_m=rows["accuracy_m"][keep].astype(np.float64),
                              battery_pct=rows["battery_pct"][keep].astype(np.float64),
                              tamper=rows["strap"][keep] == "tamper", device=dev[keep])
            self.received.append(received_ms=rx[rx >= self.window_from_ms])
        self._note(ts, rx, ~np.isnan(rows["x"].astype(np.float64)))

    def _note(self, ts: np.ndarray, rx: np.ndarray, positioned: np.ndarray) -> None:
        def later(old: int | None, new: int) -> int:
            return new if old is None else max(old, new)
        if len(rx):
            self.last_received_ms = later(self.last_received_ms, int(rx.max()))
        if len(ts):
            self.last_ts_ms = later(self.last_ts_ms, int(ts.max()))
        if positioned.any():
            self.last_position_ms = later(self.last_position_ms, int(ts[positioned].max()))

    def mark_dirty(self, from_ms: int) -> None:
        from_ms = int(from_ms)
        self.dirty_from_ms = from_ms if self.dirty_from_ms is None else min(self.dirty_from_ms, from_ms)

    def load_track(self, subject_id: str, from_ms: int | None = None, to_ms: int | None = None) -> Track:
        """``Store.load_track`` over the window (a :class:`~tagwatch.services.evaluation.TrackSource`)."""
        if self.window_from_ms is None or from_ms is None or from_ms < self.window_from_ms:
            raise OutsideWindow(subject_id)
        f = self.fixes
        ts = f["ts_ms"]
        keep = ts >= from_ms
        if to_ms is not None:
            keep &= ts < to_ms
        rx = self.received["received_ms"]
        rx = rx[(rx >= from_ms) & ((rx < to_ms) if to_ms is not None else True)]
        # The store reads one assignment after another; ordering by (device, time) first and
        # then sorting stably by time gives ties the same order as that read.
        sel = np.flatnonzero(keep)
        sel = sel[np.lexsort((ts[sel], f["device"][sel]))]
        return Track.from_columns(ts[sel], f["x"][sel], f["y"][sel], f["accuracy_m"][sel], f["battery_pct"][sel],
                                  f["tamper"][sel], f["device"][sel].astype(np.int32), self.device_ids, rx)

    def trim(self, window_from_ms: int) -> None:
        """Forget what is older than the new window start."""
        if self.window_from_ms is None or window_from_ms <= self.window_from_ms:
            return
        self.window_from_ms = window_from_ms
        self.fixes.keep(self.fixes["ts_ms"] >= window_from_ms)
        self.received.keep(self.received["received_ms"] >= window_from_ms)

    @property
    def nbytes(self) -> int:
        return self.fixes.nbytes + self.received.nbytes
