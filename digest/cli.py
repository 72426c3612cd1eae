"""The command line: argument parsing and exit codes.

Exit codes: 0 success, 1 content/config errors (or an incomplete result), 2 usage errors.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import threading

from digest import __version__
from digest.commands import COMMANDS
from digest.errors import DigestError, UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 itself; keep its message
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The `digest` argument parser; only the module of the `selected` command is imported."""
    parser = _Parser(prog="digest", description="A static site generator for a curated news digest.")
    parser.add_argument("--version", action="version", version=f"digest {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, summary in COMMANDS.items():
        module_name = f"digest.commands.{name}"
        if name != selected:
            subparsers.add_parser(name, help=summary, add_help=False)
        elif importlib.util.find_spec(module_name) is not None:
            importlib.import_module(module_name).register(subparsers)
    return parser


def _command_of(argv: list[str]) -> str | None:
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    # digest works on every core with processes, never with BLAS threads: one OpenBLAS thread
    # halves numpy's import time (its thread pool starts at import) and keeps forks simple
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    parser = build_parser(_command_of(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"digest: error: {exc}", file=sys.stderr)
        return 2
    except DigestError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("digest: interrupted", file=sys.stderr)
        return 130


def console() -> None:
    """The `digest` command (console script and `python -m digest`): `main`, then the process
    ends at once, with its output flushed.

    A build of a large site leaves millions of objects that the interpreter would otherwise free
    one by one on its way out (~60 ms of a one-story rebuild at 10,000 stories, measured). When
    another thread is still running, the interpreter's own exit (which waits for it) is kept."""
    code = main()
    if threading.active_count() > 1:
        sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader went away (`digest build | head`): as the interpreter would
        code = code or 120
    os._exit(code)
