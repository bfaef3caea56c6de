// The patron's survey after the chat (surveys/views.py): the server renders
// it (the form, or "thank you" once answered) as a fragment shown under the
// end message; it never takes the focus when it appears. Posted by fetch: a
// refusal goes into the form's alert with everything typed left as it was;
// an answer replaces the form with the thanks (focus moves there only from
// the form's own button, so the keyboard isn't left on a removed element).
import { gettext } from "./i18n.js";

export class Survey {
  constructor(box) {
    this.box = box;
    this.url = box.dataset.url;
    this.asked = false;
  }

  // Once per page: the fragment says what to show (nothing, the form, thanks).
  async show() {
    if (this.asked || !this.url) return;
    this.asked = true;
    try {
      const response = await fetch(`${this.url}?fragment=1`, { credentials: "same-origin" });
      if (response.status === 204) return; // no survey for this chat
      if (!response.ok) throw new Error(String(response.status));
      const html = await response.text();
      this.box.replaceChildren(document.createRange().createContextualFragment(html));
      this.box.hidden = false;
      const form = this.box.querySelector("form");
      if (!form) return;
      form.addEventListener("submit", (event) => this.submit(event, form));
      // A refusal says what was wrong with the answer as sent: a change answers it.
      form.addEventListener("change", () => (form.querySelector("[role=alert]").textContent = ""));
    } catch {
      this.asked = false; // asked again at the next render
    }
  }

  async submit(event, form) {
    event.preventDefault();
    const error = form.querySelector("[role=alert]");
    const button = form.querySelector("button[type=submit]");
    error.textContent = "";
    button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        error.textContent = body.detail || gettext("Your answer could not be sent. Please try again.");
        return;
      }
      const thanks = document.createElement("p");
      thanks.className = "survey-thanks";
      thanks.id = "survey-thanks";
      thanks.tabIndex = -1;
      thanks.textContent = body.detail;
      form.replaceWith(thanks);
      thanks.focus();
    } catch {
      error.textContent = gettext("Your answer could not be sent. Please try again.");
    } finally {
      button.disabled = false;
    }
  }
}
