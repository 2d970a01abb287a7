// The regex tester: definitions and a sample log to POST /v1/parse, and every point's
// and rejected capture's span highlighted in the lines as the definitions saw them.

import { ApiError, enc, getJSON, postJSON, request } from "./api.js";
import { element, fromTemplate } from "./dom.js";
import { number } from "./format.js";
import { cssVar } from "./theme.js";

const MAX_LINES = 5000; // lines drawn; the tables say how many more there are
const MAX_ROWS = 2000;
const SAMPLE_BYTES = 1024 * 1024; // of a run's stored log, as the sample to try definitions on
const SAVED = "logmetrics.tester";
const PALETTE = Array.from({ length: 10 }, (_, i) => cssVar(`--metric-${i + 1}`)); // a metric's colour, in definition order
const EXAMPLE = {
  definitions: JSON.stringify(
    [
      { Name: "loss", Regex: "Loss = (.*?);" },
      { Name: "ganloss", Regex: "GAN_loss=(.*?);" },
      { Name: "discloss", Regex: "disc_train_loss=(.*?);" },
      { Name: "real", Regex: "real (\\S+)" },
    ],
    null,
    2,
  ),
  log: [
    "GAN_loss=0.138318; Scaled_reg=2.654134; disc:[-0.017371,0.102429] real 93.3% gen 0.0% disc-combined=0.000000; disc_train_loss=1.374587; Loss = 16.020744; Iteration 0 took 0.704s; Elapsed=0s",
    "GAN_loss=0.131922; Scaled_reg=2.613087; disc:[-0.016944,0.098177] real 95.1% gen 0.0% disc-combined=0.000000; disc_train_loss=1.361013; Loss = 15.706551; Iteration 1 took 0.698s; Elapsed=1s",
    "checkpoint saved to /opt/ml/model/ckpt-2.pt",
    "GAN_loss=0.127004; Scaled_reg=2.580210; disc:[-0.015873,0.094502] real 0.5 gen 0.1% disc-combined=0.000000; disc_train_loss=1.349921; Loss = 15.418130; Iteration 2 took 0.701s; Elapsed=2s",
    "",
  ].join("\n"),
};

const form = document.getElementById("tester-form");
const logInput = document.getElementById("log-input");
const definitionsInput = document.getElementById("definitions-input");
const formatSelect = document.getElementById("log-format");
const presetSelect = document.getElementById("preset");
const errorBox = document.getElementById("parse-error");
const statusText = document.getElementById("parse-status");
const view = document.getElementById("highlighted-log");
const job = new URLSearchParams(location.search).get("job");
const jobBar = document.getElementById("job-bar");
const runSelect = document.getElementById("sample-run");
const applyButton = document.getElementById("apply-button");
const applyStatus = document.getElementById("apply-status");
const tokenBox = document.getElementById("admin-token-box");
const tokenInput = document.getElementById("admin-token");

class InputError extends Error {}

function readDefinitions() {
  const text = definitionsInput.value.trim();
  if (!text) throw new InputError("Metric definitions: paste a JSON list such as [{\"Name\": \"loss\", \"Regex\": \"loss=(.*?);\"}], or pick a preset.");
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(`Metric definitions are not valid JSON: ${error.message}`);
  }
  if (value && !Array.isArray(value) && typeof value === "object") {
    value = value.MetricDefinitions ?? value.metric_definitions ?? value.AlgorithmSpecification?.MetricDefinitions;
  }
  if (!Array.isArray(value) && typeof value !== "string") {
    throw new InputError("Metric definitions: expected a JSON list of {\"Name\", \"Regex\"} (or an object with MetricDefinitions, or a preset's name as a JSON string).");
  }
  return value;
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

let sequence = 0;
async function parse() {
  const mine = ++sequence;
  save();
  let definitions;
  try {
    definitions = readDefinitions();
  } catch (error) {
    showError(error.message);
    return;
  }
  statusText.textContent = "parsing…";
  try {
    const result = await postJSON("/v1/parse", { metric_definitions: definitions, log: logInput.value, log_format: formatSelect.value });
    if (mine !== sequence) return; // a later parse is on its way
    showError("");
    render(result, Array.isArray(definitions) ? definitions.map((d) => d.Name ?? d.name) : []);
    statusText.textContent = `${result.lines} lines · ${result.points.length} points · ${result.rejections.length} rejected`;
  } catch (error) {
    if (mine !== sequence) return;
    statusText.textContent = "";
    const prefix = error instanceof ApiError && error.status === 422 ? "The service refused the definitions: " : "Could not parse: ";
    showError(prefix + error.message);
  }
}

// Character offsets from the service count code points; JavaScript strings count UTF-16 units.
function unitOffsets(text) {
  if (!/[\uD800-\uDFFF]/.test(text)) return null;
  const units = [0];
  for (const char of text) units.push(units[units.length - 1] + char.length);
  return units;
}

// A line's text as nodes: plain text, and a <mark> over each piece that spans cover.
function highlight(text, spans) {
  const units = unitOffsets(text);
  const at = (i) => (units ? units[Math.min(i, units.length - 1)] : i);
  for (const span of spans) [span.from, span.to] = [at(span.start), at(span.end)];
  const edges = [...new Set([0, text.length, ...spans.flatMap((s) => [s.from, s.to])])].sort((x, y) => x - y);
  const nodes = [];
  for (let k = 0; k < edges.length; k++) {
    const [a, b] = [edges[k], edges[k + 1]];
    // An empty capture is a marker between two characters.
    for (const span of spans) if (span.from === span.to && span.from === a) nodes.push(mark([span], ""));
    if (b === undefined) break;
    const covering = spans.filter((s) => s.from <= a && s.to >= b && s.from < s.to);
    const piece = text.slice(a, b);
    nodes.push(covering.length ? mark(covering, piece) : piece);
  }
  return nodes;
}

function mark(spans, text) {
  const rejected = spans.some((s) => s.kind === "rejected");
  const points = spans.filter((s) => s.kind === "hit").map((s) => s.index);
  const rejections = spans.filter((s) => s.kind === "rejected").map((s) => s.index);
  const color = spans.find((s) => s.kind === "hit")?.color;
  const node = element("mark", `${rejected ? "rejected" : "hit"}${text ? "" : " empty"}`, text);
  if (points.length) node.dataset.points = points.join(" ");
  if (rejections.length) node.dataset.rejections = rejections.join(" ");
  if (color) node.style.setProperty("--c", color);
  node.title = spans.map((s) => s.title).join("\n");
  return node;
}

function metricChip(name, counts, color, report) {
  const none = !counts.points && !counts.rejected;
  const chip = fromTemplate("metric-chip");
  chip.classList.toggle("none", none);
  chip.dataset.metric = name;
  chip.title = [report ? `matched against the ${report.log_format} rendering: ${report.log_format_reason}` : "", report?.hint ?? (none ? "no line matched this regex" : "")].filter(Boolean).join("\n");
  chip.querySelector(".swatch").style.background = color;
  chip.querySelector(".metric-name").textContent = name;
  chip.querySelector(".points").textContent = counts.points;
  if (counts.rejected) chip.append(" ", element("span", "bad", `${counts.rejected} rejected`));
  const rendering = report && report.log_format !== formatSelect.value ? ` · ${report.log_format}` : "";
  chip.append(rendering + (none ? " · no match" : ""));
  return chip;
}

function pointRow(point, color) {
  const row = fromTemplate("point-row");
  row.dataset.line = point.line;
  row.querySelector(".swatch").style.background = color;
  row.querySelector(".metric-name").textContent = point.metric_name;
  row.querySelector(".step").textContent = point.step;
  row.querySelector(".value").textContent = point.value;
  row.querySelector(".line-number").textContent = point.line;
  return row;
}

function rejectionRow(rejection) {
  const row = fromTemplate("rejection-row");
  row.dataset.line = rejection.line;
  row.querySelector(".metric-name").textContent = rejection.metric_name;
  row.querySelector(".line-number").textContent = rejection.line;
  row.querySelector(".capture").textContent = rejection.capture === null ? "(time-out)" : JSON.stringify(rejection.capture);
  row.querySelector(".rejection-reason").textContent = rejection.reason;
  return row;
}

// What a table says when it has no rows.
function emptyRow(text) {
  const row = fromTemplate("empty-row");
  row.querySelector("td").textContent = text;
  return row;
}

function render(result, names) {
  const colors = new Map(names.map((name, i) => [name, PALETTE[i % PALETTE.length]]));
  for (const p of result.points) if (!colors.has(p.metric_name)) colors.set(p.metric_name, PALETTE[colors.size % PALETTE.length]);
  const byLine = new Map();
  const add = (line, span) => (byLine.get(line) ?? byLine.set(line, []).get(line)).push(span);
  result.points.forEach((p, index) => {
    if (p.span) add(p.line, { kind: "hit", index, start: p.span[0], end: p.span[1], color: colors.get(p.metric_name), title: `${p.metric_name} = ${number(p.value)} (step ${p.step})` });
  });
  result.rejections.forEach((r, index) => {
    if (r.span) add(r.line, { kind: "rejected", index, start: r.span[0], end: r.span[1], title: `${r.metric_name}: ${JSON.stringify(r.capture)} rejected: ${r.reason}` });
  });
  const rows = result.texts.slice(0, MAX_LINES).map((text, i) => {
    const spans = byLine.get(i + 1);
    const row = element("div", spans ? "line has-matches" : "line", element("span", "ln", i + 1), element("span", "text", ...(spans ? highlight(text, spans) : [text])));
    row.dataset.line = i + 1;
    return row;
  });
  if (result.texts.length > MAX_LINES) rows.push(element("div", "notice", `… ${result.texts.length - MAX_LINES} more lines; the tables list their matches.`));
  if (!result.texts.length) rows.push(element("div", "notice", "The log is empty."));
  view.replaceChildren(...rows);

  const reports = new Map((result.definitions ?? []).map((d) => [d.metric_name, d]));
  const counts = new Map([...colors.keys()].map((name) => [name, { points: 0, rejected: 0 }]));
  result.points.forEach((p) => counts.get(p.metric_name).points++);
  result.rejections.forEach((r) => (counts.get(r.metric_name) ?? counts.set(r.metric_name, { points: 0, rejected: 0 }).get(r.metric_name)).rejected++);
  document.getElementById("metric-chips").replaceChildren(...[...counts].map(([name, c]) => metricChip(name, c, colors.get(name), reports.get(name))));

  const pointRows = result.points.slice(0, MAX_ROWS).map((p) => pointRow(p, colors.get(p.metric_name)));
  const rejectionRows = result.rejections.slice(0, MAX_ROWS).map(rejectionRow);
  document.querySelector("#points-table tbody").replaceChildren(...(pointRows.length ? pointRows : [emptyRow("no points: no regex matched a number")]));
  document.querySelector("#rejections-table tbody").replaceChildren(...(rejectionRows.length ? rejectionRows : [emptyRow("none")]));
  const hints = (result.definitions ?? []).filter((d) => d.hint);
  const hintList = document.getElementById("hints");
  hintList.replaceChildren(
    ...hints.map((d) => {
      const item = document.createElement("li");
      const code = document.createElement("code");
      code.textContent = d.metric_name;
      item.append(code, `: ${d.hint}`);
      return item;
    }),
  );
  hintList.hidden = !hints.length;
  document.getElementById("points-count").textContent = shown(result.points.length);
  document.getElementById("rejections-count").textContent = shown(result.rejections.length);
  document.getElementById("results").hidden = false;
  document.getElementById("tables").hidden = false;
}

const shown = (count) => (count > MAX_ROWS ? `first ${MAX_ROWS} of ${count}` : String(count));

function focusLine(line) {
  const row = view.querySelector(`.line[data-line="${line}"]`);
  if (!row) return;
  view.querySelectorAll(".line.focus").forEach((r) => r.classList.remove("focus"));
  row.classList.add("focus");
  row.scrollIntoView({ block: "center" });
}

function save() {
  try {
    localStorage.setItem(SAVED, JSON.stringify({ definitions: definitionsInput.value, log: logInput.value.slice(0, 200000), format: formatSelect.value }));
  } catch {
    // storage full or off: the tester works without it
  }
}

async function start() {
  let saved = null;
  try {
    saved = JSON.parse(localStorage.getItem(SAVED));
  } catch {
    saved = null;
  }
  definitionsInput.value = saved?.definitions ?? EXAMPLE.definitions;
  logInput.value = saved?.log ?? EXAMPLE.log;
  formatSelect.value = saved?.format ?? "text";
  if (job) {
    try {
      const found = await getJSON(`/v1/jobs/${enc(job)}`);
      definitionsInput.value = JSON.stringify(found.metric_definitions.map(definitionJSON), null, 2);
      formatSelect.value = found.log_format;
      await startOnJob(found);
    } catch (error) {
      showError(`Could not load job ${job}: ${error.message}`);
      return;
    }
  }
  await parse();
}

const definitionJSON = (d) => ({ Name: d.name, Regex: d.regex, ...(d.log_format ? { LogFormat: d.log_format } : {}) });

// With ?job=: the job's definitions, one of its runs' stored log as the sample, and a
// button that gives the job the definitions tried here (a re-parse).
async function startOnJob(found) {
  jobBar.hidden = false;
  document.getElementById("job-name").textContent = found.name;
  document.getElementById("job-link").href = `/jobs/${enc(found.name)}`;
  const { runs } = await getJSON(`/v1/jobs/${enc(found.name)}/runs?sort_by=created_at&order=desc&limit=100`);
  runSelect.replaceChildren(...runs.map((run) => new Option(`${run.name} (${run.status})`, run.name)));
  const wanted = new URLSearchParams(location.search).get("run");
  if (wanted && runs.some((run) => run.name === wanted)) runSelect.value = wanted;
  runSelect.disabled = !runs.length;
  if (runs.length) await loadSample();
}

async function loadSample() {
  const run = await getJSON(`/v1/jobs/${enc(job)}/runs/${enc(runSelect.value)}`);
  const stream = [...run.streams].sort((a, b) => b.next_offset - a.next_offset)[0];
  if (!stream) {
    logInput.value = "";
    return;
  }
  const url = `/v1/jobs/${enc(job)}/runs/${enc(run.name)}/logs?stream=${enc(stream.name)}&limit=${SAMPLE_BYTES}`;
  logInput.value = await (await request(url)).text();
  const cut = stream.next_offset > SAMPLE_BYTES ? ` (its first ${SAMPLE_BYTES / 1024 / 1024} MiB)` : "";
  document.getElementById("sample-note").textContent = `the log is run ${run.name}'s ${stream.name}${cut}`;
}

async function apply() {
  let definitions;
  try {
    definitions = readDefinitions();
  } catch (error) {
    showError(error.message);
    return;
  }
  const headers = tokenInput.value ? { Authorization: `Bearer ${tokenInput.value}` } : {};
  applyButton.disabled = true;
  applyStatus.textContent = "applying…";
  try {
    let progress = await postJSON(`/v1/jobs/${enc(job)}/reparse`, { metric_definitions: definitions }, headers);
    showError("");
    tokenBox.hidden = true;
    while (!progress.done) {
      applyStatus.textContent = `version ${progress.definitions_version}: re-parsed ${progress.runs_reparsed} of ${progress.runs} runs…`;
      await new Promise((resolve) => setTimeout(resolve, 500));
      progress = await getJSON(`/v1/jobs/${enc(job)}/reparse`);
    }
    applyStatus.textContent = `version ${progress.definitions_version}: re-parsed all ${progress.runs} runs`;
  } catch (error) {
    applyStatus.textContent = "";
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      tokenBox.hidden = false;
      showError(`Applying definitions to a job takes an admin token: ${error.message}`);
    } else {
      showError(`Could not apply the definitions: ${error.message}`);
    }
  } finally {
    applyButton.disabled = false;
  }
}

let debounce = null;
const parseSoon = () => {
  clearTimeout(debounce);
  debounce = setTimeout(parse, 500);
};
form.addEventListener("submit", (event) => {
  event.preventDefault();
  parse();
});
form.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    parse();
  }
});
for (const input of [logInput, definitionsInput]) input.addEventListener("input", parseSoon);
formatSelect.addEventListener("change", parse);
runSelect.addEventListener("change", () => loadSample().then(parse, (error) => showError(`Could not load the run's log: ${error.message}`)));
applyButton.addEventListener("click", apply);
presetSelect.addEventListener("change", async () => {
  if (!presetSelect.value) return;
  try {
    const preset = await getJSON(`/v1/presets/${enc(presetSelect.value)}`);
    definitionsInput.value = JSON.stringify(preset.metric_definitions.map(definitionJSON), null, 2);
    parse();
  } catch (error) {
    showError(`Could not load preset ${presetSelect.value}: ${error.message}`);
  }
});
for (const table of ["points-table", "rejections-table"]) {
  document.getElementById(table).addEventListener("click", (event) => {
    const row = event.target.closest("tr[data-line]");
    if (row) focusLine(row.dataset.line);
  });
}
start().finally(() => (document.body.dataset.ready = "1"));
