"""A linear model held as arrays: named columns, named rows, an objective; PuLP only to read or write it.

The planner's models (`planner.model.build`, `planner.model.selection`) add their variables and
rows here, and `planner.engine.solve` copies the arrays into HiGHS in one call. Building rows as
PuLP objects cost more than solving them (rural40 at full funding: 9 s of 20 s in PuLP, building
and copying); the arrays take a fraction of that. PuLP keeps the readable model:
`LinearModel.to_pulp()` gives the same problem as a `pulp.LpProblem` (for an LP file, or to
look at a row by name), and `LinearModel.from_pulp` takes one in (a benchmark's textbook model).

A column is an int, its index; a row is a list of (column, coefficient) pairs with a sense and a
right-hand side, under a unique name: the same row twice is kept once, and two different rows under
one name are refused (`ModelError`), as a model built from input that should have been refused.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import pulp

from planner.core.errors import ModelError

LE, EQ, GE = -1, 0, 1  # row senses (PuLP's values: LpConstraintLE, LpConstraintEQ, LpConstraintGE)
Terms = list[tuple[int, float]]


@dataclass
class LinearModel:
    """min cost . x + offset over named columns with bounds and integrality, subject to named rows."""

    name: str
    column_names: list[str] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    cost: dict[int, float] = field(default_factory=dict)
    row_names: list[str] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    row_starts: list[int] = field(default_factory=list)  # CSR: row r holds entries row_starts[r]:row_starts[r+1]
    entry_columns: list[int] = field(default_factory=list)
    entry_values: list[float] = field(default_factory=list)
    row_of: dict[str, int] = field(default_factory=dict)

    @property
    def columns(self) -> int:
        return len(self.column_names)

    @property
    def rows(self) -> int:
        return len(self.row_names)

    def column(self, name: str, lower: float = 0.0, upper: float = math.inf, integer: bool = False) -> int:
        """A new column; its index."""
        self.column_names.append(name)
        self.lower.append(lower)
        self.upper.append(upper)
        self.integer.append(integer)
        return len(self.column_names) - 1

    def binary(self, name: str) -> int:
        return self.column(name, 0.0, 1.0, integer=True)

    def add_row(self, name: str, terms: Iterable[tuple[int, float]], sense: int, rhs: float) -> None:
        """sum(coefficient * column) <sense> rhs; the same row twice is kept once (see the module)."""
        merged: dict[int, float] = {}
        for column, coefficient in terms:
            merged[column] = merged.get(column, 0.0) + coefficient
        entries = [(c, v) for c, v in merged.items() if v != 0]
        lower = rhs if sense in (GE, EQ) else -math.inf
        upper = rhs if sense in (LE, EQ) else math.inf
        known = self.row_of.get(name)
        if known is not None:
            if self.row(known) == (sorted(entries), lower, upper):
                return
            raise ModelError(
                f"two different rows of the model would share the name {name!r}; "
                "the input should have been refused (please report this with the dataset)"
            )
        self.row_of[name] = len(self.row_names)
        self.row_names.append(name)
        self.row_lower.append(lower)
        self.row_upper.append(upper)
        self.row_starts.append(len(self.entry_columns))
        for column, value in entries:
            self.entry_columns.append(column)
            self.entry_values.append(value)

    def row(self, index: int) -> tuple[list[tuple[int, float]], float, float]:
        """(sorted entries, lower, upper) of a row."""
        end = self.row_starts[index + 1] if index + 1 < len(self.row_starts) else len(self.entry_columns)
        begin = self.row_starts[index]
        entries = sorted(zip(self.entry_columns[begin:end], self.entry_values[begin:end], strict=True))
        return entries, self.row_lower[index], self.row_upper[index]

    def set_objective(self, terms: Iterable[tuple[int, float]]) -> None:
        cost: dict[int, float] = {}
        for column, coefficient in terms:
            cost[column] = cost.get(column, 0.0) + coefficient
        self.cost = cost

    def without_rows(self, family: str) -> LinearModel:
        """A copy without the rows whose names start with `family` and a double underscore (tests drop a family)."""
        kept = LinearModel(
            self.name, list(self.column_names), list(self.lower), list(self.upper), list(self.integer), dict(self.cost)
        )
        for index, name in enumerate(self.row_names):
            if name.split("__")[0] == family:
                continue
            entries, lower, upper = self.row(index)
            sense, rhs = (EQ, lower) if lower == upper else (GE, lower) if math.isfinite(lower) else (LE, upper)
            kept.add_row(name, entries, sense, rhs)
        return kept

    def to_pulp(self) -> pulp.LpProblem:
        """The same problem as a PuLP model (columns and rows by name): to write an LP file or read a row."""
        problem = pulp.LpProblem(self.name, pulp.LpMinimize)
        variables = [
            problem.add_variable(
                name,
                lowBound=None if math.isinf(low) else low,
                upBound=None if math.isinf(up) else up,
                cat=pulp.LpInteger if whole else pulp.LpContinuous,
            )
            for name, low, up, whole in zip(self.column_names, self.lower, self.upper, self.integer, strict=True)
        ]
        problem.setObjective(pulp.LpAffineExpression([(variables[c], v) for c, v in self.cost.items()]))
        for index, name in enumerate(self.row_names):
            entries, lower, upper = self.row(index)
            expression = pulp.LpAffineExpression([(variables[c], v) for c, v in entries])
            if lower == upper:
                problem += pulp.LpConstraint(expression, pulp.LpConstraintEQ, name, lower)
            elif math.isfinite(lower):
                problem += pulp.LpConstraint(expression, pulp.LpConstraintGE, name, lower)
            else:
                problem += pulp.LpConstraint(expression, pulp.LpConstraintLE, name, upper)
        return problem

    @classmethod
    def from_pulp(cls, problem: pulp.LpProblem) -> LinearModel:
        """A PuLP minimisation problem as arrays (its objective's constant is left to the caller)."""
        model = cls(problem.name)
        index = {}
        for var in problem.variables():
            index[var.name] = model.column(
                var.name,
                -math.inf if var.lowBound is None else var.lowBound,
                math.inf if var.upBound is None else var.upBound,
                var.cat == pulp.LpInteger,
            )
        model.set_objective((index[var.name], coef) for var, coef in problem.objective.items())
        for number, constraint in enumerate(problem.constraints()):
            terms = [(index[var.name], coef) for var, coef in constraint.items()]
            model.add_row(constraint.name or f"_C{number + 1}", terms, constraint.sense, -constraint.constant)
        return model
