// Typing, in the console (docs/protocol.md, "Typing"): "Dana is typing…"
// under the selected session's log, a "typing…" mark on the row of a
// session not selected under My Active, and the frames that tell the patron
// the librarian is typing (never in note mode). Who is typing is kept here
// and nowhere else: it is a few seconds' news, never part of the state a
// snapshot restores.
import { el } from "../socket.js";
import { TYPING_SHOW_MS, TypingSender } from "../typing.js";
import { $ } from "./dom.js";
import { send, watch } from "./protocol.js";
import * as state from "./state.js";

const typingUntil = new Map(); // session id → timer that ends its "is typing"
const senders = new Map(); // session id → TypingSender of my typing in it

// Whether the patron of this session is typing (as last heard, within TYPING_SHOW_MS).
export function patronTyping(id) {
  return typingUntil.has(id);
}

// The mark on a My Active row: only for a session not selected (the pane says it there).
export function typingBadge(session) {
  if (!patronTyping(session.id) || state.selectedId() === session.id) return null;
  return el("span", { class: "badge badge-typing", dataset: { typing: session.id } }, "typing…");
}

// The pane's status line: set only when it changes, so a screen reader says it once.
export function renderTypingLine() {
  const session = state.selectedId() !== null && state.activeSession(state.selectedId());
  const text = session && patronTyping(session.id) ? `${session.patron_name} is typing…` : "";
  const line = $("session-typing");
  if (line.textContent !== text) line.textContent = text;
}

function renderMark(id) {
  const row = document.querySelector(`#active-list li[data-id="${id}"] .row-meta`);
  if (!row) return;
  const session = state.activeSession(id);
  const wanted = session ? typingBadge(session) : null;
  const shown = row.querySelector(".badge-typing");
  if (shown && !wanted) shown.remove();
  else if (wanted && !shown) row.append(wanted);
}

function setTyping(id, typing) {
  const was = typingUntil.has(id);
  clearTimeout(typingUntil.get(id));
  typingUntil.delete(id);
  if (typing) typingUntil.set(id, setTimeout(() => setTyping(id, false), TYPING_SHOW_MS));
  if (was === typing) return;
  renderMark(id);
  if (state.selectedId() === id) renderTypingLine();
}

// Whatever ends what a patron typed: their line, the session ending or leaving me.
function watcher(frame) {
  if (frame.type === "message.created" && frame.message.kind === "patron") setTyping(frame.session, false);
  if (["session.closed", "session.requeued", "transfer.accepted"].includes(frame.type)) {
    const id = frame.session ?? frame.offer?.session?.id;
    if (id !== undefined) setTyping(id, false);
  }
}

export const handlers = {
  "typing.started"(frame) {
    const session = state.activeSession(frame.session);
    if (session && session.state === "active") setTyping(frame.session, true);
  },
  "typing.stopped"(frame) {
    setTyping(frame.session, false);
  },
};

function senderOf(id) {
  if (!senders.has(id)) {
    senders.set(id, new TypingSender((started) => {
      const frame = started ? { type: "typing", session: id } : { type: "typing", session: id, state: "stopped" };
      return send(frame, { quiet: true }) !== null;
    }));
  }
  return senders.get(id);
}

// My line to the patron went (or the box no longer types to them): their "is typing" goes.
export function typingStopped(id) {
  senders.get(id)?.stopped();
}

export function initialize() {
  watch(watcher);
  $("composer-text").addEventListener("input", () => {
    const session = state.selectedId() !== null && state.activeSession(state.selectedId());
    if (!session || session.state !== "active" || $("composer-note").checked) return;
    senderOf(session.id).changed($("composer-text").value);
  });
  // Note mode is never typing the patron hears of.
  $("composer-note").addEventListener("change", () => {
    if ($("composer-note").checked && state.selectedId() !== null) typingStopped(state.selectedId());
  });
}
