// Every staff page (console, Chat History, admin): the warning before an idle
// log-out, and the word that the login has ended (accounts/logins.py).
//
// The server is the judge: a login expires STAFF_IDLE_SECONDS after the
// librarian last did something, and this page only asks it how long is left
// (GET /idle/, which is no activity) before it warns. Typing and clicking
// here are activity: reported at most every few seconds, over the console's
// socket where there is one (`reportActivityWith`), else by POST /idle/.
// The warning (WCAG 2.2.1) comes STAFF_IDLE_WARNING_SECONDS before the end;
// any key or click, or "Stay logged in", keeps the login. It never takes a
// keystroke meant for a text box: while one has the focus the warning opens
// beside the page (announced, focus left where it is), and typing on counts
// as being there.

const meta = document.querySelector('meta[name="staff-idle"]');
const config = meta && {
  seconds: Number(meta.dataset.seconds),
  warning: Number(meta.dataset.warning),
  every: Number(meta.dataset.every),
  url: meta.dataset.url,
  login: meta.dataset.login,
};

let reporter = null; // () => boolean: sent over the console's socket
let lastReported = 0;
let lastActivity = Date.now(); // this page's load was a request: activity
let checkTimer = null;
let tickTimer = null;
let deadline = 0; // when the warning's countdown ends (ms, this page's clock)
let ended = false;
let dialog = null;

// The console reports activity over its socket; false when it is not open.
export function reportActivityWith(report) {
  reporter = report;
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function ask(method) {
  try {
    const response = await fetch(config.url, {
      method,
      credentials: "same-origin",
      headers: method === "POST" ? { "X-CSRFToken": csrfToken() } : {},
    });
    const body = await response.json();
    return response.ok ? body.seconds_left : 0;
  } catch {
    return null; // the network is gone: look again later
  }
}

function typing() {
  const node = document.activeElement;
  return Boolean(node && (node.isContentEditable || node.matches("textarea, input:not([type=checkbox]):not([type=radio]):not([type=button]):not([type=submit])")));
}

function announce(text) {
  let region = document.getElementById("announcer") || document.getElementById("idle-announcer");
  if (!region) {
    region = document.createElement("div");
    region.id = "idle-announcer";
    region.className = "visually-hidden";
    region.setAttribute("aria-live", "assertive");
    region.setAttribute("aria-atomic", "true");
    document.body.append(region);
  }
  region.textContent = "";
  setTimeout(() => (region.textContent = text), 50);
}

function words(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  const m = Math.floor(s / 60);
  if (!m) return `${s} seconds`;
  return s % 60 ? `${m} min ${String(s % 60).padStart(2, "0")} s` : `${m} minute${m === 1 ? "" : "s"}`;
}

function build() {
  if (dialog) return dialog;
  dialog = document.createElement("dialog");
  dialog.id = "idle-dialog";
  dialog.className = "idle-dialog";
  dialog.setAttribute("aria-labelledby", "idle-title");
  dialog.setAttribute("aria-describedby", "idle-body");
  const title = document.createElement("h2");
  title.id = "idle-title";
  const body = document.createElement("p");
  body.id = "idle-body";
  const actions = document.createElement("div");
  actions.className = "dialog-actions";
  dialog.append(title, body, actions);
  document.body.append(dialog);
  // Escape is someone being there too.
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    if (!ended) stay();
  });
  return dialog;
}

function open(first) {
  if (dialog.open) dialog.close();
  // The open attribute, not show(): show() would move the focus into it.
  if (typing()) dialog.setAttribute("open", "");
  else {
    dialog.showModal();
    first.focus();
  }
}

function warn(secondsLeft) {
  build();
  deadline = Date.now() + secondsLeft * 1000;
  dialog.querySelector("h2").textContent = "Are you still there?";
  const body = dialog.querySelector("p");
  body.textContent = "";
  const countdown = document.createElement("span");
  countdown.id = "idle-countdown";
  body.append("Nothing has happened here for a while: you will be logged out in ", countdown,
    ". Press any key, or Stay logged in, to stay.");
  const stayButton = document.createElement("button");
  stayButton.type = "button";
  stayButton.className = "button button-primary";
  stayButton.id = "idle-stay";
  stayButton.textContent = "Stay logged in";
  stayButton.addEventListener("click", () => stay());
  dialog.querySelector(".dialog-actions").replaceChildren(stayButton);
  const tick = () => {
    const left = (deadline - Date.now()) / 1000;
    countdown.textContent = words(left);
    if (left <= 0) {
      clearInterval(tickTimer);
      check();
    }
  };
  tick();
  clearInterval(tickTimer);
  tickTimer = setInterval(tick, 1000);
  open(stayButton);
  announce(`You will be logged out in ${words(secondsLeft)} for inactivity. Press any key to stay logged in.`);
}

function unwarn() {
  clearInterval(tickTimer);
  if (dialog && dialog.open && !ended) dialog.close();
}

// The login has ended (here, in another tab, or by the server): say so, with
// the way back. The console's socket calls this on its close with 4403.
export function sessionEnded() {
  if (ended) return;
  ended = true;
  clearTimeout(checkTimer);
  clearInterval(tickTimer);
  build();
  dialog.querySelector("h2").textContent = "Logged out";
  dialog.querySelector("p").textContent = "Your session has ended. Please log in again.";
  const link = document.createElement("a");
  link.href = `${config ? config.login : "/login/"}?next=${encodeURIComponent(location.pathname)}`;
  link.className = "button button-primary";
  link.textContent = "Log in";
  dialog.querySelector(".dialog-actions").replaceChildren(link);
  open(link);
  announce("Your session has ended. Please log in again.");
}

function schedule(seconds) {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(check, Math.max(1, seconds) * 1000);
}

// How long is left, by the server: warn when it is about time, else look again then.
async function check() {
  if (ended) return;
  const left = await ask("GET");
  if (left === null) return schedule(5);
  if (left <= 0) return sessionEnded();
  if (left > config.warning + 1) {
    unwarn();
    return schedule(left - config.warning);
  }
  if (Date.now() - lastActivity < (config.seconds - config.warning) * 1000) {
    // The librarian was here more recently than that: the socket's word has
    // not been written yet (the console's next heartbeat does). Say it now.
    lastReported = Date.now();
    return (await ask("POST")) === 0 ? sessionEnded() : schedule(config.seconds - config.warning);
  }
  if (!dialog || !dialog.open) warn(left);
  schedule(left + 1);
}

async function stay() {
  unwarn();
  lastReported = lastActivity = Date.now();
  const left = await ask("POST");
  if (left === 0) return sessionEnded();
  schedule(config.seconds - config.warning);
}

function activity() {
  if (ended) return;
  lastActivity = Date.now();
  if (dialog && dialog.open) {
    stay();
    return;
  }
  const now = Date.now();
  if (now - lastReported < config.every * 1000) return;
  lastReported = now;
  if (!(reporter && reporter())) ask("POST");
  schedule(config.seconds - config.warning);
}

if (config) {
  for (const type of ["keydown", "pointerdown"]) document.addEventListener(type, activity, true);
  check();
}
