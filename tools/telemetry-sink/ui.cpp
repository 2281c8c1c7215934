// The explorer page: recent traces with search, a waterfall of one trace and its logs. Served
// from this string so the sink stays a single binary; vanilla JS, no build step. Text from the
// store is inserted with textContent only (span names and attributes are untrusted input).
#include "http_server.hpp"

namespace chat::sink {

const char* const kExplorerHtml = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>telemetry sink</title>
<style>
body { font: 13px system-ui, sans-serif; margin: 0; color: #222; }
header { background: #243447; color: #fff; padding: 8px 12px; }
header h1 { font-size: 15px; margin: 0; display: inline; }
form { display: inline-flex; gap: 6px; margin-left: 16px; }
input, select, button { font: inherit; }
main { display: grid; grid-template-columns: 420px 1fr 380px; height: calc(100vh - 40px); }
section { overflow: auto; border-right: 1px solid #ddd; padding: 6px; }
table { border-collapse: collapse; width: 100%; }
td, th { padding: 3px 4px; border-bottom: 1px solid #eee; text-align: left; white-space: nowrap; }
tr.trace:hover { background: #eef4ff; cursor: pointer; }
.err { color: #b00020; font-weight: 600; }
.row { position: relative; height: 20px; border-bottom: 1px solid #f2f2f2; cursor: pointer; }
.row:hover { background: #f6f9ff; }
.label { position: absolute; left: 0; width: 320px; overflow: hidden; text-overflow: ellipsis;
         white-space: nowrap; line-height: 20px; }
.track { position: absolute; left: 330px; right: 4px; top: 3px; height: 14px; }
.bar { position: absolute; height: 14px; border-radius: 2px; min-width: 2px; }
.k-SPAN_KIND_SERVER { background: #4e79a7; } .k-SPAN_KIND_CLIENT { background: #59a14f; }
.k-SPAN_KIND_PRODUCER { background: #f28e2b; } .k-SPAN_KIND_CONSUMER { background: #b07aa1; }
.k-SPAN_KIND_INTERNAL, .k-SPAN_KIND_UNSPECIFIED { background: #9c9c9c; }
.bar.error { outline: 2px solid #b00020; }
pre { background: #f7f7f7; padding: 6px; white-space: pre-wrap; word-break: break-all; }
.log { border-bottom: 1px solid #eee; padding: 3px 0; }
.lvl-ERROR { color: #b00020; } .lvl-WARN { color: #a66300; }
</style>
</head>
<body>
<header><h1>telemetry sink</h1>
<form id="search">
  <select id="service"><option value="">all services</option></select>
  <input id="name" placeholder="span name">
  <select id="status"><option value="">any status</option><option>unset</option><option>ok</option><option>error</option></select>
  <input id="attr" placeholder="attr key=value">
  <input id="since" placeholder="since (15m)" size="8">
  <button>search</button>
</form></header>
<main>
<section><table><thead><tr><th>root</th><th>spans</th><th>ms</th><th>start</th></tr></thead>
<tbody id="traces"></tbody></table></section>
<section><div id="trace-title"></div><div id="waterfall"></div><pre id="detail"></pre></section>
<section><b>logs</b><div id="logs"></div></section>
</main>
<script>
'use strict';
const $ = (id) => document.getElementById(id);
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
async function getJson(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
  return r.json();
}
async function loadServices() {
  const data = await getJson('/api/services');
  const sel = $('service');
  for (const s of data.services) { const o = el('option', s); o.value = s; sel.appendChild(o); }
}
async function search(ev) {
  if (ev) ev.preventDefault();
  const p = new URLSearchParams();
  if ($('service').value) p.set('service', $('service').value);
  if ($('name').value) p.set('name', $('name').value);
  if ($('status').value) p.set('status', $('status').value);
  if ($('since').value) p.set('since', $('since').value);
  const attr = $('attr').value.trim();
  if (attr.includes('=')) {
    const i = attr.indexOf('=');
    p.set('attr.' + attr.slice(0, i).trim(), attr.slice(i + 1).trim());
  }
  p.set('limit', '100');
  const data = await getJson('/api/traces?' + p.toString());
  const body = $('traces');
  body.replaceChildren();
  for (const t of data.traces) {
    const tr = el('tr', undefined, 'trace');
    const root = el('td', t.root_service + ': ' + t.root_name, t.error_count > 0 ? 'err' : '');
    tr.append(root, el('td', t.span_count), el('td', (t.duration_ns / 1e6).toFixed(1)),
              el('td', t.start.slice(11, 23)));
    tr.onclick = () => showTrace(t.trace_id);
    body.appendChild(tr);
  }
}
function depthOrder(spans) {
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const children = new Map();
  const roots = [];
  for (const s of spans) {
    if (s.parent_span_id && byId.has(s.parent_span_id)) {
      if (!children.has(s.parent_span_id)) children.set(s.parent_span_id, []);
      children.get(s.parent_span_id).push(s);
    } else {
      roots.push(s);
    }
  }
  const out = [];
  const walk = (s, depth) => {
    out.push([s, depth]);
    for (const c of (children.get(s.span_id) || [])) walk(c, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return out;
}
async function showTrace(id) {
  const trace = await getJson('/api/traces/' + id);
  const spans = trace.spans;
  const t0 = Math.min(...spans.map((s) => s.start_unix_nano));
  const t1 = Math.max(...spans.map((s) => s.end_unix_nano));
  const total = Math.max(t1 - t0, 1);
  $('trace-title').textContent = 'trace ' + id + ' (' + ((t1 - t0) / 1e6).toFixed(2) + ' ms)';
  const wf = $('waterfall');
  wf.replaceChildren();
  $('detail').textContent = '';
  for (const [s, depth] of depthOrder(spans)) {
    const row = el('div', undefined, 'row');
    const label = el('div', s.service_name + '  ' + s.name, 'label');
    label.style.paddingLeft = (depth * 12) + 'px';
    const track = el('div', undefined, 'track');
    const bar = el('div', undefined, 'bar k-' + s.kind +
                   (s.status.code === 'STATUS_CODE_ERROR' ? ' error' : ''));
    bar.style.left = (100 * (s.start_unix_nano - t0) / total) + '%';
    bar.style.width = (100 * Math.max(s.duration_ns, 0) / total) + '%';
    bar.title = s.kind + ' ' + (s.duration_ns / 1e6).toFixed(3) + ' ms';
    track.appendChild(bar);
    row.append(label, track);
    row.onclick = () => { $('detail').textContent = JSON.stringify(s, null, 2); };
    wf.appendChild(row);
  }
  const logs = await getJson('/api/logs?direction=forward&limit=500&trace_id=' + id);
  const box = $('logs');
  box.replaceChildren();
  for (const l of logs.logs) {
    const d = el('div', undefined, 'log');
    d.append(el('span', l.timestamp.slice(11, 23) + ' '), el('b', l.level + ' ', 'lvl-' + l.level),
             el('span', l.service + ': ' + l.msg));
    d.title = JSON.stringify(l.attributes);
    box.appendChild(d);
  }
}
$('search').addEventListener('submit', search);
loadServices().catch(console.error);
search().catch(console.error);
</script>
</body>
</html>
)HTML";

}  // namespace chat::sink
