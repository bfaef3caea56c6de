// The patron's chat page: waiting view, live chat, End Session, transcript.
// Protocol: docs/protocol.md (patron socket).
import { gettext, interpolate } from "./i18n.js";
import { RECHECK_MS, ReconnectingSocket, formatWait, lineElement, lineRefusedPut, newClientId, sendPaced } from "./socket.js";

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

const state = {
  session: null,
  lastSeq: 0,
  seen: new Set(), // seq numbers shown
  pending: new Map(), // client_id → {text, element}
  clockOffset: 0, // server time − browser time, ms
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
      addLine(frame.message);
      break;
    case "session.heartbeat":
      // The server's latest line number and state: behind means an event was
      // lost, unless it is still on its way, so look again in a moment first.
      if (behind(frame)) setTimeout(() => behind(frame) && resume(), RECHECK_MS);
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
    case "session.requeued":
      state.session.state = "waiting";
      state.session.librarian = null;
      state.session.requeued = true;
      render();
      break;
    case "session.closed":
      state.session.state = "closed";
      state.session.closed_by = frame.closed_by;
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
  const closed = s.state === "closed";
  composer.hidden = closed;
  endButton.hidden = closed;
  endedPanel.hidden = !closed;
  const said = headline(s);
  if (chatWith.textContent !== said) chatWith.textContent = said; // a live region: only news
  waitingTitle.textContent = s.requeued ? gettext("Waiting for the next librarian…") : gettext("Waiting for a librarian…");
  if (closed) {
    endedReason.textContent = {
      librarian: gettext("The librarian ended the chat."),
      patron: gettext("You ended the chat."),
      system: gettext("The chat ended because the connection was lost for too long."),
    }[s.closed_by] || gettext("The chat has ended.");
    if (s.transcript_sent || s.has_email) {
      transcriptStatus.textContent = gettext("A transcript of this chat is on its way to your email.");
      transcriptForm.hidden = true;
    } else {
      // Only for a chat a librarian answered, once (the server decides).
      transcriptStatus.textContent = "";
      transcriptForm.hidden = !s.transcript_offered;
    }
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

function tickWaited() {
  const s = state.session;
  if (s && s.state === "waiting") {
    const seconds = (Date.now() + state.clockOffset - Date.parse(s.created_at)) / 1000;
    waited.textContent = formatWait(seconds);
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
}

composer.addEventListener("submit", (event) => {
  event.preventDefault();
  send();
});
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
