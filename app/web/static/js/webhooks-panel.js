// The job page's webhooks panel: each webhook (its URL redacted for a viewer who may not
// manage the job), its events, and its latest deliveries, from GET /v1/jobs/{job}/webhooks.
// Read again every few seconds, while the tab is visible, only while a delivery is pending
// or retrying or the page is live (its state's `live`, as live.js decides); an idle page
// reads it once. The list is rebuilt only when the answer changed.

import { enc, getJSON } from "./api.js";
import { fromTemplate } from "./dom.js";
import { onUpdate, pageState } from "./live.js";

const REFRESH_MS = 5000;
const EVENT_NAMES = {
  job_ended: "job ended",
  new_best_run: "new best run",
  run_failed: "run failed",
  run_stopped_early: "run stopped early",
};
// The dashboard's run status colours, for a delivery's status.
const STATUS_CLASS = {
  pending: "status-inprogress",
  retrying: "status-inprogress",
  delivered: "status-completed",
  failed: "status-failed",
};

const panel = document.querySelector('[data-testid="webhooks"]');
let lastAnswer = null; // the last answer drawn, as JSON: an unchanged one is not drawn again
let timer = null;
let polling = false; // whether the last read wanted another

function when(iso) {
  if (!iso) return "–";
  // UTC, to the second, as the API's times are: "2026-12-06 15:40:38".
  return iso.replace("T", " ").replace(/\.\d+/, "").replace("Z", "");
}

function answer(delivery) {
  if (delivery.last_error) return delivery.last_error;
  if (delivery.last_status_code !== null) return String(delivery.last_status_code);
  return "–";
}

function deliveryRow(delivery) {
  const row = fromTemplate("webhook-delivery-template");
  row.dataset.event = delivery.event;
  row.dataset.status = delivery.status;
  row.querySelector(".delivery-event").textContent = EVENT_NAMES[delivery.event] ?? delivery.event;
  const status = row.querySelector(".delivery-status");
  status.textContent = delivery.status;
  status.classList.add(STATUS_CLASS[delivery.status] ?? "status-stopped");
  row.querySelector(".delivery-attempts").textContent = String(delivery.attempts);
  row.querySelector(".delivery-answer").textContent = answer(delivery);
  row.querySelector(".delivery-created").textContent = when(delivery.created_at);
  row.querySelector(".delivery-last").textContent = when(delivery.last_attempt_at);
  row.querySelector(".delivery-next").textContent = when(delivery.next_attempt_at);
  return row;
}

function webhookCard(webhook) {
  const card = fromTemplate("webhook-template");
  card.dataset.webhook = webhook.id;
  card.querySelector(".webhook-url").textContent = webhook.url;
  card.querySelector(".webhook-format").textContent = webhook.format === "slack" ? "Slack" : "JSON";
  card.querySelector(".webhook-signed").hidden = !webhook.signed;
  const events = card.querySelector(".webhook-events");
  for (const event of webhook.events) {
    const chip = fromTemplate("webhook-event-template");
    chip.textContent = EVENT_NAMES[event] ?? event;
    events.append(chip);
  }
  const body = card.querySelector("tbody");
  body.append(...webhook.deliveries.map(deliveryRow));
  card.querySelector(".webhook-none").hidden = webhook.deliveries.length > 0;
  card.querySelector(".webhook-deliveries").hidden = webhook.deliveries.length === 0;
  return card;
}

function unsettled(answer) {
  return answer.webhooks.some((webhook) =>
    webhook.deliveries.some((d) => d.status === "pending" || d.status === "retrying"),
  );
}

// Read and draw; whether to read again (a delivery still to go, or an error to retry).
async function draw() {
  const status = panel.querySelector(".chart-status");
  const list = panel.querySelector(".webhooks-list");
  try {
    const answer = await getJSON(`/v1/jobs/${enc(panel.dataset.job)}/webhooks`);
    const text = JSON.stringify(answer);
    if (text === lastAnswer) return unsettled(answer);
    lastAnswer = text;
    list.replaceChildren(...answer.webhooks.map(webhookCard));
    if (answer.webhooks.length === 0) {
      status.textContent = "No webhooks: PUT /v1/jobs/{job}/webhooks names URLs to call.";
      status.hidden = false;
      panel.dataset.state = "empty";
    } else {
      status.hidden = true;
      panel.dataset.state = "drawn";
    }
    return unsettled(answer);
  } catch (error) {
    lastAnswer = null;
    status.textContent = `Could not read the webhooks: ${error.message}`;
    status.hidden = false;
    panel.dataset.state = "error";
    return true;
  }
}

async function update() {
  clearTimeout(timer);
  timer = null;
  polling = (await draw()) || Boolean(pageState()?.live);
  clearTimeout(timer); // one set by an update that overlapped this one
  timer = polling ? setTimeout(tick, REFRESH_MS) : null;
}

function tick() {
  timer = null;
  // A hidden tab reads nothing; it reads again when shown (below).
  if (document.visibilityState === "visible") update();
}

if (panel) {
  update();
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && polling && timer === null) update();
  });
  // A live page that changed (a run ended) may have new deliveries: read them now.
  onUpdate((_state, changed) => {
    if (changed.length > 0) update();
  });
}
