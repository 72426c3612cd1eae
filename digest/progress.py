"""Honesty on long work: a one-line progress bar for a terminal and per-stage wall times.

Both are instruments at the edge of the pipeline: the build reports `(stage, done, total)` to
whatever callback it is given and records how long each stage took; the commands decide what
to show (a bar only on a terminal, timings only with `--timings`).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator, TextIO

Report = Callable[[str, int, int], None]  # (stage, done, total)


def silent(stage: str, done: int, total: int) -> None:
    """A progress callback that shows nothing (CI, pipes, tests)."""


class Stages:
    """Wall time per named stage, in the order the stages ran (a stage run twice adds up)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._spent: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = self._clock()
        try:
            yield
        finally:
            self._spent[name] = self._spent.get(name, 0.0) + self._clock() - started

    def add(self, name: str, seconds: float) -> None:
        """Count `seconds` to the stage `name` (time measured elsewhere)."""
        self._spent[name] = self._spent.get(name, 0.0) + seconds

    def spent(self) -> tuple[tuple[str, float], ...]:
        """(stage, seconds) in the order the stages first ran."""
        return tuple(self._spent.items())


def format_timings(spent: tuple[tuple[str, float], ...], total: float) -> str:
    """A small table: each stage's seconds and share of `total`, then the rest and the total."""
    width = max([len(name) for name, _ in spent] + [len("other")])
    lines = [f"  {name:<{width}}  {seconds:7.3f}s  {100 * seconds / total if total else 0:5.1f}%"
             for name, seconds in spent]
    other = max(0.0, total - sum(seconds for _, seconds in spent))
    lines.append(f"  {'other':<{width}}  {other:7.3f}s  {100 * other / total if total else 0:5.1f}%")
    lines.append(f"  {'total':<{width}}  {total:7.3f}s")
    return "timings:\n" + "\n".join(lines)


class ProgressBar:
    """Draws `stage [#####.....] done/total` on one line of `stream`, at most every `interval` s."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic, interval: float = 0.1,
                 width: int = 30) -> None:
        self._stream = stream
        self._clock = clock
        self._interval = interval
        self._width = width
        self._last = float("-inf")
        self._drawn = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self._clock()
        if done < total and now - self._last < self._interval:
            return
        self._last = now
        filled = self._width * done // total if total else self._width
        line = f"{stage:<18} [{'#' * filled}{'.' * (self._width - filled)}] {done}/{total}"
        self._stream.write("\r" + line.ljust(72))
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Clear the bar's line (so the summary that follows starts on a clean line)."""
        if self._drawn:
            self._stream.write("\r" + " " * 72 + "\r")
            self._stream.flush()
            self._drawn = False
