"""``make bench``: Reference Chat under load, beside the bare Channels relay.

Starts the application in production mode (its own PostgreSQL database and
Redis on 127.0.0.1, DEBUG off, Daphne), creates its libraries, queues and
librarians, and drives patrons and librarian consoles over websockets from
this process. Two parts, each on a freshly started server:

1. the bare relay (bench/bare.py): the same sockets and the same lines
   through a group with no database, the floor of the stack;
2. the application: consoles pick the sessions up, patrons and librarians
   exchange lines, new requests arrive and are timed to every monitor's New
   list; then 100 and 1,000 sessions side by side, memory at 2,000 sockets,
   the highest rate held, and a restart that 1,000 patrons reconnect to.

Prints a table and, last, one JSON line. Exit status 0 when every target of
docs/performance.md holds (with --smoke: when the harness ran clean).
"""

import argparse
import asyncio
import gc
import json
import os
import signal
import sys
import traceback
from pathlib import Path

from bench.figures import gc_watch
from bench.parts import Run
from bench.report import summary, table, verdicts
from bench.stack import log


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--sessions", type=int, default=1000, help="patron sessions (1000)")
    p.add_argument("--librarians", type=int, default=100, help="librarian consoles (100)")
    p.add_argument("--rate", type=float, default=200, help="lines a second, both ways (200)")
    p.add_argument("--seconds", type=float, default=60, help="seconds of the main load (60)")
    p.add_argument("--processes", type=int, default=1, help="Daphne processes (1)")
    p.add_argument(
        "--small-sessions", type=int, default=100, help="the small run of the scaling check (100)"
    )
    p.add_argument(
        "--memory-sockets", type=int, default=2000, help="sockets for the memory figure (2000)"
    )
    p.add_argument(
        "--step-seconds", type=float, default=8, help="seconds per step of the rate search (8)"
    )
    p.add_argument(
        "--max-steps", type=int, default=12, help="steps of the rate search, 0: no search (12)"
    )
    p.add_argument(
        "--refine-steps",
        type=int,
        default=3,
        help="steps that halve the gap between the rate held and the rate missed (3)",
    )
    p.add_argument(
        "--pickups",
        type=float,
        default=1.0,
        help="new requests a second in the small and main phases (1)",
    )
    p.add_argument(
        "--rollover-seconds",
        type=int,
        default=5,
        help="each queue's cooperative tier (its last librarian, of another library) "
        "sees a request this long after it was asked; 0: no tiers (5)",
    )
    p.add_argument("--no-restart", action="store_true", help="skip the restart phase")
    p.add_argument(
        "--profile", type=Path, help="write py-spy profiles of the main phases to this folder"
    )
    p.add_argument(
        "--dump", type=Path, help="write each phase's lines and their times to this folder"
    )
    p.add_argument(
        "--smoke", action="store_true", help="a tiny load that checks the harness, not the targets"
    )
    p.add_argument("--pg-host", default=os.environ.get("BENCH_PG_HOST", "127.0.0.1"))
    p.add_argument("--pg-port", type=int, default=int(os.environ.get("BENCH_PG_PORT", "5432")))
    p.add_argument(
        "--timeout", type=float, default=1800, help="the whole run stops after this (1800 s)"
    )
    args = p.parse_args(argv)
    if args.smoke:
        args.sessions, args.librarians, args.rate, args.seconds = 20, 4, 20, 3
        args.small_sessions, args.memory_sockets = 10, 40
        args.step_seconds, args.max_steps, args.refine_steps = 2, 1, 0
        args.rollover_seconds = min(args.rollover_seconds, 1)  # within its 3 s
    args.small_sessions = min(args.small_sessions, args.sessions)
    args.queues = max(1, args.librarians // 10)
    return args


def main(argv: list[str] | None = None) -> int:
    gc.callbacks.append(gc_watch)
    # Fewer young collections in the generator, as in the server (reference_chat/asgi.py).
    gc.set_threshold(20000, 20, 20)
    args = parse_args(argv)
    run = Run(args)
    status = 1
    # A Ctrl-C or a kill stops what the run started, like the timeout does.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        asyncio.run(asyncio.wait_for(run.scenario(), args.timeout))
        line = summary(args, run.result)
        verdict = verdicts(line, args.smoke)
        line["targets"] = verdict
        print(table(line))
        print()
        for name, held in verdict.items():
            print(f"  {'held  ' if held else 'MISSED'}  {name}")
        print(json.dumps(line), flush=True)
        status = 0 if all(verdict.values()) else 1
    except (TimeoutError, KeyboardInterrupt) as error:
        log(f"stopped: {type(error).__name__}: {error}")
    except Exception:
        log(f"stopped by an error:\n{traceback.format_exc()}")
    finally:
        left = run.stack.stop_all()
        dropped = run.stack.drop_database()
        if left or not dropped:
            log(f"left behind: {left or 'the database'}")
            status = 1
        if status == 0:
            run.stack.remove_tmp()
        else:
            log(f"server logs kept in {run.stack.tmp}")
    return status


if __name__ == "__main__":
    sys.exit(main())
