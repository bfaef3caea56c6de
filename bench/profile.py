"""Profiles of the server while the benchmark runs (``--profile DIR``): py-spy.

py-spy samples the Daphne processes from outside (no change to the server,
a few per cent of overhead with ``--nonblocking``) and writes collapsed
stacks: one line per distinct stack, ``frame;frame;… count``. ``python -m
bench.profile FILE`` prints where the time went: the functions with the most
samples on the stack (inclusive) and at the top of it (self).
"""

import subprocess
import sys
from collections import Counter
from pathlib import Path


def start(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - fixed argv, py-spy from this environment
        [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid),
         "--duration", str(max(1, int(seconds))), "--rate", "200", "--format", "raw",
         "--nonblocking", "--threads", "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def summary(path: Path, top: int = 30) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [f for f in stack.split(";") if not f.startswith("thread")]
        for frame in set(frames):
            inclusive[frame] += n
        if frames:
            own[frames[-1]] += n
    out = [f"{path.name}: {total} samples"]
    for title, counter in (("inclusive", inclusive), ("self", own)):
        out.append(f"-- {title}")
        for frame, n in counter.most_common(top):
            out.append(f"{100 * n / max(1, total):5.1f}%  {frame}")
    return "\n".join(out)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(summary(Path(name)))
