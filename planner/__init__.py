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
from .allocation import pro_rata_factor
from .engine import plan
from .errors import Infeasible, InputError, Issue, NotSolved, PlannerError, SolveError
from .io import read_dataset, read_scenario
from .reports import carriers_table, monthly_table, objective_value, schedule_table, summary
from .schema import Carrier, CrewPool, Dataset, Plan, Scenario, Site
from .verify import check_plan

__version__ = "0.1.0"

__all__ = [
    "plan", "read_dataset", "read_scenario", "check_plan", "summary", "schedule_table", "carriers_table",
    "monthly_table", "objective_value", "pro_rata_factor", "Carrier", "CrewPool", "Dataset", "Plan",
    "Scenario", "Site", "PlannerError", "InputError", "SolveError", "Infeasible", "NotSolved", "Issue",
]
