// The reply box's Scripts: "/" at the start of an empty reply box, or the
// Scripts button beside it, opens a searchable list of the librarian's own
// scripts, their library's, and the library's saved pages. It is the ARIA
// combobox pattern: focus stays in its search box, the arrow keys move
// through the list (aria-activedescendant), Enter chooses, Escape closes.
// Choosing puts the script's text (placeholders filled in) or the page's
// link into the reply box at the caret, for editing: it never sends.
//
// It opens only when asked: a "/" typed anywhere else in the box is a
// slash. Closed without a choice after a "/", what was typed in the search
// goes back into the reply box, so no keystroke is lost; focus always goes
// back to the reply box, the caret after what was put there.
//
// The list is read from the server each time it opens (GET
// /console/scripts/picker/, scripts/views.py), so a script just edited in
// Settings shows at once; the last list is shown meanwhile.
import { el } from "../socket.js";
import { $ } from "./dom.js";
import * as state from "./state.js";

const picker = $("script-picker");
const search = $("script-search");
const listbox = $("script-options");
const status = $("script-status");
const box = $("composer-text");
const button = $("composer-scripts");

const KIND_LABELS = { personal: "Personal", library: "Library", page: "Saved page" };

let data = null; // the last list read: { scripts, pages }
let shown = []; // the items the list shows now
let active = -1; // the index of the highlighted one
let opened = null; // { bySlash, session, start, end } while open
let reads = 0; // the newest read's number: an older answer is dropped

// {patron}, {librarian} and {library} become their names; any other {word} stays.
export function fillPlaceholders(text, names) {
  return text.replace(/\{(patron|librarian|library)\}/gi, (found, name) => names[name.toLowerCase()] ?? found);
}

function items() {
  if (!data) return [];
  return [
    ...data.scripts.map((s) => ({ ...s, key: `script-${s.id}` })),
    ...data.pages.map((p) => ({ ...p, kind: "page", shortcut: "", key: `page-${p.id}` })),
  ];
}

// "/word": the scripts whose shortcut starts with it, the exact one first;
// other words: every item whose title, shortcut or text has them all.
function matching(query) {
  const q = query.trim().toLowerCase();
  const all = items();
  if (q.startsWith("/") && q.length > 1) {
    const word = q.slice(1);
    return all
      .filter((i) => i.shortcut && i.shortcut.startsWith(word))
      .sort((a, b) => Number(b.shortcut === word) - Number(a.shortcut === word));
  }
  const words = q.replace(/^\//, "").split(/\s+/).filter(Boolean);
  if (!words.length) return all;
  return all.filter((i) => {
    const hay = `${i.title}\n${i.shortcut}\n${i.text ?? i.url}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

function preview(item) {
  const text = item.kind === "page" ? item.url : item.text.replace(/\s+/g, " ");
  return text.length > 110 ? `${text.slice(0, 109)}…` : text;
}

// A new search highlights its first match; a fresh read of the list keeps
// the one highlighted (`keep`), if it is still there.
function render({ keep = false } = {}) {
  const before = keep ? shown[active]?.key : undefined;
  shown = matching(search.value);
  active = shown.length ? Math.max(0, shown.findIndex((i) => i.key === before)) : -1;
  listbox.replaceChildren(
    ...shown.map((item, i) =>
      el(
        "li",
        {
          role: "option",
          id: `script-option-${i}`,
          class: "script-option",
          "aria-selected": String(i === active),
          dataset: { key: item.key },
          onmousedown: (event) => event.preventDefault(), // focus stays in the search
          onclick: () => choose(i),
        },
        el(
          "span",
          { class: "script-option-head" },
          el("strong", {}, item.title),
          item.shortcut ? el("code", {}, `/${item.shortcut}`) : null,
          el("span", { class: `badge badge-script-${item.kind}` }, KIND_LABELS[item.kind]),
        ),
        el("span", { class: "script-option-preview" }, preview(item)),
      ),
    ),
  );
  listbox.hidden = !shown.length;
  search.setAttribute("aria-expanded", String(shown.length > 0));
  highlight();
  if (!data) status.textContent = "Loading your scripts…";
  else if (!items().length) status.textContent = "You have no scripts or saved pages yet: add scripts in Settings.";
  else if (!shown.length) status.textContent = "No script or saved page matches.";
  else status.textContent = `${shown.length} match${shown.length === 1 ? "" : "es"}.`;
}

function highlight() {
  for (const [i, option] of [...listbox.children].entries()) option.setAttribute("aria-selected", String(i === active));
  const option = listbox.children[active];
  if (option) {
    search.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  } else {
    search.removeAttribute("aria-activedescendant");
  }
}

async function read() {
  const mine = ++reads;
  try {
    const response = await fetch(picker.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) throw new Error(String(response.status));
    const answer = await response.json();
    if (mine !== reads) return;
    data = answer;
  } catch {
    if (mine !== reads || !opened) return;
    if (!data) {
      status.textContent = "Your scripts could not be loaded. Close the list and try again.";
      return;
    }
  }
  if (opened) render({ keep: true });
}

function open({ bySlash }) {
  const session = state.selectedId() !== null && state.activeSession(state.selectedId());
  if (!session || session.state !== "active" || opened) return;
  opened = { bySlash, session: session.id, start: box.selectionStart, end: box.selectionEnd };
  search.value = bySlash ? "/" : "";
  picker.hidden = false;
  button.setAttribute("aria-expanded", "true");
  search.focus();
  render();
  read();
}

// Closes the list. `back`: focus to the reply box; after a "/" what was
// typed in the search is put back there unless a choice replaces it.
function close({ back = true, typed = true } = {}) {
  if (!opened) return null;
  const was = opened;
  opened = null;
  picker.hidden = true;
  listbox.replaceChildren();
  shown = [];
  active = -1;
  search.setAttribute("aria-expanded", "false");
  search.removeAttribute("aria-activedescendant");
  button.setAttribute("aria-expanded", "false");
  status.textContent = "";
  if (typed && was.bySlash && !box.value) insert(search.value, was, { focus: back });
  else if (back) box.focus();
  return was;
}

function insert(text, at, { focus = true } = {}) {
  const value = box.value;
  const start = Math.min(at.start ?? value.length, value.length);
  const end = Math.min(at.end ?? start, value.length);
  box.value = value.slice(0, start) + text + value.slice(end);
  const caret = start + text.length;
  if (focus) box.focus();
  box.setSelectionRange(caret, caret);
  // What listens to typing (the patron's "is typing…") hears of it as typing.
  box.dispatchEvent(new Event("input", { bubbles: true }));
}

function choose(index) {
  const item = shown[index];
  if (!item || !opened) return;
  const session = state.activeSession(opened.session);
  const text =
    item.kind === "page"
      ? `${item.title}: ${item.url}`
      : fillPlaceholders(item.text, {
          patron: session?.patron_name,
          librarian: state.me()?.display_name,
          library: session?.library?.name,
        });
  const at = close({ back: false, typed: false });
  insert(text, at);
}

// The pane moved on (another session selected, or this one ended): the list
// goes, leaving focus where the pane put it.
export function followPane() {
  if (opened && (state.selectedId() !== opened.session || $("composer").hidden)) close({ back: false });
}

export function initialize() {
  box.addEventListener("keydown", (event) => {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (box.value !== "") return; // a slash in what is being written is a slash
    event.preventDefault();
    open({ bySlash: true });
  });
  button.addEventListener("click", () => (opened ? close() : open({ bySlash: false })));
  search.addEventListener("input", () => render());
  search.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!shown.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      active = (active + step + shown.length) % shown.length;
      highlight();
    } else if (event.key === "Enter" && !event.isComposing) {
      event.preventDefault();
      if (active >= 0) choose(active);
      else if (opened?.bySlash) close(); // no match: what was typed goes into the reply
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });
  // Tab or a click elsewhere: the list closes and focus goes where it went.
  picker.addEventListener("focusout", (event) => {
    if (!picker.contains(event.relatedTarget)) close({ back: false });
  });
}
