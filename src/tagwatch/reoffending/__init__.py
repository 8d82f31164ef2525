"""Proven reoffending against a matched comparison group (the Ministry of Justice's Justice Data Lab method).

The pure core: people and their proven offences in, the measures, the matched comparison and the
effects out; no store, no clock. statsmodels is imported only inside the propensity model.
Definitions and their source: docs/analytics.md (Proven reoffending).

- :mod:`.measure`: the proven reoffending measure (12 months + 6-month waiting period), Kaplan-Meier;
- :mod:`.match`: propensity score, nearest-neighbour matching with a caliper, standardised mean differences;
- :mod:`.effect`: the effect on each measure with its interval, the refusals, the E-value.
"""

from .effect import MIN_COHORT, MAX_SMD, WARN_SMD, Effect, ReoffendingResult, compare, e_value
from .match import Matching, covariate_matrix, nearest_neighbour, propensity, smd
from .measure import FOLLOW_UP_DAYS, WAITING_DAYS, Offence, Outcome, Person, kaplan_meier, measurable, measure

__all__ = ["FOLLOW_UP_DAYS", "WAITING_DAYS", "Offence", "Outcome", "Person", "measure", "measurable", "kaplan_meier",
           "Matching", "covariate_matrix", "propensity", "nearest_neighbour", "smd",
           "MIN_COHORT", "MAX_SMD", "WARN_SMD", "Effect", "ReoffendingResult", "compare", "e_value"]
