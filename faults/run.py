"""``make faults``: the fault suite. See docs/faults.md.

Starts its own PostgreSQL database, Redis, Daphne processes, worker and mail
server; patrons and librarians talk over websockets, and end their sessions,
while processes (the worker too) are killed and restarted, Redis is
restarted and client connections are cut; then every party's transcript is
compared with the database, and every transcript email with what the mail
server got. The last line on stdout is (one line, folded here)

    faults: N lines, L lost, D duplicated, O out of order, K leaked;
            M transcripts, T lost, W sent twice

and the exit status is 0 only if L, D, O, K, T and W are 0 and every process
the run started was stopped. Options come from flags or FAULTS_* variables.
"""

# ruff: noqa: S311 - the randomness here picks faults and timings, not secrets

import argparse
import asyncio
import os
import random
import secrets
import shutil
import signal
import sys
import threading
import time
from typing import Any

from faults.check import Tally
from faults.mail import MailServer
from faults.scenario import Run
from faults.stack import Stack, crashes, log

# The worker's settings in the run: a mail server that doesn't answer within
# EMAIL_TIMEOUT counts as a failed send; a transcript whose worker died while
# it held the claim is due again TRANSCRIPT_LEASE_SECONDS after the claim, so
# within the run (the default is ten minutes).
EMAIL_TIMEOUT = 5
TRANSCRIPT_LEASE_SECONDS = 10
# How long the mail server takes before it accepts a message (seconds): the
# window the run kills the worker in, mid-send. Well under EMAIL_TIMEOUT.
MAIL_DELAY = (0.3, 1.0)


def _env(name: str, default: str) -> str:
    return os.environ.get(f"FAULTS_{name}", default)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m faults.run", description=__doc__.split("\n")[0])
    p.add_argument(
        "--duration",
        type=float,
        default=float(_env("DURATION", "140")),
        help="seconds of traffic under faults (FAULTS_DURATION, default 140)",
    )
    p.add_argument(
        "--patrons",
        type=int,
        default=int(_env("PATRONS", "30")),
        help="patrons (FAULTS_PATRONS, default 30)",
    )
    p.add_argument(
        "--librarians",
        type=int,
        default=int(_env("LIBRARIANS", "6")),
        help="librarians (FAULTS_LIBRARIANS, default 6)",
    )
    p.add_argument(
        "--daphnes",
        type=int,
        default=int(_env("DAPHNES", "3")),
        help="Daphne processes (FAULTS_DAPHNES, default 3)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=int(_env("SEED", "0")) or None,
        help="seed of every random choice (FAULTS_SEED; default: a new one, printed)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=float(_env("TIMEOUT", "300")),
        help="hard limit of the whole run in seconds (FAULTS_TIMEOUT, default 300)",
    )
    p.add_argument(
        "--database",
        default=_env("DB", "refchat_faults"),
        help="database to create and drop (FAULTS_DB, default refchat_faults)",
    )
    p.add_argument("--pg-host", default=_env("PG_HOST", "127.0.0.1"))
    p.add_argument("--pg-port", type=int, default=int(_env("PG_PORT", "5432")))
    p.add_argument(
        "--line-every",
        type=float,
        nargs=2,
        default=(0.4, 0.8),
        metavar=("MIN", "MAX"),
        help="seconds between one party's lines",
    )
    args = p.parse_args(argv)
    if args.daphnes < 2:
        p.error("the suite needs at least 2 Daphne processes (one is killed at a time)")
    if args.seed is None:
        args.seed = secrets.randbelow(2**31) + 1
    return args


async def _run(
    args: argparse.Namespace,
    stack: Stack,
    seeded: dict[str, Any],
    mail: MailServer,
    budget: float,
) -> tuple[Tally, Run]:
    run = Run(args, stack, seeded, mail)
    try:
        async with asyncio.timeout(budget):
            tally = await run.main()
    finally:
        await run.cancel()
        for party in run.parties:
            if party.ws is not None:
                party.ws.transport.abort()
    return tally, run


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    print(
        f"faults: seed {args.seed} (replay: FAULTS_SEED={args.seed} make faults), "
        f"{args.duration:g} s, {args.daphnes} Daphne processes, {args.librarians} librarians, "
        f"{args.patrons} patrons",
        flush=True,
    )
    mail = MailServer(random.Random(args.seed + 1), MAIL_DELAY)
    stack = Stack(
        pg_host=args.pg_host,
        pg_port=args.pg_port,
        db_name=args.database,
        daphnes=args.daphnes,
        extra_env={
            "EMAIL_URL": mail.url,
            "EMAIL_TIMEOUT": str(EMAIL_TIMEOUT),
            "TRANSCRIPT_LEASE_SECONDS": str(TRANSCRIPT_LEASE_SECONDS),
        },
    )

    def watchdog() -> None:
        # Last resort if the run hangs where no exception can reach it.
        log(f"hard timeout of {args.timeout:g} s: stopping everything")
        stack.stop_all()
        stack.drop_database()
        print("faults: error: hard timeout", flush=True)
        os._exit(3)

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    timer = threading.Timer(args.timeout, watchdog)
    timer.daemon = True
    timer.start()
    tally: Tally | None = None
    run: Run | None = None
    error: str | None = None
    try:
        password = f"faults-{secrets.token_hex(8)}"
        log(
            f"database {args.database}, redis on {stack.redis_port}, daphne on {stack.ports}, "
            f"mail server on {mail.port}"
        )
        mail.start()
        seeded = stack.prepare(librarians=args.librarians, password=password)
        seeded["password"] = password
        stack.start_redis()
        for i in range(args.daphnes):
            stack.start_daphne(i)
        worker_since = time.time()
        stack.start_worker()
        for i in range(args.daphnes):
            stack.wait_healthy(i)
        _wait_worker(stack, worker_since, 30)
        log(f"setup done in {time.monotonic() - started:.1f}s")
        # What is left of the hard limit, less time to stop everything.
        budget = args.timeout - (time.monotonic() - started) - 15
        tally, run = asyncio.run(_run(args, stack, seeded, mail, budget))
    except KeyboardInterrupt:
        error = "interrupted"
    except (asyncio.CancelledError, TimeoutError):
        error = "cancelled or out of time"
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    finally:
        alive = stack.stop_all()
        dropped = stack.drop_database()
        mail.stop()
        timer.cancel()
    problems = stack.log_problems()
    elapsed = time.monotonic() - started
    reasons = run.sanity() if run is not None else []
    reasons += [f"a socket crashed: {message}" for message in crashes(problems)]
    if alive:
        reasons.append(f"still running: {alive}")
    if not dropped:
        reasons.append(f"database {args.database} was not dropped")
    if tally is not None:
        for line in tally.problems[:40]:
            log(line)
        if len(tally.problems) > 40:
            log(f"… and {len(tally.problems) - 40} more")
    if run is not None:
        f = run.faults
        resent = sum(max(0, x.sends - 1) for p in run.parties for x in p.sent.values())
        log(
            f"faults done: kills {dict(f.kills)}, redis restarts {f.redis_restarts}, "
            f"worker kills {f.worker_kills} ({f.worker_kills_mid_send} mid-send), "
            f"cuts {f.cuts} + {sum(p.cuts_in_flight for p in run.parties)} right after a send; "
            f"reconnects {sum(p.connects for p in run.parties)}, "
            f"resent lines {resent}, "
            f"refused as too fast and sent again {sum(p.too_fast for p in run.parties)}"
        )
    if problems:
        log(f"the Daphne processes and the worker logged {sum(problems.values())} errors:")
        for message, count in problems.most_common(12):
            log(f"  {count} x {message}")
    for reason in reasons:
        log(f"FAILED: {reason}")
    log(f"took {elapsed:.1f}s")
    ok = tally is not None and tally.clean and not reasons and error is None
    if ok and not os.environ.get("FAULTS_KEEP_LOGS"):
        stack.remove_tmp()
    else:
        shutil.rmtree(stack.tmp / "static", ignore_errors=True)
        log(f"logs kept in {stack.tmp}")
    if error is not None or tally is None:
        print(f"faults: error: {error}", flush=True)
        return 2
    print(tally.summary(), flush=True)
    return 0 if ok else 1


def _wait_worker(stack: Stack, since: float, timeout: float) -> None:
    """Until the worker ran its schedule (a periodic job claimed since ``since``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        exited = stack.worker_exited()
        if exited is not None:
            raise RuntimeError(f"the worker exited with {exited} (see {stack.worker_logs()[-1]})")
        if stack.worker_schedule_ran_since(since):
            return
        time.sleep(0.1)
    raise RuntimeError("the worker did not run its schedule")


if __name__ == "__main__":
    sys.exit(main())
