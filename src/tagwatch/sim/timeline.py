"""Helpers on the minute grid of a simulated subject: times as text, runs, free slots."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

__all__ = ["to_iso", "from_iso", "rasterize", "free_slot", "free_slot_where", "runs"]


def from_iso(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def to_iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def rasterize(segs, ts):
    t0 = np.array([s.t0 for s in segs], dtype=np.int64)
    k = np.clip(np.searchsorted(t0, ts, side="right") - 1, 0, len(segs) - 1)
    a = np.array([s.a for s in segs]), np.array([s.b for s in segs])
    t1 = np.array([s.t1 for s in segs], dtype=np.int64)
    frac = np.clip((ts - t0[k]) / np.maximum(t1[k] - t0[k], 1), 0, 1)
    xy = a[0][k] + (a[1][k] - a[0][k]) * frac[:, None]
    indoor = np.array([s.indoor for s in segs])[k]
    return xy, indoor


def free_slot(busy: np.ndarray, rng, length: int, margin: int = 30) -> int | None:
    """A random start index where ``length`` minutes (plus margins) are not busy."""
    n = busy.size
    for _ in range(40):
        s = int(rng.integers(margin, max(margin + 1, n - length - margin)))
        if not busy[max(0, s - margin): s + length + margin].any():
            busy[s: s + length] = True
            return s
    return None


def runs(mask: np.ndarray, min_len: int) -> list[tuple[int, int]]:
    m = np.r_[False, mask, False].astype(np.int8)
    starts, ends = np.flatnonzero(np.diff(m) == 1), np.flatnonzero(np.diff(m) == -1)
    return [(int(s), int(e)) for s, e in zip(starts, ends, strict=True) if e - s >= min_len]


def free_slot_where(allowed: np.ndarray, busy: np.ndarray, rng, length: int, margin: int = 10) -> int | None:
    """A random start among ``allowed`` minutes where ``length`` minutes (plus margins) are free.

    For noise that only makes sense in some places (near a zone): drawing blindly and
    retrying would almost never hit them.
    """
    blocked = np.convolve(busy.astype(np.int32), np.ones(2 * margin + 1, dtype=np.int32), "same") > 0
    ok = allowed & ~blocked
    for j in range(1, length):  # every minute of the slot, not just its ends
        ok[:-j] &= ok[j:]
        ok[-j:] = False
    starts = np.flatnonzero(ok)
    if starts.size == 0:
        return None
    s = int(rng.choice(starts))
    busy[s: s + length] = True
    return s
