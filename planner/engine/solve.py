"""The only module that knows solver statuses: run HiGHS (or CP-SAT) on a model, return plain data.

Models are built as arrays (`planner.model.linear`; `LinearModel.to_pulp()` shows one as a
PuLP problem) and handed to HiGHS (highspy) in two calls. This module reads HiGHS's model
status, primal solution status and dual bound itself (a wrapper such as PuLP's calls a run
stopped by the time limit "Optimal"), so a plan says honestly whether it is proven optimal
and how far from the bound it may be.

A carrier's MILP is solved in steps: its LP relaxation first (a bound, and list schedules in
the LP's order); if the best schedule is within the requested gap of that bound it is
returned as proven; otherwise a RINS sub-MIP around it, then branch-and-bound from the best (or,
for a carrier too large for both, rounds of time-window sub-MIPs, two at once: `improve_by_windows`).
Makespan cases go to CP-SAT instead (`solve_case_by_constraint_programming`).

Every solve stops on a work budget (`WorkLimits`: simplex iterations, branch-and-bound
nodes, leaves and improving solutions, each HiGHS run on one thread with a fixed random
seed; or a first point good enough, found at the same place of the search), never on
how busy the machine is, so the same inputs give the same plan on an idle or a loaded
machine. The wall clock (`Deadline`, one per plan, shared by every phase) is only a
safety net: when it stops a solve before its work budget is used, the result says so
(`CaseResult.stopped_by_clock`) and the plan's notes name the carrier and the phase.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial

import highspy
import numpy as np
import ortools
from ortools.sat.python import cp_model

from planner.core.errors import NotSolved
from planner.core.schema import Site
from planner.engine.heuristics import alpha_point_schedules
from planner.model.build import PlanModel, build_model, build_national_model
from planner.model.case import CarrierCase
from planner.model.constraint_program import build_constraint_program
from planner.model.linear import LinearModel
from planner.model.selection import build_selection

HIGHS_NAME = f"HiGHS {highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}"
CP_SAT_NAME = f"OR-Tools CP-SAT {getattr(ortools, '__version__', '')}"
SOLVER_NAME = f"{HIGHS_NAME}; {CP_SAT_NAME}"  # both, for the run store's reuse key


def solver_name(objective: str) -> str:
    """The solver a plan of this objective is made by: CP-SAT schedules makespan plans, HiGHS the rest."""
    return f"{CP_SAT_NAME} (selection bound: {HIGHS_NAME})" if objective == "makespan" else HIGHS_NAME


FEASIBLE = 2  # HiGHS primal_solution_status: a feasible point is held
RANDOM_SEED = 0  # fixed, so that HiGHS's tie-breaking is the same on every run


@dataclass(frozen=True)
class Deadline:
    """The wall-clock budget of one plan, shared by every phase (list schedules, selection, LP, branch-and-bound).

    A safety net, not the normal way to stop: `WorkLimits` stop the solves first unless the
    machine is slow or the limit small. Times are `time.time()` seconds, the same clock in the
    parent and in worker processes, so one `Deadline` can be handed to every worker.
    """

    at: float  # time.time() when the budget runs out
    limit_s: float  # the whole budget, for messages

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.time() + seconds, seconds)

    def left_s(self) -> float:
        return self.at - time.time()

    def expired(self) -> bool:
        return self.left_s() <= 0.0

    def share(self, fraction: float) -> Deadline:
        """An earlier deadline: `fraction` of the time left now (a phase that must leave time for the next)."""
        return Deadline(time.time() + max(0.0, self.left_s()) * fraction, self.limit_s)


def as_deadline(when: Deadline | float, absolute: bool) -> Deadline:
    """Accept the older call forms: a `time.time()` instant (`absolute`) or a number of seconds from now."""
    if isinstance(when, Deadline):
        return when
    return Deadline(float(when), float(when) - time.time()) if absolute else Deadline.after(float(when))


@dataclass(frozen=True)
class WorkLimits:
    """Work budgets that end each solve the same way on an idle or a busy machine.

    Measured on rural40 (see benchmarks/bench_rural40.py): the largest carrier's LP takes
    about 26,500 simplex iterations at full funding, and branch-and-bound on it explores no
    node in minutes (its root alone costs several LPs), while carriers whose LP takes a few
    thousand iterations are proven within the gap in a few hundred nodes.
    """

    lp_iterations: int = 200_000  # simplex iterations for one carrier's LP relaxation
    branch_after_lp_iterations: int = 15_000  # branch-and-bound only when the LP took at most this many
    mip_nodes: int = 2_000  # branch-and-bound nodes of one carrier's MILP
    mip_leaves: int = 1_000
    mip_improving_solutions: int = 50
    selection_nodes: int = 5_000  # nodes of a selection model (a knapsack with precedence and crew-months)
    # nodes of the RINS sub-MIP (`improve_in_neighbourhood`): rural40's carriers finish it at the root
    neighbourhood_nodes: int = 200
    # a RINS neighbourhood with more free integer columns is not searched: its root alone costs minutes
    # (3,041 on a 4,480-site carrier: over 600 s; rural40's largest is 204, searched in 0.1 s)
    neighbourhood_columns: int = 1_500
    ipm_iterations: int = 1_000  # interior-point iterations of a large LP (`INTERIOR_POINT_COLUMNS`)
    # The rounds of neighbourhoods `improve_by_windows` searches when RINS at once is too large and no
    # branch-and-bound follows; each neighbourhood is (kind, most free start columns). "tail": every start
    # column of the last periods; "differ": the start columns where the LP and the plan differ, from the
    # latest period back. The neighbourhoods of a round are searched at once, one thread each, around the
    # same plan. HiGHS solves such sub-MIPs in seconds; 3,400 differing columns took 294 s (measured on a
    # 4,480-site carrier, benchmarks/bench_scale.py --only operator).
    window_rounds: tuple[tuple[tuple[str, int], ...], ...] = (
        (("tail", 4_000), ("differ", 3_000)),
        (("tail", 6_000), ("differ", 3_000)),
    )
    window_nodes: int = 200  # branch-and-bound nodes of each of those sub-MIPs
    # CP-SAT's deterministic time for one makespan case (about seconds of one core; PSPLIB j30: see
    # benchmarks/bench_psplib.py)
    cp_deterministic_seconds: float = 60.0
    # CP-SAT search workers, interleaved in deterministic batches: two lift the bound of PSPLIB's hardest
    # class (RF 1, RS 0.2) from 50 to 60 of 67 in the same deterministic time, and keep the second core busy
    cp_workers: int = 2


DEFAULT_WORK = WorkLimits()
# From this many columns an LP is solved by interior point: on a 4,480-site carrier (139,690 columns) in
# 64 s against dual simplex's 111 s; on rural40's largest (27,938) dual simplex takes 1.4 s, interior point 3.0 s.
INTERIOR_POINT_COLUMNS = 60_000


def interior_point(columns: int) -> bool:
    """An LP this large is solved by interior point (and no branch-and-bound follows it)."""
    return columns >= INTERIOR_POINT_COLUMNS


@dataclass(frozen=True)
class Run:
    """What one HiGHS run found, and whether the wall clock (not the work budget) stopped it."""

    status: str  # optimal | feasible | infeasible | none
    objective: float
    bound: float
    values: list[float] | None
    stopped_by_clock: bool = False
    simplex_iterations: int = 0
    nodes: int = 0


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
    stopped_by_clock: str = ""  # the phase the time limit cut before its work budget was used, or ""
    lp_iterations: int = 0
    mip_nodes: int = 0


@dataclass
class LoadedModel:
    """A linear model loaded into a HiGHS instance."""

    highs: highspy.Highs
    names: list[str]  # of the columns, in order
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


def load(model: LinearModel, offset: float, threads: int = 1) -> LoadedModel:
    """Copy a minimisation model's arrays into HiGHS in two calls, as an LP (integrality is set later)."""
    with _quiet_stdout():
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", threads)
    highs.setOptionValue("random_seed", RANDOM_SEED)
    count = model.columns
    cost = np.zeros(count)
    for column, coefficient in model.cost.items():
        cost[column] = coefficient
    lower = np.array(model.lower, dtype=float)  # math.inf is HiGHS's infinity (kHighsInf)
    upper = np.array(model.upper, dtype=float)
    empty = np.zeros(0, dtype=np.int32)
    highs.addCols(count, cost, lower, upper, 0, empty, empty, np.zeros(0))
    highs.changeObjectiveOffset(offset)  # constant terms, so HiGHS measures its gap on the true objective
    if model.rows:
        highs.addRows(
            model.rows,
            np.array(model.row_lower, dtype=float),
            np.array(model.row_upper, dtype=float),
            len(model.entry_columns),
            np.array(model.row_starts, dtype=np.int32),
            np.array(model.entry_columns, dtype=np.int32),
            np.array(model.entry_values, dtype=float),
        )
    integer = np.flatnonzero(np.array(model.integer, dtype=bool)).astype(np.int32)
    return LoadedModel(highs, model.column_names, integer, cost, offset)


def run_highs(
    loaded: LoadedModel,
    deadline: Deadline,
    mip_gap: float,
    integral: bool = False,
    work: WorkLimits = DEFAULT_WORK,
    nodes: int | None = None,
    enough: Callable[[float], bool] | None = None,
) -> Run:
    """Run HiGHS within its work budget, with the deadline as a safety net.

    An LP with `INTERIOR_POINT_COLUMNS` columns or more is solved by the interior-point method
    (then crossover to a vertex), smaller ones by dual simplex. An LP run is limited to
    `work.lp_iterations` simplex iterations (`work.ipm_iterations` interior-point ones); a MIP run to `nodes`
    (default `work.mip_nodes`) nodes, `work.mip_leaves` leaves and `work.mip_improving_solutions`
    improving solutions. HiGHS's clock runs across calls on one instance, so its time limit
    is the time it has used so far plus what the deadline leaves. A MIP run also stops at its first
    point whose objective is `enough` (a sub-MIP, whose own bound proves nothing of the full model,
    told the plan's gap is met): HiGHS is interrupted at its next check, which comes at the same
    point of the search on an idle or a busy machine.
    """
    h = loaded.highs
    h.setOptionValue("time_limit", float(h.getRunTime() + max(0.05, deadline.left_s())))
    h.setOptionValue("mip_rel_gap", 0.0 if integral else float(mip_gap))
    h.setOptionValue("mip_abs_gap", 1.0 - 1e-6 if integral else 1e-6)
    large = interior_point(h.getNumCol()) and not loaded.is_mip
    h.setOptionValue("solver", "ipm" if large else "choose")
    if large:
        h.setOptionValue("run_crossover", "on")  # a vertex: RINS compares the LP optimum with the plan
        h.setOptionValue("ipm_iteration_limit", int(work.ipm_iterations))
    if loaded.is_mip:
        h.setOptionValue("simplex_iteration_limit", highspy.kHighsIInf)  # the node budgets limit a MIP
        h.setOptionValue("mip_max_nodes", int(work.mip_nodes if nodes is None else nodes))
        h.setOptionValue("mip_max_leaves", int(work.mip_leaves))
        h.setOptionValue("mip_max_improving_sols", int(work.mip_improving_solutions))
    else:
        h.setOptionValue("simplex_iteration_limit", int(work.lp_iterations))
    if loaded.is_mip and enough is not None:
        _run_until(h, enough)
    else:
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
    return Run(
        status,
        objective,
        bound,
        values,
        stopped_by_clock=model_status == highspy.HighsModelStatus.kTimeLimit,
        simplex_iterations=int(info.simplex_iteration_count),
        nodes=int(info.mip_node_count) if loaded.is_mip else 0,
    )


def _run_until(h: highspy.Highs, enough: Callable[[float], bool]) -> None:
    """`h.run()`, interrupted once an improving point's objective is `enough`."""
    reached = False

    def improving(event) -> None:  # HiGHS found a better point
        nonlocal reached
        reached = reached or enough(event.data_out.objective_function_value)

    def interrupt(event) -> None:  # HiGHS asks whether to stop
        if reached:
            event.data_in.user_interrupt = True

    try:
        h.cbMipImprovingSolution.subscribe(improving)
        h.cbMipInterrupt.subscribe(interrupt)
        h.run()
    finally:
        h.cbMipImprovingSolution.unsubscribe(improving)
        h.cbMipInterrupt.unsubscribe(interrupt)


def _run(
    loaded: LoadedModel, time_limit_s: float, mip_gap: float, integral: bool = False
) -> tuple[str, float, float, list[float] | None]:
    """`run_highs` with HiGHS time limit `time_limit_s` and the default work budget, as a tuple."""
    run = run_highs(loaded, Deadline.after(max(0.1, time_limit_s) - loaded.highs.getRunTime()), mip_gap, integral)
    return run.status, run.objective, run.bound, run.values


def _run_mip(
    loaded: LoadedModel,
    deadline: Deadline,
    mip_gap: float,
    integral: bool = False,
    work: WorkLimits = DEFAULT_WORK,
    enough: Callable[[float], bool] | None = None,
) -> Run:
    """Branch-and-bound within the work budget, checking the point HiGHS returns.

    HiGHS 1.16, given a warm start, can finish in presolve reporting a better objective than
    the point `getSolution` then returns (the warm start itself; seen on a 6-site case). When
    the returned point does not have the reported objective, the search is repeated with
    presolve off, which returns the point it reports. The repeat depends only on what HiGHS
    returned, never on the time left, so it happens on a busy machine too.
    """
    run = run_highs(loaded, deadline, mip_gap, integral, work, enough=enough)
    if run.values is not None and math.isfinite(run.objective) and not run.stopped_by_clock:
        returned = float(np.dot(loaded.cost, run.values)) + loaded.offset
        if abs(returned - run.objective) > 1e-6 * max(1.0, abs(run.objective)):
            loaded.highs.setOptionValue("presolve", "off")
            try:
                again = run_highs(loaded, deadline, mip_gap, integral, work, enough=enough)
            finally:
                loaded.highs.setOptionValue("presolve", "choose")  # later searches on this model presolve again
            run = Run(
                again.status,
                again.objective,
                again.bound,
                again.values,
                again.stopped_by_clock,
                run.simplex_iterations + again.simplex_iterations,
                run.nodes + again.nodes,
            )
    return run


def improve_in_neighbourhood(
    loaded: LoadedModel, lp_values: list[float], incumbent: dict[int, float], deadline: Deadline, work: WorkLimits
) -> Run | None:
    """RINS (Danna, Rothberg and Le Pape, 2005): branch-and-bound on the columns where the LP and the plan differ.

    Every column the incumbent (the best list schedule) gives a value, and whose value in the LP
    optimum is the same, is fixed there: integer columns, and continuous ones too (the fill of a
    group whose counts are fixed), so that presolve removes their rows and the sub-MIP over the
    others is small. Warm-started from the incumbent, it is solved within
    `work.neighbourhood_nodes` nodes, and stops at the requested gap of its own bound. Its
    points are plans of the full model (only bounds were tightened), but its bound is not a
    bound of the full model, so only its point is kept. The bounds are restored afterwards; the
    model is left integral. On rural40 at full funding this takes c20 from 1.3% to 0.4% in
    0.1 s, where branch-and-bound on the whole model needed 12 s of root cuts.
    """
    if work.neighbourhood_nodes <= 0 or not len(loaded.integer_columns):
        return None
    known = np.array(sorted(incumbent), dtype=np.int32)
    plan = np.array([incumbent[int(i)] for i in known])
    agree = np.abs(np.asarray(lp_values)[known] - plan) <= 1e-6
    fixed, values = known[agree], plan[agree]
    is_integer = np.zeros(len(lp_values), dtype=bool)
    is_integer[loaded.integer_columns] = True
    free_integer = len(loaded.integer_columns) - int(is_integer[fixed].sum())
    if free_integer == 0 or free_integer > work.neighbourhood_columns:
        return None  # the LP optimum is the plan, or the neighbourhood is too large to search
    searched = replace(work, mip_nodes=work.neighbourhood_nodes)
    return search_with_fixed(loaded, fixed, values, incumbent, deadline, searched)


def search_with_fixed(
    loaded: LoadedModel,
    fixed: np.ndarray,
    values: np.ndarray,
    incumbent: dict[int, float],
    deadline: Deadline,
    work: WorkLimits,
    enough: Callable[[float], bool] | None = None,
) -> Run:
    """Branch-and-bound (within `work`, until a point is `enough`) with the `fixed` columns held at `values`,
    warm-started from `incumbent`; their bounds are restored afterwards, and the model is left integral."""
    h = loaded.highs
    _, _, _, lower, upper, _ = h.getCols(len(fixed), fixed)
    h.changeColsBounds(len(fixed), fixed, values, values)
    try:
        _make_integer(loaded)
        _set_start(loaded, incumbent)
        return _run_mip(loaded, deadline, 0.0, work=work, enough=enough)
    finally:
        h.changeColsBounds(len(fixed), fixed, lower, upper)


def improve_by_windows(
    case: CarrierCase,
    m: PlanModel,
    loaded: LoadedModel,
    lp_values: list[float],
    best: dict[str, int],
    enough: Callable[[float], bool],
    deadline: Deadline,
    work: WorkLimits,
) -> tuple[dict[str, int], int, bool]:
    """Large-neighbourhood search over time, for a model too large for RINS at once (and for branch-and-bound).

    Each neighbourhood frees some start columns z[g,t] and fixes every other one at the best plan's
    value, then searches the sub-MIP (warm-started from that plan, at most `work.window_nodes`
    nodes). The free columns are taken from the last period of the horizon backwards, whole
    periods at a time, as many as the neighbourhood's size allows:

        tail:    every z[g,t] with t >= T
        differ:  every z[g,t] with t >= T whose LP value differs from the plan's (RINS, cut to fit)

    A list schedule fails at the end of the horizon (on a 4,480-site carrier with tight crews its
    last sites did not fit, where the LP fits them), which the tail repairs; the LP's differences
    show where the rest of the plan should move. Which of the two serves better depends on the
    plan, so the neighbourhoods of each round of `work.window_rounds` are drawn around the same
    plan and searched at once, one thread each, and the best plan found is kept for the next round
    (a tie goes to the earlier neighbourhood). On that carrier both kinds searched from the LP's
    rounding in 27 s of wall time give 0.04% of the LP bound, where the tail and then the differences
    searched one after the other gave 0.96%.

    Neighbourhood k of every round is searched on the k-th copy of the model (the first is `loaded`;
    the others are loaded once, on first use), and each search is bounded by work, not time: the
    plan is the same whether the threads run side by side or one after the other, on an idle or a
    busy machine. A plan whose objective is `enough` (the gap is met) ends the search, and each
    sub-MIP stops at its first such point. Returns the best plan, the nodes searched, and whether
    the deadline cut a search or left rounds unsearched.
    """
    period_of = {column: t for per in m.started_by.values() for t, column in per.items()}
    columns = np.array(sorted(period_of), dtype=np.int32)
    periods = np.array([period_of[int(c)] for c in columns])
    lp = np.asarray(lp_values)[columns]
    searched = replace(work, mip_nodes=work.window_nodes)
    copies = {0: loaded}
    nodes, clocked = 0, False
    for neighbourhoods in work.window_rounds:
        if enough(case.score(best)):
            break
        if deadline.expired():
            clocked = True  # rounds left unsearched: not the plan an unhurried run gives
            break
        incumbent = warm_start_values(m, best)
        plan = np.array([incumbent.get(int(c), 0.0) for c in columns])
        tasks = []
        for k, (kind, size) in enumerate(neighbourhoods):
            free = window_columns(kind, size, periods, lp, plan)
            if free.any():
                if k not in copies:
                    copies[k] = load(m.problem, m.objective_constant)
                fixed = columns[~free]
                tasks.append(
                    partial(search_with_fixed, copies[k], fixed, plan[~free], incumbent, deadline, searched, enough)
                )
        for run in side_by_side(tasks):
            nodes += run.nodes
            clocked = clocked or run.stopped_by_clock
            best = better_of(case, m, best, run)
    return best, nodes, clocked


def window_columns(kind: str, size: int, periods: np.ndarray, lp: np.ndarray, plan: np.ndarray) -> np.ndarray:
    """Which start columns a neighbourhood frees (a mask over `periods`, each column's period): of those
    eligible (every one for "tail", those whose `lp` and `plan` values differ for "differ"), the ones of
    the latest whole periods, at most `size` of them."""
    eligible = np.ones(len(periods), dtype=bool) if kind == "tail" else np.abs(lp - plan) > 1e-6
    return eligible & (periods >= latest_periods(periods[eligible], size))


def side_by_side(tasks: Sequence[Callable[[], Run]]) -> list[Run]:
    """Run HiGHS searches at once, one thread each (HiGHS lets go of the GIL while it solves), in the order given."""
    if len(tasks) <= 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=len(tasks)) as threads:
        return list(threads.map(lambda task: task(), tasks))


def latest_periods(periods: np.ndarray, size: int) -> float:
    """The earliest period T such that the columns of periods T.. number at most `size` (whole periods);
    infinity when even the last period alone has more."""
    if not len(periods):
        return math.inf
    found, count = math.inf, 0
    unique, counts = np.unique(periods, return_counts=True)
    for period, number in zip(unique[::-1], counts[::-1], strict=True):
        count += int(number)
        if count > size:
            break
        found = float(period)
    return found


def _make_integer(loaded: LoadedModel) -> None:
    count = len(loaded.integer_columns)
    if count:
        loaded.highs.changeColsIntegrality(count, loaded.integer_columns, np.full(count, highspy.HighsVarType.kInteger))
        loaded.is_mip = True


def _set_start(loaded: LoadedModel, values: dict[int, float]) -> None:
    """A known point (column -> value; columns left out are free) as HiGHS's starting solution."""
    if values:
        index = np.array(sorted(values), dtype=np.int32)
        loaded.highs.setSolution(len(index), index, np.array([values[int(i)] for i in index], dtype=float))


def warm_start_values(m: PlanModel, starts: dict[str, int]) -> dict[int, float]:
    """Column values of a known schedule."""
    values = m.values_of(starts)
    going = m.extra.get("work_going")
    if going:
        finish = max((s + m.case.by_id[k].duration_months for k, s in starts.items() if k in m.lead_of), default=0)
        for t, column in going.items():
            values[column] = 1.0 if t < finish else 0.0
    return values


def read_starts(m: PlanModel, values: list[float]) -> dict[str, int]:
    """Start period of each site the solution replaces (see `PlanModel.read_starts`)."""
    return m.read_starts(lambda column: values[column])


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
    if not loaded.names:  # no site matters to the objective or any row: HiGHS calls that an empty model
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


def earliest_finish_bound(case: CarrierCase) -> float:
    """A lower bound that needs no solver: every site at its best, ignoring money and crews.

    A site the record fixes counts what it counts in every plan: pop_s * max(0, start_s + d_s)
    (exposure), its finish (makespan). exposure: any other site either finishes no earlier than
    e_s + d_s or is not replaced, so it costs at least pop_s * min(e_s + d_s, u_s), u_s the months
    an unreplaced site counts (`CarrierCase.unreplaced_months`); a site with no window costs u_s.
    makespan: every site with no window costs H + 1, and the rest either finish by their
    earliest finish or cost H + 1, which is more than any finish, so the objective is at least
    the largest earliest (or recorded) finish.
    """
    windows, fixed = case.windows, case.fixed_starts
    recorded = {s.site_id: fixed[s.site_id] + s.duration_months for s in case.sites if s.site_id in fixed}
    if case.objective == "makespan":
        missing = sum(1 for s in case.sites if s.site_id not in windows and s.site_id not in fixed)
        finishes = [windows[s.site_id].start + s.duration_months for s in case.sites if s.site_id in windows]
        return float(case.unreplaced_penalty * missing + max([*finishes, *recorded.values()], default=0))

    def at_best(site: Site) -> float:
        if site.site_id in recorded:
            return max(0, recorded[site.site_id])
        unreplaced = case.unreplaced_months(site)
        window = windows.get(site.site_id)
        return unreplaced if window is None else min(window.start + site.duration_months, unreplaced)

    return math.fsum(site.population * at_best(site) for site in case.sites)


BUILD_SECONDS_PER_START_VARIABLE = (
    1e-5  # measured: rural40 c01, 31,909 start variables, built and loaded in 0.12 s (quiet)
)


def expected_build_seconds(case: CarrierCase) -> float:
    """About how long building and loading a carrier's model takes on a quiet machine.

    Building cannot be interrupted, so a model that cannot be built before the deadline is
    not started: the plan keeps the list schedule and stays within its time limit.
    """
    return BUILD_SECONDS_PER_START_VARIABLE * sum(len(w) for w in case.windows.values())


def solve_case(
    case: CarrierCase,
    time_limit_s: float | Deadline,
    mip_gap: float,
    warm_start: dict[str, int] | None = None,
    threads: int = 1,
    known_bound: float = -math.inf,
    work: WorkLimits = DEFAULT_WORK,
) -> CaseResult:
    """Build and solve one carrier's model within its work budget; never return worse than the warm start.

    1. the LP relaxation (at most `work.lp_iterations` simplex iterations) gives a bound, and
       its alpha-points give list schedules;
    2. if the best schedule is within `mip_gap` of the bound, it is proven and returned;
    3. otherwise branch-and-bound starts from it, if the LP took at most
       `work.branch_after_lp_iterations` iterations (branch-and-bound starts again from presolve
       and a root LP costing several LPs: on a larger model it finds nothing in minutes), for at
       most `work.mip_nodes` nodes.
    Each step is decided by work done, never by time, so the result is the same on a busy
    machine. `time_limit_s` (seconds, or the plan's `Deadline`) is a safety net: if it runs
    out first the result names the phase it cut (`stopped_by_clock`); if what it leaves is
    less than building the model takes, the warm start is returned as a heuristic plan.
    `known_bound` is a lower bound proven elsewhere (the selection relaxation).
    """
    deadline = as_deadline(time_limit_s, absolute=False)
    began = time.perf_counter()
    best = dict(warm_start or {})
    if not case.windows:
        objective = case.score({})
        return CaseResult(case.carrier_id, {}, "trivial", objective, objective, 0.0, 0.0)
    if case.objective == "makespan":
        programmed = solve_case_by_constraint_programming(case, deadline, best, known_bound, work)
        if programmed is not None:
            return programmed
    bound = max(known_bound, earliest_finish_bound(case))
    if deadline.left_s() < expected_build_seconds(case):
        objective = case.score(best)
        return CaseResult(
            case.carrier_id, best, "heuristic", objective, min(bound, objective), 0.0, 0.0, stopped_by_clock="model"
        )
    m = build_model(case)
    loaded = load(m.problem, m.objective_constant, threads)
    built = time.perf_counter()
    rows, columns = loaded.highs.getNumRow(), loaded.highs.getNumCol()
    stopped_by_clock, lp_iterations, mip_nodes = "", 0, 0

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
            stopped_by_clock,
            lp_iterations,
            mip_nodes,
        )

    lp = run_highs(loaded, deadline, 0.0, work=work)
    if lp.status == "infeasible":  # never hand back the warm start (or no work at all) as a plan from a broken model
        raise broken_model(f"carrier {case.carrier_id}")
    lp_iterations = lp.simplex_iterations
    if lp.stopped_by_clock:
        stopped_by_clock = "LP"
    if lp.status == "optimal" and lp.values is not None:
        bound = max(bound, lp.bound)
        solution = lp.values
        fractions = m.site_fractions(lambda column: solution[column])
        best = min([best, *alpha_point_schedules(case, fractions)], key=case.score)
    integral = case.objective == "makespan"
    if within_gap(case.score(best), bound, mip_gap, integral):
        return result("optimal")
    if lp.status == "optimal" and lp.values is not None and deadline.expired():
        stopped_by_clock = "neighbourhood search"  # the LP used the time up: nothing improves its rounding
    elif lp.status == "optimal" and lp.values is not None:
        sub = improve_in_neighbourhood(loaded, lp.values, warm_start_values(m, best), deadline, work)
        if sub is not None:
            mip_nodes += sub.nodes
            if sub.stopped_by_clock:
                stopped_by_clock = "neighbourhood search"
            best = better_of(case, m, best, sub)
        if within_gap(case.score(best), bound, mip_gap, integral):
            return result("optimal")
    too_large = interior_point(columns)  # its LP alone took interior point; a root costs several LPs
    if lp.status != "optimal" or lp_iterations > work.branch_after_lp_iterations or too_large or work.mip_nodes <= 0:
        if lp.status == "optimal" and lp.values is not None:
            best, nodes, clocked = improve_by_windows(
                case,
                m,
                loaded,
                lp.values,
                best,
                lambda objective: within_gap(objective, bound, mip_gap, integral),
                deadline,
                work,
            )
            mip_nodes += nodes
            if clocked:
                stopped_by_clock = "neighbourhood search"
            if within_gap(case.score(best), bound, mip_gap, integral):
                return result("optimal")
        return result("feasible")
    if deadline.expired():
        stopped_by_clock = "branch-and-bound"
        return result("feasible")

    _make_integer(loaded)
    _set_start(loaded, warm_start_values(m, best))
    mip = _run_mip(loaded, deadline, mip_gap, integral, work)
    mip_nodes += mip.nodes
    if mip.stopped_by_clock:
        stopped_by_clock = "branch-and-bound"
    bound = max(bound, mip.bound)
    best = better_of(case, m, best, mip)
    if within_gap(case.score(best), bound, mip_gap, integral):
        return result("optimal")
    return result("feasible")


def relaxation_bound(
    case: CarrierCase, deadline: Deadline | float, work: WorkLimits = DEFAULT_WORK
) -> tuple[float, bool]:
    """A lower bound on a carrier's objective: its LP relaxation within the work budget, or the earliest-finish
    bound when that is higher or the LP does not finish. Also whether the clock cut it (`deadline`: the plan's
    `Deadline` or a `time.time()` instant; a model that cannot be built in what it leaves is not started)."""
    deadline = as_deadline(deadline, absolute=True)
    floor = earliest_finish_bound(case)
    if not case.windows:
        return floor, False
    if deadline.left_s() < expected_build_seconds(case):
        return floor, True
    m = build_model(case)
    lp = run_highs(load(m.problem, m.objective_constant), deadline, 0.0, work=work)
    if lp.status == "infeasible":
        raise broken_model(f"carrier {case.carrier_id}")
    return (max(floor, lp.bound) if lp.status == "optimal" else floor), lp.stopped_by_clock


def better_of(case: CarrierCase, m: PlanModel, best: dict[str, int], run: Run) -> dict[str, int]:
    """The schedule of a run's point if it scores better than `best` (and it has a point), else `best`."""
    if run.values is None:
        return best
    found = read_starts(m, run.values)
    return found if case.score(found) < case.score(best) else best


CP_SOLVED = frozenset({cp_model.OPTIMAL, cp_model.FEASIBLE})  # CP-SAT statuses that hold a solution


def solve_case_by_constraint_programming(
    case: CarrierCase,
    deadline: Deadline,
    warm_start: dict[str, int],
    known_bound: float = -math.inf,
    work: WorkLimits = DEFAULT_WORK,
) -> CaseResult | None:
    """A makespan case by CP-SAT (`planner.model.constraint_program`); None when its data has no whole scale.

    CP-SAT runs `work.cp_workers` search workers with a fixed seed, interleaved in batches,
    which CP-SAT makes deterministic whatever the number of cores and the load. Its budget is
    `work.cp_deterministic_seconds` of deterministic time, never the machine's clock; the
    deadline is the safety net and the result names it when it cut the search. The warm start
    (a list schedule) is CP-SAT's hint, and the better of the two is returned.
    """
    began = time.perf_counter()
    program = build_constraint_program(case)
    if program is None:
        return None
    for site_id, replaced in program.replaced.items():
        program.model.add_hint(replaced, site_id in warm_start)
        program.model.add_hint(program.start[site_id], warm_start.get(site_id, case.windows[site_id].start))
    built = time.perf_counter()
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, work.cp_workers)
    solver.parameters.interleave_search = work.cp_workers > 1
    solver.parameters.random_seed = RANDOM_SEED
    solver.parameters.max_deterministic_time = float(work.cp_deterministic_seconds)
    solver.parameters.max_time_in_seconds = max(0.05, deadline.left_s())
    status = solver.solve(program.model)
    best = dict(warm_start)
    if status in CP_SOLVED:
        found = {s: int(solver.value(program.start[s])) for s, x in program.replaced.items() if solver.value(x)}
        if case.score(found) <= case.score(best):
            best = found
    objective = case.score(best)
    bound = max(known_bound, earliest_finish_bound(case))
    if status in CP_SOLVED:
        bound = max(bound, math.ceil(solver.best_objective_bound - 1e-6) + program.objective_constant)
    clock_cut = status != cp_model.OPTIMAL and solver.response_proto.deterministic_time < work.cp_deterministic_seconds
    word = "optimal" if status == cp_model.OPTIMAL or within_gap(objective, bound, 0.0, integral=True) else "feasible"
    return CaseResult(
        case.carrier_id,
        best,
        word,
        objective,
        min(bound, objective),
        built - began,
        time.perf_counter() - built,
        stopped_by_clock="constraint programming" if clock_cut and word != "optimal" else "",
    )


@dataclass(frozen=True)
class SelectionResult:
    """The national selection: sites chosen, and the lower bound it proves."""

    replaced: set[str]
    status: str
    objective: float
    bound: float
    seconds: float
    stopped_by_clock: bool = False


def solve_selection(
    cases: list[CarrierCase],
    own_funds: dict[str, float],
    available_usd: float,
    time_limit_s: float | Deadline,
    mip_gap: float,
    work: WorkLimits = DEFAULT_WORK,
) -> SelectionResult:
    """Solve the selection model (see `planner.model.selection`) within `work.selection_nodes` nodes.

    `time_limit_s` (seconds, or a `Deadline`) is the safety net; when it has already run out
    the model is not built and the result is a "heuristic" with nothing chosen.
    """
    deadline = as_deadline(time_limit_s, absolute=False)
    began = time.perf_counter()
    if deadline.expired():
        return SelectionResult(set(), "heuristic", math.nan, -math.inf, 0.0, stopped_by_clock=True)
    problem, replaced, _, constant = build_selection(cases, own_funds, available_usd)
    loaded = load(problem, constant)
    _make_integer(loaded)
    run = run_highs(loaded, deadline, mip_gap, work=work, nodes=work.selection_nodes)
    chosen = {s for s, column in replaced.items() if run.values is not None and run.values[column] > 0.5}
    word = run.status if run.status in ("optimal", "feasible") else "heuristic"
    return SelectionResult(chosen, word, run.objective, run.bound, time.perf_counter() - began, run.stopped_by_clock)


@dataclass(frozen=True)
class NationalResult:
    """The optimal rule solved as one problem: schedules, the money they need, and the proven bound."""

    starts: dict[str, int]
    status: str
    objective: float
    bound: float
    seconds: float
    stopped_by_clock: bool = False


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
    time_limit_s: float | Deadline,
    mip_gap: float,
    warm_start: dict[str, int],
    known_bound: float = -math.inf,
    work: WorkLimits = DEFAULT_WORK,
) -> NationalResult:
    """Solve every carrier together with the fund shared (see `build_national_model`), from a warm start.

    Limited like `solve_case`: the LP by iterations, branch-and-bound by nodes (and run only
    when the LP took at most `work.branch_after_lp_iterations`), the deadline a safety net.
    """
    deadline = as_deadline(time_limit_s, absolute=False)
    began = time.perf_counter()

    def score(starts: dict[str, int]) -> float:
        return sum(case.score({s: t for s, t in starts.items() if s in case.by_id}) for case in cases)

    best, bound = dict(warm_start), known_bound
    if deadline.expired():
        objective = score(best)
        word = "optimal" if within_gap(objective, bound, mip_gap) else "feasible"
        return NationalResult(best, word, objective, min(bound, objective), 0.0, stopped_by_clock=True)
    national = build_national_model(cases, own_funds, available_usd)
    loaded = load(national.problem, national.objective_constant)
    lp = run_highs(loaded, deadline, 0.0, work=work)
    if lp.status == "infeasible":
        raise broken_model("national model")
    stopped_by_clock = lp.stopped_by_clock
    if lp.status == "optimal":
        bound = max(bound, lp.bound)
    branch = lp.status == "optimal" and lp.simplex_iterations <= work.branch_after_lp_iterations
    if not within_gap(score(best), bound, mip_gap) and branch and work.mip_nodes > 0:
        stopped_by_clock = stopped_by_clock or deadline.expired()
        _make_integer(loaded)
        values: dict[int, float] = {}
        for m in national.models:
            values.update(warm_start_values(m, {s: t for s, t in best.items() if s in m.case.by_id}))
            spend = math.fsum(m.case.by_id[s].cost_usd for s in best if s in m.case.by_id)
            values[national.allocation[m.case.carrier_id]] = max(
                0.0, spend - own_funds.get(m.case.carrier_id, 0.0), warm_draw_allocation(m, best)
            )
        _set_start(loaded, values)
        mip = _run_mip(loaded, deadline, mip_gap, work=work)
        stopped_by_clock = stopped_by_clock or mip.stopped_by_clock
        bound = max(bound, mip.bound)
        if mip.values is not None:
            found: dict[str, int] = {}
            for m in national.models:
                found.update(read_starts(m, mip.values))
            if score(found) < score(best):
                best = found
    objective = score(best)
    word = "optimal" if within_gap(objective, bound, mip_gap) else "feasible"
    return NationalResult(best, word, objective, min(bound, objective), time.perf_counter() - began, stopped_by_clock)
