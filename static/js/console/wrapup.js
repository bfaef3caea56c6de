// Wrap-up (wrapup/ on the server): when a chat the librarian held ends, is
// transferred or goes back to its queue (the hold.ended event), its pane
// shows the wrap-up form below its last line. Nothing pops up and nothing
// takes focus: the librarian may be typing in another chat. The Wrap-up tab
// lists every chat still to wrap up (skipped ones too), its badge counts
// them. Forms and lists are fragments the server renders, as Questions are.
import { el } from "../socket.js";
import { $ } from "./dom.js";
import * as state from "./state.js";
import { isTabSelected, selectTab, whenTabSelected } from "./tabs.js";

const wrapupRoot = $("wrapup-root");
const badge = $("wrapup-badge");
const paneBox = $("session-wrapup");
const forms = new Map(); // session id → its wrap-up section, kept as typed across renders
let due = 0;
let listStale = true;
let current = wrapupRoot.dataset.url; // what the tab shows: the list, or one chat's form

function fragmentUrl(url, place = null) {
  const target = new URL(url, location.origin);
  target.searchParams.set("fragment", "1");
  // Where it is shown: the form's ids name it (the pane's and the tab's may both be there).
  if (place) target.searchParams.set("in", place);
  return target;
}

const sessionUrl = (id) => new URL(`${id}/`, new URL(wrapupRoot.dataset.url, location.origin)).href;
const isList = (url) => new URL(url, location.origin).pathname === new URL(wrapupRoot.dataset.url, location.origin).pathname;

function setDue(count) {
  due = Math.max(0, count);
  badge.hidden = due === 0;
  badge.textContent = String(due);
}

function parse(html) {
  // Rendered by the server with Django's escaping: a patron's name is text.
  const holder = document.createElement("div");
  holder.innerHTML = html;
  return holder;
}

async function fetchHtml(url, init = {}, place = null) {
  const response = await fetch(fragmentUrl(url, place), { headers: { Accept: "text/html" }, credentials: "same-origin", ...init });
  // A refusal comes back as the form with its message (400, 403, 404, 409).
  if (response.status >= 500) throw new Error(String(response.status));
  return response.text();
}

// The pane of a chat that ended: its form, fetched once, then kept as typed.
async function loadPaneForm(id) {
  try {
    const section = parse(await fetchHtml(sessionUrl(id), {}, "pane")).firstElementChild;
    if (section) forms.set(id, section);
  } catch {
    return;
  }
  if (state.selectedId() === id) renderPane(state.activeSession(id));
}

// Called by chat.js each time it draws the pane.
export function renderPane(session) {
  const form = session && forms.get(session.id);
  if (!form) {
    paneBox.replaceChildren();
  } else if (paneBox.firstElementChild !== form) {
    paneBox.replaceChildren(form);
  }
}

export function applySnapshot(frame) {
  setDue(frame.wrapups_due ?? 0);
  listStale = true;
  if (isTabSelected("tab-wrapup") && isList(current)) loadTab(current);
}

let tabLoads = 0; // only the last load shows: a late list never covers the form opened since

async function loadTab(url, { focus = null } = {}) {
  current = url;
  listStale = false;
  const number = ++tabLoads;
  let html;
  try {
    html = await fetchHtml(url, {}, "tab");
  } catch {
    if (number === tabLoads) wrapupRoot.replaceChildren(el("p", { class: "error" }, "This could not be loaded. Try again."));
    return;
  }
  if (number !== tabLoads) return;
  wrapupRoot.replaceChildren(...parse(html).childNodes);
  if (focus) wrapupRoot.querySelector(focus)?.focus();
}

async function post(form, submitter) {
  // getAttribute: the form's Save and Skip buttons are named "action", which form.action would be.
  const section = form.closest("[data-wrapup]");
  const inPane = paneBox.contains(form);
  let fresh;
  try {
    fresh = parse(await fetchHtml(form.getAttribute("action"), { method: "POST", body: new FormData(form, submitter) })).firstElementChild;
  } catch {
    form.querySelector(".wrapup-actions")?.append(el("p", { class: "error", role: "alert" }, "The wrap-up could not be sent. Try again."));
    return;
  }
  if (!fresh) return;
  section.replaceWith(fresh);
  if (inPane) forms.set(Number(section.dataset.wrapup), fresh);
  // The news (saved, skipped, refused) is read out; focus goes to it, not lost with the button.
  fresh.querySelector("[role=alert], [data-wrapup-saved]")?.focus();
  listStale = true;
}

export const handlers = {
  "hold.ended"(frame) {
    setDue(due + 1);
    listStale = true;
    if (state.activeSession(frame.session)) loadPaneForm(frame.session);
    if (isTabSelected("tab-wrapup") && isList(current)) loadTab(current);
  },
  "wrapup.changed"(frame) {
    setDue(frame.due);
    listStale = true;
    if (isTabSelected("tab-wrapup") && isList(current)) loadTab(current);
  },
};

function tagsTyped(input) {
  // The subject list suggests the tag being typed after the last comma: each
  // suggestion is what is typed before it plus one of the library's subjects.
  const list = input.list;
  if (!list) return;
  if (!list.dataset.tags) list.dataset.tags = JSON.stringify([...list.options].map((option) => option.value));
  const names = JSON.parse(list.dataset.tags);
  const cut = input.value.lastIndexOf(",");
  const before = cut < 0 ? "" : `${input.value.slice(0, cut + 1).trimEnd()} `;
  const chosen = new Set(before.split(",").map((name) => name.trim().toLowerCase()));
  list.replaceChildren(...names.filter((name) => !chosen.has(name.toLowerCase())).map((name) => el("option", { value: `${before}${name}` })));
}

export function initialize() {
  whenTabSelected("tab-wrapup", () => {
    if (listStale || !isList(current)) loadTab(isList(current) ? current : wrapupRoot.dataset.url);
  });
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-wrapup-form]");
    if (!form) return;
    event.preventDefault();
    post(form, event.submitter);
  });
  document.addEventListener("input", (event) => {
    if (event.target.matches?.("input[data-wrapup-tags]")) tagsTyped(event.target);
  });
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-wrapup-link]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    // From a chat's pane: the Wrap-up tab opens on the list.
    if (!wrapupRoot.contains(link)) selectTab("tab-wrapup");
    loadTab(link.href, { focus: "h2, h3" });
  });
}
