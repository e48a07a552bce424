"""The value of one more dollar: what $1M more (or `step_usd`) would keep connected, carrier by carrier.

Finite differences, not LP duals: each carrier is re-planned alone twice, with the money the
plan gave it and with that money plus the step, and the two outcomes are compared. The same
re-planning procedure makes both points, so the difference measures the money, not the
difference between the national plan and a re-plan. One carrier alone with a fund equal to
its money gets exactly that money under pro rata (min(fund, demand - ...)); tranches keep
their months and are scaled so that the carrier's money arrives as the fund did.

Sign convention: every figure is "with the step minus without", in the direction a reader
expects to be good when positive, per $1M of step:

- people_connected_per_1m: people of the sites replaced with the step and not without it
  (the people who would otherwise lose service at the deadline); >= 0 when the re-plans
  are optimal;
- person_months_connected_per_1m: person-months without service avoided within the horizon
  (sum over unreplaced sites of pop x max(0, H - D_c)); 0 when sites not replaced keep
  running (`missed_deadline = "keep_running"`: nobody is dark);
- objective_change_per_1m: objective(with step) - objective(without); <= 0 when money helps
  (the objective is minimised), so this one is negative when the step buys something.

A MILP's value of money is a step function: a site is bought whole or not at all, so $1M may
buy nothing where $1.2M buys a site of 5,000 people. The figures depend on the step, are not
a derivative (no dual of the integer problem exists), and say only what this step buys from
this allocation. A re-plan stopped by its time limit before optimality makes the difference
noisy; both statuses are reported.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from planner.analysis.relax import carrier_dataset
from planner.core.clock import carrier_deadline
from planner.core.schema import Plan, Scenario
from planner.engine.planning import plan as make_plan

VALUE_COLUMNS = (
    "carrier_id",
    "allocation_usd",
    "step_usd",
    "people_connected_per_1m",
    "person_months_connected_per_1m",
    "objective_change_per_1m",
    "bought_anything",
    "sites_bought",
    "status_without",
    "status_with",
)


def carrier_alone_scenario(plan: Plan, carrier_id: str, money_usd: float, time_limit_s: float | None) -> Scenario:
    """The plan's scenario for one carrier whose fund is `money_usd`, arriving in the plan's tranche months."""
    scenario = plan.scenario
    tranches = (
        tuple((month, usd * money_usd / scenario.fund_usd) for month, usd in scenario.tranches)
        if scenario.tranches and money_usd > 0 and scenario.fund_usd > 0
        else ()
    )
    overrides: dict = {"rule": "pro_rata", "fund_usd": money_usd, "admin_reserve_usd": 0.0, "tranches": tranches}
    if time_limit_s is not None:
        overrides["time_limit_s"] = min(time_limit_s, scenario.time_limit_s)
    return scenario.with_overrides(**overrides)


def dark_person_months(plan: Plan, carrier_id: str) -> float:
    """Person-months without service within the horizon: unreplaced pop x max(0, H - D_c); 0 if kept running."""
    if plan.scenario.missed_deadline == "keep_running":
        return 0.0
    horizon = plan.horizon or plan.scenario.horizon
    deadline = carrier_deadline(plan.scenario, plan.dataset.carrier_by_id.get(carrier_id))
    return math.fsum(
        s.population * max(0, horizon - deadline)
        for s in plan.dataset.sites_by_carrier.get(carrier_id, ())
        if s.site_id not in plan.starts
    )


def value_of_money(
    plan: Plan,
    carrier_ids: Iterable[str] | None = None,
    step_usd: float = 1e6,
    time_limit_s: float | None = 10.0,
) -> pd.DataFrame:
    """One row per carrier (all by default): what `step_usd` more money buys, per $1M (see the module doc)."""
    if not step_usd > 0 or not math.isfinite(step_usd):
        raise ValueError(f"step_usd must be a positive number of dollars, not {step_usd!r}")
    chosen = list(carrier_ids) if carrier_ids is not None else [c.carrier_id for c in plan.dataset.carriers]
    unknown = [c for c in chosen if c not in plan.dataset.carrier_by_id]
    if unknown:
        raise ValueError(f"unknown carrier(s): {', '.join(unknown)}")
    per_million = 1e6 / step_usd
    rows = []
    for carrier_id in chosen:
        dataset = carrier_dataset(plan.dataset, carrier_id)
        allocation = plan.allocation_usd.get(carrier_id, 0.0)
        without = make_plan(dataset, carrier_alone_scenario(plan, carrier_id, allocation, time_limit_s), workers=1)
        more = make_plan(
            dataset, carrier_alone_scenario(plan, carrier_id, allocation + step_usd, time_limit_s), workers=1
        )
        sites = dataset.sites_by_carrier.get(carrier_id, ())
        connected_without = sum(s.population for s in sites if s.site_id in without.starts)
        connected_with = sum(s.population for s in sites if s.site_id in more.starts)
        bought = sorted(set(more.starts) - set(without.starts))
        rows.append(
            {
                "carrier_id": carrier_id,
                "allocation_usd": allocation,
                "step_usd": step_usd,
                "people_connected_per_1m": (connected_with - connected_without) * per_million,
                "person_months_connected_per_1m": (
                    dark_person_months(without, carrier_id) - dark_person_months(more, carrier_id)
                )
                * per_million,
                "objective_change_per_1m": (more.objective - without.objective) * per_million,
                "bought_anything": more.objective < without.objective - 1e-9,
                "sites_bought": ";".join(bought),
                "status_without": without.status,
                "status_with": more.status,
            }
        )
    return pd.DataFrame(rows, columns=list(VALUE_COLUMNS))
