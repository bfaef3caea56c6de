"""Who ends each patron's session, and when: most while the faults go on, by
either side, the rest in the settling; then whether every session ended.
"""

import asyncio
import contextlib
import time
from typing import Any

from faults.check import Stored
from faults.librarian import Console
from faults.patron import Patron
from faults.stack import log
from faults.state import RunState


class Endings(RunState):
    """Ending the sessions: planned at the start, done by a console or the patron."""

    def _plan_ends(self) -> tuple[list[tuple[float, Patron, str]], list[tuple[Patron, str]]]:
        """Who ends each patron's session, and when: most at random moments of
        the last half of the traffic (faults still happening), by the patron or
        by the librarian, half each; two (with four patrons or more) only in the
        settling, one by each side."""
        order = list(self.patrons)
        self.rng.shuffle(order)
        keep = 2 if len(order) >= 4 else 0
        settle = [(p, who) for p, who in zip(order[:keep], ["patron", "librarian"], strict=False)]
        mid = order[keep:]
        sides = ["patron", "librarian"] * (len(mid) // 2 + 1)
        sides = sides[: len(mid)]
        self.rng.shuffle(sides)
        d = self.args.duration
        times = sorted(self.rng.uniform(0.5, 0.95) * d for _ in mid)
        return list(zip(times, mid, sides, strict=True)), settle

    async def _endings(self) -> None:
        """End the sessions of the plan as their time comes, or at once when the
        worker was just killed (a transcript due while no worker runs)."""
        ends: list[asyncio.Task[Any]] = []
        for k, (at, patron, who) in enumerate(self.ends_mid):
            while not self.stop_talking.is_set() and self.t() < at:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.end_now.wait(), max(0.01, at - self.t()))
                if self.end_now.is_set():
                    self.end_now.clear()
                    break
            if self.stop_talking.is_set():
                # The traffic ended first: these end in the settling.
                self.ends_settle += [(p, w) for _, p, w in self.ends_mid[k:]]
                break
            ends.append(self.spawn(self._end(patron, who, "traffic")))
        await asyncio.gather(*ends, return_exceptions=True)

    async def _end(self, patron: Patron, who: str, phase: str) -> None:
        deadline = time.monotonic() + 20
        while patron.token is None and time.monotonic() < deadline:
            await asyncio.sleep(0.1)  # it hasn't asked yet
        if patron.token is None:
            self.faults.errors.append(f"{patron.name}: no session to end")
            return
        sid, state, primary = await asyncio.to_thread(self._session_of, patron.token)
        if state == "closed":
            log(f"t={self.t():.1f}s {patron.name}'s session {sid} has already ended")
            return
        if who == "librarian":
            console = next((c for c in self.consoles if c.librarian_id == primary), None)
            if state == "active" and console is not None and sid is not None:
                log(f"t={self.t():.1f}s {console.name} ends session {sid} ({patron.name})")
                if not await console.end(sid, deadline):
                    self.faults.errors.append(f"{console.name} could not end session {sid}")
                self.faults.ended[f"librarian, {phase}"] += 1
                return
            self.faults.end_fallbacks += 1  # not picked up (yet): only the patron can end it
        log(f"t={self.t():.1f}s {patron.name} ends its session")
        if not await patron.end(deadline):
            self.faults.errors.append(f"{patron.name} could not end its session")
        self.faults.ended[f"patron, {phase}"] += 1

    def _session_of(self, token: str) -> tuple[int | None, str | None, int | None]:
        with self.stack.connect_db() as conn:
            row = conn.execute(
                "SELECT id, state, primary_id FROM chat_chatsession WHERE token = %s", (token,)
            ).fetchone()
        return (row[0], row[1], row[2]) if row else (None, None, None)

    async def _end_the_rest(self) -> None:
        """The settling ends what is still open: the sessions kept for it, and
        any other (an end that failed, a session whose patron's ask lost its
        answer and that a librarian picked up)."""
        planned = {p.name for p, _ in self.ends_settle}
        ends = [self._end(p, who, "settling") for p, who in self.ends_settle]
        stored = await asyncio.to_thread(self._read_db)
        by_token = {p.token: p for p in self.patrons if p.token}
        for sid, info in stored.sessions.items():
            if info["state"] == "closed":
                continue
            patron = by_token.get(info["token"])
            if patron is not None and patron.name in planned:
                continue
            if patron is not None:
                ends.append(self._end(patron, "librarian", "settling"))
                continue
            console = next((c for c in self.consoles if c.librarian_id == info["primary"]), None)
            if console is not None:
                ends.append(self._end_orphan(console, sid))
        if ends:
            log(f"t={self.t():.1f}s end the {len(ends)} sessions still open")
            await asyncio.gather(*ends)

    async def _end_orphan(self, console: Console, sid: int) -> None:
        if await console.end(sid, time.monotonic() + 20):
            self.faults.ended["librarian, settling (no patron)"] += 1
        else:
            self.faults.errors.append(f"{console.name} could not end session {sid}")

    def _check_ends(self, stored: Stored) -> None:
        by_token = {info["token"]: info for info in stored.sessions.values()}
        for patron in self.patrons:
            info = by_token.get(patron.token)
            if info is None:
                continue
            if info["state"] != "closed":
                self.faults.errors.append(f"{patron.name}'s session never ended")
            elif info["closed_by"] not in {"patron", "librarian"}:
                self.faults.errors.append(f"{patron.name}'s session closed by {info['closed_by']}")
        if len(self.patrons) >= 2:
            for side in ("patron", "librarian"):
                if not any(k.startswith(side) for k in self.faults.ended):
                    self.faults.errors.append(f"no session was ended by the {side}")
