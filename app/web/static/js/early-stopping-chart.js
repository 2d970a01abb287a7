// The run page's early-stopping card: why the run was (or was not) stopped early, in words,
// and its objective by step with its running average and the median the rule compared it
// with, the step where the rule fired marked; the earlier runs the median rested on as links.
// The card sets data-state (drawn | empty | error) and, where the rule fired,
// data-stopped-at-step; the chart's element carries data-marked-step.

/* global uPlot */
import { enc, getJSON } from "./api.js";
import { AXIS, chartStatus, label, observeSize, range, size, tipBold, tipMuted, tooltip } from "./chart-parts.js";
import { fromTemplate } from "./dom.js";
import { number } from "./format.js";
import { cssVar } from "./theme.js";

const COLORS = {
  value: cssVar("--chart-objective"),
  average: cssVar("--chart-metric"),
  median: cssVar("--text"),
  stop: cssVar("--failed"),
};

const drawn = new WeakMap(); // chart element -> {plot, observer}, to redraw a live run's
const calls = new WeakMap(); // card -> how many times it was asked for, the latest drawing

// Fill the card (`data-testid="early-stopping"`) for run `run` of job `job`; called again
// while the run is live, it redraws in place.
export async function showEarlyStopping(card, job, run) {
  const chart = card.querySelector("[data-part='chart']");
  if (!drawn.has(chart)) chartStatus(chart, "Loading…");
  const asked = (calls.get(card) ?? 0) + 1;
  calls.set(card, asked);
  let body;
  try {
    body = await getJSON(`/v1/jobs/${enc(job)}/runs/${enc(run)}/early-stopping`);
    if (calls.get(card) !== asked) return; // a later call's answer draws instead
  } catch (error) {
    if (calls.get(card) !== asked) return; // an older read failing late: a newer one draws
    chartStatus(chart, `Could not read why the run was or was not stopped: ${error.message}`, "error");
    card.dataset.state = "error";
    return;
  }
  const stop = stopEntry(body);
  card.querySelector("[data-part='why']").textContent = words(body, stop);
  if (body.stopped_at_step !== null) card.dataset.stoppedAtStep = String(body.stopped_at_step);
  else delete card.dataset.stoppedAtStep;
  showEarlierRuns(card, job, body);
  if (body.rule !== "median" || !body.steps.length) {
    chart.hidden = true;
    card.querySelector("[data-part='note']").textContent =
      body.rule === "hyperband"
        ? "Hyperband compares runs at rungs (by how many objective points each has given), not with a median by step: there is no median to draw."
        : "";
    card.dataset.state = "empty";
    return;
  }
  // Hidden where an earlier answer had nothing to draw (a live run before its first point).
  chart.hidden = false;
  chartStatus(chart, null);
  draw(chart, body, stop);
  legend(card);
  card.querySelector("[data-part='note']").textContent =
    "The median is the earlier runs' as their points are stored now: points keep no time they arrived, so a run still going when the rule fired may count here and not then. " +
    (body.reason && body.stopped_at_step !== null ? `The stored reason keeps the rule's own numbers: ${body.reason}.` : "");
  card.dataset.state = "drawn";
}

// The point the rule fired on: the first worse one at the stop step from the warm-up on.
function stopEntry(body) {
  if (body.stopped_at_step === null) return null;
  const judged = body.steps.slice(body.warmup_points - 1);
  const at = judged.filter((s) => s.step === body.stopped_at_step);
  return at.find((s) => s.worse) ?? at[0] ?? null;
}

function words(body, stop) {
  const maximize = body.objective_type === "Maximize";
  if (body.rule === "hyperband") {
    if (!body.stopped_early) return "Hyperband did not stop this run.";
    // Hyperband's reasons begin "stopped by Hyperband at resource ...": one sentence.
    return body.reason ? `${body.reason[0].toUpperCase()}${body.reason.slice(1)}.` : "Stopped by Hyperband.";
  }
  if (body.rule === null) return "This job stops no run early.";
  if (body.stopped_at_step !== null) {
    const verb = body.stopped_early ? "Stopped" : "Asked to stop";
    if (stop?.median == null) return `${verb} at step ${body.stopped_at_step}: ${body.reason}.`;
    return (
      `${verb} at step ${stop.step}: ${number(stop.value)} was ${maximize ? "below" : "above"} the median ` +
      `${number(stop.median)} of ${stop.runs} earlier runs' running averages.`
    );
  }
  if (!body.steps.length) return `Not stopped early: the run has no point of ${body.metric_name} yet.`;
  const judged = body.steps.slice(body.warmup_points - 1).filter((s) => s.median !== null);
  if (!judged.length) {
    return (
      `Not stopped early: the median rule never judged it, as it waits for ${body.min_runs} earlier runs ` +
      `at a step and for the run's point ${body.warmup_points}.`
    );
  }
  const margin = (s) => (maximize ? s.value - s.median : s.median - s.value);
  const closest = judged.reduce((a, b) => (margin(b) < margin(a) ? b : a));
  if (margin(closest) < 0) {
    // The rule judges a run's latest point after each chunk of its log: a worse point
    // that came with later, better ones in one chunk was never judged on its own.
    return (
      `Not stopped early, though at step ${closest.step} its value ${number(closest.value)} was worse than the median ` +
      `${number(closest.median)} of ${closest.runs} earlier runs' running averages (as they are now): the rule judges ` +
      "the latest point after each chunk of the log, and the median may have moved since."
    );
  }
  return (
    `Not stopped early: from its point ${body.warmup_points} on, each value was at least as good as the median. ` +
    `Closest at step ${closest.step}: ${number(closest.value)} against the median ${number(closest.median)} ` +
    `of ${closest.runs} earlier runs' running averages.`
  );
}

function showEarlierRuns(card, job, body) {
  const list = card.querySelector("[data-part='earlier-runs']");
  const items = body.earlier_runs.map((name) => {
    const item = fromTemplate("early-stopping-run");
    const link = item.querySelector("a");
    link.href = `/jobs/${enc(job)}/runs/${enc(name)}`;
    link.textContent = name;
    return item;
  });
  list.replaceChildren(...items);
  const where = body.stopped_at_step !== null ? ` at step ${body.stopped_at_step}` : "";
  card.querySelector("[data-part='earlier-label']").textContent =
    `The median rested on ${items.length} earlier run${items.length === 1 ? "" : "s"}${where}:`;
  card.querySelector("[data-part='earlier']").hidden = !items.length;
}

function legend(card) {
  const keys = [
    ["value", "the run's value"],
    ["average", "its running average"],
    ["median", "median of the earlier runs' running averages"],
    ["stop", "where the rule fired"],
  ].map(([key, text]) => {
    const node = fromTemplate("early-stopping-key");
    node.querySelector(".swatch").style.background = COLORS[key];
    node.querySelector(".key-label").textContent = text;
    return node;
  });
  card.querySelector("[data-part='legend']").replaceChildren(...keys);
}

function draw(element, body, stop) {
  // uPlot wants ascending x: the points by step, arrival order among equal steps.
  const steps = body.steps.map((s, i) => [s, i]).sort((a, b) => a[0].step - b[0].step || a[1] - b[1]).map(([s]) => s);
  const data = [steps.map((s) => s.step), steps.map((s) => s.value), steps.map((s) => s.running_average), steps.map((s) => s.median)];
  const marked = stop ? stop.step : null;
  let tip = null; // uPlot may move the cursor while it is built, before the tooltip exists
  const opts = {
    ...size(element),
    legend: { show: false },
    scales: { x: { time: false, range: range() }, y: { range: range() } },
    axes: [
      { ...AXIS, label: "step", size: 44, values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : "")) },
      { ...AXIS, label: body.metric_name, size: 64, values: (u, splits) => splits.map(label) },
    ],
    series: [
      { label: "step" },
      { label: "value", stroke: COLORS.value, width: 1.5, points: { size: 5, fill: COLORS.value } },
      { label: "running average", stroke: COLORS.average, width: 1.5, points: { show: false } },
      { label: "median", stroke: COLORS.median, width: 2, dash: [4, 4], points: { show: false } },
    ],
    hooks: { draw: [(u) => markStop(u, marked, stop)], setCursor: [(u) => showValue(u, steps, tip)] },
  };
  const before = drawn.get(element);
  before?.observer.disconnect();
  before?.plot.destroy();
  const plot = new uPlot(opts, data, element);
  tip = tooltip(plot);
  drawn.set(element, { plot, observer: observeSize(element, plot) });
  element.dataset.series = "3";
  element.dataset.points = String(steps.length);
  if (marked !== null) element.dataset.markedStep = String(marked);
  else delete element.dataset.markedStep;
}

// A vertical line at the step where the rule fired, and a ring round the value it judged.
function markStop(u, step, stop) {
  if (step === null) return;
  const ctx = u.ctx;
  const ratio = devicePixelRatio;
  const x = u.valToPos(step, "x", true);
  ctx.save();
  ctx.strokeStyle = COLORS.stop;
  ctx.lineWidth = 1.5 * ratio;
  ctx.setLineDash([3 * ratio, 3 * ratio]);
  ctx.beginPath();
  ctx.moveTo(x, u.bbox.top);
  ctx.lineTo(x, u.bbox.top + u.bbox.height);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.beginPath();
  ctx.arc(x, u.valToPos(stop.value, "y", true), 6 * ratio, 0, 2 * Math.PI);
  ctx.stroke();
  ctx.fillStyle = COLORS.stop;
  ctx.font = `600 ${11 * ratio}px system-ui, sans-serif`;
  // Beside the line, on whichever side has room (the stop is often the last step).
  const right = x > u.bbox.left + u.bbox.width / 2;
  ctx.textAlign = right ? "right" : "left";
  ctx.fillText(`stopped at step ${step}`, x + (right ? -8 : 8) * ratio, u.bbox.top + 14 * ratio);
  ctx.restore();
}

function showValue(u, steps, tip) {
  const i = u.cursor.idx;
  if (i == null || !tip) return tip?.hide();
  const s = steps[i];
  const lines = [
    [tipBold(`step ${s.step}`), " ", number(s.value)],
    [tipMuted("running average "), number(s.running_average)],
    s.median === null
      ? [tipMuted(`no median: ${s.runs} earlier run${s.runs === 1 ? "" : "s"} reached this step`)]
      : [tipMuted(`median of ${s.runs} earlier runs `), number(s.median)],
  ];
  if (s.worse) lines.push([tipBold("worse than the median")]);
  tip.show(lines, u.valToPos(s.step, "x"), u.valToPos(s.value, "y"));
}
