// Statistics (its own tab): the page the server renders as a fragment
// (stats/views.py), loaded when the tab first opens; its filter form and
// its Clear link stay inside the console. Charts are images and the CSV
// links plain downloads: the browser fetches both itself. The sessions'
// CSV streams: the tab reads it as it comes, shows how many of the
// sessions have arrived, then hands the browser the file.
import { $ } from "./dom.js";
import { filterInside, followLinks, loadFragment } from "./history.js";
import { whenTabSelected } from "./tabs.js";

// Above the imports, never the word for a module's exports followed by a
// space, even in a comment: Django's manifest storage reads it as such a
// statement up to the next import and hashes that import's name twice.

const statsRoot = $("stats-root");
let loaded = false;

async function load(url) {
  loaded = true;
  // Refused filters (400) come back as the form with its errors.
  loaded = await loadFragment(statsRoot, url, { shown: [400] });
}

// Rows of CSV in `text`, from the state `inQuote` on: a line break inside a
// quoted cell (a patron's line) is not a row. Returns [rows, inQuote].
function csvRows(text, inQuote) {
  let rows = 0;
  for (const ch of text) {
    if (ch === '"') inQuote = !inQuote;
    else if (ch === "\n" && !inQuote) rows += 1;
  }
  return [rows, inQuote];
}

async function exportSessions(link) {
  const box = statsRoot.querySelector("[data-stats-progress]");
  const bar = box.querySelector("progress");
  const status = box.querySelector("[data-stats-progress-status]");
  box.hidden = false;
  bar.value = 0;
  status.textContent = "Preparing the export…";
  try {
    const response = await fetch(link.href, { credentials: "same-origin" });
    if (!response.ok) {
      status.textContent = await response.text();
      return;
    }
    const total = Number(response.headers.get("X-Total-Count")) || 0;
    bar.max = Math.max(total, 1);
    status.textContent = `Exporting ${total.toLocaleString()} session${total === 1 ? "" : "s"}…`;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const parts = [];
    let rows = -1; // the header
    let inQuote = false;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      let more;
      [more, inQuote] = csvRows(decoder.decode(value, { stream: true }), inQuote);
      rows += more;
      bar.value = Math.min(rows, bar.max);
    }
    const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "")?.[1] || "sessions.csv";
    const url = URL.createObjectURL(new Blob(parts, { type: "text/csv" }));
    const save = Object.assign(document.createElement("a"), { href: url, download: name, hidden: true });
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    bar.value = bar.max;
    status.textContent = `Downloaded ${Math.max(rows, 0).toLocaleString()} session${rows === 1 ? "" : "s"} (${name}).`;
  } catch {
    status.textContent = "The export was cut off. Try again.";
  }
}

export function initialize() {
  whenTabSelected("tab-stats", () => {
    if (!loaded) load(statsRoot.dataset.url);
  });
  filterInside(statsRoot, load, "form[data-stats-form]", "[data-stats-results]");
  followLinks(statsRoot, load, "a[data-stats-link]");
  statsRoot.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-stats-export]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    exportSessions(link);
  });
}
