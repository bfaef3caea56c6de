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
    socket.send({ type: "message.send", session: pending.session, text: pending.text, client_id: clientId });
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

async function loadHistory(url) {
  historyLoaded = true;
  const target = new URL(url, location.origin);
  target.searchParams.set("fragment", "1");
  try {
    const response = await fetch(target, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    if (!response.ok) throw new Error(String(response.status));
    // The server renders this fragment with Django's escaping: lines are text.
    historyRoot.innerHTML = await response.text();
    historyRoot.querySelector("h2, h3")?.setAttribute("tabindex", "-1");
  } catch {
    historyRoot.replaceChildren(el("p", { class: "error" }, "Chat History could not be loaded. Try again."));
    historyLoaded = false;
  }
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
