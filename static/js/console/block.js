// Block (the Patron Chat pane): end the selected session and keep its
// patron's connection from starting a new chat for a while, after a confirm
// dialog that asks why. Protocol (docs/protocol.md): `session.block`
// answered by `session.blocked`, then `session.closed` as for End Session.
import { $ } from "./dom.js";
import { announce, openModal, toast } from "./dialogs.js";
import { send } from "./protocol.js";
import * as state from "./state.js";

const dialog = $("block-dialog");
let focusBefore = null;
let blocking = null; // the id of the session the open dialog is about

function openBlockDialog() {
  const session = state.activeSession(state.selectedId());
  if (!session || session.state !== "active") return;
  blocking = session.id;
  $("block-patron").textContent = session.patron_name;
  $("block-reason").value = "";
  $("block-error").textContent = "";
  $("block-confirm").disabled = false;
  focusBefore = openModal(dialog, $("block-reason"));
}

function refused(error) {
  if (!dialog.open) {
    toast(error.message);
    return;
  }
  $("block-error").textContent = error.message;
  $("block-confirm").disabled = false;
  $("block-reason").focus();
}

function confirmBlock(event) {
  event.preventDefault();
  const reason = $("block-reason").value.trim();
  if (!reason) {
    $("block-error").textContent = "Please say why you are blocking this patron.";
    $("block-reason").focus();
    return;
  }
  $("block-error").textContent = "";
  if (send({ type: "session.block", session: blocking, reason }, { onError: refused })) {
    $("block-confirm").disabled = true;
  }
}

// Back where the librarian was; once the session has ended the Block button
// is gone, and the session's heading takes the focus instead.
function restoreFocus() {
  const back = focusBefore;
  focusBefore = null;
  blocking = null;
  if (back && back.isConnected && back.getClientRects().length > 0 && !back.disabled) back.focus();
  else $("session-title").focus();
}

function untilText(iso) {
  return new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

export const handlers = {
  "session.blocked"(frame) {
    const session = state.activeSession(frame.session);
    const name = session ? session.patron_name : "The patron";
    const text = frame.until
      ? `${name} is blocked from new chats until ${untilText(frame.until)}. The chat has ended.`
      : `The chat with ${name} has ended. Their connection was not recorded, so no block was made.`;
    if (dialog.open && blocking === frame.session) {
      focusBefore = null; // Block goes with the session: its heading takes the focus
      dialog.close();
    }
    announce(text);
    toast(text);
  },
};

export function initialize() {
  $("block-session").addEventListener("click", openBlockDialog);
  $("block-form").addEventListener("submit", confirmBlock);
  $("block-cancel").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", restoreFocus);
}
