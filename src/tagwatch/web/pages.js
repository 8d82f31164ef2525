// One function per page; each fills <main> and fetches only what its role may see.
"use strict";
(function () {
  const { h, api, when, table, error, session } = TW;
  const P = TW.pages = {};

  P.login = async (main) => {
    const user = h("input", { id: "username", autocomplete: "username", required: true });
    const pass = h("input", { id: "password", type: "password", autocomplete: "current-password", required: true });
    const msg = h("p", { class: "error", id: "login-error" });
    main.replaceChildren(h("form", { class: "login", onsubmit: async (ev) => {
      ev.preventDefault();
      msg.textContent = "";
      try {
        const body = new URLSearchParams({ username: user.value, password: pass.value });
        const t = await api("/api/auth/token", { method: "POST", body });
        session.save(t.access_token, { username: t.username, role: t.role });
        location.hash = TW.home(t.role);
      } catch (e) { msg.textContent = e.message; }
    } }, h("h1", {}, "Log in to tagwatch"), h("label", { for: "username" }, "Username"), user,
      h("label", { for: "password" }, "Password"), pass, h("p", {}, h("button", { type: "submit" }, "Log in")), msg));
  };

  // The live map: current positions and zones, then markers move as positions arrive on the stream.
  P.live = async (main) => {
    if (TW.needPurpose(main, () => P.live(main))) return;
    const mapEl = h("div", { class: "map", id: "live-map" });
    const side = h("div", { class: "panel", id: "live-list" }, "Loading...");
    main.replaceChildren(h("h1", {}, "Live map: current positions and zones"), TW.map.legend(),
      h("div", { class: "split" }, mapEl, side));
    const map = await TW.map.baseMap(mapEl);
    let layers = [];
    const latest = new Map(), markers = new Map();  // by subject
    function list() {
      side.replaceChildren(h("h2", {}, `${latest.size} subjects`), h("ul", {}, [...latest.values()].map((p) =>
        h("li", { "data-subject": p.subject_id, "data-lat": p.lat, "data-lon": p.lon, "data-ts": p.ts_ms },
          h("a", { href: `#subject/${encodeURIComponent(p.subject_id)}` }, p.subject_id), " ",
          h("span", { class: "muted" }, when(p.ts_ms))))));
    }
    async function load() {
      const data = await api("/api/live", { purpose: true });
      layers.forEach((l) => l.remove());
      latest.clear(); markers.clear();
      const drawn = TW.map.drawPositions(map, data.positions);
      data.positions.forEach((p, i) => { latest.set(p.subject_id, p); markers.set(p.subject_id, drawn[i]); });
      layers = [...TW.map.drawZones(map, data.zones), ...drawn];
      list();
    }
    function moved(p) {
      const old = latest.get(p.subject_id);
      if (old && old.ts_ms > p.ts_ms) return;  // an older fix arriving late changes nothing
      const existing = markers.get(p.subject_id);
      const marker = TW.map.placePosition(map, p, existing);
      if (!existing) { markers.set(p.subject_id, marker); layers.push(marker); }
      latest.set(p.subject_id, p);
      const at = marker.getLatLng();
      mapEl.dataset.moved = `${p.subject_id} ${at.lat},${at.lng}`;  // the last marker moved, where it is now
      list();
    }
    await load();
    TW.live.start(mapEl, "alert,position", { position: moved, resync: () => load().catch((e) => side.prepend(error(e))) });
  };

  // The alert queue; new alerts are inserted, updated ones change in place, retracted ones leave.
  P.alerts = async (main) => {
    const status = h("select", { id: "alert-status" }, ["", "open", "acknowledged", "escalated", "closed"].map((s) =>
      h("option", { value: s, selected: s === (P.alerts.status || "") }, s || "all")));
    const note = h("input", { id: "alert-note", placeholder: "note for the next action", size: 40 });
    const holder = h("div", {}, "Loading...");
    status.addEventListener("change", () => { P.alerts.status = status.value; load(); });
    main.replaceChildren(h("h1", {}, "Alert queue"),
      h("div", { class: "toolbar" }, h("label", {}, "Status ", status), note), holder);
    async function act(id, action) {
      try {
        await api(`/api/alerts/${id}/${action}`, { method: "POST", json: { note: note.value } });
        note.value = "";
        await load();
      } catch (e) { holder.prepend(error(e)); }
    }
    const columns = [
      ["#", (a) => String(a.id)], ["kind", (a) => a.kind], ["severity", (a) => a.severity],
      ["subject", (a) => h("a", { href: `#subject/${encodeURIComponent(a.subject_id)}` }, a.subject_id)],
      ["from", (a) => when(a.start_ms)], ["to", (a) => a.end_ms ? when(a.end_ms) : "ongoing"],
      ["status", (a) => h("span", { class: `status status-${a.status}`, "data-status": a.status }, a.status)],
      ["", (a) => [["acknowledge", "Acknowledge"], ["escalate", "Escalate"], ["note", "Note"], ["close", "Close"]]
        .map(([action, label]) => h("button", { onclick: () => act(a.id, action), "data-action": action }, label))],
    ];
    const rowAttrs = (a) => ({ class: `sev-${a.severity}`, "data-alert": a.id, "data-start": a.start_ms });
    async function load() {
      const q = status.value ? `?status=${encodeURIComponent(status.value)}` : "";
      const rows = await api(`/api/alerts${q}`);
      holder.replaceChildren(rows.length ? table(columns, rows, rowAttrs) : h("p", { class: "muted" }, "No alerts."));
    }
    function changed(ev) {
      const a = ev.alert;
      const old = holder.querySelector(`tr[data-alert="${Number(a.id)}"]`);
      if (ev.change === "retracted" || a.retracted_ms || (status.value && a.status !== status.value)) {
        if (old) old.remove();
        return;
      }
      const row = TW.tableRow(columns, a, rowAttrs);
      if (old) { old.replaceWith(row); return; }
      const body = holder.querySelector("tbody");
      if (!body) { load().catch((e) => holder.prepend(error(e))); return; }  // "No alerts." so far: draw the table
      row.classList.add("fresh");
      const later = (tr) => Number(tr.dataset.start) < a.start_ms ||
        (Number(tr.dataset.start) === a.start_ms && Number(tr.dataset.alert) < a.id);
      body.insertBefore(row, [...body.rows].find(later) || null);  // newest first, as listed
    }
    await load();
    TW.live.start(holder, "alert", { alert: changed, resync: () => load().catch((e) => holder.prepend(error(e))) });
  };

  P.subject = async (main, id) => {
    const d = await api(`/api/subjects/${encodeURIComponent(id)}`);
    const s = d.subject;
    const latest = d.orders.map((o) => ({ o, v: o.versions[o.versions.length - 1] }));
    const mapEl = h("div", { class: "map", id: "track-map" });
    const end = d.last_fix_ms || Date.now();
    const from = h("input", { type: "datetime-local", id: "track-from", value: TW.isoLocal(end - 86400000) });
    const to = h("input", { type: "datetime-local", id: "track-to", value: TW.isoLocal(end + 60000) });
    const slider = h("input", { type: "range", id: "track-slider", min: 0, max: 0, value: 0, disabled: true });
    const at = h("span", { id: "track-at", class: "muted" }, "");
    const play = h("button", { id: "track-play", disabled: true }, "Play");
    main.replaceChildren(
      h("h1", {}, `${s.id} ${s.name ? "- " + s.name : ""}`),
      h("p", {}, `Risk ${s.risk_level}; offence ${s.offence || "-"}; borough ${s.borough || "-"}; devices `,
        d.devices.map((a) => `${a.device_id} (${when(a.from_ms)} - ${a.to_ms ? when(a.to_ms) : "now"})`).join(", ")),
      h("h2", {}, "Conditions in force"),
      table([["order", (x) => `${x.o.id} (${x.o.type}) v${x.v.version}`], ["since", (x) => x.v.effective_from],
        ["conditions", (x) => x.v.conditions.map((c) => `${c.id}: ${c.kind}${c.schedule ? " [" + c.schedule + "]" : ""}`).join("; ")],
        ["ends", (x) => x.o.end || "-"]], latest),
      h("h2", {}, "Track playback"),
      h("div", { class: "toolbar" }, "From (UTC) ", from, " to ", to,
        h("button", { id: "track-load", onclick: () => loadTrack() }, "Show track"), play, slider, at),
      mapEl, TW.map.legend(),
      h("h2", {}, "Timeline"),
      h("ul", { class: "timeline" }, d.timeline.map((e) => h("li", {}, h("span", { class: "when" }, when(e.ts_ms)), e.text))));
    const map = await TW.map.baseMap(mapEl);
    let drawn = [], marker = null, timer = null, pts = [];
    async function loadTrack() {
      if (TW.needPurpose(main, () => P.subject(main, id))) return;
      drawn.forEach((l) => l.remove()); drawn = [];
      const q = new URLSearchParams({ from: new Date(from.value + "Z").toISOString(), to: new Date(to.value + "Z").toISOString() });
      const t = await api(`/api/subjects/${encodeURIComponent(id)}/track?${q}`, { purpose: true });
      drawn.push(...TW.map.drawZones(map, t.zones));
      const tr = TW.map.drawTrack(map, t.points);
      pts = tr ? tr.pts : [];
      if (tr) drawn.push(tr.line);
      at.textContent = `${pts.length} positions`;
      slider.max = Math.max(0, pts.length - 1); slider.value = 0; slider.disabled = play.disabled = !pts.length;
      if (pts.length) show(0);
    }
    function show(i) {
      const p = pts[i];
      if (!marker) marker = L.circleMarker([p.lat, p.lon], { radius: 8, color: "#000", fillColor: "#f1c40f", fillOpacity: 1 }).addTo(map);
      marker.setLatLng([p.lat, p.lon]);
      at.textContent = `${when(p.ts_ms)} (${i + 1} of ${pts.length})`;
    }
    slider.addEventListener("input", () => show(Number(slider.value)));
    play.addEventListener("click", () => {
      if (timer) { clearInterval(timer); timer = null; play.textContent = "Play"; return; }
      play.textContent = "Pause";
      timer = setInterval(() => {
        const i = Number(slider.value) + 1;
        if (i >= pts.length) { clearInterval(timer); timer = null; play.textContent = "Play"; return; }
        slider.value = i; show(i);
      }, 60);
    });
    if (TW.session.purpose.trim().length >= 3) await loadTrack();
  };

  function evidenceView(holder, ev) {
    const mapEl = h("div", { class: "map", id: "evidence-map" });
    const m = ev.match, c = ev.crime || {};
    holder.replaceChildren(h("h2", {}, `Evidence for match ${m.id}: ${m.subject_id} and crime ${m.crime_ref}`),
      h("p", {}, `${c.crime_type || ""} reported ${when(c.from_ms)} - ${when(c.to_ms)}; closest ${m.closest_m} m at ${when(m.closest_ms)}; `,
        `${m.evidence} evidence; within the radius ${Math.round(m.within_s)} s; score ${m.score}.`),
      h("p", { class: "muted" }, `Track shown ${ev.from} to ${ev.to}; decisions: `,
        ev.reviews.map((r) => `${r.action}${r.force ? " (" + r.force + ")" : ""} by ${r.actor} ${when(r.ts_ms)}`).join("; ") || "none"),
      mapEl);
    TW.map.baseMap(mapEl).then((map) => {
      TW.map.drawTrack(map, ev.track);
      if (ev.crime) L.circle([c.lat, c.lon], { radius: Math.max(25, c.location_accuracy_m || 0), color: "#c0392b", weight: 3 })
        .bindTooltip(`crime ${c.crime_ref}`).addTo(map);
    });
  }

  async function showEvidence(holder, id) {
    if (TW.needPurpose(holder, () => showEvidence(holder, id))) return;
    try { evidenceView(holder, await api(`/api/matches/${id}`, { purpose: true })); } catch (e) { holder.replaceChildren(error(e)); }
  }

  P.matches = async (main) => {
    if (TW.needPurpose(main, () => P.matches(main))) return;  // subjects near crime scenes: audited
    const force = h("input", { id: "share-force", value: "MPS", size: 8 });
    const note = h("input", { id: "match-note", placeholder: "reason for the decision", size: 36 });
    const holder = h("div", {}, "Loading..."), evidence = h("div", { id: "evidence" });
    main.replaceChildren(h("h1", {}, "Match review: significant crime-scene matches"),
      h("div", { class: "toolbar" }, "Police force ", force, note), holder, evidence);
    async function review(id, action) {
      try {
        await api(`/api/matches/${id}/review`, { method: "POST",
          json: { action, force: ["authorised", "shared", "withdrawn"].includes(action) ? force.value : null, note: note.value } });
        await load();
      } catch (e) { holder.prepend(error(e)); }
    }
    async function load() {
      const rows = await api("/api/matches", { purpose: true });
      holder.replaceChildren(rows.length ? table([
        ["#", (m) => String(m.id)], ["subject", (m) => m.subject_id], ["crime", (m) => `${m.force}/${m.crime_ref}`],
        ["closest", (m) => `${m.closest_m} m, ${when(m.closest_ms)}`], ["evidence", (m) => m.evidence],
        ["score", (m) => m.score.toFixed(3)], ["decisions", (m) => m.decisions.join(", ") || "-"],
        ["shared with", (m) => h("span", { "data-shared": m.shared_with.join(",") }, m.shared_with.join(", ") || "-")],
        ["", (m) => [["qualified", "Qualify"], ["rejected", "Reject"], ["authorised", "Authorise"], ["shared", "Share with police"],
          ["withdrawn", "Withdraw"]].map(([a, label]) => h("button", { onclick: () => review(m.id, a), "data-action": a }, label))
          .concat(h("button", { onclick: () => showEvidence(evidence, m.id) }, "Evidence"))],
      ], rows, (m) => ({ "data-match": m.id })) : h("p", { class: "muted" }, "No significant matches."));
    }
    await load();
  };

  P.shared = async (main) => {
    const me = session.user;
    // The list names subjects, crime places and closest approaches: an audited read with a purpose.
    if (TW.needPurpose(main, () => P.shared(main))) return;
    const rows = await api("/api/shared", { purpose: true });
    const evidence = h("div", { id: "evidence" });
    main.replaceChildren(h("h1", {}, `Shared with your force`),
      h("p", { class: "muted" }, `Only matches a monitoring officer marked significant and shared with your force are listed (${me.username}).`),
      rows.length ? table([
        ["match", (s) => String(s.match.id)], ["crime", (s) => `${s.match.force}/${s.match.crime_ref} ${s.crime ? s.crime.crime_type : ""}`],
        ["crime time", (s) => s.crime ? `${when(s.crime.from_ms)} - ${when(s.crime.to_ms)}` : ""],
        ["subject", (s) => s.match.subject_id], ["closest", (s) => `${s.match.closest_m} m at ${when(s.match.closest_ms)}`],
        ["score", (s) => s.match.score.toFixed(3)], ["shared", (s) => `${when(s.shared_ms)} by ${s.shared_by}`],
        ["", (s) => h("button", { onclick: () => showEvidence(evidence, s.match.id) }, "Evidence")],
      ], rows, (s) => ({ "data-match": s.match.id })) : h("p", { class: "muted", id: "nothing-shared" }, "Nothing has been shared with your force."),
      evidence);
  };

  P.stats = async (main) => {
    const s = await api("/api/stats");
    const rows = [];
    const add = (k, v) => rows.push([k, v]);
    for (const [k, v] of Object.entries(s)) {
      if (v && typeof v === "object") for (const [k2, v2] of Object.entries(v)) add(`${k}: ${k2}`, v2); else add(k, v);
    }
    main.replaceChildren(h("h1", {}, "Programme figures"),
      h("p", { class: "muted" }, "Aggregates only: no individual and no location."),
      h("div", { class: "figures" }, table([["figure", (r) => r[0]], ["value", (r) => String(r[1])]], rows)));
  };

  P.audit = async (main) => {
    const verdict = h("p", { id: "audit-verdict" });
    const holder = h("div", {}, "Loading...");
    main.replaceChildren(h("h1", {}, "Audit log"), h("div", { class: "toolbar" },
      h("button", { id: "audit-verify", onclick: async () => {
        const v = await api("/api/audit/verify");
        verdict.className = v.ok ? "ok" : "error";
        verdict.textContent = v.ok ? `Chain intact: ${v.entries} entries, head ${v.head_id}:${v.head_hash.slice(0, 16)}...`
          : `BROKEN: ${v.problems.join("; ")}`;
      } }, "Verify the chain")), verdict, holder);
    const rows = await api("/api/audit?limit=300");
    holder.replaceChildren(table([["#", (e) => String(e.id)], ["when", (e) => when(e.ts_ms)], ["who", (e) => `${e.actor} (${e.role})`],
      ["action", (e) => e.action], ["subjects", (e) => e.subject_ids], ["range", (e) => e.from ? `${when(e.from_ms)} - ${when(e.to_ms)}` : ""],
      ["purpose", (e) => e.purpose], ["detail", (e) => e.detail]], rows));
  };

  P.users = async (main) => {
    const rows = await api("/api/users");
    main.replaceChildren(h("h1", {}, "Users"), table([["username", (u) => u.username], ["role", (u) => u.role],
      ["force", (u) => u.force || ""], ["caseload", (u) => u.caseload.join(", ")], ["created", (u) => when(u.created_ms)],
      ["disabled", (u) => u.disabled_ms ? when(u.disabled_ms) : ""]], rows),
      h("p", { class: "muted" }, "Add users with tagwatch users add, or POST /api/users."));
  };
})();
