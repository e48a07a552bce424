"""plan(dataset, scenario) -> Plan: allocate the fund by the scenario's rule, then schedule.

Carriers are independent once their money is fixed, so each carrier's schedule is a
separate MILP (`planner.model`), solved in parallel worker processes, largest first,
each warm-started with the list schedule (`planner.engine.heuristics`) so it always holds a
valid plan. The `optimal` rule first solves the national selection model (a
relaxation that also proves a lower bound), then schedules each carrier with the
money it chose, and keeps the pro-rata plan instead if that scores better, so it is
never worse than pro-rata on the same scenario (and says why when it keeps it).

Every solve stops on a work budget (`planner.engine.solve.WorkLimits`), so the plan is the
same on an idle or a busy machine; the scenario's time limit is one `Deadline` shared by
every phase, a safety net that the plan's notes name when it cut a solve short.
"""

from __future__ import annotations

import ctypes
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from typing import TypeVar

from planner.core.clock import arrival_steps, recorded_starts
from planner.core.errors import Cancelled, InputError
from planner.core.objective import objective_value
from planner.core.schema import CarrierOutcome, Dataset, Plan, Scenario
from planner.engine.allocation import allocate, greedy_funding, pro_rata
from planner.engine.heuristics import priority_rule, serial_schedule
from planner.engine.solve import (
    DEFAULT_WORK,
    CaseResult,
    Deadline,
    WorkLimits,
    as_deadline,
    earliest_finish_bound,
    relaxation_bound,
    solve_case,
    solve_national,
    solve_selection,
    solver_name,
    within_gap,
)
from planner.inputs.validation import check_against_scenario
from planner.model.case import CarrierCase, carrier_case

Progress = Callable[[int, int, str], None]
SMALL_CASE_VARIABLES = 2_000  # when no case is this large, worker processes cost more than they save
NATIONAL_MODEL_COLUMNS = 20_000  # the optimal rule solves all carriers in one MILP up to this many start variables
CANCEL_POLL_S = 0.2  # how often the parent looks at the cancel event while worker processes solve
R = TypeVar("R")


def check_cancelled(cancel: threading.Event | None) -> None:
    """Stop here if the caller asked the solve to stop (raises `Cancelled`)."""
    if cancel is not None and cancel.is_set():
        raise Cancelled("the solve was cancelled before it ended; no plan was made")


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def plan(
    dataset: Dataset,
    scenario: Scenario | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    cancel: threading.Event | None = None,
) -> Plan:
    """Allocate and schedule; the returned plan passes `planner.analysis.verify.check_plan`.

    `progress(done, total, carrier_id)` is called as each carrier's schedule ends. Setting `cancel`
    stops the solve within a fraction of a second between solves (at once for solves in worker
    processes, which are ended) and raises `Cancelled`; a cancelled solve returns no plan.
    """
    scenario = scenario or dataset.default_scenario or Scenario()
    problems = [i for i in check_against_scenario(dataset, scenario) if i.severity == "error"]
    if problems:
        raise InputError(problems)
    began = time.perf_counter()
    deadline = Deadline.after(scenario.time_limit_s)
    workers = default_workers() if workers is None else workers
    horizon, notes = planning_horizon(dataset, scenario)
    if scenario.rule == "greedy":
        return greedy_plan(dataset, scenario, horizon, notes, began)
    if scenario.rule == "optimal":
        return optimal_plan(dataset, scenario, horizon, notes, began, deadline, progress, workers, cancel)
    allocation = allocate(dataset, scenario)
    results = schedule_carriers(dataset, scenario, allocation, horizon, deadline, progress, workers, cancel)
    return assemble(dataset, scenario, allocation, results, horizon, began, notes)


def greedy_plan(dataset: Dataset, scenario: Scenario, horizon: int, notes: list[str], began: float) -> Plan:
    """The spreadsheet baseline: fund by people per dollar, list-schedule each carrier; no bound."""
    allocation, funded = greedy_funding(dataset, scenario)
    starts: dict[str, int] = {}
    for carrier in dataset.carriers:
        case = carrier_case(dataset, scenario, carrier.carrier_id, allocation[carrier.carrier_id], horizon)
        starts.update(serial_schedule(case, funded=funded))
    return list_plan(dataset, scenario, allocation, starts, horizon, notes, began, "list scheduling (no solver)")


def list_plan(
    dataset: Dataset,
    scenario: Scenario,
    allocation: dict[str, float],
    starts: dict[str, int],
    horizon: int,
    notes: list[str],
    began: float,
    solver: str,
) -> Plan:
    """A plan made by list scheduling alone: status "heuristic", no bound, no solve time."""
    seconds = time.perf_counter() - began
    return Plan(
        dataset,
        scenario,
        allocation,
        starts,
        "heuristic",
        objective_value(dataset, scenario, starts, horizon),
        None,
        build_seconds=seconds,
        wall_seconds=seconds,
        solver=solver,
        horizon=horizon,
        notes=tuple(notes),
    )


PREVIEW_SOLVER = "list scheduling (a preview; no solver)"


def preview_plan(dataset: Dataset, scenario: Scenario | None = None) -> Plan:
    """A valid plan in a fraction of a second, to show while `plan` solves: the scenario's allocation
    (pro-rata's for the `optimal` rule, which `plan` is never worse than) with every carrier's priority-list
    schedule, one of the warm starts its MILP improves on, so `plan` is never worse than its preview.
    Status "heuristic", no bound; for the `greedy` rule it is that rule's plan itself.
    """
    scenario = scenario or dataset.default_scenario or Scenario()
    problems = [i for i in check_against_scenario(dataset, scenario) if i.severity == "error"]
    if problems:
        raise InputError(problems)
    began = time.perf_counter()
    horizon, notes = planning_horizon(dataset, scenario)
    if scenario.rule == "greedy":
        return greedy_plan(dataset, scenario, horizon, notes, began)
    allocation = pro_rata(dataset, scenario) if scenario.rule == "optimal" else allocate(dataset, scenario)
    starts: dict[str, int] = {}
    for carrier in dataset.carriers:
        case = carrier_case(dataset, scenario, carrier.carrier_id, allocation.get(carrier.carrier_id, 0.0), horizon)
        starts.update(serial_schedule(case))  # one of the warm starts `schedule_carrier` improves on
    preview = [*notes, "a preview: list schedules of the allocation, before the solver improves them"]
    return list_plan(dataset, scenario, allocation, starts, horizon, preview, began, PREVIEW_SOLVER)


def money_needed(dataset: Dataset, replaced: Collection[str]) -> dict[str, float]:
    """What each carrier must get from the fund to pay for these sites, after its own funds."""
    return {
        c.carrier_id: max(
            0.0,
            math.fsum(s.cost_usd for s in dataset.sites_by_carrier[c.carrier_id] if s.site_id in replaced)
            - c.own_funds_usd,
        )
        for c in dataset.carriers
    }


def money_needed_with_tranches(dataset: Dataset, scenario: Scenario, starts: dict[str, int]) -> dict[str, float]:
    """The least allocation each carrier needs for this schedule when money arrives in tranches.

    a_c >= spend_c - own_c, and a_c * phi(t) >= spend_c(t) - own_c for every stretch t of the
    arrivals (`planner.core.clock.arrival_steps`), spend_c(t) the cost of its sites started by t.
    """
    needed = money_needed(dataset, starts)
    for carrier in dataset.carriers:
        sites = dataset.sites_by_carrier.get(carrier.carrier_id, ())
        for period, phi in arrival_steps(scenario):
            spent = math.fsum(s.cost_usd for s in sites if starts.get(s.site_id, math.inf) <= period)
            if phi > 0 and spent > carrier.own_funds_usd:
                needed[carrier.carrier_id] = max(needed[carrier.carrier_id], (spent - carrier.own_funds_usd) / phi)
    return needed


def optimal_plan(
    dataset: Dataset,
    scenario: Scenario,
    horizon: int,
    notes: list[str],
    began: float,
    deadline: Deadline,
    progress: Progress | None,
    workers: int,
    cancel: threading.Event | None = None,
) -> Plan:
    """The optimiser chooses the allocation; the plan is never worse than pro-rata's.

    1. the pro-rata plan: the yardstick, and a warm start (its safety net is half the time left);
    2. the national selection model chooses the sites the fund should buy and proves a bound;
       each carrier is scheduled with the money those sites need (unless pro-rata already gives
       every carrier at least that: more money never makes a schedule worse, as at full funding);
    3. small cases: every carrier in one MILP with the fund shared, from the better plan so far;
    4. when the plan is not yet proven and the fund could pay for every site, `money_free_bound`
       (each carrier's LP with the whole fund) proves it: the selection model's bound, which
       ignores when the work can be done, is weak where money does not bind.
    When the pro-rata allocation is kept, `fallback_reason` and a note say why.
    """
    shares = pro_rata(dataset, scenario)
    yardstick = assemble(
        dataset,
        scenario,
        shares,
        schedule_carriers(dataset, scenario, shares, horizon, deadline.share(0.5), progress, workers, cancel),
        horizon,
        began,
        notes,
    )
    cases = [carrier_case(dataset, scenario, c.carrier_id, 0.0, horizon) for c in dataset.carriers]
    own = {c.carrier_id: c.own_funds_usd for c in dataset.carriers}
    check_cancelled(cancel)
    selection = solve_selection(cases, own, scenario.available_usd, deadline, scenario.mip_gap)
    check_cancelled(cancel)
    winner, note, fallback = yardstick, "", ""
    stopped = list(yardstick.stopped_by_clock)
    chosen = money_needed(dataset, {*selection.replaced, *recorded_starts(dataset.sites, scenario)})
    if selection.status == "heuristic":
        fallback = (
            "the time limit ran out before the national selection model chose an allocation"
            if selection.stopped_by_clock
            else "the national selection model found no allocation within its work budget"
        )
        if selection.stopped_by_clock:
            stopped.append("national selection")
    elif all(chosen[c] <= shares[c] + 1e-6 for c in chosen):
        # More money never makes a carrier's best schedule worse: this allocation cannot beat pro-rata's, so
        # its schedules are not solved, even when the clock cut pro-rata's (solving less money from scratch
        # would not repair those; what time is left goes to proving the plan).
        fallback = "pro-rata already gives every carrier at least what the national selection model's allocation does"
    else:
        candidate = assemble(
            dataset,
            scenario,
            chosen,
            schedule_carriers(dataset, scenario, chosen, horizon, deadline, progress, workers, cancel),
            horizon,
            began,
            notes,
        )
        stopped.extend(candidate.stopped_by_clock)
        if candidate.objective <= yardstick.objective:
            winner, note = candidate, "allocation chosen by the national selection model"
        else:
            fallback = (
                f"the schedules for the national selection model's allocation scored {candidate.objective:,.0f}, "
                f"worse than pro-rata's {yardstick.objective:,.0f}"
                + (" (the time limit cut some of its solves short)" if candidate.stopped_by_clock else "")
            )
    starts, allocation = winner.starts, winner.allocation_usd
    # Every site at its earliest finish, money and crews ignored, bounds any allocation: a bound even when
    # the time limit left no time for the selection model.
    floor = math.fsum(earliest_finish_bound(case) for case in cases)
    bound, solve_seconds = max(selection.bound, floor), winner.solve_seconds + selection.seconds
    # The national model has no rows for the record's sites (in progress, replaced): not used with them.
    if sum(len(w) for case in cases for w in case.windows.values()) <= NATIONAL_MODEL_COLUMNS and not any(
        case.fixed_starts for case in cases
    ):
        check_cancelled(cancel)
        national = solve_national(
            cases,
            own,
            scenario.available_usd,
            deadline,
            scenario.mip_gap,
            warm_start=winner.starts,
            known_bound=selection.bound,
        )
        bound, solve_seconds = max(bound, national.bound), solve_seconds + national.seconds
        if national.stopped_by_clock:
            stopped.append("national model")
        if national.objective < winner.objective:
            starts, allocation = national.starts, money_needed_with_tranches(dataset, scenario, national.starts)
            note, fallback = "allocation and schedules chosen together by the national model", ""
    if fallback:
        note = f"the pro-rata allocation is kept: {fallback}"
    objective = objective_value(dataset, scenario, starts, horizon)

    def proves(bound: float) -> bool:
        integral = scenario.objective == "makespan"
        return math.isfinite(bound) and within_gap(objective, min(bound, objective), scenario.mip_gap, integral)

    if not proves(bound) and money_binds_only_by_time(dataset, scenario):
        check_cancelled(cancel)
        if deadline.expired():
            stopped.append("national bound")  # no time left to prove the plan by `money_free_bound`
        else:
            free, clocked = money_free_bound(dataset, scenario, horizon, deadline, workers, cancel)
            bound = max(bound, free)
            if clocked:
                stopped.append("national bound")
    plan_bound = min(bound, objective) if math.isfinite(bound) else None
    proven = proves(bound)
    winner_notes = [n for n in winner.notes if not n.startswith(TIME_LIMIT_NOTE_START)]
    clock_note = time_limit_note(scenario, stopped)
    return Plan(
        dataset,
        scenario,
        allocation,
        starts,
        "optimal" if proven else "feasible",
        objective,
        plan_bound,
        build_seconds=winner.build_seconds,
        solve_seconds=solve_seconds,
        wall_seconds=time.perf_counter() - began,
        solver=winner.solver,
        horizon=horizon,
        outcomes=winner.outcomes,
        notes=(*winner_notes, note, *([clock_note] if clock_note else [])),
        stopped_by_clock=tuple(dict.fromkeys(stopped)),
        fallback_reason=fallback,
    )


def money_binds_only_by_time(dataset: Dataset, scenario: Scenario) -> bool:
    """An exposure plan whose fund could pay what every carrier needs to replace all its sites (money then
    binds only by when it arrives). Exposure is a sum over carriers, which `money_free_bound` needs."""
    every_site = {site.site_id for site in dataset.sites}
    needed = math.fsum(money_needed(dataset, every_site).values())
    return scenario.objective == "exposure" and needed <= scenario.available_usd


def money_free_bound(
    dataset: Dataset,
    scenario: Scenario,
    horizon: int,
    deadline: Deadline,
    workers: int,
    cancel: threading.Event | None,
) -> tuple[float, bool]:
    """A bound on any allocation's plan: each carrier's LP relaxation with the whole fund as its allocation.

    Carriers share nothing but the fund, and a carrier's part of the objective never gets worse with
    more money, so sum_c LP_c(whole fund) is at most the objective of any plan. Where the fund
    pays for every site it is close to the plan's (rural40 at $4.98B: 115.68M against a plan of
    116.07M, where the selection model's bound was 60.4M). Returns the bound and
    whether the clock cut one of the LPs (its bound then falls back to the earliest-finish bound).
    """
    cases = [carrier_case(dataset, scenario, c.carrier_id, scenario.available_usd, horizon) for c in dataset.carriers]
    bounds: list[tuple[float, bool]] = []
    run_cases(relaxation_bound, cases, deadline, workers, cancel, bounds.append)
    return math.fsum(bound for bound, _ in bounds), any(clocked for _, clocked in bounds)


def planning_horizon(dataset: Dataset, scenario: Scenario) -> tuple[int, list[str]]:
    """The scenario's horizon, lengthened for a makespan plan whose work cannot fit in it.

    A makespan plan asks for every site to be scheduled if the data allow; the list
    schedule with unlimited time tells how long that takes.
    """
    if scenario.objective != "makespan":
        return scenario.horizon, []
    longest = max((s.lead_time_months for s in dataset.sites), default=0) + sum(
        s.duration_months for s in dataset.sites
    )
    needed = 0
    for carrier in dataset.carriers:
        case = carrier_case(dataset, scenario, carrier.carrier_id, math.inf, max(longest, scenario.horizon))
        starts = serial_schedule(case)
        needed = max([needed] + [starts[s] + case.by_id[s].duration_months for s in starts])
    if needed <= scenario.horizon:
        return scenario.horizon, []
    return needed, [
        f"the {scenario.horizon}-month horizon is too short to schedule every site; planned over {needed} months"
    ]


def schedule_carrier(
    case: CarrierCase, deadline: Deadline | float, mip_gap: float, work: WorkLimits = DEFAULT_WORK
) -> CaseResult:
    """One carrier: choose sites by the selection relaxation, list-schedule them, then improve by MILP.

    The selection model (money, precedence and crew-months, each site at its earliest
    finish) proves a lower bound and picks the sites money should buy; the list schedule
    of those sites (or of the plain priority list, whichever scores better) is the warm
    start, so the MILP only has to improve and prove. `deadline` is the plan's `Deadline`
    (or a `time.time()` instant); the selection may use a quarter of what it leaves. When it
    has run out, the list schedule is returned as it is (status "heuristic").
    """
    deadline = as_deadline(deadline, absolute=True)
    if not case.windows:
        return solve_case(case, deadline, mip_gap, work=work)
    candidates = [serial_schedule(case)]
    known_bound = -math.inf
    selection = solve_selection(
        [case],
        {case.carrier_id: max(case.budget_usd, case.fixed_cost_usd)},
        0.0,
        deadline.share(0.25),
        mip_gap / 4,
        work=work,
    )
    if selection.status != "heuristic":
        known_bound = selection.bound
        funded = dict.fromkeys(selection.replaced, True)
        candidates.append(serial_schedule(case, key=priority_rule(case, per="crew_month"), funded=funded))
        candidates.append(serial_schedule(case, funded=funded))
    warm = min(candidates, key=case.score)
    result = solve_case(case, deadline, mip_gap, warm_start=warm, known_bound=known_bound, work=work)
    if selection.stopped_by_clock and not result.stopped_by_clock:
        result = replace(result, stopped_by_clock="selection")
    return result


def worker_context():
    """How to start worker processes: fork when only one thread runs (scripts and notebooks need no
    `if __name__ == "__main__"` guard), forkserver otherwise (the app calls plan() from a thread,
    and forking a threaded process can deadlock)."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def schedule_carriers(
    dataset: Dataset,
    scenario: Scenario,
    allocation: dict[str, float],
    horizon: int,
    deadline: Deadline | float,
    progress: Progress | None,
    workers: int,
    cancel: threading.Event | None = None,
) -> list[CaseResult]:
    """Solve every carrier's schedule with its money fixed; largest cases first.

    The results come back in the dataset's carrier order whatever order the workers finish
    in, so the plan does not depend on which worker was faster. A set `cancel` ends the
    workers and raises `Cancelled`.
    """
    deadline = as_deadline(deadline, absolute=True)
    cases = []
    for carrier in dataset.carriers:
        check_cancelled(cancel)
        cases.append(
            carrier_case(dataset, scenario, carrier.carrier_id, allocation.get(carrier.carrier_id, 0.0), horizon)
        )
    results: dict[str, CaseResult] = {}

    def done(result: CaseResult) -> None:
        results[result.carrier_id] = result
        if progress:
            progress(len(results), len(cases), result.carrier_id)

    run_cases(partial(schedule_carrier, mip_gap=scenario.mip_gap), cases, deadline, workers, cancel, done)
    return [results[c.carrier_id] for c in dataset.carriers]


def run_cases(
    solve: Callable[[CarrierCase, Deadline], R],
    cases: list[CarrierCase],
    deadline: Deadline,
    workers: int,
    cancel: threading.Event | None,
    done: Callable[[R], None],
) -> None:
    """`solve(case, deadline)` for every case, largest first; `done(result)` as each ends, in the parent.

    Worker processes are worth it only when some case is large; the workers then take every case,
    largest first (longest-processing-time order), and the parent only waits, so no more solves run
    than cores. A solve that can be cancelled (`cancel` given, as the app does) sends a large case to
    a worker even when it is alone or `workers` is 1: a cancel ends a worker at once, where a solve in
    this process would run to its end. `solve` must be a module-level function (or a partial of
    one): it is sent to the workers. A set `cancel` ends the workers and raises `Cancelled`.
    """
    size = {case.carrier_id: sum(len(w) for w in case.windows.values()) for case in cases}
    ordered = sorted(cases, key=lambda case: -size[case.carrier_id])
    large = bool(ordered) and size[ordered[0].carrier_id] >= SMALL_CASE_VARIABLES
    if large and (cancel is not None or (workers > 1 and len(ordered) > 1)):
        context = worker_context()
        with ProcessPoolExecutor(
            max_workers=max(1, min(workers, len(ordered))),
            mp_context=context,
            initializer=ignore_interrupts,
            initargs=(os.getpid(),),
        ) as pool:
            try:
                check_cancelled(cancel)
                with signals_held():  # workers fork while these run: a Ctrl-C now reaches only the parent, later
                    pending = {pool.submit(solve, case, deadline) for case in ordered}
                while pending:
                    finished, pending = wait(pending, timeout=CANCEL_POLL_S, return_when=FIRST_COMPLETED)
                    for future in finished:
                        done(future.result())
                    check_cancelled(cancel)
            except BaseException:
                stop_workers(pool)  # Ctrl-C, a cancel or a failure: nobody will read the other solves
                raise
    else:
        for case in ordered:
            check_cancelled(cancel)
            done(solve(case, deadline))


STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def ignore_interrupts(parent_pid: int | None = None) -> None:
    """In a worker: leave Ctrl-C to the parent, which stops the workers (no traceback from each),
    and die with the parent: a SIGTERM or SIGKILL to the parent alone must not orphan its workers.

    On Linux the kernel sends the worker SIGKILL when the process that forked it ends
    (prctl PR_SET_PDEATHSIG); if the parent is already gone by then, the worker leaves at once.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # held by the parent while it forked us
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if parent_pid is not None and os.getppid() == 1:
        os._exit(0)  # orphaned before the line above took effect


@contextmanager
def signals_held():
    """Hold Ctrl-C and SIGTERM (delivered on leaving) while worker processes are forked, so a forked
    worker never runs Python's Ctrl-C handler before `ignore_interrupts` (that printed tracebacks)."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS) if hasattr(signal, "pthread_sigmask") else None
    try:
        yield
    finally:
        if held is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel the queued carriers and end the running workers now.

    A worker inside HiGHS does not see Ctrl-C and would run to its time limit before the
    pool could shut down (measured on rural40: 47 s from Ctrl-C to exit; 0.7 s with this).
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())  # private, but the only handle
    pool.shutdown(wait=False, cancel_futures=True)
    processes += [p for p in (getattr(pool, "_processes", None) or {}).values() if p not in processes]
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=2.0)
        if process.is_alive():  # still starting (signals held) on a loaded machine: end it for sure
            process.kill()
            process.join(timeout=2.0)


TIME_LIMIT_NOTE_START = "the time limit"


def time_limit_note(scenario: Scenario, stopped: list[str]) -> str:
    """The note a plan carries when the wall clock, not a work budget, ended some of its solves."""
    if not stopped:
        return ""
    return (
        f"{TIME_LIMIT_NOTE_START} ({scenario.time_limit_s:g} s) stopped {len(stopped)} solve(s) before their work "
        f"budget was used: {', '.join(stopped[:8])}{' ...' if len(stopped) > 8 else ''}; this plan depends on the "
        "machine's speed and load, and a longer time limit gives the reproducible plan"
    )


def assemble(
    dataset: Dataset,
    scenario: Scenario,
    allocation: dict[str, float],
    results: list[CaseResult],
    horizon: int,
    began: float,
    notes: list[str],
) -> Plan:
    """Join the carriers' schedules into one plan with an honest status and bound."""
    starts: dict[str, int] = {}
    outcomes = []
    bound = 0.0
    recorded = recorded_starts(dataset.sites, scenario)  # in progress, replaced: kept whatever the solver said
    results = sorted(results, key=lambda r: r.carrier_id)
    for result in results:
        carrier_starts = {
            **result.starts,
            **{
                s.site_id: recorded[s.site_id]
                for s in dataset.sites_by_carrier.get(result.carrier_id, ())
                if s.site_id in recorded
            },
        }
        starts.update(carrier_starts)
        objective = objective_value(dataset, scenario, carrier_starts, horizon, carrier_id=result.carrier_id)
        carrier_bound = objective if result.status == "trivial" else min(result.bound, objective)
        bound += carrier_bound
        outcomes.append(
            CarrierOutcome(
                result.carrier_id, result.status, objective, carrier_bound, result.build_seconds + result.solve_seconds
            )
        )
    objective = objective_value(dataset, scenario, starts, horizon)
    # `optimal` only when every carrier is proven within the gap (its solver said so, or its own bound
    # shows it); a plan whose national gap is small while the time limit stopped a carrier is `feasible`,
    # with that national gap, as the README and the note below say. One definition for status and note.
    integral = scenario.objective == "makespan"
    unproven = [
        o
        for o in outcomes
        if o.status not in ("optimal", "trivial") and not within_gap(o.objective, o.bound, scenario.mip_gap, integral)
    ]
    proven = math.isfinite(bound) and not unproven and within_gap(objective, bound, scenario.mip_gap, integral)
    stopped = [f"{r.carrier_id} ({r.stopped_by_clock})" for r in results if r.stopped_by_clock]
    notes = list(notes)
    if unproven:
        worst = sorted(unproven, key=lambda o: -(o.objective - o.bound))[:5]
        notes.append(
            f"{len(unproven)} carrier(s) were not each proven within the gap when their work budget "
            f"{'or the clock ' if stopped else ''}ended the solve: "
            + ", ".join(f"{o.carrier_id} ({(o.objective - o.bound) / max(abs(o.objective), 1e-9):.1%})" for o in worst)
            + (" ..." if len(unproven) > 5 else "")
        )
    if stopped:
        notes.append(time_limit_note(scenario, stopped))
    return Plan(
        dataset,
        scenario,
        allocation,
        starts,
        "optimal" if proven else "feasible",
        objective,
        bound if math.isfinite(bound) else None,
        build_seconds=sum(r.build_seconds for r in results),
        solve_seconds=sum(r.solve_seconds for r in results),
        wall_seconds=time.perf_counter() - began,
        solver=solver_name(scenario.objective),
        horizon=horizon,
        outcomes=tuple(outcomes),
        notes=tuple(notes),
        stopped_by_clock=tuple(stopped),
    )
