// One point per run, on a linear, log or categorical x axis: a run's objective value
// against one hyperparameter.

/* global uPlot */
import { AXIS, HOVER_PX, label, observeSize, onClick, range, size, tooltip } from "./chart-parts.js";
import { cssVar } from "./theme.js";

const BEST_OUTLINE = cssVar("--best-outline");

// One point per run. `points`: [{name, color, x, y, label}], colours #rrggbb (the fill is the
// colour with an alpha appended); scale: linear | log | categorical. `describe(point)`: the
// tooltip's lines (chart-parts.js's tooltip).
export function scatterChart(element, { scale, categories, points, describe, onOpen }) {
  const categorical = scale === "categorical";
  const xOf = (point, index) => (categorical ? categories.indexOf(point.x) + jitter(index) : Number(point.x));
  const xs = points.map(xOf);
  const xScale = categorical
    ? { time: false, range: () => [-0.5, categories.length - 0.5] }
    : scale === "log"
      ? { time: false, distr: 3, range: range(true) }
      : { time: false, range: range() };
  const xAxis = { ...AXIS, size: 28 };
  if (categorical) {
    xAxis.splits = () => categories.map((_, i) => i);
    xAxis.values = (u, splits) => splits.map((v) => categories[v] ?? "");
    xAxis.grid = { show: false };
  } else if (scale === "log") {
    xAxis.splits = (u, axisIdx, min, max) => logSplits(min, max);
    xAxis.values = (u, splits) => splits.map(label);
  } else {
    xAxis.values = (u, splits) => splits.map(label);
  }
  let hover = null;
  const opts = {
    mode: 2,
    ...size(element),
    legend: { show: false },
    cursor: { points: { show: false }, drag: { x: true, y: true, uni: 30 }, focus: { prox: -1 } },
    scales: { x: xScale, y: { range: range() } },
    axes: [xAxis, { ...AXIS, size: 52, space: 24, values: (u, splits) => splits.map(label) }],
    series: [
      {},
      ...points.map((point) => ({
        label: point.name,
        stroke: point.best ? BEST_OUTLINE : point.color,
        fill: point.color + "d0",
        width: point.best ? 2 : 1,
        paths: uPlot.paths.points(),
        points: { show: false, size: point.best ? 12 : 8, width: point.best ? 2 : 1 },
      })),
    ],
    hooks: {
      setCursor: [
        (u) => {
          const { left, top } = u.cursor;
          let best = null;
          if (left != null && left >= 0) {
            points.forEach((point, i) => {
              const distance = Math.hypot(u.valToPos(xs[i], "x") - left, u.valToPos(point.y, "y") - top);
              if (distance <= HOVER_PX && (!best || distance < best.distance)) best = { index: i, distance };
            });
          }
          hover = best && best.index;
          u.over.style.cursor = best ? "pointer" : "";
          if (!best) return tip.hide();
          tip.show(describe(points[hover]), u.valToPos(xs[hover], "x"), u.valToPos(points[hover].y, "y"));
        },
      ],
    },
  };
  const data = [null, ...points.map((point, i) => [[xs[i]], [point.y]])];
  const plot = new uPlot(opts, data, element);
  const tip = tooltip(plot);
  observeSize(element, plot);
  plot.over.addEventListener("mouseleave", () => tip.hide());
  onClick(plot, () => hover != null && onOpen?.(points[hover].name));
  element.dataset.series = String(plot.series.length - 1);
  element.dataset.points = String(points.length);
  return plot;
}

// 1, 2 and 5 times the powers of ten within [min, max]: readable ticks on a log axis.
function logSplits(min, max) {
  const splits = [];
  for (let power = Math.floor(Math.log10(min)); power <= Math.ceil(Math.log10(max)); power++) {
    for (const factor of [1, 2, 5]) {
      const value = Number((factor * 10 ** power).toPrecision(1));
      if (value >= min && value <= max) splits.push(value);
    }
  }
  return splits;
}

// Spreads runs that share a category sideways (a fixed pattern, so points do not move).
function jitter(index) {
  return (((index * 0.618034) % 1) - 0.5) * 0.36;
}
