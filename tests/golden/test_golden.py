"""The fixture site in tests/golden/site/ builds to exactly tests/golden/expected/."""

from __future__ import annotations

from pathlib import Path

from tests.golden.regenerate import EXPECTED, SITE, build, files


def test_golden_site_matches_expected_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*"))
    build(out)
    assert sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*")) == before, "the build wrote into the checkout"
    built, expected = files(out), files(EXPECTED)
    assert sorted(built) == sorted(expected), "file list differs: run python3 -m tests.golden.regenerate and review"
    for name in expected:
        assert built[name] == expected[name], f"{name} differs from the golden copy"
