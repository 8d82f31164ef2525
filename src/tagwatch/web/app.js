// Router and navigation: each role gets the pages it may use, nothing more.
"use strict";
(function () {
  const { h, session } = TW;
  const NAV = {
    monitoring: [["live", "Live map"], ["alerts", "Alerts"], ["matches", "Match review"], ["stats", "Counts"],
      ["evaluation", "Evaluation"]],
    probation: [["live", "My caseload"], ["alerts", "Alerts"]],
    police: [["shared", "Shared with us"]],
    evaluator: [["evaluation", "Evaluation"], ["stats", "Counts"]],
    admin: [["audit", "Audit log"], ["users", "Users"], ["stats", "Counts"], ["evaluation", "Evaluation"]],
    gateway: [],
  };
  TW.home = (role) => "#" + ((NAV[role] || [])[0] || ["login"])[0];

  function chrome(page) {
    const user = session.user;
    const nav = document.getElementById("nav");
    nav.replaceChildren(...(user ? NAV[user.role] || [] : []).map(([p, label]) =>
      h("a", { href: `#${p}`, class: p === page ? "active" : "" }, label)));
    document.getElementById("who").textContent = user ? `${user.username} (${user.role})` : "";
    document.getElementById("logout").hidden = !user;
    const locationRole = user && ["monitoring", "probation", "police"].includes(user.role);
    document.getElementById("purpose-box").hidden = !locationRole;
    document.getElementById("purpose").value = session.purpose;
  }

  async function route() {
    const main = document.getElementById("main");
    const [page, arg] = location.hash.replace(/^#/, "").split("/").map(decodeURIComponent);
    if (!session.token && page !== "login") { location.hash = "#login"; return; }
    const name = page || (session.user ? TW.home(session.user.role).slice(1) : "login");
    TW.live.stop();  // a page that shows live data starts its own stream
    if (name === "login") TW.live.seen();
    chrome(name);
    const fn = TW.pages[name];
    if (!fn) { main.replaceChildren(h("p", {}, "No such page.")); return; }
    main.replaceChildren(h("p", { class: "muted" }, "Loading..."));
    try { await fn(main, arg); } catch (e) { main.replaceChildren(TW.error(e)); }
  }

  document.getElementById("purpose").addEventListener("change", (ev) => { session.purpose = ev.target.value.trim(); });
  document.getElementById("logout").addEventListener("click", () => { session.clear(); location.hash = "#login"; });
  window.addEventListener("hashchange", route);
  route();
})();
