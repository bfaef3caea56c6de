// Transfer offers as events, both sides, and the receiver's New Transferred
// Chat Session box: who offers whom, the question and note, the countdown,
// OK and Decline. One box at a time; other offers to me wait in state.
import { el, playAlert } from "../socket.js";
import { renderActive, select } from "./chat.js";
import { $ } from "./dom.js";
import { announce, openModal, toast } from "./dialogs.js";
import { send, settle } from "./protocol.js";
import * as state from "./state.js";
import { selectTab } from "./tabs.js";
import { refreshOfferViews } from "./transfer.js";

const offerDialog = $("offer-dialog");
let offerShown = null; // the offer the box shows
let focusBeforeOffer = null;

const answerKey = (offerId) => `transfer.answer:${offerId}`;

export function showOffer(offer) {
  if (offerDialog.open && offerShown !== offer.id) return; // one at a time; the rest wait in state
  offerShown = offer.id;
  announce(`New Transferred Chat Session from ${offer.sender.display_name}: ${offer.session.patron_name}.`);
  if (state.settings().alert_sound) playAlert();
  $("offer-error").textContent = "";
  $("offer-dialog-body").replaceChildren(
    el("p", {}, el("strong", {}, offer.sender.display_name), ` (${offer.sender.staff_id}) wants to transfer a patron to you.`),
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
    el("p", { class: "muted small", id: "offer-countdown" }, `${state.secondsLeft(offer)} s left to answer.`),
  );
  $("offer-ok").disabled = false;
  $("offer-decline").disabled = false;
  if (!offerDialog.open) focusBeforeOffer = openModal(offerDialog, $("offer-ok"));
}

function closeOfferDialog(offerId) {
  if (offerShown !== offerId) return;
  offerShown = null;
  if (offerDialog.open) offerDialog.close();
  // The next open offer to me, if any, takes its place.
  const next = state.nextOfferToMe();
  if (next) showOffer(next);
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

// OK or Decline came too late (expired, cancelled, the patron left): nothing
// changed; the offer is gone, and if the box still shows it, it goes away
// with the reason said.
function tooLate(offerId, error) {
  state.removeOffer(offerId);
  if (offerShown === offerId && offerDialog.open) {
    closeOfferDialog(offerId);
    toast(error.message);
    announce(error.message);
    return;
  }
  toast(error.message);
}

function offerEnded(offer, message) {
  state.removeOffer(offer.id);
  if (offer.receiver.id === state.myId()) {
    if (offerShown === offer.id) {
      closeOfferDialog(offer.id);
      toast(`${offer.sender.display_name}'s transfer of ${offer.session.patron_name} is no longer open.`);
    }
    return;
  }
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
      announce(`Transfer offered to ${offer.receiver.display_name}. Waiting for an answer.`);
      refreshOfferViews(offer.session.id);
    }
  },
  "transfer.accepted"(frame) {
    const offer = frame.offer;
    state.removeOffer(offer.id);
    if (offer.receiver.id === state.myId()) {
      settle(answerKey(offer.id));
      closeOfferDialog(offer.id);
      if (frame.detail) {
        state.addActive(frame.detail);
        renderActive();
        selectTab("tab-chat");
        select(offer.session.id);
        announce(`You took ${offer.session.patron_name}'s session from ${offer.sender.display_name}.`);
      }
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
    offerEnded(frame.offer, `${frame.offer.receiver.display_name} declined the transfer. ${frame.offer.session.patron_name}'s session stays with you.`);
  },
  "transfer.expired"(frame) {
    offerEnded(frame.offer, `${frame.offer.receiver.display_name} did not answer in time. ${frame.offer.session.patron_name}'s session stays with you.`);
  },
  "transfer.cancelled"(frame) {
    offerEnded(frame.offer, frame.reason ? `Transfer cancelled: ${frame.reason}` : "The transfer was cancelled.");
  },
};

export function initialize() {
  setInterval(() => {
    const offer = offerShown !== null && state.offerById(offerShown);
    if (offerDialog.open && offer) $("offer-countdown").textContent = `${state.secondsLeft(offer)} s left to answer.`;
  }, 1000);
  $("offer-ok").addEventListener("click", () => answer("transfer.accept"));
  $("offer-decline").addEventListener("click", () => answer("transfer.decline"));
  offerDialog.addEventListener("cancel", (event) => {
    // Escape leaves the offer open (it still expires); the box closes for now.
    offerShown = null;
    event.stopPropagation();
  });
  offerDialog.addEventListener("close", () => {
    if (focusBeforeOffer && document.activeElement === document.body) focusBeforeOffer.focus();
  });
}
