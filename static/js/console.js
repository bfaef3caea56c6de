// The librarian's console: monitoring, New, My Active, Patron Chat, Chat
// History and Settings. Protocol: docs/protocol.md (console socket).
import { ReconnectingSocket, el, formatTime, formatWait, lineElement, newClientId, playAlert } from "./socket.js";

const $ = (id) => document.getElementById(id);
const root = $("console");
const maxChars = Number(root.dataset.maxChars);

const state = {
  me: null,
  settings: { alert_sound: true, alert_popup: true },
  queues: [],
  waiting: new Map(), // id → session row
  active: new Map(), // id → session detail + lines: Map(seq → line)
  selected: null,
  drafts: new Map(),
  unread: new Map(),
  pending: new Map(), // client_id → {session, text, element}
  accepting: new Set(),
  librarians: new Map(), // id → Librarians list row
  myQueues: new Set(), // ids of the queues I monitor
  sort: { key: "name", dir: 1 },
  ims: new Map(), // id → IM session + lines: Map(seq → line)
  selectedIm: null,
  imDrafts: new Map(),
  imOpening: null, // the librarian id this console asked to IM
  clockOffset: 0,
  baseTitle: document.title,
  unseenRequests: [],
};

// ---------------------------------------------------------------- socket

const socket = new ReconnectingSocket({
  url: () => "/ws/console/",
  onFrame: handleFrame,
  onStatus: (status) => {
    // "Connected" waits for the snapshot: until then the screen is not in sync.
    const words = { connecting: "Connecting…", reconnecting: "Reconnecting…", open: "Syncing…", closed: "Disconnected" };
    $("connection").textContent = words[status] ?? "";
    $("connection").classList.toggle("connection-lost", status === "reconnecting" || status === "closed");
    if (status === "open") resendPending();
  },
  onFatal: () => {
    $("connection").textContent = "Your session has ended. Please log in again.";
    setTimeout(() => location.assign("/login/?next=/console/"), 1500);
  },
});

function send(frame) {
  if (socket.send(frame)) return true;
  toast("Not connected. Reconnecting…");
  return false;
}

function handleFrame(frame) {
  const handler = handlers[frame.type];
  if (handler) handler(frame);
}

const handlers = {
  "console.snapshot"(frame) {
    $("connection").textContent = "Connected";
    state.clockOffset = Date.parse(frame.server_time) - Date.now();
    state.me = frame.me;
    state.settings = frame.settings;
    state.queues = frame.queues;
    state.myQueues = new Set(frame.queues.filter((q) => q.monitoring).map((q) => q.id));
    state.librarians = new Map(frame.librarians.map((row) => [row.id, row]));
    const keptIm = state.ims.get(state.selectedIm);
    state.ims = new Map();
    for (const im of frame.ims) addIm(im);
    if (keptIm && !state.ims.has(keptIm.id)) state.ims.set(keptIm.id, keptIm);
    state.waiting = new Map(frame.waiting.map((row) => [row.id, row]));
    const ended = [...state.active.values()].filter((s) => s.state === "closed");
    state.active = new Map();
    for (const detail of frame.active) addActive(detail);
    for (const s of ended) if (!state.active.has(s.id)) state.active.set(s.id, s);
    if (state.selected && !state.active.has(state.selected)) state.selected = null;
    renderMonitoring();
    renderSettings();
    renderNew();
    renderActive();
    renderPane();
    renderLibrarians();
    renderImList();
    renderImPane();
    $("monitoring-status").textContent = monitoredCount()
      ? `Monitoring ${monitoredCount()} of ${state.queues.length}.`
      : "Not monitoring any queue.";
  },
  "session.created"(frame) {
    const row = frame.session;
    state.waiting.set(row.id, row);
    renderNew();
    alertNewRequest(row);
  },
  "session.accepted"(frame) {
    const row = state.waiting.get(frame.session);
    state.waiting.delete(frame.session);
    renderNew();
    const mine = state.me && frame.librarian.id === state.me.id;
    if (mine && frame.detail) {
      addActive(frame.detail);
      if (state.accepting.has(frame.session) || state.selected === null) select(frame.session);
      renderActive();
    } else if (row && !mine) {
      announce(`${frame.librarian.display_name} picked up ${row.patron_name}'s request.`);
    }
    state.accepting.delete(frame.session);
  },
  "session.closed"(frame) {
    if (state.waiting.delete(frame.session)) renderNew();
    const session = state.active.get(frame.session);
    if (session) {
      session.state = "closed";
      session.closed_by = frame.closed_by;
      if (frame.closed_by === "patron") announce(`${session.patron_name} ended the chat session.`);
      renderActive();
      if (state.selected === session.id) renderPane();
    }
  },
  "message.created"(frame) {
    const session = state.active.get(frame.session);
    if (!session) return;
    const line = frame.message;
    if (session.lines.has(line.seq)) return;
    if (line.seq > session.last_seq + 1) {
      // A gap: a line went missing on the way. Re-read the whole session.
      send({ type: "session.fetch", session: session.id });
    }
    addLine(session, line);
    if (line.kind === "patron" && (state.selected !== session.id || document.hidden)) {
      state.unread.set(session.id, (state.unread.get(session.id) || 0) + 1);
      if (state.selected !== session.id) announce(`New message from ${session.patron_name}.`);
      renderActive();
    }
  },
  "message.stored"(frame) {
    const pending = state.pending.get(frame.client_id);
    if (!pending) return;
    const session = state.active.get(pending.session);
    if (session && session.lines.has(frame.seq)) {
      pending.element.remove();
      state.pending.delete(frame.client_id);
    }
  },
  "session.detail"(frame) {
    const detail = frame.session;
    const session = state.active.get(detail.id);
    if (!session) return;
    for (const line of detail.messages) addLine(session, line);
    Object.assign(session, { ...detail, messages: undefined, lines: session.lines });
    renderActive();
    if (state.selected === session.id) renderPane();
  },
  "patron.left"(frame) {
    setPresence(frame.session, false);
  },
  "patron.returned"(frame) {
    setPresence(frame.session, true);
  },
  "librarian.updated"(frame) {
    const row = frame.librarian;
    if (!state.me || row.id === state.me.id) return;
    const listed = state.librarians.has(row.id);
    if (row.monitoring.some((q) => state.myQueues.has(q))) state.librarians.set(row.id, row);
    else state.librarians.delete(row.id);
    if (listed !== state.librarians.has(row.id)) {
      announce(listed ? `${row.display_name} stopped monitoring.` : `${row.display_name} is now monitoring.`);
    }
    renderLibrarians();
  },
  "im.opened"(frame) {
    const im = frame.im;
    const known = state.ims.has(im.id);
    addIm(im);
    renderImList();
    if (frame.reused || (im.started_by_me && state.imOpening === im.with.id)) {
      state.imOpening = null;
      selectTab("tab-im");
      selectIm(im.id);
    } else if (!im.started_by_me && !known) {
      newImRequest(im);
    }
  },
  "im.message.created"(frame) {
    const im = state.ims.get(frame.im);
    if (!im) return;
    const line = frame.message;
    if (im.lines.has(line.seq)) return;
    addImLine(im, line);
    if (line.author_id === state.me.id) return;
    if (imIsInView(im.id)) {
      markImRead(im);
    } else {
      $("tab-im").classList.toggle("tab-marked", !isTabSelected("tab-im"));
      if (state.settings.im_sound) playAlert();
      announce(`IM from ${line.author}: ${line.text}`);
      renderImList();
    }
  },
  "im.message.stored"(frame) {
    const pending = state.pending.get(frame.client_id);
    const im = pending && state.ims.get(pending.im);
    if (im && im.lines.has(frame.seq)) {
      pending.element.remove();
      state.pending.delete(frame.client_id);
    }
  },
  "im.read"(frame) {
    const im = state.ims.get(frame.im);
    if (!im) return;
    im.read_seq = Math.max(im.read_seq, frame.read_seq);
    renderImList();
  },
  "im.ended"(frame) {
    const im = state.ims.get(frame.im);
    if (!im) return;
    im.ended_at = new Date().toISOString();
    im.ended_by = frame.ended_by;
    if (frame.ended_by.id !== state.me.id) {
      announce(`${frame.ended_by.display_name} ended the IM session.`);
      if (state.selectedIm !== im.id) toast(`${frame.ended_by.display_name} ended the IM session.`);
    }
    if (state.selectedIm !== im.id) state.ims.delete(im.id);
    renderImList();
    renderImPane();
    imHistoryLoaded = false;
  },
  "settings.changed"(frame) {
    state.settings = frame.settings;
    renderSettings();
    $("settings-status").textContent = "Saved.";
  },
  error(frame) {
    if (frame.client_id && state.pending.has(frame.client_id)) {
      const pending = state.pending.get(frame.client_id);
      pending.element.remove();
      state.pending.delete(frame.client_id);
      if (pending.im) {
        if (state.selectedIm === pending.im) {
          if (!$("im-text").value) $("im-text").value = pending.text;
          $("im-error").textContent = frame.message;
        }
        return;
      }
      if (state.selected === pending.session) {
        if (!$("composer-text").value) $("composer-text").value = pending.text;
        $("composer-error").textContent = frame.message;
      }
      return;
    }
    if (frame.session && state.accepting.has(frame.session)) {
      state.accepting.delete(frame.session);
      if (frame.code !== "already_yours") state.waiting.delete(frame.session);
      renderNew();
    }
    if (["im_self", "not_available"].includes(frame.code)) state.imOpening = null;
    toast(frame.message);
  },
};

// ---------------------------------------------------------------- state

function addActive(detail) {
  const lines = new Map();
  for (const line of detail.messages) lines.set(line.seq, line);
  state.active.set(detail.id, { ...detail, messages: undefined, lines });
}

function addLine(session, line) {
  if (session.lines.has(line.seq)) return;
  session.lines.set(line.seq, line);
  session.last_seq = Math.max(session.last_seq, line.seq);
  if (state.selected !== session.id) return;
  const log = $("session-log");
  const element = lineElement(line, { viewer: "librarian" });
  const pending = line.client_id && state.pending.get(line.client_id);
  if (pending) {
    pending.element.replaceWith(element);
    state.pending.delete(line.client_id);
  } else {
    const later = [...log.querySelectorAll("li[data-seq]")].find(
      (li) => li.dataset.seq && Number(li.dataset.seq) > line.seq,
    );
    log.insertBefore(element, later || log.querySelector("li.line-pending"));
  }
  element.scrollIntoView({ block: "end" });
}

function setPresence(id, present) {
  const row = state.waiting.get(id);
  if (row) {
    row.patron_present = present;
    renderNew();
  }
  const session = state.active.get(id);
  if (session) {
    session.patron_present = present;
    if (state.selected === id) renderPresence(session);
    renderActive();
    announce(present ? `${session.patron_name} is back.` : `${session.patron_name} left the chat window.`);
  }
}

function monitoredCount() {
  return state.queues.filter((q) => q.monitoring).length;
}

function resendPending() {
  for (const [clientId, pending] of state.pending) {
    if (pending.im) socket.send({ type: "im.send", im: pending.im, text: pending.text, client_id: clientId });
    else socket.send({ type: "message.send", session: pending.session, text: pending.text, client_id: clientId });
  }
}

// ---------------------------------------------------------------- alerts

function announce(text) {
  const announcer = $("announcer");
  announcer.textContent = "";
  // A fresh text node after a tick makes screen readers read repeats too.
  setTimeout(() => (announcer.textContent = text), 50);
}

let toastTimer;
function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (node.hidden = true), 6000);
}

function alertNewRequest(row) {
  announce(`New request from ${row.patron_name} in ${row.queue.name}: ${row.question_preview}`);
  if (state.settings.alert_sound) playAlert();
  if (!isTabSelected("tab-chat")) $("tab-chat").classList.add("tab-marked");
  if (state.settings.alert_popup) {
    state.unseenRequests.push(row);
    showRequestDialog();
  }
}

const dialog = $("request-dialog");
let focusBeforeDialog = null;

function showRequestDialog() {
  const body = $("request-dialog-body");
  body.replaceChildren(
    ...state.unseenRequests.map((row) =>
      el(
        "div",
        { class: "dialog-request" },
        el("p", {}, el("strong", {}, row.patron_name), ` (${row.patron_email || "anonymous"}) · ${row.library.name} · ${row.queue.name}`),
        el("p", { class: "quote" }, row.question_preview),
      ),
    ),
  );
  $("request-dialog-title").textContent =
    state.unseenRequests.length > 1 ? `${state.unseenRequests.length} New Patron Requests` : "New Patron Request";
  if (!dialog.open) {
    focusBeforeDialog = document.activeElement;
    dialog.showModal();
    $("request-dialog-ok").focus();
  }
}

function closeRequestDialog() {
  state.unseenRequests = [];
  if (dialog.open) dialog.close();
}

$("request-dialog-ok").addEventListener("click", () => {
  closeRequestDialog();
  selectTab("tab-chat");
  const first = $("new-list").querySelector("button");
  (first || focusBeforeDialog)?.focus();
});
dialog.addEventListener("close", () => {
  state.unseenRequests = [];
  if (focusBeforeDialog && document.activeElement === document.body) focusBeforeDialog.focus();
});

// ---------------------------------------------------------------- rendering

function renderMonitoring() {
  const box = $("monitoring-queues");
  if (!state.queues.length) {
    box.replaceChildren(el("p", { class: "muted" }, "You are not a member of any queue. Ask a supervisor."));
    return;
  }
  box.replaceChildren(
    ...state.queues.map((q) =>
      el(
        "div",
        { class: "check" },
        el("input", { type: "checkbox", id: `monitor-${q.id}`, value: q.id, checked: q.monitoring }),
        el("label", { for: `monitor-${q.id}` }, q.name),
      ),
    ),
  );
}

function waitedSeconds(row) {
  return (Date.now() + state.clockOffset - Date.parse(row.created_at)) / 1000;
}

function renderNew() {
  const list = $("new-list");
  const rows = [...state.waiting.values()].sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
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
            class: "session-row",
            disabled: state.accepting.has(row.id),
            "aria-label": `Pick up ${row.patron_name}, waited ${formatWait(waitedSeconds(row))}: ${row.question_preview}`,
            onclick: () => accept(row.id),
          },
          el(
            "span",
            { class: "row-top" },
            el("strong", {}, row.patron_name),
            el("span", { class: "waited", dataset: { created: row.created_at } }, formatWait(waitedSeconds(row))),
          ),
          el("span", { class: "preview" }, row.question_preview),
          el(
            "span",
            { class: "row-meta" },
            `${row.patron_email || "anonymous"} · ${row.library.name} · ${row.queue.name}`,
            row.patron_present ? null : el("span", { class: "badge badge-warn" }, "left"),
            state.accepting.has(row.id) ? el("span", { class: "badge" }, "picking up…") : null,
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
  document.title = rows.length ? `(${rows.length}) ${state.baseTitle}` : state.baseTitle;
}

function tickWaited() {
  for (const span of document.querySelectorAll("#new-list .waited")) {
    span.textContent = formatWait(waitedSeconds({ created_at: span.dataset.created }));
  }
}
setInterval(tickWaited, 1000);

function renderActive() {
  const list = $("active-list");
  const sessions = [...state.active.values()];
  const focusedId = document.activeElement?.closest?.("#active-list li")?.dataset.id;
  list.replaceChildren(
    ...sessions.map((s) => {
      const unread = state.unread.get(s.id) || 0;
      return el(
        "li",
        { dataset: { id: s.id } },
        el(
          "button",
          {
            type: "button",
            class: `session-row${state.selected === s.id ? " selected" : ""}`,
            "aria-current": state.selected === s.id ? "true" : null,
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
            s.state !== "closed" && !s.patron_present ? el("span", { class: "badge badge-warn" }, "left") : null,
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
    p.textContent = session.patron_present ? "" : "The patron has left the chat window (not ended).";
  }
  p.classList.toggle("presence-away", !session.patron_present);
}

function renderPane() {
  const session = state.selected && state.active.get(state.selected);
  $("no-session").hidden = Boolean(session);
  $("session-view").hidden = !session;
  if (!session) return;
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
  log.replaceChildren(...lines.map((line) => lineElement(line, { viewer: "librarian" })));
  for (const pending of state.pending.values()) if (pending.session === session.id) log.append(pending.element);
  log.lastElementChild?.scrollIntoView({ block: "end" });
  const closed = session.state === "closed";
  $("composer").hidden = closed;
  $("end-session").hidden = closed;
  $("end-session").disabled = false;
  $("dismiss-session").hidden = !closed;
  $("session-readonly").hidden = !closed;
  $("session-readonly").textContent = closed
    ? session.closed_by === "patron"
      ? "The patron ended this chat session."
      : "This chat session has ended."
    : "";
  $("composer-error").textContent = "";
}

function renderSettings() {
  $("setting-popup").checked = state.settings.alert_popup;
  $("setting-sound").checked = state.settings.alert_sound;
  $("setting-im-sound").checked = state.settings.im_sound;
}

// ---------------------------------------------------------------- actions

function accept(id) {
  if (state.accepting.has(id)) return;
  // Picking up in the browser's own gesture also unlocks the alert sound.
  if (send({ type: "session.accept", session: id })) {
    state.accepting.add(id);
    renderNew();
  }
}

function saveDraft() {
  if (state.selected === null) return;
  const text = $("composer-text").value;
  if (text) state.drafts.set(state.selected, text);
  else state.drafts.delete(state.selected);
}

function select(id) {
  if (state.selected === id) {
    $("composer-text").focus();
    return;
  }
  saveDraft();
  state.selected = id;
  state.unread.delete(id);
  $("composer-text").value = state.drafts.get(id) || "";
  renderActive();
  renderPane();
  const session = state.active.get(id);
  if (session && session.state !== "closed") $("composer-text").focus();
  else $("session-title").focus();
}

function sendLine() {
  const session = state.active.get(state.selected);
  if (!session || session.state === "closed") return;
  const textarea = $("composer-text");
  const text = textarea.value.replace(/\s+$/, "");
  $("composer-error").textContent = "";
  if (!text.trim()) {
    $("composer-error").textContent = "A message can't be empty.";
    return;
  }
  if (text.length > maxChars) {
    $("composer-error").textContent = `A message can be at most ${maxChars.toLocaleString()} characters; this one has ${text.length.toLocaleString()}.`;
    return;
  }
  const clientId = newClientId();
  const element = lineElement(
    { kind: "librarian", author: state.me.display_name, text, client_id: clientId, pending: true },
    { viewer: "librarian" },
  );
  $("session-log").append(element);
  element.scrollIntoView({ block: "end" });
  state.pending.set(clientId, { session: session.id, text, element });
  socket.send({ type: "message.send", session: session.id, text, client_id: clientId });
  textarea.value = "";
  state.drafts.delete(session.id);
}

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

$("end-session").addEventListener("click", () => {
  if (state.selected === null) return;
  if (send({ type: "session.end", session: state.selected })) $("end-session").disabled = true;
});

$("dismiss-session").addEventListener("click", () => {
  state.active.delete(state.selected);
  state.drafts.delete(state.selected);
  state.selected = null;
  renderActive();
  renderPane();
  $("active-heading").focus?.();
});

$("monitoring-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const ids = [...$("monitoring-queues").querySelectorAll("input:checked")].map((i) => Number(i.value));
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

$("logout-form").addEventListener("submit", (event) => {
  const open = [...state.active.values()].filter((s) => s.state !== "closed").length;
  const question = `You have ${open} active session${open === 1 ? "" : "s"}. Logging out ends ${open === 1 ? "it" : "them"} for the patron${open === 1 ? "" : "s"}. Log out?`;
  if (open && !window.confirm(question)) event.preventDefault();
});

// ---------------------------------------------------------------- tabs

const tabs = [...document.querySelectorAll('#tabs [role="tab"]')];

function isTabSelected(id) {
  return $(id).getAttribute("aria-selected") === "true";
}

function selectTab(id, { focus = false } = {}) {
  for (const tab of tabs) {
    const selected = tab.id === id;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(tab.getAttribute("aria-controls")).hidden = !selected;
  }
  $(id).classList.remove("tab-marked");
  if (focus) $(id).focus();
  if (id === "tab-history" && !historyLoaded) loadHistory(root.dataset.historyUrl);
  if (id === "tab-im") {
    const im = state.ims.get(state.selectedIm);
    if (im) markImRead(im);
    if (!imHistoryLoaded) loadImHistory($("im-history-root").dataset.url);
  }
}

for (const tab of tabs) {
  tab.addEventListener("click", () => selectTab(tab.id));
  tab.addEventListener("keydown", (event) => {
    const i = tabs.indexOf(tab);
    const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    selectTab(tabs[(moves[event.key] + tabs.length) % tabs.length].id, { focus: true });
  });
}

// ---------------------------------------------------------------- history

let historyLoaded = false;
const historyRoot = $("history-root");

async function loadFragment(container, url) {
  const target = new URL(url, location.origin);
  target.searchParams.set("fragment", "1");
  try {
    const response = await fetch(target, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    if (!response.ok) throw new Error(String(response.status));
    // The server renders this fragment with Django's escaping: lines are text.
    container.innerHTML = await response.text();
    container.querySelector("h2, h3")?.setAttribute("tabindex", "-1");
    return true;
  } catch {
    container.replaceChildren(el("p", { class: "error" }, "This could not be loaded. Try again."));
    return false;
  }
}

async function loadHistory(url) {
  historyLoaded = true;
  historyLoaded = await loadFragment(historyRoot, url);
}

historyRoot.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-history-form]");
  if (!form) return;
  event.preventDefault();
  const url = new URL(form.action, location.origin);
  for (const [key, value] of new FormData(form)) if (value) url.searchParams.set(key, value);
  loadHistory(url).then(() => historyRoot.querySelector("[data-history-results]")?.focus());
});

historyRoot.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-history-link]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  loadHistory(link.href).then(() => historyRoot.querySelector("h2, h3")?.focus());
});

// ---------------------------------------------------------------- Librarians

const sorters = {
  name: (a, b) => a.display_name.localeCompare(b.display_name),
  queues: (a, b) => a.queues - b.queues,
  active: (a, b) => a.active - b.active,
  home: (a, b) => homeLabel(a).localeCompare(homeLabel(b)),
};

function homeLabel(row) {
  return row.primary_queue ? `${row.primary_queue} (${row.library})` : `— (${row.library})`;
}

function sortedLibrarians() {
  const { key, dir } = state.sort;
  return [...state.librarians.values()].sort(
    (a, b) => dir * sorters[key](a, b) || sorters.name(a, b),
  );
}

function renderLibrarians() {
  const rows = sortedLibrarians();
  const focusedId = document.activeElement?.closest?.("#librarians-body tr")?.dataset.id;
  $("librarians-body").replaceChildren(
    ...rows.map((row) =>
      el(
        "tr",
        { dataset: { id: row.id } },
        el(
          "td",
          {},
          el(
            "button",
            {
              type: "button",
              class: "person-button",
              "aria-label": `Send an IM to ${row.display_name} (${row.staff_id})`,
              onclick: () => openIm(row.id),
            },
            `${row.display_name} (${row.staff_id})`,
          ),
        ),
        el("td", { class: "num" }, row.queues),
        el("td", { class: "num" }, row.active),
        el("td", {}, homeLabel(row)),
      ),
    ),
  );
  if (focusedId) $("librarians-body").querySelector(`tr[data-id="${focusedId}"] button`)?.focus();
  $("librarians-empty").hidden = rows.length > 0;
  $("librarians-badge").textContent = rows.length ? `(${rows.length})` : "";
  for (const th of document.querySelectorAll(".librarians-table th[data-sort]")) {
    const active = th.dataset.sort === state.sort.key;
    if (active) th.setAttribute("aria-sort", state.sort.dir > 0 ? "ascending" : "descending");
    else th.removeAttribute("aria-sort");
  }
  // The IM tab lists the same people.
  $("im-librarians").replaceChildren(
    ...rows.map((row) =>
      el(
        "li",
        {},
        el(
          "button",
          { type: "button", class: "session-row", onclick: () => openIm(row.id) },
          el("span", { class: "row-top" }, el("strong", {}, `${row.display_name} (${row.staff_id})`)),
          el("span", { class: "row-meta" }, `${row.active} active · ${homeLabel(row)}`),
        ),
      ),
    ),
  );
  $("im-librarians-empty").hidden = rows.length > 0;
}

for (const th of document.querySelectorAll(".librarians-table th[data-sort]")) {
  th.querySelector("button").addEventListener("click", () => {
    const key = th.dataset.sort;
    state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
    renderLibrarians();
  });
}

// ---------------------------------------------------------------- IM

function addIm(payload) {
  const existing = state.ims.get(payload.id);
  const lines = existing ? existing.lines : new Map();
  for (const line of payload.messages || []) lines.set(line.seq, line);
  state.ims.set(payload.id, { ...payload, messages: undefined, lines });
}

function unreadOf(im) {
  let n = 0;
  for (const line of im.lines.values()) if (line.author_id !== state.me?.id && line.seq > im.read_seq) n += 1;
  return n;
}

function imIsInView(id) {
  return state.selectedIm === id && isTabSelected("tab-im") && !document.hidden;
}

function markImRead(im) {
  if (unreadOf(im) === 0) return;
  const last = Math.max(0, ...im.lines.keys());
  im.read_seq = last;
  send({ type: "im.read", im: im.id, seq: last });
  renderImList();
}

function openIm(librarianId) {
  const open = [...state.ims.values()].find((im) => !im.ended_at && im.with.id === librarianId);
  if (open) {
    selectTab("tab-im");
    selectIm(open.id);
    return;
  }
  state.imOpening = librarianId;
  send({ type: "im.open", librarian: librarianId });
}

function renderImList() {
  const open = [...state.ims.values()].filter((im) => !im.ended_at);
  const focusedId = document.activeElement?.closest?.("#im-list li")?.dataset.id;
  let total = 0;
  $("im-list").replaceChildren(
    ...open.map((im) => {
      const unread = unreadOf(im);
      total += unread;
      return el(
        "li",
        { dataset: { id: im.id } },
        el(
          "button",
          {
            type: "button",
            class: `session-row${state.selectedIm === im.id ? " selected" : ""}`,
            "aria-current": state.selectedIm === im.id ? "true" : null,
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

function imLineElement(line) {
  const mine = line.author_id === state.me?.id;
  return el(
    "li",
    { class: `line line-im${mine ? " line-mine" : ""}${line.pending ? " line-pending" : ""}`, dataset: { seq: line.seq ?? "" } },
    el(
      "div",
      { class: "line-meta" },
      el("span", { class: "line-author" }, line.author),
      el("time", { datetime: line.created_at || "" }, line.pending ? "sending…" : formatTime(line.created_at)),
    ),
    el("div", { class: "line-text" }, line.text),
  );
}

function addImLine(im, line) {
  im.lines.set(line.seq, line);
  im.last_seq = Math.max(im.last_seq, line.seq);
  if (line.author_id === state.me?.id) im.read_seq = Math.max(im.read_seq, line.seq);
  if (state.selectedIm !== im.id) return;
  const log = $("im-log");
  const element = imLineElement(line);
  const pending = line.client_id && state.pending.get(line.client_id);
  if (pending) {
    pending.element.replaceWith(element);
    state.pending.delete(line.client_id);
  } else {
    log.insertBefore(element, log.querySelector("li.line-pending"));
  }
  element.scrollIntoView({ block: "end" });
}

function selectIm(id) {
  if (state.selectedIm !== null && state.selectedIm !== id) {
    const text = $("im-text").value;
    if (text) state.imDrafts.set(state.selectedIm, text);
    else state.imDrafts.delete(state.selectedIm);
    const previous = state.ims.get(state.selectedIm);
    if (previous && previous.ended_at) state.ims.delete(previous.id);
  }
  state.selectedIm = id;
  $("im-text").value = state.imDrafts.get(id) || "";
  renderImList();
  renderImPane();
  const im = state.ims.get(id);
  if (im && isTabSelected("tab-im")) markImRead(im);
  if (im && !im.ended_at) $("im-text").focus();
  else $("im-title").focus();
}

function renderImPane() {
  const im = state.selectedIm !== null && state.ims.get(state.selectedIm);
  $("no-im").hidden = Boolean(im);
  $("im-view").hidden = !im;
  if (!im) return;
  $("im-title").textContent = `IM with ${im.with.display_name} (${im.with.staff_id})`;
  $("im-meta").textContent = `${im.started_by_me ? "You started it" : `${im.with.display_name} started it`} at ${formatTime(im.created_at)}.`;
  const lines = [...im.lines.values()].sort((a, b) => a.seq - b.seq);
  $("im-log").replaceChildren(...lines.map(imLineElement));
  for (const pending of state.pending.values()) if (pending.im === im.id) $("im-log").append(pending.element);
  $("im-log").lastElementChild?.scrollIntoView({ block: "end" });
  const ended = Boolean(im.ended_at);
  $("im-composer").hidden = ended;
  $("im-end").hidden = ended;
  $("im-end").disabled = false;
  $("im-readonly").hidden = !ended;
  $("im-readonly").textContent = ended
    ? im.ended_by && im.ended_by.id !== state.me.id
      ? `${im.ended_by.display_name} ended this IM session.`
      : "You ended this IM session."
    : "";
  $("im-error").textContent = "";
}

function sendIm() {
  const im = state.ims.get(state.selectedIm);
  if (!im || im.ended_at) return;
  const textarea = $("im-text");
  const text = textarea.value.replace(/\s+$/, "");
  $("im-error").textContent = "";
  if (!text.trim()) {
    $("im-error").textContent = "A message can't be empty.";
    return;
  }
  if (text.length > maxChars) {
    $("im-error").textContent = `A message can be at most ${maxChars.toLocaleString()} characters; this one has ${text.length.toLocaleString()}.`;
    return;
  }
  const clientId = newClientId();
  const element = imLineElement({ author: state.me.display_name, author_id: state.me.id, text, pending: true });
  $("im-log").append(element);
  element.scrollIntoView({ block: "end" });
  state.pending.set(clientId, { im: im.id, text, element });
  socket.send({ type: "im.send", im: im.id, text, client_id: clientId });
  textarea.value = "";
  state.imDrafts.delete(im.id);
}

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
$("im-end").addEventListener("click", () => {
  if (state.selectedIm === null) return;
  if (send({ type: "im.end", im: state.selectedIm })) $("im-end").disabled = true;
});

const imDialog = $("im-dialog");
let imDialogFor = null;
let focusBeforeImDialog = null;

function newImRequest(im) {
  const who = `${im.with.display_name} (${im.with.staff_id})`;
  announce(`New IM Request from ${who}.`);
  if (state.settings.im_sound) playAlert();
  $("tab-im").classList.toggle("tab-marked", !isTabSelected("tab-im"));
  imDialogFor = im.id;
  $("im-dialog-body").replaceChildren(el("p", {}, el("strong", {}, who), " wants to send you instant messages."));
  if (!imDialog.open) {
    focusBeforeImDialog = document.activeElement;
    imDialog.showModal();
    $("im-dialog-ok").focus();
  }
}

$("im-dialog-ok").addEventListener("click", () => {
  const id = imDialogFor;
  imDialogFor = null;
  imDialog.close();
  selectTab("tab-im");
  if (id !== null && state.ims.has(id)) selectIm(id);
});
imDialog.addEventListener("close", () => {
  if (imDialogFor !== null && focusBeforeImDialog) focusBeforeImDialog.focus();
  imDialogFor = null;
});

document.addEventListener("visibilitychange", () => {
  const im = state.ims.get(state.selectedIm);
  if (im && imIsInView(im.id)) markImRead(im);
});

let imHistoryLoaded = false;
const imHistoryRoot = $("im-history-root");

async function loadImHistory(url) {
  imHistoryLoaded = true;
  imHistoryLoaded = await loadFragment(imHistoryRoot, url);
}

imHistoryRoot.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-history-link]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  loadImHistory(link.href).then(() => imHistoryRoot.querySelector("h2, h3")?.focus());
});
