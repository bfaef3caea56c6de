// The console's tabs (Patron Chat, Librarians, IM, Questions, Wrap-up, Chat
// History, Statistics, Live Sessions for supervisors, Settings):
// a WAI-ARIA tab list, arrow keys and Home/End moving between them. What a
// tab loads or marks read when it opens, its own module registers here.
import { $ } from "./dom.js";

const tabs = [...document.querySelectorAll('#tabs [role="tab"]')];
const whenSelected = new Map(); // tab id → [function]

export function whenTabSelected(id, callback) {
  if (!whenSelected.has(id)) whenSelected.set(id, []);
  whenSelected.get(id).push(callback);
}

export function isTabSelected(id) {
  return $(id).getAttribute("aria-selected") === "true";
}

export function selectTab(id, { focus = false } = {}) {
  for (const tab of tabs) {
    const selected = tab.id === id;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(tab.getAttribute("aria-controls")).hidden = !selected;
  }
  $(id).classList.remove("tab-marked");
  if (focus) $(id).focus();
  for (const callback of whenSelected.get(id) || []) callback();
}

export function initialize() {
  for (const tab of tabs) {
    tab.addEventListener("click", () => selectTab(tab.id));
    tab.addEventListener("keydown", (event) => {
      // A tab this librarian doesn't have (Live Sessions: supervisors) is hidden and skipped.
      const shown = tabs.filter((t) => !t.hidden);
      const i = shown.indexOf(tab);
      const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: shown.length - 1 };
      if (!(event.key in moves)) return;
      event.preventDefault();
      selectTab(shown[(moves[event.key] + shown.length) % shown.length].id, { focus: true });
    });
  }
}
