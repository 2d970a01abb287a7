// The job page's views of the search as a whole: its history, parallel coordinates and
// hyperparameter importance, each drawn from its own JSON route. The three are fetched
// at once and each is drawn when its answer comes; they are fetched again only when the
// page state's `version` changes (a run got a point or changed status), or when the user
// asks for other axes or another evaluator. Each view's card says where it stands in
// `data-state` (loading | drawn | empty | error), and <body> gets `data-analysis-ready`
// once all three have first reached drawn, empty or error.

import { enc } from "./api.js";
import { chartStatus, tipBold, tipMuted } from "./chart-parts.js";
import { element, fromTemplate } from "./dom.js";
import { readJSON } from "./first-reads.js";
import { number, time } from "./format.js";
import { HistoryChart } from "./history-chart.js";
import { drawImportance } from "./importance-chart.js";
import { ParallelCoordinates } from "./parallel-coordinates.js";
import { cssVar } from "./theme.js";

const STATUS_COLORS = {
  Completed: cssVar("--completed"),
  Stopped: cssVar("--stopped"),
  Failed: cssVar("--failed"),
  InProgress: cssVar("--progress"),
};
const UNRANKED = cssVar("--unranked");

const card = (id) => document.querySelector(`[data-testid="${id}"]`);

function setState(view, value) {
  view.dataset.state = value;
}

export class JobAnalysis {
  // `state`: the page state (live.js's pageState); `openRun(name)`: opens a run's page.
  constructor(state, openRun) {
    this.state = state;
    this.openRun = openRun;
    this.version = null;
    this.loading = null; // the load in flight
    this.again = false; // the version changed while a load was in flight
    this.tickets = { history: 0, parallel: 0, importance: 0 }; // newest request per view
    this.history = null;
    this.dimensions = null; // the axes the user chose (keys); null: the service's defaults

    this.historyCard = card("history-chart");
    this.historyElement = document.getElementById("history-chart");
    this.historyChart = new HistoryChart(this.historyElement, {
      colorOf: (run) => this.colorOf(run),
      describe: (run, axis) => this.describeRun(run, axis),
      onOpen: openRun,
    });
    this.axisInputs = [...document.querySelectorAll("input[name='history-axis']")];
    for (const input of this.axisInputs) input.addEventListener("change", () => this.drawHistory());

    this.parallelCard = card("parallel-coordinates");
    this.parallelElement = document.getElementById("pc-chart");
    this.count = document.getElementById("pc-count");
    this.clear = document.getElementById("pc-clear");
    this.chooser = document.getElementById("pc-axes");
    this.parallel = new ParallelCoordinates(this.parallelElement, {
      objectiveType: state.objective.type,
      onOpen: openRun,
      onSelect: (selected, total, brushing) => {
        this.count.textContent = `${selected} of ${total} runs selected`;
        this.clear.disabled = !brushing;
      },
    });
    this.clear.addEventListener("click", () => this.parallel.clearBrushes());
    this.chooser.addEventListener("change", () => {
      this.dimensions = [...this.chooser.querySelectorAll("input:checked:not(:disabled)")].map((box) => box.value);
      this.loadParallel();
    });

    this.importanceCard = card("importance");
    this.importanceBars = document.getElementById("importance-bars");
    this.evaluator = document.getElementById("importance-evaluator");
    this.evaluator.addEventListener("change", () => this.loadImportance());
  }

  // Fetches the three views again when `state.version` changed since the last load.
  // Returns the load's promise (settled when all three are drawn or failed).
  update(state) {
    this.state = state;
    if (state.version === this.version) return this.loading ?? Promise.resolve();
    if (this.loading) {
      this.again = true; // one more load when this one is done, not one per poll
      return this.loading;
    }
    this.version = state.version;
    this.loading = Promise.allSettled([this.loadHistory(), this.loadParallel(), this.loadImportance()]).finally(() => {
      this.loading = null;
      if (this.again) {
        this.again = false;
        this.update(this.state);
      }
    });
    return this.loading;
  }

  url(route, query = "") {
    return `/v1/jobs/${enc(this.state.job)}/${route}${query ? `?${query}` : ""}`;
  }

  // Fetches `url` for `view`; returns the body, or null when a newer request overtook it
  // or it failed (the view then says why).
  async fetchFor(view, name, status, url) {
    const ticket = ++this.tickets[name];
    try {
      const body = await readJSON(url);
      return ticket === this.tickets[name] ? body : null;
    } catch (error) {
      if (ticket === this.tickets[name]) {
        setState(view, "error");
        chartStatus(status, `Could not load it: ${error.message}`, "error");
      }
      return null;
    }
  }

  async loadHistory() {
    const body = await this.fetchFor(this.historyCard, "history", this.historyElement, this.url("history"));
    if (!body) return;
    this.history = body;
    this.drawHistory();
  }

  drawHistory() {
    if (!this.history) return;
    const axis = this.axisInputs.find((input) => input.checked)?.value ?? "index";
    this.rows = new Map(this.state.runs.map((row) => [row.name, row]));
    const drawn = this.historyChart.draw(this.history, axis);
    if (drawn) {
      chartStatus(this.historyElement, null);
    } else {
      const why = axis === "time" ? "No ended run has a counting value yet." : "No completed or stopped run has a value yet.";
      chartStatus(this.historyElement, why, "empty");
    }
    setState(this.historyCard, drawn ? "drawn" : "empty");
  }

  colorOf(run) {
    const row = this.rows.get(run.name);
    return row && row.objective !== null ? row.color : (STATUS_COLORS[run.status] ?? UNRANKED);
  }

  describeRun(run, axis) {
    const title = [tipBold(run.name), " ", tipMuted(`run ${run.index}`)];
    if (run.name === this.history.best_run) title.push(" ", element("span", "best-mark", "★ best"));
    const best = axis === "time" ? run.best_by_time : run.best_by_index;
    const lines = [title, [`${this.history.metric_name} `, tipBold(number(run.objective_value))], [tipMuted(`best so far ${number(best)}`)]];
    if (run.ended_at) lines.push([tipMuted(`ended ${time(Date.parse(run.ended_at) / 1000)}`)]);
    lines.push([tipMuted(`${run.new_best ? "a new best · " : ""}${run.status} · click to open`)]);
    return lines;
  }

  async loadParallel() {
    const query = (this.dimensions ?? []).map((key) => `dimension=${enc(key)}`).join("&");
    const body = await this.fetchFor(this.parallelCard, "parallel", this.parallelElement, this.url("parallel-coordinates", query));
    if (!body) return;
    this.drawChooser(body);
    const drawn = this.parallel.draw(body);
    if (drawn) chartStatus(this.parallelElement, null);
    else chartStatus(this.parallelElement, "No run has a value on these axes yet.", "empty");
    this.count.hidden = !drawn;
    setState(this.parallelCard, drawn ? "drawn" : "empty");
  }

  // A checkbox per key a client may ask for, ticked for the axes shown; the objective's
  // axis is always shown, so its box cannot be unticked.
  drawChooser(body) {
    const shown = new Set(body.dimensions.map((dimension) => dimension.key));
    const objective = body.dimensions.find((dimension) => dimension.objective)?.key;
    const boxes = body.available.map((key) => {
      const option = fromTemplate("pc-option");
      const box = option.querySelector("input");
      box.value = key;
      box.checked = shown.has(key) || key === objective;
      box.disabled = key === objective;
      option.querySelector(".pc-option-name").textContent = key.replace(/^(hyperparameter|metric):/, "");
      option.querySelector(".pc-option-kind").textContent = key.startsWith("metric:") ? "metric" : "";
      option.title = key;
      return option;
    });
    // A keyboard user who ticked a box keeps their place in the list it is redrawn in.
    const focused = this.chooser.contains(document.activeElement) ? document.activeElement.value : null;
    this.chooser.replaceChildren(...boxes);
    if (focused) this.chooser.querySelector(`input[value="${CSS.escape(focused)}"]`)?.focus();
    document.getElementById("pc-axes-count").textContent = `${shown.size} of ${body.available.length}`;
  }

  async loadImportance() {
    const body = await this.fetchFor(this.importanceCard, "importance", this.importanceBars, this.url("importance", `evaluator=${enc(this.evaluator.value)}`));
    if (!body) return;
    const drawn = drawImportance(
      { bars: this.importanceBars, facts: document.getElementById("importance-facts"), warning: document.getElementById("importance-warning") },
      body,
    );
    if (!drawn) chartStatus(this.importanceBars, "Too few finished runs to rank the hyperparameters yet.", "empty");
    setState(this.importanceCard, drawn ? "drawn" : "empty");
  }
}
