"""digest.toml parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import load_config, parse_config, with_base_url
from digest.errors import ConfigError


def test_empty_config_has_defaults() -> None:
    config = parse_config("", "digest.toml")
    assert config.title == "Digest" and config.base_url == "/" and config.stories_per_page == 20
    assert config.related_count == 5 and config.menu is None


def test_full_config() -> None:
    text = '''
title = "Mekong Desk"
base_url = "https://example.org/digest/"
timezone = "Asia/Phnom_Penh"
stories_per_page = 10
[paths]
output = "public"
[markdown]
html = false
[search]
stories_per_part = 500
[excerpt]
sources = ["Phnom Penh Post"]
[[menu]]
title = "About"
page = "about"
[[menu]]
title = "Feed"
url = "https://example.org/feed.xml"
'''
    config = parse_config(text, "digest.toml")
    assert config.output_dir == "public" and config.markdown_html is False and config.search_part_stories == 500
    assert config.excerpt_sources == ("Phnom Penh Post",)
    assert [m.title for m in config.menu or ()] == ["About", "Feed"]


@pytest.mark.parametrize("text, message", [
    ("title = 5\n", "digest.toml:1: 'title' must be a string, not int"),
    ('\n\nfoo = "x"\n', "digest.toml:3: unknown key 'foo'"),
    ('[paths]\noutput = "o"\nbogus = "x"\n', "digest.toml:3: unknown key 'paths.bogus'"),
    ('stories_per_page = "ten"\n', "digest.toml:1: 'stories_per_page' must be an integer, not str"),
    ('stories_per_page = 0\n', "digest.toml:1: 'stories_per_page' must be at least 1"),
    ('[search]\nenabled = true\nstories_per_part = 0\n', "digest.toml:3: 'search.stories_per_part' must be at least 1"),
    ('timezone = "Mars/Olympus"\n', "digest.toml:1: unknown timezone 'Mars/Olympus'"),
    ('base_url = "example.org"\n',
     "digest.toml:1: 'base_url' must be an http(s) URL or a path starting with '/', not 'example.org'"),
    ('[[menu]]\ntitle = "A"\n', "digest.toml:1: menu entry 'A' needs exactly one of 'url' or 'page'"),
    ('[markdown]\nhtml = "yes"\n', "digest.toml:2: 'markdown.html' must be true or false, not str"),
    ('title = "x\n', "digest.toml:1: invalid TOML: Illegal character '\\n' (at line 1, column 11)"),
])
def test_bad_config_names_key_and_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "digest.toml")
    assert str(info.value) == message


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no digest.toml here"):
        load_config(tmp_path)


def test_base_url_override() -> None:
    config = with_base_url(parse_config("", "x"), "https://example.org/pr-7/")
    assert config.base_url == "https://example.org/pr-7/"
    with pytest.raises(ConfigError):
        with_base_url(config, "nope")
