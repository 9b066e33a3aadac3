"""Domain errors. The CLI turns each into lines on stderr and an exit code, in one place."""

from __future__ import annotations

from collections.abc import Sequence

from .model import Problem


class KzrightsError(Exception):
    """Base class: a problem the user can fix. ``exit_code`` follows grep: 2 is an error."""

    exit_code = 2

    def lines(self) -> list[str]:
        return [str(self)]


class FactBaseError(KzrightsError):
    """The fact base cannot be used: every problem found, each with file and line."""

    def __init__(self, problems: Sequence[Problem], summary: str | None = None):
        self.problems = list(problems)
        super().__init__(summary or f"{len(self.problems)} problem(s) in the fact base")

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems] + [f"kzrights: {self}"]


class UsageError(KzrightsError):
    """Bad arguments: an unknown format, a malformed date, an empty query."""


class NotFoundError(KzrightsError):
    """Nothing matched (exit 1, like grep), with suggestions where there are some."""

    exit_code = 1

    def __init__(self, message: str, suggestions: Sequence[str] = ()):
        self.suggestions = list(suggestions)
        super().__init__(message)

    def lines(self) -> list[str]:
        out = [str(self)]
        if self.suggestions:
            out.append("did you mean: " + "; ".join(self.suggestions))
        return out
