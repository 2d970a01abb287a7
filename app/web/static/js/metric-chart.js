// One run's metric over step or over time, in uPlot's aligned mode (1): hundreds of
// thousands of points stay quick (uPlot draws one min/max segment per pixel column).

/* global uPlot */
import { AXIS, label } from "./chart-parts.js";
import { number, time } from "./format.js";

const METRIC_HEIGHT = 210;

// One run's metric over step or over time. `xs` ascending.
export class MetricChart {
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
    const opts = {
      width: width(),
      height: METRIC_HEIGHT,
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: overTime } },
      axes: [
        { ...AXIS, size: 36, ...(overTime ? {} : { values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : "")) }) },
        { ...AXIS, size: 60, values: (u, splits) => splits.map(label) },
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
      hooks: { setSelect: [(u) => (chart.zoomed = chart.zoomed || u.select.width > 0)] },
    };
    this.plot = new uPlot(opts, data, this.element);
    this.plot.over.addEventListener("dblclick", () => (this.zoomed = false));
    this.observer = new ResizeObserver(() => this.plot.setSize({ width: width(), height: METRIC_HEIGHT }));
    this.observer.observe(this.element);
  }
}
