// Hyperparameter importance: a horizontal bar per hyperparameter, highest first, from
// GET /v1/jobs/{job}/importance, with the number of runs it rests on and the service's
// warning when the ranking may mislead.

import { fromTemplate } from "./dom.js";

// Draws the route's body into `bars` (a list of <template id="importance-row"> rows), and
// its facts into `facts` (the runs it rests on) and `warning` (a callout, hidden without
// one). Returns false when there is no ranking to draw.
export function drawImportance({ bars, facts, warning }, body) {
  const evaluator = body.evaluator === "ped-anova" ? "PED-ANOVA" : "fANOVA";
  facts.textContent = `${evaluator} on ${body.runs} finished run${body.runs === 1 ? "" : "s"} (${body.minimum_runs} or more advised)`;
  warning.textContent = body.warning ?? "";
  warning.hidden = !body.warning;
  const rows = body.importances;
  bars.replaceChildren();
  bars.dataset.names = rows.map((row) => row.name).join(" ");
  if (!rows.length) return false;
  const top = rows[0].importance || 1;
  for (const row of rows) {
    const item = fromTemplate("importance-row");
    item.dataset.name = row.name;
    item.querySelector(".importance-name").textContent = row.name;
    item.querySelector(".importance-value").textContent = `${(row.importance * 100).toFixed(1)}%`;
    const fill = item.querySelector(".importance-fill");
    // Widths relative to the first bar, so the ranking reads even when one dominates.
    fill.style.width = `${Math.max((row.importance / top) * 100, 0.5).toFixed(2)}%`;
    item.querySelector(".importance-bar").title = `${row.name}: importance ${row.importance.toFixed(4)} (the bars sum to 1)`;
    bars.append(item);
  }
  return true;
}
