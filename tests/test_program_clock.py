"""Issue 10: the program's real clock and money.

Presets that match the record (47 CFR 1.50004 priority tiers, the FCC's 39.5% factor),
tranches (money arriving over time), each applicant's own deadline and extensions, and
what happens to a site not replaced by its carrier's deadline.
"""

from __future__ import annotations

import csv
import itertools
import json
import random
from dataclasses import replace

import pytest

import planner
from planner import InputError
from planner.analysis.replan import replan_carrier
from planner.cli.main import run
from planner.core.clock import fund_arrivals
from planner.core.schema import Carrier, CrewPool, Plan, Scenario
from planner.engine.allocation import allocate, applied_pro_rata_factor, pro_rata
from planner.engine.heuristics import serial_schedule
from planner.engine.solve import solve_case
from planner.inputs.io import read_scenario, scenario_toml, write_dataset
from planner.inputs.presets import load_preset
from planner.inputs.validation import check_against_scenario
from planner.model.build import build_model
from planner.model.case import carrier_case
from tests.conftest import ROOT, dataset, scenario, site

FACTS = {row["key"]: float(row["value"]) for row in csv.DictReader(open(ROOT / "datasets/reference/program_facts.csv"))}


# --- presets that match the record ---------------------------------------------------------


def test_appropriation_2020_pays_priority_1_at_the_fccs_factor_and_priorities_2_3_nothing(rural40):
    """rural40's Priority 1 demand is $4,640,272,000 ($12,672 under priority1_estimates_2022), so the
    $1,832,912,445 the preset makes available (0.395 x $4,640,284,672) is 0.3950011 of it."""
    chosen = load_preset("appropriation-2020", rural40.default_scenario)
    allocation = allocate(rural40, chosen)
    factor = applied_pro_rata_factor(rural40, chosen)
    assert round(factor, 4) == FACTS["pro_rata_factor_2022"] == 0.395
    assert factor == pytest.approx(0.395, abs=2e-6)
    for carrier in rural40.carriers:
        demand = rural40.demand_usd(carrier.carrier_id)
        expected = factor * demand if carrier.priority == 1 else 0.0
        assert allocation[carrier.carrier_id] == pytest.approx(expected, abs=0.01), carrier.carrier_id
    assert {c.priority for c in rural40.carriers} == {1, 2, 3}  # the tiers are really exercised
    assert sum(allocation.values()) == pytest.approx(chosen.available_usd, abs=1.0)


def test_summary_reports_the_factor_the_priority_rule_applied(tmp_path):
    """Tier 1 demands 100 + 100, tier 2 demands 100; 120 available: tier 1 gets 0.6, tier 2 nothing."""
    carriers = (Carrier("a", "A", "TX", 1000, priority=1), Carrier("b", "B", "TX", 1000, priority=1))
    carriers += (Carrier("c", "C", "TX", 3_000_000, priority=2),)
    ds = dataset(
        [site("a1", "a", population=5, cost=100), site("b1", "b", population=5, cost=100), site("c1", "c", cost=100)],
        carriers=carriers,
    )
    ds = ds.__class__(ds.carriers, ds.crews, ds.sites, name="tiers", default_scenario=scenario(horizon=4, deadline=2))
    folder = write_dataset(ds, tmp_path / "tiers")
    scenario_file = tmp_path / "tiers.toml"
    scenario_file.write_text('rule = "priority"\nfund_usd = 150\nadmin_reserve_usd = 30\n')
    out = tmp_path / "out"
    assert run(["solve", str(folder), "--scenario", str(scenario_file), "--out", str(out), "--quiet"]) == 0
    figures = json.loads((out / "summary.json").read_text())
    assert figures["pro_rata_factor"] == pytest.approx(0.6)
    assert figures["priority_tier_factors"] == {"1": pytest.approx(0.6), "2": 0.0}
    allocation = {r["carrier_id"]: float(r["allocation_usd"]) for r in csv.DictReader(open(out / "carriers.csv"))}
    assert allocation == {"a": pytest.approx(60), "b": pytest.approx(60), "c": 0.0}


def test_priority_factor_is_one_when_every_tier_is_paid():
    ds = dataset([site("a1", "a", cost=100)])
    assert applied_pro_rata_factor(ds, Scenario(fund_usd=500, rule="priority")) == 1.0
    assert applied_pro_rata_factor(ds, Scenario(fund_usd=500, rule="optimal")) is None


# --- tranches ------------------------------------------------------------------------------


def two_sites(own_funds_usd=0.0):
    """One carrier, one tower crew, two one-month sites of $100: 20 and 10 people."""
    carriers = (Carrier("a", "A", "TX", 1000, own_funds_usd=own_funds_usd),)
    return dataset([site("s1", population=20, cost=100), site("s2", population=10, cost=100)], carriers=carriers)


MARCH_AND_MAY = (("2022-03", 100.0), ("2022-05", 100.0))  # start 2022-01: periods 2 and 4


def tranche_scenario(tranches=MARCH_AND_MAY, **overrides):
    fund = sum(usd for _, usd in tranches)
    return scenario(start="2022-01", horizon=6, fund_usd=fund, tranches=tranches, **overrides)


def test_no_work_starts_before_the_money_arrives_and_draws_stay_within_what_arrived():
    """Half the fund arrives in period 2, half in period 4; the carrier is allocated all $200.

    By period 1 it has $0, by 3 $100, from 4 $200: s1 (20 people) starts in 2 and finishes in 3,
    s2 starts in 4 and finishes in 5: 20 x 3 + 10 x 5 = 110 (swapped: 10 x 3 + 20 x 5 = 130).
    With all the money at the start it would be 20 x 1 + 10 x 2 = 40.
    """
    ds = two_sites()
    result = planner.plan(ds, tranche_scenario(), workers=1)
    assert result.starts == {"s1": 2, "s2": 4}
    assert result.objective == pytest.approx(110)
    assert planner.check_plan(result) == []
    upfront = planner.plan(ds, scenario(start="2022-01", horizon=6, fund_usd=200), workers=1)
    assert upfront.starts == {"s1": 0, "s2": 1} and upfront.objective == pytest.approx(40)


def test_the_milp_itself_holds_the_cumulative_funding_rows():
    ds = two_sites()
    case = carrier_case(ds, tranche_scenario(), "a", 200.0)
    assert case.money_steps == ((1, 0.0), (3, 100.0))
    model = build_model(case)
    assert model.families["cumulative_funding"] == [("a", 1), ("a", 3)]
    result = solve_case(case, 10.0, 0.0)  # the MILP from no warm start
    assert result.starts == {"s1": 2, "s2": 4} and result.objective == pytest.approx(110)
    assert serial_schedule(case) == {"s1": 2, "s2": 4}  # the list schedule (warm start) obeys it too


def test_own_funds_are_there_from_the_start():
    """$100 of own funds: s1 starts at once (period 0); s2 needs $200 in hand, which is there from
    period 2 (own 100 + half of the 200 allocation): 20 x 1 + 10 x 3 = 50."""
    result = planner.plan(two_sites(own_funds_usd=100), tranche_scenario(), workers=1)
    assert result.starts == {"s1": 0, "s2": 2} and result.objective == pytest.approx(50)
    assert planner.check_plan(result) == []


def test_each_carrier_draws_only_its_share_of_what_arrived():
    """$100 arrives in period 0 and $100 in period 3; two carriers get $100 each, so each may draw $50
    by period 2. Each starts its 10-person site at 0 and its 5-person site at 3: 2 x (10 + 5 x 4) = 60
    (if a carrier could take the whole first tranche it would finish both by 2: 10 + 5 x 2 = 20)."""
    sites = [site(f"{c}{i}", c, population=pop, cost=50) for c in "ab" for i, pop in ((1, 10), (2, 5))]
    ds = dataset(sites)
    sc = tranche_scenario((("2022-01", 100.0), ("2022-04", 100.0)))
    result = planner.plan(ds, sc, workers=1)
    assert result.allocation_usd == {"a": 100.0, "b": 100.0}
    assert result.starts == {"a1": 0, "a2": 3, "b1": 0, "b2": 3}
    assert result.objective == pytest.approx(60)
    assert planner.check_plan(result) == []
    monthly = planner.monthly_table(result)
    assert list(monthly["fund_arrived_usd"][:4]) == [100, 0, 0, 100]
    assert list(monthly["fund_drawn_at_start_usd"][:4]) == [100, 0, 0, 100]
    assert (monthly["cumulative_fund_drawn_at_start_usd"] <= monthly["cumulative_fund_arrived_usd"] + 1e-9).all()


def test_the_validator_catches_a_draw_before_the_money_arrives():
    ds = two_sites()
    sc = tranche_scenario()
    early = Plan(ds, sc, {"a": 200.0}, {"s1": 0, "s2": 4}, "hand", 0.0, None, horizon=6)
    problems = planner.check_plan(early)
    assert len(problems) == 1 and "by period 0 (2022-01)" in problems[0] and "0.00 is in hand" in problems[0]
    assert planner.check_plan(replace(early, starts={"s1": 2, "s2": 4})) == []


@pytest.mark.parametrize("rule", ["greedy", "optimal", "priority"])
def test_every_rule_respects_the_tranches(rule):
    sites = [site(f"{c}{i}", c, population=pop, cost=50) for c in "ab" for i, pop in ((1, 10), (2, 5))]
    sc = tranche_scenario((("2022-01", 60.0), ("2022-04", 100.0)), rule=rule)
    result = planner.plan(dataset(sites), sc, workers=1)
    assert planner.check_plan(result) == []
    if rule == "optimal":  # never worse than pro rata, tranches on
        assert result.objective <= planner.plan(dataset(sites), replace(sc, rule="pro_rata"), workers=1).objective


def random_tranche_case(seed: int):
    rng = random.Random(seed)
    sites, carriers, crews = [], [], []
    for c in ("a", "b")[: rng.randint(1, 2)]:
        carriers.append(Carrier(c, c, "NE", 100, own_funds_usd=float(rng.choice([0, 0, 50]))))
        crews.append(CrewPool(c, "tower", float(rng.randint(1, 2))))
        ids = []
        for i in range(rng.randint(1, 3)):
            after = [j for j in ids if rng.random() < 0.4]
            sites.append(
                site(
                    f"{c}{i}",
                    c,
                    population=rng.randint(0, 90),
                    cost=float(rng.choice([0, 40, 100, 150])),
                    duration=rng.randint(1, 2),
                    lead=rng.randint(0, 1),
                    after=after,
                )
            )
            ids.append(f"{c}{i}")
    months = sorted(rng.sample(["2021-12", "2022-01", "2022-02", "2022-03", "2022-04", "2022-06"], rng.randint(1, 3)))
    tranches = tuple((m, float(rng.choice([50, 100, 200]))) for m in months)
    sc = scenario(
        start="2022-01",
        horizon=5,
        fund_usd=sum(u for _, u in tranches),
        tranches=tranches,
        deadline=rng.randint(1, 4),
        missed_deadline=rng.choice(["shut_down", "keep_running"]),
    )
    return planner.Dataset(tuple(carriers), tuple(crews), tuple(sites), name=f"tranches{seed}"), sc


@pytest.mark.parametrize("seed", range(25))
def test_with_tranches_the_solver_agrees_with_enumerating_every_schedule(seed):
    ds, sc = random_tranche_case(seed)
    result = planner.plan(ds, sc, workers=1)
    assert planner.check_plan(result) == []
    allocation = pro_rata(ds, sc)
    best = None
    for choice in itertools.product(*[[None, *range(sc.horizon - s.duration_months + 1)] for s in ds.sites]):
        starts = {s.site_id: t for s, t in zip(ds.sites, choice, strict=True) if t is not None}
        if planner.check_plan(Plan(ds, sc, allocation, starts, "enumerated", 0.0, None, horizon=sc.horizon)):
            continue
        value = planner.objective_value(ds, sc, starts, sc.horizon)
        best = value if best is None else min(best, value)
    assert result.objective == pytest.approx(best)
    assert result.status == "optimal"


def test_tranches_in_a_scenario_file_make_the_fund_and_round_trip(tmp_path):
    path = tmp_path / "program.toml"
    path.write_text(
        'start = "2022-08"\n\n[[tranches]]\nmonth = "2022-07"\nusd = 1895000000\n\n'
        '[[tranches]]\nmonth = "2025-04"\nusd = 3080000000\n'
    )
    chosen = read_scenario(path)
    assert chosen.fund_usd == 4_975_000_000
    assert chosen.tranches == (("2022-07", 1.895e9), ("2025-04", 3.08e9))
    assert fund_arrivals(chosen) == ((0, 1.895e9), (32, 3.08e9))  # July 2022 money is in hand at the start
    again = tmp_path / "again.toml"
    again.write_text(scenario_toml(chosen))
    assert read_scenario(again) == chosen
    assert chosen.with_overrides(fund_usd=5.0).tranches == ()  # a fund alone is one tranche at the start


def test_tranches_that_disagree_with_the_fund_name_the_file_key_and_value(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        'fund_usd = 100\n[[tranches]]\nmonth = "2022-09"\nusd = 60\n[[tranches]]\nmonth = "2022-13"\nusd = 1\n'
    )
    with pytest.raises(InputError) as bad:
        read_scenario(path)
    found = {(i.file, i.column, i.rule, i.value) for i in bad.value.issues}
    assert ("bad.toml", "tranches[2].month", "bad-month", "2022-13") in found
    path.write_text('fund_usd = 100\n[[tranches]]\nmonth = "2022-09"\nusd = 60\n')
    with pytest.raises(InputError) as disagree:
        read_scenario(path)
    (issue,) = disagree.value.issues
    assert (issue.file, issue.row, issue.column, issue.rule, issue.value) == (
        "bad.toml",
        1,
        "fund_usd",
        "fund-disagrees-with-tranches",
        "100",
    )


# --- each applicant's clock, and missing it ------------------------------------------------


def unaffordable_pair(extensions_a=2):
    """Carriers a and b, one $1,000 site of 7 people each; the fund is $10, arriving in March 2022."""
    carriers = (
        Carrier("a", "A", "TX", 1000, extensions=extensions_a),
        Carrier("b", "B", "TX", 1000),  # no extensions of its own: the scenario's one
    )
    ds = dataset(
        [site("a1", "a", population=7, cost=1000), site("b1", "b", population=7, cost=1000)], carriers=carriers
    )
    sc = scenario(start="2022-01", horizon=20, deadline=3, extensions=1, fund_usd=10, tranches=(("2022-03", 10.0),))
    return ds, sc


def test_each_carrier_has_its_own_deadline_from_the_first_money_plus_its_extensions():
    """The money first arrives in period 2. a: 2 + 3 + 2 x 6 = 17 (2023-06); b: 2 + 3 + 1 x 6 = 11
    (2022-12). Neither can buy its site, so each site is on covered gear to its carrier's deadline and
    dark after it (weight 100): 7 x (17 + 100 x 3) + 7 x (11 + 100 x 9) = 2219 + 6377 = 8596."""
    ds, sc = unaffordable_pair()
    result = planner.plan(ds, sc, workers=1)
    assert result.starts == {}
    assert result.objective == pytest.approx(8596)
    carriers = planner.carriers_table(result).set_index("carrier_id")
    assert carriers.loc["a", "deadline_period"] == 17 and carriers.loc["a", "deadline_month"] == "2023-06"
    assert carriers.loc["b", "deadline_period"] == 11 and carriers.loc["b", "deadline_month"] == "2022-12"
    assert list(carriers["extensions"]) == [2, 1]
    figures = planner.summary(result)
    assert figures["dark_population_months"] == 7 * 3 + 7 * 9
    assert figures["exposure_population_months"] == 7 * 17 + 7 * 11
    assert figures["carrier_deadline_months"] == ["2022-12", "2023-06"]
    case = carrier_case(ds, sc, "a", result.allocation_usd["a"])
    assert case.deadline == 17 and case.score({}) == pytest.approx(2219)  # the MILP's own constant term


def test_a_later_deadline_lets_the_optimiser_prefer_the_carrier_whose_people_would_go_dark_sooner():
    """One crew-month of money, two carriers with a $100 site of 10 people each; the optimal rule buys
    one. a's deadline is 2 + 12 = 14, b's 2: unreplaced, a's site costs 10 x (14 + 100 x 6) = 6140,
    b's 10 x (2 + 100 x 18) = 18020, so the fund buys b's."""
    carriers = (Carrier("a", "A", "TX", 1000, extensions=2), Carrier("b", "B", "TX", 1000, extensions=0))
    ds = dataset(
        [site("a1", "a", population=10, cost=100), site("b1", "b", population=10, cost=100)], carriers=carriers
    )
    sc = scenario(start="2022-01", horizon=20, deadline=2, fund_usd=100, rule="optimal")
    result = planner.plan(ds, sc, workers=1)
    assert set(result.starts) == {"b1"} and result.allocation_usd["b"] == pytest.approx(100)
    assert result.objective == pytest.approx(6140 + 10 * 1)
    assert planner.check_plan(result) == []


def test_keep_running_leaves_nobody_dark_and_says_so():
    """Kept running on covered gear past the deadline: each unreplaced site counts 7 x H = 7 x 20."""
    ds, sc = unaffordable_pair()
    kept = planner.plan(ds, replace(sc, missed_deadline="keep_running"), workers=1)
    assert kept.objective == pytest.approx(2 * 7 * 20)
    figures = planner.summary(kept)
    assert figures["missed_deadline"] == "keep_running" and "keep running" in figures["missed_deadline_assumed"]
    assert (figures["population_left_without_service"], figures["dark_population_months"]) == (0, 0)
    assert figures["population_unreplaced"] == 14
    assert planner.monthly_table(kept)["population_without_service"].sum() == 0
    shut = planner.summary(planner.plan(ds, sc, workers=1))
    assert shut["missed_deadline"] == "shut_down" and "shut down" in shut["missed_deadline_assumed"]
    assert shut["population_left_without_service"] == 14
    monthly = planner.monthly_table(planner.plan(ds, sc, workers=1))
    assert list(monthly["population_without_service"][10:18]) == [0, 7, 7, 7, 7, 7, 7, 14]  # b from 11, a from 17


def test_keep_running_changes_what_the_milp_prefers():
    """Money for one of two $100 sites, one crew: s1 (10 people, 3 months of work), s2 (12 people, 1 month),
    deadline 2, horizon 6. Shut down: leaving s2 costs 12 x (2 + 100 x 4) = 4824, leaving s1 costs
    10 x 402 = 4020, so the model buys s2 (12 x 1 + 4020 = 4032 against 10 x 3 + 4824 = 4854). Kept
    running the unreplaced site counts pop x 6: s2 bought gives 12 + 60 = 72, s1 bought 30 + 72 = 102."""
    ds = dataset([site("s1", population=10, cost=100, duration=3), site("s2", population=12, cost=100)])
    sc = scenario(horizon=6, deadline=2, fund_usd=100)
    for policy, objective in (("shut_down", 4032), ("keep_running", 72)):
        case = carrier_case(ds, replace(sc, missed_deadline=policy), "a", 100.0)
        result = solve_case(case, 10.0, 0.0)
        assert result.starts == {"s2": 0} and result.objective == pytest.approx(objective)


def test_carriers_csv_extensions_column_is_read_written_and_shown(tmp_path):
    ds, sc = unaffordable_pair(extensions_a=3)
    ds = replace(ds, default_scenario=sc, name="clock")
    folder = write_dataset(ds, tmp_path / "clock")
    assert "extensions" in (folder / "carriers.csv").read_text().splitlines()[0]
    again = planner.read_dataset(folder)
    assert [c.extensions for c in again.carriers] == [3, None]
    assert again.default_scenario.tranches == (("2022-03", 10.0),)
    out = tmp_path / "out"
    assert run(["solve", str(folder), "--out", str(out), "--quiet"]) == 0
    shown = {r["carrier_id"]: r for r in csv.DictReader(open(out / "carriers.csv"))}
    assert (shown["a"]["deadline_month"], shown["b"]["deadline_month"]) == ("2023-12", "2022-12")  # 2+3+18, 2+3+6
    bad = folder / "carriers.csv"
    bad.write_text(bad.read_text().replace(",3\n", ",-1\n"))
    with pytest.raises(InputError) as wrong:
        planner.read_dataset(folder)
    assert any(i.column == "extensions" and i.value == "-1" for i in wrong.value.issues)


def test_program_as_run_uses_the_two_real_tranches_and_each_applicants_clock(rural40):
    chosen = load_preset("program-as-run", rural40.default_scenario)
    assert chosen.tranches == (
        ("2022-07", FACTS["appropriation_2020"]),
        ("2025-04", FACTS["second_tranche_available_2025_04"]),
    )
    assert chosen.fund_usd == FACTS["appropriation_2020"] + FACTS["shortfall_funded_2024"] == 4.975e9
    assert chosen.rule == "priority" and chosen.deadline == FACTS["term_months"]
    # rural40 starts in 2022-08: the July 2022 money is in hand at once, April 2025 is period 32
    assert fund_arrivals(chosen) == ((0, 1.895e9), (32, 3.08e9))
    case = carrier_case(rural40, chosen, "c01", 1e9)
    assert case.arrival_steps == ((31, pytest.approx(1.895 / 4.975)),)
    assert case.deadline == 12 + 6  # first money in period 0, one extension


def test_replanning_one_carrier_keeps_its_tranche_timing():
    """The carrier of the two-carrier tranche case, re-planned alone with its $100: still $50 by period 2."""
    sites = [site(f"{c}{i}", c, population=pop, cost=50) for c in "ab" for i, pop in ((1, 10), (2, 5))]
    national = planner.plan(dataset(sites), tranche_scenario((("2022-01", 100.0), ("2022-04", 100.0))), workers=1)
    alone = replan_carrier(national, "a")
    assert alone.scenario.tranches == (("2022-01", 50.0), ("2022-04", 50.0))
    assert alone.starts == {"a1": 0, "a2": 3} and planner.check_plan(alone) == []


def test_a_tranche_after_the_horizon_is_a_warning_and_its_money_is_never_drawn():
    """$100 now, $100 in period 8 of a 6-month plan: the carrier may draw $100 only, so buys one site."""
    ds = two_sites()
    sc = tranche_scenario((("2022-01", 100.0), ("2022-09", 100.0)))
    (warning,) = [i for i in check_against_scenario(ds, sc) if i.rule == "tranche-after-horizon"]
    assert warning.severity == "warning" and warning.column == "tranches[2].month"
    result = planner.plan(ds, sc, workers=1)
    assert result.starts == {"s1": 0} and planner.check_plan(result) == []
