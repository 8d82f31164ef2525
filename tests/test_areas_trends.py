"""Trends, forecasts and the difference-in-differences on synthetic series with known answers."""

import numpy as np
import pytest

from tagwatch.areas.did import difference_in_differences
from tagwatch.areas.trends import change_against_baseline, forecast, month_range

MONTHS = month_range("2016-01", "2018-12")  # 36


def panel(effect: float, seed: int, units: int = 20, pilots: int = 5, start: int = 24, noise: float = 2.0):
    """Borough x month rates: borough level + shared month shocks + season + noise; ``effect`` from ``start`` on."""
    rng = np.random.default_rng(seed)
    t = np.arange(len(MONTHS))
    y = (rng.normal(30, 8, units)[:, None] + rng.normal(0, 3, t.size)[None, :]
         + 4 * np.sin(2 * np.pi * t / 12)[None, :] + rng.normal(0, noise, (units, t.size)))
    treated = np.arange(units) < pilots
    post = t >= start
    y[np.ix_(treated, post)] += effect
    return y, treated, post


def test_a_known_effect_is_recovered_within_its_interval():
    y, treated, post = panel(-5.0, seed=1)
    r = difference_in_differences(y, treated, post)
    assert r.ci_low < -5.0 < r.ci_high and r.ci_high < 0 and r.p_value < 0.001
    assert (r.n_treated, r.n_control, r.n_pre, r.n_post) == (5, 15, 24, 12)
    # On a balanced panel the regression equals the difference of the before/after differences of means.
    (tp, tq), (cp, cq) = r.means["treated"], r.means["control"]
    assert r.effect == pytest.approx((tq - tp) - (cq - cp))
    assert r.pre_trend_ci[0] < 0 < r.pre_trend_ci[1]  # parallel trends before the start


def test_no_effect_gives_an_interval_around_zero():
    y, treated, post = panel(0.0, seed=2)
    r = difference_in_differences(y, treated, post)
    assert r.ci_low < 0 < r.ci_high and r.p_value > 0.05


def test_the_interval_covers_the_truth_at_about_its_nominal_rate():
    hits = [difference_in_differences(*panel(-3.0, seed=s)) for s in range(100)]
    coverage = np.mean([h.ci_low < -3.0 < h.ci_high for h in hits])
    assert 0.88 <= coverage <= 1.0


def test_bad_panels_are_refused():
    y, treated, post = panel(0.0, seed=3)
    with pytest.raises(ValueError, match="both pilot and comparison"):
        difference_in_differences(y, np.ones(20, bool), post)
    with pytest.raises(ValueError, match="before and after"):
        difference_in_differences(y, treated, np.ones(36, bool))
    y[0, 0] = np.nan
    with pytest.raises(ValueError, match="missing"):
        difference_in_differences(y, treated, post)


def test_change_against_a_baseline_year_compares_the_same_months():
    months = ["2016-07", "2017-06", "2017-07", "2018-07"]
    out = change_against_baseline(months, np.array([100.0, 50.0, 90.0, 120.0]), 2016)
    assert out == [
        {"year": 2017, "baseline_year": 2016, "months": 1, "baseline": 100.0, "value": 90.0, "change": -10.0,
         "change_pct": -10.0},
        {"year": 2018, "baseline_year": 2016, "months": 1, "baseline": 100.0, "value": 120.0, "change": 20.0,
         "change_pct": 20.0}]


def test_a_forecast_has_intervals_that_hold_the_future():
    rng = np.random.default_rng(5)
    t = np.arange(48)
    y = 200 + 1.0 * t + 25 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 8, t.size)
    months = month_range("2015-01", "2018-12")
    f = forecast(months[:36], y[:36], horizon=12)
    assert f.months == months[36:] and "yearly cycle" in f.model
    assert np.all(f.lower <= f.mean) and np.all(f.mean <= f.upper) and np.all(f.upper - f.lower > 0)
    assert np.mean((y[36:] >= f.lower) & (y[36:] <= f.upper)) >= 0.8
    assert np.abs(f.mean - (200 + t[36:] + 25 * np.sin(2 * np.pi * t[36:] / 12))).mean() < 20


def test_a_forecast_needs_enough_contiguous_months():
    with pytest.raises(ValueError, match="at least 12"):
        forecast(["2016-07", "2017-07", "2018-07"], np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="contiguous"):
        forecast(month_range("2016-01", "2016-12")[:-1] + ["2017-06"], np.arange(12.0))


def test_the_estimate_and_its_standard_error_equal_statsmodels_ols_with_dummies():
    import statsmodels.api as sm
    y, treated, post = panel(-2.0, seed=9, units=12, pilots=3)
    r = difference_in_differences(y, treated, post)
    unit, period = np.indices(y.shape)
    x = np.column_stack([np.eye(12)[unit.ravel()], np.eye(36)[period.ravel()][:, 1:],
                         (treated[:, None] & post[None, :]).ravel().astype(float)])
    fit = sm.OLS(y.ravel(), x).fit(cov_type="cluster", cov_kwds={"groups": unit.ravel()}, use_t=True)
    assert (r.effect, r.se) == pytest.approx((fit.params[-1], fit.bse[-1]))
    assert (r.ci_low, r.ci_high) == pytest.approx(tuple(fit.conf_int()[-1]))
    assert r.p_value == pytest.approx(fit.pvalues[-1])


def test_west_yorkshire_series_change_and_effect_through_the_cli(west_yorkshire_db):
    import json

    from typer.testing import CliRunner

    from tagwatch.cli import app
    from tagwatch.services.areas import borough_series
    from tagwatch.store import open_store
    ser = borough_series(open_store(west_yorkshire_db))
    assert ser.months == ["2016-07", "2017-07", "2018-07"] and len(ser.boroughs) == 5
    assert ser.counts.shape == (5, 6, 3) and ser.population.sum() == pytest.approx(2_226_058)
    runner = CliRunner()
    out = runner.invoke(app, ["areas", "trends", "--format", "json", "--db", west_yorkshire_db])
    rows = json.loads(out.stdout)
    leeds = {(r["category"], r["year"]): r for r in rows if r["borough"] == "Leeds"}
    assert leeds[("Burglary", 2018)]["baseline_year"] == 2016 and leeds[("Burglary", 2018)]["months"] == 1
    out = runner.invoke(app, ["areas", "effect", "--pilot", "Leeds", "--start", "2018-01", "--format", "json",
                              "--db", west_yorkshire_db])
    r = json.loads(out.stdout)[0]
    assert (r["pilot_boroughs"], r["other_boroughs"], r["months_before"], r["months_from_start"]) == (1, 4, 2, 1)
    assert r["ci_low"] < r["effect_per_1000_per_month"] < r["ci_high"]
    out = runner.invoke(app, ["areas", "effect", "--pilot", "Lewisham", "--start", "2018-01", "--db", west_yorkshire_db])
    assert out.exit_code == 2 and "not in the area" in out.output


def test_with_few_boroughs_the_interval_comes_from_collapsed_differences_and_holds_its_level():
    hits = [difference_in_differences(*panel(-3.0, seed=s, units=6, pilots=2)) for s in range(200)]
    assert all("units-2 df" in h.covariance for h in hits)
    coverage = np.mean([h.ci_low < -3.0 < h.ci_high for h in hits])
    assert 0.9 <= coverage <= 0.99
    y, treated, post = panel(-3.0, seed=1, units=6, pilots=2)
    r = difference_in_differences(y, treated, post)
    (tp, tq), (cp, cq) = r.means["treated"], r.means["control"]
    assert r.effect == pytest.approx((tq - tp) - (cq - cp))  # the same estimate as the regression
    with pytest.raises(ValueError, match="at least three"):
        difference_in_differences(y[:2], np.array([True, False]), post)
