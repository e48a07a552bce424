"""Tiny random cases: the engine agrees with exhaustive enumeration of every schedule."""

from __future__ import annotations

import itertools
import random

import pytest

import planner
from planner.core.schema import Carrier, CrewPool, Plan
from planner.engine import planning
from planner.engine.allocation import pro_rata
from planner.engine.solve import Deadline
from tests.conftest import scenario, site

HORIZON = 5


def random_case(seed: int):
    rng = random.Random(seed)
    sites, carriers, crews = [], [], []
    for c in ("a", "b")[: rng.randint(1, 2)]:
        carriers.append(Carrier(c, c, "NE", 100, own_funds_usd=float(rng.choice([0, 0, 50]))))
        winter = float(rng.choice([0, 1])) if rng.random() < 0.3 else None
        crews.append(CrewPool(c, "tower", float(rng.randint(1, 2)), winter_capacity=winter))
        ids = []
        for i in range(rng.randint(1, 3)):
            after = [j for j in ids if rng.random() < 0.4]
            sid = f"{c}{i}"
            sites.append(
                site(
                    sid,
                    c,
                    population=rng.randint(0, 90),
                    cost=float(rng.choice([0, 40, 100, 150])),
                    duration=rng.randint(1, 2),
                    lead=rng.randint(0, 2),
                    after=after,
                    tower=rng.choice([1, 1, 2]),
                )
            )
            ids.append(sid)
    ds = planner.Dataset(tuple(carriers), tuple(crews), tuple(sites), name=f"random{seed}")
    sc = scenario(
        fund_usd=float(rng.choice([0, 100, 200, 400])),
        horizon=HORIZON,
        deadline=rng.randint(1, 4),
        start=rng.choice(["2022-01", "2022-11"]),
        objective=rng.choice(["exposure", "exposure", "makespan"]),
    )
    return ds, sc


def enumerate_best(ds, sc, allocation, horizon=HORIZON):
    """Try every start (or none) of every site; keep the best schedule the validator accepts."""
    options = [[None, *range(horizon - s.duration_months + 1)] for s in ds.sites]
    best = None
    for choice in itertools.product(*options):
        starts = {s.site_id: t for s, t in zip(ds.sites, choice, strict=True) if t is not None}
        candidate = Plan(ds, sc, allocation, starts, "enumerated", 0.0, None, horizon=horizon)
        if planner.check_plan(candidate):
            continue
        value = planner.objective_value(ds, sc, starts, horizon)
        if best is None or value < best:
            best = value
    return best


@pytest.mark.parametrize("seed", range(40))
def test_fixed_allocation_matches_enumeration(seed):
    ds, sc = random_case(seed)
    result = planner.plan(ds, sc, workers=1)
    assert planner.check_plan(result) == []
    # A makespan plan may lengthen a horizon too short for all the work: enumerate over the plan's horizon.
    best = enumerate_best(ds, sc, pro_rata(ds, sc), horizon=result.horizon)
    assert result.objective == pytest.approx(best)
    assert result.status == "optimal"
    assert result.bound <= best + 1e-6


def best_over_every_allocation(ds, sc):
    """The best objective of any schedule the validator accepts, with any split of the fund: each carrier given
    what its sites cost (after its own funds), the total capped by the validator's own rule."""
    best = None
    options = [[None, *range(HORIZON - s.duration_months + 1)] for s in ds.sites]
    for choice in itertools.product(*options):
        starts = {s.site_id: t for s, t in zip(ds.sites, choice, strict=True) if t is not None}
        need = {
            c.carrier_id: max(
                0.0, sum(s.cost_usd for s in ds.sites_by_carrier[c.carrier_id] if s.site_id in starts) - c.own_funds_usd
            )
            for c in ds.carriers
        }
        candidate = Plan(ds, sc, need, starts, "enumerated", 0.0, None, horizon=HORIZON)
        if planner.check_plan(candidate):
            continue
        value = planner.objective_value(ds, sc, starts, HORIZON)
        best = value if best is None else min(best, value)
    return best


def assert_honest(result, best):
    """A plan's bound never exceeds the true optimum, and a plan called optimal is it."""
    assert planner.check_plan(result) == []
    assert result.bound is not None and result.bound <= best + 1e-6
    assert result.objective >= best - 1e-6
    if result.status == "optimal":
        assert result.objective == pytest.approx(best)


@pytest.mark.parametrize("seed", range(40, 60))
def test_optimal_rule_is_honest_about_its_bound(seed):
    """The optimal rule's bound never exceeds the true optimum over all allocations, and a plan it calls
    optimal is within the requested gap of it; it is never worse than pro-rata."""
    ds, sc = random_case(seed)
    sc = sc.with_overrides(rule="optimal", objective="exposure")
    result = planner.plan(ds, sc, workers=1)
    assert_honest(result, best_over_every_allocation(ds, sc))
    pro = planner.plan(ds, sc.with_overrides(rule="pro_rata"), workers=1)
    assert result.objective <= pro.objective + 1e-6


@pytest.mark.parametrize("seed", range(60, 75))
def test_the_bound_from_each_carrier_given_the_whole_fund_is_honest(seed, monkeypatch):
    """With a fund that pays for every site, and without the national model (as for a dataset too large for it),
    the optimal rule's bound comes from each carrier's LP with the whole fund: it never exceeds the true optimum."""
    monkeypatch.setattr(planning, "NATIONAL_MODEL_COLUMNS", 0)
    ds, sc = random_case(seed)
    demand = sum(s.cost_usd for s in ds.sites)
    sc = sc.with_overrides(rule="optimal", objective="exposure", fund_usd=demand + sc.admin_reserve_usd + 1.0)
    assert planning.money_binds_only_by_time(ds, sc)
    best = best_over_every_allocation(ds, sc)
    result = planner.plan(ds, sc, workers=1)
    assert_honest(result, best)
    horizon, _ = planning.planning_horizon(ds, sc)
    free, clocked = planning.money_free_bound(ds, sc, horizon, Deadline.after(60), 1, None)
    assert free <= best + 1e-6 and not clocked
