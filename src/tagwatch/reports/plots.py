"""Static plots (matplotlib, Agg backend) returned as inline SVG text: no files, nothing fetched."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

__all__ = ["svg_of", "line_plot", "band_plot", "bar_plot", "balance_plot", "step_plot"]

plt.rcParams.update({"font.size": 9, "svg.fonttype": "none", "axes.spines.top": False, "axes.spines.right": False,
                     "svg.hashsalt": "tagwatch"})  # fixed salt: the same data gives the same SVG


def svg_of(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def line_plot(x: Sequence[str], series: Mapping[str, Sequence[float | None]], title: str, ylabel: str,
              vline: str | None = None, size=(7.0, 2.8)) -> str:
    fig, ax = plt.subplots(figsize=size)
    pos = range(len(x))
    for name, ys in series.items():
        ax.plot(pos, [float("nan") if v is None else v for v in ys], marker="o", markersize=3, label=name)
    if vline is not None and vline in x:
        ax.axvline(x.index(vline) - 0.5, color="#666", linestyle="--", linewidth=1)
    _months_axis(ax, x)
    ax.set_title(title, loc="left")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0, top=100 if ylabel == "%" else None)
    if len(series) > 1:
        ax.legend(fontsize=7, ncol=min(4, len(series)), frameon=False)
    return svg_of(fig)


def band_plot(x_hist: Sequence[str], y_hist: Sequence[float], x_fc: Sequence[str], mean: Sequence[float],
              lower: Sequence[float], upper: Sequence[float], title: str, ylabel: str, level: float) -> str:
    fig, ax = plt.subplots(figsize=(7.0, 2.8))
    n = len(x_hist)
    ax.plot(range(n), y_hist, color="#1f4e9c", marker="o", markersize=3, label="recorded")
    fx = range(n, n + len(x_fc))
    ax.plot(fx, mean, color="#d97706", label="forecast")
    ax.fill_between(fx, lower, upper, color="#d97706", alpha=0.25, label=f"{level:.0%} prediction interval")
    _months_axis(ax, [*x_hist, *x_fc])
    ax.set_title(title, loc="left")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, frameon=False)
    return svg_of(fig)


def bar_plot(x: Sequence[str], series: Mapping[str, Sequence[float]], title: str, ylabel: str,
             size=(4.6, 2.2)) -> str:
    fig, ax = plt.subplots(figsize=size)
    k = max(1, len(series))
    width = 0.8 / k
    top = 0.0
    for i, (name, ys) in enumerate(series.items()):
        ax.bar([p + i * width - 0.4 + width / 2 for p in range(len(x))], ys, width=width, label=name)
        top = max([top, *ys])
    ax.set_ylim(0, max(1.0, top) * 1.05)
    if all(float(v).is_integer() for ys in series.values() for v in ys):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _months_axis(ax, x)
    ax.set_title(title, loc="left")
    ax.set_ylabel(ylabel)
    if len(series) > 1:
        ax.legend(fontsize=7, ncol=min(4, len(series)), frameon=False)
    return svg_of(fig)


def _months_axis(ax, x: Sequence[str]) -> None:
    step = max(1, len(x) // 12)
    ax.set_xticks(range(0, len(x), step))
    ax.set_xticklabels([x[i] for i in range(0, len(x), step)], rotation=45, ha="right")
    ax.set_xlim(-0.5, len(x) - 0.5)


def balance_plot(names: Sequence[str], before: Sequence[float], after: Sequence[float], limits: Sequence[float],
                 title: str = "Balance: standardised mean differences") -> str:
    """A dot plot (Love plot): each covariate's SMD before and after matching, with the thresholds as lines."""
    fig, ax = plt.subplots(figsize=(6.0, 0.35 * len(names) + 1.2))
    pos = range(len(names))
    ax.scatter(before, pos, marker="o", facecolors="none", edgecolors="#999", label="before matching")
    ax.scatter(after, pos, marker="o", color="#1f4e9c", label="after matching")
    for v in limits:
        for sign in (-1, 1):
            ax.axvline(sign * v, color="#bd0026" if v == max(limits) else "#d97706", linestyle="--", linewidth=0.8)
    ax.axvline(0, color="#666", linewidth=0.8)
    ax.set_yticks(list(pos))
    ax.set_yticklabels(names)
    ax.invert_yaxis()
    ax.set_xlabel("standardised mean difference (tagged - comparison)")
    ax.set_title(title, loc="left")
    ax.legend(fontsize=7, frameon=False)
    return svg_of(fig)


def step_plot(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], title: str, xlabel: str,
              ylabel: str, xmax: float) -> str:
    """Step curves (e.g. Kaplan-Meier), each ``(t, s)`` starting at t = 0, held to ``xmax``."""
    fig, ax = plt.subplots(figsize=(6.0, 2.8))
    for name, (t, s) in curves.items():
        ax.step([*t, xmax], [*s, s[-1]], where="post", label=name)
    ax.set_xlim(0, xmax)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left")
    ax.legend(fontsize=7, frameon=False)
    return svg_of(fig)
