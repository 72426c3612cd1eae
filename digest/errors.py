"""One exception family: every problem carries a path, a line and a message."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem found in a file; `str()` is `path:line: message`."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


class DigestError(Exception):
    """Base of all errors digest reports to a user (exit code 1)."""

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem("digest", None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(DigestError):
    """digest.toml is invalid."""


class ContentError(DigestError):
    """One or more content files are invalid."""


class TemplateError(DigestError):
    """A template failed to compile or render."""


class IngestError(DigestError):
    """A source could not be turned into a story."""


class UsageError(Exception):
    """The command line was used wrongly (exit code 2)."""
