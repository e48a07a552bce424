"""One carrier on its own: a view of its part of a national plan, and a re-plan after local changes.

Once the fund is divided, carriers are independent (see `planner.engine.planning`), so a carrier
can be re-planned alone with the money it was allocated: a dataset holding only that
carrier, a scenario whose fund is its allocation and whose rule is pro rata (with one
carrier, pro rata hands it min(allocation, demand), i.e. exactly its allocation) and no
administrative reserve. This is what lets an engineer try more crews, shorter lead
times or more of the carrier's own money and see the schedule in seconds, without
re-solving the other carriers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from planner.core.objective import objective_value
from planner.core.schema import CrewPool, Dataset, Plan
from planner.engine.planning import plan as make_plan


@dataclass(frozen=True)
class CarrierChanges:
    """What an engineer changes about one carrier before re-planning it.

    crews: (crew type, capacity per month, winter capacity or None) for the crew types to
    change; types not listed keep their pools. lead_time_change_months is added to every
    site's lead time (never below 0). own_funds_usd replaces the carrier's own funds.
    """

    crews: tuple[tuple[str, float, float | None], ...] = ()
    lead_time_change_months: int = 0
    own_funds_usd: float | None = None

    @property
    def is_empty(self) -> bool:
        return not self.crews and self.lead_time_change_months == 0 and self.own_funds_usd is None


def carrier_dataset(dataset: Dataset, carrier_id: str) -> Dataset:
    """The dataset restricted to one carrier (its record, crews and sites)."""
    if carrier_id not in dataset.carrier_by_id:
        raise KeyError(f"unknown carrier {carrier_id!r}")
    return replace(
        dataset,
        carriers=(dataset.carrier_by_id[carrier_id],),
        crews=tuple(p for p in dataset.crews if p.carrier_id == carrier_id),
        sites=tuple(dataset.sites_by_carrier.get(carrier_id, ())),
        name=f"{dataset.name}:{carrier_id}",
    )


def carrier_view(plan: Plan, carrier_id: str) -> Plan:
    """The part of a national plan that concerns one carrier, as a plan of its own.

    `planner.analysis.reports` tables of this plan are the carrier's tables: its schedule, its crews
    in use against capacity, its spend and money drawn per month.
    """
    dataset = carrier_dataset(plan.dataset, carrier_id)
    site_ids = {s.site_id for s in dataset.sites}
    starts = {sid: start for sid, start in plan.starts.items() if sid in site_ids}
    outcome = next((o for o in plan.outcomes if o.carrier_id == carrier_id), None)
    horizon = plan.horizon or plan.scenario.horizon
    return replace(
        plan,
        dataset=dataset,
        allocation_usd={carrier_id: plan.allocation_usd.get(carrier_id, 0.0)},
        starts=starts,
        objective=objective_value(dataset, plan.scenario, starts, horizon, carrier_id),
        bound=None if outcome is None else outcome.bound,
        status=plan.status if outcome is None else outcome.status,
        outcomes=() if outcome is None else (outcome,),
    )


def changed_dataset(dataset: Dataset, carrier_id: str, changes: CarrierChanges) -> Dataset:
    """One carrier's dataset with the engineer's changes applied."""
    alone = carrier_dataset(dataset, carrier_id)
    carrier = alone.carriers[0]
    if changes.own_funds_usd is not None:
        carrier = replace(carrier, own_funds_usd=float(changes.own_funds_usd))
    pools = {p.crew_type: p for p in alone.crews}
    for crew_type, capacity, winter in changes.crews:
        pools[crew_type] = CrewPool(carrier_id, crew_type, float(capacity), None if winter is None else float(winter))
    sites = alone.sites
    if changes.lead_time_change_months:
        sites = tuple(
            replace(s, lead_time_months=max(0, s.lead_time_months + changes.lead_time_change_months)) for s in sites
        )
    return replace(alone, carriers=(carrier,), crews=tuple(pools[k] for k in sorted(pools)), sites=sites)


def replan_carrier(
    plan: Plan,
    carrier_id: str,
    changes: CarrierChanges = CarrierChanges(),
    time_limit_s: float | None = None,
    progress=None,
) -> Plan:
    """Re-plan one carrier alone with the money the national plan allocated to it, after `changes`.

    The fund stays fixed: the carrier gets exactly its allocation (changing its own funds
    changes only what it can add). Runs in this process (one carrier needs no workers).
    """
    dataset = changed_dataset(plan.dataset, carrier_id, changes)
    allocation = plan.allocation_usd.get(carrier_id, 0.0)
    scenario = plan.scenario.with_overrides(
        rule="pro_rata",
        fund_usd=allocation,
        # the carrier's allocation arrives as the fund did: the same share of every tranche
        tranches=tuple((month, usd * allocation / plan.scenario.fund_usd) for month, usd in plan.scenario.tranches)
        if allocation > 0 and plan.scenario.fund_usd > 0
        else (),
        admin_reserve_usd=0.0,
        time_limit_s=time_limit_s,
        name=f"{plan.scenario.name} / {carrier_id} re-planned",
    )
    return make_plan(dataset, scenario, progress=progress, workers=1)
