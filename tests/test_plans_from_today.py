"""Plans from today: what sites.csv says is done is kept as it is, its money is spent, only the rest is planned.

Every optimum below is derived by hand in its docstring and reached twice: through `planner.plan`
(list schedule, selection, MILP) and through the bare MILP of one carrier
(`solve_model_exactly(build_model(case))`), whose point lists only the planned sites.
`check_plan` must accept each plan and refuse one that moves the record or plans before `as_of`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from planner import InputError, read_dataset
from planner.analysis.reports import schedule_table, summary
from planner.analysis.verify import check_plan
from planner.core.schema import Carrier, CrewPool, Dataset, Scenario, Site
from planner.engine.planning import plan
from planner.engine.solve import solve_model_exactly
from planner.inputs.io import write_dataset
from planner.inputs.validation import check_against_scenario
from planner.model.build import build_model
from planner.model.case import carrier_case

SCENARIO = Scenario(fund_usd=300.0, start="2023-03", horizon=12, deadline=12, time_limit_s=10, mip_gap=0.0)


def site(site_id: str, **fields) -> Site:
    values = {
        "site_id": site_id,
        "carrier_id": "c",
        "kind": "ran",
        "cost_usd": 100.0,
        "duration_months": 1,
        "crew_need": (("tower", 1.0),),
    }
    return Site(**(values | fields))


def one_carrier(*sites: Site) -> Dataset:
    return Dataset((Carrier("c", "Carrier", "ND", 100),), (CrewPool("c", "tower", 1.0),), sites)


def spent_money_dataset() -> Dataset:
    """r1 was replaced in 2023-01 for $200; p1 ($150, 500 people) and p2 ($100, 50 people) are planned."""
    return one_carrier(
        site("r1", cost_usd=200.0, population=100, status="replaced", started="2023-01"),
        site("p1", cost_usd=150.0, population=500),
        site("p2", cost_usd=100.0, population=50),
    )


def test_a_replaced_site_is_kept_and_its_money_is_spent():
    """Fund $300 (the carrier's whole share: pro rata of one carrier). r1 cost $200 already, so $100 is left:
    p1 ($150) is unaffordable, p2 ($100) is bought and starts at once. Without the record the
    plan would buy p1 (500 people) instead.

    Objective (H = D = 12, so an unreplaced person counts 12 months): r1 finished in period -1,
    before start: 0 months; p2 finishes in 1: 50 x 1; p1 unreplaced: 500 x 12. Total 6,050.
    """
    dataset = spent_money_dataset()
    done = plan(dataset, SCENARIO, workers=1)
    assert done.starts == {"r1": -2, "p2": 0} and done.allocation_usd == {"c": 300.0}
    assert done.objective == 6_050.0 and done.status == "optimal"
    assert check_plan(done) == []
    table = schedule_table(done).set_index("site_id")
    assert table.loc["r1", "status"] == "done" and table.loc["r1", "month"] == "2023-01"
    assert table.loc["p2", "status"] == "planned" and table.loc["p1", "status"] == "not replaced"

    exact = solve_model_exactly(build_model(carrier_case(dataset, SCENARIO, "c", 300.0)))
    assert exact.starts == {"p2": 0} and exact.objective == pytest.approx(6_050.0)
    figures = summary(done)  # r1 finished before start: 0 months on covered gear; p2 1 x 50; p1 12 x 500
    assert figures["exposure_population_months"] == 6_050.0 and figures["recorded_spend_usd"] == 200.0
    assert (figures["as_of"], figures["sites_done_before_as_of"], figures["sites_in_progress_at_as_of"]) == (
        "2023-03",
        1,
        0,
    )

    # the same sites with nothing done: $300 buys p1 and p2 ($250), not r1
    fresh = replace(dataset, sites=tuple(replace(s, status="planned", started="") for s in dataset.sites))
    assert set(plan(fresh, SCENARIO, workers=1).starts) == {"p1", "p2"}


def crew_dataset() -> Dataset:
    """ip has been in progress since 2023-04 (period 1) for 3 months on the only tower crew; q needs that
    crew for a month; w needs no crew at all."""
    return one_carrier(
        site("ip", population=30, duration_months=3, status="in_progress", started="2023-04"),
        site("q", population=100),
        site("w", population=10, crew_need=()),
    )


def test_work_in_progress_holds_the_only_crew_and_nothing_is_planned_before_as_of():
    """as_of 2023-05 (period 2). ip keeps start 1 and the crew in periods 2 and 3, so q waits for period 4;
    w needs no crew but may not start before as_of: period 2.

    Objective: ip finishes in 4: 30 x 4 = 120; q in 5: 100 x 5 = 500; w in 3: 10 x 3 = 30. Total 650.
    """
    dataset = crew_dataset()
    scenario = SCENARIO.with_overrides(fund_usd=1_000.0, as_of="2023-05")
    done = plan(dataset, scenario, workers=1)
    assert done.starts == {"ip": 1, "q": 4, "w": 2}
    assert done.objective == 650.0 and done.status == "optimal"
    assert check_plan(done) == []
    assert schedule_table(done).set_index("site_id").loc["ip", "status"] == "in progress"

    exact = solve_model_exactly(build_model(carrier_case(dataset, scenario, "c", 1_000.0)))
    assert exact.starts == {"q": 4, "w": 2} and exact.objective == pytest.approx(650.0)


def test_the_validator_refuses_a_moved_record_and_work_planned_before_as_of():
    dataset = crew_dataset()
    scenario = SCENARIO.with_overrides(fund_usd=1_000.0, as_of="2023-05")
    done = plan(dataset, scenario, workers=1)
    moved = replace(done, starts={**done.starts, "ip": 2})
    assert any("in progress since 2023-04 (period 1) but the plan starts it in 2" in p for p in check_plan(moved))
    early = replace(done, starts={**done.starts, "w": 1})
    assert any("w: planned to start in 1, before as_of 2023-05" in p for p in check_plan(early))
    crowded = replace(done, starts={**done.starts, "q": 3})  # ip still holds the only crew in period 3
    assert any("1 tower crew units in period 3" in p for p in check_plan(crowded))
    forgotten = replace(done, starts={k: v for k, v in done.starts.items() if k != "ip"})
    assert any(p.startswith("ip: in progress since 2023-04") for p in check_plan(forgotten))


def test_a_record_that_spent_more_than_the_allocation_plans_nothing_more():
    """Fund $150: r1's $200 already exceeds it, so nothing more is bought (not an infeasible model)."""
    dataset = spent_money_dataset()
    done = plan(dataset, SCENARIO.with_overrides(fund_usd=150.0), workers=1)
    assert done.starts == {"r1": -2} and check_plan(done) == []
    overspent = replace(done, starts={**done.starts, "p2": 0})
    assert any(p.startswith("c: spends") for p in check_plan(overspent))


def test_the_status_columns_round_trip_through_the_files(tmp_path):
    dataset = spent_money_dataset()
    write_dataset(dataset, tmp_path / "data")
    again = read_dataset(tmp_path / "data")
    assert [(s.site_id, s.status, s.started) for s in again.sites] == [
        ("r1", "replaced", "2023-01"),
        ("p1", "planned", ""),
        ("p2", "planned", ""),
    ]


def test_recorded_work_after_as_of_is_refused_with_its_row():
    """ip started 2023-06, after as_of 2023-05; r1 is replaced but its 3 months from 2023-03 end in 2023-06."""
    dataset = one_carrier(
        site("ip", status="in_progress", started="2023-06", line=2),
        site("r1", duration_months=3, status="replaced", started="2023-03", line=3),
    )
    issues = check_against_scenario(dataset, SCENARIO.with_overrides(as_of="2023-05"))
    found = sorted((i.row, i.column, i.rule, i.value) for i in issues if i.severity == "error")
    assert found == [(2, "started", "started-after-as-of", "2023-06"), (3, "started", "replaced-unfinished", "2023-03")]
    with pytest.raises(InputError):
        plan(dataset, SCENARIO.with_overrides(as_of="2023-05"))


def test_a_scenario_made_in_code_with_a_bad_as_of_is_refused_not_crashed():
    with pytest.raises(InputError) as excinfo:
        plan(spent_money_dataset(), SCENARIO.with_overrides(as_of="May 2023"))
    assert [(i.column, i.rule, i.value) for i in excinfo.value.issues] == [("as_of", "bad-month", "May 2023")]


@pytest.mark.parametrize("as_of", ["2023-02", "2024-03"])
def test_as_of_outside_the_horizon_is_refused(as_of):
    """Start 2023-03, 12 months: as_of must lie in 2023-03 .. 2024-02."""
    issues = check_against_scenario(spent_money_dataset(), SCENARIO.with_overrides(as_of=as_of))
    assert [(i.column, i.rule, i.value) for i in issues] == [("as_of", "as-of-outside-horizon", as_of)]


def test_as_of_on_the_command_line_and_its_error(tmp_path, capsys):
    from planner.cli.main import run

    folder = write_dataset(crew_dataset(), tmp_path / "data")
    (folder / "scenario.toml").write_text('fund_usd = 1000\nstart = "2023-03"\nhorizon = 12\ndeadline = 12\n')
    code = run(["solve", str(folder), "--as-of", "2023-05", "--out", str(tmp_path / "out"), "--quiet", "--no-store"])
    assert code == 0
    schedule = (tmp_path / "out" / "schedule.csv").read_text()
    assert "status" in schedule.splitlines()[0] and "in progress" in schedule
    code = run(["solve", str(folder), "--as-of", "2023-05", "--out", str(tmp_path / "again"), "--no-store"])
    assert code == 0 and "as of 2023-05     0 sites done, 1 in progress ($100 spent)" in capsys.readouterr().out
    code = run(["solve", str(folder), "--as-of", "2023-01", "--out", str(tmp_path / "bad"), "--quiet", "--no-store"])
    assert code == 2 and "[rule: as-of-outside-horizon]" in capsys.readouterr().err
    assert not Path(tmp_path / "bad" / "summary.json").exists()


@pytest.mark.parametrize("rule", ["pro_rata", "priority", "optimal", "greedy"])
def test_every_rule_keeps_the_record_and_pays_for_it_first(rule):
    """The same hand optimum as above under every rule: r1 kept, its $200 spent, p2 bought ($100 left)."""
    done = plan(spent_money_dataset(), SCENARIO.with_overrides(rule=rule), workers=1)
    assert done.starts == {"r1": -2, "p2": 0} and done.allocation_usd == {"c": 300.0}
    assert check_plan(done) == []


def test_money_spent_before_start_waits_for_the_next_tranche():
    """$150 arrives in 2023-03 and $150 in 2023-06 (period 3). r1's $200 was spent before start, more than the
    $150 in hand, so p2 ($100) can start only when the second tranche brings the total to $300: period 3.
    Objective: p2 finishes in 4: 50 x 4; p1 unreplaced: 500 x 12. Total 6,200.
    """
    scenario = SCENARIO.with_overrides(tranches=(("2023-03", 150.0), ("2023-06", 150.0)))
    done = plan(spent_money_dataset(), scenario, workers=1)
    assert done.starts == {"r1": -2, "p2": 3} and done.objective == 6_200.0
    assert check_plan(done) == []
    early = replace(done, starts={**done.starts, "p2": 2})
    assert any("c: has started" in p and "by period 2" in p for p in check_plan(early))
    exact = solve_model_exactly(build_model(carrier_case(spent_money_dataset(), scenario, "c", 300.0)))
    assert exact.starts == {"p2": 3} and exact.objective == pytest.approx(6_200.0)


def brute_force_optimum(dataset: Dataset, scenario: Scenario, allocation_usd: float) -> float:
    """The least objective over every start (or none) of every planned site that `check_plan` accepts."""
    from itertools import product

    from planner.core.clock import recorded_starts
    from planner.core.objective import objective_value
    from planner.core.schema import Plan

    fixed = recorded_starts(dataset.sites, scenario)
    planned = [s for s in dataset.sites if not s.fixed]
    choices = [None, *range(scenario.horizon)]
    best = float("inf")
    for picks in product(choices, repeat=len(planned)):
        starts = {**fixed, **{s.site_id: t for s, t in zip(planned, picks, strict=True) if t is not None}}
        candidate = Plan(dataset, scenario, {"c": allocation_usd}, starts, "heuristic", 0.0, None)
        if not check_plan(candidate):
            best = min(best, objective_value(dataset, scenario, starts, scenario.horizon))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_the_model_agrees_with_brute_force_on_small_records(seed):
    """Random carriers of two recorded and three planned sites over 6 months, money and crews short,
    sometimes in two tranches: the bare MILP's optimum and `planner.plan`'s equal the best schedule
    `check_plan` accepts (so the model, the record's handling and the validator say the same thing)."""
    import random

    rng = random.Random(seed)
    ip_start = rng.choice(["2023-01", "2023-02", "2023-03", "2023-04"])
    sites = (
        site("ip", population=rng.randint(0, 50), duration_months=3, status="in_progress", started=ip_start),
        site("r1", cost_usd=rng.choice([50.0, 150.0]), population=20, status="replaced", started="2022-12"),
        *[
            site(
                f"p{k}",
                cost_usd=rng.choice([50.0, 100.0, 150.0]),
                population=rng.randint(1, 100),
                duration_months=rng.choice([1, 2]),
                lead_time_months=rng.choice([0, 0, 2]),
                crew_need=(("tower", 1.0),) if rng.random() < 0.8 else (),
                depends_on=(
                    ("p0",) if k == 2 and rng.random() < 0.5 else (rng.choice(["ip", "r1"]),) if k == 1 else ()
                ),
            )
            for k in range(3)
        ],
    )
    dataset = Dataset((Carrier("c", "C", "ND", 100),), (CrewPool("c", "tower", rng.choice([1.0, 2.0])),), sites)
    fund = rng.choice([200.0, 300.0, 450.0])
    tranches = (("2023-03", fund / 2), ("2023-06", fund / 2)) if rng.random() < 0.5 else ()
    scenario = Scenario(
        fund_usd=fund, start="2023-03", horizon=6, deadline=4, as_of="2023-04", tranches=tranches, mip_gap=0.0
    )
    best = brute_force_optimum(dataset, scenario, fund)
    exact = solve_model_exactly(build_model(carrier_case(dataset, scenario, "c", fund)))
    assert exact.objective == pytest.approx(best)
    planned = plan(dataset, scenario.with_overrides(time_limit_s=10.0), workers=1)
    assert check_plan(planned) == [] and planned.status == "optimal" and planned.objective == pytest.approx(best)
