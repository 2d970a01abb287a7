// One run's metric over step or over time, in uPlot's aligned mode (1): hundreds of
// thousands of points stay quick (uPlot draws one min/max segment per pixel column).

/* global uPlot */
import { AXIS, label, tipBold, tooltip } from "./chart-parts.js";
import { number, time } from "./format.js";

const METRIC_HEIGHT = 210;

// One run's metric over step or over time. `xs` ascending.
export class MetricChart {
  // `color`: #rrggbb (the fill under the line is it with an alpha appended).
  constructor(element, { name, color, axis }) {
    this.element = element;
    this.name = name;
    this.color = color;
    this.axis = axis; // "step" | "time"
    this.plot = null;
    this.zoomed = false;
  }

  setData(xs, ys, axis = this.axis) {
    if (!this.plot || axis !== this.axis) {
      this.axis = axis;
      this.build([xs, ys]);
    } else {
      this.plot.setData([xs, ys], !this.zoomed);
    }
    this.element.dataset.series = String(this.plot.series.length - 1);
    this.element.dataset.points = String(xs.length);
  }

  build(data) {
    this.plot?.destroy();
    this.observer?.disconnect();
    this.zoomed = false;
    const overTime = this.axis === "time";
    const chart = this;
    const width = () => Math.max(this.element.clientWidth, 200);
    const xLabel = overTime ? "time" : "step";
    const opts = {
      width: width(),
      height: METRIC_HEIGHT,
      // No legend, whose values read "–" until hovered: a tooltip at the cursor instead.
      legend: { show: false },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: overTime } },
      axes: [
        { ...AXIS, label: xLabel, size: 48, ...(overTime ? {} : { values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : "")) }) },
        { ...AXIS, label: this.name, size: 72, values: (u, splits) => splits.map(label) },
      ],
      series: [
        { label: overTime ? "time" : "step", value: (u, v) => (v == null ? "–" : overTime ? time(v) : String(v)) },
        {
          label: this.name,
          stroke: this.color,
          width: 1.5,
          fill: this.color + "14",
          value: (u, v) => number(v),
          points: { size: 4, fill: this.color },
        },
      ],
      hooks: {
        setSelect: [(u) => (chart.zoomed = chart.zoomed || u.select.width > 0)],
        setCursor: [(u) => chart.showValue(u)],
      },
    };
    this.plot = new uPlot(opts, data, this.element);
    this.tip = tooltip(this.plot);
    this.element.dataset.xLabel = this.plot.axes[0].label;
    this.element.dataset.yLabel = this.plot.axes[1].label;
    this.plot.over.addEventListener("dblclick", () => (this.zoomed = false));
    this.observer = new ResizeObserver(() => this.plot.setSize({ width: width(), height: METRIC_HEIGHT }));
    this.observer.observe(this.element);
  }

  // The point under the cursor, in words.
  showValue(u) {
    const i = u.cursor.idx;
    const value = i == null ? null : u.data[1][i];
    if (value == null) return this.tip.hide();
    const x = u.data[0][i];
    const at = this.axis === "time" ? time(x) : `step ${x}`;
    this.tip.show([[`${at} · ${this.name} `, tipBold(number(value))]], u.valToPos(x, "x"), u.valToPos(value, "y"));
  }
}
