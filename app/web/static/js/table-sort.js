// Sortable tables: click a header to sort by its column, again to reverse. A cell's sort
// key is its `data-value` where it has one (a formatted number, a badge), else its text:
// a thousand-row table need not say each plain value twice. Empty keys go last either
// way. The sort survives the live swaps of the table's region.

import { onUpdate } from "./live.js";

const sorts = new Map(); // table id -> {column, descending}

function key(row, column, numeric) {
  const cell = row.cells[column];
  const raw = cell ? (cell.dataset.value ?? cell.textContent.trim()) : "";
  if (raw === "") return null;
  return numeric ? Number(raw) : raw.toLowerCase();
}

function apply(table) {
  const sort = sorts.get(table.id);
  if (!sort) return;
  const headers = [...sortRow(table).cells];
  headers.forEach((th, i) => (i === sort.column ? th.setAttribute("aria-sort", sort.descending ? "descending" : "ascending") : th.removeAttribute("aria-sort")));
  const numeric = headers[sort.column].dataset.sortType === "number";
  const body = table.tBodies[0];
  const rows = [...body.rows].map((row, index) => ({ row, index, key: key(row, sort.column, numeric) }));
  rows.sort((a, b) => {
    if (a.key === null || b.key === null) return (a.key === null) - (b.key === null) || a.index - b.index;
    const order = a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
    return (sort.descending ? -order : order) || a.index - b.index;
  });
  body.append(...rows.map((r) => r.row));
}

// The last header row names the columns; one above it may group them.
const sortRow = (table) => table.tHead.rows[table.tHead.rows.length - 1];

document.addEventListener("click", (event) => {
  const th = event.target.closest("table.sortable thead th");
  const table = th?.closest("table");
  if (!th || th.parentElement !== sortRow(table)) return;
  const column = th.cellIndex;
  const previous = sorts.get(table.id);
  const numeric = th.dataset.sortType === "number";
  // Numbers start high-to-low except the rank; text starts A-Z.
  const firstDescending = numeric && column !== 0;
  const descending = previous?.column === column ? !previous.descending : firstDescending;
  sorts.set(table.id, { column, descending });
  apply(table);
});

onUpdate(() => document.querySelectorAll("table.sortable").forEach(apply));
