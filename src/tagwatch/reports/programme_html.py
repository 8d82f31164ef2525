"""The programme report as one self-contained HTML file: a table and a plot for every series."""

from __future__ import annotations

from html import escape

from .areas_html import CSS
from .plots import bar_plot, line_plot
from .programme import ProgrammeReport

__all__ = ["render_programme_html", "format_value"]


def format_value(v, unit: str = "") -> str:
    if v is None:
        return ""
    if "share" in unit:
        return f"{100 * v:.1f}%"
    if isinstance(v, float) and not round(v, 6).is_integer():
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"
    return f"{v:,.0f}"


def render_programme_html(rep: ProgrammeReport, title: str = "Programme report") -> str:
    where = f" - {rep.borough}" if rep.borough else ""
    span = f"{rep.months[0]} to {rep.months[-1]}" if rep.months else "no months"
    out = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title + where)}</title>"
           f"<style>{CSS}</style></head><body><h1>{escape(title + where)}</h1>",
           f"<p>{escape(span)}, by calendar month (Europe/London). Definitions: docs/analytics.md (Programme report). "
           "Aggregates only.</p>"]
    for sec, series in rep.sections:
        out.append(f"<h2>{escape(sec.title)}</h2>")
        if not series:  # e.g. sobriety tags in a programme with none
            out.append("<p class=\"note\">Nothing to report: the data holds none of these.</p>")
            continue
        head = "".join(f"<th>{escape(m)}</th>" for m in rep.months)
        rows = "".join(f"<tr><td>{escape(s.label)}</td>"
                       + "".join(f"<td>{format_value(v, s.unit)}</td>" for v in s.values)
                       + f"<td>{format_value(s.total, s.unit)}</td></tr>" for s in series)
        out.append(f"<div class=\"wide\"><table><tr><th>series</th>{head}<th>whole period</th></tr>{rows}</table></div>")
        out.append("<div class=\"maps\">")
        for s in series:
            ys = [None if v is None else (100 * v if "share" in s.unit else v) for v in s.values]
            unit = "%" if "share" in s.unit else s.unit
            if s.unit in ("minutes", "per person-day") or "share" in s.unit or len(rep.months) > 6:
                svg = line_plot(rep.months, {s.label: ys}, s.label, unit, size=(4.6, 2.2))
            else:
                svg = bar_plot(rep.months, {s.label: [v or 0 for v in ys]}, s.label, unit)
            out.append(f"<figure>{svg}</figure>")
        out.append("</div>")
    out.append("</body></html>")
    return "\n".join(out)
