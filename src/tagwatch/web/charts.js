// Small SVG charts drawn in the browser from JSON (no library, nothing fetched): monthly lines and
// bars, and a forecast band. Text goes in with textContent only; each point has a <title> tooltip.
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf"];

  function s(tag, attrs, ...children) {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) el.setAttribute(k, v);
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  // A round step for about `n` ticks from 0 to `max`.
  function ticks(max, n = 4, integer = false) {
    if (!(max > 0)) return [0, 1];
    const raw = max / n, mag = 10 ** Math.floor(Math.log10(raw));
    let step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((v) => v >= raw);
    if (integer) step = Math.max(1, Math.round(step));
    const out = [];
    for (let v = 0; v <= max + step * 1e-9; v += step) out.push(+v.toFixed(10));
    if (out[out.length - 1] < max) out.push(+(out[out.length - 1] + step).toFixed(10));
    return out;
  }

  function num(v, unit) {
    if (v === null || v === undefined || Number.isNaN(v)) return "no data";
    if (unit === "%") return `${v.toFixed(1)}%`;
    if (Math.abs(v) >= 100 || Number.isInteger(v)) return Math.round(v).toLocaleString("en-GB");
    return Math.abs(v) >= 10 ? v.toFixed(1) : v.toPrecision(3);
  }

  // The frame every chart shares: title (with the unit), y axis with grid, month labels; returns
  // scales and the svg. Bars sit in one slot per month (o.slots); lines run edge to edge.
  function frame(months, yMax, o) {
    const W = o.width || 340, H = o.height || 190, L = 48, R = 10, T = o.legend ? 40 : 24, B = 44;
    const ys = ticks(o.percent ? 100 : yMax, 4, o.integer);
    const top = ys[ys.length - 1] || 1;
    const n = months.length, span = W - L - R;
    const x = (i) => L + (o.slots || n <= 1 ? (i + 0.5) * span / Math.max(1, n) : i * span / (n - 1));
    const y = (v) => H - B - (v / top) * (H - T - B);
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "chart", role: "img",
      "aria-label": o.title || "" }, s("title", {}, o.title || ""));
    svg.append(s("text", { x: 4, y: 14, class: "chart-title" }, o.title || "",
      o.unit ? s("tspan", { class: "tick" }, ` (${o.unit})`) : null));
    for (const v of ys) {
      svg.append(s("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
      svg.append(s("text", { x: L - 4, y: y(v) + 3, class: "tick", "text-anchor": "end" }, num(v, o.percent ? "%" : "")));
    }
    const step = Math.max(1, Math.ceil(months.length / 8));
    months.forEach((m, i) => {
      if (i % step) return;
      svg.append(s("text", { x: x(i), y: H - B + 12, class: "tick", "text-anchor": "end",
        transform: `rotate(-40 ${x(i)} ${H - B + 12})` }, m));
    });
    if (o.vline && months.includes(o.vline)) {
      const vx = x(months.indexOf(o.vline)) - (n > 1 ? (x(1) - x(0)) / 2 : 0);
      svg.append(s("line", { x1: vx, x2: vx, y1: T, y2: H - B, class: "vline" }));
    }
    return { svg, x, y, W, H, L, R, T, B, top };
  }

  function legend(f, names) {
    let at = f.L;
    names.forEach((n, i) => {
      f.svg.append(s("rect", { x: at, y: 22, width: 10, height: 10, fill: COLOURS[i % COLOURS.length] }));
      f.svg.append(s("text", { x: at + 13, y: 31, class: "tick" }, n));
      at += 22 + 6.2 * n.length;
    });
  }

  // series: [{name, values}] (values may hold null: the line breaks there).
  function line(months, series, o = {}) {
    const vals = series.flatMap((d) => d.values).filter((v) => v !== null && v !== undefined && !Number.isNaN(v));
    const f = frame(months, Math.max(0, ...vals), { ...o, legend: series.length > 1 });
    series.forEach((d, k) => {
      const colour = COLOURS[k % COLOURS.length];
      let path = "", pen = false;
      d.values.forEach((v, i) => {
        if (v === null || v === undefined || Number.isNaN(v)) { pen = false; return; }
        path += `${pen ? "L" : "M"}${f.x(i).toFixed(1)},${f.y(v).toFixed(1)}`;
        pen = true;
        f.svg.append(s("circle", { cx: f.x(i), cy: f.y(v), r: 2.5, fill: colour, class: "point" },
          s("title", {}, `${d.name}, ${months[i]}: ${num(v, o.percent ? "%" : "")}`)));
      });
      if (path) f.svg.insertBefore(s("path", { d: path, fill: "none", stroke: colour, "stroke-width": 1.6 }),
        f.svg.querySelector("circle.point"));
    });
    if (series.length > 1) legend(f, series.map((d) => d.name));
    return f.svg;
  }

  function bar(months, series, o = {}) {
    const vals = series.flatMap((d) => d.values).map((v) => v || 0);
    const f = frame(months, Math.max(1, ...vals), { ...o, legend: series.length > 1, slots: true,
      integer: vals.every((v) => Number.isInteger(v)) });
    const slot = (f.W - f.L - f.R) / Math.max(1, months.length) * 0.8;
    const w = Math.min(40, slot / Math.max(1, series.length));
    series.forEach((d, k) => d.values.forEach((v, i) => {
      const x0 = f.x(i) - (w * series.length) / 2 + k * w;
      f.svg.append(s("rect", { x: x0, y: f.y(v || 0), width: Math.max(1, w - 1), height: f.y(0) - f.y(v || 0),
        fill: COLOURS[k % COLOURS.length], class: "bar" }, s("title", {}, `${d.name}, ${months[i]}: ${num(v || 0)}`)));
    }));
    if (series.length > 1) legend(f, series.map((d) => d.name));
    return f.svg;
  }

  // History as a line, the forecast's mean and its prediction interval as a band.
  function band(months, history, future, mean, lower, upper, o = {}) {
    const all = [...months, ...future];
    const f = frame(all, Math.max(0, ...history, ...upper), { ...o, legend: true });
    const pts = (vals, off) => vals.map((v, i) => `${f.x(off + i).toFixed(1)},${f.y(v).toFixed(1)}`);
    f.svg.append(s("polygon", { points: [...pts(upper, months.length), ...pts(lower, months.length).reverse()].join(" "),
      fill: COLOURS[1], "fill-opacity": 0.25, class: "band" }));
    f.svg.append(s("polyline", { points: pts(history, 0).join(" "), fill: "none", stroke: COLOURS[0], "stroke-width": 1.6 }));
    f.svg.append(s("polyline", { points: pts(mean, months.length).join(" "), fill: "none", stroke: COLOURS[1],
      "stroke-width": 1.6, "stroke-dasharray": "4 3" }));
    legend(f, ["recorded", o.bandLabel || "forecast and interval"]);
    return f.svg;
  }

  TW.charts = { line, bar, band, num, COLOURS };
})();
