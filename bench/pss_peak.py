"""Peak memory of a whole `digest build` process tree, counted fairly.

The harness's "peak MB (tree)" sums the RSS of the build and its forked workers, which counts
each copy-on-write page they share once per process. This script runs one `digest build` in the
site folder and samples, every 0.1 s, the sum of the proportional set sizes (`Pss:` of
/proc/<pid>/smaps_rollup, Linux) over the process and all its descendants: a shared page counts
once in total. Sampling slows the build a little (reading smaps_rollup walks each process's
memory map), so take the wall time from the harness, not from here.

    python3 bench/pss_peak.py --site bench/.work/s1-n10000/digest    # then compare with the harness
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it."""
    out = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in children:
        out += descendants(int(child))
    return out


def pss_kib(pid: int) -> int:
    """The proportional set size of one process (KiB; 0 once it has gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        return 0
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, required=True)
    parser.add_argument("--interval", type=float, default=0.1)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    build = subprocess.Popen([sys.executable, "-m", "digest", "build", "--quiet"], cwd=args.site, env=env)
    peak = 0
    while build.poll() is None:
        peak = max(peak, sum(pss_kib(pid) for pid in descendants(build.pid)))
        time.sleep(args.interval)
    print(f"exit {build.returncode}, wall {time.perf_counter() - started:.2f} s (sampled), "
          f"peak PSS of the process tree {peak / 1024:.0f} MB")
    return build.returncode


if __name__ == "__main__":
    sys.exit(main())
