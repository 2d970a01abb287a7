// The run page: a chart per metric (over step or over time), the tail of each log
// stream with the lines that produced points highlighted, live while the run is in progress;
// for a run of a job with early stopping, why it was or was not stopped (early-stopping-chart.js).

import { enc, getJSON, request } from "./api.js";
import { fromTemplate } from "./dom.js";
import { showEarlyStopping } from "./early-stopping-chart.js";
import { MetricChart } from "./metric-chart.js";
import { number } from "./format.js";
import { onUpdate, pageState, startLive } from "./live.js";
import { cssVar } from "./theme.js";

const PAGE = 100000; // the API's largest page of points
const MAX_POINTS = 1000000; // per metric; uPlot draws one min/max segment per pixel column
const OBJECTIVE_COLOR = cssVar("--chart-objective");
const METRIC_COLOR = cssVar("--chart-metric");
const LF = 10;
const CR = 13;

let state = pageState();
// The parser's rules, from the server: whether a lone \r ends a line (text logs) or is
// text (CloudWatch logs), and what cleaning removes (ANSI sequences, C0 controls but tab).
const CR_ENDS = state.line_rules.cr_ends;
const INVISIBLE = new RegExp(state.line_rules.cleaned, "g");
const base = `/v1/jobs/${enc(state.job)}/runs/${enc(state.run)}`;
const grid = document.getElementById("metric-charts");
const logView = document.getElementById("log-view");
const tabs = document.getElementById("stream-tabs");
const tailSize = document.getElementById("tail-size");
const decoder = new TextDecoder("utf-8");

const metrics = new Map(); // name -> {steps, values, times, streams, lines, chart, cell}
const marks = new Map(); // stream -> Map(line's byte offset -> [{metric, value, step, line}])
let axis = "step";
let stream = Object.keys(state.streams)[0] ?? null;

function mark(point, metric) {
  if (!marks.has(point.stream)) marks.set(point.stream, new Map());
  const byOffset = marks.get(point.stream);
  if (!byOffset.has(point.offset)) byOffset.set(point.offset, []);
  byOffset.get(point.offset).push({ metric, value: point.value, step: point.step, line: point.line });
}

function metricEntry(name) {
  if (metrics.has(name)) return metrics.get(name);
  const objective = name === state.objective;
  const cell = fromTemplate("metric-chart");
  cell.classList.toggle("objective", objective);
  cell.querySelector(".metric-name").textContent = name;
  const plot = cell.querySelector(".plot");
  plot.dataset.metric = name;
  const entry = { steps: [], values: [], times: [], cell, chart: new MetricChart(plot, { name, color: objective ? OBJECTIVE_COLOR : METRIC_COLOR, axis }) };
  metrics.set(name, entry);
  // Keep the job's definition order, the objective first.
  const order = Object.keys(state.metrics).sort((a, b) => (b === state.objective) - (a === state.objective));
  const before = order.slice(order.indexOf(name) + 1).map((n) => metrics.get(n)?.cell).find((c) => c?.isConnected);
  grid.insertBefore(cell, before ?? null);
  return entry;
}

// A metric's points are numbered 1, 2, ... by arrival, and a page's cursor is the number
// of points before it: read from the count already held.
async function loadMetric(name, count) {
  const entry = metricEntry(name);
  let more = entry.values.length < count;
  while (more && entry.values.length < MAX_POINTS) {
    const held = entry.values.length;
    const body = await getJSON(`${base}/metrics/${enc(name)}?limit=${PAGE}${held ? `&cursor=${held}` : ""}`);
    for (const point of body.points) {
      entry.steps.push(point.step);
      entry.values.push(point.value);
      entry.times.push(Date.parse(point.timestamp) / 1000);
      mark(point, name);
    }
    more = body.next_cursor !== null && body.points.length > 0;
  }
  draw(name, entry, count);
}

function draw(name, entry, count) {
  const xs = axis === "time" ? entry.times : entry.steps;
  const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b] || a - b);
  const last = entry.values[entry.values.length - 1];
  const capped = count > entry.values.length ? ` · first ${entry.values.length} of ${count}` : "";
  entry.cell.querySelector(".metric-count").textContent = `${entry.values.length} points · last ${number(last)}${capped}`;
  entry.chart.setData(order.map((i) => xs[i]), order.map((i) => entry.values[i]), axis);
}

async function loadMetrics() {
  const names = Object.keys(state.metrics);
  document.getElementById("no-metrics").hidden = names.length > 0;
  await Promise.all(names.map((name) => loadMetric(name, state.metrics[name])));
}

function renderTabs() {
  const names = Object.keys(state.streams);
  tabs.replaceChildren(
    ...names.map((name) => {
      const button = Object.assign(document.createElement("button"), { type: "button", textContent: name });
      button.setAttribute("role", "tab");
      button.setAttribute("aria-selected", String(name === stream));
      button.addEventListener("click", () => {
        stream = name;
        renderTabs();
        loadLog(true);
      });
      return button;
    }),
  );
  tabs.hidden = names.length < 2;
}

// Splits raw bytes into lines as the parser does (\n, \r\n or, where CR_ENDS, a lone \r end
// one), each with the byte offset of its start. `start` is the offset of bytes[0]; when it is not
// 0, bytes[0] is the byte before the shown range, asked for to tell where lines start.
function splitLines(bytes, start) {
  const lines = [];
  let p = 0;
  let partial = false;
  if (start > 0) {
    if (bytes[0] === LF) p = 1;
    else if (CR_ENDS && bytes[0] === CR) p = bytes[1] === LF ? 2 : 1;
    else [p, partial] = [1, true];
  }
  while (p < bytes.length) {
    let i = p;
    while (i < bytes.length && bytes[i] !== LF && !(CR_ENDS && bytes[i] === CR)) i++;
    const ended = i < bytes.length;
    lines.push({ offset: start + p, text: decoder.decode(bytes.subarray(p, i)), partial, pending: !ended });
    partial = false;
    if (!ended) break;
    p = CR_ENDS && bytes[i] === CR && bytes[i + 1] === LF ? i + 2 : i + 1;
  }
  return lines;
}

// Line numbers: from a line that produced a point (points carry theirs), else counted
// back from the stream's line count when the bytes read are the whole stream's tail.
function numberLines(lines, byOffset, info, length) {
  const anchor = lines.findIndex((line) => !line.partial && byOffset?.has(line.offset));
  if (anchor >= 0) {
    const first = byOffset.get(lines[anchor].offset)[0].line - anchor;
    return lines.map((_, i) => first + i);
  }
  if (info && info.next_offset === length && lines.length) {
    const last = info.lines + (lines[lines.length - 1].pending ? 1 : 0);
    return lines.map((_, i) => last - (lines.length - 1 - i));
  }
  return lines.map(() => null);
}

let logKey = null;
async function loadLog(force = false) {
  if (!stream) return;
  const info = state.streams[stream];
  const size = Number(tailSize.value);
  const key = JSON.stringify([stream, size, info, state.metrics]);
  if (key === logKey && !force) return;
  logKey = key;
  const response = await request(`${base}/logs?stream=${enc(stream)}&tail=${size + 1}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const start = Number(response.headers.get("X-Log-Start"));
  const length = Number(response.headers.get("X-Log-Length"));
  const lines = splitLines(bytes, start);
  const byOffset = marks.get(stream);
  const numbers = numberLines(lines, byOffset, info, length);
  const atBottom = logView.scrollTop + logView.clientHeight >= logView.scrollHeight - 8 || !logView.dataset.rendered;
  const fragment = document.createDocumentFragment();
  if (start > 0) {
    const notice = Object.assign(document.createElement("div"), { className: "notice" });
    notice.textContent = `… the first ${(start + 1).toLocaleString()} bytes are not shown (a larger tail shows more).`;
    fragment.append(notice);
  }
  lines.forEach((line, i) => {
    const row = document.createElement("div");
    row.className = "line" + (line.partial ? " partial" : "") + (line.pending ? " pending" : "");
    const found = line.partial ? null : byOffset?.get(line.offset);
    if (found) {
      row.classList.add("has-points");
      row.title = found.map((p) => `${p.metric} = ${number(p.value)} (step ${p.step})`).join("\n");
      row.dataset.points = found.map((p) => p.metric).join(" ");
    }
    row.dataset.offset = String(line.offset);
    const ln = Object.assign(document.createElement("span"), { className: "ln", textContent: numbers[i] ?? "" });
    const text = Object.assign(document.createElement("span"), { className: "text", textContent: (line.partial ? "…" : "") + line.text.replace(INVISIBLE, "") });
    row.append(ln, text);
    fragment.append(row);
  });
  logView.replaceChildren(fragment);
  logView.dataset.rendered = "1";
  document.getElementById("log-range").textContent = `${stream}: bytes ${(start + (start > 0 ? 1 : 0)).toLocaleString()}–${length.toLocaleString()} of ${length.toLocaleString()}.`;
  if (atBottom) logView.scrollTop = logView.scrollHeight;
}

// Present only for a run of a job with early stopping (run.html): drawn again while the
// run is live, when its objective has new points or the run has ended.
const earlyStopping = document.querySelector("[data-testid='early-stopping']");
let earlyStoppingKey = null;

let loadedKey = null;
async function update(fresh) {
  state = fresh;
  const judged = JSON.stringify([state.metrics[state.objective] ?? 0, state.live]);
  if (earlyStopping && judged !== earlyStoppingKey) {
    earlyStoppingKey = judged;
    showEarlyStopping(earlyStopping, state.job, state.run);
  }
  const key = JSON.stringify([state.metrics, state.streams]);
  if (key === loadedKey) return;
  loadedKey = key;
  stream ??= Object.keys(state.streams)[0] ?? null;
  renderTabs();
  await loadMetrics(); // first: the log's highlights come from the points
  await loadLog();
}

for (const button of document.querySelectorAll("[data-axis]")) {
  button.addEventListener("click", () => {
    axis = button.dataset.axis;
    document.querySelectorAll("[data-axis]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
    for (const [name, entry] of metrics) draw(name, entry, state.metrics[name] ?? entry.values.length);
  });
}
tailSize.addEventListener("change", () => loadLog(true));
document.getElementById("only-points").addEventListener("change", (e) => logView.classList.toggle("only-points", e.target.checked));
onUpdate((fresh) => update(fresh));
update(state).finally(() => {
  document.body.dataset.ready = "1";
  startLive();
});
