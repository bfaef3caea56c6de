// What the console knows: the server's snapshot as events have changed it,
// and what the librarian has selected or typed. Owned here alone: other
// modules read it through these functions and change it only through them.
// The records handed out (session rows and details, IM sessions, offers,
// librarian rows) are frozen; a change replaces the record, so read it again
// by id after changing it. A popup's own passing details (what it shows,
// where focus goes back to) stay in that popup's module.

const state = {
  me: null,
  settings: Object.freeze({ alert_sound: true, alert_popup: true }),
  status: "available", // Available, Busy or Away, as I set it
  maxSessions: null, // my own maximum of active chats (null: each queue's busy_at)
  canWatch: false, // a supervisor: the Live Sessions tab, Watch and Take Over
  clockOffset: 0, // server time − browser time, ms
  queues: [],
  myQueues: new Set(), // ids of the queues I monitor
  waiting: new Map(), // id → session row (New)
  accepting: new Set(), // ids I asked to pick up, answer not yet heard
  active: new Map(), // id → session detail + lines: Map(seq → line) (My Active)
  selected: null,
  drafts: new Map(),
  unread: new Map(),
  pending: new Map(), // client_id → {session, text, element, note} or {im, text, element}
  librarians: new Map(), // id → Librarians list row
  sort: Object.freeze({ key: "name", dir: 1 }),
  ims: new Map(), // id → IM session + lines: Map(seq → line)
  selectedIm: null,
  imDrafts: new Map(),
  imOpening: null, // the librarian id this console asked to IM
  offers: new Map(), // id → open transfer offer I sent or received
  transfer: null, // the Transfer dialog: {session, target: librarian id | "queue", targets: rows, queue}
  dialogIm: null, // an IM typed in the Transfer dialog, waiting for its IM session: {librarian, text}
  pageDrafts: new Map(), // session id → {url, title} typed in Push a Page, not pushed
  pagePush: null, // the page sent and not yet answered: {session, url, title, clientId}
};

const { freeze } = Object;

// ---------------------------------------------------------------- snapshot

export function applySnapshot(frame) {
  state.clockOffset = Date.parse(frame.server_time) - Date.now();
  state.me = freeze(frame.me);
  state.settings = freeze(frame.settings);
  state.status = frame.status;
  state.maxSessions = frame.max_sessions;
  state.canWatch = Boolean(frame.can_watch);
  state.queues = frame.queues.map(freeze);
  state.myQueues = new Set(frame.queues.filter((q) => q.monitoring).map((q) => q.id));
  state.librarians = new Map(frame.librarians.map((row) => [row.id, freeze(row)]));
  // The IM session on screen stays, ended or not, until another is selected.
  const keptIm = state.ims.get(state.selectedIm);
  state.ims = new Map();
  for (const im of frame.ims) addIm(im);
  if (keptIm && !state.ims.has(keptIm.id)) state.ims.set(keptIm.id, keptIm);
  state.offers = new Map(frame.offers.map((offer) => [offer.id, freeze(offer)]));
  state.waiting = new Map(frame.waiting.map((row) => [row.id, freeze(row)]));
  // Ended sessions stay under My Active until removed from there.
  const ended = [...state.active.values()].filter((s) => s.state === "closed");
  state.active = new Map();
  for (const detail of frame.active) addActive(detail);
  for (const s of ended) if (!state.active.has(s.id)) state.active.set(s.id, s);
  if (state.selected && !state.active.has(state.selected)) state.selected = null;
}

// ---------------------------------------------------------------- me, settings, clock

export const me = () => state.me;
export const myId = () => state.me?.id;
export const settings = () => state.settings;

export function setSettings(value) {
  state.settings = freeze(value);
}

export const myStatus = () => state.status;

export function setMyStatus(status) {
  state.status = status;
}

// Whether a new request of this queue alerts me: Available and below my
// maximum (mine, or the queue's busy_at), as the server decides a pick-up.
export function canTakeFrom(queueId) {
  if (state.status !== "available") return false;
  const queue = state.queues.find((q) => q.id === queueId);
  const limit = state.maxSessions || queue?.busy_at || Infinity;
  const held = [...state.active.values()].filter((s) => s.state === "active" && myRole(s) === "primary").length;
  return held < limit;
}

export const canWatch = () => state.canWatch;

// What I am in a session under My Active: "primary" (I hold it), "joined"
// (a colleague invited me) or "watching" (a supervisor, read-only).
export function myRole(session) {
  if (session.primary?.id === state.me?.id) return "primary";
  return (session.team || []).find((p) => p.id === state.me?.id)?.role || "primary";
}

// Now on the server's clock, ms.
export const serverNow = () => Date.now() + state.clockOffset;

// ---------------------------------------------------------------- queues

export const queues = () => state.queues;
export const monitoredCount = () => state.queues.filter((q) => q.monitoring).length;
export const sharesAQueueWithMe = (queueIds) => queueIds.some((q) => state.myQueues.has(q));

// ---------------------------------------------------------------- New

export const waitingRows = () => [...state.waiting.values()];
export const waitingIds = () => [...state.waiting.keys()];
export const waitingRow = (id) => state.waiting.get(id);

export function putWaiting(row) {
  state.waiting.set(row.id, freeze(row));
}

// Whether it was there.
export function removeWaiting(id) {
  return state.waiting.delete(id);
}

// The changed row, or undefined when the session isn't waiting.
export function patchWaiting(id, fields) {
  const row = state.waiting.get(id);
  if (!row) return undefined;
  const changed = freeze({ ...row, ...fields });
  state.waiting.set(id, changed);
  return changed;
}

export const isAccepting = (id) => state.accepting.has(id);

export function setAccepting(id, accepting) {
  if (accepting) state.accepting.add(id);
  else state.accepting.delete(id);
}

// ---------------------------------------------------------------- My Active

export const activeSessions = () => [...state.active.values()];
export const activeSession = (id) => state.active.get(id);

export function addActive(detail) {
  const lines = new Map();
  for (const line of detail.messages) lines.set(line.seq, line);
  state.active.set(detail.id, freeze({ ...detail, messages: undefined, lines }));
}

// A fresh session detail for a session under My Active: its lines join the
// ones known (the caller adds them first), the rest replaces.
export function mergeDetail(detail) {
  const session = state.active.get(detail.id);
  if (!session) return;
  state.active.set(detail.id, freeze({ ...session, ...detail, messages: undefined, lines: session.lines }));
}

// The changed session, or undefined when it isn't under My Active.
export function patchSession(id, fields) {
  const session = state.active.get(id);
  if (!session) return undefined;
  const changed = freeze({ ...session, ...fields });
  state.active.set(id, changed);
  return changed;
}

// Whether the line is new to this session.
export function addSessionLine(id, line) {
  const session = state.active.get(id);
  if (!session || session.lines.has(line.seq)) return false;
  session.lines.set(line.seq, line);
  patchSession(id, { last_seq: Math.max(session.last_seq, line.seq) });
  return true;
}

export function removeActive(id) {
  state.active.delete(id);
  state.drafts.delete(id);
}

export const selectedId = () => state.selected;

export function setSelected(id) {
  state.selected = id;
}

export const draftOf = (id) => state.drafts.get(id) || "";

export function setDraft(id, text) {
  if (text) state.drafts.set(id, text);
  else state.drafts.delete(id);
}

export const unreadOf = (id) => state.unread.get(id) || 0;

export function countUnread(id) {
  state.unread.set(id, unreadOf(id) + 1);
}

export function clearUnread(id) {
  state.unread.delete(id);
}

// ---------------------------------------------------------------- lines on their way

export const pendingLine = (clientId) => state.pending.get(clientId);
export const pendingLines = () => [...state.pending.entries()];

export function addPendingLine(clientId, entry) {
  state.pending.set(clientId, freeze(entry));
}

// The entry, now forgotten; undefined if there was none.
export function dropPendingLine(clientId) {
  const entry = state.pending.get(clientId);
  state.pending.delete(clientId);
  return entry;
}

// ---------------------------------------------------------------- Push a Page

export const pageDraftOf = (id) => state.pageDrafts.get(id) ?? null;

// `draft` null forgets it.
export function setPageDraft(id, draft) {
  if (draft) state.pageDrafts.set(id, freeze({ ...draft }));
  else state.pageDrafts.delete(id);
}

export const pagePush = () => state.pagePush;

export function setPagePush(entry) {
  state.pagePush = entry ? freeze({ ...entry }) : null;
}

// ---------------------------------------------------------------- Librarians

export const librarianRows = () => [...state.librarians.values()];
export const librarianIds = () => [...state.librarians.keys()];
export const hasLibrarian = (id) => state.librarians.has(id);

export function putLibrarian(row) {
  state.librarians.set(row.id, freeze(row));
}

export function dropLibrarian(id) {
  state.librarians.delete(id);
}

export const sortOrder = () => state.sort;

export function setSortOrder(key, dir) {
  state.sort = freeze({ key, dir });
}

// ---------------------------------------------------------------- IM

export const imSessions = () => [...state.ims.values()];
export const imSession = (id) => state.ims.get(id);
export const openImWith = (librarianId) =>
  [...state.ims.values()].find((im) => !im.ended_at && im.with.id === librarianId);

export function addIm(payload) {
  const existing = state.ims.get(payload.id);
  const lines = existing ? existing.lines : new Map();
  for (const line of payload.messages || []) lines.set(line.seq, line);
  state.ims.set(payload.id, freeze({ ...payload, messages: undefined, lines }));
}

// The changed IM session, or undefined when it isn't known.
export function patchIm(id, fields) {
  const im = state.ims.get(id);
  if (!im) return undefined;
  const changed = freeze({ ...im, ...fields });
  state.ims.set(id, changed);
  return changed;
}

export function addImLine(id, line) {
  const im = state.ims.get(id);
  if (!im) return;
  im.lines.set(line.seq, line);
  const fields = { last_seq: Math.max(im.last_seq, line.seq) };
  if (line.author_id === state.me?.id) fields.read_seq = Math.max(im.read_seq, line.seq);
  patchIm(id, fields);
}

export function removeIm(id) {
  state.ims.delete(id);
}

export function imUnread(im) {
  let n = 0;
  for (const line of im.lines.values()) if (line.author_id !== state.me?.id && line.seq > im.read_seq) n += 1;
  return n;
}

export const selectedImId = () => state.selectedIm;

export function setSelectedIm(id) {
  state.selectedIm = id;
}

export const imDraftOf = (id) => state.imDrafts.get(id) || "";

export function setImDraft(id, text) {
  if (text) state.imDrafts.set(id, text);
  else state.imDrafts.delete(id);
}

export const imOpening = () => state.imOpening;

export function setImOpening(librarianId) {
  state.imOpening = librarianId;
}

export const dialogIm = () => state.dialogIm;

export function setDialogIm(value) {
  state.dialogIm = value && freeze(value);
}

// ---------------------------------------------------------------- transfers

export const offers = () => [...state.offers.values()];
export const offerIds = () => [...state.offers.keys()];
export const offerById = (id) => state.offers.get(id);

export function putOffer(offer) {
  state.offers.set(offer.id, freeze(offer));
}

export function removeOffer(id) {
  state.offers.delete(id);
}

// The open offer I sent for this session, if any.
export const offerOf = (sessionId) =>
  [...state.offers.values()].find((o) => o.session.id === sessionId && o.sender.id === state.me?.id);

// The first open offer made to me, if any.
export const nextOfferToMe = () => [...state.offers.values()].find((o) => o.receiver.id === state.me?.id);

export const secondsLeft = (offer) => Math.max(0, Math.round((Date.parse(offer.expires_at) - serverNow()) / 1000));

export const transfer = () => state.transfer;

export function setTransfer(value) {
  state.transfer = value && freeze(value);
}
