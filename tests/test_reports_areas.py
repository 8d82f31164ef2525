"""Static SVG choropleths and the self-contained area report (no tiles, nothing fetched)."""

import re

from typer.testing import CliRunner

from tagwatch.cli import app
from tagwatch.reports.svgmap import INDEX_BREAKS, NO_DATA, PALETTE, choropleth_svg, quantile_breaks


def square(lon, lat, d=0.01):
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d],
                                                [lon, lat]]]}


def test_a_choropleth_fills_each_area_by_its_class_and_names_it():
    geoms = {"A": square(-0.1, 51.5), "B": square(-0.09, 51.5), "C": square(-0.08, 51.5), "D": square(-0.07, 51.5)}
    svg = choropleth_svg(geoms, {"A": 40, "B": 120, "C": 250, "D": None}, "Index", INDEX_BREAKS,
                         labels={"A": "Alpha"})
    fills = dict(re.findall(r'fill="(#[0-9a-f]{6})"><title>([^:]+):', svg)[i][::-1] for i in range(4))
    assert fills == {"Alpha": PALETTE[0], "B": PALETTE[2], "C": PALETTE[4], "D": NO_DATA}
    assert svg.startswith("<svg") and "Alpha: 40" in svg and "over" in svg and "km</text>" in svg
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched


def test_rate_classes_give_zero_its_own_class():
    b = quantile_breaks([0, 0, 0, 1, 2, 3, 4, 5])
    assert b[0] < 1e-9 and len(b) == 4 and b[1:] == (2.0, 3.0, 4.0)
    assert quantile_breaks([0, 0]) == () and quantile_breaks([None]) == ()


def test_report_areas_html_on_west_yorkshire(west_yorkshire_db, lsoa_boundaries_file, tmp_path):
    out = tmp_path / "areas.html"
    res = CliRunner().invoke(app, ["report", "areas", "--format", "html", "--out", str(out), "--pilot", "Leeds",
                                   "--start", "2018-01", "--db", west_yorkshire_db])
    assert res.exit_code == 0, res.output
    html = out.read_text()
    # Two index maps and one rate map per neighbourhood series, the trend and effect plots.
    assert html.count("<svg") == 2 + 6 + 2
    assert html.count("<path d=") > 1388 * 7  # every LSOA on each of the seven LSOA maps
    assert "Leeds 111B (E01033010): 3,276" in html and "difference-in-differences from 2018-01" in html
    assert "No forecast: a forecast needs at least 12 contiguous months" in html
    assert "<script" not in html and not re.search(r'(src|href)="http', html)
    res = CliRunner().invoke(app, ["report", "areas", "--format", "json", "--db", west_yorkshire_db])
    assert res.exit_code == 0 and '"Leeds"' in res.stdout


def test_two_years_of_monthly_files_give_a_forecast_and_an_effect(tmp_path):
    """24 synthetic police.uk months for LSOAs of three boroughs: the report forecasts and estimates."""
    import csv

    import numpy as np

    from tagwatch.areas.policeuk import HEADER
    from tagwatch.areas.trends import month_range
    from tagwatch.data import london_lsoas
    feats = [f["properties"] for f in london_lsoas()["features"]]
    lsoas = [p for p in feats if p["borough"] in ("Lewisham", "Lambeth", "Southwark")][::20]
    rng = np.random.default_rng(0)
    files = []
    for k, month in enumerate(month_range("2016-01", "2017-12")):
        rows = []
        for p in lsoas:
            lam = 3 * (1 + 0.3 * np.sin(2 * np.pi * k / 12)) * (0.5 if p["borough"] == "Lewisham" and k >= 18 else 1)
            for _ in range(rng.poisson(lam)):
                rows.append(["", month, "Metropolitan Police Service", "Metropolitan Police Service", "-0.02", "51.45",
                             "On or near X", p["code"], p["name"], "Burglary", "", ""])
        path = tmp_path / f"{month}-metropolitan-street.csv"
        with open(path, "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows([HEADER, *rows])
        files.append(str(path))
    db = f"sqlite:///{tmp_path / 'two.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["areas", "import", *files, "--db", db]).exit_code == 0
    area = ["--la", "Lewisham", "--la", "Lambeth", "--la", "Southwark"]
    res = runner.invoke(app, ["report", "areas", *area, "--pilot", "Lewisham",
                              "--start", "2017-07", "--baseline", "2016", "--out", str(tmp_path / "r.html"), "--db", db])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "r.html").read_text()
    assert "Forecast (local linear trend + yearly cycle)" in html and "95% prediction interval" in html
    assert "Pilot boroughs: Lewisham (1) against 2 other borough(s); 18 months before, 6 from the start" in html
    eff = runner.invoke(app, ["areas", "effect", *area, "--pilot", "Lewisham",
                              "--start", "2017-07", "--format", "json", "--db", db])
    assert eff.exit_code == 0 and '"effect_per_1000_per_month": -' in eff.stdout  # crime halved in the pilot
