"""The objective, defined once: every rule's plan and every solver result is scored here.

exposure:  sum_replaced pop_s * finish_s + sum_unreplaced pop_s * (D_c + w * max(0, H - D_c))
makespan:  (H + 1) * (sites not replaced) + sum over carriers of max finish of their replaced sites

D_c is the effective deadline of the site's carrier (`planner.core.clock.carrier_deadline`).
With `missed_deadline = "keep_running"` an unreplaced site is not shut down at D_c: its
people stay on covered gear to the horizon, so it counts pop_s * H and nobody is dark.
finish_s is counted from `start`: a site the record replaced before it counts max(0, finish_s) = 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from planner.core.clock import carrier_deadlines
from planner.core.schema import Dataset, Scenario, Site


def score(
    sites: Iterable[Site],
    starts: Mapping[str, int],
    horizon: int,
    deadline: int | Mapping[str, int],
    objective: str,
    dark_weight: float,
    missed_deadline: str = "shut_down",
) -> float:
    """`deadline` is one effective deadline for every site, or one per carrier id."""
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
    total = 0.0
    for site in sites:
        start = starts.get(site.site_id)
        if start is None:
            total += site.population * unreplaced_months(site, horizon, deadline, dark_weight, missed_deadline)
        else:
            # a site the record finished before `start` (a negative finish) counts no month
            total += site.population * max(0, start + site.duration_months)
    return total


def unreplaced_months(
    site: Site, horizon: int, deadline: int | Mapping[str, int], dark_weight: float, missed_deadline: str
) -> float:
    """Weighted months one person of an unreplaced site counts: D + w * max(0, H - D), or H if kept running."""
    if missed_deadline == "keep_running":
        return float(horizon)
    own = deadline if isinstance(deadline, int) else deadline[site.carrier_id]
    return own + dark_weight * max(0, horizon - own)


def objective_value(
    dataset: Dataset, scenario: Scenario, starts: dict[str, int], horizon: int, carrier_id: str | None = None
) -> float:
    """The objective of a schedule (the same for every rule; see `score`)."""
    sites = dataset.sites if carrier_id is None else dataset.sites_by_carrier.get(carrier_id, ())
    deadlines = carrier_deadlines(dataset, scenario)
    return score(sites, starts, horizon, deadlines, scenario.objective, scenario.dark_weight, scenario.missed_deadline)
