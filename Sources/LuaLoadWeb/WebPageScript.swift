/// The page's script: an EventSource on /events (the history once, then a tick a second), Chart.js charts,
/// sortable tables, the controls (POST /swarm, /stop, /stats/reset, same-origin).
enum WebPageScript {
    static let source = #"""
"use strict";
const $ = id => document.getElementById(id);
let snap = null, points = [], sortKey = null, sortAsc = false, selectedName = "", prefilled = false;
if (location.search.indexOf("token=") >= 0) history.replaceState(null, "", location.pathname);
const ms = v => (v == null ? "" : Number(v).toFixed(2));
const rate1 = v => Number(v || 0).toFixed(1);
const esc = s => String(s).replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
function lineChart(id, series, yTitle) {
  return new Chart($(id), {type: "line",
    data: {labels: [], datasets: series.map(([label, color]) => ({label, data: [], borderColor: color, backgroundColor: color,
      borderWidth: 1.5, pointRadius: 0, tension: 0.2, spanGaps: true}))},
    options: {animation: false, responsive: true, maintainAspectRatio: false, interaction: {mode: "index", intersect: false},
      scales: {x: {ticks: {maxTicksLimit: 8}}, y: {beginAtZero: true, title: {display: !!yTitle, text: yTitle}}},
      plugins: {legend: {labels: {boxWidth: 12}}}}});
}
const charts = {
  rps: lineChart("chart-rps", [["requests/s", "#2f6fde"], ["failures/s", "#c62828"]]),
  latency: lineChart("chart-latency", [["p50", "#1a7f37"], ["p95", "#b26a00"], ["p99", "#7a2030"]], "ms"),
  users: lineChart("chart-users", [["users", "#5d6675"]]),
};
let openModel = false;
function useOpenModel() {
  if (openModel) return;
  openModel = true;
  $("load-title").textContent = "Arrivals";
  charts.users.data.datasets = [["target rate/s", "#5d6675"], ["started/s", "#2f6fde"], ["dropped/s", "#c62828"]].map(([label, color]) =>
    ({label, data: [], borderColor: color, backgroundColor: color, borderWidth: 1.5, pointRadius: 0, tension: 0.2}));
}
function label(t) { const s = Math.round(t); return s >= 60 ? Math.floor(s / 60) + "m" + String(s % 60).padStart(2, "0") + "s" : s + "s"; }
function latencyOf(p) {
  if (!selectedName) return [p.p50, p.p95, p.p99];
  const v = p.names && p.names[selectedName];
  return v ? [v[2], v[3], v[4]] : [null, null, null];
}
function redraw() {
  if (points.length && points[points.length - 1].rate !== undefined) useOpenModel();
  const labels = points.map(p => label(p.t));
  for (const c of Object.values(charts)) c.data.labels = labels;
  charts.rps.data.datasets[0].data = points.map(p => p.rps);
  charts.rps.data.datasets[1].data = points.map(p => p.fps);
  const lat = points.map(latencyOf);
  for (let k = 0; k < 3; k++) charts.latency.data.datasets[k].data = lat.map(v => v[k]);
  if (openModel) {
    const d = charts.users.data.datasets;
    d[0].data = points.map(p => p.rate);
    d[1].data = points.map((p, i) => (p.started || 0) - (i ? points[i - 1].started || 0 : 0));
    d[2].data = points.map((p, i) => (p.dropped || 0) - (i ? points[i - 1].dropped || 0 : 0));
  } else {
    charts.users.data.datasets[0].data = points.map(p => p.users);
  }
  for (const c of Object.values(charts)) c.update("none");
}
function cell(v, cls) { return "<td class=\"" + (cls || "") + "\">" + v + "</td>"; }
function rowHTML(r, total) {
  return "<tr" + (total ? " class=\"total\" id=\"total-row\"" : "") + " data-key=\"" + esc(r.method + " " + r.name) + "\">" +
    cell(esc(r.method), "l c-method") + cell(esc(r.name), "l name c-name") + cell(r.requests, "c-requests") + cell(r.failures, "c-failures") +
    cell(ms(r.median_ms), "c-median") + cell(ms(r.p95_ms), "c-p95") + cell(ms(r.p99_ms), "c-p99") + cell(ms(r.avg_ms), "c-avg") +
    cell(ms(r.min_ms), "hide-narrow c-min") + cell(ms(r.max_ms), "hide-narrow c-max") +
    cell(Math.round(r.avg_content_size), "hide-narrow c-size") + cell(rate1(r.rps), "c-rps") + cell(rate1(r.fps), "c-fps") + "</tr>";
}
function renderStats(s) {
  let rows = (s.rows || []).slice();
  if (sortKey) rows.sort((a, b) => { const x = a[sortKey], y = b[sortKey]; const c = typeof x === "string" ? x.localeCompare(y) : x - y; return sortAsc ? c : -c; });
  document.querySelector("#stats-table tbody").innerHTML = rows.map(r => rowHTML(r, false)).join("");
  document.querySelector("#stats-table tfoot").innerHTML = s.total ? rowHTML(s.total, true) : "";
  const stopped = s.state === "stopped";
  $("rps-head").textContent = stopped ? "RPS" : "Current RPS";
  $("fps-head").textContent = stopped ? "Failures/s" : "Current Failures/s";
  const sel = $("name-select"), names = (s.rows || []).map(r => r.method + " " + r.name);
  const have = Array.from(sel.options).map(o => o.value);
  for (const n of names) if (have.indexOf(n) < 0) { const o = document.createElement("option"); o.value = n; o.textContent = n; sel.appendChild(o); }
}
function renderTables(s) {
  const th = s.thresholds || [];
  $("thresholds-card").classList.toggle("hidden", th.length === 0);
  document.querySelector("#thresholds-table tbody").innerHTML = th.map(t =>
    "<tr>" + cell(esc(t.name), "l") + cell(esc(t.expression), "l") + cell(t.value == null ? "–" : Number(t.value).toFixed(3)) +
    cell(t.ok ? "✓" : "✗", t.ok ? "ok" : "bad") + "</tr>").join("");
  document.querySelector("#failures-table tbody").innerHTML = (s.failures || []).map(f =>
    "<tr>" + cell(esc(f.method), "l") + cell(esc(f.name), "l name") + cell(esc(f.error), "l name") + cell(f.occurrences) + "</tr>").join("");
  document.querySelector("#errors-table tbody").innerHTML = (s.errors || []).map(e =>
    "<tr>" + cell(e.count) + "<td class=\"l name\">" + esc(e.message) + (e.traceback && e.traceback !== e.message ? "<pre>" + esc(e.traceback) + "</pre>" : "") + "</td></tr>").join("");
}
const num = v => { const x = Number(v || 0); return Number.isInteger(x) ? String(x) : x.toFixed(3); };
function metricFigures(m) {
  const u = m.unit ? " " + m.unit : "";
  if (m.type === "counter") return "count=" + num(m.value) + " rate=" + Number(m.rate_per_s || 0).toFixed(2) + "/s";
  if (m.type === "gauge") return "value=" + num(m.value) + " min=" + num(m.min) + " max=" + num(m.max);
  if (m.type === "rate") return (100 * m.rate).toFixed(2) + " % (" + m.passes + " of " + m.count + ")";
  return "avg=" + num(m.avg) + " med=" + num(m.med) + " p90=" + num(m.p90) + " p95=" + num(m.p95) + " p99=" + num(m.p99) +
    " max=" + num(m.max) + u + " (" + m.count + " values)";
}
function renderScript(s) {
  const checks = s.checks || [], metrics = s.metrics || [];
  $("checks-card").classList.toggle("hidden", checks.length === 0);
  $("metrics-card").classList.toggle("hidden", metrics.length === 0);
  let p = 0, f = 0;
  document.querySelector("#checks-table tbody").innerHTML = checks.map(c => { p += c.passes; f += c.fails;
    return "<tr data-check=\"" + esc(c.name) + "\">" + cell((c.fails ? "✗ " : "✓ ") + esc(c.name), "l name " + (c.fails ? "bad" : "ok")) +
      cell(c.passes) + cell(c.fails) + cell(Number(c.percent).toFixed(2) + " %", "c-rate") + cell(esc(c.error || ""), "l name") + "</tr>"; }).join("");
  $("checks-total").textContent = p + f ? "— " + (100 * p / (p + f)).toFixed(2) + " % of " + (p + f) + " passed" : "";
  document.querySelector("#metrics-table tbody").innerHTML = metrics.map(m =>
    "<tr>" + cell(esc(m.name), "l name") + cell(esc(m.type), "l") + cell(esc(metricFigures(m)), "l") + "</tr>").join("");
}
function renderHeader(s) {
  const st = $("state");
  st.textContent = s.state; st.className = "badge " + s.state;
  document.body.dataset.state = s.state;
  $("elapsed").textContent = label(s.elapsed || 0);
  const t = s.total || {requests: 0, failures: 0, rps: 0, p95_ms: 0};
  $("rps").textContent = rate1(s.point && s.state !== "stopped" ? s.point.rps : t.rps);
  $("fail-ratio").textContent = (t.requests ? 100 * t.failures / t.requests : 0).toFixed(2) + "%";
  $("p95").textContent = ms(s.point ? s.point.p95 : t.p95_ms);
  if (s.rate !== undefined) { $("users").textContent = Number(s.rate).toFixed(1) + "/s"; $("users-label").textContent = "arrival rate, " + s.users + " VUs busy"; }
  else { $("users").textContent = s.users + (s.target_users && s.state !== "stopped" ? "/" + s.target_users : ""); $("users-label").textContent = "users"; }
  $("facts").innerHTML = Object.entries(s.facts || {}).map(([k, v]) => "<span>" + esc(k) + ": <b>" + esc(v) + "</b></span>").join("");
  const notes = (s.notes || []).slice();
  if (s.reset_at !== undefined) notes.unshift("Stats reset at " + label(s.reset_at) + ": the tables count from then; the reports hold the whole run.");
  $("notes").innerHTML = notes.map(esc).join("<br>");
}
function renderControls(s) {
  const m = s.model || {kind: "fixed"}, stopped = s.state === "stopped", ro = !!s.readonly;
  for (const id of ["users-field", "spawn-field"]) $(id).classList.toggle("hidden", ro || m.kind !== "users");
  $("rate-field").classList.toggle("hidden", ro || m.kind !== "rate");
  $("apply").classList.toggle("hidden", ro || (m.kind === "fixed" && s.state !== "ready"));
  $("stop").classList.toggle("hidden", ro); $("reset").classList.toggle("hidden", ro);
  $("apply").textContent = s.state === "ready" ? "Start" : "Apply";
  for (const id of ["apply", "stop", "reset"]) $(id).disabled = stopped;
  if (m.kind === "users") $("user-count").max = m.max;
  if (!prefilled && m.kind === "users" && s.target_users) { $("user-count").value = s.target_users; prefilled = true; }
  if (!prefilled && m.kind === "rate" && s.rate !== undefined) { $("rate").value = s.rate; prefilled = true; }
  if (m.kind === "fixed" && !ro && !$("message").textContent) $("message").textContent = "Load controls off: " + m.reason + ".";
}
function renderGroups(s) {
  const g = s.groups;
  $("groups-card").classList.toggle("hidden", !g);
  if (!g) return;
  $("groups-title").textContent = "By " + g.by; $("groups-head").textContent = g.by;
  document.querySelector("#groups-table tbody").innerHTML = g.groups.map(r => "<tr data-value=\"" + esc(r.value) + "\">" +
    cell(esc(r.value) + (r.lost ? " (" + r.lost + " lost)" : ""), "l") + cell(r.agents) + cell(r.users) + cell(r.requests) + cell(r.failures) +
    cell(ms(r.p50_ms), "c-median") + cell(ms(r.p95_ms), "c-p95") + cell(ms(r.p99_ms), "c-p99") + cell(rate1(r.rps), "c-rps") + cell(rate1(r.fps)) + "</tr>").join("");
  const rows = s.state === "stopped" ? null : s.group_rows;   // while running: each name's current figures per value
  $("group-rows-card").classList.toggle("hidden", !rows);
  if (!rows) return;
  $("group-rows-title").textContent = "By " + g.by + " and name"; $("group-rows-head").textContent = g.by;
  document.querySelector("#group-rows-table tbody").innerHTML = rows.map(r => "<tr data-value=\"" + esc(r.value) + "\" data-name=\"" + esc(r.name) + "\">" +
    cell(esc(r.value), "l") + cell(esc(r.method), "l") + cell(esc(r.name), "l") + cell(r.requests) + cell(r.failures) +
    cell(ms(r.p50_ms), "c-median") + cell(ms(r.p95_ms), "c-p95") + cell(ms(r.p99_ms), "c-p99") + cell(rate1(r.rps), "c-rps") + cell(rate1(r.fps)) + "</tr>").join("");
}
function update(s) {
  if (!("rows" in s) && snap) s = Object.assign({}, snap, s);   // a light second: the last tables stay
  snap = s;
  renderHeader(s); renderControls(s); renderStats(s); renderTables(s); renderGroups(s); renderScript(s);
  document.body.dataset.ticks = String(points.length);
}
async function post(path, fields) {
  try {
    const r = await fetch(path, {method: "POST", body: new URLSearchParams(fields || {}), credentials: "same-origin"});
    const text = await r.text();
    let msg = text; try { msg = JSON.parse(text).message || text; } catch (e) {}
    $("message").textContent = (r.ok ? "" : "Error: ") + msg;
  } catch (e) { $("message").textContent = "Error: " + e; }
}
$("apply").onclick = () => {
  const m = (snap && snap.model) || {kind: "fixed"};
  if (m.kind === "users") post("/swarm", Object.assign({user_count: $("user-count").value}, $("spawn-rate").value ? {spawn_rate: $("spawn-rate").value} : {}));
  else if (m.kind === "rate") post("/swarm", {rate: $("rate").value});
  else post("/swarm", {});
};
$("stop").onclick = () => post("/stop");
$("reset").onclick = () => post("/stats/reset");
$("name-select").onchange = e => { selectedName = e.target.value; redraw(); };
document.querySelectorAll("#stats-table th").forEach(th => th.onclick = () => {
  const k = th.dataset.k; sortAsc = sortKey === k ? !sortAsc : (k === "name" || k === "method"); sortKey = k;
  document.querySelectorAll("#stats-table th").forEach(h => h.classList.remove("sorted", "asc"));
  th.classList.add("sorted"); if (sortAsc) th.classList.add("asc");
  if (snap) renderStats(snap);
});
function connect() {
  const es = new EventSource("/events");
  es.addEventListener("history", e => { points = JSON.parse(e.data); redraw(); });
  es.addEventListener("tick", e => {
    const s = JSON.parse(e.data);
    if (s.point && (!points.length || points[points.length - 1].t < s.point.t)) points.push(s.point);
    update(s); redraw();
    if (s.state === "stopped") es.close();
  });
  es.onerror = () => { if (snap && snap.state === "stopped") es.close(); };
}
fetch("/api/snapshot", {credentials: "same-origin"}).then(r => r.json()).then(s => { if (!snap) update(s); }).catch(() => {});
connect();
"""#
}
