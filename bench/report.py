"""The report of a run: the JSON line's figures, each target held or missed, the table."""

import argparse
from dataclasses import asdict
from typing import Any

from bench.figures import TARGETS, Figures


def summary(args: argparse.Namespace, result: dict[str, Any]) -> dict[str, Any]:
    app, bare = result["app"], result["bare"]
    main: Figures = app["main"]
    bare_main: Figures = bare["main"]
    line = {k: v for k, v in asdict(main).items() if k != "extra"}
    line.update(
        {
            "processes": args.processes,
            "stored": main.extra["stored"],
            "pickup_p99_ms": main.extra["pickup_p99_ms"],
            "pickup_missed": main.extra["missed"],
            "rollovers": main.extra["rollovers"],
            "rollover_missed": main.extra["rollovers_missed"],
            "rollover_p99_ms": main.extra["rollover_p99_ms"],
            "off_shift": main.extra["off_shift"],
            "ramp_s": app["patron_ramp_s"],
            "console_ramp_s": app["console_ramp_s"],
            "kib_per_socket": app["memory"]["kib_per_socket"],
            "memory_sockets": app["memory"]["sockets"],
            "small": {k: v for k, v in asdict(app["small"]).items() if k != "extra"},
            "max_rate": app.get("search", {}).get("max_rate"),
            "restart": app.get("restart"),
        }
    )
    line["bare"] = {k: v for k, v in asdict(bare_main).items() if k != "extra"}
    line["bare"].update(
        {
            "ramp_s": bare_main.extra["ramp_s"],
            "kib_per_socket": bare["memory"]["kib_per_socket"],
            "max_rate": bare.get("search", {}).get("max_rate"),
        }
    )

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 2) if a is not None and b else None

    line["ratios"] = {
        "p99": ratio(main.p99_ms, bare_main.p99_ms),
        "cpu_per_line": ratio(main.cpu_s_per_1000, bare_main.cpu_s_per_1000),
        "max_rate": ratio(line["max_rate"], line["bare"]["max_rate"]),
        "kib_per_socket": ratio(line["kib_per_socket"], line["bare"]["kib_per_socket"]),
        "cpu_1000_vs_100_sessions": ratio(main.cpu_s_per_1000, app["small"].cpu_s_per_1000),
    }
    # What the clients noticed: error frames by code, and resyncs by reason.
    line["client_notes"] = result.get("client_notes", {})
    line["steps"] = {"app": app.get("search", {}).get("steps"),
                     "bare": bare.get("search", {}).get("steps")}  # fmt: skip
    return line


def verdicts(line: dict[str, Any], smoke: bool) -> dict[str, bool]:
    """Each target of docs/performance.md: held or not."""
    clean = {
        "nothing lost": line["lost"] == 0 and line["bare"]["lost"] == 0,
        "nothing duplicated": line["duplicated"] == 0 and line["bare"]["duplicated"] == 0,
        "every line stored": line["stored"] == line["sent"],
        "every request shown to every monitor": line["pickup_missed"] == 0,
        "every roll-over shown to the next tier": line["rollover_missed"] == 0,
        "every librarian still on shift": line["off_shift"] == 0,
    }
    restart = line.get("restart")
    if restart:
        clean["restart: nothing lost"] = restart["lost"] == 0 and restart["duplicated"] == 0
    if smoke:
        return clean
    r = line["ratios"]
    targets = {
        f"p50 <= {TARGETS['p50_ms']:.0f} ms": line["p50_ms"] <= TARGETS["p50_ms"],
        f"p99 <= {TARGETS['p99_ms']:.0f} ms": line["p99_ms"] <= TARGETS["p99_ms"],
        f"p99 <= {TARGETS['p99_ratio']:.0f} x the bare relay's": (
            r["p99"] is not None and r["p99"] <= TARGETS["p99_ratio"]
        ),
        f"pick-up p99 <= {TARGETS['pickup_p99_ms']:.0f} ms": (
            line["pickup_p99_ms"] <= TARGETS["pickup_p99_ms"]
        ),
        f"roll-over p99 <= {TARGETS['rollover_p99_ms']:.0f} ms after its time": (
            line["rollovers"] > 0 and line["rollover_p99_ms"] <= TARGETS["rollover_p99_ms"]
        ),
        f"max rate >= {TARGETS['max_rate_ratio']} x the bare relay's": (
            r["max_rate"] is not None and r["max_rate"] >= TARGETS["max_rate_ratio"]
        ),
        "CPU per line <= 2.5 x the bare relay's": (
            r["cpu_per_line"] is not None and r["cpu_per_line"] <= TARGETS["cpu_ratio"]
        ),
        "cost per line, 1,000 vs 100 sessions, within 20 %": (
            r["cpu_1000_vs_100_sessions"] is not None
            and abs(r["cpu_1000_vs_100_sessions"] - 1) <= TARGETS["scaling"]
        ),
        f"<= 100 KiB per socket at {line['memory_sockets']} sockets": (
            line["kib_per_socket"] <= TARGETS["kib_per_socket"]
        ),
        "restart: every patron caught up within 10 s": bool(
            restart and restart["behind"] == 0 and restart["catch_up_s"] <= TARGETS["catch_up_s"]
        ),
    }
    return {**clean, **targets}


def table(line: dict[str, Any]) -> str:
    bare = line["bare"]
    rows = [
        ("", "application", "bare relay", "ratio"),
        ("sessions / consoles", f"{line['sessions']} / {line['librarians']}",
         f"{bare['sessions']} / {bare['librarians']}", ""),
        ("rate, lines/s × s", f"{line['rate']:g} × {line['seconds']:g}",
         f"{bare['rate']:g} × {bare['seconds']:g}", ""),
        ("sent / delivered", f"{line['sent']} / {line['delivered']}",
         f"{bare['sent']} / {bare['delivered']}", ""),
        ("lost / duplicated", f"{line['lost']} / {line['duplicated']}",
         f"{bare['lost']} / {bare['duplicated']}", ""),
        ("latency p50 / p95 ms", f"{line['p50_ms']} / {line['p95_ms']}",
         f"{bare['p50_ms']} / {bare['p95_ms']}", ""),
        ("latency p99 / max ms", f"{line['p99_ms']} / {line['max_ms']}",
         f"{bare['p99_ms']} / {bare['max_ms']}", str(line["ratios"]["p99"])),
        ("delivered lines/s", str(line["lines_per_s"]), str(bare["lines_per_s"]), ""),
        ("server CPU s / 1,000 lines", str(line["cpu_s_per_1000"]), str(bare["cpu_s_per_1000"]),
         str(line["ratios"]["cpu_per_line"])),
        ("  PostgreSQL CPU s / 1,000", str(line["db_cpu_s_per_1000"]),
         str(bare["db_cpu_s_per_1000"]), ""),
        ("  worker CPU s / 1,000", str(line["worker_cpu_s_per_1000"]),
         str(bare["worker_cpu_s_per_1000"]), ""),
        ("  Redis CPU s / 1,000", str(line["redis_cpu_s_per_1000"]),
         str(bare["redis_cpu_s_per_1000"]), ""),
        ("  load generator CPU s / 1,000", str(line["generator_cpu_s_per_1000"]),
         str(bare["generator_cpu_s_per_1000"]), ""),
        ("highest rate held (p99 <= 100 ms)", str(line["max_rate"]), str(bare["max_rate"]),
         str(line["ratios"]["max_rate"])),
        ("KiB per socket", f"{line['kib_per_socket']} at {line['memory_sockets']}",
         str(bare["kib_per_socket"]), str(line["ratios"]["kib_per_socket"])),
        ("connection ramp s", str(line["ramp_s"]), str(bare["ramp_s"]), ""),
        ("pick-up p99 ms (every monitor)", str(line["pickup_p99_ms"]), "", ""),
        ("roll-over p99 ms after its time (next tier)", str(line["rollover_p99_ms"]), "", ""),
        ("CPU s / 1,000 at 100 sessions", str(line["small"]["cpu_s_per_1000"]), "",
         str(line["ratios"]["cpu_1000_vs_100_sessions"])),
    ]  # fmt: skip
    restart = line.get("restart")
    if restart:
        rows.append(("restart: all caught up s", str(restart["catch_up_s"]), "", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)  # fmt: skip
