// The job page: every run's metric over steps (thinned by the service), the objective
// against each tuned hyperparameter, and live updates while runs are in progress.

import { enc } from "./api.js";
import { readJSON } from "./first-reads.js";
import { JobAnalysis } from "./job-analysis.js";
import { chartStatus, tipBold, tipMuted } from "./chart-parts.js";
import { element, fromTemplate } from "./dom.js";
import { LinesChart } from "./lines-chart.js";
import { scatterChart } from "./scatter-chart.js";
import { number } from "./format.js";
import { onUpdate, pageState, startLive } from "./live.js";
import { cssVar } from "./theme.js";
import "./table-sort.js";

const UNRANKED = cssVar("--unranked");
const MEDIAN_COLOR = cssVar("--text");
// Points per run the service thins each run to: ~100,000 in all, 100 to 2,000 a run
// (200 runs: 500 each, about one per pixel column of the chart).
const maxPoints = (runs) => Math.min(2000, Math.max(100, Math.floor(100000 / Math.max(runs, 1))));

let state = pageState();
const metricSelect = document.getElementById("series-metric");
const logY = document.getElementById("series-logy");
const seriesElement = document.getElementById("series-chart");
const scatterGrid = document.getElementById("scatter-grid");
const MEDIAN = "(median)"; // no run can have this name
const openRun = (name) => {
  if (name !== MEDIAN) location.href = `/jobs/${enc(state.job)}/runs/${enc(name)}`;
};

// A run's name in a tooltip, marked when it is the best run, with its rank.
function runTitle(run) {
  const title = [tipBold(run.name)];
  if (run.best) title.push(" ", element("span", "best-mark", "★ best"));
  if (run.rank) title.push(" ", tipMuted(`rank ${run.rank}`));
  return title;
}

function describeLine(line, j) {
  const value = [`step ${line.xs[j]} · ${metricSelect.value} `, tipBold(number(line.ys[j]))];
  if (line.median) {
    return [[tipBold("median"), " ", tipMuted("of the runs' running averages")], value, [tipMuted("early stopping stops a run below it (above, minimizing)")]];
  }
  const drawn = line.count > line.xs.length ? `, ${line.xs.length} drawn` : "";
  return [runTitle(line), value, [tipMuted(`${line.count} points${drawn} · ${line.status} · click to open`)]];
}

const seriesChart = new LinesChart(seriesElement, {
  xLabel: "step",
  yLabel: metricSelect.value,
  describe: describeLine,
  onOpen: openRun,
});

// Unranked runs at the bottom, then worse ranks under better ones, the best run on top.
function drawOrder(line) {
  if (line.best) return Number.MAX_SAFE_INTEGER;
  return line.rank ? 1e6 - line.rank : -1;
}

const lastLoad = { at: 0, took: 0 };
let drawnMetric = null; // the metric the chart shows, once drawn
async function loadSeries() {
  const metric = metricSelect.value;
  const url = `/v1/jobs/${enc(state.job)}/series/${enc(metric)}?max_points=${maxPoints(state.runs.length)}&limit=1000`;
  // A live update redraws in place; another metric says it is on its way.
  if (metric !== drawnMetric) chartStatus(seriesElement, `Loading ${metric}…`);
  const started = performance.now();
  let body;
  try {
    body = await readJSON(url);
  } catch (error) {
    if (metric === metricSelect.value) {
      drawnMetric = null;
      chartStatus(seriesElement, `Could not load ${metric}: ${error.message}`, "error");
    }
    return;
  } finally {
    Object.assign(lastLoad, { at: performance.now(), took: performance.now() - started });
  }
  if (metric !== metricSelect.value) return; // the user picked another meanwhile
  const runs = new Map(state.runs.map((run) => [run.name, run]));
  const lines = body.runs.map((series) => {
    const run = runs.get(series.run) ?? { color: UNRANKED, rank: null, best: false };
    const pairs = series.points.slice().sort((a, b) => a[0] - b[0]);
    return {
      name: series.run,
      color: run.color,
      rank: run.rank,
      best: run.best,
      status: series.status,
      count: series.count,
      width: run.best ? 2.75 : 1.25,
      dash: series.status === "InProgress" ? [5, 3] : undefined,
      xs: pairs.map((p) => p[0]),
      ys: pairs.map((p) => p[1]),
    };
  });
  lines.sort((a, b) => drawOrder(a) - drawOrder(b));
  // Early stopping's yardstick, on top: the median of the runs' running averages.
  if (metric === state.objective.metric && state.median?.length) {
    lines.push({
      name: MEDIAN,
      median: true,
      color: MEDIAN_COLOR,
      width: 2,
      dash: [2, 3],
      status: "",
      count: state.median.length,
      xs: state.median.map((p) => p[0]),
      ys: state.median.map((p) => p[1]),
    });
  }
  const positive = lines.every((line) => line.ys.every((y) => y > 0));
  logY.disabled = !positive;
  logY.parentElement.title = positive ? "" : "some values are 0 or below";
  seriesChart.options.yLabel = metric;
  drawnMetric = metric;
  if (!lines.length) {
    seriesChart.destroy(); // uPlot's faceted mode needs a series to draw axes
    seriesElement.dataset.series = seriesElement.dataset.points = "0";
    seriesElement.dataset.runs = "";
    chartStatus(seriesElement, `No run has a point of ${metric} yet.`, "empty");
    return;
  }
  seriesChart.setLines(lines, { logY: logY.checked && positive });
  chartStatus(seriesElement, null);
}

let scatterKey = null;
function drawScatter() {
  const objective = state.objective.metric;
  const ranked = state.runs.filter((run) => run.objective !== null);
  const key = JSON.stringify([state.tuned, ranked.map((r) => [r.name, r.objective, r.color])]);
  if (key === scatterKey) return;
  scatterKey = key;
  scatterGrid.replaceChildren();
  const note = document.getElementById("scatter-note");
  if (!state.tuned.length || !ranked.length) {
    const text = !ranked.length ? `No run has a value of ${objective} yet.` : "No hyperparameter differs between runs yet.";
    scatterGrid.append(Object.assign(document.createElement("p"), { className: "muted empty-inline", textContent: text }));
    note.hidden = true;
    return;
  }
  note.hidden = false;
  // A run's `values` are its tuned hyperparameters', in `state.tuned`'s order (pages.py).
  for (const [i, hp] of state.tuned.entries()) {
    const cell = fromTemplate("scatter-chart");
    cell.querySelector(".hyperparameter-name").textContent = hp.name;
    cell.querySelector(".scale").textContent = hp.scale;
    const plot = cell.querySelector(".plot");
    plot.dataset.hyperparameter = hp.name;
    scatterGrid.append(cell);
    const points = ranked
      .filter((run) => (run.values?.[i] ?? null) !== null)
      .map((run) => ({ name: run.name, color: run.color, best: run.best, x: run.values[i], y: run.objective, rank: run.rank }))
      .sort((a, b) => drawOrder(a) - drawOrder(b));
    if (!points.length) {
      chartStatus(plot, `No ranked run has a value of ${hp.name}.`, "empty");
      continue;
    }
    scatterChart(plot, {
      scale: hp.scale,
      categories: hp.categories,
      points,
      describe: (p) => [runTitle(p), [`${hp.name} = ${p.x}`], [`${objective} `, tipBold(number(p.y))]],
      onOpen: openRun,
    });
  }
}

const analysis = new JobAnalysis(state, openRun);

let loadedVersion = null;
async function update(fresh) {
  state = fresh;
  const empty = state.runs.length === 0;
  document.getElementById("charts").hidden = empty;
  document.getElementById("analysis").hidden = empty;
  document.getElementById("leaderboard-card").hidden = empty;
  document.getElementById("no-runs").hidden = !empty;
  if (empty) return;
  // A big job's series take a while to read: while its runs are live, the service is
  // asked again at most every three times as long as the last read took.
  const rested = performance.now() - lastLoad.at >= 3 * lastLoad.took;
  analysis.update(state);
  if (state.version !== loadedVersion && rested) {
    loadedVersion = state.version;
    await loadSeries();
  }
  drawScatter();
}

// Runs ticked to compare (the boxes belong to #compare-form, which opens the compare
// page): kept across live updates, which redraw the leaderboard.
const picked = new Set();
function showPicks() {
  for (const box of document.querySelectorAll("#leaderboard .pick")) box.checked = picked.has(box.value);
  const button = document.getElementById("compare-button");
  button.disabled = picked.size < 2;
  document.getElementById("compare-count").textContent = picked.size ? `${picked.size} ticked` : "";
}
document.addEventListener("change", (event) => {
  const box = event.target.closest?.("#leaderboard .pick");
  if (!box) return;
  if (box.checked) picked.add(box.value);
  else picked.delete(box.value);
  showPicks();
});
onUpdate(() => showPicks());
showPicks();

metricSelect.addEventListener("change", () => loadSeries());
logY.addEventListener("change", () => loadSeries());
onUpdate((fresh) => update(fresh));
// The three analysis views load beside the series, each drawn when its answer comes.
analysis
  .update(state)
  .finally(() => {
    document.body.dataset.analysisReady = "1";
  });
update(state).finally(() => {
  document.body.dataset.ready = "1";
  startLive();
});
