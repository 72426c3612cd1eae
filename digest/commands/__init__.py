"""Subcommands of the `digest` CLI, one module each.

Each module defines `register(subparsers)`, which adds its parser and sets
`func=run` as a default; `run(args) -> int` returns the exit code.
"""

# The order here is the order of `digest --help`.
COMMAND_MODULES = ("init", "new", "build", "ingest", "extract", "topics", "serve", "check")
