"""The proven reoffending measure, Kaplan-Meier, matching and the refusals (the pure core)."""

from datetime import date, timedelta

import numpy as np
import pytest

from tagwatch.reoffending import (MAX_SMD, MIN_COHORT, Offence, Person, compare, e_value, kaplan_meier, measure,
                                  nearest_neighbour)
from tagwatch.sim.cohort import simulate_cohort

START = date(2024, 1, 1)
AS_OF = date(2026, 6, 1)


def person(*offences: tuple[int, int, str]) -> Person:
    return Person("P1", START, True, {}, [Offence(START + timedelta(days=a), START + timedelta(days=b), d)
                                          for a, b, d in offences])


@pytest.mark.parametrize("offence_day,proven_day,disposal,counts", [
    (365, 365 + 183, "conviction", True),   # the last day of the year, proven on the waiting period's last day
    (365, 365 + 184, "conviction", False),  # proven a day too late
    (366, 400, "conviction", False),        # committed after the year
    (1, 1, "caution", True),                # the day after the start, cautioned the same day
    (0, 10, "conviction", False),           # on the start date: the index episode
    (100, 120, "acquitted", False),         # not proven
    (200, 150, "conviction", False),        # a disposal before the offence is not a proof of it
])
def test_the_12_plus_6_month_window_at_its_edges(offence_day, proven_day, disposal, counts):
    out = measure(person((offence_day, proven_day, disposal)))
    assert out.reoffended is counts
    assert out.frequency == int(counts)
    assert out.days_to_first == (offence_day if counts else None)


def test_frequency_counts_every_proven_reoffence_and_time_is_to_the_first():
    out = measure(person((40, 90, "conviction"), (12, 30, "caution"), (300, 500, "conviction"), (370, 380, "conviction")))
    assert (out.reoffended, out.frequency, out.days_to_first) == (True, 3, 12)


def test_kaplan_meier_against_a_hand_worked_example():
    # Six people: events at 2, 3, 3, 6; censored at 4 and 8.
    # t=2: 6 at risk, 1 event -> S = 5/6; t=3: 5 at risk, 2 events -> 5/6 * 3/5 = 1/2;
    # t=6: 2 at risk (6 and 8), 1 event -> 1/2 * 1/2 = 1/4.
    t, s = kaplan_meier([2, 3, 3, 4, 6, 8], [True, True, True, False, True, False])
    assert t.tolist() == [0, 2, 3, 6]
    assert s == pytest.approx([1, 5 / 6, 1 / 2, 1 / 4])


def test_kaplan_meier_weights_count_a_reused_control_as_many_people():
    t1, s1 = kaplan_meier([2, 5, 5], [True, False, False])
    t2, s2 = kaplan_meier([2, 5], [True, False], weights=[1, 2])
    assert t1.tolist() == t2.tolist() and s1 == pytest.approx(s2)


def test_matching_without_replacement_uses_each_comparison_person_once_and_keeps_the_caliper():
    score = np.array([0.9, 0.8, 0.5, 0.89, 0.79, 0.1])
    tagged = np.array([True, True, True, False, False, False])
    m = nearest_neighbour(score, tagged, replace=False)
    assert all(w == 1 for w in m.control_weights.values())
    assert sorted(m.control_weights) == [3, 4] and m.unmatched == 1  # 0.5 has no one in reach
    r = nearest_neighbour(score, tagged, replace=True)
    assert r.replace and sum(r.control_weights.values()) == len(r.treated)


def _rate(res):
    return next(e for e in res.effects if e.measure == "rate")


@pytest.mark.parametrize("replace", [False, True])
def test_matching_recovers_a_planted_effect_that_the_naive_difference_misses(replace):
    res = compare(simulate_cohort(1000, -0.1, seed=3), AS_OF, replace=replace)
    assert res.refused is None
    rate = _rate(res)
    assert rate.ci_low <= -0.1 <= rate.ci_high
    assert not rate.naive_ci_low <= -0.1 <= rate.naive_ci_high
    assert rate.naive_difference > 0  # the tagged are riskier: the naive comparison says tagging made it worse
    assert all(abs(b["smd_after"]) < abs(b["smd_before"]) for b in res.balance if abs(b["smd_before"]) > 0.5)
    assert {e.measure for e in res.effects} == {"rate", "frequency", "days_to_first"}
    assert res.km["tagged"]["s"][0] == 1 and res.km["tagged"]["s"][-1] == pytest.approx(1 - rate.tagged)
    assert res.e_value > 1 and res.e_value_ci > 1


def test_no_effect_gives_an_interval_covering_zero():
    res = compare(simulate_cohort(1000, 0.0, seed=3), AS_OF)
    rate = _rate(res)
    assert rate.ci_low <= 0 <= rate.ci_high and rate.p_value > 0.05
    assert res.e_value_ci == 1.0  # the interval crosses no effect: nothing to explain away


def test_refuses_a_cohort_below_the_minimum():
    people = simulate_cohort(MIN_COHORT - 1, -0.1, seed=2)
    res = compare(people, AS_OF)
    assert res.refused.startswith(f"{MIN_COHORT - 1} tagged people") and not res.effects
    # and people whose follow-up and waiting period have not ended are not measurable
    res = compare(simulate_cohort(200, 0.0, seed=2), date(2024, 6, 1))
    assert res.n_tagged == 0 and res.n_not_measurable == 200 * 11 and res.refused


def test_refuses_poor_balance_and_too_few_matched():
    # The comparison pool is the oldest of everyone: within the caliper few tagged find a match ...
    people = simulate_cohort(300, 0.0, seed=4)
    tagged = [p for p in people if p.tagged]
    pool = sorted((p for p in people if not p.tagged), key=lambda p: -p.covariates["age"])[:400]
    res = compare(tagged + pool, AS_OF)
    assert res.refused.endswith(f"matched within the caliper: at least {MIN_COHORT} are needed") and not res.effects
    # ... and without a caliper all are matched, to people unlike them.
    res = compare(tagged + pool, AS_OF, caliper_sd=float("inf"))
    assert res.n_matched == 300 and res.refused.startswith(f"poor balance after matching: |SMD| over {MAX_SMD}")
    assert "age" in res.refused and not res.effects
    assert any(b["covariate"] == "age" and abs(b["smd_after"]) > MAX_SMD for b in res.balance)


def test_e_value():
    assert e_value(1.0) == 1.0
    assert e_value(0.5) == pytest.approx(2 + np.sqrt(2))  # RR 0.5 -> 1/0.5 = 2 -> 2 + sqrt(2)
