"""The effect of tagging on each proven reoffending measure, against a matched comparison group.

:func:`compare` measures everyone, fits the propensity model, matches and reports, per measure
(the rate, the frequency, and the days to the first reoffence among reoffenders), the tagged
group's figure, the matched comparison's, their difference with a 95 % interval and a two-sided
p-value (normal approximation; a comparison person used k times counts k times in the mean and
the variance uses the effective size ``(sum w)^2 / sum w^2``), the naive (unmatched) difference
beside it, and the Kaplan-Meier curves of both groups.

It refuses, with a reason and without effects, when:

- fewer than :data:`MIN_COHORT` tagged people are measurable, or are matched (the Justice Data
  Lab's minimum cohort of 60);
- any covariate's standardised mean difference after matching is over :data:`MAX_SMD` in absolute
  value (0.25, Rubin 2001 and Stuart 2010's limit for poor balance); one over :data:`WARN_SMD` (0.1,
  the usual mark of good balance) is named in ``warnings`` but does not refuse (at 100 tagged, the
  sampling noise of an SMD alone is about 0.14);
- the propensity model cannot be fitted (the groups do not overlap).

Sensitivity: the E-value (VanderWeele and Ding 2017) of the rate's risk ratio, and of the
interval's limit nearest 1: the risk ratio an unmeasured confounder would need with both tagging
and reoffending to explain the effect (or its interval) away.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np

from .match import CALIPER_SD, Matching, covariate_matrix, nearest_neighbour, propensity, smd
from .measure import FOLLOW_UP_DAYS, Person, kaplan_meier, measurable, measure

__all__ = ["MIN_COHORT", "MAX_SMD", "WARN_SMD", "Effect", "ReoffendingResult", "compare", "e_value", "difference"]

MIN_COHORT = 60
MAX_SMD = 0.25
WARN_SMD = 0.1
Z95 = 1.959963984540054


@dataclass
class Effect:
    measure: str
    tagged: float | None
    comparison: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    naive_difference: float | None
    naive_ci_low: float | None
    naive_ci_high: float | None


@dataclass
class ReoffendingResult:
    n_tagged: int  # measurable tagged people
    n_pool: int  # measurable comparison people
    n_not_measurable: int  # follow-up plus waiting period not over by as_of
    n_matched: int = 0
    n_unmatched: int = 0
    n_controls_used: int = 0
    replace: bool = False
    caliper: float | None = None
    refused: str | None = None  # the reason, when no effect is reported
    warnings: list[str] = field(default_factory=list)
    balance: list[dict] = field(default_factory=list)  # covariate, smd_before, smd_after
    effects: list[Effect] = field(default_factory=list)
    km: dict = field(default_factory=dict)  # group -> {"t": [...], "s": [...]}
    e_value: float | None = None
    e_value_ci: float | None = None
    thresholds: dict = field(default_factory=lambda: {"min_cohort": MIN_COHORT, "max_abs_smd_after": MAX_SMD,
                                                      "warn_abs_smd_after": WARN_SMD,
                                                      "caliper_sd_of_logit": CALIPER_SD})

    def to_dict(self) -> dict:
        return asdict(self)


def _p_two_sided(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def difference(a: np.ndarray, b: np.ndarray, wb: np.ndarray | None = None) -> tuple[float, float, float, float]:
    """Mean of ``a`` minus (weighted) mean of ``b``: (difference, low, high, p-value)."""
    wb = np.ones(len(b)) if wb is None else wb
    ma, mb = float(a.mean()), float(np.average(b, weights=wb))
    va = float(a.var(ddof=1)) if len(a) > 1 else 0.0
    vb = float(np.average((b - mb) ** 2, weights=wb)) * (len(b) / max(1, len(b) - 1))
    n_eff = wb.sum() ** 2 / (wb ** 2).sum()
    se = math.sqrt(va / len(a) + vb / n_eff)
    d = ma - mb
    if se == 0:
        return d, d, d, 1.0 if d == 0 else 0.0
    return d, d - Z95 * se, d + Z95 * se, _p_two_sided(d / se)


def e_value(rr: float) -> float:
    """The E-value of a risk ratio: RR + sqrt(RR (RR - 1)), with RR < 1 inverted first."""
    if not rr > 0:
        return float("inf")
    rr = 1 / rr if rr < 1 else rr
    return rr + math.sqrt(rr * (rr - 1))


def _km(outcomes, weights=None) -> dict:
    t = [o.days_to_first if o.reoffended else FOLLOW_UP_DAYS for o in outcomes]
    t_, s_ = kaplan_meier(t, [o.reoffended for o in outcomes], weights)
    return {"t": t_.tolist(), "s": s_.tolist()}


def compare(people: Sequence[Person], as_of: date, replace: bool = False,
            caliper_sd: float = CALIPER_SD) -> ReoffendingResult:
    """The matched comparison of the tagged people with the comparison pool (see the module's docstring)."""
    ok = [p for p in people if measurable(p, as_of)]
    res = ReoffendingResult(sum(p.tagged for p in ok), sum(not p.tagged for p in ok), len(people) - len(ok),
                            replace=replace)
    if res.n_tagged < MIN_COHORT:
        res.refused = (f"{res.n_tagged} tagged people with a full follow-up: at least {MIN_COHORT} are needed "
                       "(the Justice Data Lab's minimum)")
        return res
    if res.n_pool < 1:
        res.refused = "no comparison people with a full follow-up"
        return res
    tagged = np.array([p.tagged for p in ok])
    x, names = covariate_matrix(ok)
    try:
        score = propensity(x, tagged)
    except ValueError as e:
        res.refused = str(e)
        return res
    m = nearest_neighbour(score, tagged, replace, caliper_sd)
    res.n_matched, res.n_unmatched, res.caliper = len(m.treated), m.unmatched, m.caliper
    res.n_controls_used = len(m.control_weights)
    before = smd(x, tagged)
    after = smd(x, tagged, m) if len(m.treated) else np.full(len(names), np.nan)
    res.balance = [{"covariate": n, "smd_before": float(b), "smd_after": float(a)}
                   for n, b, a in zip(names, before, after)]
    if res.n_matched < MIN_COHORT:
        res.refused = f"{res.n_matched} tagged people matched within the caliper: at least {MIN_COHORT} are needed"
        return res
    poor = [f"{r['covariate']} ({r['smd_after']:+.2f})" for r in res.balance if abs(r["smd_after"]) > MAX_SMD]
    if poor:
        res.refused = f"poor balance after matching: |SMD| over {MAX_SMD} for " + ", ".join(poor)
        return res
    res.warnings = [f"{r['covariate']}: |SMD| after matching {abs(r['smd_after']):.2f} is over {WARN_SMD}"
                    for r in res.balance if abs(r["smd_after"]) > WARN_SMD]
    _effects(res, ok, tagged, m)
    return res


def _effects(res: ReoffendingResult, ok: Sequence[Person], tagged: np.ndarray, m: Matching) -> None:
    out = [measure(p) for p in ok]
    ci = np.array(list(m.control_weights), dtype=int)
    cw = np.array(list(m.control_weights.values()), dtype=float)
    everyone_c = np.flatnonzero(~tagged)
    measures = {"rate": lambda o: float(o.reoffended), "frequency": lambda o: float(o.frequency)}
    for name, f in measures.items():
        v = np.array([f(o) for o in out])
        d = difference(v[m.treated], v[ci], cw)
        nd = difference(v[tagged], v[everyone_c])
        res.effects.append(Effect(name, float(v[m.treated].mean()), float(np.average(v[ci], weights=cw)), *d,
                                  nd[0], nd[1], nd[2]))
        if name == "rate":
            pt, pc = res.effects[-1].tagged, res.effects[-1].comparison
            if pc and pc > 0 and pt > 0:
                res.e_value = e_value(pt / pc)
                lo, hi = (pc + d[1]) / pc, (pc + d[2]) / pc
                res.e_value_ci = 1.0 if lo <= 1 <= hi else e_value(lo if lo > 1 else hi)
    days = np.array([o.days_to_first if o.reoffended else np.nan for o in out], dtype=float)
    t_re = [i for i in m.treated if not np.isnan(days[i])]
    c_re = [(i, w) for i, w in zip(ci, cw) if not np.isnan(days[i])]
    if len(t_re) > 1 and len(c_re) > 1:
        cd, cwr = days[[i for i, _ in c_re]], np.array([w for _, w in c_re])
        d = difference(days[t_re], cd, cwr)
        ta = days[tagged & ~np.isnan(days)]
        ca = days[~tagged & ~np.isnan(days)]
        nd = difference(ta, ca) if len(ta) > 1 and len(ca) > 1 else (None, None, None, None)
        res.effects.append(Effect("days_to_first", float(days[t_re].mean()), float(np.average(cd, weights=cwr)),
                                  *d, nd[0], nd[1], nd[2]))
    res.km = {"tagged": _km([out[i] for i in m.treated]), "comparison": _km([out[i] for i in ci], cw)}
