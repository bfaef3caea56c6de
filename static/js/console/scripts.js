// Settings → Scripts: the librarian's own scripts (add, edit, delete) and,
// to read, their library's scripts and saved pages. Pages the server renders
// as fragments (scripts/views.py), as Questions are; a form goes to its own
// URL and comes back as the section, with the news or the refusal at its
// field and everything typed still there.
import { el } from "../socket.js";
import { $ } from "./dom.js";
import { whenTabSelected } from "./tabs.js";

const root = $("scripts-root");
let loaded = false;

function fragmentUrl(url) {
  const target = new URL(url, location.origin);
  target.searchParams.set("fragment", "1");
  return target;
}

async function show(response) {
  // Django's escaping made the fragment: texts are text. A refusal is a 400
  // with the form and its messages.
  if (!response.ok && response.status !== 400) throw new Error(String(response.status));
  root.innerHTML = await response.text();
  loaded = true;
}

function failed() {
  root.replaceChildren(el("p", { class: "error" }, "Your scripts could not be loaded. Try again."));
}

// Focus goes to the news: the first field refused, what was done, or the
// heading of what is now shown.
function focusNews(fallback) {
  const target =
    root.querySelector("[aria-invalid='true']") ||
    root.querySelector("#scripts-done") ||
    root.querySelector(fallback) ||
    root.querySelector("#scripts-heading");
  target?.focus();
}

async function load(url, { focus = null } = {}) {
  try {
    await show(await fetch(fragmentUrl(url), { headers: { Accept: "text/html" }, credentials: "same-origin" }));
  } catch {
    failed();
    return;
  }
  if (focus) focusNews(focus);
}

async function post(form) {
  try {
    const response = await fetch(fragmentUrl(form.action), {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "text/html" },
      credentials: "same-origin",
    });
    await show(response);
  } catch {
    failed();
    return;
  }
  focusNews("#scripts-heading");
}

export function initialize() {
  whenTabSelected("tab-settings", () => {
    if (!loaded) load(root.dataset.url);
  });
  root.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-scripts-link]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    load(link.href, { focus: link.dataset.focus || "#scripts-heading" });
  });
  root.addEventListener("submit", (event) => {
    if (!event.target.matches("form[data-scripts-action]")) return;
    event.preventDefault();
    post(event.target);
  });
}
