// Chat History (its own tab) and past IM sessions (below the IM tab): pages
// the server renders as fragments, loaded when their tab first opens, with
// their filter form and links kept inside the console. Statistics
// (stats.js) loads its tab with the same three helpers.
import { el } from "../socket.js";
import { $, root } from "./dom.js";
import { whenTabSelected } from "./tabs.js";

const historyRoot = $("history-root");
const imHistoryRoot = $("im-history-root");
let historyLoaded = false;
let imHistoryLoaded = false;

const latest = new WeakMap(); // container → the number of its last load

// `shown`: statuses whose page is shown as well (a form refused with its errors).
export async function loadFragment(container, url, { shown = [] } = {}) {
  const target = new URL(url, location.origin);
  target.searchParams.set("fragment", "1");
  // Only the last load shows: a filter's answer arriving after the
  // librarian went on to a session must not put the list back over it.
  const number = (latest.get(container) || 0) + 1;
  latest.set(container, number);
  try {
    const response = await fetch(target, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    if (!response.ok && !shown.includes(response.status)) throw new Error(String(response.status));
    const html = await response.text();
    if (latest.get(container) !== number) return false;
    // The server renders this fragment with Django's escaping: lines are text.
    container.innerHTML = html;
    container.querySelector("h2, h3")?.setAttribute("tabindex", "-1");
    return true;
  } catch {
    if (latest.get(container) === number) container.replaceChildren(el("p", { class: "error" }, "This could not be loaded. Try again."));
    return false;
  }
}

async function loadHistory(url) {
  historyLoaded = true;
  historyLoaded = await loadFragment(historyRoot, url);
}

async function loadImHistory(url) {
  imHistoryLoaded = true;
  imHistoryLoaded = await loadFragment(imHistoryRoot, url);
}

// An IM session ended: past IM sessions load again the next time the IM tab opens.
export function imHistoryChanged() {
  imHistoryLoaded = false;
}

// Links marked `selector` load inside the container (a modified click still
// opens a new tab), and its first heading takes the focus.
export function followLinks(container, load, selector = "a[data-history-link]") {
  container.addEventListener("click", (event) => {
    const link = event.target.closest(selector);
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    load(link.href).then(() => container.querySelector("h2, h3")?.focus());
  });
}

// A filter form (`formSelector`) loads its answer inside the container, its
// empty fields left out, and the focus goes to the results (`resultsSelector`).
export function filterInside(container, load, formSelector, resultsSelector) {
  container.addEventListener("submit", (event) => {
    const form = event.target.closest(formSelector);
    if (!form) return;
    event.preventDefault();
    const url = new URL(form.getAttribute("action"), location.origin);
    for (const [key, value] of new FormData(form)) if (value) url.searchParams.set(key, value);
    load(url).then(() => container.querySelector(resultsSelector)?.focus());
  });
}

export function initialize() {
  whenTabSelected("tab-history", () => {
    if (!historyLoaded) loadHistory(root.dataset.historyUrl);
  });
  whenTabSelected("tab-im", () => {
    if (!imHistoryLoaded) loadImHistory(imHistoryRoot.dataset.url);
  });
  filterInside(historyRoot, loadHistory, "form[data-history-form]", "[data-history-results]");
  followLinks(historyRoot, loadHistory);
  followLinks(imHistoryRoot, loadImHistory);
}
