"""The outputs a site may do without (`[outlets]`, `[archive]`, `[sitemap]`, `[feeds] topics/tags`):
switched off, they are not built, nothing links to them, the site still checks clean, and a quick
rebuild after an edit gives the bytes of a clean build."""

from __future__ import annotations

import posixpath
import re
from datetime import datetime, timezone
from pathlib import Path

from digest.check import check_site
from digest.config import parse_config
from digest.errors import ConfigError
from tests.conftest import run_cli, tree_bytes, write

OFF = """
[outlets]
enabled = false

[archive]
enabled = false

[sitemap]
enabled = false

[feeds]
topics = false
tags = false
"""


def _off(site: Path) -> None:
    write(site, "digest.toml", 'title = "Test Digest"\nbase_url = "https://example.org/"\n' + OFF)


def test_switched_off_outputs_are_not_built_nor_linked(site: Path) -> None:
    _off(site)
    done = run_cli("build", cwd=site)
    assert done.returncode == 0, done.stderr
    out = site / "output"
    assert not (out / "sources").exists() and not (out / "archive").exists()
    assert not (out / "sitemap.xml").exists()
    robots = (out / "robots.txt").read_text(encoding="utf-8")
    assert "Allow: /" in robots and "Sitemap" not in robots
    feeds = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.xml"))
    assert feeds == ["feed.xml"]
    for page in out.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not re.search(r'href="[^"]*(sources|archive)/', html), page
        folder = page.parent.relative_to(out).as_posix()
        for href in re.findall(r'href="([^"]*feed\.xml)"', html):  # the site's feed only
            target = href[1:] if href.startswith("/") else posixpath.normpath(posixpath.join(folder, href))
            assert target == "feed.xml", (page, href)  # 404.html links from the site's root
    story = (out / "stories" / "first" / "index.html").read_text(encoding="utf-8")
    assert '<span class="outlet">The Outlet</span>' in story
    assert check_site(site, now=datetime(2026, 1, 1, tzinfo=timezone.utc)).findings == ()


def test_on_by_default_and_each_switch_alone(site: Path) -> None:
    done = run_cli("build", cwd=site)
    assert done.returncode == 0, done.stderr
    out = site / "output"
    assert (out / "sources" / "index.html").is_file() and (out / "archive" / "index.html").is_file()
    assert (out / "sitemap.xml").is_file() and (out / "topics" / "asean" / "feed.xml").is_file()
    assert (out / "tags" / "asean" / "feed.xml").is_file()
    assert 'class="outlet" href="../../sources/the-outlet/"' in (out / "stories/first/index.html").read_text(encoding="utf-8")
    write(site, "digest.toml", 'title = "Test Digest"\n[feeds]\ntags = false\n')
    assert run_cli("build", cwd=site).returncode == 0
    assert (out / "topics" / "asean" / "feed.xml").is_file() and not (out / "tags" / "asean" / "feed.xml").exists()
    assert (out / "sources").is_dir() and (out / "sitemap.xml").is_file()
    _off(site)  # switched off after a build: what the last build wrote of them goes
    done = run_cli("build", cwd=site)
    assert done.returncode == 0, done.stderr
    assert not (out / "sources").exists() and not (out / "archive").exists() and not (out / "sitemap.xml").exists()
    assert not (out / "topics" / "asean" / "feed.xml").exists() and (out / "feed.xml").is_file()


def test_a_quick_rebuild_with_outputs_off_equals_a_clean_build(site: Path, tmp_path_factory) -> None:
    _off(site)
    assert run_cli("build", cwd=site).returncode == 0
    story = site / "content/stories/second.md"
    story.write_text(story.read_text(encoding="utf-8").replace("Body of the second", "Edited body of the second"),
                     encoding="utf-8")
    rebuilt = run_cli("build", "--timings", cwd=site)
    assert rebuilt.returncode == 0, rebuilt.stderr
    clean = tmp_path_factory.mktemp("clean")
    done = run_cli("build", "--clean", "--output", str(clean / "out"), cwd=site)
    assert done.returncode == 0, done.stderr
    assert tree_bytes(site / "output") == tree_bytes(clean / "out")


def test_the_switches_are_booleans() -> None:
    config = parse_config(OFF, "digest.toml")
    assert not (config.outlets_enabled or config.archive_enabled or config.sitemap_enabled
                or config.topic_feeds or config.tag_feeds)
    try:
        parse_config('[archive]\nenabled = "no"\n', "digest.toml")
    except ConfigError as error:
        assert "digest.toml:2: 'archive.enabled' must be true or false" in str(error)
    else:
        raise AssertionError("a string was taken for a boolean")
