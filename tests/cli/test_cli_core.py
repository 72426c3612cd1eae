"""The core CLI through a subprocess: init, new, build, exit codes, output guarantees."""

from __future__ import annotations

import os
import time
from pathlib import Path

from digest import __version__
from tests.conftest import run_cli, write


def test_version_and_help() -> None:
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"digest {__version__}"
    for command in ("build", "init", "new"):
        helped = run_cli(command, "--help")
        assert helped.returncode == 0 and f"usage: digest {command}" in helped.stdout


def test_usage_error_exits_2() -> None:
    assert run_cli("build", "--no-such-flag").returncode == 2
    assert run_cli("no-such-command").returncode == 2
    assert run_cli().returncode == 2


def test_init_then_build(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run_cli("init", str(site)).returncode == 0
    assert (site / "digest.toml").is_file() and list((site / "content" / "stories").glob("*.md"))
    assert (site / "content" / "topics").is_dir()
    result = run_cli("build", cwd=site)
    assert result.returncode == 0, result.stderr
    index = (site / "output" / "index.html").read_text(encoding="utf-8")
    assert "An example story" in index
    assert run_cli("init", str(site)).returncode == 2  # never overwrites a site


def test_empty_config_builds_with_default_theme(tmp_path: Path) -> None:
    write(tmp_path, "digest.toml", "")
    write(tmp_path, "content/stories/a.md", "---\ntitle: Alone\n---\nText.\n")
    result = run_cli("build", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Alone" in (tmp_path / "output/stories/a/index.html").read_text(encoding="utf-8")
    assert "1 undated story" in result.stderr and "content/stories/a.md" in result.stderr


def test_new_creates_skeleton_and_refuses_to_overwrite(site: Path) -> None:
    result = run_cli("new", "Hun Sen’s visit: day two", cwd=site)
    assert result.returncode == 0, result.stderr
    path = site / "content/stories/hun-sens-visit-day-two.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: \"Hun Sen’s visit: day two\"\ndate: 2026-01-01\n")
    for key in ("source:", "source_url:", "author:", "image:", "summary:", "note:", "tags:", "related:", "draft: true"):
        assert key in text
    path.write_text(text + "\nEdited by hand.\n", encoding="utf-8")
    again = run_cli("new", "Hun Sen’s visit: day two", cwd=site)
    assert again.returncode == 2 and "already exists" in again.stderr
    assert path.read_text(encoding="utf-8").endswith("Edited by hand.\n")
    assert run_cli("build", cwd=site).returncode == 0  # the skeleton is a valid (draft) story


def test_content_error_exits_1_and_keeps_previous_output(site: Path) -> None:
    assert run_cli("build", cwd=site).returncode == 0
    before = {p: p.read_bytes() for p in (site / "output").rglob("*") if p.is_file()}
    write(site, "content/stories/broken.md", "---\ntitle: Broken\ndate: yesterday\n---\n")
    write(site, "content/stories/broken2.md", "---\ntitle: [unclosed\n---\n")
    result = run_cli("build", cwd=site)
    assert result.returncode == 1
    assert "content/stories/broken.md:3: 'date' is not an ISO 8601 date or date-time: 'yesterday'" in result.stderr
    assert "content/stories/broken2.md:" in result.stderr  # both problems in one run
    after = {p: p.read_bytes() for p in (site / "output").rglob("*") if p.is_file()}
    assert after == before


def test_template_errors_name_file_and_line(site: Path) -> None:
    write(site, "templates/story.html", "{% extends 'base.html' %}\n{% block main %}\n{{ entry.no_such_field }}\n{% endblock %}\n")
    result = run_cli("build", cwd=site)
    assert result.returncode == 1
    assert "templates/story.html:3: undefined variable:" in result.stderr
    write(site, "templates/story.html", "{% extends 'base.html' %}\n{% block main %}\n{% if %}\n{% endblock %}\n")
    result = run_cli("build", cwd=site)
    assert result.returncode == 1 and "templates/story.html:3:" in result.stderr


def test_unchanged_files_are_not_rewritten_and_stale_files_removed(site: Path) -> None:
    assert run_cli("build", cwd=site).returncode == 0
    story = site / "output/stories/first/index.html"
    old = time.time() - 1000
    os.utime(story, (old, old))
    result = run_cli("build", "--clean", cwd=site)  # renders every page again
    assert result.returncode == 0
    assert story.stat().st_mtime == old  # same bytes: not rewritten
    (site / "content/stories/second.md").unlink()
    assert run_cli("build", cwd=site).returncode == 0
    assert not (site / "output/stories/second").exists()


def test_same_input_same_bytes(site: Path, tmp_path: Path) -> None:
    assert run_cli("build", "--output", str(tmp_path / "a"), cwd=site).returncode == 0
    assert run_cli("build", "--output", str(tmp_path / "b"), cwd=site).returncode == 0
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_drafts_and_future_left_out_unless_asked(site: Path) -> None:
    write(site, "content/stories/draft.md", "---\ntitle: A draft\ndate: 2024-01-01\ndraft: true\n---\n")
    write(site, "content/stories/later.md", "---\ntitle: From the future\ndate: 2030-01-01\n---\n")
    assert run_cli("build", cwd=site).returncode == 0
    assert not (site / "output/stories/draft").exists() and not (site / "output/stories/later").exists()
    assert run_cli("build", "--drafts", "--future", cwd=site).returncode == 0
    assert (site / "output/stories/draft/index.html").is_file()
    assert (site / "output/stories/later/index.html").is_file()


def test_site_templates_override_default_theme_file_by_file(site: Path) -> None:
    write(site, "templates/404.html", "custom not found\n")
    assert run_cli("build", cwd=site).returncode == 0
    assert (site / "output/404.html").read_text(encoding="utf-8") == "custom not found\n"
    assert "First story" in (site / "output/stories/first/index.html").read_text(encoding="utf-8")


def test_static_files_are_copied(site: Path) -> None:
    write(site, "static/images/logo.svg", "<svg/>")
    assert run_cli("build", cwd=site).returncode == 0
    assert (site / "output/images/logo.svg").read_text() == "<svg/>"


def test_incremental_build_in_a_new_process_equals_clean_build(tmp_path: Path) -> None:
    """The cache is pickled by one process and read by the next, whose str hashes differ."""
    write(tmp_path, "digest.toml", "[search]\nenabled = false\n")
    for i in range(1, 7):
        write(tmp_path, f"content/stories/s{i}.md",
              f"---\ntitle: Story {i} on Japan aid and ASEAN\ndate: 2013-12-0{i}\nsource: Outlet {i}\n---\n\n"
              f"Japan aid loans to Cambodia and ASEAN partners, story {i}, with China and the South China Sea.\n")
    assert run_cli("build", "-q", cwd=tmp_path, env={"PYTHONHASHSEED": "1"}).returncode == 0
    story = tmp_path / "content/stories/s3.md"
    story.write_text(story.read_text(encoding="utf-8") + "\nMore on the South China Sea dispute, China and ASEAN.\n",
                     encoding="utf-8")
    old = time.time() - 60
    os.utime(story, (old, old))  # not "racy": the cached state is trusted, not re-read
    assert run_cli("build", "-q", cwd=tmp_path, env={"PYTHONHASHSEED": "2"}).returncode == 0
    assert run_cli("build", "-q", "--clean", "--output", str(tmp_path / "clean"), cwd=tmp_path).returncode == 0
    for name in ("related.json", "stories/s1/index.html", "stories/s3/index.html"):
        assert (tmp_path / "output" / name).read_bytes() == (tmp_path / "clean" / name).read_bytes(), name


def _build_on_a_terminal(site: Path, *args: str) -> str:
    """Run `digest build` with stderr on a pseudo-terminal; return what the terminal showed."""
    import pty
    import subprocess
    import sys

    primary, secondary = pty.openpty()
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}
    process = subprocess.Popen([sys.executable, "-m", "digest", "build", *args], cwd=site, env=env,
                               stdout=subprocess.DEVNULL, stderr=secondary)
    os.close(secondary)
    shown = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    assert process.wait(timeout=120) == 0
    os.close(primary)
    return shown.decode("utf-8", "replace")


def test_progress_bar_on_a_terminal_only_and_timings_on_request(site: Path) -> None:
    past = time.time() - 60  # older than the build: not "racy", so an unchanged site is recognised at once
    for path in site.rglob("*"):
        os.utime(path, (past, past))
    shown = _build_on_a_terminal(site, "--clean")
    assert "parsing stories" in shown and "rendering pages" in shown and "\r" in shown
    piped = run_cli("build", "--clean", "--timings", cwd=site)
    assert piped.returncode == 0, piped.stderr
    assert "parsing stories" not in piped.stderr and "[#" not in piped.stderr  # quiet when not a terminal (CI)
    timed = piped.stdout.splitlines()
    stages = [line.split()[0] for line in timed[timed.index("timings:") + 1:]]
    for stage in ("parse", "related", "render", "write", "total"):
        assert stage in stages
    assert run_cli("build", "--timings", cwd=site).stdout.count("nothing else to do") == 1


def test_numpy_is_loaded_with_one_blas_thread_unless_the_user_says(monkeypatch) -> None:
    """digest uses processes, not BLAS threads: OpenBLAS's pool (~70 ms of numpy's import) is
    kept to one thread, unless OPENBLAS_NUM_THREADS is set."""
    import pytest

    from digest.cli import main

    for preset, expected in ((None, "1"), ("4", "4")):
        if preset is None:
            monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
        else:
            monkeypatch.setenv("OPENBLAS_NUM_THREADS", preset)
        with pytest.raises(SystemExit):
            main(["--version"])
        assert os.environ["OPENBLAS_NUM_THREADS"] == expected
