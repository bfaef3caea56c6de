// Our pages inside the widget (a frame on a library's site, or the pop-up):
// the embed ask form, and the chat page's part in it.
//
// The patron's token lives here, in our origin's storage (inside a frame the
// browser keeps it per library site): after the library's page changes or
// reloads, the frame finds it and the chat continues where it was (the chat
// page's socket sends the lines again from its snapshot, each once).
// Where the browser gives a frame no storage (third-party storage blocked),
// the token is handed over explicitly instead: to the widget's script on the
// library's page (it keeps it in that tab's sessionStorage and hands it back
// when the frame asks) — only to the page framing us, which CSP
// frame-ancestors lets be only an origin the queue lists. The pop-up (our
// origin, its own storage) asks for it by postMessage; only a window of our
// own origin is answered, and only for the same queue.
import { gettext } from "./i18n.js";

const REQUEST = "reference-chat.token-request";
const ANSWER = "reference-chat.token";
const KEEP = "reference-chat.token-keep";
const FORGET = "reference-chat.token-forget";
const HANDOVER_MS = 1500;

// The library's page framing us: its origin, as the browser tells it.
const host = window.parent !== window ? window.parent : null;
const hostOrigin = (() => {
  if (!host) return null;
  if (window.location.ancestorOrigins && window.location.ancestorOrigins.length) {
    return window.location.ancestorOrigins[0];
  }
  try {
    return new URL(document.referrer).origin;
  } catch {
    return null;
  }
})();

function storageWorks() {
  try {
    const key = "reference-chat:probe";
    window.localStorage.setItem(key, "1");
    window.localStorage.removeItem(key);
    return true;
  } catch {
    return false;
  }
}

// Only without storage of our own: the library's page keeps the token for this tab.
function hostKeep(slug, token) {
  if (!host || !hostOrigin || storageWorks()) return;
  host.postMessage({ type: token ? KEEP : FORGET, queue: slug, token }, hostOrigin);
}

function askHostForToken(slug) {
  return new Promise((resolve) => {
    if (!host || !hostOrigin || storageWorks()) {
      resolve(null);
      return;
    }
    const timer = setTimeout(() => finish(null), HANDOVER_MS);
    function finish(token) {
      clearTimeout(timer);
      window.removeEventListener("message", onMessage);
      resolve(token);
    }
    function onMessage(event) {
      if (event.source !== host || event.origin !== hostOrigin) return;
      const data = event.data || {};
      if (data.type === ANSWER && data.queue === slug) finish(typeof data.token === "string" ? data.token : null);
    }
    window.addEventListener("message", onMessage);
    host.postMessage({ type: REQUEST, queue: slug }, hostOrigin);
  });
}

function tokenKey(slug) {
  return `reference-chat:${slug}:token`;
}

function storageGet(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function storageSet(key, value) {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch {
    // storage refused (a browser's privacy setting): the chat goes on in this page only
  }
}

function chatUrl(slug, token, popup) {
  const url = `/widget/${encodeURIComponent(slug)}/chat/${encodeURIComponent(token)}/`;
  return popup ? `${url}?popup=1` : url;
}

// The pop-up asks the windows of its opener (the library's page, whose
// frames include ours) for the token; the frame that holds it answers.
function askOpenerForToken(slug) {
  return new Promise((resolve) => {
    const opener = window.opener;
    if (!opener) {
      resolve(null);
      return;
    }
    const timer = setTimeout(() => finish(null), HANDOVER_MS);
    function finish(token) {
      clearTimeout(timer);
      window.removeEventListener("message", onMessage);
      resolve(token);
    }
    function onMessage(event) {
      if (event.origin !== window.location.origin) return;
      const data = event.data || {};
      if (data.type === ANSWER && data.queue === slug && typeof data.token === "string") finish(data.token);
    }
    window.addEventListener("message", onMessage);
    const windows = [opener];
    try {
      for (let i = 0; i < opener.frames.length; i += 1) windows.push(opener.frames[i]);
    } catch {
      // the opener went away
    }
    for (const target of windows) {
      try {
        target.postMessage({ type: REQUEST, queue: slug }, window.location.origin);
      } catch {
        // a window of another origin: the browser drops the message, nothing to do
      }
    }
  });
}

function answerTokenRequests(slug, token) {
  window.addEventListener("message", (event) => {
    if (event.origin !== window.location.origin || !event.source) return;
    const data = event.data || {};
    if (data.type !== REQUEST || data.queue !== slug) return;
    event.source.postMessage({ type: ANSWER, queue: slug, token }, window.location.origin);
  });
}

function showErrors(form, errors) {
  const general = document.getElementById("widget-form-error");
  general.replaceChildren();
  general.hidden = true;
  for (const field of form.querySelectorAll("[data-field]")) {
    field.classList.remove("field-invalid");
    const input = field.querySelector("input, textarea, select");
    const box = field.querySelector(".field-errors");
    box.replaceChildren();
    if (input) input.removeAttribute("aria-invalid");
  }
  let first = null;
  for (const [name, messages] of Object.entries(errors)) {
    const field = form.querySelector(`[data-field="${name}"]`);
    const target = field ? field.querySelector(".field-errors") : general;
    for (const message of messages) {
      const line = document.createElement("p");
      line.className = "error";
      line.textContent = message;
      target.append(line);
    }
    if (field) {
      field.classList.add("field-invalid");
      const input = field.querySelector("input, textarea, select");
      if (input) {
        input.setAttribute("aria-invalid", "true");
        const described = new Set((input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
        described.add(target.id);
        input.setAttribute("aria-describedby", [...described].join(" "));
        first = first || input;
      }
    } else {
      general.hidden = false;
    }
  }
  if (!general.hidden) general.focus();
  else if (first) first.focus();
}

async function submitAsk(root, form, popup) {
  const button = form.querySelector("button[type=submit]");
  const body = {};
  for (const [name, value] of new FormData(form).entries()) body[name] = value;
  button.disabled = true;
  let response;
  let data;
  try {
    response = await fetch(root.dataset.submitUrl, {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    data = await response.json().catch(() => ({}));
  } catch {
    button.disabled = false;
    showErrors(form, { __all__: [gettext("The chat service could not be reached. Please try again.")] });
    return;
  }
  if (response.status === 201 && data.token) {
    storageSet(tokenKey(root.dataset.queue), data.token);
    hostKeep(root.dataset.queue, data.token);
    window.location.replace(chatUrl(root.dataset.queue, data.token, popup));
    return;
  }
  button.disabled = false;
  // What the patron typed stays in the form.
  showErrors(form, data.errors || { __all__: [data.detail || gettext("Something went wrong. Please try again.")] });
}

async function askPage(root) {
  const slug = root.dataset.queue;
  const params = new URLSearchParams(window.location.search);
  const popup = params.has("popup");
  if (params.has("new")) {
    storageSet(tokenKey(slug), null);
    hostKeep(slug, null);
  }
  let token = storageGet(tokenKey(slug));
  if (!token && !params.has("new")) token = await askHostForToken(slug);
  const form = document.getElementById("widget-form");
  if (!token && popup && window.opener) {
    form.hidden = true;
    const handover = document.getElementById("widget-handover");
    handover.textContent = gettext("Looking for your chat…");
    token = await askOpenerForToken(slug);
    handover.textContent = "";
    form.hidden = false;
    if (token) storageSet(tokenKey(slug), token);
  }
  if (token) {
    window.location.replace(chatUrl(slug, token, popup));
    return;
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitAsk(root, form, popup);
  });
}

function chatPage(script) {
  const slug = script.dataset.queue;
  const token = script.dataset.token;
  storageSet(tokenKey(slug), token);
  hostKeep(slug, token);
  answerTokenRequests(slug, token);
  // "Ask another question" starts afresh in the widget, not on the site's ask page.
  const again = document.querySelector("#ended-panel a[href]");
  if (again) again.href = script.dataset.newUrl;
}

const askRoot = document.getElementById("widget-ask");
const chatScript = document.getElementById("widget-chat");
if (askRoot) askPage(askRoot);
else if (chatScript) chatPage(chatScript);
