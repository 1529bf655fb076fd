/** The live dashboard: one tile per circuit, updated over server-sent events (`GET /events`). */
export function dashboardHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>GL-VCCI circuits</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2933; background: #f4f6f8; }
  body { margin: 0; padding: 16px 20px; }
  header { display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; }
  h1 { font-size: 20px; margin: 0; }
  .pill { padding: 2px 10px; border-radius: 12px; font-weight: 600; font-size: 13px; color: #fff; }
  .ok { background: #2f9e44; } .degraded { background: #e67700; } .down { background: #c92a2a; } .offline { background: #868e96; }
  #grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(270px, 1fr)); gap: 12px; margin-top: 14px; }
  .tile { background: #fff; border-radius: 8px; padding: 10px 12px; border-left: 8px solid #adb5bd; box-shadow: 0 1px 2px rgba(0,0,0,.08); font-size: 13px; }
  .tile h2 { font-size: 14px; margin: 0 0 4px; display: flex; justify-content: space-between; align-items: center; gap: 6px; }
  .state { font-size: 12px; padding: 1px 8px; border-radius: 10px; color: #fff; background: #adb5bd; white-space: nowrap; }
  .s-closed { border-left-color: #2f9e44; } .s-closed .state { background: #2f9e44; }
  .s-open, .s-forced_open { border-left-color: #c92a2a; } .s-open .state, .s-forced_open .state { background: #c92a2a; }
  .s-half_open { border-left-color: #f59f00; } .s-half_open .state { background: #f59f00; }
  .s-disabled { border-left-color: #868e96; } .s-disabled .state { background: #868e96; }
  .s-metrics_only { border-left-color: #1971c2; } .s-metrics_only .state { background: #1971c2; }
  .row { display: flex; justify-content: space-between; gap: 8px; margin: 2px 0; }
  .muted { color: #616e7c; }
  .served span { display: inline-block; background: #edf2f7; border-radius: 4px; padding: 0 5px; margin: 2px 3px 0 0; }
  .served .fb { background: #fff3bf; }
  .manual { margin-top: 4px; color: #862e9c; font-weight: 600; }
  .upstream { margin-top: 6px; display: flex; align-items: center; gap: 6px; }
  button { font: inherit; font-size: 12px; padding: 2px 10px; border-radius: 4px; border: 1px solid #adb5bd; background: #fff; cursor: pointer; }
  button.break { border-color: #c92a2a; color: #c92a2a; } button.heal { border-color: #2f9e44; color: #2f9e44; }
  .broken { color: #c92a2a; font-weight: 600; }
  #log { margin-top: 16px; background: #fff; border-radius: 8px; padding: 8px 12px; font: 12px ui-monospace, monospace; max-height: 220px; overflow: auto; }
</style>
</head>
<body>
<header>
  <h1>GL-VCCI circuit breakers</h1>
  <span id="health" class="pill offline">connecting…</span>
  <span class="muted" id="updated"></span>
</header>
<div id="grid"></div>
<div id="log"><div class="muted">transitions appear here</div></div>
<script>
const grid = document.getElementById('grid');
const tiles = new Map();
const fmtTime = (ms) => new Date(ms).toLocaleTimeString();
const ago = (ms) => { const s = Math.max(0, Math.round((Date.now() - ms) / 1000)); return s < 60 ? s + ' s ago' : Math.round(s / 60) + ' min ago'; };
function esc(s) { return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]); }
async function act(name, action) {
  await fetch('/upstreams/' + encodeURIComponent(name) + '/' + action, { method: 'POST' });
}
function render(c) {
  let tile = tiles.get(c.name);
  if (!tile) {
    tile = document.createElement('div');
    tile.dataset.circuit = c.name;
    tiles.set(c.name, tile);
    grid.appendChild(tile);
  }
  tile.className = 'tile s-' + c.state;
  tile.dataset.state = c.state;
  const lt = c.lastTransition;
  const next = c.nextTrialAt && (c.state === 'open') ? Math.max(0, Math.ceil((c.nextTrialAt - Date.now()) / 1000)) + ' s' : '—';
  const served = Object.entries(c.served || {}).map(([k, v]) => '<span class="' + (k === 'live' ? '' : 'fb') + '">' + esc(k) + ' ' + v + '</span>').join('') || '<span class="muted">nothing yet</span>';
  const up = c.upstream;
  tile.innerHTML =
    '<h2><span>' + esc(c.name) + (c.critical ? ' <span class="muted" title="critical">★</span>' : '') + '</span><span class="state">' + esc(c.state) + '</span></h2>' +
    '<div class="row"><span>failure rate</span><b>' + c.failureRate + ' %</b></div>' +
    '<div class="row"><span>calls/s</span><b>' + (c.callsPerSecond ?? 0) + '</b></div>' +
    '<div class="row muted"><span>calls · failed · rejected</span><span>' + c.calls + ' · ' + (c.failures + c.timeouts) + ' · ' + c.rejections + '</span></div>' +
    '<div class="row muted"><span>last transition</span><span>' + (lt ? esc(lt.from + ' → ' + lt.to) : '—') + '</span></div>' +
    (lt ? '<div class="row muted"><span>reason</span><span>' + esc(lt.reason) + ', ' + ago(lt.at) + '</span></div>' : '') +
    '<div class="row muted"><span>next trial in</span><span>' + next + '</span></div>' +
    '<div class="served">served: ' + served + '</div>' +
    (c.manual ? '<div class="manual">changed by hand: ' + esc(c.manual.action) + ' since ' + fmtTime(c.manual.since) + '</div>' : '') +
    (up ? '<div class="upstream"><span class="' + (up.broken ? 'broken' : 'muted') + '">' + esc(up.name) + (up.broken ? ' broken: ' + esc(up.fault) : ' healthy') + '</span>' +
      '<button class="break" data-action="break" data-upstream="' + esc(up.name) + '"' + (up.broken ? ' disabled' : '') + '>break</button>' +
      '<button class="heal" data-action="heal" data-upstream="' + esc(up.name) + '"' + (up.broken ? '' : ' disabled') + '>heal</button></div>' : '');
}
grid.addEventListener('click', (e) => {
  const b = e.target.closest('button[data-action]');
  if (b) { b.disabled = true; act(b.dataset.upstream, b.dataset.action); }
});
const es = new EventSource('/events');
es.addEventListener('circuits', (e) => {
  const data = JSON.parse(e.data);
  for (const c of data.circuits) render(c);
  const h = document.getElementById('health');
  h.textContent = 'health: ' + data.health;
  h.className = 'pill ' + data.health;
  document.getElementById('updated').textContent = 'updated ' + fmtTime(data.at);
});
es.addEventListener('transition', (e) => {
  const t = JSON.parse(e.data);
  const log = document.getElementById('log');
  if (log.firstChild && log.firstChild.classList && log.firstChild.classList.contains('muted')) log.innerHTML = '';
  const line = document.createElement('div');
  line.textContent = fmtTime(t.at) + '  ' + t.circuit + '  ' + t.from + ' → ' + t.to + '  (' + t.reason + ')' + (t.error ? '  ' + t.error : '');
  log.prepend(line);
});
es.onerror = () => { const h = document.getElementById('health'); h.textContent = 'reconnecting…'; h.className = 'pill offline'; };
</script>
</body>
</html>`;
}
