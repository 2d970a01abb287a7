// Many runs' lines over one x axis. uPlot's faceted mode (2) gives each run its own x
// values, so runs thinned differently need no common x array.

/* global uPlot */
import { AXIS, HOVER_PX, label, lowerBound, observeSize, onClick, overlayCanvas, range, size, tooltip } from "./chart-parts.js";
import { cssVar } from "./theme.js";

const FADE = cssVar("--chart-fade"); // over the other lines while one is hovered
const HOVER_FILL = cssVar("--card");

// Lines of many runs. `lines`: [{name, color, width, dash, xs, ys}], xs ascending.
export class LinesChart {
  constructor(element, { xLabel, yLabel, logY = false, describe, onOpen }) {
    this.element = element;
    this.options = { xLabel, yLabel, logY };
    this.describe = describe; // (line, index) -> the tooltip's lines (chart-parts.js's tooltip)
    this.onOpen = onOpen;
    this.lines = [];
    this.plot = null;
    this.hover = null;
    this.zoomed = false;
  }

  setLines(lines, { logY = this.options.logY } = {}) {
    const sameRuns = this.plot && logY === this.options.logY && lines.length === this.lines.length && lines.every((line, i) => line.name === this.lines[i].name && line.color === this.lines[i].color && line.dash === this.lines[i].dash);
    this.lines = lines;
    this.options.logY = logY;
    const data = [null, ...lines.map((line) => [line.xs, line.ys])];
    if (sameRuns) this.plot.setData(data, !this.zoomed);
    else this.build(data);
    this.element.dataset.series = String(this.plot.series.length - 1);
    this.element.dataset.points = String(lines.reduce((sum, line) => sum + line.xs.length, 0));
    this.element.dataset.runs = lines.map((line) => line.name).join(" ");
  }

  build(data) {
    this.destroy();
    const chart = this;
    const { xLabel, yLabel, logY } = this.options;
    const opts = {
      mode: 2,
      ...size(this.element),
      legend: { show: false },
      cursor: { points: { show: false }, drag: { x: true, y: true, uni: 30 }, focus: { prox: -1 } },
      scales: {
        x: { time: false, range: range(false, false) },
        y: logY ? { distr: 3, range: range(true) } : { range: range() },
      },
      axes: [
        { ...AXIS, label: xLabel, size: 42 },
        { ...AXIS, label: yLabel, size: 64, values: (u, splits) => splits.map(label) },
      ],
      series: [
        {},
        ...this.lines.map((line) => ({
          label: line.name,
          stroke: line.color,
          width: line.width ?? 1.25,
          dash: line.dash,
          paths: uPlot.paths.linear(),
          points: { show: (u, i) => u.data[i][0].length < 2, size: 5, fill: line.color },
        })),
      ],
      hooks: {
        setCursor: [(u) => chart.track(u)],
        setSelect: [(u) => (chart.zoomed = chart.zoomed || u.select.width > 0)],
        // After a zoom or new data the hovered line moves with the others.
        draw: [() => chart.drawHover()],
      },
    };
    this.plot = new uPlot(opts, data, this.element);
    this.overlay = overlayCanvas(this.plot);
    this.tip = tooltip(this.plot);
    this.observer = observeSize(this.element, this.plot);
    this.plot.over.addEventListener("dblclick", () => (this.zoomed = false));
    this.plot.over.addEventListener("mouseleave", () => this.setHover(null));
    onClick(this.plot, () => this.hover && this.onOpen?.(this.lines[this.hover.line].name));
  }

  // The line nearest the cursor, by its vertical distance at the cursor's x.
  track(u) {
    const { left, top } = u.cursor;
    if (left == null || left < 0) return this.setHover(null);
    const x = u.posToVal(left, "x");
    let best = null;
    this.lines.forEach((line, index) => {
      if (!line.xs.length) return;
      const k = lowerBound(line.xs, x);
      for (const j of [k - 1, k]) {
        if (j < 0 || j >= line.xs.length) continue;
        const dx = u.valToPos(line.xs[j], "x") - left;
        const dy = u.valToPos(line.ys[j], "y") - top;
        const distance = Math.hypot(dx, dy);
        if (!best || distance < best.distance) best = { line: index, point: j, distance };
      }
      if (k > 0 && k < line.xs.length) {
        // Between two points: the distance to the segment at the cursor's x.
        const x0 = line.xs[k - 1];
        const x1 = line.xs[k];
        const share = x1 === x0 ? 0 : (x - x0) / (x1 - x0);
        const y = line.ys[k - 1] + share * (line.ys[k] - line.ys[k - 1]);
        const distance = Math.abs(u.valToPos(y, "y") - top);
        const nearest = share < 0.5 ? k - 1 : k;
        if (distance < best.distance) best = { line: index, point: nearest, distance };
      }
    });
    this.setHover(best && best.distance <= HOVER_PX * 2 ? best : null);
  }

  setHover(hover) {
    const same = hover && this.hover && hover.line === this.hover.line && hover.point === this.hover.point;
    if (same || (!hover && !this.hover)) return;
    this.hover = hover;
    this.plot.over.style.cursor = hover ? "pointer" : "";
    this.drawHover();
    if (!hover) return this.tip.hide();
    const line = this.lines[hover.line];
    const x = line.xs[hover.point];
    const y = line.ys[hover.point];
    this.tip.show(this.describe(line, hover.point), this.plot.valToPos(x, "x"), this.plot.valToPos(y, "y"));
  }

  // The hovered line, thick and on top, on a canvas of its own over the plot: hovering
  // never redraws every run's line (200 runs of 1,000 points each would lag).
  drawHover() {
    const ctx = this.overlay?.clear();
    if (!ctx || !this.hover) return;
    const u = this.plot;
    const line = this.lines[this.hover.line];
    ctx.fillStyle = FADE;
    ctx.fillRect(0, 0, u.over.clientWidth, u.over.clientHeight);
    ctx.beginPath();
    line.xs.forEach((x, j) => {
      const px = u.valToPos(x, "x");
      const py = u.valToPos(line.ys[j], "y");
      j ? ctx.lineTo(px, py) : ctx.moveTo(px, py);
    });
    ctx.strokeStyle = line.color;
    ctx.lineWidth = 3;
    ctx.stroke();
    const px = u.valToPos(line.xs[this.hover.point], "x");
    const py = u.valToPos(line.ys[this.hover.point], "y");
    ctx.beginPath();
    ctx.arc(px, py, 4.5, 0, 2 * Math.PI);
    ctx.fillStyle = HOVER_FILL;
    ctx.fill();
    ctx.lineWidth = 2;
    ctx.stroke();
  }

  destroy() {
    this.observer?.disconnect();
    this.plot?.destroy();
    this.plot = null;
    this.overlay = null;
    this.hover = null;
  }
}
