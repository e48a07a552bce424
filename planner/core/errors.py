"""The planner's one exception tree, so callers catch exactly what they can handle.

    PlannerError
    ├── InputError          bad dataset or scenario; carries every Issue found
    ├── Cancelled           the caller asked the solve to stop (the app's Cancel button); no plan
    └── SolveError          the solver could not give a usable plan
        ├── NotSolved       HiGHS found no plan for a model that always has one
        └── ModelError      the model would be ill-formed (two rows under one name); a bug, never a traceback

Nothing else escapes the library on bad input: loaders collect problems into
`Issue` records and raise one `InputError` holding all of them.

There is no "infeasible scenario" error: replacing nothing breaks no rule (money, crews
and lead times only limit work that is done), so every valid input has a plan, and a
model HiGHS calls infeasible is a bug in the model, reported as `NotSolved`.
"""

from __future__ import annotations

import unicodedata
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
        value = "" if self.value is None else f" (value: {shown_value(self.value)})"
        tag = "" if self.severity == "error" else f" [{self.severity}]"
        return f"{where}:{column} {self.message}{value} [rule: {self.rule}]{tag}"


INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Cn", "Mn", "Me"}


def hidden_characters(text: str) -> list[str]:
    """Characters a reader cannot tell apart on screen: invisible ones (zero-width space, BOM, no-break
    space), full-width forms, and letters of another script among Latin ones (Cyrillic 'а' in 'а-core')."""
    latin = any(c.isascii() and c.isalpha() for c in text)
    found = []
    for char in text:
        if char.isascii() and (char.isprintable() or char == " "):
            continue
        category = unicodedata.category(char)
        name = unicodedata.name(char, "")
        if (
            category in INVISIBLE_CATEGORIES
            or unicodedata.normalize("NFKC", char) != char
            or (latin and category.startswith("L") and not name.startswith("LATIN"))
        ):
            found.append(char)
    return found


def character_name(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')}"


def shown_value(text: str, limit: int = 80) -> str:
    """A value as a person can act on it: hidden characters written as code points and named.

    `A\\u200b-core; U+200B ZERO WIDTH SPACE` instead of an `A-core` that looks like the id it
    is not; leading or trailing spaces are shown by quoting the value.
    """
    hidden = hidden_characters(text)
    shown = "".join(
        (f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}") if c in hidden else c for c in text
    )
    if text.strip() != text or not text:
        shown = f"'{shown}'"
    shown = shown if len(shown) <= limit else shown[: limit - 3] + "..."
    names = list(dict.fromkeys(character_name(c) for c in hidden))
    return shown + "".join(f"; {name}" for name in names[:4]) + ("; ..." if len(names) > 4 else "")


class PlannerError(Exception):
    """Base of every error the planner raises on purpose."""


class InputError(PlannerError):
    """The dataset or scenario breaks one or more rules; `issues` lists every one."""

    def __init__(self, issues: list[Issue], row_ids: dict[tuple[str, int], str] | None = None):
        self.issues = [i for i in issues if i.severity == "error"]
        self.row_ids = row_ids or {}  # (file, row) -> the id in that row, where the reader knows it
        self.warnings = [i for i in issues if i.severity != "error"]
        count = len(self.issues)
        head = f"{count} problem{'s' if count != 1 else ''} in the input"
        super().__init__(head + ":\n" + "\n".join(f"  {i}" for i in self.issues))


class Cancelled(PlannerError):
    """The caller set the solve's cancel event; the solve stopped without a plan (nothing half-made is returned)."""


class SolveError(PlannerError):
    """The optimiser could not produce a plan."""


class NotSolved(SolveError):
    """HiGHS called a model infeasible or unbounded, or stopped with no point, though replacing nothing is a plan.

    Raised by `planner.engine.solve` rather than returning an empty "feasible" plan that hides a broken model.
    """


class ModelError(SolveError):
    """The model could not be built as written (e.g. two different rows under one name): refused before solving."""
