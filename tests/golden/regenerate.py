"""Rebuild tests/golden/expected/ from tests/golden/site/: `python3 -m tests.golden.regenerate`.

Run it after an intended change of the output, then review the diff before committing.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from tests.conftest import run_cli

HERE = Path(__file__).resolve().parent
SITE = HERE / "site"
EXPECTED = HERE / "expected"
SKIP = ("pagefind/",)  # the search index is checked by its own tests, not byte for byte


def build(out: Path) -> None:
    """Build the golden site into `out` with the fixed clock of the tests, from a copy of it (a
    build keeps its cache in the site folder: the checkout's copy stays as committed)."""
    with tempfile.TemporaryDirectory(prefix="digest-golden-") as tmp:
        site = Path(tmp) / "site"
        shutil.copytree(SITE, site, ignore=shutil.ignore_patterns(".digest"))
        result = run_cli("build", "--site", str(site), "--output", str(out), "-q")
    if result.returncode != 0:
        sys.exit(f"golden build failed:\n{result.stderr}")


def files(folder: Path) -> dict[str, bytes]:
    """The files of a built site, by relative path, without the skipped subtrees."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.relative_to(folder).as_posix().startswith(SKIP)}


def main() -> None:
    if EXPECTED.exists():
        shutil.rmtree(EXPECTED)
    build(EXPECTED)
    for skipped in SKIP:
        shutil.rmtree(EXPECTED / skipped.rstrip("/"), ignore_errors=True)
    print(f"wrote {len(files(EXPECTED))} files to {EXPECTED}")


if __name__ == "__main__":
    main()
