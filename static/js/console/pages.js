// Push a Page: the small form by the reply box that sends the selected
// session's patron a web page (docs/protocol.md, `page.push`). The server
// checks the address (chat/pages.py) and stores the page as a line of the
// session; the card in the log comes with its `message.created`, as any line.
//
// Nothing typed is lost: the form stays open until the server has the page
// (`message.stored`); a refusal shows in the form with the fields as they
// were; a dropped socket sends it again, same client_id, when it is back; a
// form left for another session keeps what was typed for when it reopens.
import { newClientId } from "../socket.js";
import { $ } from "./dom.js";
import { announce, toast } from "./dialogs.js";
import { send, settle, watch } from "./protocol.js";
import * as state from "./state.js";

// The form's own passing detail; what was typed and what is on its way are state.js's.
let openFor = null; // the session the form is open for

const requestKey = (clientId) => `page.push:${clientId}`;

// Only where lines may be written: a live session I hold or joined.
function canPush(session) {
  return Boolean(session) && session.state === "active" && state.myRole(session) !== "watching";
}

function typed() {
  return { url: $("push-page-url").value, title: $("push-page-title").value };
}

function clearError() {
  $("push-page-error").textContent = "";
  for (const field of ["url", "title"]) $(`push-page-${field}`).removeAttribute("aria-invalid");
}

function setBusy(busy) {
  $("push-page-url").readOnly = busy;
  $("push-page-title").readOnly = busy;
  $("push-page-send").disabled = busy;
  $("push-page-send").textContent = busy ? "Pushing…" : "Push Page";
}

function showForm(sessionId) {
  const pending = state.pagePush();
  const draft = pending?.session === sessionId ? pending : state.pageDraftOf(sessionId);
  openFor = sessionId;
  $("push-page-url").value = draft?.url ?? "";
  $("push-page-title").value = draft?.title ?? "";
  clearError();
  setBusy(pending?.session === sessionId);
  $("push-page-form").hidden = false;
  $("push-page-open").setAttribute("aria-expanded", "true");
}

// Hides the form, keeping what was typed as the session's draft; `focus`
// puts the keyboard back on the button that opened it.
function hideForm({ focus = false } = {}) {
  if (openFor !== null && state.pagePush()?.session !== openFor) state.setPageDraft(openFor, typed());
  openFor = null;
  $("push-page-form").hidden = true;
  $("push-page-open").setAttribute("aria-expanded", "false");
  if (focus) $("push-page-open").focus();
}

// The Patron Chat pane was drawn again (chat.js renderPane): the form follows
// the selected session, and goes where no page can be pushed.
export function renderPushPage(session) {
  if (openFor !== null && (!session || session.id !== openFor || !canPush(session))) {
    if (!canPush(state.activeSession(openFor))) state.setPageDraft(openFor, null);
    hideForm();
  }
}

function sendPush() {
  const { session, url, title, clientId } = state.pagePush();
  return send(
    { type: "page.push", session, url, title, client_id: clientId },
    { quiet: true, key: requestKey(clientId), ttl: null, onError: refused },
  );
}

function submit() {
  const session = state.activeSession(state.selectedId());
  if (!canPush(session) || state.pagePush()) return;
  state.setPagePush({ session: session.id, ...typed(), clientId: newClientId() });
  clearError();
  setBusy(true);
  if (!sendPush()) $("push-page-error").textContent = "Not connected: the page goes as soon as the console is back.";
}

// Refused (invalid_page, session_closed …): nothing was stored; the message
// goes in the form, which keeps the address and title to correct.
function refused(error) {
  const pending = state.pagePush();
  if (!pending) return;
  const { session, url, title } = pending;
  state.setPagePush(null);
  if (openFor === session) {
    setBusy(false);
    $("push-page-error").textContent = error.message;
    // To the field to correct: the message names the title when it is the title.
    const field = error.code === "invalid_page" && /\btitle\b/i.test(error.message) ? "title" : "url";
    $(`push-page-${field}`).setAttribute("aria-invalid", "true");
    $(`push-page-${field}`).focus();
    $("push-page-form").scrollIntoView({ block: "nearest" });
  } else {
    state.setPageDraft(session, { url, title });
    toast(`Page not pushed: ${error.message}`);
  }
}

function stored(frame) {
  const pending = state.pagePush();
  if (frame.type !== "message.stored" || !pending || frame.client_id !== pending.clientId) return;
  settle(requestKey(frame.client_id));
  const { session } = pending;
  state.setPagePush(null);
  state.setPageDraft(session, null);
  const name = state.activeSession(session)?.patron_name ?? "the patron";
  if (openFor === session) {
    openFor = null; // pushed: nothing to keep
    setBusy(false);
    hideForm();
    $("composer-text").focus();
  }
  announce(`Page pushed to ${name}.`);
}

// The socket is back: a page with no answer goes again, with its client_id
// (stored already, the server answers message.stored and stores nothing).
export function resendPush() {
  if (state.pagePush()) sendPush();
}

export function initialize() {
  watch(stored);
  $("push-page-open").addEventListener("click", () => {
    if (openFor !== null) {
      hideForm({ focus: true });
      return;
    }
    const session = state.activeSession(state.selectedId());
    if (!canPush(session)) return;
    showForm(session.id);
    $("push-page-url").focus();
    $("push-page-form").scrollIntoView({ block: "nearest" }); // its buttons and message too
  });
  $("push-page-cancel").addEventListener("click", () => hideForm({ focus: true }));
  $("push-page-form").addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    event.preventDefault();
    event.stopPropagation();
    hideForm({ focus: true });
  });
  $("push-page-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
}
