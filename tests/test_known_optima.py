"""Hand-derived optima on tiny cases, one per constraint family and objective."""

from __future__ import annotations

import pytest

import planner
from planner.core.schema import Carrier, CrewPool
from planner.inputs.psplib import read_psplib
from tests.conftest import ROOT, dataset, scenario, site


def solve(ds, **overrides):
    result = planner.plan(ds, scenario(**overrides), workers=1)
    assert planner.check_plan(result) == []
    return result


def test_one_crew_serialises_two_jobs():
    """Two 1-month jobs, one crew: the larger goes first, finishes 1 and 2: 100*1 + 50*2 = 200."""
    result = solve(dataset([site("big", population=100), site("small", population=50)]))
    assert result.objective == pytest.approx(200)
    assert result.starts == {"big": 0, "small": 1}
    assert result.status == "optimal"


def test_second_crew_runs_jobs_together():
    """With two crews both finish in month 1: 100 + 50 = 150."""
    ds = dataset([site("big", population=100), site("small", population=50)], crews=[CrewPool("a", "tower", 2.0)])
    assert solve(ds).objective == pytest.approx(150)


def test_precedence_waits_for_the_core():
    """Core takes 2 months (no people), the RAN site behind it 1: it finishes at 3: 10*3 = 30."""
    ds = dataset([site("core", duration=2, kind="core"), site("ran", population=10, after=["core"])])
    result = solve(ds)
    assert result.objective == pytest.approx(30)
    assert result.starts == {"core": 0, "ran": 2}


def test_lead_time_delays_the_start():
    """Equipment arrives in period 3: start 3, finish 4: 10*4 = 40."""
    result = solve(dataset([site("late", population=10, lead=3)]))
    assert result.starts == {"late": 3}
    assert result.objective == pytest.approx(40)


def test_winter_stops_tower_work():
    """Start in December with no winter crews: work waits for April (period 4), finishes 5: 10*5 = 50."""
    ds = dataset([site("north", population=10)], crews=[CrewPool("a", "tower", 1.0, winter_capacity=0.0)])
    result = solve(ds, start="2022-12")
    assert result.starts == {"north": 4}
    assert result.objective == pytest.approx(50)


def test_budget_funds_the_larger_population():
    """$100 buys one of two $100 sites. Replace 100 people (finish 1); 60 stay on covered gear to D=2,
    then are dark for H-D=2 months at weight 100: 100*1 + 60*(2 + 100*2) = 12,220."""
    ds = dataset([site("big", population=100, cost=100), site("small", population=60, cost=100)])
    result = solve(ds, fund_usd=100, horizon=4, deadline=2)
    assert result.starts == {"big": 0}
    assert result.objective == pytest.approx(12_220)
    figures = planner.summary(result)
    assert figures["population_left_without_service"] == 60
    assert figures["exposure_population_months"] == pytest.approx(100 * 1 + 60 * 2)


def test_own_funds_add_to_the_allocation():
    """No fund, but $100 of the carrier's own money: the 100-person site is replaced all the same."""
    ds = dataset(
        [site("big", population=100, cost=100), site("small", population=60, cost=100)],
        carriers=[Carrier("a", "A", "TX", 10, own_funds_usd=100.0)],
    )
    result = solve(ds, fund_usd=0, horizon=4, deadline=2)
    assert result.starts == {"big": 0}


def test_horizon_too_short_leaves_site_dark():
    """A 5-month job in a 4-month horizon cannot be replaced: 7 people dark from D=2 to H=4."""
    result = solve(dataset([site("long", population=7, duration=5)]), horizon=4, deadline=2)
    assert result.starts == {}
    assert result.objective == pytest.approx(7 * (2 + 100 * 2))


def test_crew_units_per_site_are_respected():
    """Each job needs 2 of 3 crew units: they cannot overlap. Pops 30, 20, d=1: 30*1 + 20*2 = 70."""
    ds = dataset(
        [site("x", population=30, tower=2), site("y", population=20, tower=2)], crews=[CrewPool("a", "tower", 3.0)]
    )
    assert solve(ds).objective == pytest.approx(70)


def test_makespan_packs_two_crew_types():
    """Jobs a(2 months, tower) and b(2 months, fiber) run together; c(1 month, tower) after a: makespan 3."""
    ds = dataset(
        [site("a1", duration=2), site("b1", duration=2, tower=0, fiber=1), site("c1", after=["a1"])],
        crews=[CrewPool("a", "tower", 1.0), CrewPool("a", "fiber", 1.0)],
    )
    result = solve(ds, objective="makespan")
    assert planner.summary(result)["makespan"] == 3
    assert result.objective == pytest.approx(3)


def test_makespan_extends_a_short_horizon():
    """Three 2-month jobs on one crew need 6 months; a 4-month horizon is lengthened, with a note."""
    ds = dataset([site(f"j{i}", duration=2) for i in range(3)])
    result = solve(ds, objective="makespan", horizon=4, deadline=4)
    assert planner.summary(result)["makespan"] == 6
    assert any("too short" in note for note in result.notes)


@pytest.mark.parametrize(("instance", "optimum"), [("j301_1", 43), ("j3013_1", 58), ("j3045_1", 82)])
def test_psplib_j30_instances_reach_their_published_optimum(instance, optimum):
    """PSPLIB J30 instances with their published optimal makespans (j30opt.sm), proven optimal: j301_1, and two of
    the hardest parameter sets (resource factor 1, resource strength 0.2), where the time-indexed LP bound alone is
    far below the optimum."""
    ds = read_psplib(ROOT / "tests" / "data" / "psplib" / f"{instance}.sm")
    result = planner.plan(ds, workers=1)
    assert planner.check_plan(result) == []
    assert planner.summary(result)["makespan"] == optimum
    assert result.status == "optimal"


@pytest.mark.parametrize("rule", ["pro_rata", "greedy"])
def test_a_dependency_chain_thousands_long_plans(rule):
    """1,500 one-month jobs in a chain, one crew, 12 months: the first 12 are replaced (ranking the chain's
    subtrees once recursed 1,500 deep, past Python's stack limit)."""
    sites = [site(f"s{i:04d}", population=1, after=[f"s{i - 1:04d}"] if i else []) for i in range(1500)]
    result = solve(dataset(sites), rule=rule, horizon=12, deadline=12)
    assert sorted(result.starts.values()) == list(range(12))
