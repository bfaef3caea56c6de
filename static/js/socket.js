// A WebSocket that comes back by itself: backoff with jitter, a status
// callback for "Reconnecting…", and a hook to rebuild the URL (resume point)
// before each attempt. Frames are JSON objects (docs/protocol.md).
import { gettext, interpolate } from "./i18n.js";

const FATAL_CODES = new Set([4403, 4404]);
// The server sends a heartbeat every 10 s. A socket silent for longer than
// this is dead even if the browser hasn't noticed (a network that vanished
// without closing the connection): drop it and reconnect.
const SILENCE_LIMIT_MS = 25000;

// A heartbeat that shows the page behind may only have overtaken an event
// still on its way: pages look again after this long before asking.
export const RECHECK_MS = 1500;

export class ReconnectingSocket {
  constructor({ url, onFrame, onStatus, onFatal }) {
    this.url = url; // a function returning the URL to open now
    this.onFrame = onFrame;
    this.onStatus = onStatus || (() => {});
    this.onFatal = onFatal || (() => {});
    this.attempt = 0;
    this.ws = null;
    this.stopped = false;
    this.connect();
    window.addEventListener("online", () => this.retryNow());
    // The browser knows the network is gone before TCP does: go to
    // "Reconnecting…" at once, and come back the moment it returns.
    window.addEventListener("offline", () => this.drop());
    this.watchdog = setInterval(() => {
      if (this.ws && this.ws.readyState === WebSocket.OPEN && Date.now() - this.lastHeard > SILENCE_LIMIT_MS) {
        this.drop();
      }
    }, 5000);
  }

  drop() {
    if (!this.ws) return;
    const ws = this.ws;
    this.ws = null;
    ws.close();
    this.scheduleReconnect();
  }

  connect() {
    if (this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.onStatus(this.attempt === 0 ? "connecting" : "reconnecting");
    const ws = new WebSocket(`${scheme}//${location.host}${this.url()}`);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.attempt = 0;
      this.lastHeard = Date.now();
      this.onStatus("open");
    });
    ws.addEventListener("message", (event) => {
      this.lastHeard = Date.now();
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.onFrame(frame);
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (FATAL_CODES.has(event.code)) {
        this.stopped = true;
        this.onStatus("closed");
        this.onFatal(event.code);
        return;
      }
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    if (this.stopped) return;
    this.onStatus("reconnecting");
    // 0.5 s, 1 s, 2 s … capped at 15 s, each with up to 50 % random jitter so
    // a restarted server is not hit by every client in the same instant.
    const base = Math.min(15000, 500 * 2 ** this.attempt);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  retryNow() {
    if (this.stopped || (this.ws && this.ws.readyState === WebSocket.OPEN)) return;
    if (this.ws) {
      const stale = this.ws;
      this.ws = null;
      stale.close();
    }
    clearTimeout(this.timer);
    this.connect();
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close();
  }
}

export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Times in the page's language (<html lang>, the patron's), as the browser formats them.
export function formatTime(iso) {
  const locale = document.documentElement.lang || [];
  return new Date(iso).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function formatWait(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const m = Math.floor(s / 60);
  if (!m) return interpolate(gettext("%(seconds)s s"), { seconds: s }, true);
  const parts = { minutes: m, seconds: String(s % 60).padStart(2, "0") };
  return interpolate(gettext("%(minutes)s min %(seconds)s s"), parts, true);
}

// Build an element; children may be strings (always inserted as text, never HTML).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// One line of a chat log. The text goes in as a text node: a line with
// <script> in it shows as those characters.
// `me`: the librarian's name, where colleagues write in the same chat (a
// joined librarian's lines are theirs, not mine).
export function lineElement(line, { viewer, me = null }) {
  const librarians = ["librarian", "note", "page"];
  const mine = (viewer === "patron" && line.kind === "patron") ||
    (viewer === "librarian" && librarians.includes(line.kind) && (me === null || line.author === me));
  const classes = ["line", `line-${line.kind}`];
  if (mine) classes.push("line-mine");
  if (line.pending) classes.push("line-pending");
  const labels = { note: gettext("Librarian Note"), page: gettext("Web page") };
  const label = labels[line.kind] ?? null;
  return el(
    "li",
    { class: classes.join(" "), dataset: { seq: line.seq ?? "", clientId: line.client_id ?? "" } },
    el(
      "div",
      { class: "line-meta" },
      line.kind === "system" ? null : el("span", { class: "line-author" }, line.author),
      label ? el("span", { class: `badge badge-${line.kind}` }, label) : null,
      el("time", { datetime: line.created_at || "" }, line.pending ? gettext("sending…") : formatTime(line.created_at)),
    ),
    line.kind === "page" ? pageCard(line) : el("div", { class: "line-text" }, line.text),
  );
}

// The host a page's address names, or null for one that is no http(s)
// address (the server stores no other; this page checks again anyway).
export function pageHost(url) {
  try {
    const parsed = new URL(url);
    return ["http:", "https:"].includes(parsed.protocol) && parsed.host ? parsed.host : null;
  } catch {
    return null;
  }
}

// A pushed page (docs/protocol.md, "Line"): its title and host, a link that
// opens it in a new tab and tells it nothing of this page. Title and host go
// in as text; an address that isn't http(s) is shown, never linked.
function pageCard(line) {
  const host = pageHost(line.url);
  const body = [
    el("span", { class: "page-title" }, line.text),
    el("span", { class: "page-host" }, host ?? line.url ?? ""),
  ];
  if (!host) return el("div", { class: "line-text page-card" }, ...body);
  return el(
    "div",
    { class: "line-text page-card" },
    el(
      "a",
      { class: "page-link", href: line.url, target: "_blank", rel: "noopener noreferrer" },
      ...body,
      el("span", { class: "visually-hidden" }, ` ${gettext("(opens in a new tab)")}`),
    ),
  );
}

// The code of a line refused only for now (the socket's limit of lines a
// second): its text goes back into the composer, not into the log.
export const TOO_FAST = "too_fast";

// Lines still waiting when a socket comes back go out at a pace the
// server's limit of lines per socket takes (CHAT_LINES_BURST at once, then
// CHAT_LINES_PER_SECOND: 20 and 5 by default): the first ones at once, the
// rest four a second, so a long outage's lines aren't refused as too fast.
const RESEND_AT_ONCE = 10;
const RESEND_EVERY_MS = 250;

// Call `send(item)` for each item, paced as above; `send` checks the item
// is still waiting (an answer may have come meanwhile).
export function sendPaced(items, send) {
  items.forEach((item, i) => {
    if (i < RESEND_AT_ONCE) send(item);
    else setTimeout(() => send(item), (i - RESEND_AT_ONCE + 1) * RESEND_EVERY_MS);
  });
}

// A line the server refused for good (an error with its client_id) stays in
// the log, marked "not sent" with the reason; nothing sends it again, and
// the lines after it go on as if it had never been typed.
export function markNotSent(element, reason) {
  element.classList.remove("line-pending");
  element.classList.add("line-failed");
  const time = element.querySelector("time");
  if (time) time.textContent = gettext("not sent");
  element.append(el("div", { class: "line-reason" }, interpolate(gettext("Not sent: %s"), [reason])));
}

// Where a refused line goes: back into an empty composer (`put(text)`,
// returning false when the person has typed something else meanwhile), or
// marked "not sent" in the log. Returns true if it went back.
export function lineRefusedPut(error, pending, put) {
  if (error.code === TOO_FAST && put(pending.text)) {
    pending.element.remove();
    return true;
  }
  markNotSent(pending.element, error.message);
  return false;
}

export function playAlert() {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    playAlert.ctx = playAlert.ctx || new Ctx();
    const ctx = playAlert.ctx;
    const now = ctx.currentTime;
    [880, 1175].forEach((freq, i) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.25, now + i * 0.18 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.18 + 0.16);
      osc.connect(gain).connect(ctx.destination);
      osc.start(now + i * 0.18);
      osc.stop(now + i * 0.18 + 0.17);
    });
  } catch {
    // No audio device: the popup and the tab mark still tell the librarian.
  }
}
