"""The transcripts a run owes: waiting until the worker sent each, and the mail report."""

import asyncio
import os
import time

from faults.check import Stored, Tally
from faults.stack import log
from faults.state import RunState

# After the settling, how long to wait for every transcript owed to be sent.
TRANSCRIPT_WAIT = 40.0


class Accounting(RunState):
    """The worker's side of a run: transcripts owed, sent, and what the mail server got."""

    async def _transcripts_sent(self) -> None:
        """Wait (up to TRANSCRIPT_WAIT) until every ended session with an address
        has its transcript recorded as sent."""
        started = time.monotonic()
        owed = 0
        while time.monotonic() - started < TRANSCRIPT_WAIT:
            if not self.stack.worker_alive():
                exited = self.stack.worker_exited()
                self.faults.errors.append(f"the worker exited by itself with status {exited}")
                self.stack.start_worker()
            owed = await asyncio.to_thread(self._transcripts_owed)
            if not owed:
                break
            await asyncio.sleep(0.25)
        self.faults.transcripts_waited = time.monotonic() - started
        if owed:
            log(f"t={self.t():.1f}s {owed} transcripts still not sent after {TRANSCRIPT_WAIT:g} s")
        else:
            log(
                f"t={self.t():.1f}s every transcript owed is sent "
                f"(waited {self.faults.transcripts_waited:.1f} s)"
            )

    def _mail_report(self, stored: Stored, tally: Tally) -> list[str]:
        recorder = self.mail.recorder
        mails = recorder.received()
        f = self.faults
        down = ", ".join(f"t={a - self.wall0:.1f}..{b - self.wall0:.1f}" for a, b in f.worker_down)
        closed = [i for i in stored.sessions.values() if i["state"] == "closed"]
        resent, gaps = 0, []
        for message_id, cut_at in recorder.aborted:
            later = [m.received_at for m in mails if m.message_id == message_id]
            if later:
                resent += 1
                gaps.append(f"{min(later) - cut_at:.1f}")
        during = sum(
            1
            for i in closed
            if i["closed_at"] is not None
            and any(a <= i["closed_at"] <= b for a, b in f.worker_down)
        )
        out = [
            f"worker: killed {f.worker_kills} times ({f.worker_kills_mid_send} mid-send, "
            f"{f.worker_kills_due} while transcripts were owed), started again "
            f"{f.worker_restarts} times; down {down}",
            f"sessions ended: {dict(sorted(f.ended.items()))}, {during} while the worker "
            f"was down, {f.end_fallbacks} librarian ends done by the patron (not picked up yet)",
            f"mail: {len(mails)} messages for {tally.transcripts} transcripts owed; "
            f"{len(recorder.aborted)} sends cut off by a worker kill before the server's yes, "
            f"{resent} of them sent again (after {', '.join(gaps) or '-'} s); "
            f"{sum(i['attempts'] > 1 for i in closed)} transcripts needed a retry after a "
            "failed send",
            f"lines refused because their session had ended: {tally.refused_after_end} "
            f"(expected); console lines of ended sessions read only after the end: "
            f"{sum(c.after_end_lines for c in self.consoles)}",
        ]
        if os.environ.get("FAULTS_VERBOSE"):
            out.extend(d for c in self.consoles for d in c.after_end_detail)
        if recorder.errors:
            out.append(f"mail server errors: {recorder.errors[:5]}")
        tasks = self._task_states()
        if tasks:
            out.append(f"task rows: {tasks}")
        return out

    def _task_states(self) -> dict[str, int]:
        try:
            with self.stack.connect_db() as conn:
                rows = conn.execute(
                    "SELECT status, count(*) FROM django_tasks_database_dbtaskresult "
                    "GROUP BY status ORDER BY status"
                ).fetchall()
        except Exception as error:
            return {f"unreadable: {type(error).__name__}": 0}
        return {str(status): int(n) for status, n in rows}
