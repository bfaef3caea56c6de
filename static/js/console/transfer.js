// The Transfer dialog (the sender's side): who monitors the session's queue,
// asking one of them first by IM, the note, Transfer or return to the
// queue, Cancel transfer, and the offer's countdown. Invite to Join opens
// it in its join mode: the same handshake, but the session stays mine and
// the colleague joins it (team.js); no return to the queue there. Errors about the
// dialog's own requests show in its error line, and nowhere else.
import { el } from "../socket.js";
import { renderActive, renderPane } from "./chat.js";
import { $ } from "./dom.js";
import { giveFocusBack, openModal, toast } from "./dialogs.js";
import { askByIm, imLineElement, markImRead, onImChange } from "./im.js";
import { homeLabel } from "./librarians.js";
import { send, settle } from "./protocol.js";
import * as state from "./state.js";

const transferDialog = $("transfer-dialog");
let focusBeforeTransfer = null;
// Counts the times the dialog opened: an error about a request made while
// it was open an earlier time is not this one's, and goes to a toast.
let opening = 0;

// The error line of this opening of the dialog, for its requests' errors.
function errorLine() {
  const mine = opening;
  return (error) => {
    if (!transferDialog.open || opening !== mine) {
      toast(error.message);
      return;
    }
    $("transfer-error").textContent = error.message;
    $("transfer-send").disabled = !state.transfer()?.target;
  };
}

const targetsKey = (sessionId) => `transfer.targets:${sessionId}`;

function openTransferDialog({ join = false } = {}) {
  const session = state.activeSession(state.selectedId());
  if (!session || session.state !== "active") return;
  opening += 1;
  state.setTransfer({ session: session.id, target: null, targets: null, queue: session.queue, join });
  $("transfer-note").value = "";
  $("transfer-im-text").value = "";
  $("transfer-error").textContent = "";
  send({ type: "transfer.targets", session: session.id }, { key: targetsKey(session.id), onError: errorLine() });
  renderTransferDialog();
  focusBeforeTransfer = openModal(transferDialog, $("transfer-close"));
}

function pickTarget(target) {
  state.setTransfer({ ...state.transfer(), target });
  $("transfer-error").textContent = "";
  renderTransferDialog();
  if (target !== "queue") $("transfer-im-text").focus();
}

function renderTransferDialog() {
  const t = state.transfer();
  if (!t) return;
  const session = state.activeSession(t.session);
  $("transfer-patron").textContent = session
    ? `${session.patron_name} · ${session.library.name} · ${session.queue.name}`
    : "";
  $("transfer-title").textContent = t.join ? "Invite to Join" : "Transfer";
  $("transfer-send").textContent = t.join ? "Invite" : "Transfer";
  $("transfer-cancel-offer").textContent = t.join ? "Cancel invitation" : "Cancel transfer";
  $("transfer-queue-heading").hidden = t.join;
  $("transfer-queue-list").hidden = t.join;
  const inChat = new Set((session?.team || []).map((p) => p.id));
  const targets = t.targets || [];
  $("transfer-targets").replaceChildren(
    ...targets.map((row) =>
      el(
        "li",
        {},
        el(
          "button",
          {
            type: "button",
            class: `session-row${t.target === row.id ? " picked" : ""}`,
            "aria-pressed": String(t.target === row.id),
            // Away, busy or at their maximum: listed, with why, not offered.
            // Invite to Join: not those in the chat already.
            disabled: row.can_take === false || (t.join && inChat.has(row.id)),
            onclick: () => pickTarget(row.id),
          },
          el("span", { class: "row-top" }, el("strong", {}, `${row.display_name} (${row.staff_id})`)),
          el("span", { class: "row-meta" }, `Active: ${row.active} · ${homeLabel(row)}`),
          row.unavailable ? el("span", { class: "row-meta" }, row.unavailable) : null,
          t.join && inChat.has(row.id) ? el("span", { class: "row-meta" }, "Already in this chat.") : null,
        ),
      ),
    ),
  );
  $("transfer-targets-empty").hidden = t.targets === null || targets.length > 0;
  const queueButton = $("transfer-queue-target");
  queueButton.textContent = `Return to ${t.queue.name} (Transfer)`;
  queueButton.classList.toggle("picked", t.target === "queue");
  queueButton.setAttribute("aria-pressed", String(t.target === "queue"));
  const person = targets.find((row) => row.id === t.target);
  $("transfer-im-form").hidden = !person;
  $("transfer-im-hint").textContent = person
    ? `IM ${person.display_name} to ask whether they can ${t.join ? "join the chat" : "take the session"} now.`
    : t.target === "queue"
      ? "The session goes back under New for the queue's monitors, marked (Transfer), with your note."
      : `Pick a librarian to ask whether they can ${t.join ? "join the chat" : "take the session"}.`;
  const im = person && state.openImWith(person.id);
  if (im && transferDialog.open && !document.hidden) markImRead(im.id);
  const lines = im ? [...im.lines.values()].sort((a, b) => a.seq - b.seq) : [];
  $("transfer-im-log").replaceChildren(...lines.map(imLineElement));
  $("transfer-im-log").hidden = !person;
  $("transfer-im-log").lastElementChild?.scrollIntoView({ block: "end" });
  renderTransferStatus();
}

function renderTransferStatus() {
  const t = state.transfer();
  const session = t && state.activeSession(t.session);
  const offer = t && state.offerOf(t.session);
  const settled = !session || session.state !== "active";
  $("transfer-send").disabled = !t?.target || Boolean(offer) || settled;
  $("transfer-cancel-offer").hidden = !offer;
  if (offer && offer.kind === "join") {
    $("transfer-status").textContent = `Invitation to join sent to ${offer.receiver.display_name}: waiting for an answer (${state.secondsLeft(offer)} s left).`;
  } else if (offer) {
    $("transfer-status").textContent = `Transfer offered to ${offer.receiver.display_name}: waiting for an answer (${state.secondsLeft(offer)} s left). You keep the session until they click OK.`;
  } else if (t?.join && t.joined) {
    $("transfer-status").textContent = `${t.joined} joined the chat. Close this dialog.`;
  } else if (session && session.state === "transferred") {
    $("transfer-status").textContent = `${session.transferred_to} took the session.`;
  } else if (!$("transfer-status").textContent.startsWith("Returned")) {
    $("transfer-status").textContent = "";
  }
}

// An offer for the session changed: My Active, the pane and this dialog show it.
export function refreshOfferViews(sessionId) {
  renderActive();
  if (state.selectedId() === sessionId) renderPane();
  if (state.transfer() && state.transfer().session === sessionId) renderTransferDialog();
}

export const handlers = {
  "transfer.targets"(frame) {
    settle(targetsKey(frame.session));
    const t = state.transfer();
    if (!t || t.session !== frame.session) return;
    state.setTransfer({ ...t, targets: frame.librarians, queue: frame.queue });
    renderTransferDialog();
  },
  "session.requeued"(frame) {
    state.patchSession(frame.session, { state: "requeued" });
    refreshOfferViews(frame.session);
    if (transferDialog.open && state.transfer()?.session === frame.session) {
      $("transfer-status").textContent = "Returned to the queue. Close this dialog.";
    }
  },
};

export function initialize() {
  setInterval(() => {
    if (transferDialog.open) renderTransferStatus();
  }, 1000);
  // The chosen librarian's IM lines show in the dialog as they come.
  onImChange((im) => {
    const t = state.transfer();
    if (t && t.target === im.with.id) renderTransferDialog();
  });

  $("transfer-session").addEventListener("click", () => openTransferDialog());
  $("invite-session").addEventListener("click", () => openTransferDialog({ join: true }));
  $("transfer-queue-target").addEventListener("click", () => pickTarget("queue"));

  $("transfer-im-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const t = state.transfer();
    const text = $("transfer-im-text").value.trim();
    if (!t || typeof t.target !== "number" || !text) return;
    // Opening (or reusing) the IM session with the session id links the two:
    // these IM lines also go into the Chat History as Librarian Notes.
    if (askByIm({ librarian: t.target, session: t.session, text, onError: errorLine() })) {
      $("transfer-im-text").value = "";
    }
  });

  $("transfer-send").addEventListener("click", () => {
    const t = state.transfer();
    if (!t || !t.target) return;
    const note = $("transfer-note").value;
    $("transfer-error").textContent = "";
    const frame =
      t.target === "queue"
        ? { type: "transfer.to_queue", session: t.session, note }
        : { type: "transfer.offer", session: t.session, librarian: t.target, note, join: Boolean(t.join) };
    // Its answer (transfer.offered, session.requeued) also reaches the
    // librarian's other consoles, so it can't settle the request: the ref
    // is forgotten after its time.
    if (send(frame, { onError: errorLine() })) $("transfer-send").disabled = true;
  });

  $("transfer-cancel-offer").addEventListener("click", () => {
    const offer = state.transfer() && state.offerOf(state.transfer().session);
    if (offer) send({ type: "transfer.cancel", offer: offer.id }, { onError: errorLine() });
  });

  $("transfer-close").addEventListener("click", () => transferDialog.close());
  transferDialog.addEventListener("close", () => {
    state.setTransfer(null);
    $("transfer-status").textContent = "";
    // Back to the Transfer (or Invite to Join) button; once the session moved (taken, returned
    // to the queue, ended) that button is gone: to the session's heading,
    // above the line that says what happened, or else the Patron Chat tab.
    giveFocusBack(focusBeforeTransfer, $("session-title"), $("tab-chat"));
  });
}
