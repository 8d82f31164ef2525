"""Monthly crime series: change against a baseline year, and a forecast with prediction intervals.

Pure functions over numpy arrays; statsmodels is imported only when a forecast is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Forecast", "month_range", "change_against_baseline", "forecast", "MIN_MONTHS"]

MIN_MONTHS = 12  # fewer contiguous months than this: no forecast
SEASONAL_MONTHS = 24  # from this many on, the model has a yearly seasonal component


def month_range(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` (YYYY-MM), inclusive."""
    y, m = map(int, first.split("-"))
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def change_against_baseline(months: Sequence[str], values: np.ndarray, baseline_year: int) -> list[dict]:
    """For each later year, the total over the calendar months it shares with the baseline year,
    against the baseline's total over the same months (so part-years compare like with like)."""
    by_year: dict[int, dict[int, float]] = {}
    for mo, v in zip(months, values, strict=True):
        if not np.isnan(v):
            by_year.setdefault(int(mo[:4]), {})[int(mo[5:])] = float(v)
    base = by_year.get(baseline_year, {})
    out = []
    for year in sorted(y for y in by_year if y > baseline_year):
        shared = sorted(set(base) & set(by_year[year]))
        b = sum(base[m] for m in shared)
        c = sum(by_year[year][m] for m in shared)
        out.append({"year": year, "baseline_year": baseline_year, "months": len(shared), "baseline": b, "value": c,
                    "change": c - b, "change_pct": (100 * (c - b) / b) if b else None})
    return out


@dataclass
class Forecast:
    months: list[str]  # the months forecast
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    alpha: float
    model: str


def forecast(months: Sequence[str], values: np.ndarray, horizon: int = 12, alpha: float = 0.05) -> Forecast:
    """Forecast a monthly count series ``horizon`` months ahead with (1 - alpha) prediction intervals.

    A structural time-series model (statsmodels UnobservedComponents): a local linear trend,
    plus a yearly seasonal cycle (two harmonics) once there are two years of data. Counts
    cannot be negative, so intervals are clipped at zero. Raises ValueError when the months
    are not contiguous or are too few.
    """
    months = list(months)
    y = np.asarray(values, dtype=float)
    if len(months) < MIN_MONTHS:
        raise ValueError(f"a forecast needs at least {MIN_MONTHS} contiguous months; there are {len(months)}")
    if months != month_range(months[0], months[-1]):
        raise ValueError("a forecast needs contiguous months; some months between "
                         f"{months[0]} and {months[-1]} are missing")
    if np.isnan(y).any():
        raise ValueError("a forecast needs a value for every month")
    import warnings

    from statsmodels.tsa.statespace.structural import UnobservedComponents
    seasonal = len(y) >= SEASONAL_MONTHS
    kwargs = {"freq_seasonal": [{"period": 12, "harmonics": 2}]} if seasonal else {}
    model = UnobservedComponents(y, level="local linear trend", **kwargs)
    with warnings.catch_warnings():
        # Convergence chatter on short or flat series; the fit is still usable and its intervals honest.
        warnings.simplefilter("ignore")
        fit = model.fit(disp=False, maxiter=200)
    pred = fit.get_forecast(horizon)
    mean = np.asarray(pred.predicted_mean)
    ci = np.asarray(pred.conf_int(alpha=alpha))
    y, m = map(int, months[-1].split("-"))
    last = y * 12 + m - 1 + horizon  # months since year 0: the last month forecast
    future = month_range(months[-1], f"{last // 12:04d}-{last % 12 + 1:02d}")[1:]
    return Forecast(future, np.clip(mean, 0, None), np.clip(ci[:, 0], 0, None), np.clip(ci[:, 1], 0, None), alpha,
                    "local linear trend" + (" + yearly cycle" if seasonal else ""))
