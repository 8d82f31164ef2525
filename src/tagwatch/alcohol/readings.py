"""A subject's alcohol readings as columns, ordered by time (the trajectory of the alcohol rules)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .settings import AlcoholSettings

__all__ = ["Readings"]


@dataclass(frozen=True)
class Readings:
    """Readings of one subject, sorted by ``ts_ms``; NaN where the tag sent no sensor value.

    ``device`` indexes ``device_ids`` (a subject can wear several tags in turn).
    """

    ts_ms: np.ndarray
    tac_g_dl: np.ndarray
    skin_temp_c: np.ndarray
    ir_distance_mm: np.ndarray
    tamper: np.ndarray
    received_ms: np.ndarray
    device: np.ndarray
    device_ids: tuple[str, ...] = ("",)

    @classmethod
    def from_columns(cls, ts_ms, tac_g_dl, skin_temp_c=None, ir_distance_mm=None, tamper=None, received_ms=None,
                     device=None, device_ids: tuple[str, ...] = ("",)) -> Readings:
        ts = np.asarray(ts_ms, dtype=np.int64)
        n = ts.size

        def floats(x):
            return np.full(n, np.nan) if x is None else np.asarray(x, dtype=np.float64)

        order = np.argsort(ts, kind="stable")
        return cls(ts[order], floats(tac_g_dl)[order], floats(skin_temp_c)[order], floats(ir_distance_mm)[order],
                   (np.zeros(n, bool) if tamper is None else np.asarray(tamper, dtype=bool))[order],
                   (ts.copy() if received_ms is None else np.asarray(received_ms, dtype=np.int64))[order],
                   (np.zeros(n, np.int32) if device is None else np.asarray(device, dtype=np.int32))[order],
                   tuple(device_ids))

    def __len__(self) -> int:
        return int(self.ts_ms.size)

    def take(self, mask_or_index) -> Readings:
        return Readings(self.ts_ms[mask_or_index], self.tac_g_dl[mask_or_index], self.skin_temp_c[mask_or_index],
                        self.ir_distance_mm[mask_or_index], self.tamper[mask_or_index],
                        self.received_ms[mask_or_index], self.device[mask_or_index], self.device_ids)

    def obstructed(self, s: AlcoholSettings) -> np.ndarray:
        """Readings whose skin temperature or infrared distance is out of range (NaN: not judged)."""
        with np.errstate(invalid="ignore"):
            temp = (self.skin_temp_c < s.skin_temp_min_c) | (self.skin_temp_c > s.skin_temp_max_c)
            ir = (self.ir_distance_mm < s.ir_distance_min_mm) | (self.ir_distance_mm > s.ir_distance_max_mm)
        return temp | ir

    def device_at(self, t_ms: int) -> str | None:
        if len(self) == 0:
            return None
        i = min(int(np.searchsorted(self.ts_ms, t_ms)), len(self) - 1)
        return self.device_ids[int(self.device[i])]
