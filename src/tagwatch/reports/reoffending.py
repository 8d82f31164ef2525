"""The reoffending report: rows of its tables, and the page as one self-contained HTML file (inline SVG).

Aggregates only: group sizes, rates, balance, effects and curves; never a person.
"""

from __future__ import annotations

from html import escape

from ..reoffending import FOLLOW_UP_DAYS, WAITING_DAYS, ReoffendingResult
from .areas_html import CSS

__all__ = ["MEASURES", "effect_rows", "summary_lines", "render_reoffending_html"]

MEASURES = {"rate": ("Proven reoffending rate", "share"),
            "frequency": ("Reoffences per person", "per person"),
            "days_to_first": ("Days to first reoffence (reoffenders)", "days")}


def _f(v, unit: str = "", diff: bool = False) -> str:
    if v is None:
        return ""
    if unit == "share":
        return f"{100 * v:+.1f} pp" if diff else f"{100 * v:.1f}%"
    if diff:
        return f"{v:+,.2f}"
    return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"


def effect_rows(res: ReoffendingResult) -> list[dict]:
    """One row per measure: tagged, matched comparison, difference with its interval and p-value, naive difference."""
    out = []
    for e in res.effects:
        label, unit = MEASURES[e.measure]
        out.append({"measure": label, "tagged": _f(e.tagged, unit), "comparison": _f(e.comparison, unit),
                    "difference": _f(e.difference, unit, True),
                    "95% CI": f"{_f(e.ci_low, unit, True)} to {_f(e.ci_high, unit, True)}",
                    "p": f"{e.p_value:.3f}", "naive difference": _f(e.naive_difference, unit, True),
                    "naive 95% CI": f"{_f(e.naive_ci_low, unit, True)} to {_f(e.naive_ci_high, unit, True)}"})
    return out


def summary_lines(res: ReoffendingResult) -> list[str]:
    lines = [f"{res.n_tagged} tagged and {res.n_pool} comparison people with a full follow-up "
             f"({FOLLOW_UP_DAYS} days + {WAITING_DAYS}-day waiting period); {res.n_not_measurable} not yet measurable.",
             f"Matching: 1:1 nearest neighbour on the logit of the propensity score, caliper "
             f"{res.thresholds['caliper_sd_of_logit']} SD, {'with' if res.replace else 'without'} replacement: "
             f"{res.n_matched} tagged matched to {res.n_controls_used} comparison people, {res.n_unmatched} unmatched."]
    if res.refused:
        lines.append(f"REFUSED: {res.refused}. Thresholds: at least {res.thresholds['min_cohort']} tagged, "
                     f"|SMD| after matching at most {res.thresholds['max_abs_smd_after']}.")
    lines += [f"warning: {w}" for w in res.warnings]
    if res.e_value is not None:
        lines.append(f"Sensitivity: an unmeasured confounder would need a risk ratio of {res.e_value:.2f} with both "
                     f"tagging and reoffending to explain the rate's difference away ({res.e_value_ci:.2f} to move its "
                     "interval to include no effect; E-value, VanderWeele and Ding 2017).")
    return lines


def _table(rows: list[dict]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{escape(k)}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in r.values()) + "</tr>" for r in rows)
    return f"<div class=\"wide\"><table><tr>{head}</tr>{body}</table></div>"


def render_reoffending_html(res: ReoffendingResult, title: str = "Proven reoffending: tagged against a matched "
                            "comparison group") -> str:
    from .plots import balance_plot, step_plot
    out = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
           f"<style>{CSS}</style></head><body><h1>{escape(title)}</h1>",
           *(f"<p>{escape(line)}</p>" for line in summary_lines(res)),
           "<p class=\"note\">Definition (Ministry of Justice, Justice Data Lab) and limits: docs/analytics.md "
           "(Proven reoffending). Aggregates only.</p>"]
    if res.effects:
        out += ["<h2>Effect of tagging</h2>", _table(effect_rows(res))]
    if res.balance:
        out += ["<h2>Balance</h2>", _table([{"covariate": b["covariate"], "SMD before": f"{b['smd_before']:+.3f}",
                                             "SMD after": f"{b['smd_after']:+.3f}"} for b in res.balance]),
                "<figure>" + balance_plot([b["covariate"] for b in res.balance], [b["smd_before"] for b in res.balance],
                                          [b["smd_after"] for b in res.balance],
                                          [res.thresholds["warn_abs_smd_after"], res.thresholds["max_abs_smd_after"]])
                + "</figure>"]
    if res.km:
        out += ["<h2>Time to first proven reoffence</h2>", "<figure>" + step_plot(
            {g: (c["t"], c["s"]) for g, c in res.km.items()}, "Kaplan-Meier: share not yet reoffended",
            "days since the start", "share", FOLLOW_UP_DAYS) + "</figure>"]
    out.append("</body></html>")
    return "\n".join(out)
