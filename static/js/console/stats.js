// Statistics (its own tab): the page the server renders as a fragment
// (stats/views.py), loaded when the tab first opens; its filter form and
// its Clear link stay inside the console. Charts are images and the CSV
// links plain downloads: the browser fetches both itself.
import { $ } from "./dom.js";
import { filterInside, followLinks, loadFragment } from "./history.js";
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
  filterInside(statsRoot, load, "form[data-stats-form]", "[data-stats-results]");
  followLinks(statsRoot, load, "a[data-stats-link]");
}
