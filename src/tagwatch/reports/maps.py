"""Offline maps of an exhibit as inline SVG, drawn in British National Grid metres.

No tiles and nothing fetched: the base layer is the London borough and LSOA boundaries
shipped with tagwatch (:mod:`tagwatch.reports.basemap`). Every map has a scale bar and a
grid-north arrow; the key is shared (:func:`key_items`). Pure string building.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from itertools import pairwise

from .basemap import Boundary
from .evidence import Exhibit, PackCrime, local_time

__all__ = ["Frame", "frame_around", "overview_map", "detail_map", "key_items", "STYLE"]

# One place for the look of every symbol, so the key always matches the maps.
STYLE = {
    "in_window": 'fill="#1f4e9c" stroke="#ffffff" stroke-width="1"',
    "context": 'fill="#ffffff" stroke="#6b7280" stroke-width="1.5"',
    "within": 'fill="#d97706" stroke="#ffffff" stroke-width="1"',
    # No fill: a person standing still stacks many circles, which must not turn into a solid disc.
    "accuracy": 'fill="none" stroke="#1f4e9c" stroke-opacity="0.4" stroke-width="0.8"',
    "path": 'fill="none" stroke="#1f4e9c" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"',
    "path_context": 'fill="none" stroke="#6b7280" stroke-width="1.5" stroke-linecap="round"',
    "gap": 'fill="none" stroke="#9ca3af" stroke-width="1.5" stroke-dasharray="2 5" stroke-linecap="round"',
    "radius": 'fill="#dc2626" fill-opacity="0.05" stroke="#dc2626" stroke-width="2" stroke-dasharray="9 5"',
    "radius_r": 'fill="none" stroke="#dc2626" stroke-width="1" stroke-dasharray="2 3"',
    "crime": 'fill="#dc2626" stroke="#ffffff" stroke-width="1.5"',
    "closest": 'fill="none" stroke="#111827" stroke-width="2.5"',
    "detail_box": 'fill="none" stroke="#111827" stroke-width="1.2" stroke-dasharray="5 3"',
    "borough": 'fill="none" stroke="#9ca3af" stroke-width="1.4"',
    "lsoa": 'fill="none" stroke="#e5e7eb" stroke-width="0.7"',
    "locator": 'fill="#f3f4f6" stroke="#9ca3af" stroke-width="0.6"',
}
FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'


@dataclass(frozen=True)
class Frame:
    """A map window: BNG metres [minx, maxx] x [miny, maxy] onto width x height SVG units."""

    minx: float
    miny: float
    maxx: float
    maxy: float
    width: float
    height: float

    @property
    def k(self) -> float:  # SVG units per metre (the same in x and y)
        return self.width / (self.maxx - self.minx)

    def px(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.minx) * self.k, (self.maxy - y) * self.k

    def contains(self, x: float, y: float) -> bool:
        return self.minx <= x <= self.maxx and self.miny <= y <= self.maxy


def frame_around(xs: Sequence[float], ys: Sequence[float], width: float, height: float, min_half_m: float,
                 pad: float = 0.08) -> Frame:
    """The smallest window of the given aspect holding the points (plus a margin), at least 2 x min_half_m wide."""
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    half_w = max((max(xs) - min(xs)) / 2 * (1 + 2 * pad), min_half_m)
    half_h = max((max(ys) - min(ys)) / 2 * (1 + 2 * pad), min_half_m * height / width)
    half_w = max(half_w, half_h * width / height)
    half_h = half_w * height / width
    return Frame(cx - half_w, cy - half_h, cx + half_w, cy + half_h, width, height)


def _f(v: float) -> str:
    return f"{v:.1f}"


def _circle(f: Frame, x: float, y: float, r_m: float, style: str, cls: str) -> str:
    sx, sy = f.px(x, y)
    return f'<circle class="{cls}" cx="{_f(sx)}" cy="{_f(sy)}" r="{_f(max(r_m * f.k, 0.5))}" {style}/>'


def _marker(f: Frame, x: float, y: float, style: str, cls: str, r: float = 5.5) -> str:
    sx, sy = f.px(x, y)
    return f'<circle class="{cls}" cx="{_f(sx)}" cy="{_f(sy)}" r="{r}" {style}/>'


def _crime_mark(f: Frame, c: PackCrime, size: float = 13) -> str:
    sx, sy = f.px(c.x, c.y)
    pts = " ".join(f"{_f(sx + size * math.sin(a * math.pi / 5) * (1 if a % 2 == 0 else 0.45))},"
                   f"{_f(sy - size * math.cos(a * math.pi / 5) * (1 if a % 2 == 0 else 0.45))}" for a in range(10))
    return f'<polygon class="crime" points="{pts}" {STYLE["crime"]}/>'


def _line(f: Frame, a: tuple[float, float], b: tuple[float, float], style: str, cls: str) -> str:
    (x1, y1), (x2, y2) = f.px(*a), f.px(*b)
    return f'<line class="{cls}" x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" {style}/>'


def _path(f: Frame, e: Exhibit) -> list[str]:
    """Segments between consecutive positions: joined (at most G apart) or an unjoined gap."""
    out, pos = [], e.positions
    for a, b in pairwise(pos):
        if b.joined:
            style, cls = (STYLE["path"], "segment") if (a.in_window and b.in_window) else (STYLE["path_context"], "segment")
        else:
            style, cls = STYLE["gap"], "gap"
        out.append(_line(f, (a.x, a.y), (b.x, b.y), style, cls))
    return out


def _boundaries(f: Frame, base: Iterable[Boundary]) -> list[str]:
    out, labels = [], []
    for b in base:
        d = " ".join("M" + " L".join(f"{_f(sx)},{_f(sy)}" for sx, sy in (f.px(x, y) for x, y in ring)) + "Z"
                     for ring in b.rings)
        out.append(f'<path class="{b.kind}" d="{d}" {STYLE[b.kind]}/>')
        if b.kind == "borough" and b.label_at and f.contains(*b.label_at):
            sx, sy = f.px(*b.label_at)
            labels.append(f'<text x="{_f(sx)}" y="{_f(sy)}" font-size="15" fill="#9ca3af" text-anchor="middle" '
                          f'letter-spacing="1" {FONT}>{escape(b.name.upper())}</text>')
    return out + labels


def _scale_bar(f: Frame) -> str:
    target = (f.maxx - f.minx) / 5
    step = 10 ** math.floor(math.log10(target))
    metres = max(m for m in (step, 2 * step, 5 * step) if m <= target)
    w = metres * f.k
    x0, y0 = 16, f.height - 18
    text = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    return (f'<g class="scale"><rect x="{x0 - 8}" y="{y0 - 26}" width="{_f(w + 16)}" height="36" fill="#ffffff" '
            f'fill-opacity="0.85"/><rect x="{x0}" y="{y0 - 4}" width="{_f(w / 2)}" height="6" fill="#111827"/>'
            f'<rect x="{_f(x0 + w / 2)}" y="{y0 - 4}" width="{_f(w / 2)}" height="6" fill="#ffffff" stroke="#111827"/>'
            f'<rect x="{x0}" y="{y0 - 4}" width="{_f(w)}" height="6" fill="none" stroke="#111827"/>'
            f'<text x="{x0}" y="{y0 - 10}" font-size="13" {FONT}>0</text>'
            f'<text x="{_f(x0 + w)}" y="{y0 - 10}" font-size="13" text-anchor="end" {FONT}>{text}</text></g>')


def _north_arrow(f: Frame) -> str:
    x, y = f.width - 34, 20
    return (f'<g class="north"><rect x="{x - 20}" y="{y - 8}" width="40" height="62" fill="#ffffff" fill-opacity="0.85"/>'
            f'<polygon points="{x},{y} {x + 9},{y + 30} {x},{y + 23} {x - 9},{y + 30}" fill="#111827"/>'
            f'<text x="{x}" y="{y + 48}" font-size="15" font-weight="bold" text-anchor="middle" {FONT}>N</text></g>')


def _labels(f: Frame, e: Exhibit, min_gap: float = 22.0, limit: int = 60) -> list[str]:
    """Position numbers beside their markers, skipping any that would crowd one already placed."""
    first = [p for p in e.positions if p.within_radius] + [p for p in e.positions if p.in_window and not p.within_radius]
    rest = [p for p in e.positions if not p.in_window]
    placed: list[tuple[float, float]] = []
    out = []
    for p in first + rest:
        if len(placed) >= limit or not f.contains(p.x, p.y):
            continue
        sx, sy = f.px(p.x, p.y)
        if any(math.hypot(sx - a, sy - b) < min_gap for a, b in placed):
            continue
        placed.append((sx, sy))
        out.append(_text(sx + 7, sy - 6, str(p.n), 13, "label"))
    return out


def _text(x: float, y: float, text: str, size: float, cls: str = "", anchor: str = "start") -> str:
    """Text with a white halo (a white copy drawn under it), legible over lines and circles."""
    attrs = f'x="{_f(x)}" y="{_f(y)}" font-size="{size:g}" text-anchor="{anchor}" {FONT}'
    return (f'<g class="{cls}"><text {attrs} fill="#ffffff" stroke="#ffffff" stroke-width="3.5" '
            f'stroke-linejoin="round">{escape(text)}</text><text {attrs} fill="#111827">{escape(text)}</text></g>')


def _locator(f: Frame, c: PackCrime, boroughs: Sequence[Boundary], w: float = 210, h: float = 160) -> str:
    """An inset of London's boroughs with the crime marked: where in London this is."""
    if not boroughs:
        return ""
    minx, miny = min(b.bounds[0] for b in boroughs), min(b.bounds[1] for b in boroughs)
    maxx, maxy = max(b.bounds[2] for b in boroughs), max(b.bounds[3] for b in boroughs)
    inset = frame_around([minx, maxx], [miny, maxy], w - 10, h - 10, 0, pad=0.02)
    ox, oy = f.width - w - 8, f.height - h - 8
    paths = "".join(
        f'<path d="{" ".join("M" + " L".join(f"{_f(sx)},{_f(sy)}" for sx, sy in (inset.px(x, y) for x, y in r)) + "Z" for r in b.rings)}" '
        f'{STYLE["locator"]}/>' for b in boroughs)
    cx, cy = inset.px(c.x, c.y)
    return (f'<g class="locator"><rect x="{_f(ox)}" y="{_f(oy)}" width="{w:g}" height="{h:g}" fill="#ffffff" '
            f'stroke="#6b7280"/><g transform="translate({_f(ox + 5)},{_f(oy + 5)})">{paths}'
            f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="5" fill="#dc2626" stroke="#ffffff" stroke-width="1.5"/></g>'
            f'<text x="{_f(ox + 6)}" y="{_f(oy + h - 6)}" font-size="11" fill="#4b5563" {FONT}>London</text></g>')


def _svg(f: Frame, name: str, body: list[str], title: str) -> str:
    clip = f"clip-{name}"
    return (f'<svg class="map {name}" viewBox="0 0 {f.width:g} {f.height:g}" '
            f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f'<defs><clipPath id="{clip}"><rect x="0" y="0" width="{f.width:g}" height="{f.height:g}"/></clipPath></defs>'
            f'<rect x="0" y="0" width="{f.width:g}" height="{f.height:g}" fill="#fbfbf8"/>'
            f'<g clip-path="url(#{clip})">{"".join(body)}</g>'
            f'<rect x="0.5" y="0.5" width="{f.width - 1:g}" height="{f.height - 1:g}" fill="none" stroke="#111827"/>'
            f"{_north_arrow(f)}{_scale_bar(f)}</svg>")


def overview_frame(e: Exhibit, c: PackCrime, width: float = 1000, height: float = 620) -> Frame:
    xs = [p.x for p in e.positions] + [c.x - e.effective_radius_m, c.x + e.effective_radius_m]
    ys = [p.y for p in e.positions] + [c.y - e.effective_radius_m, c.y + e.effective_radius_m]
    return frame_around(xs, ys, width, height, min_half_m=600)


def detail_frame(e: Exhibit, c: PackCrime, width: float = 1000, height: float = 760) -> Frame:
    r = e.effective_radius_m
    return frame_around([c.x - 1.6 * r, c.x + 1.6 * r], [c.y - 1.6 * r, c.y + 1.6 * r], width, height,
                        min_half_m=1.6 * r, pad=0)


def overview_map(e: Exhibit, c: PackCrime, base: Iterable[Boundary], f: Frame, detail: Frame,
                 locator: Sequence[Boundary] = ()) -> str:
    """The track around the crime on the borough and LSOA boundaries; the dashed box is the detailed map."""
    body = _boundaries(f, base) + _path(f, e)
    body.append(_circle(f, c.x, c.y, e.effective_radius_m, STYLE["radius"], "radius"))
    body.append(f'<rect class="detail-box" x="{_f(f.px(detail.minx, detail.maxy)[0])}" '
                f'y="{_f(f.px(detail.minx, detail.maxy)[1])}" width="{_f((detail.maxx - detail.minx) * f.k)}" '
                f'height="{_f((detail.maxy - detail.miny) * f.k)}" {STYLE["detail_box"]}/>')
    for p in e.positions:
        style = STYLE["within"] if p.within_radius else STYLE["in_window"] if p.in_window else STYLE["context"]
        body.append(_marker(f, p.x, p.y, style, "position", r=3.8))
    body.append(_crime_mark(f, c, 12))
    placed: list[tuple[float, float]] = []
    for p in (e.positions[:1] + e.positions[-1:]) if e.positions else ():
        sx, sy = f.px(p.x, p.y)
        if any(math.hypot(sx - a, sy - b) < 30 for a, b in placed):
            continue  # first and last in the same place: one label
        placed.append((sx, sy))
        body.append(_text(sx, sy + 22, f"{p.n}: {local_time(p.ts_ms, date=False)}", 13, "label", "middle"))
    body.append(_locator(f, c, locator))
    return _svg(f, f"overview-{e.label}", body, f"Exhibit {e.label}: overview map")


def detail_map(e: Exhibit, c: PackCrime, f: Frame) -> str:
    """The radius, every position with its accuracy circle and number, the path and the closest approach."""
    body = [_circle(f, c.x, c.y, e.effective_radius_m, STYLE["radius"], "radius")]
    if c.location_accuracy_m > 0:
        body.append(_circle(f, c.x, c.y, e.radius_m, STYLE["radius_r"], "radius-r"))
    body += [_circle(f, p.x, p.y, p.accuracy_m or 0.0, STYLE["accuracy"], "accuracy") for p in e.positions
             if p.accuracy_m is not None]
    body += _path(f, e)
    for p in e.positions:
        style = STYLE["within"] if p.within_radius else STYLE["in_window"] if p.in_window else STYLE["context"]
        body.append(_marker(f, p.x, p.y, style, "position"))
    body.append(_crime_mark(f, c))
    if e.closest_xy is not None:
        body.append(_marker(f, *e.closest_xy, STYLE["closest"], "closest", r=9))
    body += _labels(f, e)
    return _svg(f, f"detail-{e.label}", body, f"Exhibit {e.label}: detailed map")


def key_items(has_r_inner: bool) -> list[tuple[str, str]]:
    """(small inline SVG symbol, meaning) for the key under the maps."""
    def icon(inner: str) -> str:
        return f'<svg class="icon" viewBox="0 0 40 20" width="40" height="20">{inner}</svg>'
    items = [
        (icon(f'<polygon points="20,1 22.6,6.4 28.6,7.2 24.2,11.2 25.3,17.2 20,14.4 14.7,17.2 15.8,11.2 11.4,7.2 '
              f'17.4,6.4" {STYLE["crime"]}/>'), "reported crime location"),
        (icon(f'<circle cx="20" cy="10" r="8" {STYLE["radius"]}/>'),
         "effective radius (R + crime location accuracy) used by the match"),
        (icon(f'<circle cx="20" cy="10" r="4.5" {STYLE["within"]}/>'), "position in the window, within the radius"),
        (icon(f'<circle cx="20" cy="10" r="4.5" {STYLE["in_window"]}/>'), "position in the window (crime window ± B)"),
        (icon(f'<circle cx="20" cy="10" r="4.5" {STYLE["context"]}/>'), "position shortly before or after the window"),
        (icon(f'<circle cx="20" cy="10" r="8" {STYLE["accuracy"]}/>'),
         "accuracy circle: the tag's reported accuracy around each position (drawn to scale)"),
        (icon(f'<line x1="4" y1="10" x2="36" y2="10" {STYLE["path"]}/>'),
         "path: straight segment between positions at most G apart"),
        (icon(f'<line x1="4" y1="10" x2="36" y2="10" {STYLE["gap"]}/>'),
         "gap longer than G: not joined, whereabouts unknown"),
        (icon(f'<circle cx="20" cy="10" r="7" {STYLE["closest"]}/>'), "closest approach of the path"),
        (icon(f'<rect x="6" y="3" width="28" height="14" {STYLE["detail_box"]}/>'),
         "area of the detailed map (overview map only)"),
        (icon(f'<line x1="4" y1="10" x2="36" y2="10" {STYLE["borough"]}/>'), "borough boundary (ONS, OGL)"),
    ]
    if has_r_inner:
        items.insert(2, (icon(f'<circle cx="20" cy="10" r="6" {STYLE["radius_r"]}/>'), "radius R before the crime location accuracy"))
    return items
