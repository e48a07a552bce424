"""Rip-and-replace planner: who gets how much money, which site is replaced in which month.

Architecture, one job per module, imports in one direction (cli/app -> engine -> model/solve -> schema):
`schema` holds the frozen records; `io` reads folders and TOML keeping file and line;
`validation` states every input rule and collects all problems; `network` is the
dependency graph; `allocation` the funding rules; `heuristics` the list scheduler;
`model` the per-carrier time-indexed MILP and the national selection model (PuLP);
`solve` the only place that knows solver statuses; `engine.plan` joins them;
`verify` checks any plan independently; `diagnostics` explains missed deadlines;
`reports` turns a plan into tables and headline figures; `cli` is the `rrplan` command.
"""

# The `rrplan` command's Ctrl-C and SIGTERM handlers for the import time below (nothing for a library user).
from planner.cli import startup as _startup  # noqa: F401

# isort: split
from planner.analysis.reports import (
    carriers_table,
    monthly_table,
    schedule_table,
    summary,
)
from planner.analysis.verify import check_plan
from planner.core import __version__
from planner.core.errors import (
    Infeasible,
    InputError,
    Issue,
    NotSolved,
    PlannerError,
    SolveError,
)
from planner.core.objective import objective_value
from planner.core.schema import Carrier, CrewPool, Dataset, Plan, Scenario, Site
from planner.engine.allocation import pro_rata_factor
from planner.engine.planning import plan
from planner.inputs.io import read_dataset, read_scenario

__all__ = [
    "__version__",
    "plan",
    "read_dataset",
    "read_scenario",
    "check_plan",
    "summary",
    "schedule_table",
    "carriers_table",
    "monthly_table",
    "objective_value",
    "pro_rata_factor",
    "Carrier",
    "CrewPool",
    "Dataset",
    "Plan",
    "Scenario",
    "Site",
    "PlannerError",
    "InputError",
    "SolveError",
    "Infeasible",
    "NotSolved",
    "Issue",
]
