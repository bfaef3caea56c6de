// IM between librarians: My Active IM Sessions with unread counts, the
// selected session's pane with its About select (the patron session its
// lines are also Librarian Notes of) and composer, the New IM Request popup,
// and the IM events. The Transfer dialog asks a colleague through askByIm here.
import { el, formatTime, lineRefusedPut, newClientId, playAlert } from "../socket.js";
import { $, lineProblem } from "./dom.js";
import { announce, announcePopup, showPopup, toast } from "./dialogs.js";
import { imHistoryChanged } from "./history.js";
import { send, settle } from "./protocol.js";
import * as state from "./state.js";
import { askSync } from "./sync.js";
import { isTabSelected, selectTab, whenTabSelected } from "./tabs.js";

const imDialog = $("im-dialog");
let imDialogFor = null; // the IM session the New IM Request popup is about
const changeWatchers = []; // called with an IM session whose lines changed

// `watcher(im)` runs when an IM session gets a line, or the line typed in
// the Transfer dialog goes out in it.
export function onImChange(watcher) {
  changeWatchers.push(watcher);
}

function changed(id) {
  const im = state.imSession(id);
  if (im) for (const watcher of changeWatchers) watcher(im);
}

function imIsInView(id) {
  return state.selectedImId() === id && isTabSelected("tab-im") && !document.hidden;
}

export function markImRead(id) {
  const im = state.imSession(id);
  if (!im || state.imUnread(im) === 0) return;
  const last = Math.max(0, ...im.lines.keys());
  state.patchIm(id, { read_seq: last });
  send({ type: "im.read", im: id, seq: last });
  renderImList();
}

const openKey = (librarianId) => `im.open:${librarianId}`;

// The patron sessions I am chatting in: what an IM of mine can be about.
const mySessions = () =>
  state.activeSessions().filter((s) => s.state === "active" && s.primary && s.primary.id === state.myId());

// A new IM is about the session selected in My Active, if I am chatting in it.
function selectedSessionId() {
  const id = state.selectedId();
  return mySessions().some((s) => s.id === id) ? id : null;
}

export function openIm(librarianId) {
  const open = state.openImWith(librarianId);
  if (open) {
    selectTab("tab-im");
    selectIm(open.id);
    return;
  }
  state.setImOpening(librarianId);
  const session = selectedSessionId();
  send(
    { type: "im.open", librarian: librarianId, ...(session === null ? {} : { session }) },
    {
      key: openKey(librarianId),
      onError: (error) => {
        state.setImOpening(null);
        toast(error.message);
      },
    },
  );
}

// From the Transfer dialog: open (or reuse) the IM session with `librarian`,
// linked to the patron session, and send `text` in it once it is open.
// `onError` gets the server's refusal. Returns whether the frame went.
export function askByIm({ librarian, session, text, onError }) {
  const sent = send(
    { type: "im.open", librarian, session },
    {
      key: openKey(librarian),
      onError: (error) => {
        state.setDialogIm(null);
        onError(error);
      },
    },
  );
  if (sent) state.setDialogIm({ librarian, text });
  return Boolean(sent);
}

// ---------------------------------------------------------------- rendering

export function renderImList() {
  const open = state.imSessions().filter((im) => !im.ended_at);
  const focusedId = document.activeElement?.closest?.("#im-list li")?.dataset.id;
  let total = 0;
  $("im-list").replaceChildren(
    ...open.map((im) => {
      const unread = state.imUnread(im);
      total += unread;
      return el(
        "li",
        { dataset: { id: im.id } },
        el(
          "button",
          {
            type: "button",
            class: `session-row${state.selectedImId() === im.id ? " selected" : ""}`,
            "aria-current": state.selectedImId() === im.id ? "true" : null,
            onclick: () => selectIm(im.id),
          },
          el(
            "span",
            { class: "row-top" },
            el("strong", {}, `${im.with.display_name} (${im.with.staff_id})`),
            unread ? el("span", { class: "badge badge-alert", "aria-label": `${unread} unread` }, unread) : null,
          ),
          el("span", { class: "row-meta" }, `since ${formatTime(im.created_at)}`),
        ),
      );
    }),
  );
  if (focusedId) $("im-list").querySelector(`li[data-id="${focusedId}"] button`)?.focus();
  $("im-list-empty").hidden = open.length > 0;
  const badge = $("im-badge");
  badge.hidden = total === 0;
  badge.textContent = total;
  badge.setAttribute("aria-label", `${total} unread`);
}

export function imLineElement(line) {
  const mine = line.author_id === state.myId();
  return el(
    "li",
    { class: `line line-im${mine ? " line-mine" : ""}${line.pending ? " line-pending" : ""}`, dataset: { seq: line.seq ?? "" } },
    el(
      "div",
      { class: "line-meta" },
      el("span", { class: "line-author" }, line.author),
      el("time", { datetime: line.created_at || "" }, line.pending ? "sending…" : formatTime(line.created_at)),
      line.noted_in ? el("span", { class: "badge badge-note" }, "Librarian Note") : null,
    ),
    el("div", { class: "line-text" }, line.text),
  );
}

function addImLine(id, line) {
  state.addImLine(id, line);
  if (state.selectedImId() !== id) return;
  const log = $("im-log");
  const element = imLineElement(line);
  const pending = line.client_id && state.pendingLine(line.client_id);
  if (pending) {
    pending.element.replaceWith(element);
    state.dropPendingLine(line.client_id);
  } else {
    log.insertBefore(element, log.querySelector("li.line-pending"));
  }
  element.scrollIntoView({ block: "end" });
}

function selectIm(id) {
  const previousId = state.selectedImId();
  if (previousId !== null && previousId !== id) {
    state.setImDraft(previousId, $("im-text").value);
    const previous = state.imSession(previousId);
    if (previous && previous.ended_at) state.removeIm(previous.id);
  }
  state.setSelectedIm(id);
  $("im-text").value = state.imDraftOf(id);
  renderImList();
  renderImPane();
  const im = state.imSession(id);
  if (im && isTabSelected("tab-im")) markImRead(id);
  if (im && !im.ended_at) $("im-text").focus();
  else $("im-title").focus();
}

export function renderImPane() {
  const im = state.selectedImId() !== null && state.imSession(state.selectedImId());
  $("no-im").hidden = Boolean(im);
  $("im-view").hidden = !im;
  if (!im) return;
  $("im-title").textContent = `IM with ${im.with.display_name} (${im.with.staff_id})`;
  $("im-meta").textContent = `${im.started_by_me ? "You started it" : `${im.with.display_name} started it`} at ${formatTime(im.created_at)}.`;
  const lines = [...im.lines.values()].sort((a, b) => a.seq - b.seq);
  $("im-log").replaceChildren(...lines.map(imLineElement));
  for (const [, pending] of state.pendingLines()) if (pending.im === im.id) $("im-log").append(pending.element);
  $("im-log").lastElementChild?.scrollIntoView({ block: "end" });
  const ended = Boolean(im.ended_at);
  $("im-composer").hidden = ended;
  $("im-about-row").hidden = ended;
  $("im-end").hidden = ended;
  $("im-end").disabled = false;
  $("im-readonly").hidden = !ended;
  $("im-readonly").textContent = ended ? endedText(im.ended_by, im.end_reason, im.idle_minutes) : "";
  $("im-error").textContent = "";
  renderAbout(im);
}

// Why the IM session ended, in words.
function endedText(by, reason, idleMinutes) {
  if (reason === "idle") return `This IM session ended after ${idleMinutes ?? 30} minutes without a message.`;
  const who = by && by.id !== state.myId() ? by.display_name : "You";
  if (reason === "logged_off") return `${who} logged off: this IM session has ended.`;
  if (reason === "left_shift") return `${who} left the shift: this IM session has ended.`;
  return who === "You" ? "You ended this IM session." : `${who} ended this IM session.`;
}

// The announcement of an IM session someone or something else ended.
function endedSaid(im, { ended_by: by, reason, idle_minutes: idleMinutes }) {
  if (reason === "idle") {
    return `The IM session with ${im.with.display_name} ended after ${idleMinutes} minutes without a message.`;
  }
  if (reason === "logged_off") return `${by.display_name} logged off: the IM session has ended.`;
  if (reason === "left_shift") return `${by.display_name} left the shift: the IM session has ended.`;
  return `${by.display_name} ended the IM session.`;
}

// The About select: "No patron session", the sessions I am chatting in, and
// the session the IM is tied to if it isn't one of mine (the other side's).
function renderAbout(im) {
  const select = $("im-about");
  const about = im.about;
  const options = [el("option", { value: "" }, "No patron session (private)")];
  const mine = mySessions();
  for (const s of mine) options.push(el("option", { value: String(s.id) }, `${s.patron_name} (chat #${s.id})`));
  if (about && !mine.some((s) => s.id === about.id)) {
    options.push(el("option", { value: String(about.id) }, `${about.patron_name} (chat #${about.id})`));
  }
  select.replaceChildren(...options);
  select.value = about ? String(about.id) : "";
  $("im-hint").textContent = about
    ? `About ${about.patron_name} (chat #${about.id}): these IMs are also kept in that chat's Chat History as Librarian Notes. The patron never sees them.`
    : "Only the other librarian sees IMs; patrons never do.";
}

function changeAbout() {
  const im = state.imSession(state.selectedImId());
  if (!im || im.ended_at) return;
  const value = $("im-about").value;
  const session = value === "" ? null : Number(value);
  if ((im.about?.id ?? null) === session) return;
  send(
    { type: "im.about", im: im.id, session },
    {
      onError: (error) => {
        $("im-error").textContent = error.message;
        const now = state.imSession(im.id);
        if (now && state.selectedImId() === im.id) renderAbout(now);
      },
    },
  );
}

// ---------------------------------------------------------------- sending

const lineKey = (clientId) => `im.send:${clientId}`;

// As a chat line: client_id for retries, a ref whose error puts the text
// back in the IM composer, no time limit, sent again when the socket is back.
function sendImFrame(clientId, pending) {
  send(
    { type: "im.send", im: pending.im, text: pending.text, client_id: clientId },
    { quiet: true, key: lineKey(clientId), ttl: null, onError: (error) => imLineRefused(clientId, error) },
  );
}

function imLineRefused(clientId, error) {
  const pending = state.dropPendingLine(clientId);
  if (!pending) {
    toast(error.message);
    return;
  }
  // As a chat line's (chat.js): too fast, back into an empty composer or
  // draft; otherwise "not sent" in the log, never sent again.
  const selected = state.selectedImId() === pending.im;
  const back = lineRefusedPut(error, pending, (text) => {
    if (selected ? $("im-text").value : state.imDraftOf(pending.im)) return false;
    if (selected) $("im-text").value = text;
    else state.setImDraft(pending.im, text);
    return true;
  });
  if (!back) state.addPendingLine(clientId, { ...pending, failed: true });
  if (selected) $("im-error").textContent = error.message;
  else toast(error.message);
}

// An IM line not yet answered when the socket came back (chat.resendLines paces them).
export function resendImLine(clientId, pending) {
  sendImFrame(clientId, pending);
}

function sendImLine(imId, text) {
  const clientId = newClientId();
  const me = state.me();
  const element = imLineElement({ author: me.display_name, author_id: me.id, text, pending: true });
  if (state.selectedImId() === imId) {
    $("im-log").append(element);
    element.scrollIntoView({ block: "end" });
  }
  state.addPendingLine(clientId, { im: imId, text, element });
  sendImFrame(clientId, state.pendingLine(clientId));
}

function sendIm() {
  const im = state.imSession(state.selectedImId());
  if (!im || im.ended_at) return;
  const textarea = $("im-text");
  const text = textarea.value.replace(/\s+$/, "");
  const problem = lineProblem(text);
  $("im-error").textContent = problem ?? "";
  if (problem) return;
  sendImLine(im.id, text);
  textarea.value = "";
  state.setImDraft(im.id, "");
}

// ---------------------------------------------------------------- New IM Request

function newImRequest(im) {
  const who = `${im.with.display_name} (${im.with.staff_id})`;
  const about = im.about ? ` about ${im.about.patron_name} (chat #${im.about.id})` : "";
  announcePopup(`New IM Request from ${who}${about}.`);
  if (state.settings().im_sound) playAlert();
  $("tab-im").classList.toggle("tab-marked", !isTabSelected("tab-im"));
  imDialogFor = im.id;
  $("im-dialog-body").replaceChildren(
    el("p", {}, el("strong", {}, who), ` wants to send you instant messages${about}.`),
  );
  showPopup(imDialog); // never takes focus: dialogs.js
}

// ---------------------------------------------------------------- events

export const handlers = {
  "im.opened"(frame) {
    const im = frame.im;
    const known = Boolean(state.imSession(im.id));
    state.addIm(im);
    renderImList();
    if (im.started_by_me) settle(openKey(im.with.id));
    const asked = state.dialogIm();
    if (asked && im.started_by_me && im.with.id === asked.librarian) {
      // Opened (or reused) from the Transfer dialog: send the line typed there.
      state.setDialogIm(null);
      sendImLine(im.id, asked.text);
      changed(im.id);
      return;
    }
    if (frame.reused || (im.started_by_me && state.imOpening() === im.with.id)) {
      state.setImOpening(null);
      selectTab("tab-im");
      selectIm(im.id);
    } else if (!im.started_by_me && !known) {
      newImRequest(im);
    }
  },
  "im.message.created"(frame) {
    const im = state.imSession(frame.im);
    if (!im) return;
    const line = frame.message;
    if (im.lines.has(line.seq)) return;
    if (line.seq > im.last_seq + 1) askSync(); // a line went missing on the way
    addImLine(im.id, line);
    changed(im.id);
    if (line.author_id === state.myId()) return;
    if (imIsInView(im.id)) {
      markImRead(im.id);
    } else {
      $("tab-im").classList.toggle("tab-marked", !isTabSelected("tab-im"));
      if (state.settings().im_sound) playAlert();
      announce(`IM from ${line.author}: ${line.text}`);
      renderImList();
    }
  },
  "im.message.stored"(frame) {
    settle(lineKey(frame.client_id));
    const pending = state.pendingLine(frame.client_id);
    const im = pending && state.imSession(pending.im);
    if (im && im.lines.has(frame.seq)) {
      pending.element.remove();
      state.dropPendingLine(frame.client_id);
    }
  },
  "im.read"(frame) {
    const im = state.imSession(frame.im);
    if (!im) return;
    state.patchIm(im.id, { read_seq: Math.max(im.read_seq, frame.read_seq) });
    renderImList();
  },
  "im.about.changed"(frame) {
    const im = state.patchIm(frame.im, { about: frame.about });
    if (im && state.selectedImId() === im.id) renderAbout(im);
  },
  "im.ended"(frame) {
    const im = state.imSession(frame.im);
    if (!im) return;
    state.patchIm(im.id, {
      ended_at: new Date().toISOString(),
      ended_by: frame.ended_by,
      end_reason: frame.reason,
      idle_minutes: frame.idle_minutes,
    });
    if (!frame.ended_by || frame.ended_by.id !== state.myId()) {
      const said = endedSaid(im, frame);
      announce(said);
      if (state.selectedImId() !== im.id) toast(said);
    }
    if (state.selectedImId() !== im.id) state.removeIm(im.id);
    renderImList();
    renderImPane();
    imHistoryChanged();
  },
};

export function initialize() {
  whenTabSelected("tab-im", () => {
    if (state.imSession(state.selectedImId())) markImRead(state.selectedImId());
  });
  $("im-composer").addEventListener("submit", (event) => {
    event.preventDefault();
    sendIm();
  });
  $("im-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendIm();
    }
  });
  $("im-about").addEventListener("change", changeAbout);
  // My active sessions change while the pane is shown: fresh options on the way in.
  $("im-about").addEventListener("focus", () => {
    const im = state.imSession(state.selectedImId());
    if (im && !im.ended_at) renderAbout(im);
  });
  $("im-end").addEventListener("click", () => {
    if (state.selectedImId() === null) return;
    if (send({ type: "im.end", im: state.selectedImId() })) $("im-end").disabled = true;
  });
  $("im-dialog-ok").addEventListener("click", () => {
    const id = imDialogFor;
    imDialogFor = null;
    imDialog.close();
    selectTab("tab-im");
    if (id !== null && state.imSession(id)) selectIm(id);
  });
  imDialog.addEventListener("close", () => {
    imDialogFor = null;
  });
  document.addEventListener("visibilitychange", () => {
    const id = state.selectedImId();
    if (state.imSession(id) && imIsInView(id)) markImRead(id);
  });
}
