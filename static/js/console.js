// The librarian's console: monitoring, New, My Active, Patron Chat, Chat
// History and Settings. Protocol: docs/protocol.md (console socket).
import {
  RECHECK_MS,
  ReconnectingSocket,
  el,
  formatTime,
  formatWait,
  lineElement,
  newClientId,
  playAlert,
} from "./socket.js";

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
  offers: new Map(), // id → open transfer offer I sent or received
  transfer: null, // the Transfer dialog: {session, target: librarian id | "queue", targets: rows}
  dialogIm: null, // an IM typed in the Transfer dialog, waiting for its IM session
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
  noteChange(frame);
  const handler = handlers[frame.type];
  if (handler) handler(frame);
}

// When each thing a heartbeat's digest lists last changed here ("session:12",
// "offer:3", "im:4", "librarian:7"), and when the last snapshot came: a
// difference in something an event changed around the time the heartbeat
// came (the digest was computed a moment before it was sent) is that event,
// not a lost one, and no reason for a whole snapshot.
const changedAt = new Map();
let snapshotAt = 0;

function noteChange(frame) {
  const now = performance.now();
  if (frame.type === "console.snapshot") {
    snapshotAt = now;
    return;
  }
  // A line only raises a number, which the digest compares as "at least".
  if (frame.type.startsWith("message.") || frame.type.startsWith("im.message.")) return;
  const idOf = (x) => (x !== null && typeof x === "object" ? x.id : x);
  const mark = (kind, x) => {
    const id = idOf(x);
    if (typeof id === "number") changedAt.set(`${kind}:${id}`, now);
  };
  mark("session", frame.session);
  if (frame.detail) mark("session", frame.detail);
  if (frame.offer) {
    mark("offer", frame.offer);
    mark("session", frame.offer.session);
  }
  mark("im", frame.im);
  mark("librarian", frame.librarian);
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
    state.offers = new Map(frame.offers.map((offer) => [offer.id, offer]));
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
    for (const offer of state.offers.values()) if (offer.receiver.id === state.me.id) showOffer(offer);
    $("monitoring-status").textContent = monitoredCount()
      ? `Monitoring ${monitoredCount()} of ${state.queues.length}.`
      : "Not monitoring any queue.";
  },
  "session.created"(frame) {
    const row = frame.session;
    state.waiting.set(row.id, row);
    renderNew();
    // No alarm for the session I just returned to the queue myself.
    if (!(row.transfer && row.transfer.from_id === state.me?.id)) alertNewRequest(row);
  },
  "session.accepted"(frame) {
    const row = state.waiting.get(frame.session);
    state.waiting.delete(frame.session);
    renderNew();
    const mine = state.me && frame.librarian.id === state.me.id;
    // My pick-up arrives twice: from the queue (the row leaves New) and to
    // me with the whole session; only the second one opens it.
    if (mine && !frame.detail) return;
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
      if (frame.closed_by === "system") announce(`${session.patron_name}'s chat ended: the connection was lost.`);
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
      socket.send({ type: "session.fetch", session: session.id });
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
    setPresence(frame.session, false, frame.grace_until);
  },
  "console.heartbeat"(frame) {
    // A difference may be an event still on its way, or one that overtook
    // the heartbeat: look again in a moment, leaving out what events changed
    // from shortly before the heartbeat on.
    if (digestMatches(frame)) return;
    const since = performance.now() - RECHECK_MS;
    setTimeout(() => digestMatches(frame, since) || askSync(), RECHECK_MS);
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
    if (state.dialogIm && im.started_by_me && im.with.id === state.dialogIm.librarian) {
      // Opened (or reused) from the Transfer dialog: send the line typed there.
      const { text } = state.dialogIm;
      state.dialogIm = null;
      sendImLine(im.id, text);
      renderTransferDialog();
      return;
    }
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
    if (line.seq > im.last_seq + 1) askSync(); // a line went missing on the way
    addImLine(im, line);
    if (state.transfer && state.transfer.target === im.with.id) renderTransferDialog();
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
  "transfer.targets"(frame) {
    if (!state.transfer || state.transfer.session !== frame.session) return;
    state.transfer.targets = frame.librarians;
    state.transfer.queue = frame.queue;
    renderTransferDialog();
  },
  "transfer.offered"(frame) {
    const offer = frame.offer;
    state.offers.set(offer.id, offer);
    if (offer.receiver.id === state.me.id) {
      showOffer(offer);
    } else {
      announce(`Transfer offered to ${offer.receiver.display_name}. Waiting for an answer.`);
      refreshOfferViews(offer.session.id);
    }
  },
  "transfer.accepted"(frame) {
    const offer = frame.offer;
    state.offers.delete(offer.id);
    if (offer.receiver.id === state.me.id) {
      closeOfferDialog(offer.id);
      if (frame.detail) {
        addActive(frame.detail);
        renderActive();
        selectTab("tab-chat");
        select(offer.session.id);
        announce(`You took ${offer.session.patron_name}'s session from ${offer.sender.display_name}.`);
      }
      return;
    }
    const session = state.active.get(offer.session.id);
    if (session) {
      if (frame.line) session.lines.set(frame.line.seq, frame.line);
      session.state = "transferred";
      session.transferred_to = offer.receiver.display_name;
    }
    announce(`${offer.receiver.display_name} took ${offer.session.patron_name}'s session.`);
    toast(`${offer.receiver.display_name} took ${offer.session.patron_name}'s session.`);
    refreshOfferViews(offer.session.id);
  },
  "transfer.declined"(frame) {
    offerEnded(frame.offer, `${frame.offer.receiver.display_name} declined the transfer. ${frame.offer.session.patron_name}'s session stays with you.`);
  },
  "transfer.expired"(frame) {
    offerEnded(frame.offer, `${frame.offer.receiver.display_name} did not answer in time. ${frame.offer.session.patron_name}'s session stays with you.`);
  },
  "transfer.cancelled"(frame) {
    offerEnded(frame.offer, frame.reason ? `Transfer cancelled: ${frame.reason}` : "The transfer was cancelled.");
  },
  "session.requeued"(frame) {
    const session = state.active.get(frame.session);
    if (session) session.state = "requeued";
    refreshOfferViews(frame.session);
    if (transferDialog.open && state.transfer?.session === frame.session) {
      $("transfer-status").textContent = "Returned to the queue. Close this dialog.";
    }
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
    if (transferDialog.open) {
      $("transfer-error").textContent = frame.message;
      state.dialogIm = null;
      $("transfer-send").disabled = !state.transfer?.target;
      return;
    }
    if (offerDialog.open && offerAnswering) {
      // OK or Decline came too late (expired, cancelled, the patron left):
      // nothing changed; say so and put the box away.
      offerAnswering = false;
      state.offers.delete(offerShown);
      closeOfferDialog(offerShown);
      toast(frame.message);
      announce(frame.message);
      return;
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

function setPresence(id, present, graceUntil) {
  const row = state.waiting.get(id);
  if (row) {
    row.patron_present = present;
    renderNew();
  }
  const session = state.active.get(id);
  if (session) {
    session.patron_present = present;
    session.grace_until = present ? null : graceUntil;
    if (state.selected === id) renderPresence(session);
    renderActive();
    announce(present ? `${session.patron_name} is back.` : `${session.patron_name} is disconnected.`);
  }
}

// The heartbeat's digest against what this console shows. Anything missing
// or behind means an event was lost (a server restart, a network blip):
// ask for a fresh snapshot.
// Whether this console shows what the heartbeat's digest says, leaving out
// anything that changed here after ``since`` (performance.now()).
function digestMatches(d, since = Infinity) {
  const settled = (kind, id) => snapshotAt <= since && (changedAt.get(`${kind}:${id}`) ?? 0) <= since;
  const sameSet = (kind, mine, theirs) => {
    const a = new Set(mine);
    const b = new Set(theirs.map(Number));
    for (const id of a) if (!b.has(id) && settled(kind, id)) return false;
    for (const id of b) if (!a.has(id) && settled(kind, id)) return false;
    return true;
  };
  if (!sameSet("session", [...state.waiting.keys()], d.waiting)) return false;
  const active = [...state.active.values()].filter((s) => s.state === "active");
  if (!sameSet("session", active.map((s) => s.id), Object.keys(d.active))) return false;
  for (const s of active) if (String(s.id) in d.active && s.last_seq < d.active[s.id]) return false;
  const ims = [...state.ims.values()].filter((im) => !im.ended_at);
  if (!sameSet("im", ims.map((im) => im.id), Object.keys(d.ims))) return false;
  for (const im of ims) if (String(im.id) in d.ims && im.last_seq < d.ims[im.id]) return false;
  if (!sameSet("offer", [...state.offers.keys()], d.offers)) return false;
  return sameSet("librarian", [...state.librarians.keys()], d.librarians);
}

let syncAsked = 0;
function askSync() {
  if (Date.now() - syncAsked < 2000) return;
  syncAsked = Date.now();
  socket.send({ type: "console.sync" });
}

function monitoredCount() {
  return state.queues.filter((q) => q.monitoring).length;
}

function resendPending() {
  for (const [clientId, pending] of state.pending) {
    if (pending.im) socket.send({ type: "im.send", im: pending.im, text: pending.text, client_id: clientId });
    else socket.send({ type: "message.send", session: pending.session, text: pending.text, client_id: clientId, note: Boolean(pending.note) });
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

// Tab and Shift+Tab go round inside an open popup. showModal() makes the page
// behind inert, but Chromium lets Tab leave the page for its own toolbar, and
// a keyboard user would then have to find the way back into the popup.
function tabbables(container) {
  return [...container.querySelectorAll("button, [href], input, select, textarea, [tabindex]")].filter(
    (node) => !node.disabled && node.tabIndex >= 0 && node.getClientRects().length > 0,
  );
}

for (const popup of document.querySelectorAll("dialog")) {
  popup.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const nodes = tabbables(popup);
    if (!nodes.length) return;
    const first = nodes[0];
    const last = nodes[nodes.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });
}

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
  return (Date.now() + state.clockOffset - Date.parse(row.waiting_since || row.created_at)) / 1000;
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
            "aria-label": `Pick up ${row.patron_name}${row.transfer ? " (Transfer)" : ""}, waited ${formatWait(waitedSeconds(row))}: ${row.question_preview}`,
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
            s.state === "transferred" || s.state === "requeued" ? el("span", { class: "badge" }, "transferred") : null,
            s.state === "active" && !s.patron_present ? el("span", { class: "badge badge-warn" }, "left") : null,
            s.state === "active" && offerOf(s.id) ? el("span", { class: "badge badge-transfer" }, "offered") : null,
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
  const gone = session.state !== "active"; // ended, transferred, or returned to the queue
  $("composer").hidden = gone;
  $("end-session").hidden = gone;
  $("end-session").disabled = false;
  $("transfer-session").hidden = gone;
  $("dismiss-session").hidden = !gone;
  $("session-readonly").hidden = !gone;
  $("session-readonly").textContent = {
    closed: {
      patron: "The patron ended this chat session.",
      system: "The patron's connection was lost for too long: the chat session ended.",
    }[session.closed_by] || "This chat session has ended.",
    transferred: `${session.transferred_to} took this session. It is read-only for you now.`,
    requeued: "You returned this session to the queue. It is read-only for you now.",
  }[session.state] || "";
  renderOfferStatus(session);
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
  const note = $("composer-note").checked;
  const element = lineElement(
    { kind: note ? "note" : "librarian", author: state.me.display_name, text, client_id: clientId, pending: true },
    { viewer: "librarian" },
  );
  $("session-log").append(element);
  element.scrollIntoView({ block: "end" });
  state.pending.set(clientId, { session: session.id, text, element, note });
  socket.send({ type: "message.send", session: session.id, text, client_id: clientId, note });
  textarea.value = "";
  state.drafts.delete(session.id);
}

$("composer-note").addEventListener("change", () => {
  const note = $("composer-note").checked;
  $("composer").classList.toggle("composer-note", note);
  $("composer-text").placeholder = note
    ? "Librarian Note: only librarians see it, never the patron"
    : "Type a message and press Enter";
  $("composer-send").textContent = note ? "Add Note" : "Send";
  $("composer-label").textContent = note ? "Librarian Note" : "Message to the patron";
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
  sendImLine(im.id, text);
  textarea.value = "";
  state.imDrafts.delete(im.id);
}

function sendImLine(imId, text) {
  const clientId = newClientId();
  const element = imLineElement({ author: state.me.display_name, author_id: state.me.id, text, pending: true });
  if (state.selectedIm === imId) {
    $("im-log").append(element);
    element.scrollIntoView({ block: "end" });
  }
  state.pending.set(clientId, { im: imId, text, element });
  socket.send({ type: "im.send", im: imId, text, client_id: clientId });
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

// ---------------------------------------------------------------- transfers

const transferDialog = $("transfer-dialog");
const offerDialog = $("offer-dialog");
let offerShown = null; // the offer the New Transferred Chat Session box shows
let offerAnswering = false; // OK or Decline sent, answer not yet heard
let focusBeforeTransfer = null;
let focusBeforeOffer = null;

function offerOf(sessionId) {
  return [...state.offers.values()].find((o) => o.session.id === sessionId && o.sender.id === state.me?.id);
}

function secondsLeft(offer) {
  return Math.max(0, Math.round((Date.parse(offer.expires_at) - Date.now() - state.clockOffset) / 1000));
}

function renderOfferStatus(session) {
  const offer = offerOf(session.id);
  $("session-offer").textContent = offer
    ? `Transfer offered to ${offer.receiver.display_name}: waiting for an answer (${secondsLeft(offer)} s left).`
    : "";
}

function refreshOfferViews(sessionId) {
  renderActive();
  if (state.selected === sessionId) renderPane();
  if (state.transfer && state.transfer.session === sessionId) renderTransferDialog();
}

function offerEnded(offer, message) {
  state.offers.delete(offer.id);
  if (offer.receiver.id === state.me.id) {
    if (offerShown === offer.id) {
      closeOfferDialog(offer.id);
      toast(`${offer.sender.display_name}'s transfer of ${offer.session.patron_name} is no longer open.`);
    }
    return;
  }
  announce(message);
  toast(message);
  refreshOfferViews(offer.session.id);
}

setInterval(() => {
  if (state.selected !== null && state.active.get(state.selected)) renderOfferStatus(state.active.get(state.selected));
  if (transferDialog.open) renderTransferStatus();
  if (offerDialog.open && offerShown !== null && state.offers.get(offerShown)) {
    $("offer-countdown").textContent = `${secondsLeft(state.offers.get(offerShown))} s left to answer.`;
  }
}, 1000);

$("transfer-session").addEventListener("click", () => {
  const session = state.active.get(state.selected);
  if (!session || session.state !== "active") return;
  state.transfer = { session: session.id, target: null, targets: null, queue: session.queue };
  $("transfer-note").value = "";
  $("transfer-im-text").value = "";
  $("transfer-error").textContent = "";
  send({ type: "transfer.targets", session: session.id });
  renderTransferDialog();
  focusBeforeTransfer = document.activeElement;
  transferDialog.showModal();
  $("transfer-close").focus();
});

function pickTarget(target) {
  state.transfer.target = target;
  $("transfer-error").textContent = "";
  renderTransferDialog();
  if (target !== "queue") $("transfer-im-text").focus();
}

function renderTransferDialog() {
  const t = state.transfer;
  if (!t) return;
  const session = state.active.get(t.session);
  $("transfer-patron").textContent = session
    ? `${session.patron_name} · ${session.library.name} · ${session.queue.name}`
    : "";
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
            onclick: () => pickTarget(row.id),
          },
          el("span", { class: "row-top" }, el("strong", {}, `${row.display_name} (${row.staff_id})`)),
          el("span", { class: "row-meta" }, `Active: ${row.active} · ${homeLabel(row)}`),
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
    ? `IM ${person.display_name} to ask whether they can take the session now.`
    : t.target === "queue"
      ? "The session goes back under New for the queue's monitors, marked (Transfer), with your note."
      : "Pick a librarian to ask whether they can take the session.";
  const im = person && [...state.ims.values()].find((i) => !i.ended_at && i.with.id === person.id);
  if (im && transferDialog.open && !document.hidden) markImRead(im);
  const lines = im ? [...im.lines.values()].sort((a, b) => a.seq - b.seq) : [];
  $("transfer-im-log").replaceChildren(...lines.map(imLineElement));
  $("transfer-im-log").hidden = !person;
  $("transfer-im-log").lastElementChild?.scrollIntoView({ block: "end" });
  renderTransferStatus();
}

function renderTransferStatus() {
  const t = state.transfer;
  const session = t && state.active.get(t.session);
  const offer = t && offerOf(t.session);
  const settled = !session || session.state !== "active";
  $("transfer-send").disabled = !t?.target || Boolean(offer) || settled;
  $("transfer-cancel-offer").hidden = !offer;
  if (offer) {
    $("transfer-status").textContent = `Transfer offered to ${offer.receiver.display_name}: waiting for an answer (${secondsLeft(offer)} s left). You keep the session until they click OK.`;
  } else if (session && session.state === "transferred") {
    $("transfer-status").textContent = `${session.transferred_to} took the session.`;
  } else if (!$("transfer-status").textContent.startsWith("Returned")) {
    $("transfer-status").textContent = "";
  }
}

$("transfer-queue-target").addEventListener("click", () => pickTarget("queue"));

$("transfer-im-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const t = state.transfer;
  const text = $("transfer-im-text").value.trim();
  if (!t || typeof t.target !== "number" || !text) return;
  // Opening (or reusing) the IM session with the session id links the two:
  // these IM lines also go into the Chat History as Librarian Notes.
  state.dialogIm = { librarian: t.target, text };
  if (send({ type: "im.open", librarian: t.target, session: t.session })) $("transfer-im-text").value = "";
});

$("transfer-send").addEventListener("click", () => {
  const t = state.transfer;
  if (!t || !t.target) return;
  const note = $("transfer-note").value;
  $("transfer-error").textContent = "";
  const frame =
    t.target === "queue"
      ? { type: "transfer.to_queue", session: t.session, note }
      : { type: "transfer.offer", session: t.session, librarian: t.target, note };
  if (send(frame)) $("transfer-send").disabled = true;
});

$("transfer-cancel-offer").addEventListener("click", () => {
  const offer = state.transfer && offerOf(state.transfer.session);
  if (offer) send({ type: "transfer.cancel", offer: offer.id });
});

$("transfer-close").addEventListener("click", () => transferDialog.close());
transferDialog.addEventListener("close", () => {
  state.transfer = null;
  $("transfer-status").textContent = "";
  focusBeforeTransfer?.focus();
});

function showOffer(offer) {
  if (offerDialog.open && offerShown !== offer.id) return; // one at a time; the rest wait in state
  offerShown = offer.id;
  announce(`New Transferred Chat Session from ${offer.sender.display_name}: ${offer.session.patron_name}.`);
  if (state.settings.alert_sound) playAlert();
  $("offer-error").textContent = "";
  $("offer-dialog-body").replaceChildren(
    el("p", {}, el("strong", {}, offer.sender.display_name), ` (${offer.sender.staff_id}) wants to transfer a patron to you.`),
    el(
      "dl",
      { class: "facts" },
      el("dt", {}, "Patron"),
      el("dd", {}, offer.session.patron_name),
      el("dt", {}, "Library"),
      el("dd", {}, `${offer.session.library.name} · ${offer.session.queue.name}`),
      el("dt", {}, "Question"),
      el("dd", {}, offer.session.question),
      el("dt", {}, "Note"),
      el("dd", {}, offer.note || "—"),
    ),
    el("p", { class: "muted small", id: "offer-countdown" }, `${secondsLeft(offer)} s left to answer.`),
  );
  $("offer-ok").disabled = false;
  $("offer-decline").disabled = false;
  if (!offerDialog.open) {
    focusBeforeOffer = document.activeElement;
    offerDialog.showModal();
    $("offer-ok").focus();
  }
}

function closeOfferDialog(offerId) {
  if (offerShown !== offerId) return;
  offerShown = null;
  offerAnswering = false;
  if (offerDialog.open) offerDialog.close();
  // The next open offer to me, if any, takes its place.
  const next = [...state.offers.values()].find((o) => o.receiver.id === state.me.id);
  if (next) showOffer(next);
}

$("offer-ok").addEventListener("click", () => {
  if (offerShown === null) return;
  if (send({ type: "transfer.accept", offer: offerShown })) {
    offerAnswering = true;
    $("offer-ok").disabled = true;
    $("offer-decline").disabled = true;
  }
});
$("offer-decline").addEventListener("click", () => {
  if (offerShown === null) return;
  if (send({ type: "transfer.decline", offer: offerShown })) {
    offerAnswering = true;
    $("offer-ok").disabled = true;
    $("offer-decline").disabled = true;
  }
});
offerDialog.addEventListener("cancel", (event) => {
  // Escape leaves the offer open (it still expires); the box closes for now.
  offerShown = null;
  event.stopPropagation();
});
offerDialog.addEventListener("close", () => {
  if (focusBeforeOffer && document.activeElement === document.body) focusBeforeOffer.focus();
});
