// Shared helpers: DOM building (text only, never innerHTML with data), the API client, formatting.
"use strict";
const TW = window.TW = {};

TW.h = function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
};

TW.session = {
  get token() { return sessionStorage.getItem("tw.token"); },
  get user() { return JSON.parse(sessionStorage.getItem("tw.user") || "null"); },
  get purpose() { return sessionStorage.getItem("tw.purpose") || ""; },
  set purpose(v) { sessionStorage.setItem("tw.purpose", v); },
  save(token, user) { sessionStorage.setItem("tw.token", token); sessionStorage.setItem("tw.user", JSON.stringify(user)); },
  clear() { sessionStorage.removeItem("tw.token"); sessionStorage.removeItem("tw.user"); },
};

class ApiError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}
TW.ApiError = ApiError;

// Calls the API with the bearer token; location reads pass {purpose: true} to send X-Purpose.
TW.api = async function api(path, opts = {}) {
  const headers = { Accept: "application/json" };
  if (TW.session.token) headers.Authorization = `Bearer ${TW.session.token}`;
  if (opts.purpose) headers["X-Purpose"] = TW.session.purpose;
  let body = opts.body;
  if (opts.json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(opts.json); }
  const r = await fetch(path, { method: opts.method || "GET", headers, body });
  if (r.status === 401 && TW.session.token) { TW.session.clear(); location.hash = "#login"; }
  const data = (r.headers.get("content-type") || "").includes("json") ? await r.json() : await r.text();
  if (!r.ok) {
    const d = data && data.detail;
    throw new ApiError(r.status, Array.isArray(d) ? d.map((e) => e.msg).join("; ") : (d || r.statusText));
  }
  return data;
};

TW.when = (ms) => (ms === null || ms === undefined) ? "" :
  new Date(ms).toLocaleString("en-GB", { timeZone: "Europe/London", dateStyle: "medium", timeStyle: "short" });
TW.isoLocal = (ms) => new Date(ms).toISOString().slice(0, 16);  // for datetime-local inputs (UTC)
TW.error = (e) => TW.h("p", { class: "error" }, e.message || String(e));

// One <tr> of a TW.table (also for rows added or replaced later, e.g. from the live stream).
TW.tableRow = (columns, r, rowAttrs) => TW.h("tr", rowAttrs ? rowAttrs(r) : {},
  columns.map(([, cell]) => TW.h("td", {}, cell(r))));

TW.table = function table(columns, rows, rowAttrs) {
  return TW.h("table", {},
    TW.h("thead", {}, TW.h("tr", {}, columns.map(([label]) => TW.h("th", {}, label)))),
    TW.h("tbody", {}, rows.map((r) => TW.tableRow(columns, r, rowAttrs))));
};

// Location pages need a stated purpose before anything is fetched (it is audited with the read).
TW.needPurpose = function needPurpose(main, then) {
  if (TW.session.purpose.trim().length >= 3) return false;
  const input = TW.h("input", { id: "purpose-first", placeholder: "e.g. routine monitoring shift", size: 40 });
  main.replaceChildren(TW.h("h1", {}, "Why are you viewing locations?"),
    TW.h("p", { class: "muted" }, "Every read of location data is recorded in the audit log with who, when, whom, which time range and this purpose."),
    TW.h("form", { onsubmit: (ev) => {
      ev.preventDefault();
      if (input.value.trim().length < 3) return;
      TW.session.purpose = input.value.trim();
      document.getElementById("purpose").value = TW.session.purpose;
      then();
    } }, input, " ", TW.h("button", { type: "submit" }, "Continue")));
  return true;
};
