// What I monitor (the form above New) and the Settings tab's alerts.
import { el, playAlert } from "../socket.js";
import { announce } from "./dialogs.js";
import { $ } from "./dom.js";
import { send } from "./protocol.js";
import * as state from "./state.js";

export const STATUS_LABELS = { available: "Available", busy: "Busy", away: "Away" };

export function renderMonitoring() {
  const box = $("monitoring-queues");
  const queues = state.queues();
  if (!queues.length) {
    box.replaceChildren(el("p", { class: "muted" }, "You are not a member of any queue. Ask a supervisor."));
    return;
  }
  box.replaceChildren(
    ...queues.map((q) =>
      el(
        "div",
        { class: "check" },
        el("input", { type: "checkbox", id: `monitor-${q.id}`, value: q.id, checked: q.monitoring }),
        el("label", { for: `monitor-${q.id}` }, q.name),
      ),
    ),
  );
}

export function renderMonitoringStatus() {
  const count = state.monitoredCount();
  $("monitoring-status").textContent = count
    ? `Monitoring ${count} of ${state.queues().length}.`
    : "Not monitoring any queue.";
}

export function renderStatus() {
  $("my-status").value = state.myStatus();
}

export function renderSettings() {
  const settings = state.settings();
  $("setting-popup").checked = settings.alert_popup;
  $("setting-sound").checked = settings.alert_sound;
  $("setting-im-sound").checked = settings.im_sound;
}

export const handlers = {
  "status.changed"(frame) {
    const before = state.myStatus();
    state.setMyStatus(frame.status);
    renderStatus();
    if (before !== frame.status) announce(`Your status: ${STATUS_LABELS[frame.status]}.`);
  },
  "settings.changed"(frame) {
    state.setSettings(frame.settings);
    renderSettings();
    $("settings-status").textContent = "Saved.";
  },
};

export function initialize() {
  $("monitoring-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const ids = [...$("monitoring-queues").querySelectorAll("input:checked")].map((i) => Number(i.value));
    // The answer is a fresh console.snapshot, which says what is monitored now.
    if (send({ type: "monitoring.set", queues: ids })) $("monitoring-status").textContent = "Saving…";
  });
  $("settings-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const frame = {
      type: "settings.update",
      alert_popup: $("setting-popup").checked,
      alert_sound: $("setting-sound").checked,
      im_sound: $("setting-im-sound").checked,
    };
    if (send(frame)) $("settings-status").textContent = "Saving…";
  });
  $("test-sound").addEventListener("click", playAlert);
  $("my-status").addEventListener("change", (event) => {
    // The select shows what the server says: status.changed, on every console of mine.
    const wanted = event.target.value;
    renderStatus();
    send({ type: "status.set", status: wanted });
  });
}
