"""The makespan constraint program itself: hand-derived optima, one per family, that fail if it goes.

Makespan cases are solved by CP-SAT (`planner.model.constraint_program`). Like the MILP's tests in
`test_formulation.py`: each hand case is built and solved by CP-SAT alone (`solve_program`: no hint,
no list schedule, no bound from elsewhere); a mutation test per family drops it and finds a strictly
better, hand-derived optimum; and tiny random makespan carriers are enumerated and agree with it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from ortools.sat.python import cp_model

import planner
from planner.analysis.verify import check_plan
from planner.core.schema import Carrier, CrewPool, Dataset, Plan, Scenario
from planner.engine.solve import DEFAULT_WORK, Deadline, solve_case_by_constraint_programming
from planner.model.case import CarrierCase, carrier_case
from planner.model.constraint_program import (
    CP_FAMILIES,
    ConstraintProgram,
    build_constraint_program,
    whole_scale,
)
from tests.conftest import dataset, scenario, site
from tests.test_formulation import START_MONTHS, breaks_a_rule, enumerated_optimum


def case_of(ds: Dataset, sc: Scenario) -> CarrierCase:
    return carrier_case(ds, sc, "a", sc.available_usd)


def solve_program(program: ConstraintProgram | None) -> tuple[float, dict[str, int]]:
    """CP-SAT alone, one worker, to optimality: (objective with its constant, starts of the replaced sites)."""
    assert program is not None
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 30.0
    status = solver.solve(program.model)
    assert status == cp_model.OPTIMAL
    starts = {s: int(solver.value(program.start[s])) for s, x in program.replaced.items() if solver.value(x)}
    return solver.objective_value + program.objective_constant, starts


def makespan(**overrides) -> Scenario:
    return scenario(objective="makespan", **overrides)


def precedence_case() -> CarrierCase:
    """Two crews; a $100 `core` and a free `ran` behind it, 1 month each; the $100 arrives in March (period 2).

    `core` waits for the money (March), `ran` follows in April, done at 4 (horizon 5, P = 6: leaving
    both out costs 12). The window of `ran` opens at 1 (the earliest `core` could finish), so only
    the precedence family makes it wait; without it `ran` runs in February: done at 3.
    """
    sites = [site("core", kind="core", cost=100), site("ran", after=["core"])]
    sc = makespan(start="2022-01", fund_usd=100, tranches=(("2022-03", 100.0),), horizon=5)
    return case_of(dataset(sites, crews=[CrewPool("a", "tower", 2.0)]), sc.with_overrides(deadline=5))


def crews_case() -> CarrierCase:
    """One crew, two 1-month sites, horizon 4: one after the other, done at 2. Without crews: both at once, 1."""
    return case_of(dataset([site("one"), site("two")]), makespan(horizon=4, deadline=4))


def winter_case() -> CarrierCase:
    """From November, one crew and none December-March; two 1-month sites, horizon 7.

    One in November (period 0), the other waits for April (period 5): done at 6 (leaving it out costs
    P = H + 1 = 8 > 6). The winter months are blocks of the crew's cumulative; without the crews
    family both run in November: 1.
    """
    ds = dataset([site("one"), site("two")], crews=[CrewPool("a", "tower", 1.0, winter_capacity=0.0)])
    return case_of(ds, makespan(start="2022-11", horizon=7, deadline=7))


def budget_case() -> CarrierCase:
    """$100 buys one of two $100 one-month sites, one crew, horizon 4 (P = 5).

    One replaced, done at 1, one left: 5 + 1 = 6. Without the budget family both are replaced,
    one after the other: 2.
    """
    sites = [site("big", cost=100), site("small", cost=100)]
    return case_of(dataset(sites), makespan(fund_usd=100, horizon=4, deadline=4))


def cumulative_funding_case() -> CarrierCase:
    """$100 in January and $100 in March (period 2), two crews, two $100 one-month sites, horizon 4.

    The second waits for March: done at 3 (leaving it out costs 5 + 1 = 6). Without the
    cumulative-funding family both start in January: 1.
    """
    sites = [site("big", cost=100), site("small", cost=100)]
    sc = makespan(start="2022-01", fund_usd=200, tranches=(("2022-01", 100.0), ("2022-03", 100.0)), horizon=4)
    return case_of(dataset(sites, crews=[CrewPool("a", "tower", 2.0)]), sc.with_overrides(deadline=4))


@dataclass(frozen=True)
class HandCase:
    build: Callable[[], CarrierCase]
    optimum: float
    relaxed: float  # the optimum without the family the case is named after


HAND_CASES = {
    "precedence": HandCase(precedence_case, 4, 3),
    "crews": HandCase(crews_case, 2, 1),
    "winter": HandCase(winter_case, 6, 1),
    "budget": HandCase(budget_case, 6, 2),
    "cumulative_funding": HandCase(cumulative_funding_case, 3, 1),
}
FAMILY_OF_CASE = {"winter": "crews"}


def family_named(name: str):
    return next(f for f in CP_FAMILIES if f.__name__ == f"constrain_cp_{name}")


@pytest.mark.parametrize("name", HAND_CASES)
def test_hand_derived_optimum_of_the_constraint_program(name):
    hand = HAND_CASES[name]
    case = hand.build()
    objective, starts = solve_program(build_constraint_program(case))
    assert objective == hand.optimum
    assert case.score(starts) == objective  # the program's objective is the score


@pytest.mark.parametrize("name", HAND_CASES)
def test_each_family_of_the_constraint_program_binds_in_its_hand_case(name):
    hand = HAND_CASES[name]
    case = hand.build()
    dropped = family_named(FAMILY_OF_CASE.get(name, name))
    program = build_constraint_program(case, families=[f for f in CP_FAMILIES if f is not dropped])
    assert program is not None and dropped.__name__.removeprefix("constrain_cp_") not in program.families
    objective, _ = solve_program(program)
    assert objective == hand.relaxed < hand.optimum


def test_every_family_of_the_constraint_program_has_a_hand_case():
    named = {FAMILY_OF_CASE.get(name, name) for name in HAND_CASES}
    assert {f.__name__.removeprefix("constrain_cp_") for f in CP_FAMILIES} == named


def random_makespan_carrier(seed: int) -> tuple[Dataset, Scenario]:
    """2-4 sites: durations, lead times, crew needs, dependencies, money, winter, tranches now and then."""
    rng = random.Random(5000 + seed)
    horizon = rng.randint(5, 6)
    sites = []
    for i in range(rng.randint(2, 4)):
        after = [f"s{j}" for j in range(i) if rng.random() < 0.35]
        sites.append(
            site(
                f"s{i}",
                cost=rng.choice([0, 40, 100, 150]),
                duration=rng.choice([1, 1, 2]),
                lead=rng.choice([0, 0, 1, 2]),
                after=after,
                tower=rng.choice([0, 1, 1, 2]),
            )
        )
    winter = float(rng.choice([0, 1])) if rng.random() < 0.5 else None
    crews = (CrewPool("a", "tower", rng.choice([1.0, 2.0]), winter_capacity=winter),)
    carrier = Carrier("a", "A", "NE", 100, own_funds_usd=float(rng.choice([0, 0, 50])))
    ds = Dataset((carrier,), crews, tuple(sites), name=f"cp{seed}")
    fund = float(rng.choice([0, 100, 200, 400, 1000]))
    start = rng.choice(START_MONTHS)
    sc = makespan(fund_usd=fund, horizon=horizon, deadline=horizon, start=start)
    return ds, sc


@pytest.mark.parametrize("seed", range(40))
def test_constraint_program_optimum_equals_enumeration(seed):
    ds, sc = random_makespan_carrier(seed)
    case = case_of(ds, sc)
    if not case.windows:
        return
    objective, starts = solve_program(build_constraint_program(case))
    assert objective == enumerated_optimum(ds, sc)
    assert not breaks_a_rule(ds, sc, starts)
    plan = Plan(ds, sc, {"a": sc.available_usd}, starts, "optimal", objective, None, horizon=sc.horizon)
    assert check_plan(plan) == []


def test_whole_scales_for_crews_and_money():
    assert whole_scale([1.0, 2.0], (1, 10)) == 1
    assert whole_scale([0.5, 2.0], (1, 10, 100)) == 10
    assert whole_scale([0.1 + 0.2], (1, 10)) == 10  # 3.0000000000000004 is whole to 1e-9
    assert whole_scale([1 / 3], (1, 10, 100, 1000)) is None


def test_data_with_no_whole_scale_is_left_to_the_milp():
    """A crew need of a third of a unit has no whole scale: the program is not built, the MILP plans it."""
    ds = dataset([site("one", tower=1 / 3), site("two", tower=1 / 3)], crews=[CrewPool("a", "tower", 0.5)])
    sc = makespan(horizon=4, deadline=4)
    assert build_constraint_program(case_of(ds, sc)) is None
    plan = planner.plan(ds, sc, workers=1)
    assert planner.summary(plan)["makespan"] == 2 and check_plan(plan) == []


def test_a_money_cap_with_cents_is_kept_to_the_cent():
    """Costs of $0.10 and a budget of $0.25: two sites, not three (scaled to cents, the cap rounded down)."""
    sites = [site(f"s{i}", cost=0.1) for i in range(3)]
    ds = dataset(sites, crews=[CrewPool("a", "tower", 3.0)])
    case = case_of(ds, makespan(fund_usd=0.25, horizon=3, deadline=3))
    program = build_constraint_program(case)
    assert program is not None and program.money_scale == 100
    objective, starts = solve_program(program)
    assert len(starts) == 2 and objective == (3 + 1) * 1 + 1


def test_the_engine_returns_the_programs_optimum_with_its_proof():
    result = solve_case_by_constraint_programming(winter_case(), Deadline.after(30), {}, work=DEFAULT_WORK)
    assert result is not None
    assert (result.status, result.objective, result.bound) == ("optimal", 6, 6)
    assert result.starts == {"one": 0, "two": 5} or result.starts == {"one": 5, "two": 0}
