// The console's socket (docs/protocol.md, console socket): one
// ReconnectingSocket, the table that sends each frame to its module's
// handler, and errors routed by the ref of the request they are about.
//
// Every frame the console sends carries a fresh `ref`, which the server
// echoes in an `error` about that frame. A sender that has something to do
// with its own error (a dialog's error line, a line back into its composer)
// passes `onError`; an error whose ref has no handler is shown as a toast.
// A handler is forgotten when its error arrives, when its success is heard
// (`settle`, where the sender can tell the answer to its request), when the
// socket that carried the frame closes (no answer can come on the next one),
// and otherwise after REF_TTL_MS.
import { sessionEnded } from "../idle.js";
import { ReconnectingSocket } from "../socket.js";
import { $ } from "./dom.js";
import { toast } from "./dialogs.js";

// The librarian typed or clicked here: their login lasts a whole idle time
// (accounts/logins.py). False when the socket is not open.
export function reportActivity() {
  return Boolean(socket && socket.send({ type: "console.active" }));
}

// The server answers in milliseconds; an error this late is not coming.
const REF_TTL_MS = 30000;

let socket = null;
const handlers = new Map(); // frame type → function(frame)
const watchers = []; // called with every frame, before its handler
const waiting = new Map(); // ref → {onError, key, timer}
const refOfKey = new Map(); // the sender's name for a request → its ref
let lastRef = 0;

// Adds {type: handler(frame)} to the table; one handler per type.
export function handle(table) {
  for (const [type, handler] of Object.entries(table)) {
    if (handlers.has(type) || type === "error") throw new Error(`a second handler for ${type}`);
    handlers.set(type, handler);
  }
}

export function watch(watcher) {
  watchers.push(watcher);
}

// Opens the socket; `onOpen` runs each time it (re)opens.
export function connect({ onOpen }) {
  socket = new ReconnectingSocket({
    url: () => "/ws/console/",
    onFrame: dispatch,
    onStatus: (status) => {
      // "Connected" waits for the snapshot: until then the screen is not in sync.
      const words = { connecting: "Connecting…", reconnecting: "Reconnecting…", open: "Syncing…", closed: "Disconnected" };
      $("connection").textContent = words[status] ?? "";
      $("connection").classList.toggle("connection-lost", status === "reconnecting" || status === "closed");
      if (status === "open") onOpen();
      else forgetAll();
    },
    // 4403: the login ended (log-out anywhere, idle time, deactivation, a
    // removed membership): no retry, the word and the way back to log in.
    onFatal: () => {
      $("connection").textContent = "Disconnected";
      sessionEnded();
    },
  });
}

// Sends `frame` with a fresh ref; returns the ref, or null when the socket
// is not open (with a toast saying so, unless `quiet`: lines wait and go
// again when it is back). `onError(errorFrame)` handles the server's error
// about this frame; `key` names the request so that `settle(key)` can
// forget it, and a later request with the same key replaces it; `ttl` null
// keeps the handler until the request is settled, answered or its socket
// closes.
export function send(frame, { onError = null, key = null, quiet = false, ttl = REF_TTL_MS } = {}) {
  lastRef += 1;
  const ref = `r${lastRef}`;
  if (!socket || !socket.send({ ...frame, ref })) {
    if (!quiet) toast("Not connected. Reconnecting…");
    return null;
  }
  if (onError) {
    if (key !== null) {
      if (refOfKey.has(key)) forget(refOfKey.get(key));
      refOfKey.set(key, ref);
    }
    const timer = ttl === null ? null : setTimeout(() => forget(ref), ttl);
    waiting.set(ref, { onError, key, timer });
  }
  return ref;
}

// The request named `key` succeeded: no error will come for it.
export function settle(key) {
  const ref = refOfKey.get(key);
  if (ref !== undefined) forget(ref);
}

function forget(ref) {
  const entry = waiting.get(ref);
  if (!entry) return;
  waiting.delete(ref);
  clearTimeout(entry.timer);
  if (entry.key !== null && refOfKey.get(entry.key) === ref) refOfKey.delete(entry.key);
}

function forgetAll() {
  for (const ref of [...waiting.keys()]) forget(ref);
}

function dispatch(frame) {
  for (const watcher of watchers) watcher(frame);
  if (frame.type === "error") {
    routeError(frame);
    return;
  }
  const handler = handlers.get(frame.type);
  if (handler) handler(frame);
}

function routeError(frame) {
  const entry = frame.ref === undefined ? undefined : waiting.get(frame.ref);
  if (!entry) {
    toast(frame.message);
    return;
  }
  forget(frame.ref);
  entry.onError(frame);
}
