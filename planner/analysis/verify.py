"""An independent check of a plan against every hard rule, written without the model's code.

`check_plan` recomputes, from the dataset and the plan alone, the rules the optimiser
must respect: the fund, each carrier's money, crews per type and month (winter
included), precedence, lead times, the horizon, and money arriving in tranches (a
carrier's cost of sites started by each month within its own funds plus its allocation's
share of the fund arrived by then), and plans from today (every site in progress or replaced
kept at its recorded start, no planned site before `as_of`, crews and money checked from
`as_of` on, planned work within what the record left). It returns the violations as
sentences; an empty list means the plan is valid. Tests run it on every plan.
"""

from __future__ import annotations

import math
from collections import defaultdict

from planner.core.schema import Plan

TOLERANCE_USD = 0.5


def check_plan(plan: Plan) -> list[str]:
    dataset, scenario = plan.dataset, plan.scenario
    horizon = plan.horizon or scenario.horizon
    problems: list[str] = []
    sites = dataset.site_by_id

    year, month = (int(part) for part in scenario.start.split("-"))

    def period(label: str) -> int:
        label_year, label_month = (int(part) for part in label.split("-"))
        return (label_year - year) * 12 + label_month - month

    today = period(scenario.as_of) if scenario.as_of else 0
    for site in dataset.sites:  # the record's sites are kept, at their recorded start
        if site.status != "planned" and site.started and plan.starts.get(site.site_id) != period(site.started):
            problems.append(
                f"{site.site_id}: {site.status.replace('_', ' ')} since {site.started} (period "
                f"{period(site.started)}) but the plan starts it in {plan.starts.get(site.site_id)}"
            )
    for site_id, start in plan.starts.items():
        if site_id not in sites:
            problems.append(f"plan starts unknown site {site_id}")
            continue
        site = sites[site_id]
        if site.status != "planned":
            continue  # checked above; the record's lead times, order and horizon are history
        if isinstance(start, int) and start < today:
            problems.append(f"{site_id}: planned to start in {start}, before as_of {scenario.as_of} (period {today})")
        if not isinstance(start, int) or start < 0:
            problems.append(f"{site_id}: start {start!r} is not a period >= 0")
            continue
        if start < site.lead_time_months:
            problems.append(f"{site_id}: starts in {start}, before its lead time {site.lead_time_months}")
        if start + site.duration_months > horizon:
            problems.append(f"{site_id}: finishes in {start + site.duration_months}, after the horizon {horizon}")
        for before in site.depends_on:
            if before not in plan.starts:
                problems.append(f"{site_id}: replaced although {before}, which it depends on, is not")
            elif plan.starts[before] + sites[before].duration_months > start:
                problems.append(
                    f"{site_id}: starts in {start} before {before} finishes in "
                    f"{plan.starts[before] + sites[before].duration_months}"
                )

    allocated = math.fsum(plan.allocation_usd.values())
    if allocated > scenario.available_usd + TOLERANCE_USD:
        problems.append(f"allocations total {allocated:,.2f} but only {scenario.available_usd:,.2f} is available")
    for carrier_id, amount in plan.allocation_usd.items():
        if amount < -TOLERANCE_USD:
            problems.append(f"{carrier_id}: negative allocation {amount:,.2f}")
    spend: dict[str, float] = defaultdict(float)
    for site_id in plan.starts:
        if site_id in sites:
            spend[sites[site_id].carrier_id] += sites[site_id].cost_usd
    recorded_spend: dict[str, float] = defaultdict(float)
    for site in dataset.sites:
        if site.status != "planned":
            recorded_spend[site.carrier_id] += site.cost_usd
    for carrier in dataset.carriers:
        # money the record spent beyond it is the record's; the plan may then spend nothing more
        money = max(
            plan.allocation_usd.get(carrier.carrier_id, 0.0) + carrier.own_funds_usd, recorded_spend[carrier.carrier_id]
        )
        if spend[carrier.carrier_id] > money + TOLERANCE_USD:
            problems.append(f"{carrier.carrier_id}: spends {spend[carrier.carrier_id]:,.2f} but has {money:,.2f}")

    problems.extend(check_tranches(plan, horizon))

    # Crews from as_of on (earlier months are the record): planned work fits what the record's
    # in-progress work leaves, max(0, capacity - recorded units).
    in_use: dict[tuple[str, str, int], float] = defaultdict(float)
    recorded_use: dict[tuple[str, str, int], float] = defaultdict(float)
    for site_id, start in plan.starts.items():
        if site_id not in sites:
            continue
        site = sites[site_id]
        for crew_type, units in site.crew_need:
            for month in range(max(start, today), start + site.duration_months):
                (in_use if site.status == "planned" else recorded_use)[(site.carrier_id, crew_type, month)] += units
    pools = {(p.carrier_id, p.crew_type): p for p in dataset.crews}
    for (carrier_id, crew_type, month), units in sorted(in_use.items()):
        pool = pools.get((carrier_id, crew_type))
        full = pool.available(scenario.calendar_month(month)) if pool else 0.0
        capacity = max(0.0, full - recorded_use[(carrier_id, crew_type, month)])
        if units > capacity + 1e-9:
            problems.append(
                f"{carrier_id}: {units:g} {crew_type} crew units in period {month} "
                f"({scenario.month_label(month)}) but only {capacity:g} available"
            )
    return problems


def check_tranches(plan: Plan, horizon: int) -> list[str]:
    """By every month t, each carrier's cost of sites started by t <= own funds + allocation x arrived(t) / fund.

    A site's cost counts in the month its work starts; a tranche dated before the start counts in period 0.
    """
    dataset, scenario = plan.dataset, plan.scenario
    if not scenario.tranches or scenario.fund_usd <= 0:
        return []
    year, month = (int(part) for part in scenario.start.split("-"))
    arrives = []
    for label, usd in scenario.tranches:
        tranche_year, tranche_month = (int(part) for part in label.split("-"))
        arrives.append((max(0, (tranche_year - year) * 12 + tranche_month - month), usd))
    today = (int(scenario.as_of[:4]) - year) * 12 + int(scenario.as_of[5:7]) - month if scenario.as_of else 0
    problems = []
    for carrier in dataset.carriers:
        costs = [
            (plan.starts[s.site_id], s.cost_usd)
            for s in dataset.sites_by_carrier.get(carrier.carrier_id, ())
            if s.site_id in plan.starts
        ]
        allocation = plan.allocation_usd.get(carrier.carrier_id, 0.0)
        recorded = math.fsum(
            s.cost_usd for s in dataset.sites_by_carrier.get(carrier.carrier_id, ()) if s.status != "planned"
        )
        for t in range(max(0, today), horizon):  # earlier months are the record
            spent = math.fsum(cost for start, cost in costs if start <= t)
            arrived = math.fsum(usd for period, usd in arrives if period <= t)
            # what the record spent beyond the money in hand is the record's: then nothing more may start
            in_hand = max(carrier.own_funds_usd + allocation * arrived / scenario.fund_usd, recorded)
            if spent > in_hand + TOLERANCE_USD:
                problems.append(
                    f"{carrier.carrier_id}: has started {spent:,.2f} of work by period {t} "
                    f"({scenario.month_label(t)}) but only {in_hand:,.2f} is in hand (own funds "
                    f"{carrier.own_funds_usd:,.2f} + {arrived / scenario.fund_usd:.1%} of its allocation arrived)"
                )
                break
    return problems
