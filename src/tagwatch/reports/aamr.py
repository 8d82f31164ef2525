"""The AAMR compliance report as one self-contained HTML page.

Plots are drawn with matplotlib's Agg backend and embedded as base64 PNG: the page needs
nothing from the internet. Only this module imports matplotlib (the core never does).
"""

from __future__ import annotations

import base64
import html
import io
from datetime import UTC, datetime

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..alcohol import AamrReport, AlcoholSettings, SubjectVerdict  # noqa: E402
from ..model import AlertKind, iso  # noqa: E402

__all__ = ["render_html", "subject_plot_png", "DEFINITIONS"]

DEFINITIONS = {
    "orders_imposed": "orders with an alcohol-abstinence condition that started in the period",
    "average_order_length_days": "mean of those orders' length, start to (planned or early) end",
    "monitored_days": "Europe/London days (23, 24 or 25 hours) on which an alcohol condition was in force, "
                      "in the period and up to the horizon; a part day counts",
    "readings": "alcohol readings taken on monitored days",
    "compliant_days": "monitored days with no confirmed drinking event, obstruction, strap tamper or missed-readings gap",
    "compliant_day_rate": "compliant days / monitored days",
    "confirmed_drinking_events": "drinking events confirmed from the curve that started in the period",
    "orders_ended": "orders whose end is in the period, up to the horizon",
    "orders_completed_without_confirmed_event": "ended orders with no confirmed drinking event",
    "compliance_rate": "orders completed without a confirmed event / orders ended",
}

_INTEGRITY_COLOUR = {AlertKind.ALCOHOL_OBSTRUCTION: "#f0a030", AlertKind.ALCOHOL_TAMPER: "#c040c0",
                     AlertKind.ALCOHOL_NO_READINGS: "#9a9a9a"}


def _dt(ms) -> np.ndarray:
    return np.asarray(ms, dtype="datetime64[ms]")


def subject_plot_png(subject_id: str, verdict: SubjectVerdict, settings: AlcoholSettings, dpi: int = 72) -> bytes:
    """Readings (g/dL) over the orders: confirmed events shaded red, curves that did not
    confirm marked with a cross, obstruction, tamper and missed readings shaded (drawn at
    least 0.6 % of the plot wide, so a two-hour episode in a four-month order still shows)."""
    r = verdict.readings
    fig, ax = plt.subplots(figsize=(10, 2.0), dpi=dpi)
    fig.subplots_adjust(left=0.07, right=0.99, top=0.86, bottom=0.14)
    ax.plot(_dt(r.ts_ms), r.tac_g_dl, lw=0.7, color="#1f4e79", label="TAC readings")
    ax.axhline(settings.threshold_g_dl, color="#b00020", lw=0.6, ls="--", label=f"threshold {settings.threshold_g_dl:.3f}")
    lo = int(r.ts_ms[0]) if len(r) else 0
    hi = int(r.ts_ms[-1]) if len(r) else 1
    least = max(1, (hi - lo) * 6 // 1000)
    shown: set[AlertKind] = set()
    for e in verdict.episodes:
        end = e.end_ms if e.end_ms is not None else hi
        colour = "#d62728" if e.kind is AlertKind.ALCOHOL_DRINKING else _INTEGRITY_COLOUR[e.kind]
        ax.axvspan(_dt(e.start_ms), _dt(max(end, e.start_ms + least)), color=colour, alpha=0.3, lw=0)
        shown.add(e.kind)
    confirmed = [c for c in verdict.curves if c.confirmed]
    rejected = [c for c in verdict.curves if not c.confirmed]
    if confirmed:
        ax.plot(_dt([c.peak_ms for c in confirmed]), [c.peak_g_dl for c in confirmed], "v", color="#d62728", ms=6,
                label="confirmed drinking event")
    if rejected:
        ax.plot(_dt([c.peak_ms for c in rejected]), [c.peak_g_dl for c in rejected], "x", color="#555555", ms=5,
                label="not confirmed (spike or drift)")
    for kind, name in ((AlertKind.ALCOHOL_OBSTRUCTION, "obstruction"), (AlertKind.ALCOHOL_TAMPER, "strap tamper"),
                       (AlertKind.ALCOHOL_NO_READINGS, "missed readings")):
        if kind in shown:
            ax.fill_between([], [], color=_INTEGRITY_COLOUR[kind], alpha=0.3, label=name)
    for p in verdict.periods:
        ax.axvline(_dt(p.start_ms), color="#2ca02c", lw=0.8)
    ax.set_ylabel("g/dL")
    ax.set_ylim(0, max(0.05, float(np.nanmax(r.tac_g_dl)) if len(r) else 0.05) * 1.35)  # room for the key
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.margins(x=0.01)
    ax.legend(loc="upper right", fontsize=7, frameon=False, ncol=6)
    ax.set_title(subject_id, fontsize=9, loc="left")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def _weekly_plot_png(report: AamrReport, dpi: int = 72) -> bytes:
    days = [d for o in report.orders for d in o.days]
    fig, ax = plt.subplots(figsize=(10, 2.4), dpi=dpi)
    if days:
        first = min(d.date for d in days)
        weeks = np.array([(d.date - first).days // 7 for d in days])
        ok = np.array([d.compliant for d in days])
        n = weeks.max() + 1
        monitored = np.bincount(weeks, minlength=n)
        compliant = np.bincount(weeks, weights=ok, minlength=n)
        x = np.array([np.datetime64(first) + np.timedelta64(7 * k, "D") for k in range(n)])
        ax.bar(x, monitored, width=6, color="#c9d6e3", label="monitored days")
        ax.bar(x, compliant, width=6, color="#1f4e79", label="compliant days")
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.set_ylabel("days per week")
    fig.subplots_adjust(left=0.07, right=0.99, top=0.95, bottom=0.12)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def render_html(report: AamrReport, verdicts: dict[str, SubjectVerdict], settings: AlcoholSettings,
                generated_ms: int) -> str:
    s = report.summary()
    rows = "".join(f"<tr><th>{html.escape(k.replace('_', ' '))}</th><td>{'' if v is None else v}</td>"
                   f"<td class=def>{html.escape(DEFINITIONS.get(k, ''))}</td></tr>" for k, v in s.items())
    orders = "".join(
        f"<tr><td>{html.escape(o.order_id)}</td><td>{html.escape(o.subject_id)}</td><td>{iso(o.start_ms)}</td>"
        f"<td>{iso(o.end_ms) or ''}</td><td>{'ended' if o.ended else 'running'}</td><td>{o.monitored_days}</td>"
        f"<td>{o.readings}</td><td>{o.compliant_days}</td><td>{o.events}</td>"
        f"<td>{'' if o.peak_g_dl is None else f'{o.peak_g_dl:.3f}'}</td><td>{o.obstructions}</td><td>{o.tampers}</td>"
        f"<td>{o.gaps}</td></tr>" for o in report.orders)
    plots = "".join(f"<div class=plot>{_img(subject_plot_png(sid, verdicts[sid], settings), f'readings of {sid}')}</div>"
                    for sid in sorted({o.subject_id for o in report.orders if o.days}) if sid in verdicts)
    stamp = datetime.fromtimestamp(generated_ms / 1000, UTC).isoformat(timespec="seconds")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AAMR compliance report</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; max-width: 1100px; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; }}
td.def {{ color: #666; font-size: 0.85em; }}
.plot img {{ display: block; margin: 0.4em 0; }}
.key span {{ padding: 0 6px; margin-right: 8px; }}
</style></head><body>
<h1>Alcohol abstinence monitoring (AAMR) compliance</h1>
<p>Period {iso(report.from_ms)} to {iso(report.to_ms)}, as known at {iso(report.as_of_ms)}; generated {stamp}.
Drinking events are confirmed from the curve: peak at least {settings.threshold_g_dl:.3f} g/dL, rise
{settings.absorption_min_g_dl_h:g}-{settings.absorption_max_g_dl_h:g} g/dL/h, fall {settings.elimination_min_g_dl_h:g}-{settings.elimination_max_g_dl_h:g} g/dL/h,
at least {settings.min_readings} readings (docs/alcohol.md).</p>
<h2>Figures</h2><table>{rows}</table>
<h2>Monitored and compliant days per week</h2>{_img(_weekly_plot_png(report), "monitored and compliant days per week")}
<h2>Orders</h2>
<table><tr><th>order</th><th>subject</th><th>start</th><th>end</th><th>status</th><th>monitored days</th><th>readings</th>
<th>compliant days</th><th>confirmed events</th><th>highest peak g/dL</th><th>obstructions</th><th>tampers</th><th>missed-readings gaps</th></tr>
{orders}</table>
<h2>Readings and events per subject</h2>
<p class=key><span style="background:#f4b6b6">confirmed drinking event</span><span style="background:#f7d39a">obstruction</span>
<span style="background:#e4b3e4">strap tamper</span><span style="background:#d6d6d6">missed readings</span>
green line: order start; x: a curve that did not confirm (hand gel, drift)</p>
{plots}
</body></html>
"""
