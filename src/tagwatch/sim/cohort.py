"""A synthetic reoffending study: tagged people and a comparison pool, with a known effect of tagging.

The same covariates drive selection into tagging and reoffending, so a naive comparison is
biased and a matched one is not:

- age 18..60, male (85 %), previous offences (Poisson, more for the young), an OGRS-like risk
  score (0..100) from age and previous offences, an index offence;
- selection: ``logit P(tagged) = -2.2 + 0.25 prior - 0.04 (age - 35) + 0.02 (ogrs - 50)``: the
  tagged are younger, with more previous offences and higher scores;
- reoffending in the year: ``p0 = logistic(-1.0 + 0.15 prior - 0.03 (age - 35) + 0.01 (ogrs - 50))``;
  a tagged person reoffends with ``p0 + effect`` (clipped to 0..1): the true effect on the rate is
  ``effect`` wherever no clipping happens (the seeds used keep clipping negligible);
- a reoffender commits 1 + Poisson(0.6 + 0.1 prior) offences on days 1..365, each proven by
  conviction (80 %) or caution 14..180 days later (always inside the waiting period); a third of
  people also offend after the year (days 366..700: not counted); previous offences lie in the five
  years before the start.

Files: ``cohort.csv`` (everyone, ``group`` = gps for the tagged) and ``offences.csv``
(docs/formats.md, schemas ``cohort`` and ``offences``).
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from ..reoffending.measure import Offence, Person

__all__ = ["simulate_cohort", "write_cohort", "COHORT_HEADER", "OFFENCE_HEADER"]

COHORT_HEADER = ("person_id", "group", "start_date", "age", "gender", "index_offence", "prior_offences", "ogrs")
OFFENCE_HEADER = ("person_id", "offence_date", "disposal_date", "disposal", "offence_type")
TYPES = ("violence", "theft", "burglary", "drugs", "robbery", "criminal damage")


def _logistic(z):
    return 1 / (1 + np.exp(-z))


def simulate_cohort(n_tagged: int, effect: float, seed: int = 1, pool_ratio: int = 10,
                    first_start: date = date(2023, 1, 1), span_days: int = 540) -> list[Person]:
    """``n_tagged`` tagged people and ``pool_ratio`` times as many comparison people."""
    rng = np.random.default_rng(seed)
    people: list[Person] = []
    want = {True: n_tagged, False: pool_ratio * n_tagged}
    got = {True: 0, False: 0}
    while got[True] < want[True] or got[False] < want[False]:
        age = int(rng.integers(18, 61))
        prior = int(rng.poisson(1.0 + 4.0 * (age < 30)))
        ogrs = float(np.clip(30 + 2.5 * prior - 0.5 * (age - 35) + rng.normal(0, 10), 1, 99))
        tagged = bool(rng.random() < _logistic(-2.2 + 0.25 * prior - 0.04 * (age - 35) + 0.02 * (ogrs - 50)))
        if got[tagged] >= want[tagged]:
            continue
        got[tagged] += 1
        start = first_start + timedelta(days=int(rng.integers(0, span_days)))
        p0 = float(_logistic(-1.0 + 0.15 * prior - 0.03 * (age - 35) + 0.01 * (ogrs - 50)))
        p = min(1.0, max(0.0, p0 + effect)) if tagged else p0
        pid = f"{'T' if tagged else 'C'}{got[tagged]:05d}"
        offences = [_offence(rng, start, -int(rng.integers(30, 5 * 365))) for _ in range(prior)]
        if rng.random() < p:
            k = 1 + int(rng.poisson(0.6 + 0.1 * prior))
            first = int(rng.integers(1, 366))
            offences += [_offence(rng, start, d) for d in [first, *rng.integers(first, 366, size=k - 1).tolist()]]
        if rng.random() < 1 / 3:
            offences.append(_offence(rng, start, int(rng.integers(366, 701))))
        people.append(Person(pid, start, tagged, {"age": age, "male": float(rng.random() < 0.85), "prior_offences":
                                                  prior, "ogrs": round(ogrs, 1),
                                                  "index_offence": TYPES[int(rng.integers(0, len(TYPES)))]}, offences))
    return people


def _offence(rng, start: date, day: int) -> Offence:
    on = start + timedelta(days=day)
    return Offence(on, on + timedelta(days=int(rng.integers(14, 181))),
                   "conviction" if rng.random() < 0.8 else "caution", TYPES[int(rng.integers(0, len(TYPES)))])


def write_cohort(out_dir: Path, people: list[Person], group: str = "gps") -> tuple[Path, Path]:
    """Write ``cohort.csv`` and ``offences.csv`` into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cohort, offences = out_dir / "cohort.csv", out_dir / "offences.csv"
    with open(cohort, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COHORT_HEADER)
        for p in people:
            c = p.covariates
            w.writerow([p.person_id, group if p.tagged else "comparison", p.start.isoformat(), c["age"],
                        "male" if c["male"] else "female", c["index_offence"], c["prior_offences"], c["ogrs"]])
    with open(offences, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(OFFENCE_HEADER)
        for p in people:
            for o in sorted(p.offences, key=lambda o: o.offence_date):
                w.writerow([p.person_id, o.offence_date.isoformat(), o.disposal_date.isoformat(), o.disposal,
                            o.offence_type])
    return cohort, offences
