"""Rendering pages on every core: a forked process pool shares the built views without copying
them (copy-on-write). Same output as rendering in one process: each page is a pure function of
its spec.

With a staging folder, each worker also compares its pages with the output folder and writes
only the pages that changed into the staging folder, so neither the page bytes nor their
writing pass through the parent: it moves the staged files into place (`output.write_site`)
once every page has rendered, and the output stays as it was when any page fails. When there
is no output folder yet (a first build), workers write the pages straight into a staging tree
laid out like the site (`fresh_tree`), which becomes the output folder in one rename
(`output.write_fresh`): no per-page move, and the folders are made beforehand by one process
(`TreeMaker`) or else by the workers.
"""

from __future__ import annotations

import errno
import functools
import itertools
import mmap
import os
import shutil
import signal
import struct
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from digest.errors import Problem, TemplateError
from digest.forkmap import can_fork, fork_map, fork_pool, workers  # noqa: F401 (fork_map re-exported for the build)
from digest.model import SiteConfig
from digest.output import Staged
from digest.render import PageSpec, render_pages
from digest.views import SiteViews

MIN_PAGES = 1000  # below this, forking a large build process costs more than it saves
CHUNKS_PER_WORKER = 16  # enough chunks to balance the load and move a progress bar; few enough to be cheap
SERIAL_CHUNK = 256  # pages rendered between progress reports in one process
SCRATCH = ".digest-folders-"  # scratch folders of the folder makers in a fresh tree (see _make_folders)
SCRATCH_SIZE = 64  # folders made in one scratch folder (see _make_folders)
_JOB: tuple | None = None  # set in the parent just before forking; read by the workers
_STAGED = itertools.count()  # numbers the files a worker stages
_MADE: set[str] = set()  # folders a worker has made in a fresh tree (reset per job)


@dataclass(frozen=True)
class Rendered:
    """Rendered pages: bytes (or staged files) of the pages to write, and how many were unchanged."""

    files: dict[str, bytes | Staged]
    unchanged: int = 0  # pages a worker found identical in the output folder (not in `files`)
    meanwhile: Any = None  # what render_all's `meanwhile` returned


@contextmanager
def staging_for(out_dir: Path) -> Iterator[Path]:
    """A fresh staging folder beside `out_dir` (same file system, so moves are renames), removed afterwards."""
    staging = out_dir.parent / f".{out_dir.name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)  # left by a killed build
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fresh_tree(staging: Path) -> Path:
    """Where a first build's pages are laid out, inside `staging`, before it becomes the output folder."""
    return staging / "site"


class TreeMaker:
    """Makes the folders of a first build's pages in the fresh tree, in forked processes one at a
    time, while the build goes on: render workers then only make their files.

    Why: on some file systems every new inode costs kernel time that grows with the inodes just
    deleted (ext4 without a journal skips those deleted in the last 60-360 s: after `rm -rf output`
    each new folder or file of the next build costs ~0.3-0.8 ms), and two processes making entries
    in the same place at once take as long as one while burning twice the CPU. One process making
    the folders, early, overlaps that cost with other stages and keeps the workers from contending;
    the folders at the top of the tree are marked so that ext4 spreads the folders made in them
    over the disk, away from the inodes just freed (`_spread`), which makes the files cheap too;
    the makers place them a few at a time, through scratch folders (`_make_folders`).

    Each `add` forks a process for its names, which starts once the one before it has finished
    (it waits for the end of a pipe that process holds). The makers run at the lowest priority
    (nice 19, under the bodies rendered ahead at 10): while the related features keep both cores
    busy they wait, and they fill the core that the related lists' one-core part leaves idle
    (measured, five alternating cold builds of 10,000 stories: wall time 0.531 of the CPU time
    against 0.544 at the build's own priority). Nothing else depends on them: a worker
    that finds no folder or file makes it itself, so the build ends them (`abort`) once its pages are
    written, without waiting."""

    def __init__(self, tree: Path) -> None:
        self.tree = str(tree)
        self.pids: list[int] = []
        self._previous: int | None = None  # read end of the pipe the last forked maker holds open
        self._tops: set[str] = set()  # folders at the top of the tree made already
        self._given: set[str] = set()  # names an earlier `add` took

    def add(self, names: Sequence[str]) -> None:
        """Make the folder of each output file of `names` (relative to the tree), in a new process;
        names an earlier call was given are left out."""
        names = [name for name in names if name not in self._given]
        self._given.update(names)
        if not names:
            return
        # the folders at the top of the tree first, here, so that no render worker makes one before
        # it is marked (their folders are spread over the disk: see _spread)
        for top in ["", *sorted({name.split("/", 1)[0] for name in names if "/" in name})]:
            folder = os.path.join(self.tree, top)
            if top not in self._tops:
                os.makedirs(folder, exist_ok=True)
                _spread(folder)
                self._tops.add(top)
        done_read, done_write = os.pipe()
        previous = self._previous
        pid = os.fork()
        if pid == 0:  # the maker: never returns into the build
            code = 1
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the group: the build ends this process
                os.close(done_read)
                os.nice(19)  # below the bodies rendered ahead (prerender, nice 10): see the class's doc
                if previous is not None:
                    while os.read(previous, 1):  # until the maker before this one is done
                        pass
                _make_folders(self.tree, names)
                code = 0
            finally:
                os._exit(code)
        os.close(done_write)
        if previous is not None:
            os.close(previous)
        self._previous = done_read
        self.pids.append(pid)

    def abort(self) -> None:
        """End the makers still running and wait for them, and remove the scratch folders they
        left: once every page is written (what they have still to make is there already), or
        when the build fails."""
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
        self.pids.clear()
        if self._previous is not None:
            os.close(self._previous)
            self._previous = None
        try:
            entries = [entry.path for entry in os.scandir(self.tree) if entry.name.startswith(SCRATCH)]
        except FileNotFoundError:  # no folder made yet
            entries = []
        for path in entries:  # left by a maker ended midway: never part of the site
            shutil.rmtree(path)


def _make_folders(tree: str, names: Sequence[str]) -> None:
    """Make the folder of each of `names` (relative to `tree`).

    A folder made straight in a top folder is placed by ext4 as the top folder's mark asks
    (`_spread`): by a scan of every group of inodes on the disk, ~0.1 ms a folder (~1.5 s of
    kernel time for 10,000 story folders). So those folders are made SCRATCH_SIZE at a time in a
    scratch folder of the tree's root (itself spread, one scan), where ext4 keeps them beside it
    without a scan, and moved into place (a rename moves no inode): measured on ext4 without a
    journal, 10,000 folders in ~0.6 s against ~1.5 s. 64 at a time rather than 8: the pages then
    go to ~160 groups of inodes rather than ~1,250, which cost the render workers ~0.9 s less
    kernel time on a disk without recent deletions (a 10,000-story build 0.2-0.4 s shorter), and
    as little right after `rm -rf output` (bench/RESULTS.md, session 18). A move never replaces a
    folder a render worker made meanwhile (`_move_new`): the worker may be about to write its page there."""
    made: set[str] = set()
    scratch, room, count = "", 0, 0
    rename = _renameat2()  # None: folders are made in place (no scratch folders)
    for name in names:
        folder = os.path.dirname(os.path.join(tree, name))
        if folder in made:
            continue
        made.add(folder)
        if name.count("/") != 2 or rename is None or os.path.isdir(folder):
            os.makedirs(folder, exist_ok=True)  # not straight in a top folder, or made already
            continue
        if not room:
            if scratch:
                os.rmdir(scratch)
            scratch = os.path.join(tree, f"{SCRATCH}{os.getpid()}-{count}")
            count += 1
            os.mkdir(scratch)
            room = SCRATCH_SIZE
        made_here = os.path.join(scratch, str(room))
        room -= 1
        os.mkdir(made_here)
        if not _move_new(rename, made_here, folder):  # a worker made it meanwhile, or this file system cannot
            os.rmdir(made_here)
            os.makedirs(folder, exist_ok=True)
    if scratch:
        os.rmdir(scratch)


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """The C library's renameat2 (Linux, glibc 2.28 and later), or None; loaded by the folder
    makers when first needed (not when the module is imported)."""
    import ctypes

    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_AT_FDCWD, _RENAME_NOREPLACE = -100, 1


def _move_new(rename: Callable[..., int], source: str, target: str) -> bool:
    """Move the folder `source` to `target` if nothing is there (renameat2 RENAME_NOREPLACE: a plain
    rename would replace an empty folder, under a worker about to make its page in it); False
    when something is, when `target`'s parent is missing, or when the file system cannot rename
    that way. `rename`: `_renameat2()`."""
    import ctypes

    if rename(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), _RENAME_NOREPLACE) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOENT, errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False  # there already, no folder to move it into yet, or not supported here
    raise OSError(error, os.strerror(error), target)


_FS_IOC_GETFLAGS, _FS_IOC_SETFLAGS, _FS_TOPDIR_FL = 0x80086601, 0x40086602, 0x00020000


def _spread(folder: str) -> None:
    """Mark `folder` as the top of a directory hierarchy (Linux `chattr +T`): ext4 then places each
    folder made in it in a group of inodes of its own choosing, with room, instead of beside
    `folder`. After a large deletion (`rm -rf output`), the inodes beside the output folder are
    ones just freed, which ext4 without a journal skips one by one at every new file or folder
    (measured: ~0.3-0.5 ms each, 14,000 folders and files of a 10,000-story site: ~3-6 s of
    kernel time; spread: ~0.7 s for the files). File systems without the flag refuse it: no matter."""
    import array
    import fcntl

    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        flags = array.array("i", [0])  # the kernel reads and writes an int
        fcntl.ioctl(fd, _FS_IOC_GETFLAGS, flags, True)
        flags[0] |= _FS_TOPDIR_FL
        fcntl.ioctl(fd, _FS_IOC_SETFLAGS, flags, True)
    except OSError:  # not supported here (tmpfs, another file system): folders go where they go
        return
    finally:
        os.close(fd)


def render_all(config: SiteConfig, views: SiteViews, specs: Sequence[PageSpec], template_dirs: Sequence[Path],
               parallel: bool = True, progress: Callable[[str, int, int], None] | None = None,
               out_dir: Path | None = None, staging: Path | None = None, fresh: bool = False,
               meanwhile: Callable[[], Any] | None = None) -> Rendered:
    """Render `specs`, in parallel when it pays; raise TemplateError listing every failing template.

    `progress` is told `("rendering pages", done, total)` as chunks of pages finish. Given
    `out_dir` and `staging`, parallel workers stage changed pages there; with `fresh` (no output
    folder yet) they lay every page out in `fresh_tree(staging)` instead (see the module doc).
    `meanwhile` is called in this process while the workers render (after rendering, when the
    pages render here); what it returns is the result's `meanwhile`, and an error it raises
    ends the rendering."""
    count = workers()
    total = len(specs)
    if not parallel or count < 2 or total < MIN_PAGES or not can_fork():
        chunks: Iterable[range] = [range(start, min(start + SERIAL_CHUNK, total)) for start in range(0, total, SERIAL_CHUNK)]
        rendered = _gather((_render(config, views, specs, template_dirs, chunk) for chunk in chunks), total, progress)
        return replace(rendered, meanwhile=meanwhile()) if meanwhile is not None else rendered
    global _JOB
    _JOB = (config, views, specs, template_dirs,
            None if out_dir is None or staging is None else (str(out_dir), str(staging), fresh))
    _MADE.clear()
    global _LANES
    _LANES = Lanes(lanes(specs, count * CHUNKS_PER_WORKER))
    try:
        with fork_pool(count) as pool:
            results = pool.imap_unordered(_render_next, range(_LANES.chunks), chunksize=1)
            along = meanwhile() if meanwhile is not None else None
            return replace(_gather(results, total, progress), meanwhile=along)
    finally:
        _JOB = _LANES = None


def lanes(specs: Sequence[PageSpec], chunks: int) -> tuple[list[list[int]], list[list[int]]]:
    """The indices of `specs` in about `chunks` chunks, in two lanes: the pages of every template
    but the commonest (listings), and the pages of the commonest (stories), each in order."""
    counts = Counter(spec.template for spec in specs)
    common = max(sorted(counts), key=counts.__getitem__) if counts else None  # ties: the first name
    size = max(1, -(-len(specs) // max(1, chunks)))

    def chunked(part: list[int]) -> list[list[int]]:
        return [part[at:at + size] for at in range(0, len(part), size)]

    return (chunked([i for i, spec in enumerate(specs) if spec.template != common]),
            chunked([i for i, spec in enumerate(specs) if spec.template == common]))


class Lanes:
    """Chunks of pages claimed by forked render workers: each worker takes its own lane's chunks
    from the front and, once that lane is empty, the other lane's from the back.

    A page's list item and related-story link are rendered once per process that needs them
    (render.cached) and a story's body read once: with every worker rendering some pages of every
    kind, each rendered most of them. In lanes, the listings' worker renders the list items, the
    stories' worker the links and bodies, and only the chunks one takes from the other's lane at
    the end repeat any (measured, cold builds of 10,000 stories: ~0.3 s less CPU, ~0.13 s less
    wall time). Made before the fork; the claims go through memory shared with the workers."""

    _STATE = struct.Struct("<5q")  # workers that joined; front and back (one past) of each lane

    def __init__(self, chunks: tuple[list[list[int]], list[list[int]]]) -> None:
        import multiprocessing  # here: a quick rebuild, which forks no pool, does without it

        self._lanes = chunks
        self.chunks = sum(len(lane) for lane in chunks)
        self._lock = multiprocessing.get_context("fork").Lock()
        self._state = mmap.mmap(-1, self._STATE.size)  # anonymous: shared with forked children
        self._STATE.pack_into(self._state, 0, 0, 0, len(chunks[0]), 0, len(chunks[1]))

    def join(self) -> int:
        """A number for the calling worker (0, 1, ...): its lane is the number's parity."""
        with self._lock:
            joined, *ends = self._STATE.unpack_from(self._state, 0)
            self._STATE.pack_into(self._state, 0, joined + 1, *ends)
        return joined

    def claim(self, home: int) -> list[int] | None:
        """The next chunk for a worker of lane `home`, or None when every chunk is taken."""
        with self._lock:
            joined, *ends = self._STATE.unpack_from(self._state, 0)
            lane = home if ends[2 * home] < ends[2 * home + 1] else 1 - home
            front, back = ends[2 * lane], ends[2 * lane + 1]
            if front >= back:
                return None
            if lane == home:
                ends[2 * lane] = front + 1
                chunk = self._lanes[lane][front]
            else:
                ends[2 * lane + 1] = back - 1
                chunk = self._lanes[lane][back - 1]
            self._STATE.pack_into(self._state, 0, joined, *ends)
        return chunk


_LANES: Lanes | None = None  # set in the parent just before forking; read by the workers
_HOME: int | None = None  # a render worker's lane (set at its first chunk)


def _render_next(_: int) -> tuple[dict[str, bytes | Staged], int, list[Problem], int]:
    """Render the next chunk of this worker's lane (one task per chunk: each finds one)."""
    global _HOME
    assert _LANES is not None, "render workers must be forked from render_all"
    if _HOME is None:
        _HOME = _LANES.join() % 2
    chunk = _LANES.claim(_HOME)
    assert chunk is not None, "one task per chunk: every task finds one"
    return _render_chunk(chunk)


def _gather(results: Iterable[tuple[dict[str, bytes | Staged], int, list[Problem], int]], total: int,
            progress: Callable[[str, int, int], None] | None) -> Rendered:
    files: dict[str, bytes | Staged] = {}
    problems: dict[str, Problem] = {}
    done = unchanged = 0
    for chunk_files, chunk_unchanged, chunk_problems, rendered in results:
        files.update(chunk_files)
        unchanged += chunk_unchanged
        for problem in chunk_problems:
            problems.setdefault(str(problem), problem)
        done += rendered
        if progress is not None and total:
            progress("rendering pages", done, total)
    if problems:
        raise TemplateError(sorted(problems.values(), key=str))
    return Rendered({name: files[name] for name in sorted(files)}, unchanged)


def _render(config: SiteConfig, views: SiteViews, specs: Sequence[PageSpec], template_dirs: Sequence[Path],
            indices: range) -> tuple[dict[str, bytes | Staged], int, list[Problem], int]:
    try:
        return dict(render_pages(config, views, [specs[i] for i in indices], template_dirs)), 0, [], len(indices)
    except TemplateError as exc:
        return {}, 0, exc.problems, len(indices)


def _render_chunk(indices: Sequence[int]) -> tuple[dict[str, bytes | Staged], int, list[Problem], int]:
    assert _JOB is not None, "render workers must be forked from render_all"
    config, views, specs, template_dirs, folders = _JOB
    files, _, problems, rendered = _render(config, views, specs, template_dirs, indices)
    if folders is None or problems:
        return files, 0, problems, rendered
    return (*_stage(files, *folders), problems, rendered)


def _stage(files: dict[str, bytes | Staged], out_dir: str, staging: str, fresh: bool = False
           ) -> tuple[dict[str, bytes | Staged], int]:
    """Stage the pages whose bytes differ from the output folder's; count the others."""
    if fresh:
        return _lay_out(files, str(fresh_tree(Path(staging)))), 0
    staged: dict[str, bytes | Staged] = {}
    unchanged = 0
    os.makedirs(staging, exist_ok=True)
    prefix = os.path.join(staging, f"{os.getpid()}-")
    for name, data in files.items():
        assert isinstance(data, bytes)
        target = os.path.join(out_dir, name)
        try:
            if os.path.getsize(target) == len(data):
                with open(target, "rb") as handle:
                    if handle.read() == data:
                        unchanged += 1
                        continue
        except FileNotFoundError:
            pass
        path = f"{prefix}{next(_STAGED)}"  # flat, unique in this worker: no folder per page to make or remove
        with open(path, "wb") as handle:
            handle.write(data)
        staged[name] = Staged(path)
    return staged, unchanged


def _lay_out(files: dict[str, bytes | Staged], tree: str) -> dict[str, bytes | Staged]:
    """Write every page at its own place in the fresh tree `tree` (no output folder to compare with)."""
    staged: dict[str, bytes | Staged] = {}
    for name, data in files.items():
        assert isinstance(data, bytes)
        path = os.path.join(tree, name)
        try:
            handle = open(path, "wb")  # usually made already (TreeMaker)
        except FileNotFoundError:
            folder = os.path.dirname(path)
            if folder not in _MADE:
                os.makedirs(folder, exist_ok=True)  # another worker may make it at the same moment
                _MADE.add(folder)
            handle = open(path, "wb")
        with handle:
            handle.write(data)
        staged[name] = Staged(path)
    return staged
