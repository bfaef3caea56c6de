// Reference Chat's widget for a library's own pages (another origin).
// A classic script, pasted as docs/embedding.md says:
//
//   <a href="https://chat.example.org/ask/riverside/" data-reference-chat="riverside">Chat with a librarian</a>
//   <script src="https://chat.example.org/static/widget/widget.js" data-queue="riverside" data-form="button" async></script>
//
// It replaces the link (which stays where scripts don't run) with a floating
// button, a slide-out tab or an inline panel; shows live whether chat is open
// (the public status API, every 45 s, no cookie); opens the chat in a panel
// (a frame of ours, where the patron's token lives in our origin's storage)
// or in a pop-up window. Only a "panel open" flag is kept in this page's
// storage, so the panel comes back after the page changes or reloads; the
// conversation itself continues in the frame from where it was.
// Its words come from the server (/widget/<slug>/config/), translated there.
(function () {
  "use strict";

  const POLL_MS = 45000;
  const FORMS = ["button", "tab", "inline"];
  const script = document.currentScript;
  if (!script || !script.dataset.queue) return;
  const slug = script.dataset.queue;
  const form = FORMS.includes(script.dataset.form) ? script.dataset.form : "button";
  const base = new URL(script.src, document.baseURI).origin;
  const path = encodeURIComponent(slug);
  const openKey = `reference-chat:${slug}:${form}:open`;
  const id = `reference-chat-${slug}-${form}`.replace(/[^a-zA-Z0-9_-]/g, "-");

  const fallback = [...document.querySelectorAll("a[data-reference-chat]")].find(
    (a) => a.dataset.referenceChat === slug,
  );

  function remembered() {
    try {
      return window.localStorage.getItem(openKey) === "1";
    } catch {
      return false; // storage refused: the panel just doesn't come back by itself
    }
  }
  function remember(isOpen) {
    try {
      if (isOpen) window.localStorage.setItem(openKey, "1");
      else window.localStorage.removeItem(openKey);
    } catch {
      // storage refused: nothing to keep
    }
  }

  const tokenKey = `reference-chat:${slug}:token`;
  function tokenKept() {
    try {
      return window.sessionStorage.getItem(tokenKey);
    } catch {
      return null;
    }
  }
  function tokenKeep(token) {
    try {
      if (token) window.sessionStorage.setItem(tokenKey, token);
      else window.sessionStorage.removeItem(tokenKey);
    } catch {
      // storage refused here too: the chat lasts as long as the page
    }
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function loadStylesheet() {
    if (document.querySelector("link[data-reference-chat-css]")) return;
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = `${base}/static/widget/widget.css`;
    link.dataset.referenceChatCss = "";
    document.head.append(link);
  }

  async function getJson(url) {
    const response = await fetch(url, { credentials: "omit", mode: "cors" });
    const body = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, body };
  }

  // Where the widget goes: in the fallback link's place for the inline form,
  // at the end of the page for the button and the tab.
  function mount(root) {
    if (form === "inline" && fallback) fallback.replaceWith(root);
    else {
      if (fallback) fallback.remove();
      document.body.append(root);
    }
  }

  function unavailable(root, texts, askUrl) {
    root.replaceChildren();
    root.classList.add("rc-widget--unavailable");
    const box = element("p", "rc-widget-unavailable");
    box.append(element("span", "", texts.closed), " ");
    const link = element("a", "", texts.ask_page);
    link.href = askUrl;
    box.append(link);
    root.append(box);
  }

  function build(config) {
    const texts = config.texts;
    const root = element("div", `rc-widget rc-widget--${form}`);
    root.dataset.referenceChatWidget = slug;
    root.style.setProperty("--rc-widget-bg", config.button_color);
    root.style.setProperty("--rc-widget-ink", config.text_color);
    mount(root);
    if (!config.embeddable) {
      unavailable(root, texts, config.ask_url);
      return;
    }

    const notice = element("p", "rc-widget-notice");
    notice.setAttribute("role", "status");
    notice.setAttribute("aria-live", "polite");

    const panel = element("section", "rc-widget-panel");
    panel.id = `${id}-panel`;
    panel.setAttribute("aria-labelledby", `${id}-title`);
    const header = element("div", "rc-widget-header");
    const title = element("h2", "rc-widget-title", config.title);
    title.id = `${id}-title`;
    const popOut = element("button", "rc-widget-icon rc-widget-popout", "↗");
    popOut.type = "button";
    popOut.setAttribute("aria-label", texts.pop_out);
    popOut.title = texts.pop_out;
    header.append(title, popOut);
    let close = null;
    if (form !== "inline") {
      close = element("button", "rc-widget-icon rc-widget-close", "×");
      close.type = "button";
      close.setAttribute("aria-label", texts.close);
      close.title = texts.close;
      header.append(close);
    }
    panel.append(header);
    let frame = null;

    let launcher = null;
    const status = element("span", "rc-widget-status");
    if (form !== "inline") {
      launcher = element("button", "rc-widget-launcher");
      launcher.type = "button";
      launcher.setAttribute("aria-expanded", "false");
      launcher.setAttribute("aria-controls", panel.id);
      launcher.append(element("span", "rc-widget-label", config.label), status);
    }
    const closed = element("p", "rc-widget-unavailable");
    const closedMessage = element("span", "rc-widget-message");
    const askLink = element("a", "", texts.ask_page);
    askLink.href = config.ask_url;
    closed.append(element("span", "", texts.closed), " ", closedMessage, " ", askLink);
    closed.hidden = true;

    root.append(...(launcher ? [launcher] : []), closed, panel, notice);

    // Our frame's messages, and only theirs (our origin, that very window).
    window.addEventListener("message", (event) => {
      if (!frame || event.source !== frame.contentWindow || event.origin !== base) return;
      const data = event.data || {};
      if (data.queue !== slug) return;
      if (data.type === "reference-chat.token-keep" && typeof data.token === "string") tokenKeep(data.token);
      else if (data.type === "reference-chat.token-forget") tokenKeep(null);
      else if (data.type === "reference-chat.token-request") {
        event.source.postMessage({ type: "reference-chat.token", queue: slug, token: tokenKept() }, base);
      }
    });

    function ensureFrame() {
      if (frame) return;
      frame = element("iframe", "rc-widget-frame");
      frame.title = texts.frame_title;
      frame.src = config.frame_url;
      panel.append(frame);
    }

    function setOpen(isOpen, { focus = false } = {}) {
      if (isOpen) ensureFrame();
      root.classList.toggle("rc-widget--open", isOpen);
      panel.hidden = form !== "inline" && !isOpen;
      if (launcher) launcher.setAttribute("aria-expanded", String(isOpen));
      if (form !== "inline") remember(isOpen);
      if (focus && isOpen && frame) frame.focus();
      if (focus && !isOpen && launcher) launcher.focus();
      if (isOpen) notice.textContent = "";
    }

    let chatOpen = null; // from the status API: null until known
    function showStatus(isOpen, message) {
      chatOpen = isOpen;
      root.dataset.state = isOpen ? "open" : "closed";
      status.textContent = isOpen ? texts.open : texts.closed;
      // The status API's sentence (busy, or when it opens again), in the patron's language.
      closedMessage.textContent = !isOpen && message ? message : "";
      if (launcher) launcher.title = message || "";
      // A closed queue offers the link; a chat already under way stays where it is.
      const going = !panel.hidden && frame;
      closed.hidden = isOpen || going;
      if (launcher) launcher.hidden = !isOpen && !going;
      if (form === "inline") {
        if (isOpen) setOpen(true);
        panel.hidden = !isOpen && !frame;
      }
    }

    if (launcher) {
      launcher.addEventListener("click", () => setOpen(panel.hidden, { focus: true }));
    }
    if (close) close.addEventListener("click", () => setOpen(false, { focus: true }));
    root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && form !== "inline" && !panel.hidden) setOpen(false, { focus: true });
    });
    popOut.addEventListener("click", () => {
      // The pop-up is our page; it asks our frame here for the patron's token
      // (postMessage between our own origin's windows), or offers the form.
      const popup = window.open(
        `${config.frame_url}?popup=1`,
        `reference-chat-${slug}`,
        "popup,width=420,height=640",
      );
      if (!popup) return; // blocked: the panel stays
      if (form !== "inline") {
        remember(false);
        root.classList.remove("rc-widget--open");
        panel.hidden = true;
        if (launcher) launcher.setAttribute("aria-expanded", "false");
      }
      notice.textContent = texts.popped_out;
    });

    panel.hidden = form !== "inline";
    if (form !== "inline" && remembered()) setOpen(true);

    // The queue's own status (GET /api/v1/status/<slug>/). A server without
    // that endpoint yet answers 404 (without CORS) for a queue the config
    // just found; the list (GET /api/v1/status/) says the same per queue.
    async function statusOf() {
      try {
        const one = await getJson(`${base}/api/v1/status/${path}/`);
        if (one.ok) return one.body;
      } catch {
        // not there: the list below
      }
      const all = await getJson(`${base}/api/v1/status/`);
      if (!all.ok) throw new Error(`status ${all.status}`);
      return (all.body.queues || []).find((q) => q.slug === slug) || { open: false };
    }

    async function poll() {
      try {
        const found = await statusOf();
        showStatus(Boolean(found.open), found.message);
      } catch {
        if (chatOpen === null) showStatus(false);
      }
    }
    poll();
    setInterval(poll, POLL_MS);
  }

  async function start() {
    loadStylesheet();
    try {
      const { ok, body } = await getJson(`${base}/widget/${path}/config/`);
      if (ok) {
        build(body);
        return;
      }
      if (body.texts) {
        // An unknown queue: the sentence and the link, never an error.
        const root = element("div", `rc-widget rc-widget--${form}`);
        mount(root);
        unavailable(root, body.texts, fallback ? fallback.href : `${base}/ask/`);
      }
    } catch {
      // Our server can't be reached: the library's link stays as it is.
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
