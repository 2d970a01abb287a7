// The compare page: a chart per metric with the picked runs' series overlaid, each run
// in its colour of the page's palette (--compare-1 ... --compare-6).

import { enc, getJSON } from "./api.js";
import { chartStatus, tipBold, tipMuted } from "./chart-parts.js";
import { number } from "./format.js";
import { LinesChart } from "./lines-chart.js";
import { pageState } from "./live.js";
import { cssVar } from "./theme.js";

const PAGE = 100000; // the API's largest page of points
const MAX_PAGES = 10; // a million points a run and metric is more than a chart can show
const PALETTE = 6;

const state = pageState();
const grid = document.getElementById("compare-charts");
const cellTemplate = document.getElementById("compare-chart");
const colors = state.runs.map((_, i) => cssVar(`--compare-${(i % PALETTE) + 1}`));

// Every point of a run's metric, in arrival order, a page at a time.
async function readSeries(run, metric) {
  const points = [];
  let cursor = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = `limit=${PAGE}${cursor ? `&cursor=${enc(cursor)}` : ""}`;
    const body = await getJSON(`/v1/jobs/${enc(state.job)}/runs/${enc(run)}/metrics/${enc(metric)}?${query}`);
    points.push(...body.points);
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return points;
}

async function drawMetric(metric) {
  const cell = cellTemplate.content.firstElementChild.cloneNode(true);
  cell.dataset.metric = metric;
  cell.querySelector(".metric-name").textContent = metric;
  cell.querySelector(".objective-mark").hidden = metric !== state.objective;
  grid.append(cell);
  const element = cell.querySelector(".chart");
  let series;
  try {
    series = await Promise.all(state.runs.map((run) => readSeries(run, metric)));
  } catch (error) {
    chartStatus(element, `Could not load ${metric}: ${error.message}`, "error");
    return;
  }
  const lines = state.runs
    .map((run, i) => {
      const pairs = series[i].map((p) => [p.step, p.value]).sort((a, b) => a[0] - b[0]);
      return {
        name: run,
        color: colors[i],
        width: 1.75,
        count: pairs.length,
        xs: pairs.map((p) => p[0]),
        ys: pairs.map((p) => p[1]),
      };
    })
    .filter((line) => line.xs.length);
  if (!lines.length) {
    chartStatus(element, `No points of ${metric} in these runs.`, "empty");
    return;
  }
  const chart = new LinesChart(element, {
    xLabel: "step",
    yLabel: metric,
    describe: (line, j) => [
      [tipBold(line.name)],
      [`step ${line.xs[j]} · ${metric} `, tipBold(number(line.ys[j]))],
      [tipMuted(`${line.count} points · click to open`)],
    ],
    onOpen: (name) => (location.href = `/jobs/${enc(state.job)}/runs/${enc(name)}`),
  });
  chart.setLines(lines);
  chartStatus(element, null);
}

if (grid) {
  Promise.allSettled(state.metrics.map((metric) => drawMetric(metric))).finally(() => {
    document.body.dataset.ready = "1";
  });
} else {
  document.body.dataset.ready = "1";
}
