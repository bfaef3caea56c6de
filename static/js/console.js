// The librarian's console: monitoring, New, My Active, Patron Chat,
// Librarians, IM, transfers, Questions, Wrap-up, Chat History and Settings (with
// Scripts), and the reply box's Scripts list. Protocol:
// docs/protocol.md (console socket). Each part is an ES module under
// console/ (docs/architecture.md, "The console's front end"); this entry
// wires them: their frame handlers into the socket's table, their page
// listeners, and the whole snapshot every part renders from.
import * as block from "./console/block.js";
import * as chat from "./console/chat.js";
import { trapFocusInDialogs } from "./console/dialogs.js";
import { $ } from "./console/dom.js";
import * as history from "./console/history.js";
import * as questions from "./console/questions.js";
import * as scriptpicker from "./console/scriptpicker.js";
import * as scripts from "./console/scripts.js";
import { reportActivityWith } from "./idle.js";
import * as im from "./console/im.js";
import * as librarians from "./console/librarians.js";
import * as newlist from "./console/newlist.js";
import * as offers from "./console/offers.js";
import * as pages from "./console/pages.js";
import * as outcomes from "./console/outcomes.js";
import { connect, handle, reportActivity, watch } from "./console/protocol.js";
import * as settings from "./console/settings.js";
import * as state from "./console/state.js";
import * as stats from "./console/stats.js";
import * as sync from "./console/sync.js";
import * as tabs from "./console/tabs.js";
import * as team from "./console/team.js";
import * as transfer from "./console/transfer.js";
import * as typing from "./console/typing.js";
import * as wrapup from "./console/wrapup.js";

const snapshot = {
  // On every connect, on console.sync and when monitoring changes: the whole
  // state again, and every part drawn from it. Offers and requests on screen
  // that it no longer has ended while no event could reach this console:
  // their boxes close, and outcomes.js says what became of them.
  "console.snapshot"(frame) {
    $("connection").textContent = "Connected";
    const offersBefore = state.offerIds();
    const requestsBefore = newlist.requestsShown();
    state.applySnapshot(frame);
    settings.renderMonitoring();
    settings.renderSettings();
    newlist.renderNew();
    chat.renderActive();
    chat.renderPane();
    librarians.renderLibrarians();
    im.renderImList();
    im.renderImPane();
    offers.renderOffers();
    settings.renderMonitoringStatus();
    team.renderLiveTab();
    wrapup.applySnapshot(frame);
    outcomes.explainGone({
      offers: offersBefore.filter((id) => !state.offerById(id)),
      sessions: requestsBefore.filter((id) => !state.waitingRow(id)),
    });
  },
};

for (const part of [snapshot, newlist.handlers, chat.handlers, sync.handlers, librarians.handlers, im.handlers, transfer.handlers, offers.handlers, outcomes.handlers, settings.handlers, block.handlers, typing.handlers, questions.handlers, team.handlers, wrapup.handlers]) {
  handle(part);
}
watch(sync.noteChange);

trapFocusInDialogs();
reportActivityWith(reportActivity);
for (const part of [tabs, newlist, chat, pages, settings, librarians, im, history, questions, scripts, scriptpicker, transfer, offers, block, typing, team, wrapup, stats]) part.initialize();

connect({
  onOpen: () => {
    chat.resendLines();
    pages.resendPush();
  },
});
