"""Propensity score, nearest-neighbour matching with a caliper, and balance (standardised mean differences).

- **Covariates** (:func:`covariate_matrix`): age, male, previous offences, the risk score (OGRS)
  with a missing-value indicator where some lack one, and the index offence as indicator columns
  (categories held by at least :data:`MIN_CATEGORY` people in each group; the rest pooled as the
  reference).
- **Propensity**: the probability of being tagged given the covariates, by logistic regression
  (statsmodels ``Logit``, imported here only).
- **Matching** (:func:`nearest_neighbour`): each tagged person, in order of descending propensity,
  takes the comparison person nearest on the logit of the propensity, if within the caliper
  (:data:`CALIPER_SD` standard deviations of that logit, Austin 2011); tagged people with none
  in reach are left unmatched (and counted). Without replacement a comparison person is used
  once; with replacement they may be reused and are weighted by how often.
- **Balance** (:func:`smd`): ``(mean tagged - mean comparison) / sqrt((var tagged + var comparison) / 2)``,
  with the variances of the whole groups before matching, so before and after share a scale.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .measure import Person

__all__ = ["CALIPER_SD", "MIN_CATEGORY", "Matching", "covariate_matrix", "propensity", "nearest_neighbour", "smd"]

CALIPER_SD = 0.2
MIN_CATEGORY = 5
NUMERIC = ("age", "male", "prior_offences", "ogrs")


def covariate_matrix(people: Sequence[Person]) -> tuple[np.ndarray, list[str]]:
    """The people's covariates as a float matrix (one row per person) and the columns' names."""
    cols: dict[str, list[float]] = {}
    for name in NUMERIC:
        vals = [p.covariates.get(name) for p in people]
        present = [float(v) for v in vals if v is not None]
        if not present:
            continue
        mean = float(np.mean(present))
        cols[name] = [mean if v is None else float(v) for v in vals]
        if len(present) < len(vals):
            cols[name + "_missing"] = [float(v is None) for v in vals]
    tagged = np.array([p.tagged for p in people])
    offences = [str(p.covariates.get("index_offence") or "") for p in people]
    counts_t = Counter(o for o, t in zip(offences, tagged) if t)
    counts_c = Counter(o for o, t in zip(offences, tagged) if not t)
    common = sorted(o for o in counts_t if o and counts_t[o] >= MIN_CATEGORY and counts_c[o] >= MIN_CATEGORY)
    for o in common[1:]:  # the first (and any rare one) is the reference
        cols[f"index_offence={o}"] = [float(x == o) for x in offences]
    names = list(cols)
    x = np.column_stack([cols[n] for n in names]) if names else np.zeros((len(people), 0))
    return x, names


def propensity(x: np.ndarray, tagged: np.ndarray) -> np.ndarray:
    """P(tagged | x) by logistic regression with an intercept. Raises ValueError when the model
    cannot be fitted (e.g. the covariates separate the groups perfectly: no one is comparable)."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning
    import warnings

    keep = x.std(axis=0) > 0  # constant columns carry nothing and make the design singular
    design = sm.add_constant(x[:, keep], has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        try:
            fit = sm.Logit(tagged.astype(float), design).fit(disp=0, maxiter=200)
        except (PerfectSeparationError, PerfectSeparationWarning, np.linalg.LinAlgError) as e:
            raise ValueError(f"the propensity model cannot be fitted ({e}): the groups do not overlap") from None
    return np.clip(fit.predict(design), 1e-9, 1 - 1e-9)


@dataclass
class Matching:
    treated: np.ndarray  # indices of the matched tagged people
    control_weights: dict[int, float]  # comparison index -> weight (times used)
    unmatched: int  # tagged people with no comparison within the caliper
    caliper: float  # on the logit of the propensity
    replace: bool


def nearest_neighbour(score: np.ndarray, tagged: np.ndarray, replace: bool = False,
                      caliper_sd: float = CALIPER_SD) -> Matching:
    """1:1 nearest-neighbour matching on the logit of ``score`` within a caliper."""
    logit = np.log(score / (1 - score))
    caliper = caliper_sd * float(np.std(logit, ddof=1)) if len(logit) > 1 else 0.0
    t_idx = np.flatnonzero(tagged)
    c_idx = np.flatnonzero(~tagged)
    order = t_idx[np.argsort(-score[t_idx], kind="stable")]
    available = np.ones(len(c_idx), dtype=bool)
    c_logit = logit[c_idx]
    treated, weights = [], Counter()
    for i in order:
        dist = np.abs(c_logit - logit[i])
        if not replace:
            dist = np.where(available, dist, np.inf)
        j = int(np.argmin(dist)) if len(dist) else -1
        if j < 0 or not dist[j] <= caliper:
            continue
        treated.append(int(i))
        weights[int(c_idx[j])] += 1.0
        if not replace:
            available[j] = False
    return Matching(np.array(treated, dtype=int), dict(weights), len(t_idx) - len(treated), caliper, replace)


def _wmean_var(v: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    m = float(np.average(v, weights=w))
    return m, float(np.average((v - m) ** 2, weights=w))


def smd(x: np.ndarray, tagged: np.ndarray, matching: Matching | None = None) -> np.ndarray:
    """Each column's standardised mean difference, tagged minus comparison; after matching when given."""
    sd = np.sqrt((x[tagged].var(axis=0, ddof=1) + x[~tagged].var(axis=0, ddof=1)) / 2)
    if matching is None:
        diff = x[tagged].mean(axis=0) - x[~tagged].mean(axis=0)
    else:
        ci = np.array(list(matching.control_weights), dtype=int)
        cw = np.array(list(matching.control_weights.values()))
        diff = x[matching.treated].mean(axis=0) - np.array([_wmean_var(x[ci, k], cw)[0] for k in range(x.shape[1])])
    return np.divide(diff, sd, out=np.zeros_like(diff), where=sd > 0)
