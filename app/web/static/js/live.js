// Keeps a page current without a reload: fetches the page again and swaps the parts
// marked `data-region` whose content changed, then tells the page's scripts (`onUpdate`).
// A page with a state (a job, a run) polls only while its state says something is live
// (a run in progress, a search not ended): every `data-poll` ms of <body>, 2 s unless
// set; an idle one not at all. A page without (the jobs list) polls every `data-poll` ms
// (0: not at all). Never while the tab is hidden.

const LIVE_INTERVAL = 2000;
const listeners = [];
// Region name -> the region as the service last sent it: what the page shows now may differ
// (scripts sort tables, tick boxes), so a change is told from the service's copies.
const lastSent = new Map();
let timer = null;

export function onUpdate(listener) {
  listeners.push(listener);
}

export function pageState() {
  const element = document.getElementById("page-state");
  return element ? JSON.parse(element.textContent) : null;
}

function interval() {
  const state = pageState();
  const every = Number(document.body.dataset.poll || 0);
  if (!state) return every;
  return state.live ? every || LIVE_INTERVAL : 0;
}

function indicate(polling, online = true) {
  const indicator = document.getElementById("live-indicator");
  if (!indicator) return;
  indicator.hidden = !polling;
  indicator.classList.toggle("offline", !online);
  indicator.querySelector(".label").textContent = online ? "live" : "offline: retrying";
  indicator.title = online ? "This page updates by itself" : "The service does not answer; retrying";
}

function schedule() {
  clearTimeout(timer);
  const every = interval();
  indicate(every > 0);
  if (every > 0) timer = setTimeout(refresh, every);
}

// Whether two regions hold the same nodes (their own attributes aside).
function sameContent(a, b) {
  if (!a || a.childNodes.length !== b.childNodes.length) return false;
  return [...a.childNodes].every((child, i) => child.isEqualNode(b.childNodes[i]));
}

export async function refresh() {
  if (document.hidden) return schedule();
  let online = true;
  const changed = [];
  try {
    const response = await fetch(location.href, { cache: "no-store", credentials: "same-origin" });
    if (!response.ok) throw new Error(`${response.status}`);
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const element of fresh.querySelectorAll("[data-region]")) {
      const name = element.dataset.region;
      const current = document.querySelector(`[data-region="${name}"]`);
      if (!current || sameContent(lastSent.get(name), element)) continue;
      lastSent.set(name, element);
      // The service's own escaped markup, parsed by DOMParser (whose scripts never run).
      current.replaceChildren(...document.importNode(element, true).childNodes);
      changed.push(name);
    }
  } catch {
    online = false;
  }
  for (const listener of listeners) {
    try {
      await listener(pageState(), changed);
    } catch (error) {
      console.warn("live update:", error);
    }
  }
  schedule();
  if (!online) indicate(true, false);
}

export function startLive() {
  for (const element of document.querySelectorAll("[data-region]")) {
    lastSent.set(element.dataset.region, element.cloneNode(true));
  }
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
  });
  schedule();
}

// Copy buttons next to commands.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const text = button.parentElement.querySelector("code").textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Select and copy";
  }
  setTimeout(() => (button.textContent = "Copy"), 1500);
});

if (document.body.dataset.page === "jobs") startLive();
