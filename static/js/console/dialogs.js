// What every part of the console shares for telling and asking: the
// screen-reader announcer, the toast, and modal popups that keep focus.
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

// Shows `dialog` as a modal popup with focus on `first`; returns what had
// focus before, for the popup's close handler to give it back.
export function openModal(dialog, first) {
  const before = document.activeElement;
  dialog.showModal();
  first.focus();
  return before;
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
  }
}
