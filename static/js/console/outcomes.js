// What became of the transfer offers and requests this console showed but
// never heard the end of (its socket was away when the event went): a
// snapshot without them closes their boxes, and this asks the server what
// happened (console.outcomes, docs/protocol.md) and says it, with who has
// the session now.
import { announce, toast } from "./dialogs.js";
import { send } from "./protocol.js";
import * as state from "./state.js";

// Asks about the offers and requests gone from the console unheard.
export function explainGone({ offers, sessions }) {
  if (!offers.length && !sessions.length) return;
  send({ type: "console.outcomes", offers, sessions }, { quiet: true });
}

const isMe = (who) => who && who.id === state.myId();

// Who has the session now, in a sentence.
function whoHasIt(patronName, now) {
  if (now.state === "closed") return `${patronName}'s session has ended.`;
  if (now.state === "waiting") return `${patronName} is waiting under New.`;
  if (isMe(now.primary)) return `${patronName}'s session is with you.`;
  return `${patronName}'s session is with ${now.primary.display_name} now.`;
}

function offerOutcome(offer) {
  const patron = offer.session.patron_name;
  const now = offer.now;
  const where = whoHasIt(patron, now);
  if (isMe(offer.receiver)) {
    const from = offer.sender.display_name;
    return {
      accepted: `You took ${patron}'s session from ${from}.`,
      declined: `You declined ${from}'s transfer of ${patron}. ${where}`,
      expired: `${from}'s transfer of ${patron} ran out of time before an answer. ${where}`,
      cancelled:
        now.state === "closed"
          ? `${from}'s transfer of ${patron} was withdrawn: the session ended.`
          : `${from} cancelled the transfer of ${patron}. ${where}`,
    }[offer.state];
  }
  const to = offer.receiver.display_name;
  return {
    // Said who has it only if it moved on since.
    accepted:
      now.state === "active" && now.primary?.id === offer.receiver.id
        ? `${to} took ${patron}'s session.`
        : `${to} took ${patron}'s session. ${where}`,
    declined: `${to} declined the transfer of ${patron}. ${where}`,
    expired: `${to} did not answer the transfer of ${patron} in time. ${where}`,
    cancelled: `The transfer of ${patron} to ${to} was cancelled. ${where}`,
  }[offer.state];
}

function requestOutcome(session) {
  const patron = session.patron_name;
  if (session.state === "active") {
    return isMe(session.primary)
      ? `You picked up ${patron}'s request.`
      : `${session.primary.display_name} picked up ${patron}'s request.`;
  }
  if (session.state === "closed") return `${patron} left before anyone picked up the request.`;
  if (state.waitingRow(session.id)) return null; // back under New by now: nothing to explain
  return `${patron}'s request waits in ${session.queue.name}, which you don't monitor now.`;
}

export const handlers = {
  "console.outcomes"(frame) {
    const said = [
      ...frame.offers.map(offerOutcome),
      ...frame.sessions.map(requestOutcome),
    ].filter(Boolean);
    if (!said.length) return;
    const text = said.join(" ");
    toast(text);
    announce(text);
  },
};
