// Parallel coordinates: one vertical axis per dimension (a hyperparameter or a metric, from
// GET /v1/jobs/{job}/parallel-coordinates) and one SVG path per run across them, coloured
// by its objective value. Dragging along an axis brushes a range; brushes on several axes
// combine (a run is selected when it lies in every one); the others are greyed.
//
// Quick at a thousand runs: each run is one <path> built once per draw, and each run's
// pixel height on each axis is kept, so brushing compares numbers and toggles one class
// per run, once per animation frame, with no layout read while dragging.

import { number } from "./format.js";
import { cssVar } from "./theme.js";

const SVG = "http://www.w3.org/2000/svg";
const HEIGHT = 360;
const MARGIN = { top: 34, bottom: 26, left: 56, right: 72 };
const HIT_WIDTH = 26; // the band around an axis that takes a drag
const CLICK_PX = 3; // a drag shorter than this is a click: it clears the axis' brush
const MAX_CATEGORY_LABELS = 16;
const MANY = 150; // more runs than this: thinner, fainter lines, so their density shows

function svg(tag, attributes = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

// "#rrggbb" -> [r, g, b].
function rgb(hex) {
  const value = parseInt(hex.replace("#", ""), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

// The colour `share` (0..1) of the way from `low` to `high`, all three "#rrggbb".
function mix(low, high, share) {
  const [a, b] = [rgb(low), rgb(high)];
  const channels = a.map((channel, i) => Math.round(channel + (b[i] - channel) * share));
  return "#" + channels.map((channel) => channel.toString(16).padStart(2, "0")).join("");
}

// A dimension's value -> its height in pixels (top: the axis' top), or null where it has none.
function scaleOf(dimension, top, bottom) {
  const height = bottom - top;
  if (dimension.scale === "categorical") {
    const categories = dimension.categories ?? [];
    return (value) => {
      const k = categories.indexOf(value === null ? null : String(value));
      return k < 0 ? null : bottom - ((k + 0.5) / categories.length) * height;
    };
  }
  const log = dimension.scale === "log";
  const convert = (value) => (log ? Math.log10(value) : value);
  const usable = (value) => typeof value === "number" && Number.isFinite(value) && (!log || value > 0);
  if (dimension.min === null || dimension.max === null || !usable(dimension.min) || !usable(dimension.max)) return () => null;
  const [low, high] = [convert(dimension.min), convert(dimension.max)];
  return (value) => {
    if (!usable(value)) return null;
    if (high === low) return top + height / 2;
    return bottom - ((convert(value) - low) / (high - low)) * height;
  };
}

export class ParallelCoordinates {
  // `objectiveType`: "Maximize" | "Minimize" (which end of the ramp is better);
  // `onOpen(name)`: a click on a run's path; `onSelect(selected, total)`: after a brush.
  constructor(element, { objectiveType, onOpen, onSelect }) {
    this.element = element;
    this.objectiveType = objectiveType;
    this.onOpen = onOpen;
    this.onSelect = onSelect;
    this.brushes = new Map(); // axis key -> [top, bottom] in pixels
    this.runs = [];
    this.frame = null;
    this.low = cssVar("--pc-low");
    this.high = cssVar("--pc-high");
    this.unranked = cssVar("--unranked");
  }

  // Draws the route's body. Returns false when there is nothing to draw.
  draw(body) {
    const { dimensions, runs } = body;
    this.element.replaceChildren();
    this.runs = [];
    if (!dimensions.length || !runs.length) {
      this.element.dataset.axes = "";
      this.element.dataset.runs = "0";
      return false;
    }
    const width = Math.max(this.element.clientWidth, 320);
    const top = MARGIN.top;
    const bottom = HEIGHT - MARGIN.bottom;
    const span = width - MARGIN.left - MARGIN.right;
    const xOf = (i) => (dimensions.length === 1 ? MARGIN.left + span / 2 : MARGIN.left + (i * span) / (dimensions.length - 1));
    const scales = dimensions.map((dimension) => scaleOf(dimension, top, bottom));
    // Brushes on axes no longer shown go; the others keep their pixels (same height).
    const keys = new Set(dimensions.map((dimension) => dimension.key));
    for (const key of [...this.brushes.keys()]) if (!keys.has(key)) this.brushes.delete(key);

    const root = svg("svg", { class: "pc-svg", width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, role: "img", "aria-label": `parallel coordinates of ${runs.length} runs` });
    const lines = svg("g", { class: "pc-lines" });
    const colour = this.colouring(runs);
    // Worse runs first, so the better ones are drawn over them.
    const order = runs.map((run, i) => i).sort((a, b) => colour.rank(runs[a]) - colour.rank(runs[b]));
    for (const i of order) {
      const run = runs[i];
      const ys = run.values.map((value, d) => scales[d](value));
      let d = "";
      let pen = false;
      ys.forEach((y, k) => {
        if (y === null) {
          pen = false;
          return;
        }
        d += `${pen ? "L" : "M"}${xOf(k).toFixed(1)} ${y.toFixed(1)}`;
        pen = true;
      });
      const path = svg("path", { d, stroke: colour.of(run), class: "pc-line" });
      path.dataset.run = run.name;
      path.append(svg("title", {}, `${run.name} · ${run.status}${run.objective_value === null ? "" : ` · ${number(run.objective_value)}`}`));
      lines.append(path);
      this.runs.push({ run, ys, path, selected: true });
    }
    root.append(lines);

    dimensions.forEach((dimension, i) => root.append(this.axis(dimension, xOf(i), top, bottom, scales[i], i)));
    lines.addEventListener("click", (event) => {
      const path = event.target.closest?.("path");
      if (path) this.onOpen(path.dataset.run);
    });
    this.element.classList.toggle("pc-many", runs.length > MANY);
    this.element.append(root);
    this.element.dataset.axes = dimensions.map((dimension) => dimension.key).join(" ");
    this.element.dataset.runs = String(lines.childElementCount);
    this.keys = dimensions.map((dimension) => dimension.key);
    this.select();
    return true;
  }

  // A run's colour on the ramp between --pc-low (worst) and --pc-high (best) by its
  // objective value; --unranked without one.
  colouring(runs) {
    const values = runs.map((run) => run.objective_value).filter((value) => value !== null);
    const [low, high] = [Math.min(...values), Math.max(...values)];
    const share = (value) => {
      if (high === low) return 1;
      const t = (value - low) / (high - low);
      return this.objectiveType === "Minimize" ? 1 - t : t;
    };
    return {
      of: (run) => (run.objective_value === null ? this.unranked : mix(this.low, this.high, share(run.objective_value))),
      rank: (run) => (run.objective_value === null ? -1 : share(run.objective_value)),
    };
  }

  axis(dimension, x, top, bottom, scale, index) {
    const group = svg("g", { class: `pc-axis${dimension.objective ? " pc-objective" : ""}`, tabindex: 0, role: "group" });
    group.dataset.key = dimension.key;
    // The axis' place in the SVG's pixels: where a pointer brushes it.
    Object.assign(group.dataset, { x: x.toFixed(1), top, bottom });
    group.setAttribute("aria-label", `${dimension.name} axis (${dimension.scale}): drag along it or press the arrow keys to select a range, Escape clears it`);
    group.append(svg("line", { class: "pc-axis-line", x1: x, x2: x, y1: top, y2: bottom }));
    const anchor = index === 0 ? "start" : "middle";
    group.append(svg("text", { class: "pc-axis-name", x: index === 0 ? x - 8 : x, y: top - 18, "text-anchor": anchor }, dimension.name));
    if (dimension.scale === "categorical") {
      const categories = dimension.categories ?? [];
      if (categories.length <= MAX_CATEGORY_LABELS) {
        for (const category of categories) {
          group.append(svg("text", { class: "pc-tick", x: x + 6, y: scale(category) + 4 }, category));
        }
      }
    } else if (dimension.min !== null && dimension.max !== null) {
      group.append(svg("text", { class: "pc-tick", x: x + 6, y: top + 4 }, number(dimension.max)));
      if (dimension.max !== dimension.min) group.append(svg("text", { class: "pc-tick", x: x + 6, y: bottom + 4 }, number(dimension.min)));
      if (dimension.scale === "log") group.append(svg("text", { class: "pc-tick pc-scale", x, y: bottom + 18, "text-anchor": "middle" }, "log"));
    }
    const brush = svg("rect", { class: "pc-brush", x: x - 7, width: 14, y: top, height: 0 });
    group.append(brush);
    const hit = svg("rect", { class: "pc-hit", x: x - HIT_WIDTH / 2, width: HIT_WIDTH, y: top - 4, height: bottom - top + 8 });
    group.append(hit);
    const show = () => {
      const range = this.brushes.get(dimension.key);
      brush.style.display = range ? "" : "none";
      if (range) {
        brush.setAttribute("y", range[0].toFixed(1));
        brush.setAttribute("height", (range[1] - range[0]).toFixed(1));
      }
    };
    show();
    const clamp = (y) => Math.min(Math.max(y, top), bottom);
    hit.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      group.focus({ preventScroll: true });
      const origin = hit.ownerSVGElement.getBoundingClientRect().top;
      const start = clamp(event.clientY - origin);
      let moved = false;
      hit.setPointerCapture(event.pointerId);
      const move = (e) => {
        const y = clamp(e.clientY - origin);
        if (!moved && Math.abs(y - start) < CLICK_PX) return;
        moved = true;
        this.brushes.set(dimension.key, [Math.min(start, y), Math.max(start, y)]);
        show();
        this.schedule();
      };
      const end = (e) => {
        hit.removeEventListener("pointermove", move);
        hit.removeEventListener("pointerup", end);
        hit.removeEventListener("pointercancel", end);
        if (!moved && e.type === "pointerup") this.brushes.delete(dimension.key);
        show();
        this.schedule();
      };
      hit.addEventListener("pointermove", move);
      hit.addEventListener("pointerup", end);
      hit.addEventListener("pointercancel", end);
    });
    // From the keyboard: the arrows move a range (a fifth of the axis) along it, with
    // Shift they stretch or shrink it; Escape, Delete or Backspace clears it.
    group.addEventListener("keydown", (event) => {
      const range = this.brushes.get(dimension.key);
      const step = (bottom - top) / 20;
      if (["Escape", "Delete", "Backspace"].includes(event.key) && range) {
        this.brushes.delete(dimension.key);
      } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
        const [low, high] = range ?? [top + (bottom - top) * 0.4, top + (bottom - top) * 0.6];
        const delta = event.key === "ArrowUp" ? -step : step;
        const next = !range ? [low, high] : event.shiftKey ? [low, Math.max(high + delta, low + step)] : [low + delta, high + delta];
        const shift = Math.min(bottom - next[1], 0) + Math.max(top - next[0], 0);
        this.brushes.set(dimension.key, [clamp(next[0] + shift), clamp(next[1] + shift)]);
      } else {
        return;
      }
      event.preventDefault();
      show();
      this.schedule();
    });
    return group;
  }

  clearBrushes() {
    this.brushes.clear();
    for (const brush of this.element.querySelectorAll(".pc-brush")) brush.style.display = "none";
    this.schedule();
  }

  schedule() {
    if (this.frame === null) this.frame = requestAnimationFrame(() => this.select());
  }

  // Marks each run selected when it lies within every brush.
  select() {
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
    const brushed = [...this.brushes].map(([key, range]) => [this.keys.indexOf(key), range]).filter(([d]) => d >= 0);
    let count = 0;
    for (const entry of this.runs) {
      const selected = brushed.every(([d, [low, high]]) => entry.ys[d] !== null && entry.ys[d] >= low && entry.ys[d] <= high);
      if (selected !== entry.selected) {
        entry.selected = selected;
        entry.path.classList.toggle("pc-dim", !selected);
      }
      if (selected) count++;
    }
    this.element.dataset.selected = String(count);
    this.element.dataset.brushed = [...this.brushes.keys()].join(" ");
    this.element.classList.toggle("pc-brushing", brushed.length > 0);
    this.onSelect?.(count, this.runs.length, brushed.length > 0);
  }
}
