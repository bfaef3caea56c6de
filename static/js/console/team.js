// Who else is in a session (docs/protocol.md, "Join and watch"): its events,
// Leave Session for a librarian who joined, and for supervisors the Live
// Sessions tab, Watch, Stop Watching and Take Over. The line under the
// session's title and which buttons show are the pane's (chat.js); Invite
// to Join is the Transfer dialog in its join mode (transfer.js).
import { el, formatWait } from "../socket.js";
import { renderActive, renderPane, select, teamNames } from "./chat.js";
import { $ } from "./dom.js";
import { announce, toast } from "./dialogs.js";
import { send, settle } from "./protocol.js";
import * as state from "./state.js";
import { isTabSelected, selectTab, whenTabSelected } from "./tabs.js";

const LIVE_REFRESH_MS = 5000;
const watchKey = (sessionId) => `session.watch:${sessionId}`;
let liveRows = [];
const asked = new Set(); // sessions this console asked to watch: it opens them
let liveShown = null; // what the table shows now, to rebuild it only when that changes
let serverOffset = 0; // the Live Sessions list's server time − browser time, ms

// ---------------------------------------------------------------- Live Sessions

function waited(row) {
  return (Date.now() + serverOffset - Date.parse(row.waiting_since)) / 1000;
}

const isLate = (row) => row.state === "waiting" && typeof row.too_long_after === "number" && waited(row) >= row.too_long_after;

function statusCell(row) {
  if (row.state === "waiting") {
    return [
      "Waiting ",
      el("span", { class: "live-waited", dataset: { since: row.waiting_since } }, formatWait(waited(row))),
      isLate(row) ? " " : null,
      isLate(row) ? el("span", { class: "badge badge-late" }, "waiting too long") : null,
    ];
  }
  return [`Chatting with ${row.primary?.display_name ?? "—"}`];
}

function actionCell(row) {
  if (row.state !== "active" || row.primary?.id === state.myId()) return null;
  const mine = state.activeSession(row.id);
  if (mine && mine.state === "active") {
    return el("button", { type: "button", class: "button", onclick: () => { selectTab("tab-chat"); select(row.id); } }, `Open ${row.patron_name}`);
  }
  return el(
    "button",
    { type: "button", class: "button", "aria-label": `Watch ${row.patron_name}'s chat with ${row.primary?.display_name ?? "a librarian"}`, onclick: () => watch(row.id) },
    "Watch",
  );
}

export function renderLive() {
  const late = liveRows.filter(isLate).length;
  $("live-badge").hidden = late === 0;
  $("live-badge").textContent = late ? `${late} waiting too long` : "";
  if (!isTabSelected("tab-live")) return;
  // Rebuilt only when what it shows changed (a row, a holder, a request
  // turning late); otherwise only the waits tick, so focus and a screen
  // reader's place stay where they are.
  const shown = JSON.stringify(liveRows.map((row) => [row.id, row.state, row.primary?.id, row.team, isLate(row)]));
  if (shown === liveShown) {
    for (const span of document.querySelectorAll("#live-list .live-waited")) {
      span.textContent = formatWait(waited({ waiting_since: span.dataset.since }));
    }
    return;
  }
  liveShown = shown;
  const focused = document.activeElement?.closest?.("#live-list tr")?.dataset.id;
  $("live-list").replaceChildren(
    ...liveRows.map((row) =>
      el(
        "tr",
        { dataset: { id: row.id }, class: isLate(row) ? "live-late" : "" },
        el("th", { scope: "row" }, row.patron_name),
        el("td", {}, row.queue.name),
        el("td", {}, row.library.name),
        el("td", {}, ...statusCell(row)),
        el("td", {}, row.team.length ? teamNames(row.team) : "—"),
        el("td", {}, actionCell(row)),
      ),
    ),
  );
  if (focused) $("live-list").querySelector(`tr[data-id="${focused}"] button`)?.focus();
  $("live-empty").hidden = liveRows.length > 0;
  $("live-table").hidden = liveRows.length === 0;
}

function refreshLive() {
  if (state.canWatch()) send({ type: "live.list" }, { quiet: true, key: "live.list" });
}

function watch(sessionId) {
  const mine = state.activeSession(sessionId);
  if (mine && mine.state === "active") {
    selectTab("tab-chat");
    select(sessionId);
    return;
  }
  send({ type: "session.watch", session: sessionId }, { key: watchKey(sessionId), onError: (error) => toast(error.message) });
  asked.add(sessionId);
}

// ---------------------------------------------------------------- events

export const handlers = {
  "live.sessions"(frame) {
    settle("live.list");
    serverOffset = Date.parse(frame.server_time) - Date.now();
    liveRows = frame.sessions;
    renderLive();
    $("live-updated").textContent = "";
  },
  "watch.started"(frame) {
    const detail = frame.detail;
    settle(watchKey(detail.id));
    state.addActive(detail);
    renderActive();
    if (asked.delete(detail.id)) {
      selectTab("tab-chat");
      select(detail.id);
      announce(`You are watching ${detail.patron_name}'s chat. The patron is not told.`);
    }
  },
  "session.team"(frame) {
    const before = state.activeSession(frame.session);
    if (!before) return;
    const known = new Set((before.team || []).map((p) => p.id));
    const session = state.patchSession(frame.session, { team: frame.team, primary: frame.primary });
    for (const p of frame.team) {
      if (!known.has(p.id) && p.id !== state.myId() && p.role === "joined") announce(`${p.display_name} joined ${session.patron_name}'s chat.`);
    }
    for (const id of known) {
      const gone = (before.team || []).find((p) => p.id === id);
      if (!frame.team.some((p) => p.id === id) && gone && gone.role === "joined" && id !== state.myId() && id !== frame.primary?.id) announce(`${gone.display_name} left ${session.patron_name}'s chat.`);
    }
    renderActive();
    if (state.selectedId() === session.id) renderPane();
  },
  "session.left"(frame) {
    const before = state.activeSession(frame.session);
    if (!before || before.state !== "active") return;
    const role = state.myRole(before);
    const session = state.patchSession(frame.session, { state: "left", left_role: role, left_reason: frame.reason || null });
    renderActive();
    if (state.selectedId() === session.id) renderPane();
    if (frame.reason) announce(`${session.patron_name}: ${frame.reason}`);
    else announce(role === "watching" ? `You stopped watching ${session.patron_name}'s chat.` : `You left ${session.patron_name}'s chat.`);
  },
};

export function initialize() {
  whenTabSelected("tab-live", refreshLive);
  // The list again from the server every 5 s while the tab is open; the
  // waits (and the tab's "waiting too long" badge) tick every second.
  let ticks = 0;
  setInterval(() => {
    if (!state.canWatch() || document.hidden) return;
    ticks += 1;
    if (isTabSelected("tab-live") && ticks % (LIVE_REFRESH_MS / 1000) === 0) refreshLive();
    else renderLive();
  }, 1000);
  $("leave-session").addEventListener("click", () => {
    const id = state.selectedId();
    if (id !== null) send({ type: "session.leave", session: id }, { onError: (error) => toast(error.message) });
  });
  $("unwatch-session").addEventListener("click", () => {
    const id = state.selectedId();
    if (id !== null) send({ type: "session.leave", session: id }, { onError: (error) => toast(error.message) });
  });
  $("take-over-session").addEventListener("click", () => {
    const id = state.selectedId();
    if (id !== null) send({ type: "session.take_over", session: id }, { onError: (error) => toast(error.message) });
  });
}

// The snapshot says whether I am a supervisor: the Live Sessions tab shows.
export function renderLiveTab() {
  $("tab-live").hidden = !state.canWatch();
  if (state.canWatch()) refreshLive();
  else if (isTabSelected("tab-live")) selectTab("tab-chat");
}
