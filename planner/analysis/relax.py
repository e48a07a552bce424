"""Relax and report: one carrier re-planned alone with one rule relaxed, to measure what that rule costs.

In the style of SWITCH's diagnose_infeasibility: the carrier is re-planned with its plan's money and
one rule relaxed (money to its demand, unlimited crews, zero lead times, no dependencies), built as a
modified Dataset and Scenario, never by touching the model. `diagnostics.explain(..., relax=True)`
attaches these outcomes to its findings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from planner.core.clock import carrier_deadline
from planner.core.schema import CrewPool, Dataset, Plan, Scenario
from planner.engine.planning import plan as make_plan

RELAXATIONS = {  # finding rule -> what is relaxed when it is measured
    "money": "money up to the carrier's demand",
    "crew-type": "unlimited crews of every type",
    "crews": "unlimited crews of every type",
    "lead-time": "zero lead times",
    "precedence": "no dependencies between sites",
    "packing": "unlimited crews of every type",
}


@dataclass(frozen=True)
class Outcome:
    """A carrier's result in one (re-)plan: what relaxing a rule would buy."""

    sites_replaced: int
    sites_done_by_deadline: int
    people_left_dark: int
    completion_period: int | None  # last finish if every site is replaced, else None
    on_time: bool


def carrier_outcome(plan: Plan, carrier_id: str) -> Outcome:
    sites = plan.dataset.sites_by_carrier.get(carrier_id, ())
    deadline = carrier_deadline(plan.scenario, plan.dataset.carrier_by_id.get(carrier_id))
    finishes = [plan.starts[s.site_id] + s.duration_months for s in sites if s.site_id in plan.starts]
    every = len(finishes) == len(sites)
    return Outcome(
        sites_replaced=len(finishes),
        sites_done_by_deadline=sum(1 for f in finishes if f <= deadline),
        people_left_dark=sum(s.population for s in sites if s.site_id not in plan.starts),
        completion_period=max(finishes, default=0) if every else None,
        on_time=every and all(f <= deadline for f in finishes),
    )


def carrier_dataset(dataset: Dataset, carrier_id: str) -> Dataset:
    """The dataset cut down to one carrier (carriers are independent once their money is fixed)."""
    return replace(
        dataset,
        carriers=(dataset.carrier_by_id[carrier_id],),
        crews=tuple(p for p in dataset.crews if p.carrier_id == carrier_id),
        sites=dataset.sites_by_carrier.get(carrier_id, ()),
        warnings=(),
    )


def relaxed_case(plan: Plan, carrier_id: str, rule: str | None) -> tuple[Dataset, Scenario]:
    """One carrier alone with its plan's money, and `rule` relaxed (None relaxes nothing)."""
    dataset = carrier_dataset(plan.dataset, carrier_id)
    carrier = dataset.carriers[0]
    demand = dataset.demand_usd(carrier_id)
    fund = plan.allocation_usd.get(carrier_id, 0.0)
    if rule == "money":
        fund = max(fund, demand - carrier.own_funds_usd, 0.0)
    elif rule in ("crews", "crew-type", "packing"):
        plenty = max(1.0, math.fsum(max((u for _, u in s.crew_need), default=0.0) for s in dataset.sites))
        types = sorted({k for s in dataset.sites for k, _ in s.crew_need} | {p.crew_type for p in dataset.crews})
        dataset = replace(dataset, crews=tuple(CrewPool(carrier_id, k, plenty) for k in types))
    elif rule == "lead-time":
        dataset = replace(dataset, sites=tuple(replace(s, lead_time_months=0) for s in dataset.sites))
    elif rule == "precedence":
        dataset = replace(dataset, sites=tuple(replace(s, depends_on=()) for s in dataset.sites))
    # pro-rata of one carrier hands it exactly min(fund, demand): the money of the plan
    scenario = plan.scenario.with_overrides(rule="pro_rata", fund_usd=fund, admin_reserve_usd=0.0)
    return dataset, scenario


def replan_outcome(plan: Plan, carrier_id: str, rule: str | None, time_limit_s: float) -> Outcome:

    dataset, scenario = relaxed_case(plan, carrier_id, rule)
    scenario = scenario.with_overrides(time_limit_s=min(time_limit_s, plan.scenario.time_limit_s))
    again = make_plan(dataset, scenario, workers=1)
    return carrier_outcome(again, carrier_id)
