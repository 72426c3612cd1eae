"""How a file system treats a build that follows the deletion of the last one's output.

Makes `--folders` folders with one file each (a story page's layout), deletes them, and does it
again `--rounds` times, printing each round's time. On ext4 without a journal every new inode is
found by scanning past those freed in the last minutes, so each round is slower than the one
before; on tmpfs, or ext4 with a journal, the rounds take the same time. See bench/README.md.

    python3 bench/fs_churn.py --dir bench/.work/churn      # this machine's disk
    python3 bench/fs_churn.py --dir /dev/shm/churn         # tmpfs
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path


def churn_round(folder: Path, folders: int, size: int) -> tuple[float, float]:
    """(seconds to make the folders and files, seconds to delete them) under `folder`."""
    tree = folder / f"tree-{time.time_ns()}"
    started = time.perf_counter()
    (tree / "stories").mkdir(parents=True)
    data = b"x" * size
    for i in range(folders):
        story = tree / "stories" / f"story-number-{i:06d}"
        story.mkdir()
        (story / "index.html").write_bytes(data)
    made = time.perf_counter() - started
    started = time.perf_counter()
    shutil.rmtree(tree)
    return made, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, required=True, help="where to make and delete the folders")
    parser.add_argument("--folders", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=10_000, help="bytes in each folder's file")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    for n in range(1, args.rounds + 1):
        made, deleted = churn_round(args.dir, args.folders, args.size)
        print(f"round {n}: made {args.folders:,} folders and files in {made:.2f} s, deleted them in {deleted:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
