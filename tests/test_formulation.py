"""The MILP formulation itself, solved exactly: hand-derived optima, one per constraint family, that fail if it goes.

`planner.plan` often proves a plan optimal before the MILP runs (the selection bound and the list
schedule meet), so its tests pass even with a family's rows emptied. Here every case is built into
the carrier's model (`build_model`) and solved by `solve_model_exactly`: LP-based branch-and-bound
only, no warm start, no heuristics, no bound from elsewhere. Three kinds of test:

1. each hand case's optimum and schedule, derived in its docstring;
2. mutation: the same case built without one family (or without one of the objective's row
   families) has a strictly better optimum, also derived by hand, so those rows bind there and
   emptying the family fails a test;
3. brute force: tiny random carriers, every schedule enumerated and checked by rules written
   out again here; the best score equals the MILP's optimum, and the MILP's schedule passes
   `check_plan`.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from planner.analysis.verify import check_plan
from planner.core.errors import NotSolved
from planner.core.objective import score
from planner.core.schema import Carrier, CrewPool, Dataset, Plan, Scenario
from planner.engine.solve import solve_case, solve_model_exactly
from planner.model import build
from planner.model.build import CONSTRAINT_FAMILIES, OBJECTIVES, PlanModel, build_model
from planner.model.case import CarrierCase, carrier_case
from planner.model.linear import GE
from tests.conftest import dataset, scenario, site


def case_of(ds: Dataset, sc: Scenario) -> CarrierCase:
    """Carrier `a` of a one-carrier dataset, given the whole fund."""
    return carrier_case(ds, sc, "a", sc.available_usd)


def family_named(name: str):
    return next(f for f in CONSTRAINT_FAMILIES if f.__name__ == f"constrain_{name}")


def without_rows(m: PlanModel, row_family: str) -> PlanModel:
    """The model with every row of one row family (the prefix of its row names) deleted."""
    m.problem = m.problem.without_rows(row_family)
    return m


# ---------------------------------------------------------------- hand-derived cases


def started_once_case() -> CarrierCase:
    """One $100 site, 10 people, 1 month of work, no money; horizon = deadline = 3 months.

    It cannot be bought, so its 10 people stay on covered gear for all 3 months: optimum 10 * 3 = 30,
    nothing replaced. The objective credits pop_s for each period t < L_s with z[s,t] = 1 and the
    budget charges only x_s = z[s,L_s]. Without `started_once` (z[s,t] <= z[s,t+1]) the model may set
    z[s,0] = z[s,1] = 1 yet x_s = z[s,2] = 0, "started in month 0" but never replaced and never paid
    for: 30 - 10 * 2 = 10.
    """
    return case_of(dataset([site("dear", population=10, cost=100)]), scenario(fund_usd=0, horizon=3, deadline=3))


def precedence_case() -> CarrierCase:
    """One crew; 1-month jobs: `town` (100 people), `core` (no people) and `ran` (10 people) behind `core`.

    Horizon = deadline = 4. `town` first (100 * 1), then `core` in month 1, then `ran` in month 2,
    finishing at 3: 100 + 10 * 3 = 130 (`core` first delays `town` to month 1 or 2: at least
    100 * 2 + 10 * 3 = 230; leaving `ran` alone costs 10 * 4 = 40 > 30). The window of `ran` opens
    at 1 (when `core` could finish at the earliest), so only the precedence rows make it wait for
    `core`; without them `ran` runs in month 1 and `core` is not needed at all: 100 + 10 * 2 = 120.
    """
    sites = [site("town", population=100), site("core", kind="core"), site("ran", population=10, after=["core"])]
    return case_of(dataset(sites), scenario(horizon=4, deadline=4))


def crews_case() -> CarrierCase:
    """Two 1-month jobs (100 and 50 people), one crew: the larger first, finishing at 1 and 2: 100 + 50 * 2 = 200.

    Without the crew rows both run in month 0 and finish at 1: 150.
    """
    return case_of(dataset([site("big", population=100), site("small", population=50)]), scenario())


def winter_case() -> CarrierCase:
    """The plan starts in November; one crew, none from December to March; horizon = deadline = 7.

    Two 1-month jobs, 10 and 5 people. `ten` in November (period 0), finishing at 1; `five` has to
    wait for April (period 5), finishing at 6: 10 + 5 * 6 = 40 (leaving it on covered gear costs
    5 * 7 = 35 > 30; `five` first costs 5 + 10 * 6 = 65). Its window is 0..6 because months 0, 5
    and 6 have a crew; only the crew rows, with zero capacity in winter, keep it out of December.
    Without them both run in November: 10 + 5 = 15.
    """
    ds = dataset(
        [site("ten", population=10), site("five", population=5)],
        crews=[CrewPool("a", "tower", 1.0, winter_capacity=0.0)],
    )
    return case_of(ds, scenario(start="2022-11", horizon=7, deadline=7))


def winter_at_the_end_case() -> CarrierCase:
    """September to February (horizon = deadline = 6), $100 for one of two $100 one-month sites.

    `tower` (100 people) needs the tower crew, which stops in December, so its last start is
    November (period 2), not H - d = 5; `splice` (50 people) needs the splice crew, which works all
    year. Buy `tower`, finish at 1: 100 * 1 + 50 * 6 = 400 (buying `splice` instead: 50 + 100 * 6 = 650).
    An objective that charged a replaced site pop * (H - periods before L_s in which it has started)
    instead of pop * finish counted `tower` as finishing at 6 - 2 = 4 (100 * 4 + 300 = 700) and chose
    `splice`.
    """
    ds = dataset(
        [site("tower", population=100, cost=100), site("splice", population=50, cost=100, tower=0, splice=1)],
        crews=[CrewPool("a", "tower", 1.0, winter_capacity=0.0), CrewPool("a", "splice", 1.0)],
    )
    return case_of(ds, scenario(fund_usd=100, start="2022-09", horizon=6, deadline=6))


def budget_case() -> CarrierCase:
    """$100 buys one of two $100 one-month sites (100 and 60 people); horizon 4, deadline 2, one crew.

    Replace the 100 (finish 1); the 60 stay on covered gear to D = 2, then are dark for H - D = 2
    months at weight 100: 100 * 1 + 60 * (2 + 100 * 2) = 12,220. Without the budget row both are
    replaced, one after the other: 100 * 1 + 60 * 2 = 220.
    """
    sites = [site("big", population=100, cost=100), site("small", population=60, cost=100)]
    return case_of(dataset(sites), scenario(fund_usd=100, horizon=4, deadline=2))


def cumulative_funding_case() -> CarrierCase:
    """$200 in two tranches, $100 in January and $100 in March (period 2); two crews; horizon = deadline = 4.

    Two $100 one-month sites, 100 and 50 people. By February only $100 has arrived, so `small`
    waits for March: `big` finishes at 1, `small` at 3: 100 * 1 + 50 * 3 = 250 (leaving `small`
    unreplaced costs 50 * 4 = 200 > 150). Without the cumulative-funding rows the $200 budget alone
    lets both start in January: 100 + 50 = 150.
    """
    sites = [site("big", population=100, cost=100), site("small", population=50, cost=100)]
    tranches = (("2022-01", 100.0), ("2022-03", 100.0))
    sc = scenario(start="2022-01", fund_usd=200, tranches=tranches, horizon=4, deadline=4)
    return case_of(dataset(sites, crews=[CrewPool("a", "tower", 2.0)]), sc)


def exposure_case() -> CarrierCase:
    """One crew; `long` (30 people, 2 months) and `short` (20 people, 1 month); horizon = deadline = 6.

    Exposure counts people times finish month, so the job with more people per month of work goes
    first (20/1 > 30/2): `short` finishes at 1, `long` at 3: 20 + 30 * 3 = 110, against
    30 * 2 + 20 * 3 = 120 the other way round.
    """
    sites = [site("long", population=30, duration=2), site("short", population=20)]
    return case_of(dataset(sites), scenario(horizon=6, deadline=6))


def like_sites_case() -> CarrierCase:
    """One crew; `ten` (10 people) and `five` (5 people), alike in every rule; horizon = deadline = 3.

    Alike sites are one group: the model counts how many have started by each month, and the
    fill (`f[g,q,t]`, the people of the heaviest started sites) prices them. `ten` first (finish 1),
    then `five` (finish 2): 10 + 5 * 2 = 20; the other way round 5 + 10 * 2 = 25, and leaving
    `five` out costs 5 * 3 = 15 against 10. Without the `fill` rows (sum_q f[g,q,t] <= z[g,t]) the
    fill is free: nothing replaced, each person credited months 0 and 1 of a window [0, 2] whose
    last start counts 0 (L + d = U = 3): 10 * 3 + 5 * 3 - (10 + 5) * 2 = 15.
    """
    sites = [site("five", population=5), site("ten", population=10)]
    return case_of(dataset(sites), scenario(horizon=3, deadline=3))


def makespan_case() -> CarrierCase:
    """Makespan objective, one crew, horizon 5: `early` (2 months) and `late` (1 month, equipment in month 2).

    `early` in months 0-1, `late` in month 2, all done at 3: objective 3 (every site replaced, so no
    penalty). Without the `makespan_order` rows (y_t >= y_{t+1}) the months before `late` can start
    are not counted: only y_1 (`early` running) and y_2 (`late` running) must be 1: objective 2.
    Without the `makespan` rows nothing ties y to the work: objective 0.
    """
    sites = [site("early", duration=2), site("late", lead=2)]
    return case_of(dataset(sites), scenario(objective="makespan", horizon=5, deadline=5))


@dataclass(frozen=True)
class HandCase:
    build: Callable[[], CarrierCase]
    optimum: float
    starts: dict[str, int]


HAND_CASES = {
    "started_once": HandCase(started_once_case, 30, {}),
    "precedence": HandCase(precedence_case, 130, {"town": 0, "core": 1, "ran": 2}),
    "crews": HandCase(crews_case, 200, {"big": 0, "small": 1}),
    "winter": HandCase(winter_case, 40, {"ten": 0, "five": 5}),
    "winter_at_the_end": HandCase(winter_at_the_end_case, 400, {"tower": 0}),
    "budget": HandCase(budget_case, 12_220, {"big": 0}),
    "cumulative_funding": HandCase(cumulative_funding_case, 250, {"big": 0, "small": 2}),
    "exposure": HandCase(exposure_case, 110, {"short": 0, "long": 1}),
    "makespan": HandCase(makespan_case, 3, {"early": 0, "late": 2}),
    "like_sites": HandCase(like_sites_case, 20, {"ten": 0, "five": 1}),
}

# (hand case, constraint family left out of build_model, hand-derived optimum without it)
WITHOUT_FAMILY = [
    ("started_once", "started_once", 10),
    ("precedence", "precedence", 120),
    ("crews", "crews", 150),
    ("winter", "crews", 15),
    ("budget", "budget", 220),
    ("cumulative_funding", "cumulative_funding", 150),
]
# (hand case, row family of an objective deleted from the built model, hand-derived optimum without it)
WITHOUT_OBJECTIVE_ROWS = [
    ("makespan", "makespan_order", 2),
    ("makespan", "makespan", 0),
    ("like_sites", "fill", 15),
]


@pytest.mark.parametrize("name", HAND_CASES)
def test_hand_derived_optimum_of_the_milp(name):
    hand = HAND_CASES[name]
    case = hand.build()
    solution = solve_model_exactly(build_model(case))
    assert solution.objective == pytest.approx(hand.optimum)
    assert solution.starts == hand.starts
    assert case.score(solution.starts) == pytest.approx(solution.objective)  # the model's objective is the score


@pytest.mark.parametrize(
    ("name", "family", "relaxed"), WITHOUT_FAMILY, ids=[f"{c}-without-{f}" for c, f, _ in WITHOUT_FAMILY]
)
def test_each_constraint_family_binds_in_its_hand_case(name, family, relaxed):
    """Leaving the family out of the model lets its hand case reach a better, rule-breaking optimum."""
    case = HAND_CASES[name].build()
    full = solve_model_exactly(build_model(case))
    dropped = family_named(family)
    model = build_model(case, families=[f for f in CONSTRAINT_FAMILIES if f is not dropped])
    assert family not in model.families  # no row of it was added
    solution = solve_model_exactly(model)
    assert solution.objective < full.objective - 1e-6
    assert solution.objective == pytest.approx(relaxed)


@pytest.mark.parametrize(
    ("name", "rows", "relaxed"), WITHOUT_OBJECTIVE_ROWS, ids=[r for _, r, _ in WITHOUT_OBJECTIVE_ROWS]
)
def test_each_objective_row_family_binds_in_its_hand_case(name, rows, relaxed):
    case = HAND_CASES[name].build()
    full = solve_model_exactly(build_model(case))
    model = build_model(case)
    assert model.families.get(rows)
    solution = solve_model_exactly(without_rows(model, rows))
    assert solution.objective < full.objective - 1e-6
    assert solution.objective == pytest.approx(relaxed)


def test_every_family_and_objective_has_a_hand_case():
    """A new constraint family or objective must come with a case its rows decide."""
    assert {f.__name__.removeprefix("constrain_") for f in CONSTRAINT_FAMILIES} == {f for _, f, _ in WITHOUT_FAMILY}
    assert {HAND_CASES[name].build().objective for name in HAND_CASES} == set(OBJECTIVES)
    objective_rows = {row for hand in HAND_CASES.values() for row in build_model(hand.build()).families} - {
        f for _, f, _ in WITHOUT_FAMILY
    }
    assert objective_rows == {r for _, r, _ in WITHOUT_OBJECTIVE_ROWS}


def test_solve_case_does_not_certify_a_worse_warm_start():
    """From the schedule that buys `splice` (650), the carrier's solve still finds and proves 400."""
    result = solve_case(winter_at_the_end_case(), 10.0, 0.0, warm_start={"splice": 0})
    assert (result.starts, result.objective, result.status) == ({"tower": 0}, 400, "optimal")


def test_a_broken_model_raises_not_solved_instead_of_returning_an_empty_plan(monkeypatch):
    """Replacing nothing is always a plan, so a model HiGHS proves infeasible is a bug: NotSolved says so."""

    def impossible(m: PlanModel) -> None:  # x_g >= n_g + 1: more sites replaced than the group has
        for lead in m.groups:
            m.add([(m.replaced(lead), 1.0)], GE, m.size(lead) + 1, "impossible", (lead,))

    monkeypatch.setattr(build, "CONSTRAINT_FAMILIES", (*CONSTRAINT_FAMILIES, impossible))
    case = crews_case()
    with pytest.raises(NotSolved, match="bug in planner.model.build"):
        solve_model_exactly(build_model(case))
    with pytest.raises(NotSolved, match="carrier a: HiGHS reports the model infeasible"):
        solve_case(case, 10.0, 0.0, warm_start={"big": 0, "small": 1})


# ---------------------------------------------------------------- brute force against the MILP

START_MONTHS = ("2022-01", "2022-05", "2022-09", "2022-11")  # winter at the start, none, at the end, inside


def random_carrier(seed: int) -> tuple[Dataset, Scenario]:
    """2-4 sites of one carrier: durations, lead times, crew needs, a dependency or two, money, winter."""
    rng = random.Random(seed)
    horizon = rng.randint(5, 6)
    sites = []
    for i in range(rng.randint(2, 4)):
        after = [f"s{j}" for j in range(i) if rng.random() < 0.35]
        splice = {"splice": 1} if rng.random() < 0.2 else {}
        sites.append(
            site(
                f"s{i}",
                population=rng.choice([30, 90] if after else [0, 5, 10, 30, 90]),  # people behind the core
                cost=rng.choice([0, 40, 100, 150]),
                duration=rng.choice([1, 1, 2]),
                lead=rng.choice([0, 0, 1, 2]),
                after=after,
                tower=rng.choice([0, 1, 1, 1, 2]),
                **splice,
            )
        )
    winter = float(rng.choice([0, 1])) if rng.random() < 0.5 else None
    crews = [CrewPool("a", "tower", rng.choice([1.0, 1.0, 2.0]), winter_capacity=winter)]
    if any(s.need("splice") for s in sites):
        crews.append(CrewPool("a", "splice", 1.0))
    carrier = Carrier("a", "A", "NE", 100, own_funds_usd=float(rng.choice([0, 0, 50])))
    ds = Dataset((carrier,), tuple(crews), tuple(sites), name=f"formulation{seed}")
    sc = scenario(
        fund_usd=float(rng.choice([0, 100, 200, 400, 1000, 1000])),
        horizon=horizon,
        deadline=rng.randint(1, horizon),
        start=rng.choice(START_MONTHS),
        objective=rng.choice(["exposure", "exposure", "makespan"]),
        dark_weight=rng.choice([100.0, 1.0, 0.5]),
    )
    return ds, sc


def breaks_a_rule(ds: Dataset, sc: Scenario, starts: dict[str, int]) -> bool:
    """The hard rules, written out again from their wording rather than from the model or the validator."""
    sites = ds.site_by_id
    for site_id, start in starts.items():
        s = sites[site_id]
        if start < s.lead_time_months or start + s.duration_months > sc.horizon:  # equipment, horizon
            return True
        for before in s.depends_on:  # what a site depends on is replaced and finished before it starts
            if before not in starts or starts[before] + sites[before].duration_months > start:
                return True
    money = sc.available_usd + ds.carriers[0].own_funds_usd
    if math.fsum(sites[s].cost_usd for s in starts) > money + 1e-6:
        return True
    pools = {p.crew_type: p for p in ds.crews}
    for month in range(sc.horizon):
        working = [sites[s] for s, start in starts.items() if start <= month < start + sites[s].duration_months]
        for crew_type in {k for s in working for k, _ in s.crew_need}:
            pool = pools.get(crew_type)
            available = pool.available(sc.calendar_month(month)) if pool else 0.0
            if sum(s.need(crew_type) for s in working) > available + 1e-9:
                return True
    return False


def enumerated_optimum(ds: Dataset, sc: Scenario, missed_deadline: str = "shut_down") -> float:
    """Every site either not replaced or started in any month it fits the horizon; the best valid score.

    Along the way the test's rules and `check_plan` must agree on every schedule.
    """
    options = [[None, *range(sc.horizon - s.duration_months + 1)] for s in ds.sites]
    allocation = {"a": sc.available_usd}
    best = math.inf
    for choice in itertools.product(*options):
        starts = {s.site_id: t for s, t in zip(ds.sites, choice, strict=True) if t is not None}
        invalid = breaks_a_rule(ds, sc, starts)
        verdict = check_plan(Plan(ds, sc, allocation, starts, "enumerated", 0.0, None, horizon=sc.horizon))
        assert invalid == bool(verdict), (starts, verdict)
        if not invalid:
            best = min(
                best,
                score(
                    ds.sites, starts, sc.horizon, sc.effective_deadline, sc.objective, sc.dark_weight, missed_deadline
                ),
            )
    return best


@pytest.mark.parametrize("seed", range(80))
def test_milp_optimum_equals_enumeration(seed):
    ds, sc = random_carrier(seed)
    case = case_of(ds, sc)
    solution = solve_model_exactly(build_model(case))
    assert solution.objective == pytest.approx(enumerated_optimum(ds, sc))
    assert case.score(solution.starts) == pytest.approx(solution.objective)
    assert not breaks_a_rule(ds, sc, solution.starts)
    plan = Plan(
        ds, sc, {"a": sc.available_usd}, solution.starts, "optimal", solution.objective, None, horizon=sc.horizon
    )
    assert check_plan(plan) == []


def random_like_carrier(seed: int) -> tuple[Dataset, Scenario]:
    """A hub and 3-4 sites behind it or not, in one or two kinds that are alike in every rule but their people.

    Kinds share cost, duration, lead time, crew need and predecessor, so the model groups them
    (`CarrierCase.like_sites`); money, crews, winter, deadlines and dark weights vary as above.
    """
    rng = random.Random(1000 + seed)
    horizon = rng.randint(4, 5)
    sites = [site("hub", population=rng.choice([0, 20]), cost=rng.choice([0, 50]), lead=rng.choice([0, 1]))]
    kinds = [
        {
            "cost": rng.choice([0, 40, 100]),
            "duration": rng.choice([1, 1, 2]),
            "lead": rng.choice([0, 1]),
            "after": ["hub"] if rng.random() < 0.6 else [],
            "tower": rng.choice([1, 1, 2]),
        }
        for _ in range(rng.choice([1, 2]))
    ]
    for i in range(rng.randint(3, 4)):
        sites.append(site(f"s{i}", population=rng.choice([5, 10, 10, 30, 90]), **kinds[i % len(kinds)]))
    winter = float(rng.choice([0, 1])) if rng.random() < 0.4 else None
    crews = (CrewPool("a", "tower", rng.choice([1.0, 2.0, 2.0]), winter_capacity=winter),)
    carrier = Carrier("a", "A", "NE", 100, own_funds_usd=float(rng.choice([0, 0, 40])))
    ds = Dataset((carrier,), crews, tuple(sites), name=f"like{seed}")
    sc = scenario(
        fund_usd=float(rng.choice([0, 100, 150, 250, 1000])),
        horizon=horizon,
        deadline=rng.randint(1, horizon),
        start=rng.choice(START_MONTHS),
        dark_weight=rng.choice([100.0, 1.0, 0.5]),
        missed_deadline=rng.choice(["shut_down", "shut_down", "keep_running"]),
    )
    return ds, sc


@pytest.mark.parametrize("seed", range(40))
def test_milp_with_groups_of_like_sites_equals_enumeration(seed):
    """Counting like sites per month (and giving the heaviest the earliest starts) loses no schedule and no value."""
    ds, sc = random_like_carrier(seed)
    case = case_of(ds, sc)
    model = build_model(case)
    solution = solve_model_exactly(model)
    assert solution.objective == pytest.approx(enumerated_optimum(ds, sc, sc.missed_deadline))
    assert case.score(solution.starts) == pytest.approx(solution.objective)
    assert not breaks_a_rule(ds, sc, solution.starts)
    plan = Plan(
        ds, sc, {"a": sc.available_usd}, solution.starts, "optimal", solution.objective, None, horizon=sc.horizon
    )
    assert check_plan(plan) == []


def test_the_like_carriers_exercise_groups():
    """Most random like carriers have a group of two or more sites, so the test above checks the grouped rows."""
    grouped = [seed for seed in range(40) if any(len(g) > 1 for g in case_of(*random_like_carrier(seed)).like_sites)]
    assert len(grouped) >= 30


def test_like_sites_groups_only_sites_alike_in_every_rule():
    hub = site("hub", cost=10)
    sites = [
        hub,
        site("a", population=5, cost=20, after=["hub"]),
        site("b", population=9, cost=20, after=["hub"]),
        site("c", population=9, cost=20, after=["hub"]),  # ties on people: by id
        site("dearer", population=50, cost=30, after=["hub"]),
        site("longer", population=50, cost=20, duration=2, after=["hub"]),
        site("alone", population=50, cost=20),  # no predecessor
        site("waited", population=50, cost=20, after=["hub"]),
        site("behind", population=1, cost=20, after=["waited"]),
    ]
    case = case_of(dataset(sites), scenario(horizon=8, deadline=8))
    groups = {g[0]: g for g in case.like_sites}
    assert groups["b"] == ("b", "c", "a")  # heaviest first
    assert all(len(groups[s]) == 1 for s in ("hub", "dearer", "longer", "alone", "waited", "behind"))
    makespan = case_of(dataset(sites), scenario(horizon=8, deadline=8, objective="makespan"))
    assert all(len(g) == 1 for g in makespan.like_sites)  # population does not order a makespan


def test_sites_that_would_finish_after_their_unreplaced_months_stay_single():
    """With dark weight 0.5, a site not replaced counts D + 0.5 (H - D) = 3 months < a finish at 4: no groups."""
    sites = [site("a", population=5), site("b", population=9)]
    case = case_of(dataset(sites), scenario(horizon=4, deadline=2, dark_weight=0.5))
    assert all(len(g) == 1 for g in case.like_sites)
