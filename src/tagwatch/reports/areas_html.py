"""``tagwatch report areas --format html``: maps of the community safety index and crime rates by
LSOA and borough, neighbourhood crime trends, a forecast and the pilot's effect, in one
self-contained HTML file (inline SVG; no script, no tiles, nothing fetched)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import numpy as np

from ..areas.did import DidResult
from ..areas.trends import Forecast, change_against_baseline
from .plots import band_plot, line_plot
from .svgmap import INDEX_BREAKS, choropleth_svg

__all__ = ["AreasReport", "render_areas_html", "CSS"]

CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}
th{background:#f3f4f6}td:first-child,th:first-child{text-align:left}.flag{color:#bd0026;font-weight:bold}
.maps{display:flex;flex-wrap:wrap;gap:1em}.maps figure{margin:0}figcaption{font-size:0.85em;color:#555}
.note{font-size:0.85em;color:#555}.wide{overflow-x:auto}"""


@dataclass
class AreasReport:
    title: str
    index: object  # services.areas.AreaIndex
    series: object  # services.areas.BoroughSeries
    lsoa_geoms: dict
    borough_geoms: dict
    baseline_year: int
    forecast: Forecast | None
    forecast_note: str
    effect: DidResult | None
    pilot: list[str]
    start: str | None


def _table(rows: list[dict], cols: list[str], flag_col: str | None = None) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    body = []
    for r in rows:
        cls = ' class="flag"' if flag_col and r.get(flag_col) else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{escape(_cell(r.get(c)))}</td>" for c in cols) + "</tr>")
    return f"<div class=\"wide\"><table><tr>{head}</tr>{''.join(body)}</table></div>"


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else ""
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) >= 10 else f"{v:.3g}"
    return str(v)


def render_areas_html(rep: AreasReport) -> str:
    ai, ser = rep.index, rep.series
    res = ai.result
    names = ai.names
    lsoa_labels = {c: f"{names.get(c, c)} ({c})" for c in rep.lsoa_geoms}
    out = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(rep.title)}</title>"
           f"<style>{CSS}</style></head><body><h1>{escape(rep.title)}</h1>",
           f"<p>{escape(', '.join(ai.forces))}; months {escape(', '.join(ai.months))}. {len(res.lsoas):,} LSOAs "
           f"in {len(res.groups)} boroughs, {ai.rows_used:,} crimes used; {ai.rows_unplaced:,} without a location "
           f"and {ai.rows_outside:,} in LSOAs outside the area left out."
           + (f" {len(ai.las_left_out)} boroughs with no imported row left out (the files do not cover them): "
              f"{escape(', '.join(ai.las_left_out))}." if ai.las_left_out else "")
           + " Populations: 2011 census. Method and limits: docs/analytics.md. Aggregates only: no individual's "
           "location is shown.</p>"]
    # -- the index -------------------------------------------------------------------------------------
    out.append("<h2>Community safety index</h2><p class=\"note\">Each variable is a rate per resident indexed to "
               "the whole area (100 = average); the index is their mean; over 200 is flagged. Variables: "
               f"{escape(', '.join(res.variables))}.</p><div class=\"maps\">")
    out.append(_figure(choropleth_svg(rep.lsoa_geoms, {r["code"]: r["index"] for r in res.lsoas},
                                      "Community safety index by LSOA", INDEX_BREAKS, lsoa_labels,
                                      outline=rep.borough_geoms), "Index by LSOA (borough outlines in black)"))
    out.append(_figure(choropleth_svg(rep.borough_geoms, {r["code"]: r["index"] for r in res.groups},
                                      "Community safety index by borough", INDEX_BREAKS, width=420),
                       "Index by borough"))
    out.append("</div>")
    top = res.top(10)
    for r in top:
        r["name"] = names.get(r["code"], r["code"])
    out.append("<h3>The ten highest LSOAs</h3>" + _table(top, ["code", "name", "group", "population", "index",
                                                               "flagged", *[v + "_index" for v in res.variables]],
                                                       "flagged"))
    out.append("<h3>Boroughs</h3>" + _table(res.top(len(res.groups), "group"),
                                            ["code", "lsoas", "population", "index", "flagged",
                                             *[v + "_index" for v in res.variables]], "flagged"))
    # -- crime rates by variable -------------------------------------------------------------------------
    months = max(1, len(ai.months))
    out.append(f"<h2>Crime rates by LSOA</h2><p class=\"note\">Crimes per 1,000 residents a month, averaged over "
               f"{months} month(s); classes are quintiles of the LSOAs.</p><div class=\"maps\">")
    for v in res.variables:
        rates = {r["code"]: None if r[v] is None else 1000 * r[v] / months for r in res.lsoas}
        out.append(_figure(choropleth_svg(rep.lsoa_geoms, rates, f"{v} per 1,000 residents a month", None,
                                          lsoa_labels, "per 1,000", width=480, outline=rep.borough_geoms),
                           v.replace("_", " ")))
    out.append("</div>")
    # -- trends ----------------------------------------------------------------------------------------------
    rate = ser.rate_per_1000()
    out.append("<h2>Neighbourhood crime by borough</h2>")
    out.append(line_plot(ser.months, {b: list(rate[i]) for i, b in enumerate(ser.boroughs)},
                         "Neighbourhood crime per 1,000 residents a month", "per 1,000", rep.start))
    rows = []
    total = ser.total()
    for i, b in enumerate(ser.boroughs):
        for ch in change_against_baseline(ser.months, total[i], rep.baseline_year):
            rows.append({"borough": b, **ch})
    out.append(f"<h3>Change against {rep.baseline_year} (the same calendar months)</h3>"
               + (_table(rows, ["borough", "year", "months", "baseline", "value", "change", "change_pct"]) if rows
                  else "<p class=\"note\">No later year shares months with the baseline.</p>"))
    out.append("<h3>Forecast of the area's neighbourhood crime</h3>")
    if rep.forecast is not None:
        f = rep.forecast
        out.append(band_plot(ser.months, list(total.sum(axis=0)), f.months, list(f.mean), list(f.lower),
                             list(f.upper), f"Forecast ({f.model})", "crimes a month", 1 - f.alpha))
    else:
        out.append(f"<p class=\"note\">{escape(rep.forecast_note)}</p>")
    # -- the pilot's effect ------------------------------------------------------------------------------------
    if rep.effect is not None:
        e = rep.effect
        treated = np.array([b in rep.pilot for b in ser.boroughs])
        out.append(f"<h2>The pilot's effect (difference-in-differences from {escape(rep.start or '')})</h2>")
        out.append(f"<p>Pilot boroughs: {escape(', '.join(rep.pilot))} ({e.n_treated}) against {e.n_control} other borough(s); "
                   f"{e.n_pre} months before, {e.n_post} from the start. Effect on neighbourhood crime per 1,000 "
                   f"residents a month: <b>{e.effect:+.3f}</b> ({1 - e.alpha:.0%} confidence interval "
                   f"{e.ci_low:+.3f} to {e.ci_high:+.3f}; p = {e.p_value:.3f}"
                   + (f"; {e.effect_pct:+.1f}% of the counterfactual" if e.effect_pct is not None else "")
                   + f"). Standard errors {escape(e.covariance)}.</p>")
        out.append(line_plot(ser.months, {"pilot boroughs": list(rate[treated].mean(axis=0)),
                                          "other boroughs": list(rate[~treated].mean(axis=0))},
                             "Mean neighbourhood crime per 1,000 residents a month", "per 1,000", rep.start))
    out.append("<p class=\"note\">Contains National Statistics data &copy; Crown copyright and database right "
               "2011-2019, and police.uk data; Open Government Licence v3.0.</p></body></html>")
    return "\n".join(out)


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"
