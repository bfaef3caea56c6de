// What every part of the console shares for telling and asking: the
// screen-reader announcer, the toast, modal popups that keep focus (the
// Transfer dialog, which the librarian opens), and the popups that arrive by
// themselves (New Patron Request, New Transferred Chat Session, New IM
// Request), which never take focus.
import { $ } from "./dom.js";

export function announce(text) {
  const announcer = $("announcer");
  announcer.textContent = "";
  // A fresh text node after a tick makes screen readers read repeats too.
  setTimeout(() => (announcer.textContent = text), 50);
}

let toastTimer;
export function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (node.hidden = true), 6000);
}

// Whether `node` can take focus now: still on the page, shown, not disabled.
function focusable(node) {
  return Boolean(node && node.isConnected && !node.disabled && node.getClientRects().length > 0);
}

// Focus goes to the first of `candidates` that can take it: where it was
// before a popup, or, when that is gone (the Transfer button of a session
// that moved), somewhere near it. Returns whether one took it.
export function giveFocusBack(...candidates) {
  const target = candidates.find(focusable);
  target?.focus();
  return Boolean(target);
}

// Shows `dialog` as a modal popup with focus on `first`; returns what had
// focus before, for the popup's close handler to give it back. Only for what
// the librarian opened themselves.
export function openModal(dialog, first) {
  const before = document.activeElement;
  dialog.showModal();
  first.focus();
  return before;
}

// ---------------------------------------------------------------- popups that arrive

// A popup nobody asked for must never take a keystroke meant for the reply
// box: it shows without modality and without focus (the `open` attribute,
// not show(), which moves focus into it), and is announced. The librarian
// goes to it with POPUP_KEY (the newest first, again for the next one) and
// back with Escape, to where they were.
export const POPUP_KEY = "Alt+Shift+N";
const isPopupKey = (event) => event.altKey && event.shiftKey && !event.ctrlKey && !event.metaKey && event.code === "KeyN";

let arrived = []; // the open popups, oldest first
let lastOutside = null; // the last element outside every popup that had focus

// Announces `text` about a popup that just arrived, with the way to it.
export function announcePopup(text) {
  announce(`${text} Press ${POPUP_KEY} to go to it.`);
}

export function showPopup(dialog) {
  if (!dialog.open) dialog.setAttribute("open", "");
  arrived = [...arrived.filter((d) => d !== dialog), dialog];
}

// Where POPUP_KEY goes, in turn: each open popup's main button (newest
// first), then whatever a part marked `data-popup-target` (the offers still
// open under "Offers to you").
function popupTargets() {
  const buttons = [...arrived]
    .reverse()
    .filter((d) => d.open && !d.matches(":modal"))
    .map((d) => [d.querySelector(".button-primary"), ...d.querySelectorAll("button")].find(focusable));
  return [...buttons, ...document.querySelectorAll("[data-popup-target]")].filter(focusable);
}

function goToPopup() {
  const targets = popupTargets();
  if (!targets.length) {
    announce("No popup is open.");
    return;
  }
  const at = targets.findIndex(
    (t) => t === document.activeElement || (t.closest("dialog")?.contains(document.activeElement) ?? false),
  );
  targets[(at + 1) % targets.length].focus();
}

function insidePopup(node) {
  return arrived.some((d) => d.contains(node));
}

// Tab and Shift+Tab go round inside an open popup. showModal() makes the page
// behind inert, but Chromium lets Tab leave the page for its own toolbar, and
// a keyboard user would then have to find the way back into the popup.
function tabbables(container) {
  return [...container.querySelectorAll("button, [href], input, select, textarea, [tabindex]")].filter(
    (node) => !node.disabled && node.tabIndex >= 0 && node.getClientRects().length > 0,
  );
}

export function trapFocusInDialogs() {
  for (const popup of document.querySelectorAll("dialog")) {
    popup.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !popup.matches(":modal")) {
        // A popup that arrived has no close request of its own: Escape is
        // its "cancel", which its part may refuse, then it closes.
        event.preventDefault();
        if (popup.dispatchEvent(new Event("cancel", { cancelable: true }))) popup.close();
        return;
      }
      if (event.key !== "Tab") return;
      const nodes = tabbables(popup);
      if (!nodes.length) return;
      const first = nodes[0];
      const last = nodes[nodes.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    });
    popup.addEventListener("close", () => {
      // Not one that arrived, or shown again meanwhile (the next offer).
      if (!arrived.includes(popup) || popup.open) return;
      arrived = arrived.filter((d) => d !== popup);
      // Closed with focus in it (Escape, an answer, or it went by itself):
      // focus goes back to where the librarian was before going to it.
      const active = document.activeElement;
      if (active === document.body || active === null || popup.contains(active)) giveFocusBack(lastOutside);
    });
  }
  document.addEventListener("focusin", (event) => {
    if (!insidePopup(event.target) && event.target !== document.body) lastOutside = event.target;
  });
  document.addEventListener("keydown", (event) => {
    if (!isPopupKey(event)) return;
    event.preventDefault();
    goToPopup();
  });
}
