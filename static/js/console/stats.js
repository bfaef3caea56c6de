// Statistics (its own tab): the page the server renders as a fragment
// (stats/views.py), loaded when the tab first opens; its filter form and
// its Clear link stay inside the console. Charts are images and the CSV
// links plain downloads: the browser fetches both itself.
import { $ } from "./dom.js";
import { loadFragment } from "./history.js";
import { whenTabSelected } from "./tabs.js";

const statsRoot = $("stats-root");
let loaded = false;

async function load(url) {
  loaded = true;
  // Refused filters (400) come back as the form with its errors.
  loaded = await loadFragment(statsRoot, url, { shown: [400] });
}

export function initialize() {
  whenTabSelected("tab-stats", () => {
    if (!loaded) load(statsRoot.dataset.url);
  });
  statsRoot.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-stats-form]");
    if (!form) return;
    event.preventDefault();
    const url = new URL(form.getAttribute("action"), location.origin);
    for (const [key, value] of new FormData(form)) if (value) url.searchParams.set(key, value);
    load(url).then(() => statsRoot.querySelector("[data-stats-results]")?.focus());
  });
  statsRoot.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-stats-link]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    load(link.href).then(() => statsRoot.querySelector("h2")?.focus());
  });
}
