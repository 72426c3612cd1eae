"""Pure work on every core: forked worker processes read the parent's data without copying
it (copy-on-write) and send back only their results. Linux and macOS fork; elsewhere, and for
small inputs, the work runs in the calling process with the same result."""

from __future__ import annotations

import os
import signal
import threading
from typing import TYPE_CHECKING, Any, Callable, Sequence

if TYPE_CHECKING:
    import multiprocessing.pool

MIN_ITEMS = 1000  # below this, forking a large process costs more than it saves
_MAP: tuple | None = None  # (function, items): set in the parent just before forking; read by the workers


def workers() -> int:
    """How many processes to use (the cores this process may run on)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def fork_pool(processes: int) -> multiprocessing.pool.Pool:
    """A pool of forked workers with default signal handling: the parent may have installed
    handlers (e.g. `digest serve` turns SIGTERM into a clean stop), and a worker that inherited
    such a handler would survive the pool's terminate(), leaving the parent waiting for it forever.
    SIGTERM stays blocked from the fork until the worker has reset its handler: a terminate()
    that reaches a worker before that (one that got no task on a loaded machine) still ends it."""
    import multiprocessing  # here: a quick rebuild, which forks no pool, does without it (~10 ms)

    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        return multiprocessing.get_context("fork").Pool(processes, initializer=_worker_signals)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _worker_signals() -> None:
    child_signals()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # a terminate() already sent ends the worker now


def child_signals() -> None:
    """In a forked process: SIGTERM ends it (not the parent's handler), Ctrl-C is left to the parent
    (it reaches the whole process group; the parent ends its children)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def end_process(pid: int) -> None:
    """Kill a forked process (SIGKILL: it holds nothing to clean up) and reap it."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:  # ended already; reaped below all the same
        pass
    os.waitpid(pid, 0)


def can_fork() -> bool:
    """True when forking is available and safe: no other thread runs in this process. A thread
    holding a lock at the moment of the fork (stderr's buffer, a library's) leaves the child
    stuck on it for good, e.g. when the worker flushes stderr on exit (seen under `digest serve`)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def fork_map(function: Callable[[Sequence[Any]], list[Any]], items: Sequence[Any], min_items: int | None = None,
             processes: int | None = None, progress: Callable[[int], None] | None = None,
             each: Callable[[list[Any]], list[Any]] | None = None) -> list[Any]:
    """`function(items)` computed over slices of `items` on every core and joined in order.

    `function` must be pure and return one result per item; the items reach the forked workers
    without being copied, only the results travel back. Runs in this process for few items.
    `progress` is told how many items are done after each slice; `each(results)`, in this
    process, turns each slice's results into what is kept, as they arrive."""
    keep = each if each is not None else _same
    count = processes or workers()
    if count < 2 or len(items) < (MIN_ITEMS if min_items is None else min_items) or not can_fork():
        count = 1
    size = max(1, -(-len(items) // (count * 16)))
    spans = [(start, min(start + size, len(items))) for start in range(0, len(items), size)]
    if count == 1:
        parts = []
        for start, end in spans:
            parts.append(keep(function(items[start:end])))
            if progress is not None:
                progress(end)
        return [result for part in parts for result in part]
    global _MAP
    _MAP = (function, items)
    parts = []
    try:
        with fork_pool(count) as pool:
            for (_, end), part in zip(spans, pool.imap(_map_span, spans, chunksize=1)):
                parts.append(keep(part))
                if progress is not None:
                    progress(end)
    finally:
        _MAP = None
    return [result for part in parts for result in part]


def _same(part: list[Any]) -> list[Any]:
    return part


def _map_span(span: tuple[int, int]) -> list[Any]:
    assert _MAP is not None, "fork_map workers must be forked from fork_map"
    function, items = _MAP
    return function(items[span[0]:span[1]])
