// The live dashboard: polls /api/summary every second and renders it; the drawing pad sends a PNG
// to /api/classify, which produces it to digits.images, then polls /api/predictions/{id} until the
// prediction has come back through Kafka.
'use strict';

const $ = (id) => document.getElementById(id);
const fmt = (n, digits = 0) => (n === null || n === undefined ? '-' : Number(n).toLocaleString('en-US', {
  minimumFractionDigits: digits, maximumFractionDigits: digits }));
const ms = (n) => (n === null || n === undefined ? '-' : `${n} ms`);
const pct = (x) => `${(100 * x).toFixed(2)}%`;
// Model versions and reasons come from digits.models, which any client with access can write.
const esc = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function drawDigit(canvas, base64) {
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(28, 28);
  const bytes = atob(base64);
  for (let i = 0; i < 784; i++) {
    const ink = bytes.charCodeAt(i);
    image.data.set([255 - ink, 255 - ink, 255 - ink, 255], i * 4);
  }
  ctx.putImageData(image, 0, 0);
}

function renderAccuracy(rows) {
  const body = $('accuracy-table').tBodies[0];
  body.innerHTML = '';
  for (const row of rows) {
    const tr = body.insertRow();
    tr.dataset.class = row.trueClass;
    tr.innerHTML = `<td>${esc(row.trueClass)}</td><td class="total">${fmt(row.total)}</td>` +
      `<td class="correct">${fmt(row.correct)}</td><td class="accuracy">${pct(row.accuracy)}</td>` +
      `<td><span class="bar" style="width:${Math.round(80 * row.accuracy)}px"></span></td>`;
  }
  const all = rows.find((r) => r.trueClass === 'all');
  $('accuracy-all').textContent = all ? pct(all.accuracy) : '-';
}

function renderConfusion(matrix) {
  const max = Math.max(1, ...matrix.flatMap((row, t) => row.filter((_, p) => p !== t)));
  const diagMax = Math.max(1, ...matrix.map((row, t) => row[t]));
  let html = '<tr><th></th>' + [...Array(10).keys()].map((p) => `<th>${p}</th>`).join('') + '</tr>';
  matrix.forEach((row, t) => {
    html += `<tr><th>${t}</th>`;
    row.forEach((count, p) => {
      const share = p === t ? count / diagMax : count / max;
      const color = p === t ? `rgba(33,113,181,${0.15 + 0.85 * share})` : `rgba(229,57,53,${count ? 0.2 + 0.8 * share : 0})`;
      const text = share > 0.6 ? '#fff' : '#1d2733';
      html += `<td data-true="${t}" data-predicted="${p}" style="background:${color};color:${text}">${count}</td>`;
    });
    html += '</tr>';
  });
  $('confusion').innerHTML = html;
}

function renderRecent(recent) {
  const box = $('recent');
  box.innerHTML = '';
  for (const p of recent) {
    const div = document.createElement('div');
    div.className = 'digit' + (p.correct === false ? ' wrong' : '');
    div.dataset.id = p.id;
    const canvas = document.createElement('canvas');
    canvas.width = 28;
    canvas.height = 28;
    if (p.pixelsBase64) drawDigit(canvas, p.pixelsBase64);
    div.appendChild(canvas);
    const caption = document.createElement('div');
    caption.textContent = `${p.label === null || p.label === undefined ? '?' : p.label}/${p.predicted}`;
    caption.title = `${p.id}: ${(100 * p.confidence).toFixed(1)}%, ${p.latencyMs} ms`;
    div.appendChild(caption);
    box.appendChild(div);
  }
}

const COLORS = ['#2171b5', '#e6550d', '#31a354', '#756bb1', '#636363', '#d6616b'];

// Each version's accuracy, window by window, as lines over a shared time axis.
function renderChart(byVersion, live) {
  const svg = $('accuracy-chart');
  const series = Object.entries(byVersion || {}).filter(([, points]) => points.length > 0);
  const all = series.flatMap(([, points]) => points);
  if (all.length === 0) {
    svg.innerHTML = '<text x="10" y="20" font-size="12" fill="#5b6b7b">No labeled images yet.</text>';
    $('chart-legend').textContent = '';
    return;
  }
  const t0 = Math.min(...all.map((p) => p.windowEnd));
  const t1 = Math.max(...all.map((p) => p.windowEnd), t0 + 1);
  const low = Math.min(0.9, ...all.map((p) => p.accuracy));
  const x = (t) => 40 + 550 * (t - t0) / (t1 - t0);
  const y = (a) => 10 + 190 * (1 - (a - low) / (1 - low));
  let html = [low, (1 + low) / 2, 1].map((a) => `<line x1="40" x2="590" y1="${y(a)}" y2="${y(a)}" stroke="#dde3e8"/>` +
    `<text x="2" y="${y(a) + 4}" font-size="10" fill="#5b6b7b">${(100 * a).toFixed(1)}%</text>`).join('');
  const legend = [];
  series.forEach(([version, points], i) => {
    const color = COLORS[i % COLORS.length];
    const path = points.map((p, j) => `${j ? 'L' : 'M'}${x(p.windowEnd).toFixed(1)},${y(p.accuracy).toFixed(1)}`).join('');
    html += `<path d="${path}" fill="none" stroke="${color}" stroke-width="2" data-version="${esc(version)}"/>`;
    html += points.map((p) => `<circle cx="${x(p.windowEnd).toFixed(1)}" cy="${y(p.accuracy).toFixed(1)}" r="2.5" ` +
      `fill="${color}"><title>${esc(version)}: ${pct(p.accuracy)} of ${p.total}</title></circle>`).join('');
    legend.push(`<span style="color:${color}">&#9632; ${esc(version)}${version === live ? ' (live)' : ''}</span>`);
  });
  svg.innerHTML = html;
  $('chart-legend').innerHTML = legend.join(' &nbsp; ');
}

function renderModels(s) {
  $('shadow-line').hidden = !s.shadowVersion;
  $('shadow-version').textContent = s.shadowVersion || '-';
  const all = (rows) => (rows || []).find((r) => r.trueClass === 'all');
  const live = all(s.accuracy);
  const shadow = all(s.shadowAccuracy);
  $('shadow-summary').textContent = s.shadowVersion
    ? `Shadow ${s.shadowVersion}: ${shadow ? pct(shadow.accuracy) + ' of ' + fmt(shadow.total) : 'no labeled images yet'}` +
      ` beside live ${s.modelVersion}: ${live ? pct(live.accuracy) : '-'} (newest window)`
    : 'No shadow model. Publish one with ./run stream-app model publish DIR --shadow.';
  const body = $('model-history').tBodies[0];
  body.innerHTML = '';
  const history = (s.models && s.models.history) || [];
  for (const change of [...history].reverse().slice(0, 12)) {
    const tr = body.insertRow();
    tr.innerHTML = `<td>${new Date(change.at).toLocaleTimeString()}</td><td>${esc(change.action)}</td>` +
      `<td>${esc(change.version)}</td><td>${esc(change.reason || '')}</td>`;
  }
}

function renderInstance(instance) {
  $('instance-id').textContent = instance ? `(${instance.instanceId} of ${instance.applicationId})` : '';
  const body = $('partitions').tBodies[0];
  body.innerHTML = '';
  const partitions = (instance && instance.partitions) || [];
  if (partitions.length === 0) {
    body.insertRow().innerHTML = '<td colspan="4">none yet (starting, or more instances than partitions)</td>';
  }
  for (const p of partitions) {
    body.insertRow().innerHTML = `<td>${esc(p.partition)}</td><td>${fmt(p.committedOffset)}</td>` +
      `<td>${fmt(p.endOffset)}</td><td>${fmt(p.lag)}</td>`;
  }
}

async function refresh() {
  try {
    const response = await fetch('api/summary', { cache: 'no-store' });
    const s = await response.json();
    $('model-version').textContent = s.modelVersion;
    $('throughput').textContent = fmt(s.imagesPerSecond, 1);
    $('latency-p50').textContent = ms(s.latencyMs.p50);
    $('latency-p90').textContent = ms(s.latencyMs.p90);
    $('latency-p99').textContent = ms(s.latencyMs.p99);
    $('predictions-total').textContent = fmt(s.predictions);
    const letters = Object.entries(s.deadLetters);
    $('dead-letters-total').textContent = fmt(letters.reduce((sum, [, n]) => sum + n, 0));
    $('dead-letters').textContent = letters.map(([reason, n]) => `${reason}: ${n}`).join(', ');
    const joins = s.labels;
    $('labels-waiting').textContent = fmt(joins.labelsAwaitingImage);
    $('labels-join').textContent = `${fmt(joins.predictionsAwaitingLabel)} predictions waiting for a label; ` +
      `gave up after the join window: ${fmt(joins.labelsUnmatched)} labels, ${fmt(joins.predictionsUnlabeled)} predictions`;
    $('labels-join').className = joins.labelsUnmatched > 0 ? 'small warn' : 'small';
    renderAccuracy(s.accuracy);
    renderConfusion(s.confusion);
    renderRecent(s.recent);
    renderModels(s);
    renderInstance(s.instance);
    renderChart(s.accuracyByVersion, s.modelVersion);
    $('status').textContent = `live, updated ${new Date().toLocaleTimeString()}`;
    $('status').className = 'status ok';
  } catch (e) {
    $('status').textContent = `no data: ${e}`;
    $('status').className = 'status down';
  }
}

// The drawing pad: thick white-on-black strokes like MNIST ink; the server does the MNIST-style fitting.
const pad = $('pad');
const pen = pad.getContext('2d');
function clearPad() {
  pen.fillStyle = '#000';
  pen.fillRect(0, 0, pad.width, pad.height);
}
clearPad();
pen.strokeStyle = '#fff';
pen.lineWidth = 20;
pen.lineCap = 'round';
pen.lineJoin = 'round';
let drawing = false;
const point = (e) => { const r = pad.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
pad.addEventListener('pointerdown', (e) => { drawing = true; pen.beginPath(); pen.moveTo(...point(e)); pen.lineTo(...point(e)); pen.stroke(); });
pad.addEventListener('pointermove', (e) => { if (drawing) { pen.lineTo(...point(e)); pen.stroke(); } });
window.addEventListener('pointerup', () => { drawing = false; });
$('clear').addEventListener('click', () => { clearPad(); $('canvas-result').textContent = 'Draw a digit 0-9, then classify it.'; });

$('classify').addEventListener('click', async () => {
  const result = $('canvas-result');
  const png = pad.toDataURL('image/png').split(',')[1];
  result.textContent = 'Sent to digits.images, waiting for the prediction...';
  const started = performance.now();
  const sent = await fetch('api/classify', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ png }) });
  const answer = await sent.json();
  if (!sent.ok) {
    result.textContent = answer.error || `The app refused the drawing (HTTP ${sent.status}).`;
    return;
  }
  const { id } = answer;
  result.dataset.id = id;
  for (let attempt = 0; attempt < 100; attempt++) {
    const answer = await fetch(`api/predictions/${encodeURIComponent(id)}`, { cache: 'no-store' });
    if (answer.ok) {
      const p = await answer.json();
      result.innerHTML = `<b id="canvas-digit">${p.predicted}</b> with ${(100 * p.confidence).toFixed(1)}% ` +
        `confidence, back through Kafka in ${Math.round(performance.now() - started)} ms`;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  result.textContent = 'No prediction after 10 s: is the stream app running?';
});

refresh();
setInterval(refresh, 1000);
