"""Difference-in-differences: did crime change more in the pilot boroughs than elsewhere after the start?

Two-way fixed effects on a balanced panel (units x months): ``y = unit + month + effect * D``,
``D = 1`` for pilot units from the start month on. On a balanced panel the estimate equals
the classic difference of the before/after differences of group means. The interval:

- with at least :data:`MIN_CLUSTERS` units, the standard error is cluster-robust by unit (a
  borough's months are not independent), with t on (units - 1) degrees of freedom; computed
  by two-way demeaning (numpy, scipy's t) and checked against statsmodels;
- with fewer, cluster-robust errors are far too small (with two units they vanish), so each
  unit's months are collapsed to one after-minus-before difference and the two groups'
  differences are compared with a pooled-variance t interval on (units - 2) degrees of
  freedom (Bertrand, Duflo and Mullainathan 2004). It needs three units at least.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["DidResult", "difference_in_differences", "MIN_CLUSTERS"]

MIN_CLUSTERS = 10


@dataclass
class DidResult:
    effect: float  # change in y attributable to the pilot (units of y: e.g. crimes per 1,000 residents a month)
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float
    n_treated: int
    n_control: int
    n_pre: int
    n_post: int
    means: dict  # {"treated": (pre, post), "control": (pre, post)}
    effect_pct: float | None  # effect against the pilot's counterfactual post-period mean
    pre_trend: float | None  # extra monthly slope of the pilot units before the start (0 under parallel trends)
    pre_trend_ci: tuple[float, float] | None
    covariance: str

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _fit(y: np.ndarray, x: np.ndarray, alpha: float):
    """OLS of ``y`` on ``x`` with unit and period fixed effects, both units x periods and balanced.

    Two-way demeaning is exact on a balanced panel, so the fixed effects never form a
    matrix; the cluster-robust variance (by unit) takes statsmodels' small-sample
    correction, G/(G-1) * (N-1)/(N-K) with K counting the fixed effects
    (tests/test_areas_trends.py checks it against statsmodels' OLS with dummies).
    """
    from scipy import stats

    def demean(a):
        return a - a.mean(axis=1, keepdims=True) - a.mean(axis=0, keepdims=True) + a.mean()

    yt, xt = demean(y), demean(x)
    sxx = float(np.sum(xt * xt))
    if sxx == 0:
        raise ValueError("the pilot indicator does not vary once borough and month effects are removed")
    beta = float(np.sum(xt * yt) / sxx)
    e = yt - beta * xt
    g, t = y.shape
    n, k = y.size, g + t - 1 + 1
    score = np.sum(xt * e, axis=1)  # one sum per cluster (unit)
    var = (g / (g - 1)) * ((n - 1) / (n - k)) * float(np.sum(score ** 2)) / sxx ** 2
    se = var ** 0.5
    crit = float(stats.t.ppf(1 - alpha / 2, g - 1))
    p = float(2 * stats.t.sf(abs(beta / se), g - 1)) if se > 0 else 0.0
    return beta, se, beta - crit * se, beta + crit * se, p


def _collapsed(y: np.ndarray, treated: np.ndarray, post: np.ndarray, alpha: float):
    from scipy import stats
    d = y[:, post].mean(axis=1) - y[:, ~post].mean(axis=1)
    a, b = d[treated], d[~treated]
    df = d.size - 2
    if df < 1:
        raise ValueError("an interval needs at least three boroughs in all (pilot and comparison)")
    effect = float(a.mean() - b.mean())
    pooled = (np.sum((a - a.mean()) ** 2) + np.sum((b - b.mean()) ** 2)) / df
    se = float(np.sqrt(pooled * (1 / a.size + 1 / b.size)))
    crit = float(stats.t.ppf(1 - alpha / 2, df))
    p = float(2 * stats.t.sf(abs(effect / se), df)) if se > 0 else 0.0
    return effect, se, effect - crit * se, effect + crit * se, p


def difference_in_differences(y: np.ndarray, treated: Sequence[bool], post: Sequence[bool],
                              alpha: float = 0.05) -> DidResult:
    """``y``: units x periods (no missing values); ``treated`` per unit; ``post`` per period."""
    y = np.asarray(y, dtype=float)
    treated, post = np.asarray(treated, dtype=bool), np.asarray(post, dtype=bool)
    if y.shape != (treated.size, post.size):
        raise ValueError(f"y is {y.shape}; expected {treated.size} units x {post.size} periods")
    if np.isnan(y).any():
        raise ValueError("the panel has missing values: every unit needs every month")
    if not treated.any() or treated.all():
        raise ValueError("need both pilot and comparison units")
    if not post.any() or post.all():
        raise ValueError("the start must leave months both before and after it")
    if post.argmax() != post.size - post.sum():
        raise ValueError("the post-start months must be the last ones")
    if treated.size >= MIN_CLUSTERS:
        d = (treated[:, None] & post[None, :]).astype(float)
        effect, se, low, high, p = _fit(y, d, alpha)
        covariance = "cluster-robust by unit, t with units-1 df"
    else:
        effect, se, low, high, p = _collapsed(y, treated, post, alpha)
        covariance = (f"fewer than {MIN_CLUSTERS} units: each unit's after-minus-before difference, "
                      "pooled-variance t with units-2 df")
    means = {g: (float(y[m][:, ~post].mean()), float(y[m][:, post].mean()))
             for g, m in (("treated", treated), ("control", ~treated))}
    counterfactual = means["treated"][1] - effect
    pre_trend = pre_ci = None
    n_pre = int((~post).sum())
    if n_pre >= 3 and treated.size >= MIN_CLUSTERS:
        yp = y[:, ~post]
        slope = (treated[:, None] * np.arange(n_pre)[None, :]).astype(float)
        pre_trend, _, lo, hi, _ = _fit(yp, slope, alpha)
        pre_ci = (lo, hi)
    return DidResult(effect, se, low, high, p, alpha, int(treated.sum()), int((~treated).sum()), n_pre,
                     int(post.sum()), means, (100 * effect / counterfactual) if counterfactual else None,
                     pre_trend, pre_ci, covariance)
