// The live dashboard: polls /api/summary every second and renders it; the drawing pad sends a PNG
// to /api/classify, which produces it to digits.images, then polls /api/predictions/{id} until the
// prediction has come back through Kafka.
'use strict';

const $ = (id) => document.getElementById(id);
const fmt = (n, digits = 0) => (n === null || n === undefined ? '-' : Number(n).toLocaleString('en-US', {
  minimumFractionDigits: digits, maximumFractionDigits: digits }));
const ms = (n) => (n === null || n === undefined ? '-' : `${n} ms`);
const pct = (x) => `${(100 * x).toFixed(2)}%`;

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
    tr.innerHTML = `<td>${row.trueClass}</td><td class="total">${fmt(row.total)}</td>` +
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
    renderAccuracy(s.accuracy);
    renderConfusion(s.confusion);
    renderRecent(s.recent);
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
