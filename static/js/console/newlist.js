// New: the requests waiting in the queues I monitor, how long each has
// waited, picking one up, and the New Patron Request popup and sound. The
// popup lists only requests still waiting: one someone picked up (or whose
// patron left) leaves it, live or at the next snapshot.
import { el, formatWait, playAlert } from "../socket.js";
import { $ } from "./dom.js";
import { announce, announcePopup, showPopup, toast } from "./dialogs.js";
import { send, settle } from "./protocol.js";
import * as state from "./state.js";
import { isTabSelected, selectTab } from "./tabs.js";

const baseTitle = document.title;
const dialog = $("request-dialog");
let unseenRequests = []; // what the popup lists, until OK
const announcedLate = new Set(); // requests announced as waiting too long, once each

function waitedSeconds(row) {
  return (state.serverNow() - Date.parse(row.waiting_since || row.created_at)) / 1000;
}

// Past its queue's threshold: marked in colour and in words, announced once.
function isLate(row) {
  return typeof row.too_long_after === "number" && waitedSeconds(row) >= row.too_long_after;
}

export function renderNew() {
  const list = $("new-list");
  const rows = state.waitingRows().sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
  const focusedId = document.activeElement?.closest?.("#new-list li")?.dataset.id;
  list.replaceChildren(
    ...rows.map((row) =>
      el(
        "li",
        { dataset: { id: row.id } },
        el(
          "button",
          {
            type: "button",
            class: `session-row${isLate(row) ? " session-late" : ""}`,
            disabled: state.isAccepting(row.id),
            "aria-label": `Pick up ${row.patron_name}${row.transfer ? " (Transfer)" : ""}, ${row.library.name}${row.rolled_over ? ", rolled over" : ""}, waited ${formatWait(waitedSeconds(row))}${isLate(row) ? ", waiting too long" : ""}: ${row.question_preview}`,
            onclick: () => accept(row.id),
          },
          el(
            "span",
            { class: "row-top" },
            el("strong", {}, row.patron_name, row.transfer ? " (Transfer)" : ""),
            el("span", { class: "waited", dataset: { created: row.waiting_since } }, formatWait(waitedSeconds(row))),
          ),
          el("span", { class: "preview" }, row.question_preview),
          row.transfer
            ? el("span", { class: "row-meta" }, `From ${row.transfer.from}${row.transfer.note ? `: ${row.transfer.note}` : ""}`)
            : null,
          el(
            "span",
            { class: "row-meta" },
            `${row.patron_email || "anonymous"} · ${row.library.name} · ${row.queue.name}`,
            row.rolled_over ? el("span", { class: "badge" }, "rolled over") : null,
            isLate(row) ? el("span", { class: "badge badge-late" }, "waiting too long") : null,
            row.patron_present ? null : el("span", { class: "badge badge-warn" }, "left"),
            state.isAccepting(row.id) ? el("span", { class: "badge" }, "picking up…") : null,
          ),
        ),
      ),
    ),
  );
  if (focusedId) list.querySelector(`li[data-id="${focusedId}"] button`)?.focus();
  $("new-empty").hidden = rows.length > 0;
  $("new-count").textContent = rows.length ? `(${rows.length})` : "";
  const badge = $("new-badge");
  badge.hidden = rows.length === 0;
  badge.textContent = rows.length;
  badge.setAttribute("aria-label", `${rows.length} waiting`);
  document.title = rows.length ? `(${rows.length}) ${baseTitle}` : baseTitle;
  if (dialog.open) pruneRequestDialog();
}

function tickWaited() {
  for (const span of document.querySelectorAll("#new-list .waited")) {
    span.textContent = formatWait(waitedSeconds({ created_at: span.dataset.created }));
  }
  // A request that just passed its queue's threshold: marked, and said once.
  const late = state.waitingRows().filter((row) => isLate(row) && !announcedLate.has(row.id));
  if (!late.length) return;
  for (const row of late) {
    announcedLate.add(row.id);
    announce(`${row.patron_name} has waited over ${formatWait(row.too_long_after)} in ${row.queue.name}.`);
  }
  renderNew();
}

// ---------------------------------------------------------------- picking up

const pickUpKey = (id) => `session.accept:${id}`;

function accept(id) {
  if (state.isAccepting(id)) return;
  // Picking up in the browser's own gesture also unlocks the alert sound.
  const sent = send(
    { type: "session.accept", session: id },
    { key: pickUpKey(id), onError: (error) => pickUpRefused(id, error) },
  );
  if (sent) {
    state.setAccepting(id, true);
    renderNew();
  }
}

// Someone else was first, or the patron left: the row goes, and a toast
// says why. A second click of mine (already_yours) leaves it to the event;
// a click a moment before my tier (not_yet: "reaches you in N s") keeps it.
function pickUpRefused(id, error) {
  state.setAccepting(id, false);
  if (!["already_yours", "not_yet", "at_maximum"].includes(error.code)) state.removeWaiting(id);
  renderNew();
  toast(error.message);
}

// The session is mine (session.accepted): no error will come for a pick-up.
export function pickUpWon(id) {
  settle(pickUpKey(id));
}

// ---------------------------------------------------------------- the popup

function alertNewRequest(row) {
  announcePopup(`New request from ${row.patron_name} in ${row.queue.name}: ${row.question_preview}`);
  if (state.settings().alert_sound) playAlert();
  if (!isTabSelected("tab-chat")) $("tab-chat").classList.add("tab-marked");
  if (state.settings().alert_popup) {
    unseenRequests.push(row);
    showRequestDialog();
  }
}

function showRequestDialog() {
  const body = $("request-dialog-body");
  body.replaceChildren(
    ...unseenRequests.map((row) =>
      el(
        "div",
        { class: "dialog-request" },
        el(
          "p",
          {},
          el("strong", {}, row.patron_name),
          ` (${row.patron_email || "anonymous"}) · ${row.library.name} · ${row.queue.name}${row.rolled_over ? " · rolled over" : ""}`,
        ),
        el("p", { class: "quote" }, row.question_preview),
      ),
    ),
  );
  $("request-dialog-title").textContent =
    unseenRequests.length > 1 ? `${unseenRequests.length} New Patron Requests` : "New Patron Request";
  showPopup(dialog);
}

// The ids the New Patron Request popup lists now.
export function requestsShown() {
  return dialog.open ? unseenRequests.map((row) => row.id) : [];
}

// Requests no longer waiting (picked up, the patron left, or a snapshot
// without them) leave the popup; it closes when none is left.
function pruneRequestDialog() {
  const still = unseenRequests.filter((row) => state.waitingRow(row.id));
  if (still.length === unseenRequests.length) return;
  unseenRequests = still;
  if (still.length) showRequestDialog();
  else closeRequestDialog();
}

function closeRequestDialog() {
  unseenRequests = [];
  if (dialog.open) dialog.close();
}

export const handlers = {
  "session.created"(frame) {
    const row = frame.session;
    // Already listed (a snapshot brought it first, or the event came twice):
    // the row is refreshed, the alarm is not raised again.
    const known = Boolean(state.waitingRow(row.id));
    state.putWaiting(row);
    renderNew();
    // No alarm for the session I just returned to the queue myself, nor
    // while I am Busy or Away or at my maximum: the row is under New still.
    const mine = row.transfer && row.transfer.from_id === state.myId();
    if (!known && !mine && state.canTakeFrom(row.queue.id)) alertNewRequest(row);
  },
};

export function initialize() {
  setInterval(tickWaited, 1000);
  $("request-dialog-ok").addEventListener("click", () => {
    closeRequestDialog();
    selectTab("tab-chat");
    $("new-list").querySelector("button")?.focus();
  });
  dialog.addEventListener("close", () => {
    unseenRequests = [];
  });
}
