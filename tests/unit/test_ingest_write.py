"""The writer into content/stories/: unchanged, duplicate, conflict, names independent of order."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from digest.ingest.extracted import Extracted
from digest.ingest.storyfile import StoryOptions, render_story
from digest.ingest.write import apply, atomic_write, plan, scan_stories

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
TITLE = "Readout of President Biden’s Meeting with Prime Minister Kishida of Japan"
BASE = "readout-of-president-bidens-meeting-with-prime-minister-kishida-of-japan"


def _story(title: str = "A story", body: str = "Some text.", url: str | None = None, date: str | None = None):
    return render_story(Extracted(title=title, body=body, source_url=url, date=date), StoryOptions(now=NOW))


def _ingest(stories_dir: Path, stories: list, force: bool = False, dry_run: bool = False):
    pairs = [(f"src{n}", s) for n, s in enumerate(stories)]
    return apply(plan(pairs, scan_stories(stories_dir), force=force), stories_dir, dry_run=dry_run)


def test_new_then_unchanged(tmp_path: Path) -> None:
    story = _story(url="https://example.org/a")
    [first] = _ingest(tmp_path, [story])
    assert (first.status, first.rel) == ("written", "a-story.md")
    assert (tmp_path / "a-story.md").read_text(encoding="utf-8") == story.text
    [again] = _ingest(tmp_path, [_story(url="https://example.org/a")])
    assert (again.status, again.rel) == ("unchanged", "a-story.md")


def test_hand_edit_is_a_conflict_and_force_writes_incoming(tmp_path: Path) -> None:
    _ingest(tmp_path, [_story()])
    path = tmp_path / "a-story.md"
    edited = path.read_text(encoding="utf-8").replace("Some text.", "Some text, improved by an editor.")
    path.write_text(edited, encoding="utf-8")
    [d] = _ingest(tmp_path, [_story()])
    assert d.status == "conflict" and "edited by hand" in d.reason
    assert path.read_text(encoding="utf-8") == edited and not (tmp_path / "a-story.incoming.md").exists()
    [d] = _ingest(tmp_path, [_story()], force=True)
    assert d.status == "conflict" and d.rel == "a-story.incoming.md"
    assert path.read_text(encoding="utf-8") == edited
    assert (tmp_path / "a-story.incoming.md").read_text(encoding="utf-8") == _story().text
    assert [e.rel for e in scan_stories(tmp_path)] == ["a-story.md"]  # incoming files are not stories


def test_duplicates_by_url_and_by_content(tmp_path: Path) -> None:
    _ingest(tmp_path, [_story(url="https://example.org/a")])
    [by_url] = _ingest(tmp_path, [_story(title="Another headline", body="Other text.", url="https://example.org/a")])
    assert by_url.status == "duplicate" and "same source_url as a-story.md" in by_url.reason
    [by_content] = _ingest(tmp_path, [_story(url="https://mirror.example.net/copy")])
    assert by_content.status == "duplicate" and "same content as a-story.md" in by_content.reason
    within = _ingest(tmp_path, [_story(title="Fresh", body="New."), _story(title="Fresh", body="New.")])
    assert [d.status for d in within] == ["written", "duplicate"]
    assert sorted(p.name for p in tmp_path.glob("*.md")) == ["a-story.md", "fresh.md"]


def test_same_url_new_content_updates_an_untouched_file(tmp_path: Path) -> None:
    _ingest(tmp_path, [_story(url="https://example.org/a")])
    [d] = _ingest(tmp_path, [_story(body="Corrected text.", url="https://example.org/a")])
    assert (d.status, d.rel, d.reason) == ("written", "a-story.md", "updated")
    assert "Corrected text." in (tmp_path / "a-story.md").read_text(encoding="utf-8")


def _six() -> list:
    dates = ["2022-01-21", "2022-05-23", "2023-01-13", "2023-05-18", "2024-04-10", "2024-04-10"]
    return [_story(TITLE, f"Readout number {n}.", f"https://www.whitehouse.gov/readout/{n}", d)
            for n, d in enumerate(dates)]


def test_same_title_names_do_not_depend_on_order(tmp_path: Path) -> None:
    forward, backward = tmp_path / "f", tmp_path / "b"
    stories = _six()
    names_f = {d.origin.replace("src", ""): d.rel for d in _ingest(forward, stories)}
    names_b = {str(5 - int(d.origin[3:])): d.rel for d in _ingest(backward, list(reversed(stories)))}
    assert names_f == names_b and len(set(names_f.values())) == 6
    assert names_f["0"] == f"{BASE}-2022-01-21.md"
    assert names_f["4"].startswith(f"{BASE}-2024-04-10-") and names_f["5"].startswith(f"{BASE}-2024-04-10-")
    one_by_one = tmp_path / "s"
    for story in stories[:4]:
        _ingest(one_by_one, [story])
    assert sorted(p.name for p in one_by_one.iterdir()) == sorted(list(names_f.values())[:4])


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    [d] = _ingest(tmp_path, [_story()], dry_run=True)
    assert d.status == "written" and d.rel == "a-story.md" and not list(tmp_path.iterdir())


def test_name_taken_by_a_hand_made_file(tmp_path: Path) -> None:
    (tmp_path / "a-story.md").write_text("---\ntitle: A story\n---\nHand made.\n", encoding="utf-8")
    [d] = _ingest(tmp_path, [_story()])
    assert d.status == "written" and d.rel.startswith("a-story-") and d.rel != "a-story.md"
    assert "Hand made." in (tmp_path / "a-story.md").read_text(encoding="utf-8")


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "x.md"
    atomic_write(target, "one\n")
    atomic_write(target, "two\n")
    assert target.read_text(encoding="utf-8") == "two\n" and [p.name for p in target.parent.iterdir()] == ["x.md"]


def test_write_failure_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "stories"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    [d] = _ingest(blocker, [_story()])
    assert d.status == "failed" and "cannot write" in d.reason
