// Transfer offers as events, both sides, and the receiver's New Transferred
// Chat Session box: who offers whom, the question and note, the countdown,
// OK and Decline. One box at a time; every other open offer to me (waiting
// behind it, or put away with Escape) stays under "Offers to you" with its
// countdown, one Show away, until it is answered or expires.
import { el, playAlert } from "../socket.js";
import { renderActive, select } from "./chat.js";
import { $ } from "./dom.js";
import { POPUP_KEY, announce, announcePopup, showPopup, toast } from "./dialogs.js";
import { send, settle } from "./protocol.js";
import * as state from "./state.js";
import { selectTab } from "./tabs.js";
import { refreshOfferViews } from "./transfer.js";

const offerDialog = $("offer-dialog");
let offerShown = null; // the offer the box shows
const alerted = new Set(); // offers to me already announced (a snapshot doesn't ring again)
const putAway = new Set(); // offers to me the librarian put away with Escape

const answerKey = (offerId) => `transfer.answer:${offerId}`;
const offersToMe = () => state.offers().filter((o) => o.receiver.id === state.myId());
const countdown = (offer) => `${state.secondsLeft(offer)} s left to answer.`;

// Shows `offer` in the box, unless the box shows another (it then waits under
// "Offers to you"). `asked`: the librarian asked for it (Show), so it takes
// the box from any other and the focus goes to its OK.
export function showOffer(offer, { asked = false } = {}) {
  const join = offer.kind === "join";
  if (!alerted.has(offer.id)) {
    alerted.add(offer.id);
    announcePopup(
      join
        ? `Invitation to Join a Chat Session from ${offer.sender.display_name}: ${offer.session.patron_name}.`
        : `New Transferred Chat Session from ${offer.sender.display_name}: ${offer.session.patron_name}.`,
    );
    if (state.settings().alert_sound) playAlert();
  }
  if (!asked && offerDialog.open && offerShown !== offer.id) {
    renderOffersToMe();
    return;
  }
  putAway.delete(offer.id);
  offerShown = offer.id;
  $("offer-error").textContent = "";
  $("offer-dialog-title").textContent = join ? "Invitation to Join a Chat Session" : "New Transferred Chat Session";
  $("offer-dialog-body").replaceChildren(
    el(
      "p",
      {},
      el("strong", {}, offer.sender.display_name),
      join
        ? ` (${offer.sender.staff_id}) invites you to join a chat with a patron. ${offer.sender.display_name} keeps the session; you can write to the patron and add notes.`
        : ` (${offer.sender.staff_id}) wants to transfer a patron to you.`,
    ),
    el(
      "dl",
      { class: "facts" },
      el("dt", {}, "Patron"),
      el("dd", {}, offer.session.patron_name),
      el("dt", {}, "Library"),
      el("dd", {}, `${offer.session.library.name} · ${offer.session.queue.name}`),
      el("dt", {}, "Question"),
      el("dd", {}, offer.session.question),
      el("dt", {}, "Note"),
      el("dd", {}, offer.note || "—"),
    ),
    el("p", { class: "muted small", id: "offer-countdown" }, countdown(offer)),
  );
  $("offer-ok").disabled = false;
  $("offer-decline").disabled = false;
  showPopup(offerDialog);
  if (asked) $("offer-ok").focus();
  renderOffersToMe();
}

// Every open offer to me: the box shows one, unless put away; the others are
// listed under "Offers to you". On each snapshot.
export function renderOffers() {
  // A box or an entry whose offer the snapshot no longer has: gone. Why is
  // told by outcomes.js (it asks the server, as for every offer gone unheard).
  for (const id of [...alerted]) {
    if (state.offerById(id)) continue;
    alerted.delete(id);
    putAway.delete(id);
    if (offerShown === id) closeOfferDialog(id);
  }
  for (const offer of offersToMe()) if (!putAway.has(offer.id)) showOffer(offer);
  renderOffersToMe();
}

// "Offers to you": each open offer to me that the box doesn't show, with its
// countdown and Show. Rebuilt only when the offers change; the countdowns
// tick in place, so a focused Show keeps its focus.
function renderOffersToMe() {
  const waiting = offersToMe().filter((o) => !(offerDialog.open && offerShown === o.id));
  const list = $("offers-to-me-list");
  const ids = waiting.map((o) => String(o.id)).join(",");
  if (list.dataset.ids !== ids) {
    const focusedId = document.activeElement?.closest?.("#offers-to-me-list li")?.dataset.id;
    list.dataset.ids = ids;
    list.replaceChildren(
      ...waiting.map((offer) =>
        el(
          "li",
          { dataset: { id: offer.id } },
          el(
            "span",
            {},
            el("strong", {}, offer.sender.display_name),
            offer.kind === "join"
              ? ` invites you to join ${offer.session.patron_name} (${offer.session.queue.name}): `
              : ` offers you ${offer.session.patron_name} (${offer.session.queue.name}): `,
            el("span", { class: "offer-left", dataset: { offer: offer.id } }, countdown(offer)),
          ),
          el(
            "button",
            {
              type: "button",
              class: "button",
              dataset: { popupTarget: "" },
              "aria-label": `Show ${offer.sender.display_name}'s offer: ${offer.session.patron_name}`,
              onclick: () => showOffer(state.offerById(offer.id) || offer, { asked: true }),
            },
            "Show",
          ),
        ),
      ),
    );
    if (focusedId) list.querySelector(`li[data-id="${focusedId}"] button`)?.focus();
  }
  $("offers-to-me").hidden = waiting.length === 0;
}

function tickCountdowns() {
  const shown = offerShown !== null && state.offerById(offerShown);
  if (offerDialog.open && shown) $("offer-countdown").textContent = countdown(shown);
  for (const span of document.querySelectorAll("#offers-to-me-list .offer-left")) {
    const offer = state.offerById(Number(span.dataset.offer));
    if (offer) span.textContent = countdown(offer);
  }
}

function closeOfferDialog(offerId) {
  if (offerShown !== offerId) return;
  offerShown = null;
  if (offerDialog.open) offerDialog.close();
  // The next open offer to me, if any and not put away, takes its place.
  const next = offersToMe().find((o) => !putAway.has(o.id));
  if (next) showOffer(next);
  renderOffersToMe();
}

// OK or Decline: the box waits for the answer with both buttons off.
function answer(type) {
  if (offerShown === null) return;
  const offerId = offerShown;
  const sent = send({ type, offer: offerId }, { key: answerKey(offerId), onError: (error) => tooLate(offerId, error) });
  if (sent) {
    $("offer-ok").disabled = true;
    $("offer-decline").disabled = true;
  }
}

// Forgets an offer to me that is no longer open, wherever it showed.
function forget(offerId) {
  state.removeOffer(offerId);
  alerted.delete(offerId);
  putAway.delete(offerId);
  closeOfferDialog(offerId);
  renderOffersToMe();
}

// OK or Decline came too late (expired, cancelled, the patron left): nothing
// changed; the offer is gone, and if the box still shows it, it goes away
// with the reason said.
function tooLate(offerId, error) {
  const shown = offerShown === offerId && offerDialog.open;
  forget(offerId);
  if (shown) announce(error.message);
  toast(error.message);
}

function offerEnded(offer, message) {
  if (offer.receiver.id === state.myId()) {
    const known = alerted.has(offer.id);
    forget(offer.id);
    if (known) toast(`${offer.sender.display_name}'s ${offer.kind === "join" ? "invitation to join" : "transfer of"} ${offer.session.patron_name} is no longer open.`);
    return;
  }
  state.removeOffer(offer.id);
  announce(message);
  toast(message);
  refreshOfferViews(offer.session.id);
}

export const handlers = {
  "transfer.offered"(frame) {
    const offer = frame.offer;
    state.putOffer(offer);
    if (offer.receiver.id === state.myId()) {
      showOffer(offer);
    } else {
      announce(`${offer.kind === "join" ? "Invitation to join sent" : "Transfer offered"} to ${offer.receiver.display_name}. Waiting for an answer.`);
      refreshOfferViews(offer.session.id);
    }
  },
  "transfer.accepted"(frame) {
    const offer = frame.offer;
    if (offer.receiver.id === state.myId()) {
      settle(answerKey(offer.id));
      forget(offer.id);
      if (frame.detail) {
        state.addActive(frame.detail);
        renderActive();
        selectTab("tab-chat");
        select(offer.session.id);
        announce(
          offer.kind === "join"
            ? `You joined ${offer.session.patron_name}'s chat with ${offer.sender.display_name}.`
            : `You took ${offer.session.patron_name}'s session from ${offer.sender.display_name}.`,
        );
      }
      return;
    }
    state.removeOffer(offer.id);
    if (offer.kind === "join") {
      // The session stays mine: one more librarian in it (session.team follows).
      if (frame.line) state.addSessionLine(offer.session.id, frame.line);
      const t = state.transfer();
      if (t && t.session === offer.session.id) state.setTransfer({ ...t, joined: offer.receiver.display_name });
      announce(`${offer.receiver.display_name} joined ${offer.session.patron_name}'s chat.`);
      toast(`${offer.receiver.display_name} joined ${offer.session.patron_name}'s chat.`);
      refreshOfferViews(offer.session.id);
      return;
    }
    state.patchSession(offer.session.id, { state: "transferred", transferred_to: offer.receiver.display_name });
    if (frame.line) state.addSessionLine(offer.session.id, frame.line);
    announce(`${offer.receiver.display_name} took ${offer.session.patron_name}'s session.`);
    toast(`${offer.receiver.display_name} took ${offer.session.patron_name}'s session.`);
    refreshOfferViews(offer.session.id);
  },
  "transfer.declined"(frame) {
    if (frame.offer.receiver.id === state.myId()) settle(answerKey(frame.offer.id));
    offerEnded(
      frame.offer,
      frame.offer.kind === "join"
        ? `${frame.offer.receiver.display_name} declined the invitation to join ${frame.offer.session.patron_name}'s chat.`
        : `${frame.offer.receiver.display_name} declined the transfer. ${frame.offer.session.patron_name}'s session stays with you.`,
    );
  },
  "transfer.expired"(frame) {
    offerEnded(
      frame.offer,
      frame.offer.kind === "join"
        ? `${frame.offer.receiver.display_name} did not answer the invitation to join in time.`
        : `${frame.offer.receiver.display_name} did not answer in time. ${frame.offer.session.patron_name}'s session stays with you.`,
    );
  },
  "transfer.cancelled"(frame) {
    const what = frame.offer.kind === "join" ? "Invitation to join" : "Transfer";
    offerEnded(frame.offer, frame.reason ? `${what} cancelled: ${frame.reason}` : `The ${what.toLowerCase()} was cancelled.`);
  },
};

export function initialize() {
  setInterval(tickCountdowns, 1000);
  $("offer-ok").addEventListener("click", () => answer("transfer.accept"));
  $("offer-decline").addEventListener("click", () => answer("transfer.decline"));
  offerDialog.addEventListener("cancel", () => {
    // Escape puts the box away; the offer stays open (until it expires)
    // under "Offers to you", with its countdown and Show.
    if (offerShown === null) return;
    const offer = state.offerById(offerShown);
    putAway.add(offerShown);
    offerShown = null;
    if (offer) {
      announce(
        `${offer.sender.display_name}'s transfer of ${offer.session.patron_name} stays open under Offers to you until it expires. ${POPUP_KEY} goes back to it.`,
      );
    }
  });
  offerDialog.addEventListener("close", () => {
    if (offerShown !== null) return; // closed by an answer, handled there
    renderOffersToMe();
  });
}
