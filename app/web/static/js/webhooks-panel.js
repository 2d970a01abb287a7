// The job page's webhooks panel: each webhook (its URL redacted for a viewer who may not
// manage the job), its events, and its latest deliveries, from GET /v1/jobs/{job}/webhooks.
// Drawn again every few seconds while the page is visible, as deliveries are retried.

import { enc, getJSON } from "./api.js";
import { fromTemplate } from "./dom.js";

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

async function draw() {
  const status = panel.querySelector(".chart-status");
  const list = panel.querySelector(".webhooks-list");
  try {
    const answer = await getJSON(`/v1/jobs/${enc(panel.dataset.job)}/webhooks`);
    list.replaceChildren(...answer.webhooks.map(webhookCard));
    if (answer.webhooks.length === 0) {
      status.textContent = "No webhooks: PUT /v1/jobs/{job}/webhooks names URLs to call.";
      status.hidden = false;
      panel.dataset.state = "empty";
    } else {
      status.hidden = true;
      panel.dataset.state = "drawn";
    }
  } catch (error) {
    status.textContent = `Could not read the webhooks: ${error.message}`;
    status.hidden = false;
    panel.dataset.state = "error";
  }
}

if (panel) {
  draw();
  setInterval(() => {
    if (document.visibilityState === "visible") draw();
  }, REFRESH_MS);
}
