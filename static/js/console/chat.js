// My Active and the Patron Chat pane: the sessions I hold, joined or watch,
// the selected one's lines, patron details and presence, who else is in it
// and what I may do there (only the primary transfers or ends; a watcher
// only reads), the composer with its drafts and Librarian Note toggle, End
// Session, and the session events that change them.
import { el, formatTime, lineElement, lineRefusedPut, newClientId, sendPaced } from "../socket.js";
import { $, lineProblem } from "./dom.js";
import { announce, toast } from "./dialogs.js";
import { resendImLine } from "./im.js";
import { pickUpWon, renderNew } from "./newlist.js";
import { renderPushPage } from "./pages.js";
import { send, settle } from "./protocol.js";
import { followPane } from "./scriptpicker.js";
import * as state from "./state.js";
import { renderTypingLine, typingBadge, typingStopped } from "./typing.js";
import * as wrapup from "./wrapup.js";

// ---------------------------------------------------------------- rendering

export function renderActive() {
  const list = $("active-list");
  const sessions = state.activeSessions();
  const selected = state.selectedId();
  const focusedId = document.activeElement?.closest?.("#active-list li")?.dataset.id;
  list.replaceChildren(
    ...sessions.map((s) => {
      const unread = state.unreadOf(s.id);
      return el(
        "li",
        { dataset: { id: s.id } },
        el(
          "button",
          {
            type: "button",
            class: `session-row${selected === s.id ? " selected" : ""}`,
            "aria-current": selected === s.id ? "true" : null,
            onclick: () => select(s.id),
          },
          el(
            "span",
            { class: "row-top" },
            el("strong", {}, s.patron_name),
            unread ? el("span", { class: "badge badge-alert", "aria-label": `${unread} unread` }, unread) : null,
          ),
          el(
            "span",
            { class: "row-meta" },
            s.queue.name,
            s.state === "closed" ? el("span", { class: "badge" }, "ended") : null,
            s.state === "transferred" || s.state === "requeued" ? el("span", { class: "badge" }, "transferred") : null,
            s.state === "left" ? el("span", { class: "badge" }, s.left_role === "watching" ? "stopped watching" : "left") : null,
            s.state === "active" && state.myRole(s) !== "primary" ? el("span", { class: "badge badge-transfer" }, state.myRole(s)) : null,
            s.state === "active" && !s.patron_present ? el("span", { class: "badge badge-warn" }, "left") : null,
            s.state === "active" && state.offerOf(s.id) ? el("span", { class: "badge badge-transfer" }, "offered") : null,
            s.state === "active" ? typingBadge(s) : null,
          ),
        ),
      );
    }),
  );
  if (focusedId) list.querySelector(`li[data-id="${focusedId}"] button`)?.focus();
  $("active-empty").hidden = sessions.length > 0;
}

function renderPresence(session) {
  const p = $("session-presence");
  if (session.state === "closed") {
    p.textContent = "";
  } else {
    p.textContent = session.patron_present
      ? ""
      : `The patron is disconnected (window closed or network lost). The chat stays open for them${
          session.grace_until ? ` until ${formatTime(session.grace_until)}` : ""
        }.`;
  }
  p.classList.toggle("presence-away", !session.patron_present);
}

function renderOfferStatus(session) {
  const offer = state.offerOf(session.id);
  const what = offer?.kind === "join" ? "Invitation to join sent" : "Transfer offered";
  $("session-offer").textContent = offer
    ? `${what} to ${offer.receiver.display_name}: waiting for an answer (${state.secondsLeft(offer)} s left).`
    : "";
}

export function renderPane() {
  const session = state.selectedId() && state.activeSession(state.selectedId());
  $("no-session").hidden = Boolean(session);
  $("session-view").hidden = !session;
  renderPushPage(session);
  if (!session) {
    followPane();
    wrapup.renderPane(null);
    return;
  }
  $("session-title").textContent = session.patron_name;
  $("session-meta").textContent = `${session.patron_email || "anonymous"} · ${session.library.name} · ${session.queue.name}`;
  renderPresence(session);
  const facts = [
    ["Screen name", session.patron_name],
    ["Email", session.patron_email || "anonymous"],
    ["Library", session.library.name],
    ["Queue", session.queue.name],
    ["Asked", formatTime(session.created_at)],
    ["Question", session.question],
  ];
  $("patron-info").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  $("policy-title").textContent = `Policy: ${session.library.name}`;
  $("policy").textContent = session.policy || "This library has no policy page yet.";
  const log = $("session-log");
  const lines = [...session.lines.values()].sort((a, b) => a.seq - b.seq);
  log.replaceChildren(...lines.map((line) => lineElement(line, { viewer: "librarian", me: state.me()?.display_name ?? null })));
  for (const [, pending] of state.pendingLines()) if (pending.session === session.id) log.append(pending.element);
  log.lastElementChild?.scrollIntoView({ block: "end" });
  const gone = session.state !== "active"; // ended, transferred, returned to the queue, left
  // Joined: lines and notes, nothing more; watching: read only (team.js).
  const role = state.myRole(session);
  const holder = !gone && role === "primary";
  $("composer").hidden = gone || role === "watching";
  $("end-session").hidden = !holder;
  $("end-session").disabled = false;
  $("transfer-session").hidden = !holder;
  // Held away from the patron's own library: one click offers it home.
  $("hand-back-session").hidden = !holder || !session.held_away;
  $("hand-back-session").textContent = `Hand back to ${session.library.name}`;
  $("block-session").hidden = !holder;
  renderTeamActions(session);
  $("dismiss-session").hidden = !gone;
  $("session-readonly").hidden = !gone;
  $("session-readonly").textContent = {
    closed: {
      patron: "The patron ended this chat session.",
      system: "The patron's connection was lost for too long: the chat session ended.",
    }[session.closed_by] || "This chat session has ended.",
    transferred: `${session.transferred_to} took this session. It is read-only for you now.`,
    requeued: "You returned this session to the queue. It is read-only for you now.",
    left: session.left_reason
      ? `${session.left_reason} It is read-only for you now.`
      : session.left_role === "watching"
        ? "You stopped watching this session."
        : "You left this session. It is read-only for you now.",
  }[session.state] || "";
  renderOfferStatus(session);
  renderTypingLine();
  $("composer-error").textContent = "";
  // A chat I held that ended or went on: its wrap-up form, below the lines.
  wrapup.renderPane(gone ? session : null);
  followPane();
}

const ROLE_WORDS = { joined: "joined", watching: "watching" };

export function teamNames(people) {
  return people.map((p) => `${p.display_name} (${ROLE_WORDS[p.role] || p.role})`).join(", ");
}

// The line under the session's title: who holds it and who else is in it.
function teamText(session) {
  const role = state.myRole(session);
  const others = (session.team || []).filter((p) => p.id !== state.myId());
  const also = others.length ? ` Also in this chat: ${teamNames(others)}.` : "";
  if (session.state !== "active") return "";
  if (role === "joined") return `You joined ${session.primary?.display_name ?? "a colleague"}'s chat with ${session.patron_name}: you can write to the patron and add notes; only ${session.primary?.display_name ?? "they"} can transfer or end it.${also}`;
  if (role === "watching") return `You are watching ${session.primary?.display_name ?? "a librarian"}'s chat with ${session.patron_name}. The patron is not told; you can only read it.${also}`;
  return also.trim();
}

// The pane's buttons for what I am in the selected session.
function renderTeamActions(session) {
  const role = state.myRole(session);
  const live = session.state === "active";
  $("session-team").textContent = teamText(session);
  $("invite-session").hidden = !live || role !== "primary";
  $("leave-session").hidden = !live || role !== "joined";
  $("unwatch-session").hidden = !live || role !== "watching";
  $("take-over-session").hidden = !live || role !== "watching";
}

// A line of a session under My Active, new or already known.
function addLine(sessionId, line) {
  if (!state.addSessionLine(sessionId, line)) return;
  if (state.selectedId() !== sessionId) return;
  const log = $("session-log");
  const element = lineElement(line, { viewer: "librarian", me: state.me()?.display_name ?? null });
  const pending = line.client_id && state.pendingLine(line.client_id);
  if (pending) {
    pending.element.replaceWith(element);
    state.dropPendingLine(line.client_id);
  } else {
    const later = [...log.querySelectorAll("li[data-seq]")].find(
      (li) => li.dataset.seq && Number(li.dataset.seq) > line.seq,
    );
    log.insertBefore(element, later || log.querySelector("li.line-pending"));
  }
  element.scrollIntoView({ block: "end" });
}

function setPresence(id, present, graceUntil) {
  if (state.patchWaiting(id, { patron_present: present })) renderNew();
  const session = state.patchSession(id, { patron_present: present, grace_until: present ? null : graceUntil });
  if (session) {
    if (state.selectedId() === id) renderPresence(session);
    renderActive();
    announce(present ? `${session.patron_name} is back.` : `${session.patron_name} is disconnected.`);
  }
}

// ---------------------------------------------------------------- actions

function saveDraft() {
  if (state.selectedId() === null) return;
  state.setDraft(state.selectedId(), $("composer-text").value);
}

export function select(id) {
  if (state.selectedId() === id) {
    $("composer-text").focus();
    return;
  }
  saveDraft();
  state.setSelected(id);
  state.clearUnread(id);
  $("composer-text").value = state.draftOf(id);
  renderActive();
  renderPane();
  const session = state.activeSession(id);
  if (session && session.state !== "closed") $("composer-text").focus();
  else $("session-title").focus();
}

const lineKey = (clientId) => `message.send:${clientId}`;

// A line goes with its client_id (a retry stores nothing new) and a ref
// whose error puts the text back in the composer; it waits for its answer
// however long that takes, and goes again if the socket comes back first.
function sendLineFrame(clientId, pending) {
  send(
    { type: "message.send", session: pending.session, text: pending.text, client_id: clientId, note: Boolean(pending.note) },
    { quiet: true, key: lineKey(clientId), ttl: null, onError: (error) => lineRefused(clientId, error) },
  );
}

// Refused: never sent again. Too fast, it goes back into the session's
// composer (or draft) if that is empty; otherwise it stays in the log,
// marked "not sent" with the reason (kept as a failed entry, so the log
// still shows it when it is drawn again).
function lineRefused(clientId, error) {
  const pending = state.dropPendingLine(clientId);
  if (!pending) {
    toast(error.message);
    return;
  }
  const selected = state.selectedId() === pending.session;
  const back = lineRefusedPut(error, pending, (text) => {
    if (selected ? $("composer-text").value : state.draftOf(pending.session)) return false;
    if (selected) $("composer-text").value = text;
    else state.setDraft(pending.session, text);
    return true;
  });
  if (!back) state.addPendingLine(clientId, { ...pending, failed: true });
  if (selected) $("composer-error").textContent = error.message;
  else toast(error.message);
}

// The socket is back: every line not yet answered goes again, same ids
// (chat lines and IMs share the socket's limit, so they go out paced together).
export function resendLines() {
  const waiting = [...state.pendingLines()].filter(([, pending]) => !pending.failed);
  sendPaced(
    waiting.map(([clientId]) => clientId),
    (clientId) => {
      const pending = state.pendingLine(clientId);
      if (!pending || pending.failed) return;
      if (pending.im) resendImLine(clientId, pending);
      else sendLineFrame(clientId, pending);
    },
  );
}

function sendLine() {
  const session = state.activeSession(state.selectedId());
  if (!session || session.state === "closed") return;
  const textarea = $("composer-text");
  const text = textarea.value.replace(/\s+$/, "");
  const problem = lineProblem(text);
  $("composer-error").textContent = problem ?? "";
  if (problem) return;
  const clientId = newClientId();
  const note = $("composer-note").checked;
  const element = lineElement(
    { kind: note ? "note" : "librarian", author: state.me().display_name, text, client_id: clientId, pending: true },
    { viewer: "librarian", me: state.me()?.display_name ?? null },
  );
  $("session-log").append(element);
  element.scrollIntoView({ block: "end" });
  state.addPendingLine(clientId, { session: session.id, text, element, note });
  sendLineFrame(clientId, state.pendingLine(clientId));
  textarea.value = "";
  state.setDraft(session.id, "");
  if (!note) typingStopped(session.id);
  // A note is one line: the next one goes to the patron unless Note is ticked again.
  if (note) setNoteMode(false, `Note added. Back to replying to ${session.patron_name}.`);
}

// The composer writes to the patron or, with Note ticked, a Librarian Note:
// said by the band above the box, its colour, its label and placeholder, the
// button (Add Note) and, when `said`, the announcer.
function setNoteMode(note, said = null) {
  $("composer-note").checked = note;
  $("composer").classList.toggle("composer-note", note);
  $("composer-mode").hidden = !note;
  $("composer-text").placeholder = note
    ? "Librarian Note: only librarians see it, never the patron"
    : "Type a message and press Enter";
  $("composer-send").textContent = note ? "Add Note" : "Send";
  $("composer-label").textContent = note ? "Librarian Note" : "Message to the patron";
  if (said) announce(said);
}

// ---------------------------------------------------------------- events

export const handlers = {
  "session.accepted"(frame) {
    const row = state.waitingRow(frame.session);
    state.removeWaiting(frame.session);
    renderNew();
    const mine = frame.librarian.id === state.myId();
    if (mine) pickUpWon(frame.session);
    // My pick-up arrives twice: from the queue (the row leaves New) and to
    // me with the whole session; only the second one opens it.
    if (mine && !frame.detail) return;
    if (mine && frame.detail) {
      state.addActive(frame.detail);
      if (state.isAccepting(frame.session) || state.selectedId() === null) select(frame.session);
      renderActive();
    } else if (row && !mine) {
      announce(`${frame.librarian.display_name} picked up ${row.patron_name}'s request.`);
    }
    state.setAccepting(frame.session, false);
  },
  "session.closed"(frame) {
    if (state.removeWaiting(frame.session)) renderNew();
    const session = state.patchSession(frame.session, { state: "closed", closed_by: frame.closed_by });
    if (session) {
      if (frame.closed_by === "patron") announce(`${session.patron_name} ended the chat session.`);
      if (frame.closed_by === "system") announce(`${session.patron_name}'s chat ended: the connection was lost.`);
      renderActive();
      if (state.selectedId() === session.id) renderPane();
    }
  },
  "message.created"(frame) {
    const session = state.activeSession(frame.session);
    if (!session) return;
    const line = frame.message;
    if (session.lines.has(line.seq)) return;
    if (line.seq > session.last_seq + 1) {
      // A gap: a line went missing on the way. Re-read the whole session.
      send({ type: "session.fetch", session: session.id }, { quiet: true });
    }
    addLine(session.id, line);
    if (line.kind === "patron" && (state.selectedId() !== session.id || document.hidden)) {
      state.countUnread(session.id);
      if (state.selectedId() !== session.id) announce(`New message from ${session.patron_name}.`);
      renderActive();
    }
  },
  "message.stored"(frame) {
    settle(lineKey(frame.client_id));
    const pending = state.pendingLine(frame.client_id);
    if (!pending) return;
    const session = state.activeSession(pending.session);
    if (session && session.lines.has(frame.seq)) {
      pending.element.remove();
      state.dropPendingLine(frame.client_id);
    }
  },
  "session.detail"(frame) {
    const detail = frame.session;
    if (!state.activeSession(detail.id)) return;
    for (const line of detail.messages) addLine(detail.id, line);
    state.mergeDetail(detail);
    renderActive();
    if (state.selectedId() === detail.id) renderPane();
  },
  "patron.left"(frame) {
    setPresence(frame.session, false, frame.grace_until);
  },
  "patron.returned"(frame) {
    setPresence(frame.session, true);
  },
};

export function initialize() {
  setInterval(() => {
    const session = state.selectedId() !== null && state.activeSession(state.selectedId());
    if (session) renderOfferStatus(session);
  }, 1000);

  $("composer-note").addEventListener("change", () => {
    const note = $("composer-note").checked;
    setNoteMode(note, note ? "Note mode: the next line is a Librarian Note, never seen by the patron." : "Back to replying to the patron.");
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    sendLine();
  });
  $("composer-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendLine();
    }
  });

  $("hand-back-session").addEventListener("click", () => {
    const id = state.selectedId();
    if (id === null) return;
    // The answer is transfer.offered (the offer's status under the title),
    // or an error toast: nobody of the library can take it now.
    send({ type: "transfer.hand_back", session: id }, { key: `transfer.hand_back:${id}`, onError: (error) => toast(error.message) });
  });
  $("end-session").addEventListener("click", () => {
    if (state.selectedId() === null) return;
    if (send({ type: "session.end", session: state.selectedId() })) $("end-session").disabled = true;
  });
  $("dismiss-session").addEventListener("click", () => {
    state.removeActive(state.selectedId());
    state.setSelected(null);
    renderActive();
    renderPane();
    $("active-heading").focus?.();
  });

  $("logout-form").addEventListener("submit", (event) => {
    // The chats I hold end; those I joined or watch I only leave.
    const open = state.activeSessions().filter((s) => s.state === "active" && state.myRole(s) === "primary").length;
    const question = `You have ${open} active session${open === 1 ? "" : "s"}. Logging out ends ${open === 1 ? "it" : "them"} for the patron${open === 1 ? "" : "s"}. Log out?`;
    if (open && !window.confirm(question)) event.preventDefault();
  });
}
