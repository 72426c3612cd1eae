"""Story bodies rendered ahead: while a large build computes the related stories, which keeps one
core busy and leaves the other idle for seconds, a forked process renders the stories' Markdown
into a file; the render workers and the feeds then read a body's HTML from there instead of
rendering it again (`views.StoryView.body_html` asks `rendered`).

Measured on a cold build of 10,000 stories on 2 cores (/proc/stat sampled): ~2.8 s with one core
idle during the related stories' one-core part, against ~2.5 s of CPU to render every body. The
process is niced, so that while both cores are busy it takes little from the build, and it is
ended when the pages start rendering: what it has not rendered by then renders as before.
The HTML is the one `markdown.renderer` gives, by the same code; only where it is made changes.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
from pathlib import Path
from typing import Iterator, Sequence

from digest.forkmap import can_fork, child_signals, end_process
from digest.markdown import renderer

_SLOT = struct.Struct("<qq")  # (offset in the file, length) of a body's UTF-8 HTML
_CURRENT: "Bodies | None" = None  # the bodies `rendered` reads, while `using` holds them


class Bodies:
    """Markdown texts rendered (in order) by a forked process into a file, as far as it got."""

    def __init__(self, path: Path, texts: Sequence[str], html: bool):
        self._path, self._texts, self._html = path, list(texts), html
        self._at = {text: i for i, text in enumerate(self._texts)}  # hashes each text once, here
        # slot 0: how many texts are done; slot i + 1: text i. Shared with the child (MAP_SHARED).
        self._slots = mmap.mmap(-1, _SLOT.size * (len(self._texts) + 1))
        self._pid = 0
        self._fd = -1
        self._done = 0

    def start(self) -> None:
        """Fork the process that renders the texts (nothing happens where fork is not safe)."""
        if not can_fork():
            return
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                child_signals()
                os.nice(10)  # the idle core's work: the build's own processes come first
                self._render(fd)
                code = 0
            finally:
                os._exit(code)
        self._pid, self._fd = pid, fd

    def _render(self, fd: int) -> None:
        render, offset = renderer(self._html), 0
        for i, text in enumerate(self._texts):
            data = render(text).encode("utf-8", "surrogatepass")
            os.write(fd, data)
            _SLOT.pack_into(self._slots, _SLOT.size * (i + 1), offset, len(data))
            offset += len(data)
            _SLOT.pack_into(self._slots, 0, i + 1, 0)  # after the text's bytes and slot: text i is done

    def stop(self) -> None:
        """End the process wherever it is; the texts it finished stay readable (until `close`)."""
        if self._pid:
            end_process(self._pid)
            self._pid = 0
            self._done = _SLOT.unpack_from(self._slots, 0)[0]

    def close(self) -> None:
        """Stop, and let go of the file (removed) and the shared slots."""
        self.stop()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path)
        self._done = 0

    @property
    def done(self) -> int:
        """How many texts were rendered (known once stopped)."""
        return self._done

    def get(self, text: str, html: bool) -> str | None:
        """The HTML of `text`, when it was rendered ahead with the same setting, else None."""
        if html is not self._html or self._fd < 0:
            return None
        i = self._at.get(text)
        if i is None or i >= self._done:
            return None
        offset, length = _SLOT.unpack_from(self._slots, _SLOT.size * (i + 1))
        return os.pread(self._fd, length, offset).decode("utf-8", "surrogatepass")


@contextlib.contextmanager
def using(bodies: Bodies) -> Iterator[None]:
    """Let `rendered` read `bodies` in this process and the processes it forks meanwhile, once
    it is stopped (before, it gives nothing); closed on exit."""
    global _CURRENT
    _CURRENT = bodies
    try:
        yield
    finally:
        _CURRENT = None
        bodies.close()


def rendered(text: str, html: bool) -> str | None:
    """The HTML of a Markdown text rendered ahead for this build, or None (render it)."""
    return _CURRENT.get(text, html) if _CURRENT is not None else None
