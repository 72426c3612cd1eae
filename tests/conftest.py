"""Shared test helpers: make sites on disk and run the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python -m digest ARGS` as a subprocess and return the completed process."""
    full_env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600", **(env or {})}  # 2026-01-01T00:00:00Z
    return subprocess.run([sys.executable, "-m", "digest", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def write(root: Path, rel: str, text: str) -> Path:
    """Write a dedented file under `root`."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A small valid site: two stories, one topic, one page."""
    write(tmp_path, "digest.toml", 'title = "Test Digest"\n')
    write(tmp_path, "content/stories/first.md", """
        ---
        title: First story
        date: 2024-03-01
        source: The Outlet
        tags: [ASEAN]
        topics: [asean]
        ---
        Body of the first story.
        """)
    write(tmp_path, "content/stories/second.md", """
        ---
        title: Second story
        date: 2024-04-02T10:00:00+07:00
        source: Other Outlet
        tags: [Japan]
        ---
        Body of the second story.
        """)
    write(tmp_path, "content/topics/asean.md", """
        ---
        title: ASEAN
        ---
        About ASEAN.
        """)
    write(tmp_path, "content/pages/about.md", """
        ---
        title: About
        ---
        About this digest.
        """)
    return tmp_path
