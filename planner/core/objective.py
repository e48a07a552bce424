"""The objective, defined once: every rule's plan and every solver result is scored here.

exposure:  sum_replaced pop_s * finish_s + sum_unreplaced pop_s * (D + w * max(0, H - D))
makespan:  (H + 1) * (sites not replaced) + sum over carriers of max finish of their replaced sites
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from planner.core.schema import Dataset, Scenario, Site


def score(
    sites: Iterable[Site], starts: Mapping[str, int], horizon: int, deadline: int, objective: str, dark_weight: float
) -> float:
    if objective == "makespan":
        makespans: dict[str, int] = {}
        unreplaced = 0
        for site in sites:
            start = starts.get(site.site_id)
            if start is None:
                unreplaced += 1
            else:
                finish = start + site.duration_months
                makespans[site.carrier_id] = max(makespans.get(site.carrier_id, 0), finish)
        return float((horizon + 1) * unreplaced + sum(makespans.values()))
    dark_months = max(0, horizon - deadline)
    total = 0.0
    for site in sites:
        start = starts.get(site.site_id)
        if start is None:
            total += site.population * (deadline + dark_weight * dark_months)
        else:
            total += site.population * (start + site.duration_months)
    return total


def objective_value(
    dataset: Dataset, scenario: Scenario, starts: dict[str, int], horizon: int, carrier_id: str | None = None
) -> float:
    """The objective of a schedule (the same for every rule; see `score`)."""
    sites = dataset.sites if carrier_id is None else dataset.sites_by_carrier.get(carrier_id, ())
    return score(sites, starts, horizon, scenario.effective_deadline, scenario.objective, scenario.dark_weight)
