// Live updates from GET /api/events (server-sent events): one EventSource for the page showing,
// a status indicator in the header (live / reconnecting... / offline), reconnection with backoff,
// and the cue for a new high-severity alert: a short tone (Web Audio, nothing fetched) and a
// banner that stays until someone clicks "Seen".
"use strict";
(function () {
  const { h, session } = TW;
  const LABELS = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", offline: "offline" };
  const OFFLINE_AFTER = 3;  // failed attempts in a row before "reconnecting…" becomes "offline"
  const MAX_DELAY_MS = 30000;
  let current = null;  // { es, timer, handlers, types, attempts, opened }
  let audio = null;

  function indicate(state) {
    const el = document.getElementById("live-status");
    el.hidden = !state;
    el.dataset.state = state || "";
    el.textContent = state ? LABELS[state] : "";
    el.title = state === "live" ? "Alerts and positions arrive as they happen"
      : state ? "Not receiving live updates: what is shown may be out of date" : "";
  }

  // A refused stream (expired token, disabled user) looks like any other error to EventSource; the API
  // helper sends the page to the login form on a 401.
  function checkLogin() { TW.api("/api/me").catch(() => {}); }

  function open(c) {
    const q = new URLSearchParams({ token: session.token || "", types: c.types });
    if (c.types.includes("position")) q.set("purpose", session.purpose);
    const es = c.es = new EventSource(`/api/events?${q}`);
    es.onopen = () => {
      const missed = c.opened;  // a reconnection: events may have been missed meanwhile
      c.attempts = 0; c.opened = true;
      indicate("live");
      if (missed) c.handlers.resync();
    };
    for (const type of ["alert", "position", "resync"]) {
      es.addEventListener(type, (ev) => {
        if (current !== c) return;
        const data = JSON.parse(ev.data);
        if (type === "alert") cue(data);
        const fn = c.handlers[type];
        if (fn) fn(data);
      });
    }
    es.onerror = () => {
      es.close();
      if (current !== c) return;
      c.attempts += 1;
      indicate(c.attempts >= OFFLINE_AFTER || navigator.onLine === false ? "offline" : "reconnecting");
      checkLogin();
      const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** (c.attempts - 1)) * (0.8 + 0.4 * Math.random());
      c.timer = setTimeout(() => { if (current === c) open(c); }, delay);
    };
  }

  // Start the stream of the page drawn in `owner` (closing any other), unless the user has moved on
  // to another page meanwhile. types: "alert" or "alert,position" (a location read: needs the stated
  // purpose). handlers: {alert, position, resync}; resync reloads the page's data.
  function start(owner, types, handlers) {
    if (!owner.isConnected) return;
    stop();
    current = { es: null, timer: null, handlers, types, attempts: 0, opened: false };
    indicate("connecting");
    open(current);
  }

  function stop() {
    if (!current) return;
    clearTimeout(current.timer);
    if (current.es) current.es.close();
    current = null;
    indicate(null);
  }

  // Back on the network: try at once rather than at the end of the backoff.
  window.addEventListener("online", () => {
    if (current && current.timer && current.es && current.es.readyState === EventSource.CLOSED) {
      clearTimeout(current.timer); open(current);
    }
  });

  function tone() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      const t = audio.currentTime;
      for (const [at, freq] of [[0, 880], [0.22, 660]]) {
        const osc = audio.createOscillator(), gain = audio.createGain();
        osc.type = "square"; osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, t + at);
        gain.gain.exponentialRampToValueAtTime(0.2, t + at + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + at + 0.18);
        osc.connect(gain).connect(audio.destination);
        osc.start(t + at); osc.stop(t + at + 0.2);
      }
      return true;
    } catch (e) { return false; }  // no audio device: the banner still shows
  }

  function cue(ev) {
    const a = ev.alert;
    if (ev.change !== "new" || !a || a.severity !== "high") return;
    const banner = document.getElementById("alarm");
    const list = banner.querySelector("ul");
    list.prepend(h("li", { "data-alert": a.id }, h("strong", {}, `${a.kind.replace(/_/g, " ")}`), " - ",
      h("a", { href: `#subject/${encodeURIComponent(a.subject_id)}` }, a.subject_id),
      ` since ${TW.when(a.start_ms)} (alert ${a.id})`));
    banner.hidden = false;
    banner.classList.remove("flash"); void banner.offsetWidth; banner.classList.add("flash");
    if (tone()) banner.dataset.tones = String(Number(banner.dataset.tones || 0) + 1);
  }

  function seen() {
    const banner = document.getElementById("alarm");
    banner.hidden = true;
    banner.classList.remove("flash");
    banner.querySelector("ul").replaceChildren();
  }
  document.getElementById("alarm-seen").addEventListener("click", seen);

  TW.live = { start, stop, seen };
})();
