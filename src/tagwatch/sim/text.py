"""Column-wise number and time formatting for the simulator's 2M-row CSV.

``numpy.char.mod`` and ``pyarrow.compute.strftime`` were two thirds of the simulator's
run time; integer arithmetic plus Arrow's string kernels do the same work several
times faster and give the exact text the format documents.
"""

from __future__ import annotations

from datetime import date
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["fixed_decimals", "iso_seconds"]

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def fixed_decimals(values: np.ndarray, digits: int) -> pa.Array:
    """Text with exactly ``digits`` decimals, as ``%.{digits}f`` writes it; NaN becomes "" and -0 becomes 0."""
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    product = np.where(missing, 0.0, values) * 10**digits
    scaled = np.rint(product).astype(np.int64)
    # An exact half after scaling may not be one in the double itself (12.35 is stored as
    # 12.3499...): let printf's exact rounding decide those rare cases.
    ties = np.flatnonzero(np.abs(product - np.trunc(product)) == 0.5)
    if ties.size:
        printed = np.char.mod(f"%.{digits}f", values[ties])
        scaled[ties] = [int(t.replace(".", "")) for t in printed.tolist()]
    magnitude = np.abs(scaled)
    whole = pc.cast(pa.array(magnitude // 10**digits), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(magnitude % 10**digits), pa.string()), width=digits, padding="0")
    sign = pc.if_else(pa.array(scaled < 0), "-", "")
    text = pc.binary_join_element_wise(sign, whole, ".", frac, "")
    return pc.if_else(pa.array(missing), "", text)


@cache
def _times_of_day() -> pa.Array:
    s = np.arange(86_400)
    h, m, sec = s // 3600, s // 60 % 60, s % 60
    return pa.array([f"T{a:02d}:{b:02d}:{c:02d}+00:00" for a, b, c in zip(h.tolist(), m.tolist(), sec.tolist(), strict=True)])


def iso_seconds(ms: np.ndarray) -> pa.Array:
    """ISO 8601 UTC text at second resolution (``2026-03-20T19:00:05+00:00``) of epoch ms.

    Dates and times of day are looked up (a few dozen days, 86,400 seconds) and joined.
    """
    seconds = np.asarray(ms, dtype=np.int64) // 1000
    day, second = np.divmod(seconds, 86_400)
    if day.size == 0:
        return pa.array([], pa.string())
    first = int(day.min())
    names = pa.array([date.fromordinal(_EPOCH_ORDINAL + d).isoformat() for d in range(first, int(day.max()) + 1)])
    return pc.binary_join_element_wise(names.take(pa.array(day - first)), _times_of_day().take(pa.array(second)), "")
