"""URL layout helpers."""

from __future__ import annotations

from digest import urls


def test_layout() -> None:
    assert urls.story("a") == "stories/a/"
    assert urls.topic("japan-aid", 2) == "topics/japan-aid/page/2/"
    assert urls.tag("South China Sea") == "tags/south-china-sea/"
    assert urls.source("Phnom Penh Post") == "sources/phnom-penh-post/"
    assert urls.month(2013, 12) == "archive/2013/12/"
    assert urls.paginated("", 3) == "page/3/"


def test_files_and_relative_roots() -> None:
    assert urls.file_for("") == "index.html"
    assert urls.file_for("stories/a/") == "stories/a/index.html"
    assert urls.file_for("404.html") == "404.html"
    assert urls.relative_root("") == "./"
    assert urls.relative_root("stories/a/") == "../../"
    assert urls.relative_root("topics/x/page/2/") == "../../../../"


def test_base_paths() -> None:
    assert urls.base_path("https://example.org") == "/"
    assert urls.base_path("https://example.org/digest") == "/digest/"
    assert urls.absolute("https://example.org/digest/", "stories/a/") == "https://example.org/digest/stories/a/"
