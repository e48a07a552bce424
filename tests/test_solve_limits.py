"""Work limits, not the clock, decide a plan; the time limit bounds the whole solve; `optimal` says why it falls back.

The datasets are generated: several carriers of a few dozen sites each, with tight crews,
dependencies and money that binds, so that the LP alone does not prove every carrier and
branch-and-bound runs into its node budget.
"""

from __future__ import annotations

import math
import multiprocessing
import random
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

import planner
from planner.analysis.reports import schedule_table
from planner.core.schema import Carrier, CrewPool, Dataset
from planner.engine import planning, solve
from planner.engine.heuristics import mean_start, serial_schedule
from planner.engine.solve import (
    DEFAULT_WORK,
    Deadline,
    SelectionResult,
    WorkLimits,
    earliest_finish_bound,
    improve_by_windows,
    improve_in_neighbourhood,
    latest_periods,
    load,
    read_starts,
    run_highs,
    solve_case,
    warm_start_values,
)
from planner.model.build import build_model
from planner.model.case import carrier_case
from tests.conftest import dataset, only_carriers, scenario, site


def generated(carriers: int = 3, sites_per_carrier: int = 45, seed: int = 7) -> Dataset:
    """Carriers of cores and RAN sites behind them; one or two tower crews; lead times and 1-3 month jobs."""
    rng = random.Random(seed)
    sites, crews, owners = [], [], []
    for c in range(carriers):
        carrier_id = f"k{c:02d}"
        owners.append(Carrier(carrier_id, f"Carrier {c}", "TX", 1000))
        crews.append(CrewPool(carrier_id, "tower", float(rng.choice([1, 2]))))
        cores = [f"{carrier_id}-core{j}" for j in range(3)]
        for core in cores:
            sites.append(site(core, carrier_id, cost=2e5, duration=rng.randint(1, 2), kind="core"))
        for j in range(sites_per_carrier - len(cores)):
            sites.append(
                site(
                    f"{carrier_id}-ran{j:03d}",
                    carrier_id,
                    population=rng.randint(100, 5000),
                    cost=rng.randint(5, 40) * 1e4,
                    duration=rng.randint(1, 3),
                    lead=rng.randint(0, 6),
                    after=[rng.choice(cores)],
                )
            )
    return Dataset(tuple(owners), tuple(crews), tuple(sites), name=f"generated-{seed}")


def fund_half(ds: Dataset, **overrides):
    """Half the demand, a 12-month term over 24 months: money and crews both bind."""
    base = {"fund_usd": ds.total_demand_usd / 2, "horizon": 24, "deadline": 12, "mip_gap": 0.0, "time_limit_s": 60.0}
    base.update(overrides)
    return scenario(**base)


def test_a_carrier_stopped_by_its_work_budget_gets_the_same_schedule_whatever_the_time_limit():
    """A node budget of 20 binds long before either time limit, so 30 s and 3,000 s give one schedule."""
    ds = generated(carriers=1, sites_per_carrier=40)
    sc = fund_half(ds)
    case = carrier_case(ds, sc, "k00", sc.available_usd, sc.horizon)
    work = WorkLimits(mip_nodes=20, mip_leaves=20, branch_after_lp_iterations=10**9)
    short = solve_case(case, Deadline.after(30.0), 0.0, work=work)
    long = solve_case(case, Deadline.after(3000.0), 0.0, work=work)
    assert short.stopped_by_clock == long.stopped_by_clock == ""
    assert short.starts == long.starts and short.objective == long.objective and short.bound == long.bound
    assert short.mip_nodes == long.mip_nodes > 0  # branch-and-bound ran, and ran into the same budget


def schedule_csv(plan) -> str:
    return schedule_table(plan).to_csv(index=False)  # as `rrplan solve --out` writes schedule.csv


def test_the_plan_is_byte_for_byte_the_same_with_a_huge_time_limit_and_with_either_worker_count():
    """schedule.csv does not change when the time limit is 100 times longer or the carriers run in two workers."""
    ds = generated(carriers=4, sites_per_carrier=40)
    base = planner.plan(ds, fund_half(ds, time_limit_s=60.0, mip_gap=0.01), workers=1)
    huge = planner.plan(ds, fund_half(ds, time_limit_s=6000.0, mip_gap=0.01), workers=1)
    parallel = planner.plan(ds, fund_half(ds, time_limit_s=60.0, mip_gap=0.01), workers=2)
    assert planner.check_plan(base) == [] and planner.check_plan(parallel) == []
    assert base.stopped_by_clock == huge.stopped_by_clock == parallel.stopped_by_clock == ()
    assert schedule_csv(base) == schedule_csv(huge) == schedule_csv(parallel)
    assert base.objective == huge.objective == parallel.objective and base.bound == huge.bound


def test_the_time_limit_bounds_the_whole_plan_and_the_plan_says_what_it_cut(rural40):
    """rural40 at full funding takes several seconds of work on two cores; with a 1-second limit the plan comes
    back in well under 1 + 10 s (model building, list schedules and selection included), valid, not claiming
    optimality, with the cut carriers named in a note and in the summary."""
    limited = rural40.default_scenario.with_overrides(fund_usd=4.98e9, time_limit_s=1.0)
    began = time.perf_counter()
    plan = planner.plan(rural40, limited)
    elapsed = time.perf_counter() - began
    assert elapsed < 1.0 + 10.0
    assert planner.check_plan(plan) == []
    assert plan.status == "feasible"
    assert plan.stopped_by_clock  # some carriers' work did not fit in one second
    (note,) = [n for n in plan.notes if n.startswith("the time limit")]
    assert "before their work budget was used" in note and plan.stopped_by_clock[0] in note
    assert planner.summary(plan)["stopped_by_time_limit"] == list(plan.stopped_by_clock)


def test_an_unbuilt_model_falls_back_to_the_list_schedule():
    """With the deadline already past, a carrier is not modelled: its list schedule is returned, labelled."""
    ds = generated(carriers=1, sites_per_carrier=30)
    sc = fund_half(ds)
    case = carrier_case(ds, sc, "k00", sc.available_usd, sc.horizon)
    result = planning.schedule_carrier(case, Deadline.after(-1.0), sc.mip_gap)
    assert result.status == "heuristic" and result.stopped_by_clock
    assert result.starts == planning.serial_schedule(case)
    assert result.bound <= result.objective


def test_the_optimal_rule_says_why_it_keeps_pro_rata(monkeypatch):
    """When the national selection finds nothing, the optimal rule keeps pro-rata's plan and says so."""
    ds = generated(carriers=2, sites_per_carrier=20)
    sc = fund_half(ds, rule="optimal", mip_gap=0.01)

    def nothing_found(*args, **kwargs):
        return SelectionResult(set(), "heuristic", float("nan"), float("-inf"), 0.0)

    # Every selection model finds nothing, the carriers' own included, so pro rata is made the same way here.
    monkeypatch.setattr(planning, "solve_selection", nothing_found)
    monkeypatch.setattr(planning, "NATIONAL_MODEL_COLUMNS", -1)  # no national model to rescue it
    pro_rata = planner.plan(ds, sc.with_overrides(rule="pro_rata"), workers=1)
    kept = planner.plan(ds, sc, workers=1)
    assert kept.starts == pro_rata.starts and kept.objective == pro_rata.objective
    assert "found no allocation" in kept.fallback_reason
    assert any(n.startswith("the pro-rata allocation is kept: ") for n in kept.notes)
    assert planner.summary(kept)["optimal_fallback_reason"] == kept.fallback_reason


def test_the_earliest_finish_bound_counts_a_recorded_site_as_every_plan_does():
    """A site the record replaced before the plan's start counts 0 person-months in every plan, and one in progress
    counts its people for the months to its finish; the bound once counted both as never replaced (pop x 14 here),
    which called plans optimal that were not."""
    planned = [site(f"p{i}", population=10 * (i + 1), cost=5, duration=2, lead=i % 3) for i in range(6)]
    done = replace(site("done", population=1000, duration=2, tower=0), status="replaced", started="2022-01")
    going = replace(site("going", population=100, duration=3, tower=0), status="in_progress", started="2022-04")
    sc = scenario(start="2022-05", as_of="2022-05", horizon=14, deadline=8, fund_usd=1000)
    case = carrier_case(dataset([*planned, done, going]), sc, "a", sc.available_usd, 14)
    without = carrier_case(dataset(planned), sc, "a", sc.available_usd, 14)
    assert case.fixed_starts == {"done": -4, "going": -1}
    # going: started a month before the plan's start, three months long: it finishes in month 2
    assert earliest_finish_bound(case) == pytest.approx(earliest_finish_bound(without) + 100 * 2)
    result = planner.plan(dataset([*planned, done, going]), sc.with_overrides(rule="optimal"), workers=1)
    assert result.bound <= result.objective and planner.check_plan(result) == []


def test_a_fully_funded_optimal_plan_is_proven_by_each_carrier_given_the_whole_fund(monkeypatch):
    """Where the fund pays for every site, the selection model's bound (money, crew-months, no timing) is far
    below the plan: without the national model (a dataset too large for it, as rural40) the optimal rule called
    its plan feasible at a gap of 48% on rural40. Each carrier's LP with the whole fund bounds every rule's plan,
    and proves this one within its 1% gap."""
    monkeypatch.setattr(planning, "NATIONAL_MODEL_COLUMNS", 0)
    ds = generated(carriers=3, sites_per_carrier=25, seed=7)
    sc = fund_half(ds, fund_usd=ds.total_demand_usd * 1.2, rule="optimal", mip_gap=0.01)
    result = planner.plan(ds, sc, workers=1)
    horizon, _ = planning.planning_horizon(ds, sc)
    free, clocked = planning.money_free_bound(ds, sc, horizon, Deadline.after(60), 1, None)
    assert result.status == "optimal" and result.bound >= free - 1e-6 and not clocked
    assert planner.check_plan(result) == []
    for rule in ("pro_rata", "greedy", "optimal"):
        assert free <= planner.plan(ds, sc.with_overrides(rule=rule), workers=1).objective + 1e-6
    # pro-rata gives every carrier all it asks for: the selection's allocation cannot do better, and is not solved
    assert "pro-rata already gives every carrier at least" in result.fallback_reason
    assert result.starts == planner.plan(ds, sc.with_overrides(rule="pro_rata"), workers=1).starts
    monkeypatch.setattr(planning, "money_binds_only_by_time", lambda dataset, scenario: False)
    assert planner.plan(ds, sc, workers=1).status == "feasible"  # what the selection bound alone proves


def test_the_optimal_rule_is_never_worse_than_pro_rata_and_names_no_fallback_when_it_wins():
    ds = generated(carriers=3, sites_per_carrier=20, seed=3)
    sc = fund_half(ds, rule="optimal", mip_gap=0.01)
    chosen = planner.plan(ds, sc, workers=1)
    pro_rata = planner.plan(ds, sc.with_overrides(rule="pro_rata"), workers=1)
    assert planner.check_plan(chosen) == []
    assert chosen.objective <= pro_rata.objective + 1e-6
    summary = planner.summary(chosen)
    if chosen.allocation_usd == pro_rata.allocation_usd:
        assert summary["optimal_fallback_reason"]
    else:
        assert summary["optimal_fallback_reason"] is None


@pytest.mark.parametrize("seconds", [0.5, 3.0])
def test_a_deadline_shares_its_time(seconds):
    deadline = Deadline.after(seconds)
    half = deadline.share(0.5)
    assert half.at <= deadline.at and half.left_s() == pytest.approx(deadline.left_s() / 2, abs=0.05)
    assert not deadline.expired() and Deadline.after(-0.1).expired()


def test_the_earliest_finish_bound_is_every_site_at_its_best():
    """Two 1-month jobs on one crew, 100 and 50 people: both could finish in month 1 if crews did not bind,
    so the bound is 100*1 + 50*1 = 150, below the optimum 100*1 + 50*2 = 200 (test_known_optima). A site
    that can never be replaced (its lead time is past the horizon) costs what an unreplaced site costs:
    10 * (D + w * (H - D)) = 10 * (12 + 100 * 0) = 120."""
    ds = dataset([site("big", population=100), site("small", population=50), site("late", population=10, lead=20)])
    sc = scenario()
    case = carrier_case(ds, sc, "a", 1e12, sc.horizon)
    assert earliest_finish_bound(case) == pytest.approx(150 + 120)
    result = solve_case(case, 30.0, 0.0)
    assert result.objective == pytest.approx(200 + 120) and result.bound >= earliest_finish_bound(case) - 1e-6


def test_mean_start_is_the_lps_average_start_by_hand():
    """z = 0.5 from period 2, 1 from period 3: half the site starts in 2, half in 3, so on average in 2.5."""
    assert mean_start({2: 0.5, 3: 1.0}) == pytest.approx(2.5)
    assert mean_start({4: 0.25, 5: 0.25, 6: 0.5}) == pytest.approx(4 + (0.25 + 0.25) / 0.5)  # x = 0.5: 5 on average
    assert mean_start({1: 0.0, 2: 0.0}) == float("inf")  # never started: last in the list


def poor_plan_and_its_lp():
    """One generated carrier, its worst list schedule (lightest sites first), its model loaded and its LP solved."""
    ds = generated(carriers=1, sites_per_carrier=30, seed=11)
    sc = fund_half(ds)
    case = carrier_case(ds, sc, "k00", ds.total_demand_usd / 2)
    poor = serial_schedule(case, key=lambda s: (case.by_id[s].population, s))  # lightest first
    m = build_model(case)
    loaded = load(m.problem, m.objective_constant)
    lp = run_highs(loaded, Deadline.after(60), 0.0)
    assert lp.status == "optimal" and lp.values is not None
    return ds, sc, case, poor, m, loaded, lp


def test_the_neighbourhood_search_improves_a_poor_plan_and_keeps_it_valid():
    """RINS from the worst list schedule (lightest sites first) finds a better valid plan than it was given."""
    ds, sc, case, poor, m, loaded, lp = poor_plan_and_its_lp()
    sub = improve_in_neighbourhood(loaded, lp.values, warm_start_values(m, poor), Deadline.after(60), DEFAULT_WORK)
    assert sub is not None and sub.values is not None
    better = read_starts(m, sub.values)
    assert lp.bound - 1e-6 <= case.score(better) < case.score(poor)
    plan = planner.plan(ds, sc, workers=1)  # and every plan the engine makes with it passes the validator
    assert planner.check_plan(plan) == []


def test_the_window_neighbourhoods_take_whole_periods_from_the_end_by_hand():
    periods = np.array([0, 1, 1, 2, 2, 2, 3])
    assert latest_periods(periods, 1) == 3  # period 3 alone
    assert latest_periods(periods, 3) == 3  # 3 and 2 together are 4: too many
    assert latest_periods(periods, 4) == 2
    assert latest_periods(periods, 7) == 0
    assert latest_periods(np.array([5, 5]), 1) == math.inf  # the last period alone is too large
    assert latest_periods(np.array([], dtype=int), 10) == math.inf


# Two rounds of two neighbourhoods, sized for the 30-site case of `poor_plan_and_its_lp` (603 start columns, 30 a
# period): each round improves the plan, the better neighbourhood is the second of round 1 (differ: 40.8M against
# the tail's 59.1M) and the first of round 2 (differ: 19.2M against 38.7M).
SMALL = replace(DEFAULT_WORK, window_rounds=((("tail", 300), ("differ", 300)), (("differ", 400), ("tail", 400))))


def violations(ds, sc, case, starts):
    """What the validator finds in a plan of `poor_plan_and_its_lp`'s carrier with these starts (and its half fund)."""
    starts = {**case.fixed_starts, **starts}
    plan = planner.Plan(ds, sc, {"k00": ds.total_demand_usd / 2}, starts, "feasible", 0.0, None, horizon=sc.horizon)
    return planner.check_plan(plan)


def search_windows(case, m, loaded, lp_values, plan, work=SMALL):
    """`improve_by_windows` with every round searched (the gap never met) and a minute's safety net."""
    return improve_by_windows(case, m, loaded, lp_values, plan, lambda _: False, Deadline.after(60), work)


def fresh_lp(m):
    """The model loaded again, its LP solved: a search on it starts where the first one did."""
    loaded = load(m.problem, m.objective_constant)
    return loaded, run_highs(loaded, Deadline.after(60), 0.0).values


def test_the_window_search_improves_a_poor_plan_and_keeps_it_valid():
    """From the worst list schedule, the tail and differ neighbourhoods (each a small sub-MIP) find a better plan that
    the validator accepts, never below the LP bound; with no neighbourhood it keeps the plan it was given."""
    ds, sc, case, poor, m, loaded, lp = poor_plan_and_its_lp()
    better, nodes, clocked = search_windows(case, m, loaded, lp.values, poor)
    assert nodes > 0 and not clocked
    assert lp.bound - 1e-6 <= case.score(better) < case.score(poor)
    assert violations(ds, sc, case, better) == []
    same, none, _ = search_windows(case, m, loaded, lp.values, poor, replace(DEFAULT_WORK, window_rounds=()))
    assert same == poor and none == 0


def test_each_round_keeps_the_best_of_its_neighbourhoods():
    """Round 1's better neighbourhood is its second: the round keeps its plan, whichever order they come in, and
    round 2 improves on it again."""
    ds, sc, case, poor, m, loaded, lp = poor_plan_and_its_lp()
    first = SMALL.window_rounds[0]
    alone = [
        case.score(search_windows(case, m, *fresh_lp(m), poor, replace(SMALL, window_rounds=((n,),)))[0]) for n in first
    ]
    assert alone[1] < alone[0] < case.score(poor)
    for order in (first, first[::-1]):
        one_round, _, _ = search_windows(case, m, *fresh_lp(m), poor, replace(SMALL, window_rounds=(order,)))
        assert case.score(one_round) == pytest.approx(alone[1])
    both_rounds, _, _ = search_windows(case, m, loaded, lp.values, poor)
    assert case.score(both_rounds) < alone[1]


def test_the_window_search_gives_the_same_plan_side_by_side_or_one_after_the_other(monkeypatch):
    """Each round's neighbourhoods are searched at once, one thread each; a plan must not depend on that, so the
    same search run one neighbourhood after the other (on fresh models) gives the same plan to the site."""
    ds, sc, case, poor, m, loaded, lp = poor_plan_and_its_lp()
    together, _, _ = search_windows(case, m, loaded, lp.values, poor)
    ran: list[int] = []

    def one_after_the_other(tasks):
        ran.append(len(tasks))
        return [task() for task in tasks]

    monkeypatch.setattr(solve, "side_by_side", one_after_the_other)
    alone, _, _ = search_windows(case, m, *fresh_lp(m), poor)
    assert ran == [2, 2]  # both neighbourhoods of both rounds were searched
    assert alone == together and case.score(together) < case.score(poor)


def test_the_window_search_stops_at_the_first_plan_good_enough():
    """Told what objective is enough (the plan's gap met), the search stops at a plan that good, having searched
    fewer nodes than the search that goes on; its plan is valid and still never below the LP bound."""
    ds, sc, case, poor, m, loaded, lp = poor_plan_and_its_lp()
    full, full_nodes, _ = search_windows(case, m, loaded, lp.values, poor)
    target = (case.score(poor) + case.score(full)) / 2
    stopped, stopped_nodes, clocked = improve_by_windows(
        case, m, *fresh_lp(m), poor, lambda objective: objective <= target, Deadline.after(60), SMALL
    )
    assert lp.bound - 1e-6 <= case.score(stopped) <= target + 1e-6 and not clocked
    assert stopped_nodes < full_nodes
    assert violations(ds, sc, case, stopped) == []


def test_a_window_search_out_of_time_says_so():
    """A deadline already past leaves every round unsearched: the plan is kept, and the search says the clock cut it
    (it is not the plan an unhurried run gives)."""
    ds, sc, case, poor, m, loaded, lp = poor_plan_and_its_lp()
    same, nodes, clocked = improve_by_windows(
        case, m, loaded, lp.values, poor, lambda _: False, Deadline.after(0), SMALL
    )
    assert same == poor and nodes == 0 and clocked


@pytest.mark.parametrize("rule", ["pro_rata", "optimal", "greedy"])
def test_the_preview_is_a_valid_plan_the_solved_plan_never_scores_worse_than(rule):
    """The app shows `preview_plan` while `plan` solves; the solved plan starts from it, so it is never worse."""
    ds = generated(carriers=3, sites_per_carrier=25, seed=11)
    sc = fund_half(ds, rule=rule, mip_gap=0.01)
    preview = planner.preview_plan(ds, sc)
    solved = planner.plan(ds, sc, workers=1)
    assert planner.check_plan(preview) == []
    assert preview.status == "heuristic" and preview.bound is None
    assert solved.objective <= preview.objective + 1e-6
    if rule == "greedy":
        assert preview.starts == solved.starts
    else:  # the optimal rule's preview is pro-rata's allocation, the one it is never worse than
        assert preview.allocation_usd == planner.preview_plan(ds, sc.with_overrides(rule="pro_rata")).allocation_usd


def test_a_cancelled_solve_stops_at_once_and_returns_no_plan():
    """A cancel set before the solve stops it before any carrier; one set while worker processes solve ends them
    within about a second (the parent looks every CANCEL_POLL_S), where the whole solve takes several."""
    ds = generated(carriers=1, sites_per_carrier=20)
    cancel = threading.Event()
    cancel.set()
    reported: list[str] = []
    with pytest.raises(planner.Cancelled):
        planner.plan(ds, fund_half(ds), progress=lambda done, total, c: reported.append(c), workers=1, cancel=cancel)
    assert reported == []


def still_running(earlier: set, seconds: float = 10.0) -> list:
    """This test's worker processes (children not in `earlier`) still running `seconds` after a cancel, even on a
    loaded machine. `is_alive()` is asked again until then: it can say True once for a worker the pool's own
    thread is reaping at that moment (seen in CI as a worker listed alive with exit code -SIGTERM)."""
    left = [p for p in multiprocessing.active_children() if p not in earlier]
    until = time.monotonic() + seconds
    while any(p.is_alive() for p in left) and time.monotonic() < until:
        time.sleep(0.1)
    return [p for p in left if p.is_alive()]


def test_cancelling_the_solve_of_one_large_carrier_ends_it_at_once(rural40):
    """A carrier engineer's own network is one carrier: solved in this process, a Cancel would wait for its whole
    solve. With a cancel event the large case goes to a worker process, which the cancel ends: the solve stops
    before the carrier is scheduled, and no worker is left running."""
    largest = max(rural40.carriers, key=lambda c: len(rural40.sites_by_carrier[c.carrier_id]))
    alone = only_carriers(rural40, [largest.carrier_id], "rural40's largest carrier")
    sc = rural40.default_scenario.with_overrides(fund_usd=4.98e9)
    cancel = threading.Event()
    reported: list[str] = []
    earlier = set(multiprocessing.active_children())
    threading.Timer(0.3, cancel.set).start()  # its solve takes 1.5-2 s on a quiet machine
    with pytest.raises(planner.Cancelled):
        planner.plan(alone, sc, progress=lambda done, total, c: reported.append(c), workers=1, cancel=cancel)
    assert reported == []
    assert still_running(earlier) == []


@pytest.mark.slow
def test_cancelling_a_parallel_solve_ends_its_workers(rural40):
    """Cancelled while worker processes solve rural40 at full funding (about 40 carriers of work), the solve stops
    before it has scheduled every carrier, and no worker is left running. (How soon is a benchmark figure, not a
    test: on a loaded machine it varies.)"""
    full = rural40.default_scenario.with_overrides(fund_usd=4.98e9)
    cancel = threading.Event()
    reported: list[str] = []
    earlier = set(multiprocessing.active_children())  # other tests' processes are not this solve's

    def progress(done: int, total: int, carrier_id: str) -> None:
        reported.append(carrier_id)
        if done == 2:
            cancel.set()  # the two largest carriers are scheduled; the others are queued or running

    with pytest.raises(planner.Cancelled):
        planner.plan(rural40, full, progress=progress, workers=2, cancel=cancel)
    assert 2 <= len(reported) < len(rural40.carriers)
    assert still_running(earlier) == []  # no worker left solving
