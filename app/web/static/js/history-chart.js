// The search's history: each run's objective value as a dot and the best value so far as a
// step line, against the run's index (creation order) or the time it ended. Drawn from
// GET /v1/jobs/{job}/history; the dots are painted in one pass of a uPlot hook (under the
// step line), so a thousand runs cost one canvas, not a thousand series.

/* global uPlot */
import { AXIS, HOVER_PX, label, observeSize, onClick, range, size, tooltip } from "./chart-parts.js";
import { cssVar } from "./theme.js";

const BEST = cssVar("--best");
const NEW_BEST_RING = cssVar("--best-outline");
const DOT_RADIUS = 3.5;
const RING_RADIUS = 6.5;

// The points one x axis shows. `axis`: "index" | "time". Returns {xs, best, dots}: xs
// ascending (seconds for time), best the best so far at each x (null before the first),
// dots [{run, x, y}] for the runs with a counting value.
export function historyPoints(runs, axis) {
  if (axis === "time") {
    const ended = runs
      .filter((run) => run.ended_at !== null)
      .map((run) => ({ run, x: Date.parse(run.ended_at) / 1000 }))
      .sort((a, b) => a.x - b.x || a.run.index - b.run.index);
    return {
      xs: ended.map((point) => point.x),
      best: ended.map((point) => point.run.best_by_time),
      dots: ended.filter((point) => point.run.objective_value !== null).map((point) => ({ ...point, y: point.run.objective_value })),
    };
  }
  return {
    xs: runs.map((run) => run.index),
    best: runs.map((run) => run.best_by_index),
    dots: runs.filter((run) => run.objective_value !== null).map((run) => ({ run, x: run.index, y: run.objective_value })),
  };
}

export class HistoryChart {
  // `colorOf(run)`: a dot's colour; `describe(run)`: the tooltip's lines (chart-parts.js's
  // tooltip); `onOpen(name)`: a click on a dot.
  constructor(element, { colorOf, describe, onOpen }) {
    this.element = element;
    this.colorOf = colorOf;
    this.describe = describe;
    this.onOpen = onOpen;
    this.plot = null;
    this.observer = null;
  }

  // Draws `history` (the route's body) against `axis`. Returns false when no run has a
  // value to draw (the chart is then empty).
  draw(history, axis) {
    this.destroy();
    const { xs, best, dots } = historyPoints(history.runs, axis);
    const element = this.element;
    element.dataset.axis = axis;
    element.dataset.points = String(dots.length);
    element.dataset.newBests = dots.filter((dot) => dot.run.new_best).map((dot) => dot.run.name).join(" ");
    if (!dots.length) {
      element.dataset.bestLast = "";
      return false;
    }
    const colors = dots.map((dot) => this.colorOf(dot.run));
    // The y range spans the dots, which are no uPlot series (the step line is the only one).
    const low = Math.min(...dots.map((dot) => dot.y));
    const high = Math.max(...dots.map((dot) => dot.y));
    let hover = null;
    const chart = this;
    const opts = {
      ...size(element),
      legend: { show: false },
      cursor: { points: { show: false }, drag: { x: true, y: false }, focus: { prox: -1 } },
      scales: { x: axis === "time" ? { time: true } : { time: false, range: range(false) }, y: { range: (u) => range()(u, low, high) } },
      axes: [
        { ...AXIS, label: axis === "time" ? "ended at" : "run index", size: 42 },
        { ...AXIS, label: history.metric_name, size: 64, values: (u, splits) => splits.map(label) },
      ],
      series: [
        {},
        { label: "best so far", stroke: BEST, width: 2, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false }, spanGaps: false },
      ],
      hooks: {
        drawAxes: [
          (u) => {
            const ctx = u.ctx;
            const ratio = devicePixelRatio;
            ctx.save();
            ctx.beginPath();
            ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
            ctx.clip();
            dots.forEach((dot, i) => {
              const x = u.valToPos(dot.x, "x", true);
              const y = u.valToPos(dot.y, "y", true);
              ctx.beginPath();
              ctx.arc(x, y, DOT_RADIUS * ratio, 0, 2 * Math.PI);
              ctx.fillStyle = colors[i];
              ctx.fill();
              if (dot.run.new_best) {
                ctx.beginPath();
                ctx.arc(x, y, RING_RADIUS * ratio, 0, 2 * Math.PI);
                ctx.lineWidth = 1.5 * ratio;
                ctx.strokeStyle = NEW_BEST_RING;
                ctx.stroke();
              }
            });
            ctx.restore();
            // Where the job's best run is drawn (CSS pixels in the plot), for a pointer to find it.
            const best = dots.find((dot) => dot.run.name === history.best_run);
            element.dataset.bestRun = best ? best.run.name : "";
            element.dataset.bestAt = best ? `${u.valToPos(best.x, "x").toFixed(1)} ${u.valToPos(best.y, "y").toFixed(1)}` : "";
          },
        ],
        setCursor: [
          (u) => {
            const { left, top } = u.cursor;
            let nearest = null;
            if (left != null && left >= 0) {
              dots.forEach((dot, i) => {
                const distance = Math.hypot(u.valToPos(dot.x, "x") - left, u.valToPos(dot.y, "y") - top);
                if (distance <= HOVER_PX && (!nearest || distance < nearest.distance)) nearest = { index: i, distance };
              });
            }
            hover = nearest && dots[nearest.index];
            u.over.style.cursor = hover ? "pointer" : "";
            if (!hover) return chart.tip.hide();
            chart.tip.show(chart.describe(hover.run, axis), u.valToPos(hover.x, "x"), u.valToPos(hover.y, "y"));
          },
        ],
      },
    };
    const data = [xs, best];
    this.plot = new uPlot(opts, data, element);
    this.tip = tooltip(this.plot);
    this.observer = observeSize(element, this.plot);
    this.plot.over.addEventListener("mouseleave", () => this.tip.hide());
    onClick(this.plot, () => hover && this.onOpen(hover.run.name));
    // Read back from what uPlot holds: the step line's last value.
    const line = this.plot.data[1].filter((value) => value !== null && value !== undefined);
    element.dataset.bestLast = line.length ? String(line[line.length - 1]) : "";
    return true;
  }

  destroy() {
    this.observer?.disconnect();
    this.plot?.destroy();
    this.plot = null;
    this.observer = null;
  }
}
