"""Rip-and-replace planner: who gets how much money, which site is replaced in which month.

The folders are layers and imports run one way, down them (tests/test_layers.py checks it):
`core` (records, errors, the objective, the dependency graph, display wording) <- `inputs`
(read and validate datasets and scenarios) <- `model` (the per-carrier time-indexed MILP, one
function per constraint family, and the national selection model) <- `engine` (funding rules,
list schedules, `solve`, the only module that knows solver statuses, and `plan`) <- `analysis`
(tables and figures, the independent validator, explanations) <- `runs` (the run-folder format,
the run store, sweeps) <- `present` (plots and report documents) <- `cli` (the `rrplan` command).
This module is the public API.
"""

# The `rrplan` command's Ctrl-C and SIGTERM handlers for the import time below (nothing for a library user).
from planner.cli import startup as _startup  # noqa: F401

# isort: split
from planner.analysis.reports import (
    carriers_table,
    monthly_table,
    schedule_table,
    summary,
    without_service_by_state,
)
from planner.analysis.verify import check_plan
from planner.core import __version__
from planner.core.errors import (
    Cancelled,
    InputError,
    Issue,
    NotSolved,
    PlannerError,
    SolveError,
)
from planner.core.objective import objective_value
from planner.core.schema import Carrier, CrewPool, Dataset, Plan, Scenario, Site
from planner.engine.allocation import pro_rata_factor
from planner.engine.planning import plan, preview_plan
from planner.inputs.io import read_dataset, read_scenario

__all__ = [
    "__version__",
    "plan",
    "preview_plan",
    "read_dataset",
    "read_scenario",
    "check_plan",
    "summary",
    "without_service_by_state",
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
    "NotSolved",
    "Cancelled",
    "Issue",
]
