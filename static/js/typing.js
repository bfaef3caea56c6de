// Typing indicators, both pages (docs/protocol.md, "Typing"): what a
// composer sends while someone types, and the line that shows the other
// side's. Nothing here carries what is typed: a frame says only that.

// At most one typing frame this often while someone keeps typing: a little
// over the server's 3 s (TYPING_EVENT_SECONDS), so that a frame that travels
// faster than the one before isn't dropped there and the indicator doesn't
// fade while the typing goes on.
export const TYPING_SEND_MS = 3200;
// The indicator goes away this long after the last typing event.
export const TYPING_SHOW_MS = 6000;

// One composer's typing frames. `send(started)` sends the frame (and says
// whether it went); `changed(value)` is called on the box's `input` event,
// which keys that type nothing (Shift, arrows, Tab …) never fire.
export class TypingSender {
  constructor(send) {
    this.send = send;
    this.lastSent = -Infinity;
    this.typing = false;
  }

  changed(value) {
    if (!value.trim()) {
      this.stopped();
      return;
    }
    const now = Date.now();
    if (now - this.lastSent < TYPING_SEND_MS) return;
    if (this.send(true)) {
      this.lastSent = now;
      this.typing = true;
    }
  }

  // The line was sent, the box emptied, or typing here no longer counts
  // (note mode): the other side's indicator goes at once.
  stopped() {
    if (!this.typing) return;
    this.typing = false;
    this.send(false);
  }
}

// The other side's typing, in `element`: a status line apart from the log
// (role="status", aria-live="polite"). Its text is set once when the typing
// starts, so a screen reader says it once, not on every event.
export class TypingIndicator {
  constructor(element, { onChange = () => {} } = {}) {
    this.element = element;
    this.onChange = onChange;
    this.timer = null;
  }

  get shown() {
    return this.element.textContent !== "";
  }

  show(text) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.hide(), TYPING_SHOW_MS);
    if (this.element.textContent === text) return;
    this.element.textContent = text;
    this.onChange(true);
  }

  hide() {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.shown) return;
    this.element.textContent = "";
    this.onChange(false);
  }
}
