"""The planner's one exception tree, so callers catch exactly what they can handle.

    PlannerError
    ├── InputError          bad dataset or scenario; carries every Issue found
    └── SolveError          the solver could not give a usable plan
        ├── Infeasible      no plan satisfies the hard rules
        ├── NotSolved       stopped (time limit, solver failure) with no plan at all
        └── ModelError      the model would be ill-formed (two rows under one name); a bug, never a traceback

Nothing else escapes the library on bad input: loaders collect problems into
`Issue` records and raise one `InputError` holding all of them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in the input, located as precisely as the input allows.

    `row` is the line number a spreadsheet user sees (the header is line 1), or None
    when the problem concerns a whole file or column.
    """

    file: str
    row: int | None
    column: str | None
    rule: str
    value: str | None
    message: str
    severity: str = "error"  # "error" stops a solve; "warning" is reported only

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file}:{self.row}"
        column = f" {self.column}:" if self.column else ""
        value = "" if self.value is None else f" (value: {_shorten(self.value)})"
        tag = "" if self.severity == "error" else f" [{self.severity}]"
        return f"{where}:{column} {self.message}{value} [rule: {self.rule}]{tag}"


def _shorten(text: str, limit: int = 80) -> str:
    text = repr(text) if text.strip() != text or not text else text
    return text if len(text) <= limit else text[: limit - 3] + "..."


class PlannerError(Exception):
    """Base of every error the planner raises on purpose."""


class InputError(PlannerError):
    """The dataset or scenario breaks one or more rules; `issues` lists every one."""

    def __init__(self, issues: list[Issue]):
        self.issues = [i for i in issues if i.severity == "error"]
        self.warnings = [i for i in issues if i.severity != "error"]
        count = len(self.issues)
        head = f"{count} problem{'s' if count != 1 else ''} in the input"
        super().__init__(head + ":\n" + "\n".join(f"  {i}" for i in self.issues))


class SolveError(PlannerError):
    """The optimiser could not produce a plan."""


class Infeasible(SolveError):
    """No plan satisfies the hard rules of the scenario."""


class NotSolved(SolveError):
    """The solver stopped (time limit or failure) before finding any plan."""


class ModelError(SolveError):
    """The model could not be built as written (e.g. two different rows under one name): refused before solving."""
