// The patron's chat page: waiting view, live chat, End Session, transcript, survey.
// Protocol: docs/protocol.md (patron socket).
import { gettext, interpolate, ngettext } from "./i18n.js";
import { RECHECK_MS, ReconnectingSocket, formatWait, lineElement, lineRefusedPut, newClientId, sendPaced } from "./socket.js";
import { Survey } from "./survey.js";
import { TypingIndicator, TypingSender } from "./typing.js";

const root = document.getElementById("patron-chat");
const token = root.dataset.token;
const maxChars = Number(root.dataset.maxChars);
const log = document.getElementById("log");
const composer = document.getElementById("composer");
const textarea = document.getElementById("message");
const composerError = document.getElementById("composer-error");
const endButton = document.getElementById("end-session");
const waitingPanel = document.getElementById("waiting-panel");
const waited = document.getElementById("waited");
const waitingTitle = document.getElementById("waiting-title");
const connection = document.getElementById("connection");
const chatWith = document.getElementById("chat-with");
const endedPanel = document.getElementById("ended-panel");
const endedReason = document.getElementById("ended-reason");
const transcriptStatus = document.getElementById("transcript-status");
const transcriptForm = document.getElementById("transcript-form");
const transcriptEmail = document.getElementById("transcript-email");
const transcriptError = document.getElementById("transcript-error");
const librarianTyping = new TypingIndicator(document.getElementById("typing"));
const waitStatus = document.getElementById("wait-status");
const leaveOffer = document.getElementById("leave-offer");
const leaveOfferText = document.getElementById("leave-offer-text");
const survey = new Survey(document.getElementById("survey-box"));

const state = {
  session: null,
  lastSeq: 0,
  seen: new Set(), // seq numbers shown
  pending: new Map(), // client_id → {text, element}
  clockOffset: 0, // server time − browser time, ms
  wait: null, // the latest session.wait: {position, librarians_online}
  offer: null, // when "Leave my question" is offered: {offer_after_seconds, url}
};

const socket = new ReconnectingSocket({
  url: () => `/ws/chat/${encodeURIComponent(token)}/?after=${state.lastSeq}`,
  onFrame: handleFrame,
  onStatus: showConnection,
  onFatal: () => {
    connection.textContent = gettext("This chat session doesn't exist.");
    composer.hidden = true;
    endButton.hidden = true;
  },
});

// The patron's typing tells the librarian who holds the chat (no text).
const typing = new TypingSender((started) =>
  state.session?.state === "active" && socket.send(started ? { type: "typing" } : { type: "typing", state: "stopped" }),
);

function showConnection(status) {
  const words = { connecting: gettext("Connecting…"), reconnecting: gettext("Reconnecting…"), open: "", closed: "" };
  connection.textContent = words[status] ?? "";
  connection.classList.toggle("connection-lost", status === "reconnecting");
  if (status === "open") resendPending();
}

function handleFrame(frame) {
  switch (frame.type) {
    case "session.snapshot":
      state.clockOffset = Date.parse(frame.server_time) - Date.now();
      state.session = frame.session;
      frame.messages.forEach(addLine);
      render();
      break;
    case "message.created":
      if (frame.message.seq > state.lastSeq + 1) resume(); // a line went missing on the way
      if (frame.message.kind === "librarian") librarianTyping.hide(); // what they typed is here
      addLine(frame.message);
      break;
    case "session.heartbeat":
      // The server's latest line number and state: behind means an event was
      // lost, unless it is still on its way, so look again in a moment first.
      if (behind(frame)) setTimeout(() => behind(frame) && resume(), RECHECK_MS);
      break;
    case "session.wait":
      state.wait = { position: frame.position, librarians_online: frame.librarians_online };
      renderWait();
      break;
    case "message.stored":
      confirmPending(frame.client_id, frame.seq);
      break;
    case "session.accepted":
      state.session.state = "active";
      state.session.librarian = frame.librarian.display_name;
      state.session.requeued = false;
      render();
      break;
    case "typing.started":
      librarianTyping.show(interpolate(gettext("%s is typing…"), [frame.librarian.display_name]));
      break;
    case "typing.stopped":
      librarianTyping.hide();
      break;
    case "session.requeued":
      librarianTyping.hide();
      state.session.state = "waiting";
      state.session.librarian = null;
      state.session.requeued = true;
      render();
      break;
    case "session.closed":
      librarianTyping.hide();
      state.session.state = "closed";
      state.session.closed_by = frame.closed_by;
      state.session.left_question = Boolean(frame.left_question);
      state.session.has_email = frame.has_email;
      state.session.transcript_sent = frame.has_email;
      state.session.transcript_offered = frame.transcript_offered;
      render();
      endedPanel.querySelector("h2").focus();
      break;
    case "transcript.sent":
      state.session.transcript_sent = true;
      state.session.has_email = true;
      transcriptStatus.textContent = interpolate(gettext("The transcript was sent to %s."), [frame.email]);
      transcriptForm.hidden = true;
      break;
    case "error":
      showError(frame);
      break;
    default:
      break;
  }
}

function behind(heartbeat) {
  return heartbeat.last_seq > state.lastSeq || (state.session && heartbeat.state !== state.session.state);
}

let resumeAsked = 0;
function resume() {
  // At most once a second: the snapshot that answers brings everything after lastSeq.
  if (Date.now() - resumeAsked < 1000) return;
  resumeAsked = Date.now();
  socket.send({ type: "session.resume", after: state.lastSeq });
}

function addLine(line) {
  if (state.seen.has(line.seq)) return;
  state.seen.add(line.seq);
  state.lastSeq = Math.max(state.lastSeq, line.seq);
  const pending = line.client_id && state.pending.get(line.client_id);
  const element = lineElement(line, { viewer: "patron" });
  if (pending) {
    pending.element.replaceWith(element);
    state.pending.delete(line.client_id);
  } else {
    insertInOrder(element, line.seq);
  }
  element.scrollIntoView({ block: "end" });
}

function insertInOrder(element, seq) {
  const after = [...log.querySelectorAll("li[data-seq]")].find(
    (li) => li.dataset.seq && Number(li.dataset.seq) > seq,
  );
  if (after) log.insertBefore(element, after);
  else {
    const firstPending = log.querySelector("li.line-pending");
    log.insertBefore(element, firstPending);
  }
}

function confirmPending(clientId, seq) {
  const pending = state.pending.get(clientId);
  if (!pending) return;
  if (state.seen.has(seq)) {
    // The line itself already arrived (as an event or in a snapshot).
    pending.element.remove();
    state.pending.delete(clientId);
  }
}

function resendPending() {
  sendPaced([...state.pending.keys()], (clientId) => {
    const pending = state.pending.get(clientId);
    if (pending) socket.send({ type: "message.send", text: pending.text, client_id: clientId });
  });
}

function showError(frame) {
  if (frame.client_id && state.pending.has(frame.client_id)) {
    // Refused: never sent again. Too fast, it goes back into an empty box;
    // otherwise it stays in the log, marked "not sent" with the reason.
    const pending = state.pending.get(frame.client_id);
    state.pending.delete(frame.client_id);
    lineRefusedPut(frame, pending, (text) => {
      if (textarea.value) return false;
      textarea.value = text;
      return true;
    });
  }
  if (["invalid_email", "transcript_sent", "no_transcript", "too_many_transcripts"].includes(frame.code)) {
    transcriptError.textContent = frame.message;
    return;
  }
  composerError.textContent = frame.message;
}

function render() {
  const s = state.session;
  if (!s) return;
  waitingPanel.hidden = s.state !== "waiting";
  if (s.state === "waiting" && !state.offer) loadOffer();
  renderWait();
  const closed = s.state === "closed";
  composer.hidden = closed;
  endButton.hidden = closed;
  endedPanel.hidden = !closed;
  const said = headline(s);
  if (chatWith.textContent !== said) chatWith.textContent = said; // a live region: only news
  waitingTitle.textContent = s.requeued ? gettext("Waiting for the next librarian…") : gettext("Waiting for a librarian…");
  if (closed) {
    const reasons = {
      librarian: gettext("The librarian ended the chat."),
      patron: gettext("You ended the chat."),
      system: gettext("The chat ended because the connection was lost for too long."),
    };
    endedReason.textContent = s.left_question
      ? gettext("You left your question. A librarian will answer it by email.")
      : reasons[s.closed_by] || gettext("The chat has ended.");
    if (s.transcript_sent || s.has_email) {
      transcriptStatus.textContent = gettext("A transcript of this chat is on its way to your email.");
      transcriptForm.hidden = true;
    } else {
      // Only for a chat a librarian answered, once (the server decides).
      transcriptStatus.textContent = "";
      transcriptForm.hidden = !s.transcript_offered;
    }
    // The server says whether this chat has a survey, and whether it was answered.
    survey.show();
  }
}

// Who has the patron's question now, in the patron's words: the header says
// it in every state, also after a reload (the snapshot carries the same).
function headline(s) {
  if (s.state === "closed") return gettext("This chat has ended.");
  if (s.state === "active" && s.librarian) {
    const who = { librarian: s.librarian, library: s.library };
    return interpolate(gettext("You are chatting with %(librarian)s (%(library)s)."), who, true);
  }
  if (s.state === "waiting" && s.requeued) return gettext("You are waiting for the next librarian.");
  return s.library;
}

function waitedSeconds(s) {
  return (Date.now() + state.clockOffset - Date.parse(s.created_at)) / 1000;
}

function tickWaited() {
  const s = state.session;
  if (s && s.state === "waiting") {
    waited.textContent = formatWait(waitedSeconds(s));
    renderOffer();
  }
}

// Where the patron is in the queue and how many librarians are on (the
// socket's session.wait, at every heartbeat); a polite region, changed only
// when the news is new.
function renderWait() {
  const s = state.session;
  const wait = state.wait;
  let said = "";
  if (s && s.state === "waiting" && wait) {
    const place =
      wait.position <= 1
        ? gettext("You are next in the queue.")
        : interpolate(gettext("You are number %s in the queue."), [wait.position]);
    const on =
      wait.librarians_online === 0
        ? gettext("No librarian is on right now.")
        : interpolate(
            ngettext("%s librarian is on.", "%s librarians are on.", wait.librarians_online),
            [wait.librarians_online],
          );
    said = `${place} ${on}`;
  }
  if (waitStatus.textContent !== said) waitStatus.textContent = said;
  renderOffer();
}

// "Leave my question": offered after the queue's time, and at once when nobody is on.
function renderOffer() {
  const s = state.session;
  const offer = state.offer;
  const nobody = state.wait?.librarians_online === 0;
  const show = Boolean(
    s && s.state === "waiting" && offer && (nobody || waitedSeconds(s) >= offer.offer_after_seconds),
  );
  if (show) {
    const text = nobody
      ? gettext("Nobody can answer right now. You can leave your question, and a librarian will answer it by email.")
      : gettext("Still waiting? You can leave your question, and a librarian will answer it by email.");
    if (leaveOfferText.textContent !== text) leaveOfferText.textContent = text;
  }
  if (leaveOffer.hidden === show) leaveOffer.hidden = !show;
}

let offerAsked = false;
async function loadOffer() {
  if (offerAsked) return;
  offerAsked = true;
  try {
    const response = await fetch(root.dataset.offerUrl, { credentials: "same-origin" });
    if (!response.ok) throw new Error(String(response.status));
    state.offer = await response.json();
    renderOffer();
  } catch {
    offerAsked = false; // asked again at the next render
  }
}
setInterval(tickWaited, 1000);

function send() {
  const text = textarea.value.replace(/\s+$/, "");
  composerError.textContent = "";
  if (!text.trim()) {
    composerError.textContent = gettext("A message can't be empty.");
    return;
  }
  if (text.length > maxChars) {
    const locale = document.documentElement.lang || [];
    composerError.textContent = interpolate(
      gettext("A message can be at most %(limit)s characters; this one has %(length)s."),
      { limit: maxChars.toLocaleString(locale), length: text.length.toLocaleString(locale) },
      true,
    );
    return;
  }
  const clientId = newClientId();
  const element = lineElement(
    { kind: "patron", author: state.session?.patron_name ?? gettext("You"), text, client_id: clientId, pending: true },
    { viewer: "patron" },
  );
  log.append(element);
  element.scrollIntoView({ block: "end" });
  state.pending.set(clientId, { text, element });
  socket.send({ type: "message.send", text, client_id: clientId });
  textarea.value = "";
  typing.stopped();
}

composer.addEventListener("submit", (event) => {
  event.preventDefault();
  send();
});
textarea.addEventListener("input", () => typing.changed(textarea.value));
textarea.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  }
});

endButton.addEventListener("click", () => {
  endButton.disabled = true;
  socket.send({ type: "session.end" });
  setTimeout(() => (endButton.disabled = false), 3000);
});

transcriptForm.addEventListener("submit", (event) => {
  event.preventDefault();
  transcriptError.textContent = "";
  const email = transcriptEmail.value.trim();
  if (!email) {
    transcriptError.textContent = gettext("Please type your email address.");
    return;
  }
  socket.send({ type: "transcript.request", email });
});
