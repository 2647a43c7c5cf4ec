import LuaLoadCore
import LuaLoadLive

/// The dashboard page: one HTML document, its style and script inline, Chart.js from /chart.js (embedded in the
/// binary): it works offline. Usable from 1280×800 down to a phone's width (the grid folds to one column).
enum WebPage {
    static func html(title: String) -> String {
        let t = HTMLReport.esc(title)
        return #"""
<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>\#(t)</title>
<style>
:root { --fg:#1d2330; --muted:#5d6675; --line:#dfe3ea; --bg:#f6f7f9; --card:#fff; --ok:#1a7f37; --bad:#c62828; --accent:#2f6fde; }
* { box-sizing:border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; flex-wrap:wrap; gap:8px 20px; align-items:center; padding:10px 16px; background:#18202e; color:#fff; }
header h1 { font-size:16px; margin:0; font-weight:600; overflow-wrap:anywhere; }
.badge { padding:2px 8px; border-radius:10px; background:#3a465c; font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.badge.running, .badge.spawning { background:#1a7f37; } .badge.stopping { background:#b26a00; } .badge.stopped { background:#7a2030; }
.kpis { display:flex; flex-wrap:wrap; gap:6px 18px; }
.kpi b { font-size:18px; font-variant-numeric:tabular-nums; } .kpi span { color:#aab4c4; font-size:12px; margin-left:4px; }
main { padding:12px 16px; display:grid; gap:12px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px 12px; min-width:0; }
.card h2 { font-size:13px; margin:0 0 8px; color:var(--muted); text-transform:uppercase; letter-spacing:.05em; }
.controls { display:flex; flex-wrap:wrap; gap:8px 14px; align-items:end; }
.controls label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); }
.controls input { width:110px; padding:5px 6px; border:1px solid var(--line); border-radius:5px; font:inherit; }
button { padding:6px 12px; border-radius:5px; border:1px solid var(--accent); background:var(--accent); color:#fff; font:inherit; cursor:pointer; }
button.secondary { background:#fff; color:var(--accent); } button.danger { background:var(--bad); border-color:var(--bad); }
button:disabled { opacity:.45; cursor:default; }
.downloads a { margin-right:10px; white-space:nowrap; }
#message { color:var(--muted); font-size:12px; min-height:1em; }
.charts { display:grid; grid-template-columns:repeat(3, minmax(0, 1fr)); gap:12px; }
.chart-box { position:relative; height:220px; }
.table-wrap { overflow-x:auto; }
table { border-collapse:collapse; width:100%; font-variant-numeric:tabular-nums; }
th, td { padding:5px 7px; border-bottom:1px solid var(--line); text-align:right; white-space:nowrap; }
th { white-space:normal; vertical-align:bottom; }
th { font-size:12px; color:var(--muted); cursor:pointer; user-select:none; position:sticky; top:0; background:var(--card); }
th.sorted::after { content:" ▾"; } th.sorted.asc::after { content:" ▴"; }
td.l, th.l { text-align:left; } td.name { white-space:normal; overflow-wrap:anywhere; min-width:120px; }
tr.total td { font-weight:600; border-top:2px solid var(--line); }
.ok { color:var(--ok); font-weight:600; } .bad { color:var(--bad); font-weight:600; }
pre { margin:4px 0 0; white-space:pre-wrap; font-size:12px; color:var(--muted); }
.facts { color:var(--muted); font-size:12px; display:flex; flex-wrap:wrap; gap:2px 14px; }
.notes { color:#8a5300; font-size:12px; }
.hidden { display:none !important; }
@media (max-width: 1100px) { .charts { grid-template-columns:1fr 1fr; } }
@media (max-width: 700px) {
  .charts { grid-template-columns:1fr; } .chart-box { height:180px; }
  header { padding:8px 10px; } main { padding:8px; } .controls input { width:90px; }
  th, td { padding:4px 5px; } .hide-narrow { display:none; }
}
</style></head>
<body>
<header>
  <h1>\#(t)</h1><span id="state" class="badge">…</span>
  <div class="kpis">
    <div class="kpi"><b id="elapsed">0s</b><span>elapsed</span></div>
    <div class="kpi" id="users-kpi"><b id="users">0</b><span id="users-label">users</span></div>
    <div class="kpi"><b id="rps">0</b><span>req/s</span></div>
    <div class="kpi"><b id="fail-ratio">0%</b><span>failures</span></div>
    <div class="kpi"><b id="p95">0</b><span>p95 ms (10 s)</span></div>
  </div>
</header>
<main>
  <section class="card">
    <div class="controls" id="controls">
      <label id="users-field">Users<input id="user-count" type="number" min="0" step="1"></label>
      <label id="spawn-field">Spawn rate (users/s)<input id="spawn-rate" type="number" min="0" step="any" placeholder="at once"></label>
      <label id="rate-field" class="hidden">Arrival rate (/s)<input id="rate" type="number" min="0" step="any"></label>
      <button id="apply">Apply</button>
      <button id="stop" class="danger">Stop</button>
      <button id="reset" class="secondary">Reset stats</button>
      <span class="downloads">Reports:
        <a id="dl-html" href="/stats/report?download=1">HTML</a>
        <a id="dl-csv" href="/stats/requests/csv">CSV</a>
        <a id="dl-failures" href="/stats/failures/csv">failures CSV</a>
        <a id="dl-json" href="/api/report.json">JSON</a></span>
    </div>
    <div id="message"></div>
    <div class="facts" id="facts"></div>
    <div class="notes" id="notes"></div>
  </section>
  <section class="charts">
    <div class="card"><h2>Requests and failures per second</h2><div class="chart-box"><canvas id="chart-rps"></canvas></div></div>
    <div class="card"><h2>Response times (ms) <select id="name-select"><option value="">Aggregated</option></select></h2>
      <div class="chart-box"><canvas id="chart-latency"></canvas></div></div>
    <div class="card"><h2 id="load-title">Users</h2><div class="chart-box"><canvas id="chart-users"></canvas></div></div>
  </section>
  <section class="card"><h2>Statistics</h2><div class="table-wrap"><table id="stats-table"><thead><tr>
    <th class="l" data-k="method">Type</th><th class="l" data-k="name">Name</th><th data-k="requests"># Requests</th>
    <th data-k="failures"># Fails</th><th data-k="median_ms">Median (ms)</th><th data-k="p95_ms">95%ile (ms)</th>
    <th data-k="p99_ms">99%ile (ms)</th><th data-k="avg_ms">Average (ms)</th><th data-k="min_ms" class="hide-narrow">Min (ms)</th>
    <th data-k="max_ms" class="hide-narrow">Max (ms)</th><th data-k="avg_content_size" class="hide-narrow">Average size (bytes)</th>
    <th data-k="rps" id="rps-head">Current RPS</th><th data-k="fps" id="fps-head">Current Failures/s</th>
  </tr></thead><tbody></tbody><tfoot></tfoot></table></div></section>
  <section class="card hidden" id="groups-card"><h2 id="groups-title">By region</h2><div class="table-wrap"><table id="groups-table"><thead><tr>
    <th class="l" id="groups-head">region</th><th>Agents</th><th>Users</th><th># Requests</th><th># Fails</th><th>Median (ms)</th>
    <th>95%ile (ms)</th><th>99%ile (ms)</th><th>RPS</th><th>Failures/s</th></tr></thead><tbody></tbody></table></div></section>
  <section class="card hidden" id="group-rows-card"><h2 id="group-rows-title">By region and name</h2><div class="table-wrap"><table id="group-rows-table"><thead><tr>
    <th class="l" id="group-rows-head">region</th><th class="l">Type</th><th class="l">Name</th><th># Requests</th><th># Fails</th><th>Median (ms)</th>
    <th>95%ile (ms)</th><th>99%ile (ms)</th><th>Current RPS</th><th>Current Failures/s</th></tr></thead><tbody></tbody></table></div></section>
  <section class="card hidden" id="checks-card"><h2>Checks <span id="checks-total"></span></h2><div class="table-wrap"><table id="checks-table"><thead><tr>
    <th class="l">Check</th><th>Passes</th><th>Fails</th><th>Pass rate</th><th class="l">First error</th></tr></thead><tbody></tbody></table></div></section>
  <section class="card hidden" id="metrics-card"><h2>Custom metrics</h2><div class="table-wrap"><table id="metrics-table"><thead><tr>
    <th class="l">Metric</th><th class="l">Type</th><th class="l">Figures</th></tr></thead><tbody></tbody></table></div></section>
  <section class="card" id="thresholds-card"><h2>Thresholds</h2><table id="thresholds-table"><thead><tr>
    <th class="l">Name</th><th class="l">Expression</th><th>Value</th><th>Pass</th></tr></thead><tbody></tbody></table></section>
  <section class="card"><h2>Failures</h2><div class="table-wrap"><table id="failures-table"><thead><tr>
    <th class="l">Type</th><th class="l">Name</th><th class="l">Error</th><th># Occurrences</th></tr></thead><tbody></tbody></table></div></section>
  <section class="card"><h2>Script errors</h2><div class="table-wrap"><table id="errors-table"><thead><tr>
    <th>Count</th><th class="l">Message (file:line)</th></tr></thead><tbody></tbody></table></div></section>
</main>
<script src="/chart.js"></script>
<script>
\#(WebPageScript.source)
</script>
</body></html>
"""#
    }
}
