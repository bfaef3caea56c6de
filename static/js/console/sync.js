// The heartbeat's digest against what this console shows (docs/protocol.md,
// console digest). Anything missing or behind means an event was lost (a
// server restart, a network blip): ask for a fresh snapshot.
import { RECHECK_MS } from "../socket.js";
import { send } from "./protocol.js";
import * as state from "./state.js";

// When each thing a heartbeat's digest lists last changed here ("session:12",
// "offer:3", "im:4", "librarian:7"), and when the last snapshot came: a
// difference in something an event changed around the time the heartbeat
// came (the digest was computed a moment before it was sent) is that event,
// not a lost one, and no reason for a whole snapshot.
const changedAt = new Map();
let snapshotAt = 0;

// Watches every frame (protocol.watch), before its handler.
export function noteChange(frame) {
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

// Whether this console shows what the heartbeat's digest says, leaving out
// anything that changed here after `since` (performance.now()).
function digestMatches(d, since = Infinity) {
  const settled = (kind, id) => snapshotAt <= since && (changedAt.get(`${kind}:${id}`) ?? 0) <= since;
  const sameSet = (kind, mine, theirs) => {
    const a = new Set(mine);
    const b = new Set(theirs.map(Number));
    for (const id of a) if (!b.has(id) && settled(kind, id)) return false;
    for (const id of b) if (!a.has(id) && settled(kind, id)) return false;
    return true;
  };
  if (!sameSet("session", state.waitingIds(), d.waiting)) return false;
  const active = state.activeSessions().filter((s) => s.state === "active");
  if (!sameSet("session", active.map((s) => s.id), Object.keys(d.active))) return false;
  for (const s of active) if (String(s.id) in d.active && s.last_seq < d.active[s.id]) return false;
  const ims = state.imSessions().filter((im) => !im.ended_at);
  if (!sameSet("im", ims.map((im) => im.id), Object.keys(d.ims))) return false;
  for (const im of ims) if (String(im.id) in d.ims && im.last_seq < d.ims[im.id]) return false;
  if (!sameSet("offer", state.offerIds(), d.offers)) return false;
  return sameSet("librarian", state.librarianIds(), d.librarians);
}

let syncAsked = 0;
export function askSync() {
  if (Date.now() - syncAsked < 2000) return;
  syncAsked = Date.now();
  send({ type: "console.sync" }, { quiet: true });
}

export const handlers = {
  "console.heartbeat"(frame) {
    // A difference may be an event still on its way, or one that overtook
    // the heartbeat: look again in a moment, leaving out what events changed
    // from shortly before the heartbeat on.
    if (digestMatches(frame)) return;
    const since = performance.now() - RECHECK_MS;
    setTimeout(() => digestMatches(frame, since) || askSync(), RECHECK_MS);
  },
};
