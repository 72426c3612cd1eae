"""Subcommands of the `digest` CLI, one module each.

Each module defines `register(subparsers)`, which adds its parser and sets
`func=run` as a default; `run(args) -> int` returns the exit code. Only the module of the
command being run is imported, so `digest build` never pays for ingest's libraries.
"""

# name -> one-line help, in the order of `digest --help`.
COMMANDS = {
    "init": "create a new site",
    "new": "create a story file from a skeleton",
    "build": "build the site into output/",
    "ingest": "turn news articles into story files",
    "extract": "print the story ingest would write for one source",
    "topics": "list topics, or explain one story's topics",
    "serve": "preview the site with live reload",
    "check": "validate content and check the built site's links",
}
COMMAND_MODULES = tuple(COMMANDS)
