"""A search index in parts (`[search] stories_per_part`), through the real command line: a story
edit re-indexes the one part that holds it, and the index equals a clean build's, byte for byte."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from digest.search import plan_parts
from tests.conftest import run_cli, tree_bytes, write

STORIES = 6


def _site(root: Path) -> Path:
    write(root, "digest.toml", 'title = "Parts"\n\n[search]\nstories_per_part = 2\n')
    for i in range(STORIES):
        write(root, f"content/stories/s{i}.md",
              f"---\ntitle: Story {i}\ndate: 2024-03-0{i + 1}\n---\nWords of story number {i} about aid.\n")
    return root


def test_an_edit_reindexes_its_part_and_the_index_equals_a_clean_builds(tmp_path: Path) -> None:
    site = _site(tmp_path / "site")
    done = run_cli("build", cwd=site)
    assert done.returncode == 0, done.stderr
    bundle = site / "output" / "pagefind"
    plan = plan_parts([(f"stories/s{i}/index.html", "en") for i in range(STORIES)], "en", 2)
    listing = json.loads((bundle / "digest-bundles.json").read_text(encoding="utf-8"))
    assert len(plan) > 1 and [b["path"] for b in listing["bundles"]] == [folder for folder, _ in plan]
    before = tree_bytes(bundle)

    edited = site / "content" / "stories" / "s3.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nA correction about the loan.\n", encoding="utf-8")
    done = run_cli("build", cwd=site)
    assert done.returncode == 0, done.stderr
    after = tree_bytes(bundle)
    changed = {name for name in set(before) | set(after) if before.get(name) != after.get(name)}
    changed.discard("digest-bundles.json")  # the listing names each part's index by its hash
    home = next(folder for folder, indices in plan if 3 in indices)
    others = {folder for folder, _ in plan if folder}
    assert changed, "the edit reached the index"
    assert all(name.startswith(home) if home else name.split("/", 1)[0] + "/" not in others for name in changed)

    clean = tmp_path / "clean"
    shutil.copytree(site / "content", clean / "content")
    shutil.copy(site / "digest.toml", clean / "digest.toml")
    done = run_cli("build", cwd=clean)
    assert done.returncode == 0, done.stderr
    assert tree_bytes(clean / "output" / "pagefind") == after
