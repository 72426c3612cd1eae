"""`digest ingest` and `digest extract` through a subprocess, on real files in a temporary site."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, SHARED, run_cli, write

SEED = SHARED / "corpus" / "000_5cf80c246afc7654.txt"
WHITEHOUSE = SHARED / "corpus" / "whitehouse"
SEED_FILE = "content/stories/japan-push-wont-hurt-china-ties.md"
FORBIDDEN = re.compile(r"<\s*/?\s*(script|style|iframe|form)\b|\bon\w+\s*=|javascript:|data:", re.IGNORECASE)


@pytest.fixture
def empty_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    write(site, "digest.toml", 'title = "Test"\n')
    (site / "content" / "stories").mkdir(parents=True)
    return site


def _head(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("\n---\n", 1)[0][4:])


def test_seed_ingest_then_unchanged(empty_site: Path) -> None:
    result = run_cli("ingest", str(SEED), cwd=empty_site)
    assert result.returncode == 0, result.stderr
    assert f"written: {SEED_FILE} <- {SEED}" in result.stdout
    assert "1 written, 0 unchanged, 0 duplicate, 0 conflict, 0 failed" in result.stdout
    story = empty_site / SEED_FILE
    head = _head(story)
    assert head["title"] == "Japan push ‘won’t hurt China ties’" and head["source"] == "Phnom Penh Post"
    assert head["image"]["credit"] == "Vireak Mai" and "date" not in head
    assert head["ingested"] == "2026-01-01T00:00:00Z"
    before = story.read_bytes()
    extracted = run_cli("extract", str(SEED))
    assert extracted.returncode == 0 and extracted.stdout.encode("utf-8") == before  # extract == ingest
    again = run_cli("ingest", str(SEED), cwd=empty_site, env={"SOURCE_DATE_EPOCH": "1800000000"})
    assert again.returncode == 0 and f"unchanged: {SEED_FILE}" in again.stdout
    assert story.read_bytes() == before


def test_hand_edit_conflict_then_force(empty_site: Path) -> None:
    assert run_cli("ingest", str(SEED), cwd=empty_site).returncode == 0
    story = empty_site / SEED_FILE
    edited = story.read_text(encoding="utf-8").replace("source: Phnom Penh Post", "source: The Phnom Penh Post")
    story.write_text(edited, encoding="utf-8")
    result = run_cli("ingest", str(SEED), cwd=empty_site)
    assert result.returncode == 1 and "conflict" in result.stdout and "edited by hand" in result.stdout
    assert story.read_text(encoding="utf-8") == edited
    forced = run_cli("ingest", "--force", str(SEED), cwd=empty_site)
    assert forced.returncode == 1
    incoming = empty_site / "content/stories/japan-push-wont-hurt-china-ties.incoming.md"
    assert incoming.is_file() and _head(incoming)["source"] == "Phnom Penh Post"
    assert story.read_text(encoding="utf-8") == edited


def test_duplicates_by_url_and_by_content(empty_site: Path, tmp_path: Path) -> None:
    url = "https://www.phnompenhpost.com/national/japan-push-wont-hurt-china-ties"
    assert run_cli("ingest", "--url", url, str(SEED), cwd=empty_site).returncode == 0
    copy = tmp_path / "copy.txt"
    shutil.copy(SEED, copy)
    by_content = run_cli("ingest", "--url", "https://mirror.example.net/story", str(copy), cwd=empty_site)
    assert by_content.returncode == 0 and "duplicate" in by_content.stdout and "same content" in by_content.stdout
    other = write(tmp_path, "other.txt", "A different headline\n\n" + "This paragraph is long enough to be the "
                  "article's prose, and it ends like a sentence does.\n" * 3)
    by_url = run_cli("ingest", "--url", url, str(other), cwd=empty_site)
    assert by_url.returncode == 0 and "same source_url" in by_url.stdout
    assert [p.name for p in (empty_site / "content/stories").iterdir()] == ["japan-push-wont-hurt-china-ties.md"]


def test_same_title_order_independent_names(tmp_path: Path) -> None:
    files = sorted(p for p in WHITEHOUSE.glob("*.md")
                   if "title: Readout of President Biden’s Meeting with Prime Minister Kishida of Japan\n"
                   in p.read_text(encoding="utf-8"))
    assert len(files) == 6
    names = []
    for order in (files, list(reversed(files))):
        site = tmp_path / f"site{len(names)}"
        write(site, "digest.toml", "")
        for file in order:  # one source per run: the hardest case for order independence
            assert run_cli("ingest", str(file), cwd=site).returncode == 0
        names.append(sorted(p.name for p in (site / "content/stories").iterdir()))
    assert names[0] == names[1] and len(set(names[0])) == 6
    assert all(n.startswith("readout-of-president-bidens-meeting-with-prime-minister-kishida-of-japan-20")
               for n in names[0])


def test_hostile_markdown(empty_site: Path) -> None:
    hostile = REPO / "tests/fixtures/ingest/markdown/hostile.md"
    result = run_cli("ingest", str(hostile), cwd=empty_site)
    assert result.returncode == 0, result.stderr
    [story] = (empty_site / "content/stories").iterdir()
    text = story.read_text(encoding="utf-8")
    assert FORBIDDEN.search(text) is None and "license: Public domain" in text
    assert "- statements-releases" in text


def test_dry_run_writes_nothing(empty_site: Path) -> None:
    result = run_cli("ingest", "--dry-run", str(SEED), str(WHITEHOUSE), cwd=empty_site)
    assert result.returncode == 0, result.stderr
    assert "would write (written): content/stories/japan-push-wont-hurt-china-ties.md" in result.stdout
    # two White House files are the same briefing under two URLs: one is a duplicate
    assert "dry run: 200 written, 0 unchanged, 1 duplicate, 0 conflict, 0 failed" in result.stdout
    assert not list((empty_site / "content/stories").iterdir())


def test_bad_files_do_not_stop_the_batch(empty_site: Path, tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    shutil.copy(SEED, batch / "seed.txt")
    write(batch, "empty.txt", "")
    (batch / "photo.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    write(batch, "broken.md", "---\ntitle: [unclosed\n---\nBody\n")
    write(batch, "menu.txt", "Home\nNews\nSport\n")
    (batch / "notes.docx").write_bytes(b"ignored: not a supported type")
    result = run_cli("ingest", str(batch), cwd=empty_site)
    assert result.returncode == 1
    assert "1 written, 0 unchanged, 0 duplicate, 0 conflict, 4 failed" in result.stdout
    assert f"{batch / 'empty.txt'}: empty file" in result.stderr
    assert f"{batch / 'photo.html'}: " in result.stderr and "binary" in result.stderr
    assert f"{batch / 'broken.md'}: " in result.stderr and "invalid YAML" in result.stderr
    assert f"{batch / 'menu.txt'}: no article text found" in result.stderr
    assert "Traceback" not in result.stderr
    assert (empty_site / SEED_FILE).is_file()


def test_extract_honours_extract_url_and_writes_nothing(tmp_path: Path) -> None:
    result = run_cli("extract", str(SEED), cwd=tmp_path, env={"EXTRACT_URL": "https://example.org/seed"})
    assert result.returncode == 0 and "source_url: https://example.org/seed" in result.stdout
    assert not list(tmp_path.iterdir())
    missing = run_cli("extract", str(tmp_path / "nope.txt"))
    assert missing.returncode == 1 and "no such file" in missing.stderr


def test_usage_errors(empty_site: Path) -> None:
    assert run_cli("ingest", "--url", "https://x.example/", str(SEED), str(SEED), cwd=empty_site).returncode == 2
    assert run_cli("ingest", "--date", "yesterday", str(SEED), cwd=empty_site).returncode == 2
    assert run_cli("ingest", cwd=empty_site).returncode == 2


def test_options_reach_the_front_matter(empty_site: Path) -> None:
    result = run_cli("ingest", "--topic", "japan-aid", "--tag", "Cambodia", "--date", "2013-12-17",
                     "--source", "The Phnom Penh Post", str(SEED), cwd=empty_site)
    assert result.returncode == 0, result.stderr
    path = empty_site / "content/stories/japan-push-wont-hurt-china-ties-2013-12-17.md"
    head = _head(path)
    assert (head["date"], head["source"], head["topics"], head["tags"]) == (
        "2013-12-17", "The Phnom Penh Post", ["japan-aid"], ["Cambodia"])
