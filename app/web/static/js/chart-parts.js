// What the dashboard's charts share: axis style, scale ranges, tooltips, clicks, sizing.
// The charts are drawn by uPlot (static/vendor/uplot, a global `uPlot`); each chart's
// element carries `data-series` (the series uPlot holds) and `data-points`.

/* global uPlot */
import { element } from "./dom.js";
import { number } from "./format.js";
import { cssVar } from "./theme.js";

export const AXIS = {
  stroke: cssVar("--chart-axis"),
  grid: { stroke: cssVar("--chart-grid"), width: 1 },
  ticks: { stroke: cssVar("--chart-tick"), width: 1, size: 4 },
  font: "11px system-ui, sans-serif",
  labelFont: "600 11.5px system-ui, sans-serif",
};
export const HOVER_PX = 16;
// uPlot passes null for the ticks it leaves unlabelled (the minor ones of a log axis).
export const label = (v) => (v == null ? "" : number(v));

// Scale ranges that survive one point (or many equal values): uPlot's own tick
// generator loops forever on an empty range in faceted mode, so widen it first.
export function range(log = false, nice = true) {
  return (u, min, max) => {
    if (min == null || max == null) return [0, 1];
    if (min === max) {
      if (log) return [min / 2, max * 2];
      const pad = Math.abs(min) * 0.1 || 1;
      return [min - pad, max + pad];
    }
    if (!nice) return [min, max];
    return log ? uPlot.rangeLog(min, max, 10, true) : uPlot.rangeNum(min, max, 0.1, true);
  };
}

export function size(element) {
  return { width: Math.max(element.clientWidth, 200), height: Math.max(element.clientHeight, 120) };
}

// A tooltip over the plot. `show(lines, left, top)`: `lines` is a list of lines, each a
// list of nodes and text (see tipBold, tipMuted).
export function tooltip(plot) {
  const tip = element("div", "tooltip");
  tip.hidden = true;
  plot.over.appendChild(tip);
  return {
    show(lines, left, top) {
      tip.replaceChildren(...lines.map((parts) => element("div", "", ...parts)));
      tip.hidden = false;
      const width = tip.offsetWidth;
      const height = tip.offsetHeight;
      const x = left + 14 + width > plot.over.clientWidth ? left - 14 - width : left + 14;
      const y = Math.min(Math.max(top - height / 2, 0), plot.over.clientHeight - height);
      tip.style.transform = `translate(${x}px, ${y}px)`;
    },
    hide() {
      tip.hidden = true;
    },
  };
}

export const tipBold = (text) => element("b", "", text);
export const tipMuted = (text) => element("span", "muted", text);

// A click that was not the end of a drag-to-zoom.
export function onClick(plot, handler) {
  let down = null;
  plot.over.addEventListener("mousedown", (e) => (down = [e.clientX, e.clientY]));
  plot.over.addEventListener("mouseup", (e) => {
    if (down && Math.abs(e.clientX - down[0]) < 4 && Math.abs(e.clientY - down[1]) < 4) handler();
    down = null;
  });
}

export function observeSize(element, plot) {
  const observer = new ResizeObserver(() => plot.setSize(size(element)));
  observer.observe(element);
  return observer;
}

// A canvas over the plotting area, in CSS pixels, for what changes as the mouse moves.
export function overlayCanvas(plot) {
  const canvas = document.createElement("canvas");
  canvas.className = "hover-layer";
  plot.over.prepend(canvas);
  const ctx = canvas.getContext("2d");
  return {
    clear() {
      const ratio = devicePixelRatio;
      const width = plot.over.clientWidth;
      const height = plot.over.clientHeight;
      if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
        [canvas.width, canvas.height] = [Math.round(width * ratio), Math.round(height * ratio)];
        [canvas.style.width, canvas.style.height] = [`${width}px`, `${height}px`];
      }
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, width, height);
      return ctx;
    },
  };
}

export function lowerBound(xs, x) {
  let low = 0;
  let high = xs.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (xs[mid] < x) low = mid + 1;
    else high = mid;
  }
  return low;
}

// What a chart says instead of its lines: "Loading…" until its data is drawn, that there
// is nothing to draw, or why its data could not be read. `kind`: loading | empty | error;
// `text` null: the chart is drawn, nothing to say.
export function chartStatus(element, text, kind = "loading") {
  let status = element.querySelector(":scope > .chart-status");
  if (!status) {
    status = document.createElement("p");
    status.setAttribute("role", "status");
    element.prepend(status);
  }
  status.className = `chart-status chart-${kind}`;
  status.textContent = text ?? "";
  status.hidden = text == null;
}
