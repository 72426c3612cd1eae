"""The fixture site in tests/golden/site/ builds to exactly tests/golden/expected/."""

from __future__ import annotations

from pathlib import Path

from tests.golden.regenerate import EXPECTED, build, files


def test_golden_site_matches_expected_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(out)
    built, expected = files(out), files(EXPECTED)
    assert sorted(built) == sorted(expected), "file list differs: run python3 -m tests.golden.regenerate and review"
    for name in expected:
        assert built[name] == expected[name], f"{name} differs from the golden copy"
