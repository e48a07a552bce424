"""Funding rules: how the fund's available money is divided among carriers.

    pro_rata   every carrier gets the same share min(1, A / total demand) of its demand
    priority   47 CFR 1.50004: tiers in order; the first tier that cannot be paid in
               full is prorated; later tiers get nothing
    greedy     the spreadsheet baseline: sites ranked by people per dollar, funded in
               that order (with the sites they depend on) until the money runs out
    optimal    chosen by the optimiser (see `planner.engine.planning`)

A = fund - administrative reserve. A carrier's demand is the cost of all its sites.
"""

from __future__ import annotations

import math

from planner.core.network import topological_order
from planner.core.schema import Dataset, Scenario
from planner.engine.heuristics import subtree_value_per_dollar


def pro_rata_factor(available_usd: float, demand_usd: float) -> float:
    """The share of demand every carrier receives: min(1, available / demand)."""
    if demand_usd <= 0:
        return 1.0
    return min(1.0, available_usd / demand_usd)


def pro_rata(dataset: Dataset, scenario: Scenario) -> dict[str, float]:
    """Every carrier receives the same fraction of its demand."""
    factor = pro_rata_factor(scenario.available_usd, dataset.total_demand_usd)
    return {c.carrier_id: factor * dataset.demand_usd(c.carrier_id) for c in dataset.carriers}


def priority_tier_factors(dataset: Dataset, scenario: Scenario) -> dict[int, float]:
    """47 CFR 1.50004: the share of its demand each priority tier receives, tier -> factor.

    Tiers are paid in order: f_p = min(1, R_p / D_p) with R_1 = A and R_{p+1} = R_p - f_p * D_p,
    so every tier before the first short one gets 1, that tier gets R_p / D_p, later tiers 0.
    """
    left = scenario.available_usd
    factors: dict[int, float] = {}
    for tier in sorted({c.priority for c in dataset.carriers}):
        demand = math.fsum(dataset.demand_usd(c.carrier_id) for c in dataset.carriers if c.priority == tier)
        factors[tier] = pro_rata_factor(left, demand) if left > 0 else 0.0
        left = max(0.0, left - factors[tier] * demand)
    return factors


def priority_tiers(dataset: Dataset, scenario: Scenario) -> dict[str, float]:
    """47 CFR 1.50004: pay tier 1 in full, then tier 2, ...; prorate the first tier that does not fit.

    For the first tier p whose demand D_p exceeds what is left R_p, each carrier of the
    tier receives R_p / D_p of its demand; carriers of later tiers receive nothing.
    """
    factors = priority_tier_factors(dataset, scenario)
    return {c.carrier_id: factors[c.priority] * dataset.demand_usd(c.carrier_id) for c in dataset.carriers}


def applied_pro_rata_factor(dataset: Dataset, scenario: Scenario) -> float | None:
    """The one share of demand a fixed rule applied, as the FCC reports it (None for other rules).

    pro_rata: min(1, A / total demand). priority: the factor of the first tier that could not be
    paid in full (the tier that was prorated; later tiers got nothing), or 1 if every tier was.
    """
    if scenario.rule == "pro_rata":
        return pro_rata_factor(scenario.available_usd, dataset.total_demand_usd)
    if scenario.rule == "priority":
        factors = priority_tier_factors(dataset, scenario)
        return next((f for f in factors.values() if f < 1.0), 1.0)
    return None


def greedy_funding(dataset: Dataset, scenario: Scenario) -> tuple[dict[str, float], dict[str, bool]]:
    """Fund sites nationally by people per dollar, each with the sites it depends on.

    Sites are ranked by the population per dollar of their subtree (a core is worth the
    network behind it). Taking the next site means paying for it and any unfunded sites
    it depends on, from the carrier's own funds first and then the fund; a site whose
    bundle no longer fits is skipped and the walk goes on. Sites in progress or replaced
    (plans from today) are taken first: their money is spent. Returns the allocation and
    the funded sites.
    """
    ratio: dict[str, float] = {}
    for sites in dataset.sites_by_carrier.values():
        ratio.update(subtree_value_per_dollar(sites))
    by_id = dataset.site_by_id
    rank = {site_id: i for i, site_id in enumerate(topological_order(dataset.sites))}
    # the record's sites (in progress, replaced) are paid for already: they come first
    order = sorted(dataset.sites, key=lambda s: (not s.fixed, -ratio[s.site_id], -s.population, s.site_id))
    own_left = {c.carrier_id: c.own_funds_usd for c in dataset.carriers}
    fund_left = scenario.available_usd
    allocation = {c.carrier_id: 0.0 for c in dataset.carriers}
    funded: dict[str, bool] = {}
    for site in order:
        if funded.get(site.site_id):
            continue
        bundle = _unfunded_ancestors(site.site_id, by_id, funded) | {site.site_id}
        cost = math.fsum(by_id[s].cost_usd for s in bundle)
        from_own = min(own_left[site.carrier_id], cost)
        if cost - from_own > fund_left + 1e-6:
            continue
        own_left[site.carrier_id] -= from_own
        fund_left -= cost - from_own
        allocation[site.carrier_id] += cost - from_own
        for s in sorted(bundle, key=rank.__getitem__):
            funded[s] = True
    return allocation, funded


def _unfunded_ancestors(site_id: str, by_id, funded) -> set[str]:
    pending, found = [site_id], set()
    while pending:
        for j in by_id[pending.pop()].depends_on:
            if not funded.get(j) and j not in found:
                found.add(j)
                pending.append(j)
    return found


FIXED_RULES = {"pro_rata": pro_rata, "priority": priority_tiers}


def allocate(dataset: Dataset, scenario: Scenario) -> dict[str, float]:
    """Allocation of a rule that does not need the optimiser."""
    if scenario.rule in FIXED_RULES:
        return FIXED_RULES[scenario.rule](dataset, scenario)
    if scenario.rule == "greedy":
        return greedy_funding(dataset, scenario)[0]
    raise ValueError(f"rule {scenario.rule!r} is decided by the optimiser, not by a formula")
