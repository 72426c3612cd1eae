"""How the `digest` process ends: at once after its command (no interpreter teardown), with its
output complete and its exit code kept; the ordinary exit when another thread still runs."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import run_cli


def _console(argv: list[str], before: str = "") -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent(f"""
        import atexit, sys
        from digest import cli
        atexit.register(lambda: print("interpreter teardown ran"))
        {before}
        sys.argv = ["digest", *{argv!r}]
        cli.console()
    """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_the_process_ends_without_the_interpreter_teardown(tmp_path):
    (tmp_path / "digest.toml").write_text('title = "T"\nbase_url = "https://example.org/"\n', encoding="utf-8")
    done = _console(["build", "--site", str(tmp_path)])
    assert done.returncode == 0, done.stderr
    assert "built " in done.stdout  # flushed before the process ended
    assert "interpreter teardown ran" not in done.stdout


def test_exit_codes_are_kept(tmp_path):
    (tmp_path / "digest.toml").write_text("titel = 1\n", encoding="utf-8")  # an unknown key
    failed = _console(["build", "--site", str(tmp_path)])
    assert failed.returncode == 1 and "titel" in failed.stderr
    assert _console(["build", "--no-such-flag"]).returncode == 2
    assert run_cli("build", "--site", str(tmp_path)).returncode == 1  # `python -m digest` ends the same way


def test_a_running_thread_gets_the_ordinary_exit(tmp_path):
    (tmp_path / "digest.toml").write_text('title = "T"\nbase_url = "https://example.org/"\n', encoding="utf-8")
    # a thread that runs until the main thread ends (the interpreter's exit waits for it)
    done = _console(["build", "--site", str(tmp_path)], before=(
        "import threading; threading.Thread(target=threading.main_thread().join).start()"))
    assert done.returncode == 0, done.stderr
    assert "interpreter teardown ran" in done.stdout


def test_what_a_build_made_is_left_for_the_exit_and_dropped_by_the_next_build_in_the_process(tmp_path):
    (tmp_path / "digest.toml").write_text('title = "T"\nbase_url = "https://example.org/"\n', encoding="utf-8")
    code = textwrap.dedent(f"""
        from digest import cli
        from digest.commands import build
        for _ in range(2):
            assert cli.main(["build", "--clean", "-q", "--site", {str(tmp_path)!r}]) == 0
            left = build._LEFT_FOR_EXIT
            print(len(left), type(left[0]["views"]).__name__)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    first, second = [line.split() for line in done.stdout.splitlines()]
    assert first == second == ["1", "SiteViews"]  # kept (not freed as the build returned), one build's worth
