"""The only module that knows solver statuses: run HiGHS on a model, return plain data.

Models are written in PuLP (`planner.model`) and handed to HiGHS (highspy) in bulk.
PuLP's own HiGHS wrapper reports a run stopped by the time limit as "Optimal"; this
module reads HiGHS's model status, primal solution status and dual bound itself, so a
plan says honestly whether it is proven optimal and how far from the bound it may be.

A carrier's MILP is solved in two steps: its LP relaxation first (a bound); if the warm
start is already within the requested gap of that bound, it is returned as proven
within the gap, otherwise branch-and-bound runs from the warm start for the time left.
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

from planner.core.errors import NotSolved
from planner.engine.heuristics import alpha_point_schedules
from planner.model.build import PlanModel, build_model, build_national_model
from planner.model.case import CarrierCase
from planner.model.selection import build_selection

SOLVER_NAME = (
    f"HiGHS {highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}"
    f" (PuLP {pulp.__version__} model)"
)
FEASIBLE = 2  # HiGHS primal_solution_status: a feasible point is held


@dataclass(frozen=True)
class CaseResult:
    """One carrier's schedule and what the solver proved about it."""

    carrier_id: str
    starts: dict[str, int]
    status: str  # optimal | feasible | heuristic | trivial
    objective: float
    bound: float  # best proven lower bound on the objective
    build_seconds: float
    solve_seconds: float
    rows: int = 0
    columns: int = 0


@dataclass
class LoadedModel:
    """A PuLP problem loaded into a HiGHS instance, with the column of each variable."""

    highs: highspy.Highs
    variables: list[pulp.LpVariable]
    integer_columns: np.ndarray
    cost: np.ndarray  # objective coefficient of each column
    offset: float  # constant objective terms
    is_mip: bool = False  # integrality is imposed (after the LP relaxation has been solved)


@contextmanager
def _quiet_stdout():
    """HiGHS prints a banner from C++ when an instance is created; keep it out of reports."""
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


def load(problem: pulp.LpProblem, offset: float, threads: int = 1) -> LoadedModel:
    """Copy a minimisation problem into HiGHS in bulk, as an LP (integrality is set later)."""
    with _quiet_stdout():
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", threads)
    variables = problem.variables()
    for i, var in enumerate(variables):
        var.index = i
    inf = highspy.kHighsInf
    cost = np.array([problem.objective.get(v, 0.0) for v in variables], dtype=float)
    lower = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], dtype=float)
    upper = np.array([inf if v.upBound is None else v.upBound for v in variables], dtype=float)
    empty = np.zeros(0, dtype=np.int32)
    highs.addCols(len(variables), cost, lower, upper, 0, empty, empty, np.zeros(0))
    highs.changeObjectiveOffset(offset)  # constant terms, so HiGHS measures its gap on the true objective
    starts: list[int] = []
    indices: list[int] = []
    values: list[float] = []
    row_lower: list[float] = []
    row_upper: list[float] = []
    for constraint in problem.constraints():
        starts.append(len(indices))
        for var, coef in constraint.items():
            if coef != 0:
                indices.append(var.index)
                values.append(coef)
        lb, ub = constraint.getLb(), constraint.getUb()
        row_lower.append(-inf if lb is None else lb)
        row_upper.append(inf if ub is None else ub)
    if starts:
        highs.addRows(
            len(starts),
            np.array(row_lower),
            np.array(row_upper),
            len(indices),
            np.array(starts, dtype=np.int32),
            np.array(indices, dtype=np.int32),
            np.array(values, dtype=float),
        )
    integer = np.array([v.index for v in variables if v.cat == pulp.LpInteger], dtype=np.int32)
    return LoadedModel(highs, variables, integer, cost, offset)


def _run(
    loaded: LoadedModel, time_limit_s: float, mip_gap: float, integral: bool = False
) -> tuple[str, float, float, list[float] | None]:
    """Run HiGHS; return (status word, objective, bound, column values or None)."""
    h = loaded.highs
    h.setOptionValue("time_limit", float(max(0.1, time_limit_s)))
    h.setOptionValue("mip_rel_gap", 0.0 if integral else float(mip_gap))
    h.setOptionValue("mip_abs_gap", 1.0 - 1e-6 if integral else 1e-6)
    h.run()
    model_status = h.getModelStatus()
    info = h.getInfo()
    has_solution = info.primal_solution_status == FEASIBLE
    values = list(h.getSolution().col_value) if has_solution else None
    if model_status == highspy.HighsModelStatus.kOptimal:
        status = "optimal"
    elif model_status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        status = "infeasible"
    else:
        status = "feasible" if has_solution else "none"
    if loaded.is_mip:
        bound = info.mip_dual_bound if math.isfinite(info.mip_dual_bound) else -math.inf
    else:
        bound = info.objective_function_value if status == "optimal" else -math.inf
    objective = info.objective_function_value if has_solution else math.nan
    return status, objective, bound, values


def _run_mip(
    loaded: LoadedModel, deadline: float, mip_gap: float, integral: bool = False
) -> tuple[str, float, float, list[float] | None]:
    """Branch-and-bound until `deadline` (a perf_counter time), checking the point HiGHS returns.

    HiGHS 1.16, given a warm start, can finish in presolve reporting a better objective than
    the point `getSolution` then returns (the warm start itself; seen on a 6-site case). When
    the returned point does not have the reported objective, the search is repeated with
    presolve off, which returns the point it reports.
    """
    # HiGHS's clock runs across calls on one instance: its limit is the time used so far plus what is left.
    result = _run(loaded, loaded.highs.getRunTime() + deadline - time.perf_counter(), mip_gap, integral)
    status, objective, _, values = result
    if values is not None and math.isfinite(objective):
        returned = float(np.dot(loaded.cost, values)) + loaded.offset
        if abs(returned - objective) > 1e-6 * max(1.0, abs(objective)) and deadline - time.perf_counter() > 0.5:
            loaded.highs.setOptionValue("presolve", "off")
            result = _run(loaded, loaded.highs.getRunTime() + deadline - time.perf_counter(), mip_gap, integral)
    return result


def _make_integer(loaded: LoadedModel) -> None:
    count = len(loaded.integer_columns)
    if count:
        loaded.highs.changeColsIntegrality(count, loaded.integer_columns, np.full(count, highspy.HighsVarType.kInteger))
        loaded.is_mip = True


def _set_start(loaded: LoadedModel, values_by_name: dict[str, float]) -> None:
    known = [(v.index, values_by_name[v.name]) for v in loaded.variables if v.name in values_by_name]
    if known:
        index, value = zip(*known, strict=True)
        loaded.highs.setSolution(len(index), np.array(index, dtype=np.int32), np.array(value, dtype=float))


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


def value_of(values: list[float], var: pulp.LpVariable) -> float:
    """A variable's value in a HiGHS solution; 0 for a variable in no row and not in the objective.

    `load` numbers only the variables PuLP lists for the problem, and PuLP leaves out one
    that appears nowhere (a site with no people, no crew need and no dependants): it has
    no column, so its value is free and 0 is as good as any.
    """
    index = getattr(var, "index", None)
    return 0.0 if index is None else values[index]


def read_starts(m: PlanModel, values: list[float]) -> dict[str, int]:
    """Start period of each site the solution replaces: the first t with z[s,t] = 1."""
    starts = {}
    for site_id, periods in m.started_by.items():
        for t in sorted(periods):
            if value_of(values, periods[t]) > 0.5:
                starts[site_id] = t
                break
    return starts


def within_gap(objective: float, bound: float, gap: float, integral: bool = False) -> bool:
    """Proven good enough: within the relative gap, or exactly, for an objective that only takes whole values.

    Makespan objectives count months and sites, so a bound less than one below the
    objective proves it optimal; they are held to that rather than to the relative gap.
    """
    if integral:
        return objective - bound < 1.0 - 1e-6
    return objective - bound <= gap * max(abs(objective), 1e-9) + 1e-9


@dataclass(frozen=True)
class ExactSolution:
    """A model's proven optimum as HiGHS reports it, and the schedule read from its point."""

    objective: float  # HiGHS's optimal objective, constant terms included
    starts: dict[str, int]


EXACT_OPTIONS: dict[str, bool | float | str] = {
    "presolve": "off",
    "mip_heuristic_effort": 0.0,
    "mip_heuristic_run_feasibility_jump": False,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_heuristic_run_zi_round": False,
    "mip_heuristic_run_shifting": False,
}


def solve_model_exactly(m: PlanModel, time_limit_s: float = 60.0) -> ExactSolution:
    """The proven optimum of one carrier's MILP as built, by HiGHS's LP-based branch-and-bound alone.

    No warm start, no primal heuristics, no presolve, no selection bound and no list schedules:
    every figure comes from the model's rows, so a test that compares it with a hand-derived or
    enumerated optimum tests the formulation itself (the engine's shortcuts often prove a plan
    optimal before the MILP runs). The gap is zero. Replacing nothing satisfies every row
    (all z = 0), so a model HiGHS calls infeasible or unbounded, or cannot solve within
    `time_limit_s`, raises `NotSolved`.
    """
    loaded = load(m.problem, m.objective_constant)
    if not loaded.variables:  # no site matters to the objective or any row: HiGHS calls that an empty model
        return ExactSolution(m.objective_constant, {})
    for option, value in EXACT_OPTIONS.items():
        loaded.highs.setOptionValue(option, value)
    _make_integer(loaded)
    status, objective, _, values = _run(loaded, time_limit_s, 0.0)
    if status == "infeasible":
        raise broken_model(f"carrier {m.case.carrier_id}")
    if status != "optimal" or values is None:
        raise NotSolved(f"carrier {m.case.carrier_id}: no proven optimum within {time_limit_s:g} s (HiGHS: {status})")
    return ExactSolution(objective, read_starts(m, values))


def broken_model(what: str) -> NotSolved:
    """The error for a model HiGHS proves infeasible or unbounded: it cannot be either, so the model is wrong.

    Replacing nothing (every z = 0, no allocation) satisfies every row, and every variable is bounded.
    """
    return NotSolved(
        f"{what}: HiGHS reports the model infeasible or unbounded, yet replacing nothing satisfies every rule; "
        "this is a bug in planner.model.build, please report it with the dataset"
    )


def solve_case(
    case: CarrierCase,
    time_limit_s: float,
    mip_gap: float,
    warm_start: dict[str, int] | None = None,
    threads: int = 1,
    known_bound: float = -math.inf,
) -> CaseResult:
    """Build and solve one carrier's model within `time_limit_s`; never return worse than the warm start.

    1. the LP relaxation gives a bound, and its alpha-points give list schedules;
    2. if the best schedule is within `mip_gap` of the bound, it is proven and returned;
    3. otherwise branch-and-bound starts from it for the time left, if enough is left.
    `known_bound` is a lower bound proven elsewhere (the selection relaxation).
    """
    began = time.perf_counter()
    deadline = began + time_limit_s
    best = dict(warm_start or {})
    if not case.windows:
        objective = case.score({})
        return CaseResult(case.carrier_id, {}, "trivial", objective, objective, 0.0, 0.0)
    m = build_model(case)
    loaded = load(m.problem, m.objective_constant, threads)
    built = time.perf_counter()
    rows, columns = loaded.highs.getNumRow(), loaded.highs.getNumCol()
    bound = known_bound

    def result(status: str) -> CaseResult:
        objective = case.score(best)
        # A whole-valued objective is at least the bound rounded up.
        proven = math.ceil(bound - 1e-6) if case.objective == "makespan" and math.isfinite(bound) else bound
        return CaseResult(
            case.carrier_id,
            best,
            status,
            objective,
            min(proven, objective),
            built - began,
            time.perf_counter() - built,
            rows,
            columns,
        )

    status, _, lp_bound, values = _run(loaded, deadline - time.perf_counter(), 0.0)
    if status == "infeasible":  # never hand back the warm start (or no work at all) as a plan from a broken model
        raise broken_model(f"carrier {case.carrier_id}")
    lp_seconds = time.perf_counter() - built
    if status == "optimal" and values is not None:
        bound = max(bound, lp_bound)
        fractions = {s: {t: value_of(values, v) for t, v in periods.items()} for s, periods in m.started_by.items()}
        best = min([best, *alpha_point_schedules(case, fractions)], key=case.score)
    integral = case.objective == "makespan"
    if within_gap(case.score(best), bound, mip_gap, integral):
        return result("optimal")
    remaining = deadline - time.perf_counter()
    # Branch-and-bound starts again from presolve and its root LP (measured: about 3x the LP's time),
    # and HiGHS checks its clock rarely in that phase: start it only when it can finish its root in time.
    if remaining < 2.0 + 4.0 * lp_seconds:
        return result("feasible")

    _make_integer(loaded)
    _set_start(loaded, warm_start_values(m, best))
    status, _, mip_bound, values = _run_mip(loaded, deadline, mip_gap, integral)
    bound = max(bound, mip_bound)
    if values is not None:
        found = read_starts(m, values)
        if case.score(found) < case.score(best):
            best = found
    if within_gap(case.score(best), bound, mip_gap, integral):
        return result("optimal")
    return result("feasible")


@dataclass(frozen=True)
class SelectionResult:
    """The national selection: sites chosen, and the lower bound it proves."""

    replaced: set[str]
    status: str
    objective: float
    bound: float
    seconds: float


def solve_selection(
    cases: list[CarrierCase], own_funds: dict[str, float], available_usd: float, time_limit_s: float, mip_gap: float
) -> SelectionResult:
    """Solve the national selection model (see `planner.model.selection`)."""

    began = time.perf_counter()
    problem, replaced, _, constant = build_selection(cases, own_funds, available_usd)
    loaded = load(problem, constant)
    _make_integer(loaded)
    status, objective, bound, values = _run(loaded, time_limit_s, mip_gap)
    chosen = {s for s, var in replaced.items() if values is not None and value_of(values, var) > 0.5}
    word = status if status in ("optimal", "feasible") else "heuristic"
    return SelectionResult(chosen, word, objective, bound, time.perf_counter() - began)


@dataclass(frozen=True)
class NationalResult:
    """The optimal rule solved as one problem: schedules, the money they need, and the proven bound."""

    starts: dict[str, int]
    status: str
    objective: float
    bound: float
    seconds: float


def warm_draw_allocation(m: PlanModel, starts: dict[str, int]) -> float:
    """The least allocation under which a warm start's draws stay within the tranches arrived."""
    case, needed = m.case, 0.0
    for period, phi in case.arrival_steps:
        spent = math.fsum(case.by_id[s].cost_usd for s, t in starts.items() if s in case.by_id and t <= period)
        if phi > 0 and spent > case.own_funds_usd:
            needed = max(needed, (spent - case.own_funds_usd) / phi)
    return needed


def solve_national(
    cases: list[CarrierCase],
    own_funds: dict[str, float],
    available_usd: float,
    time_limit_s: float,
    mip_gap: float,
    warm_start: dict[str, int],
    known_bound: float = -math.inf,
) -> NationalResult:
    """Solve every carrier together with the fund shared (see `build_national_model`), from a warm start."""

    began = time.perf_counter()
    deadline = began + time_limit_s
    national = build_national_model(cases, own_funds, available_usd)
    loaded = load(national.problem, national.objective_constant)

    def score(starts: dict[str, int]) -> float:
        return sum(case.score({s: t for s, t in starts.items() if s in case.by_id}) for case in cases)

    best, bound = dict(warm_start), known_bound
    status, _, lp_bound, _ = _run(loaded, deadline - time.perf_counter(), 0.0)
    if status == "infeasible":
        raise broken_model("national model")
    if status == "optimal":
        bound = max(bound, lp_bound)
    if not within_gap(score(best), bound, mip_gap) and deadline - time.perf_counter() > 1.0:
        _make_integer(loaded)
        values_by_name: dict[str, float] = {}
        for m in national.models:
            values_by_name.update(warm_start_values(m, {s: t for s, t in best.items() if s in m.case.by_id}))
            spend = math.fsum(m.case.by_id[s].cost_usd for s in best if s in m.case.by_id)
            values_by_name[national.allocation[m.case.carrier_id].name] = max(
                0.0, spend - own_funds.get(m.case.carrier_id, 0.0), warm_draw_allocation(m, best)
            )
        _set_start(loaded, values_by_name)
        status, _, mip_bound, values = _run_mip(loaded, deadline, mip_gap)
        bound = max(bound, mip_bound)
        if values is not None:
            found: dict[str, int] = {}
            for m in national.models:
                found.update(read_starts(m, values))
            if score(found) < score(best):
                best = found
    objective = score(best)
    word = "optimal" if within_gap(objective, bound, mip_gap) else "feasible"
    return NationalResult(best, word, objective, min(bound, objective), time.perf_counter() - began)
