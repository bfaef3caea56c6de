"""The faults a run injects: connections cut, Daphne processes and the worker
killed, Redis restarted; and every process up again for the settling.
"""

import asyncio
import contextlib
import time

from faults.stack import log
from faults.state import RunState

# Seconds without connection cuts after Redis is back (see _restart_redis).
REDIS_WATCH = 6.0


class Injection(RunState):
    """Cuts, kills and restarts, each on its own schedule, until ``stop_faults``."""

    # --- connections ------------------------------------------------------------
    async def _cut_connections(self) -> None:
        """Drop a random client's TCP connection, again and again."""
        while not self.stop_faults.is_set():
            await asyncio.sleep(self.rng.uniform(0.2, 0.9))
            if self.calm:
                continue
            connected = [p for p in self.parties if p.ws is not None]
            if not connected:
                continue
            party = self.rng.choice(connected)
            if self.rng.random() < 0.4:
                party.cut_after_send = True  # counted when it happens
            elif party.cut():
                self.faults.cuts += 1

    # --- the worker ---------------------------------------------------------------
    async def _worker_faults(self) -> None:
        """SIGKILL the worker three times: once while only the sweeps have work,
        then twice while transcripts are owed, each time the moment the mail
        server holds one (mid-send) if that comes before the window closes."""
        d = self.args.duration
        first_end = self.ends_mid[0][0] if self.ends_mid else 0.5 * d
        plan = [
            (self.rng.uniform(0.2, 0.4) * d, None),
            (first_end + 1, 0.8 * d),
            (None, 0.97 * d),
        ]
        for start, until in plan:
            begin = start if start is not None else self.t() + 3
            if not await self._wait_until(begin):
                return
            if until is not None:
                while self.t() < until and not self.mail.recorder.sending():
                    if self.stop_faults.is_set():
                        return
                    await asyncio.sleep(0.01)
            if self.stop_faults.is_set():
                return
            try:
                await self._kill_worker(end_one=start is None or until is not None)
            except Exception as error:
                self.faults.errors.append(f"worker: {error}")
                log(f"fault worker failed: {error}")
                return

    async def _wait_until(self, at: float) -> bool:
        delay = at - self.t()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_faults.wait(), delay)
        return not self.stop_faults.is_set()

    async def _kill_worker(self, *, end_one: bool) -> None:
        exited = self.stack.worker_exited()
        if exited is not None:
            self.faults.errors.append(f"the worker exited by itself with status {exited}")
        sending = self.mail.recorder.sending()
        self.stack.kill_worker()
        killed = time.time()
        self.faults.worker_kills += 1
        self.faults.worker_kills_mid_send += bool(sending)
        if end_one:
            self.end_now.set()  # a session ends while no worker runs
        owed = await asyncio.to_thread(self._transcripts_owed)
        self.faults.worker_kills_due += bool(sending or owed)
        log(f"t={self.t():.1f}s SIGKILL worker ({sending} transcript(s) mid-send, {owed} owed)")
        await asyncio.sleep(self.rng.uniform(1, 3))
        self.stack.start_worker()
        self.faults.worker_restarts += 1
        self.faults.worker_down.append([killed, time.time()])
        log(f"t={self.t():.1f}s worker started again")

    # --- Daphne and Redis -----------------------------------------------------------
    def _schedule(self) -> list[tuple[float, str, int]]:
        """Kill every Daphne process at least once, restart Redis once, spread over the run."""
        n = self.args.daphnes
        events: list[tuple[str, int]] = [("daphne", i) for i in range(n)]
        events.insert(len(events) // 2, ("redis", 0))
        extra = max(0, int(self.args.duration // 11) - len(events))
        events += [("daphne", self.rng.randrange(n)) for _ in range(extra)]
        start, end = self.args.duration * 0.1, self.args.duration * 0.8
        step = (end - start) / max(1, len(events) - 1)
        return [
            (start + k * step + self.rng.uniform(-0.5, 0.5), what, i)
            for k, (what, i) in enumerate(events)
        ]

    async def _process_faults(self) -> None:
        for at, what, index in self._schedule():
            delay = at - self.t()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop_faults.wait(), delay)
            if self.stop_faults.is_set():
                return
            try:
                if what == "daphne":
                    await self._kill_daphne(index)
                else:
                    await self._restart_redis()
            except Exception as error:
                self.faults.errors.append(f"{what} {index}: {error}")
                log(f"fault {what} {index} failed: {error}")
                return

    async def _kill_daphne(self, index: int) -> None:
        log(f"t={self.t():.1f}s SIGKILL daphne {index} (port {self.stack.ports[index]})")
        self.stack.kill_daphne(index)
        self.faults.kills[index] += 1
        await asyncio.sleep(self.rng.uniform(2, 4))
        self.stack.start_daphne(index)
        await asyncio.to_thread(self.stack.wait_healthy, index)
        log(f"t={self.t():.1f}s daphne {index} back")

    async def _restart_redis(self) -> None:
        # No cuts around it: connections that stay open through the restart
        # show whether events reach them again afterwards.
        self.calm = True
        try:
            await asyncio.sleep(1.5)
            log(f"t={self.t():.1f}s SIGKILL redis (port {self.stack.redis_port})")
            self.faults.redis_down_at = time.time()
            self.stack.kill_redis()
            await asyncio.sleep(self.rng.uniform(1, 2))
            await asyncio.to_thread(self.stack.start_redis)
            self.faults.redis_back_at = time.time()
            self.faults.redis_restarts += 1
            log(f"t={self.t():.1f}s redis back")
            await asyncio.sleep(REDIS_WATCH)
        finally:
            self.calm = False

    def redis_survivors(self) -> str | None:
        """Did events reach the connections that stayed open through the Redis restart?"""
        down, back = self.faults.redis_down_at, self.faults.redis_back_at
        if down is None or back is None:
            return None
        stayed = events = 0
        for party in self.parties:
            for opened, closed in party.lifetimes:
                if opened < down and closed > back + REDIS_WATCH - 1:
                    stayed += 1
                    events += sum(1 for t in party.event_times if back < t < closed)
        return (
            f"Redis restart: {stayed} connections stayed open through it and got "
            f"{events} message.created events after it"
        )

    async def _all_processes_up(self) -> None:
        if self.stack.redis is None or self.stack.redis.poll() is not None:
            await asyncio.to_thread(self.stack.start_redis)
        if not self.stack.worker_alive():
            exited = self.stack.worker_exited()
            if exited is not None:
                self.faults.errors.append(f"the worker exited by itself with status {exited}")
            self.stack.start_worker()
        for i in range(self.args.daphnes):
            if not self.stack.daphne_alive(i):
                self.stack.start_daphne(i)
            await asyncio.to_thread(self.stack.wait_healthy, i)
