"""Why a carrier misses its deadline, in words a planner understands.

The reason is the first of these that holds: money (the carrier cannot pay for all its
sites), lead time or precedence (some site cannot finish by the deadline even with
unlimited crews), crews (more crew-months are needed before the deadline than exist),
and otherwise crews and precedence together (the work cannot be packed in time).
"""
from __future__ import annotations

import math

from .model.case import crew_capacity
from .network import earliest_starts
from .schema import Plan


def usd(amount: float) -> str:
    """$1.90B, $12.3M, $450K: the way a policy reader writes money."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if amount >= size:
            return f"{sign}${amount / size:,.2f}{suffix}" if size == 1e9 else f"{sign}${amount / size:,.1f}{suffix}"
    return f"{sign}${amount:,.0f}"


def deadline_reasons(plan: Plan) -> dict[str, str]:
    """carrier_id -> one line saying why it does not finish every site by the effective deadline."""
    dataset, scenario = plan.dataset, plan.scenario
    deadline = scenario.effective_deadline
    reasons = {}
    for carrier in dataset.carriers:
        sites = dataset.sites_by_carrier.get(carrier.carrier_id, ())
        unfinished = [s for s in sites
                      if s.site_id not in plan.starts or plan.starts[s.site_id] + s.duration_months > deadline]
        if not unfinished:
            continue
        demand = dataset.demand_usd(carrier.carrier_id)
        money = plan.allocation_usd.get(carrier.carrier_id, 0.0) + carrier.own_funds_usd
        if money < demand - 0.5:
            reasons[carrier.carrier_id] = (f"money: short of {usd(demand - money)} (has {usd(money)} for a demand of "
                                           f"{usd(demand)}); {sum(1 for s in sites if s.site_id not in plan.starts)} sites not replaced")
            continue
        earliest = earliest_starts(sites)
        by_id = {s.site_id: s for s in sites}
        blocked = [s for s in unfinished if earliest[s.site_id] + s.duration_months > deadline]
        if blocked:
            site = max(blocked, key=lambda s: earliest[s.site_id] + s.duration_months)
            finish = earliest[site.site_id] + site.duration_months
            if earliest[site.site_id] == site.lead_time_months:
                reasons[carrier.carrier_id] = (f"lead time: site {site.site_id} cannot start before month {site.lead_time_months} "
                                               f"(equipment delivery), so it finishes in month {finish}, after the deadline (month {deadline})")
            else:
                waits = max(site.depends_on, key=lambda j: earliest[j] + by_id[j].duration_months)
                reasons[carrier.carrier_id] = (f"precedence: site {site.site_id} must wait for {waits}, so it cannot finish "
                                               f"before month {finish}, after the deadline (month {deadline})")
            continue
        capacity = crew_capacity(dataset, scenario, carrier.carrier_id, horizon=max(deadline, 0))
        shortfalls = []
        for crew_type, periods in sorted(capacity.items()):
            need = math.fsum(s.need(crew_type) * s.duration_months for s in sites)
            have = math.fsum(periods[:deadline])
            if need > have + 1e-9:
                shortfalls.append(f"{need - have:,.0f} more {crew_type} crew-months")
        if shortfalls:
            reasons[carrier.carrier_id] = "crews: needs " + " and ".join(shortfalls) + f" before the deadline (month {deadline})"
        else:
            reasons[carrier.carrier_id] = ("crews and precedence: the crews exist in total, but the order of the work "
                                           f"cannot be packed before the deadline (month {deadline})")
    return reasons
