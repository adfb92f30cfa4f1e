// sluice's dashboard. It uses only the management API (/api/...), sends the token in an
// Authorization header (never a cookie), and puts every string from the server into
// the page as text: user names, user agents and host names come from VPN clients.
"use strict";

const TOKEN_KEY = "sluice-token";
const POLL_MS = 2000;
const POINTS = 60; // two minutes of graph at POLL_MS

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || "",
  role: "",
  tab: "sessions",
  samples: new Map(), // session ID -> {rx, tx, t, rxRate: [], txRate: []}
  total: { rx: [], tx: [] },
  timer: null,
  events: null,
};

const $ = (id) => document.getElementById(id);

// An element with attributes and children; strings become text nodes, never markup.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function td(label, content, cls) {
  const cell = el("td", { "data-label": label, class: cls || "" });
  if (content instanceof Node) cell.append(content);
  else cell.textContent = content == null ? "" : String(content);
  return cell;
}

function bytes(n) {
  const units = ["KB", "MB", "GB", "TB"];
  let v = Number(n) || 0, u = -1;
  while (v >= 1024 && u < 3) { v /= 1024; u++; }
  return u < 0 ? `${v} bytes` : `${v.toFixed(1)} ${units[u]}`;
}

function rate(bps) { return `${bytes(Math.round(bps))}/s`; }

function age(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor(s / 60) % 60}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor(s / 3600) % 24}h`;
}

function say(text, good) {
  const m = $("message");
  m.textContent = text;
  m.className = "message " + (good ? "good" : "bad");
}

async function api(path, body) {
  const headers = {};
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const opts = { headers, cache: "no-store", credentials: "omit" };
  if (body !== undefined) {
    opts.method = "POST";
    headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (r.status === 401) {
    signOut("The token was refused or has been revoked.");
    throw new Error("unauthorized");
  }
  if (!r.ok) throw new Error((data && data.error) || `HTTP ${r.status}`);
  return data;
}

// ---- sign in and out -------------------------------------------------------------

async function start() {
  try {
    const me = await api("/api/whoami");
    state.role = me.role;
    $("who").textContent = `${me.identity} (${me.role})`;
    document.body.classList.toggle("admin", me.role === "admin");
    $("login").hidden = true;
    $("app").hidden = false;
    $("logout").hidden = false;
    refresh();
    state.timer = setInterval(refresh, POLL_MS);
    followEvents();
  } catch (e) {
    if (e.message !== "unauthorized") showLogin(e.message);
  }
}

function showLogin(why) {
  $("app").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("who").textContent = "";
  $("login-error").textContent = why || "";
  $("token").focus();
}

function signOut(why) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = "";
  clearInterval(state.timer);
  if (state.events) state.events.abort();
  state.events = null;
  showLogin(why);
}

$("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  state.token = $("token").value.trim();
  sessionStorage.setItem(TOKEN_KEY, state.token);
  $("token").value = "";
  start();
});
$("logout").addEventListener("click", () => signOut(""));

// ---- tabs --------------------------------------------------------------------------

function showTab(name) {
  state.tab = name;
  for (const s of document.querySelectorAll("main section[id^=tab-]"))
    s.hidden = s.id !== `tab-${name}`;
  for (const b of document.querySelectorAll("nav button"))
    if (b.dataset.tab === name) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  refresh();
}
for (const b of document.querySelectorAll("nav button"))
  b.addEventListener("click", () => showTab(b.dataset.tab));
$("history-back").addEventListener("click", () => showTab("sessions"));

// ---- sessions and their bandwidth --------------------------------------------------

function sample(users) {
  const now = Date.now() / 1000, seen = new Set();
  let rxSum = 0, txSum = 0;
  for (const u of users) {
    seen.add(u.ID);
    let s = state.samples.get(u.ID);
    if (!s) {
      s = { rx: u.RX, tx: u.TX, t: now, rxRate: [], txRate: [] };
      state.samples.set(u.ID, s);
    } else if (now > s.t) {
      s.rxRate.push(Math.max(0, (u.RX - s.rx) / (now - s.t)));
      s.txRate.push(Math.max(0, (u.TX - s.tx) / (now - s.t)));
      if (s.rxRate.length > POINTS) { s.rxRate.shift(); s.txRate.shift(); }
      s.rx = u.RX; s.tx = u.TX; s.t = now;
    }
    rxSum += s.rxRate.length ? s.rxRate[s.rxRate.length - 1] : 0;
    txSum += s.txRate.length ? s.txRate[s.txRate.length - 1] : 0;
  }
  for (const id of [...state.samples.keys()]) if (!seen.has(id)) state.samples.delete(id);
  state.total.rx.push(rxSum); state.total.tx.push(txSum);
  if (state.total.rx.length > POINTS) { state.total.rx.shift(); state.total.tx.shift(); }
  $("total-rx").textContent = rate(rxSum);
  $("total-tx").textContent = rate(txSum);
}

function draw(canvas, rx, tx) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width, h = canvas.clientHeight || canvas.height;
  canvas.width = w * ratio; canvas.height = h * ratio;
  const g = canvas.getContext("2d");
  g.scale(ratio, ratio);
  g.clearRect(0, 0, w, h);
  const max = Math.max(1024, ...rx, ...tx); // an idle session's keepalives stay flat
  const css = getComputedStyle(document.documentElement);
  for (const [series, color] of [[rx, css.getPropertyValue("--rx")], [tx, css.getPropertyValue("--tx")]]) {
    g.strokeStyle = color.trim() || "#06c";
    g.lineWidth = 1.5;
    g.beginPath();
    series.forEach((v, i) => {
      const x = w - (series.length - 1 - i) * (w / (POINTS - 1));
      const y = h - 2 - (v / max) * (h - 4);
      if (i) g.lineTo(x, y); else g.moveTo(x, y);
    });
    g.stroke();
  }
}

async function disconnect(u) {
  if (!confirm(`Disconnect ${u.Username} (session ${u.ID}, from ${u["Remote IP"]})?`)) return;
  try {
    await api("/api/disconnect", { id: u.ID });
    say(`Disconnected ${u.Username} (session ${u.ID}).`, true);
    refresh();
  } catch (e) { say(`Could not disconnect ${u.Username}: ${e.message}`); }
}

function renderSessions(users) {
  const body = $("sessions").tBodies[0];
  const now = Date.now() / 1000;
  body.replaceChildren();
  $("session-count").textContent = `(${users.length})`;
  $("no-sessions").hidden = users.length > 0;
  for (const u of users) {
    const s = state.samples.get(u.ID) || { rxRate: [], txRate: [] };
    const spark = el("canvas", { class: "spark", width: "120", height: "32", role: "img",
      "aria-label": `Bandwidth of ${u.Username}` });
    const name = el("button", { type: "button", class: "linklike", title: "History",
      onclick: () => history(u.Username) }, u.Username);
    const actions = el("span");
    if (state.role === "admin")
      actions.append(el("button", { type: "button", class: "danger", "data-action": "disconnect",
        "aria-label": `Disconnect ${u.Username}`, onclick: () => disconnect(u) }, "Disconnect"));
    const tr = el("tr", { "data-id": String(u.ID) });
    tr.dataset.user = u.Username;
    tr.append(
      td("User", name, "user"),
      td("Group", u.Groupname),
      td("From", u["Remote IP"]),
      td("VPN address", [u.IPv4, u.IPv6].filter(Boolean).join(" ")),
      td("Since", age(now - u.raw_connected_at), "num"),
      td("Received", bytes(u.RX), "num rx"),
      td("Sent", bytes(u.TX), "num tx"),
      td("Bandwidth", spark),
      td("Client", el("span", { class: "agent" }, `${u["User-Agent"]} ${u.Hostname ? "on " + u.Hostname : ""}`)),
      td("", actions));
    tr.querySelector(".rx").dataset.bytes = String(u.RX);
    body.append(tr);
    draw(spark, s.rxRate, s.txRate);
  }
  draw($("total-graph"), state.total.rx, state.total.tx);
}

// ---- history, accounts, bans, server -------------------------------------------------

async function history(user) {
  state.tab = "history";
  for (const s of document.querySelectorAll("main section[id^=tab-]")) s.hidden = s.id !== "tab-history";
  $("history-user").textContent = user;
  const body = $("history").tBodies[0];
  body.replaceChildren();
  try {
    const recs = await api(`/api/history?name=${encodeURIComponent(user)}`);
    $("no-history").hidden = recs.length > 0;
    for (const r of recs) {
      let detail = r.reason || "";
      if (r.event === "session-end")
        detail = `${age(r.duration)}, ${bytes(r.bytes_in)} in, ${bytes(r.bytes_out)} out; ${r.reason}`;
      else if (r.event === "auth")
        detail = r.result + (r.reason ? `: ${r.reason}` : "");
      else if (r.event === "session-start")
        detail = [r.vpn_ip, r.user_agent].filter(Boolean).join(", ");
      body.append(el("tr", {}, td("Time", r.time.replace("T", " ").replace(/\.\d+Z$/, "")),
        td("Event", r.event), td("From", r.client_ip || ""), td("Details", detail)));
    }
  } catch (e) { say(`History of ${user}: ${e.message}`); }
}

async function accountAction(path, body, what) {
  if (!confirm(what + "?")) return;
  try {
    await api(path, body);
    say(`${what}: done.`, true);
    refresh();
  } catch (e) { say(`${what}: ${e.message}`); }
}

function renderAccounts(list) {
  const body = $("accounts").tBodies[0];
  body.replaceChildren();
  for (const a of list) {
    const actions = el("span");
    if (state.role === "admin") {
      actions.append(
        a.Locked
          ? el("button", { type: "button", onclick: () => accountAction("/api/accounts/unlock", { user: a.Username }, `Unlock ${a.Username}`) }, "Unlock")
          : el("button", { type: "button", onclick: () => accountAction("/api/accounts/lock", { user: a.Username }, `Lock ${a.Username}`) }, "Lock"),
        el("button", { type: "button", onclick: () => {
          const g = prompt(`Groups of ${a.Username} (comma separated, empty for none)`, a.Groups.join(","));
          if (g !== null)
            accountAction("/api/accounts/groups", { user: a.Username, groups: g.split(",").map((s) => s.trim()).filter(Boolean) },
              `Set the groups of ${a.Username}`);
        } }, "Groups"),
        el("button", { type: "button", class: "danger", onclick: () => accountAction("/api/accounts/delete", { user: a.Username }, `Delete ${a.Username}`) }, "Delete"));
    }
    const tr = el("tr", {}, td("User", a.Username), td("Groups", a.Groups.join(", ")),
      td("State", a.Locked ? "locked" : "active"), td("", actions));
    tr.dataset.user = a.Username;
    body.append(tr);
  }
}

$("account-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const user = $("acct-user").value.trim(), groups = $("acct-groups").value.trim();
  const body = { user, password: $("acct-password").value };
  if (groups) body.groups = groups.split(",").map((s) => s.trim()).filter(Boolean);
  $("acct-password").value = "";
  accountAction("/api/accounts/set", body, `Save the account ${user}`);
});

function renderBans(list) {
  const body = $("bans").tBodies[0];
  body.replaceChildren();
  $("no-bans").hidden = list.length > 0;
  for (const b of list) {
    const actions = el("span");
    if (state.role === "admin")
      actions.append(el("button", { type: "button", onclick: () => accountAction("/api/unban", { ip: b.IP }, `Unban ${b.IP}`) }, "Unban"));
    body.append(el("tr", {}, td("Address", b.IP), td("Since", b.Since || ""),
      td("Expires", b.Expires || ""), td("Score", b.Score, "num"), td("", actions)));
  }
}

function renderStatus(s) {
  const dl = $("status");
  dl.replaceChildren();
  const rows = [["Status", s.Status], ["Up since", `${s["Up since"]} (${age(s.uptime)})`],
    ["Active sessions", s["Active sessions"]], ["Sessions started", s["Sessions started"]],
    ["Sessions ended", s["Total sessions"]], ["Logging in now", s["Connections logging in"]],
    ["Authentication failures", s["Total authentication failures"]],
    ["Addresses banned", s["IPs in ban list"]], ["Received, ended sessions", s.RX],
    ["Sent, ended sessions", s.TX], ["Average session", s["Average session time"]],
    ["Server PID", s["Server PID"]], ["sec PID", s["Sec-mod PID"]]];
  for (const [k, v] of rows) dl.append(el("dt", {}, k), el("dd", {}, v == null ? "" : String(v)));
}

$("reload").addEventListener("click", () => accountAction("/api/reload", {}, "Reload the configuration"));

async function refresh() {
  try {
    const users = await api("/api/users");
    sample(users);
    if (state.tab === "sessions") renderSessions(users);
    if (state.tab === "accounts") renderAccounts(await api("/api/accounts"));
    if (state.tab === "bans") renderBans(await api("/api/bans"));
    if (state.tab === "server") renderStatus(await api("/api/status"));
  } catch (e) {
    if (e.message !== "unauthorized") say(`Cannot reach the server: ${e.message}`);
  }
}

// ---- the event stream ------------------------------------------------------------------

function addEvent(kind, e) {
  const list = $("events");
  const when = new Date().toLocaleTimeString();
  const text = kind === "connect"
    ? `${e.Username} connected from ${e["Remote IP"]}${e.IPv4 ? " as " + e.IPv4 : ""}`
    : `${e.Username} disconnected (${e.reason || "?"}) after ${age(e.raw_duration)}, ${bytes(e.RX)} in, ${bytes(e.TX)} out`;
  list.prepend(el("li", { class: kind }, el("time", {}, when), text));
  while (list.children.length > 200) list.lastChild.remove();
}

// fetch, not EventSource: EventSource cannot send the Authorization header.
async function followEvents() {
  const ctrl = new AbortController();
  state.events = ctrl;
  const headers = state.token ? { Authorization: `Bearer ${state.token}` } : {};
  try {
    const r = await fetch("/api/events", { headers, signal: ctrl.signal, credentials: "omit" });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    $("events-state").textContent = "(live)";
    const reader = r.body.getReader(), dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        let kind = "", data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) kind = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
        }
        if (kind && data) {
          try { addEvent(kind, JSON.parse(data)); } catch (e) { /* not an event */ }
          refresh();
        }
      }
    }
  } catch (e) {
    if (ctrl.signal.aborted) return;
  }
  $("events-state").textContent = "(reconnecting)";
  if (state.events === ctrl) setTimeout(followEvents, 3000);
}

start();
