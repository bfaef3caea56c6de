// The Librarians tab: the others monitoring any queue I monitor, sortable by
// column, each a button that opens an IM; the IM tab lists the same people.
import { el } from "../socket.js";
import { $ } from "./dom.js";
import { announce } from "./dialogs.js";
import { openIm } from "./im.js";
import { STATUS_LABELS } from "./settings.js";
import * as state from "./state.js";

// The Queue (Library) column: "Ask Riverside (Riverside Public Library)".
export function homeLabel(row) {
  return row.primary_queue ? `${row.primary_queue} (${row.library})` : `— (${row.library})`;
}

// The Status column: "Busy (3 of 3)", "Available (1 of 3)", "Away".
export function statusLabel(row) {
  const label = STATUS_LABELS[row.status] || row.status;
  if (row.status === "away") return label;
  return row.max_sessions ? `${label} (${row.active} of ${row.max_sessions})` : label;
}

const sorters = {
  name: (a, b) => a.display_name.localeCompare(b.display_name),
  queues: (a, b) => a.queues - b.queues,
  active: (a, b) => a.active - b.active,
  home: (a, b) => homeLabel(a).localeCompare(homeLabel(b)),
  status: (a, b) => statusLabel(a).localeCompare(statusLabel(b)),
};

function sortedLibrarians() {
  const { key, dir } = state.sortOrder();
  return state.librarianRows().sort((a, b) => dir * sorters[key](a, b) || sorters.name(a, b));
}

export function renderLibrarians() {
  const rows = sortedLibrarians();
  const sort = state.sortOrder();
  const focusedId = document.activeElement?.closest?.("#librarians-body tr")?.dataset.id;
  $("librarians-body").replaceChildren(
    ...rows.map((row) =>
      el(
        "tr",
        { dataset: { id: row.id } },
        el(
          "td",
          {},
          el(
            "button",
            {
              type: "button",
              class: "person-button",
              "aria-label": `Send an IM to ${row.display_name} (${row.staff_id})`,
              onclick: () => openIm(row.id),
            },
            `${row.display_name} (${row.staff_id})`,
          ),
        ),
        el("td", { class: "num" }, row.queues),
        el("td", { class: "num" }, row.active),
        el("td", {}, homeLabel(row)),
        el("td", {}, statusLabel(row)),
      ),
    ),
  );
  if (focusedId) $("librarians-body").querySelector(`tr[data-id="${focusedId}"] button`)?.focus();
  $("librarians-empty").hidden = rows.length > 0;
  $("librarians-badge").textContent = rows.length ? `(${rows.length})` : "";
  for (const th of document.querySelectorAll(".librarians-table th[data-sort]")) {
    if (th.dataset.sort === sort.key) th.setAttribute("aria-sort", sort.dir > 0 ? "ascending" : "descending");
    else th.removeAttribute("aria-sort");
  }
  // The IM tab lists the same people.
  $("im-librarians").replaceChildren(
    ...rows.map((row) =>
      el(
        "li",
        {},
        el(
          "button",
          { type: "button", class: "session-row", onclick: () => openIm(row.id) },
          el("span", { class: "row-top" }, el("strong", {}, `${row.display_name} (${row.staff_id})`)),
          el("span", { class: "row-meta" }, `${statusLabel(row)} · ${row.active} active · ${homeLabel(row)}`),
        ),
      ),
    ),
  );
  $("im-librarians-empty").hidden = rows.length > 0;
}

export const handlers = {
  "librarian.updated"(frame) {
    const row = frame.librarian;
    if (!state.me() || row.id === state.myId()) return;
    const listed = state.hasLibrarian(row.id);
    if (state.sharesAQueueWithMe(row.monitoring)) state.putLibrarian(row);
    else state.dropLibrarian(row.id);
    if (listed !== state.hasLibrarian(row.id)) {
      announce(listed ? `${row.display_name} stopped monitoring.` : `${row.display_name} is now monitoring.`);
    }
    renderLibrarians();
  },
};

export function initialize() {
  for (const th of document.querySelectorAll(".librarians-table th[data-sort]")) {
    th.querySelector("button").addEventListener("click", () => {
      const key = th.dataset.sort;
      const sort = state.sortOrder();
      state.setSortOrder(key, sort.key === key ? -sort.dir : 1);
      renderLibrarians();
    });
  }
}
