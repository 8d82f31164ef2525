"""Choropleth maps as static inline SVG, drawn from boundaries in British National Grid metres.

No tiles, nothing fetched: polygons come from the LSOA and borough boundaries
(:mod:`tagwatch.areas.boundaries`). Pure string building; each area carries a ``<title>``
(name and value) that a browser shows on hover, offline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

import numpy as np
import shapely
from shapely.geometry import shape

from ..geo import to_bng

__all__ = ["PALETTE", "INDEX_BREAKS", "quantile_breaks", "choropleth_svg"]

# ColorBrewer YlOrRd, five classes (light = low), and grey for no data.
PALETTE = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
NO_DATA = "#d9d9d9"
# The index's classes: 100 is the area's average, over 200 flagged.
INDEX_BREAKS = (50.0, 100.0, 150.0, 200.0)


ZERO = 1e-12  # a first break here gives zero its own class, labelled "none"


def quantile_breaks(values: Sequence[float], classes: int = 5) -> tuple[float, ...]:
    """Class breaks for rates: zero gets its own class, the positive values are split into quantiles
    (crime is sparse in small areas: quantiles of all values would mostly separate zeros)."""
    v = np.array([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    pos = v[v > 0]
    if pos.size == 0:
        return ()
    inner = np.quantile(pos, np.linspace(0, 1, classes)[1:-1])
    return (ZERO, *(float(b) for b in np.unique(inner)))


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else (f"{v:.1f}" if abs(v) >= 1 else f"{v:.2g}")


def choropleth_svg(geoms: Mapping[str, dict], values: Mapping[str, float | None], title: str,
                   breaks: Sequence[float] | None = None, labels: Mapping[str, str] | None = None,
                   unit: str = "", width: int = 640, outline: Mapping[str, dict] | None = None,
                   max_height: int | None = None) -> str:
    """An SVG map: each geometry (lon/lat GeoJSON) filled by its value's class; a legend and a km scale bar."""
    breaks = tuple(quantile_breaks(list(values.values())) if breaks is None else breaks)
    labels = labels or {}
    keys = sorted(geoms)
    shapes = [shapely.make_valid(shape(geoms[k])) for k in keys]
    shapes = shapely.transform(shapes, lambda xy: np.column_stack(to_bng(xy[:, 0], xy[:, 1])))
    extra = []
    if outline:
        extra = shapely.transform([shape(g) for g in outline.values()],
                                  lambda xy: np.column_stack(to_bng(xy[:, 0], xy[:, 1])))
    x0, y0, x1, y1 = shapely.total_bounds(np.array(list(shapes) + list(extra), dtype=object))
    map_w, legend_h, pad = width, 70, 8
    scale = (map_w - 2 * pad) / max(x1 - x0, 1.0)
    max_height = max_height or width  # a tall area is drawn narrower, not taller than it is wide
    scale = min(scale, (max_height - 2 * pad) / max(y1 - y0, 1.0))
    map_h = int((y1 - y0) * scale + 2 * pad)

    def path(geom) -> str:
        out = []
        for poly in getattr(geom, "geoms", [geom]):
            if poly.geom_type != "Polygon":
                continue
            for ring in (poly.exterior, *poly.interiors):
                c = np.asarray(ring.coords)
                px = (c[:, 0] - x0) * scale + pad
                py = (y1 - c[:, 1]) * scale + pad
                out.append("M" + "L".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True)) + "Z")
        return "".join(out)

    def colour(v) -> str:
        if v is None or not np.isfinite(v):
            return NO_DATA
        return PALETTE[min(int(np.searchsorted(breaks, v, side="right")), len(PALETTE) - 1)]

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{map_w}" height="{map_h + legend_h}" '
             f'viewBox="0 0 {map_w} {map_h + legend_h}" role="img" aria-label="{escape(title)}">',
             f'<title>{escape(title)}</title>', '<g stroke="#ffffff" stroke-width="0.3" fill-rule="evenodd">']
    for k, g in zip(keys, shapes, strict=True):
        v = values.get(k)
        label = f"{labels.get(k, k)}: {'no data' if v is None else _fmt(v)}{(' ' + unit) if unit and v is not None else ''}"
        parts.append(f'<path d="{path(g)}" fill="{colour(v)}"><title>{escape(label)}</title></path>')
    parts.append("</g>")
    if len(extra):
        parts.append('<g fill="none" stroke="#333333" stroke-width="1.2">'
                     + "".join(f'<path d="{path(g)}"/>' for g in extra) + "</g>")
    # Legend: one swatch per class.
    y = map_h + 10
    edges = [None, *breaks, None]
    for i in range(len(breaks) + 1):
        lo, hi = edges[i], edges[i + 1]
        if hi == ZERO:
            text = "none"
        else:
            lo = None if lo == ZERO else lo
            text = (f"under {_fmt(hi)}" if lo is None else f"{_fmt(lo)} and over" if hi is None
                    else f"{_fmt(lo)} to {_fmt(hi)}")
        x = pad + i * (map_w - 2 * pad) / max(5, len(breaks) + 1)
        parts.append(f'<rect x="{x:.0f}" y="{y}" width="16" height="12" fill="{PALETTE[min(i, 4)]}" stroke="#999"/>'
                     f'<text x="{x + 20:.0f}" y="{y + 10}" font-size="11" font-family="sans-serif">{escape(text)}</text>')
    parts.append(f'<rect x="{pad}" y="{y + 20}" width="16" height="12" fill="{NO_DATA}" stroke="#999"/>'
                 f'<text x="{pad + 20}" y="{y + 30}" font-size="11" font-family="sans-serif">no data</text>')
    # Scale bar: a round number of km near a fifth of the width.
    km = max(1, int(round((x1 - x0) / 5000)))
    bar = km * 1000 * scale
    bx, by = map_w - pad - bar, y + 40
    parts.append(f'<rect x="{bx:.1f}" y="{by}" width="{bar:.1f}" height="4" fill="#333"/>'
                 f'<text x="{bx:.1f}" y="{by + 16}" font-size="11" font-family="sans-serif">{km} km</text>')
    parts.append("</svg>")
    return "".join(parts)
