"""The only module that knows solver statuses: run HiGHS on a model, return plain data.

PuLP reports a run stopped by the time limit as "Optimal"; this module reads HiGHS's
own model status, primal solution status and dual bound instead, so a plan states
honestly whether it is proven optimal and how far from the bound it may be.
"""
from __future__ import annotations

import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass

import highspy
import numpy as np
import pulp

from .model.build import PlanModel, build_model
from .model.case import CarrierCase

SOLVER_NAME = f"HiGHS {highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH} via PuLP {pulp.__version__}"
STATUS_WORDS = {
    "optimal": "proven optimal within the requested gap",
    "feasible": "a valid plan, stopped by the time limit before proving optimality",
    "heuristic": "a valid plan from the list-scheduling heuristic (the solver found nothing better in time)",
    "trivial": "nothing to decide",
}


@dataclass(frozen=True)
class CaseResult:
    """One carrier's schedule and what the solver proved about it."""

    carrier_id: str
    starts: dict[str, int]
    status: str  # optimal | feasible | heuristic | trivial
    objective: float  # solver objective including constant terms
    bound: float  # best proven lower bound on the objective
    build_seconds: float
    solve_seconds: float
    rows: int = 0
    columns: int = 0


class _HiGHS(pulp.HiGHS):
    """PuLP's HiGHS interface, loading the model in bulk and accepting a warm start."""

    def __init__(self, start: dict[str, float] | None = None, **options):
        super().__init__(**options)
        self.start = start or {}

    def buildSolverModel(self, lp):
        variables = lp.variables()
        for i, var in enumerate(variables):
            var.index = i
        inf = highspy.kHighsInf
        sign = -1 if lp.sense == pulp.LpMaximize else 1
        h = lp.solverModel
        n = len(variables)
        cost = np.array([sign * lp.objective.get(v, 0.0) for v in variables], dtype=float)
        lower = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], dtype=float)
        upper = np.array([inf if v.upBound is None else v.upBound for v in variables], dtype=float)
        h.addCols(n, cost, lower, upper, 0, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
        integer = np.array([v.index for v in variables if v.cat == pulp.LpInteger], dtype=np.int32)
        if len(integer) and self.mip:
            h.changeColsIntegrality(len(integer), integer, np.full(len(integer), highspy.HighsVarType.kInteger))
        constraints = list(lp._constraints.values())
        starts, indices, values, row_lower, row_upper = [], [], [], [], []
        for i, con in enumerate(constraints):
            con.index = i
            starts.append(len(indices))
            for var, coef in con.items():
                if coef != 0:
                    indices.append(var.index)
                    values.append(coef)
            lb, ub = con.getLb(), con.getUb()
            row_lower.append(-inf if lb is None else lb)
            row_upper.append(inf if ub is None else ub)
        if constraints:
            h.addRows(len(constraints), np.array(row_lower), np.array(row_upper), len(indices),
                      np.array(starts, dtype=np.int32), np.array(indices, dtype=np.int32), np.array(values, dtype=float))

    def callSolver(self, lp):
        if self.start:
            names = {v.name: v.index for v in lp.variables()}
            known = [(names[k], v) for k, v in self.start.items() if k in names]
            if known:
                index, value = zip(*known)
                lp.solverModel.setSolution(len(index), np.array(index, dtype=np.int32), np.array(value, dtype=float))
        lp.solverModel.run()


@contextmanager
def _quiet_stdout():
    """HiGHS prints a banner from C++ even with output off; keep it out of reports."""
    try:
        saved = os.dup(1)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def warm_start_values(m: PlanModel, starts: dict[str, int]) -> dict[str, float]:
    """Variable values of a known schedule, named as in the model."""
    values: dict[str, float] = {}
    for site_id, periods in m.started_by.items():
        start = starts.get(site_id)
        for t, var in periods.items():
            values[var.name] = 1.0 if start is not None and start <= t else 0.0
    going = m.extra.get("work_going")
    if going:
        finish = max((s + m.case.by_id[k].duration_months for k, s in starts.items() if k in m.started_by), default=0)
        for t, var in going.items():
            values[var.name] = 1.0 if t < finish else 0.0
    return values


def read_starts(m: PlanModel) -> dict[str, int]:
    """Start period of each site the solution replaces: the first t with z[s,t] = 1."""
    starts = {}
    for site_id, periods in m.started_by.items():
        for t in sorted(periods):
            value = periods[t].varValue
            if value is not None and value > 0.5:
                starts[site_id] = t
                break
    return starts


def solve_case(case: CarrierCase, time_limit_s: float, mip_gap: float, warm_start: dict[str, int] | None = None,
               threads: int = 1) -> CaseResult:
    """Build and solve one carrier's model; fall back to the warm start if the solver finds nothing."""
    began = time.perf_counter()
    if not case.windows:
        return CaseResult(case.carrier_id, {}, "trivial", math.nan, math.nan, 0.0, 0.0)
    m = build_model(case)
    built = time.perf_counter()
    solver = _HiGHS(start=warm_start_values(m, warm_start) if warm_start else None, msg=False,
                    timeLimit=max(0.5, time_limit_s), gapRel=mip_gap, threads=threads, mip_feasibility_tolerance=1e-7)
    with _quiet_stdout():
        m.problem.solve(solver)
    solved = time.perf_counter()
    h = m.problem.solverModel
    model_status = h.getModelStatus()
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    constant = m.objective_constant
    if model_status == highspy.HighsModelStatus.kOptimal:
        status = "optimal"
    elif has_solution:
        status = "feasible"
    else:
        status = "heuristic"
    bound = info.mip_dual_bound if math.isfinite(info.mip_dual_bound) else -math.inf
    if status == "heuristic":
        starts = dict(warm_start or {})
        objective = math.nan
    else:
        starts = read_starts(m)
        objective = info.objective_function_value + constant
    return CaseResult(case.carrier_id, starts, status, objective, bound + constant, built - began, solved - built,
                      rows=len(m.problem.constraints), columns=len(m.problem.variables()))


@dataclass(frozen=True)
class SelectionResult:
    """The national selection: sites chosen, and the lower bound it proves."""

    replaced: set[str]
    status: str
    objective: float
    bound: float
    seconds: float


def solve_selection(cases: list[CarrierCase], own_funds: dict[str, float], available_usd: float,
                    time_limit_s: float, mip_gap: float) -> SelectionResult:
    """Solve the national selection model (see `planner.model.selection`)."""
    from .model.selection import build_selection

    began = time.perf_counter()
    problem, replaced, _, constant = build_selection(cases, own_funds, available_usd)
    solver = _HiGHS(msg=False, timeLimit=max(0.5, time_limit_s), gapRel=mip_gap, threads=1)
    with _quiet_stdout():
        problem.solve(solver)
    info = problem.solverModel.getInfo()
    status_code = problem.solverModel.getModelStatus()
    has_solution = info.primal_solution_status == 2
    chosen = {s for s, var in replaced.items() if has_solution and var.varValue is not None and var.varValue > 0.5}
    status = "optimal" if status_code == highspy.HighsModelStatus.kOptimal else "feasible" if has_solution else "heuristic"
    bound = info.mip_dual_bound if math.isfinite(info.mip_dual_bound) else -math.inf
    objective = info.objective_function_value + constant if has_solution else math.nan
    return SelectionResult(chosen, status, objective, bound + constant, time.perf_counter() - began)
