"""Measure save-to-reload with `digest serve` in Debian's chromium (a script, not a test).

Opens one story page of a site, then repeatedly rewrites that story's Markdown (a numbered
correction paragraph appended) and measures, in the browser's own clock, the time from the save
to the reloaded page's DOMContentLoaded showing the new text. The build time the server printed
is reported beside it.

    python3 bench/generate.py --stories 1000 --seed 1 --out /tmp/bench1k/digest
    python3 bench/reload_timing.py --site /tmp/bench1k/digest --runs 7

The story file is restored afterwards.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

SHOWN = ("performance.timeOrigin + performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")


def _pick_story(site: Path, wanted: str | None) -> Path:
    if wanted:
        return site / wanted
    manifest = site / ".bench.json"
    if manifest.is_file():
        import json

        return site / json.loads(manifest.read_text())["edit_story"]
    return sorted((site / "content" / "stories").rglob("*.md"))[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, required=True)
    parser.add_argument("--story", help="the story file to edit, relative to the site (default: the bench's)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stages", action="store_true", help="also print the server's per-stage timings of each rebuild")
    args = parser.parse_args()
    site = args.site.resolve()
    story = _pick_story(site, args.story)
    original = story.read_text(encoding="utf-8")
    slug = re.search(r"^slug:\s*(\S+)", original, re.M)
    slug = slug.group(1).strip("'\"") if slug else story.stem

    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "digest", "serve", "--site", str(site), "--port", "0",
                             *(["--timings"] if args.stages else [])],
                            env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: list[str] = []
    threading.Thread(target=lambda: [lines.append(l.rstrip()) for l in proc.stdout], daemon=True).start()

    def wait_for(pattern: str, after: int = 0, timeout: float = 300) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in lines[after:]:
                if match := re.search(pattern, line):
                    return match
            if proc.poll() is not None:
                raise SystemExit("digest serve exited:\n" + "\n".join(lines))
            time.sleep(0.01)
        raise SystemExit(f"timed out waiting for {pattern!r}:\n" + "\n".join(lines))

    results: list[tuple[float, int]] = []
    try:
        url = wait_for(r"at (http://\S+) ").group(1)
        first = wait_for(r"built in (\d+) ms").group(1)
        print(f"first build: {first} ms", flush=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"{url}stories/{slug}/")
            time.sleep(1.0)
            for run in range(1, args.runs + 1):
                marker = f"Reload timing run {run} {time.time():.0f}"
                seen = len(lines)
                saved = time.time()
                story.write_text(original + f"\n{marker}.\n", encoding="utf-8")
                page.wait_for_function(f"() => document.body.innerText.includes({marker!r})", timeout=120_000)
                shown_ms = page.evaluate(SHOWN) - saved * 1000
                build_ms = int(wait_for(r"built in (\d+) ms", after=seen).group(1))
                results.append((shown_ms, build_ms))
                print(f"run {run}: save-to-reload {shown_ms:.0f} ms (build {build_ms} ms)", flush=True)
                if args.stages:
                    print("  " + wait_for(r"stages: .*", after=seen).group(0), flush=True)
                time.sleep(0.5)
            browser.close()
    finally:
        story.write_text(original, encoding="utf-8")
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    shown = [r[0] for r in results]
    builds = [r[1] for r in results]
    print(f"median save-to-reload {statistics.median(shown):.0f} ms (min {min(shown):.0f}, max {max(shown):.0f}); "
          f"median build {statistics.median(builds):.0f} ms over {len(results)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
