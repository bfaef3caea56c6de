// Questions (its own tab): the follow-up questions of the librarian's queues,
// pages the server renders as fragments, as Chat History is. The list, a
// question, and its Take / Answer / Note forms stay inside the console; a
// question.created or question.changed event (someone asked, took or
// answered one) reloads what the tab shows if it is open, or marks the tab.
import { el } from "../socket.js";
import { $ } from "./dom.js";
import { isTabSelected, whenTabSelected } from "./tabs.js";

const questionsRoot = $("questions-root");
const badge = $("questions-badge");
let current = questionsRoot.dataset.url; // what the tab shows: the list, or one question
let stale = true;

function fragmentUrl(url) {
  const target = new URL(url, location.origin);
  target.searchParams.set("fragment", "1");
  return target;
}

// What the librarian has typed into the question's other boxes (a note, an
// answer) while a Take or a Note was on its way: the new fragment gets it
// back, so nothing typed meanwhile is lost. The form just sent is left out.
function drafts(sent = null) {
  const kept = new Map();
  for (const box of questionsRoot.querySelectorAll("textarea[name]")) {
    if (box.value && box.form !== sent) kept.set(`${box.form?.getAttribute("action")} ${box.name}`, box.value);
  }
  return kept;
}

function restore(kept) {
  for (const box of questionsRoot.querySelectorAll("textarea[name]")) {
    const draft = kept.get(`${box.form?.getAttribute("action")} ${box.name}`);
    if (draft && !box.value) box.value = draft;
  }
}

async function show(response, { sent = null } = {}) {
  // The server renders this fragment with Django's escaping: texts are text.
  // A refusal (409, 400) comes back as the question with its error shown.
  if (!response.ok && response.status !== 409 && response.status !== 400) throw new Error(String(response.status));
  const html = await response.text();
  const typed = drafts(sent); // typed until the answer came
  questionsRoot.innerHTML = html;
  restore(typed);
  questionsRoot.querySelector("h2")?.setAttribute("tabindex", "-1");
  // What is shown now (after a Take, the question), for the next reload.
  current = questionsRoot.querySelector("[data-question-url]")?.dataset.questionUrl ?? current;
}

function pathOf(url) {
  return new URL(url, location.origin).pathname;
}

function failed() {
  questionsRoot.replaceChildren(el("p", { class: "error" }, "This could not be loaded. Try again."));
}

async function load(url, { focus = null } = {}) {
  current = url;
  stale = false;
  try {
    await show(await fetch(fragmentUrl(url), { headers: { Accept: "text/html" }, credentials: "same-origin" }));
  } catch {
    failed();
    return;
  }
  if (focus) questionsRoot.querySelector(focus)?.focus();
}

async function post(form) {
  try {
    const response = await fetch(fragmentUrl(form.action), {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "text/html" },
      credentials: "same-origin",
    });
    await show(response, { sent: form });
  } catch {
    failed();
    return;
  }
  // The news (taken, sent, refused) is read out; focus goes to it.
  (questionsRoot.querySelector("#question-error") || questionsRoot.querySelector("#question-state"))?.focus();
}

export const handlers = {
  "question.created": changed,
  "question.changed": changed,
};

function changed() {
  if (!isTabSelected("tab-questions")) {
    stale = true;
    badge.hidden = false;
    badge.textContent = "new";
    $("tab-questions").classList.add("tab-marked");
    return;
  }
  // Open: the list reloads (who took what); a question being read or
  // answered is left alone, so no half-written answer is lost.
  if (pathOf(current) === pathOf(questionsRoot.dataset.url)) load(current);
}

export function initialize() {
  whenTabSelected("tab-questions", () => {
    badge.hidden = true;
    if (stale) load(current);
  });
  questionsRoot.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-questions-link]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    load(link.href, { focus: "h2" });
  });
  questionsRoot.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.matches("form[data-questions-form]")) {
      event.preventDefault();
      const url = new URL(form.action, location.origin);
      for (const [key, value] of new FormData(form)) if (value) url.searchParams.set(key, value);
      load(url.href, { focus: "[data-questions-results]" });
    } else if (form.matches("form[data-questions-action]")) {
      event.preventDefault();
      post(form);
    }
  });
}
