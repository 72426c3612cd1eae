"""The built site in a real browser: every internal link followed, at a domain root and under
a subpath, served by a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from tests.conftest import run_cli, serve_folder
from tests.golden.regenerate import SITE


@pytest.mark.parametrize("prefix", ["/", "/digest/"])
def test_every_internal_link_resolves_in_chromium(chromium, tmp_path: Path, prefix: str) -> None:
    out = tmp_path / "out"
    result = run_cli("build", "--site", str(SITE), "--output", str(out), "--base-url", f"https://example.org{prefix}")
    assert result.returncode == 0, result.stderr
    server, start = serve_folder(out, prefix)
    page = chromium.new_page()
    try:
        seen: set[str] = set()
        queue = [start]
        failures = []
        while queue:
            url = queue.pop()
            if url in seen:
                continue
            seen.add(url)
            response = page.goto(url)
            if response is None or response.status != 200:
                failures.append((url, response.status if response else None))
                continue
            if not url.endswith("/") and not url.endswith(".html"):
                continue  # a stylesheet, a feed or an image: nothing to follow
            for href in page.eval_on_selector_all("a[href], link[href]", "els => els.map(e => e.getAttribute('href'))"):
                target = urljoin(url, href).split("#")[0]
                if urlsplit(target).netloc == urlsplit(start).netloc:
                    queue.append(target)
        assert not failures
        assert f"{start}stories/japan-loans/" in seen and f"{start}topics/japan-aid/" in seen
        assert len(seen) >= 20
    finally:
        page.close()
        server.shutdown()
