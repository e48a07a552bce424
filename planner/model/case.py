"""One carrier's scheduling problem, as plain data: what the optimisation model is built from.

Carriers are independent once their money is fixed (each has its own crews and its own
sites; dependencies never cross carriers), so the planner solves one `CarrierCase` per
carrier. The case precomputes each site's time window:

    e_s = max(lead_s, max_{j in pred(s)} e_j + d_j)     earliest start (lead times, precedence)
    L_s = H - d_s                                        latest start that still finishes in the horizon

and drops sites that can never be replaced (e_s > L_s, a predecessor that can never be
replaced, or a crew need larger than the capacity in every period of the window).

Plans from today: sites the record fixes (in progress or replaced, `fixed_starts`) are no
decision, so they get no window; they enter the case as data instead. A planned site
starts no earlier than `as_of` nor before a fixed site it depends on has finished; the
crews an in-progress site still occupies from `as_of` on are taken off `capacity`; their
cost is taken off the money (`planned_budget_usd`, `money_steps`); and `score` counts them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from planner.core.clock import arrival_steps, as_of_period, carrier_deadline, recorded_starts
from planner.core.network import earliest_starts, topological_order
from planner.core.objective import score, unreplaced_months
from planner.core.schema import Dataset, Scenario, Site


@dataclass(frozen=True)
class CarrierCase:
    carrier_id: str
    sites: tuple[Site, ...]
    budget_usd: float  # allocation from the fund plus the carrier's own funds
    capacity: dict[str, tuple[float, ...]]  # crew type -> units available in each period
    horizon: int
    deadline: int  # this carrier's effective deadline: first money + term + its extensions
    objective: str = "exposure"
    dark_weight: float = 100.0
    order: tuple[str, ...] = field(default=(), compare=False)  # topological order of site ids
    # Money arriving over time: (last period, phi) for each stretch where only the fraction phi of the
    # fund is in hand (`planner.core.clock.arrival_steps`, clamped to the horizon); () = all at start.
    arrival_steps: tuple[tuple[int, float], ...] = ()
    own_funds_usd: float = 0.0  # the part of budget_usd that is the carrier's own (there from period 0)
    missed_deadline: str = "shut_down"
    fixed_starts: dict[str, int] = field(default_factory=dict)  # recorded start of in-progress/replaced sites
    as_of: int = 0  # period of "today": planned sites start no earlier

    @cached_property
    def fixed_cost_usd(self) -> float:
        """Money the record has already spent on this carrier's in-progress and replaced sites."""
        return math.fsum(self.by_id[s].cost_usd for s in self.fixed_starts)

    @property
    def planned_budget_usd(self) -> float:
        """What is left for planned sites: budget - spent, never below 0 (an overspent record plans nothing)."""
        return max(0.0, self.budget_usd - self.fixed_cost_usd)

    @cached_property
    def by_id(self) -> dict[str, Site]:
        return {s.site_id: s for s in self.sites}

    @cached_property
    def earliest(self) -> dict[str, int]:
        return earliest_starts(self.sites)

    def latest(self, site: Site) -> int:
        return self.horizon - site.duration_months

    def capacity_at(self, crew_type: str, period: int) -> float:
        periods = self.capacity.get(crew_type)
        return periods[period] if periods is not None else 0.0

    def fits_crews(self, site: Site, start: int) -> bool:
        """The site's crew need fits the bare capacity (ignoring other work) in every month of its work."""
        return all(
            units <= self.capacity_at(kind, t) + 1e-9
            for kind, units in site.crew_need
            for t in range(start, start + site.duration_months)
        )

    @cached_property
    def windows(self) -> dict[str, range]:
        """Start periods each replaceable site may take; sites that can never be replaced are absent."""
        windows: dict[str, range] = {}
        for site_id in self.order or topological_order(self.sites):
            site = self.by_id[site_id]
            if site_id in self.fixed_starts:
                continue  # the record decides it: no window, no variables
            if not all(j in windows or j in self.fixed_starts for j in site.depends_on):
                continue  # a predecessor can never be replaced, so neither can this site
            first = max(
                [site.lead_time_months, self.as_of]
                + [
                    (windows[j].start if j in windows else self.fixed_starts[j]) + self.by_id[j].duration_months
                    for j in site.depends_on
                ]
            )
            feasible = [t for t in range(first, self.latest(site) + 1) if self.fits_crews(site, t)]
            if feasible:
                windows[site_id] = range(feasible[0], feasible[-1] + 1)
        return windows

    @cached_property
    def like_sites(self) -> tuple[tuple[str, ...], ...]:
        """The replaceable sites in groups that every rule of the model treats alike, heaviest first.

        Two sites are alike when they have the same cost, duration, crew need, window and
        predecessors, and no site waits for either. Then any schedule can swap them, so the model
        decides only how many of a group have started by each month (`planner.model.build`),
        and the heaviest start first: with every rule the same, the exposure objective
        sum_s pop_s * g_s (g_s the finish, or D + w * max(0, H - D) if not replaced) is least
        when population and g are sorted opposite ways (the rearrangement inequality). That
        needs g of a replaced site never above g of an unreplaced one, so a group's last finish
        L_s + d_s must be at most the unreplaced months; sites whose window reaches past them, and
        every site of a makespan case (it ignores population), stay single. Each group lists its
        sites by population, largest first, then by id; a group of one is a single site.
        """
        windows = self.windows
        waited_for = {j for s in self.sites for j in s.depends_on}
        groups: dict[tuple, list[Site]] = {}
        for site_id, window in windows.items():
            site = self.by_id[site_id]
            alike = (
                self.objective == "exposure"
                and site_id not in waited_for
                and window.stop - 1 + site.duration_months <= self.unreplaced_months(site)
            )
            key = (
                (site.cost_usd, site.duration_months, tuple(sorted(site.crew_need)), window.start, window.stop)
                + tuple(sorted(set(site.depends_on)))
                if alike
                else ("single", site_id)
            )
            groups.setdefault(key, []).append(site)
        return tuple(
            tuple(s.site_id for s in sorted(members, key=lambda s: (-s.population, s.site_id)))
            for members in groups.values()
        )

    @property
    def dark_months(self) -> int:
        """Months a shut-down site stays dark within the horizon (none if sites keep running)."""
        if self.missed_deadline == "keep_running":
            return 0
        return max(0, self.horizon - self.deadline)

    def unreplaced_cost(self, site: Site) -> float:
        """Objective contribution of a site that is not replaced (exposure objective).

        On covered gear until the deadline, then dark until the horizon:
        u_s = pop_s * (D + w * max(0, H - D)); kept running past the deadline: u_s = pop_s * H
        """
        return site.population * self.unreplaced_months(site)

    def unreplaced_months(self, site: Site) -> float:
        """Weighted months one person of an unreplaced site counts (`planner.core.objective.unreplaced_months`)."""
        return unreplaced_months(site, self.horizon, self.deadline, self.dark_weight, self.missed_deadline)

    def score(self, starts: dict[str, int]) -> float:
        """The objective of a schedule of this carrier (see `planner.core.objective`)."""
        return score(
            self.sites,
            {**self.fixed_starts, **starts},
            self.horizon,
            self.deadline,
            self.objective,
            self.dark_weight,
            self.missed_deadline,
        )

    @cached_property
    def money_steps(self) -> tuple[tuple[int, float], ...]:
        """(last period, money the carrier may have spent by then) where that is less than its budget.

        money(t) = own_c + allocation_c * phi(t), allocation_c = budget - own_c; with sites the
        record fixes, what planned sites may have spent: max(0, money(t) - fixed cost) for t >= as_of
        (every fixed site started by as_of; stretches ending before as_of hold no planned work).
        """
        allocation = self.budget_usd - self.own_funds_usd
        if not math.isfinite(allocation):
            return ()
        steps = []
        for period, phi in self.arrival_steps:
            if period < self.as_of:
                continue
            money = max(0.0, self.own_funds_usd + allocation * phi - self.fixed_cost_usd)
            if money < self.planned_budget_usd - 1e-6:
                steps.append((period, money))
        return tuple(steps)

    @cached_property
    def unreplaced_penalty(self) -> float:
        """Makespan objective: cost of leaving one site unreplaced, more than any makespan can be."""
        return float(self.horizon + 1)


def crew_capacity(
    dataset: Dataset, scenario: Scenario, carrier_id: str, horizon: int | None = None
) -> dict[str, tuple[float, ...]]:
    """Units of each crew type a carrier has in each period, winter months applied."""
    horizon = scenario.horizon if horizon is None else horizon
    return {
        crew_type: tuple(pool.available(scenario.calendar_month(t)) for t in range(horizon))
        for crew_type, pool in dataset.crews_by_carrier.get(carrier_id, {}).items()
    }


def carrier_case(
    dataset: Dataset, scenario: Scenario, carrier_id: str, allocation_usd: float, horizon: int | None = None
) -> CarrierCase:
    """The scheduling problem of one carrier given the money the fund gives it."""
    carrier = dataset.carrier_by_id[carrier_id]
    sites = dataset.sites_by_carrier.get(carrier_id, ())
    horizon = scenario.horizon if horizon is None else horizon
    fixed = recorded_starts(sites, scenario)
    as_of = as_of_period(scenario)
    return CarrierCase(
        carrier_id=carrier_id,
        sites=sites,
        budget_usd=allocation_usd + carrier.own_funds_usd,
        capacity=capacity_left(crew_capacity(dataset, scenario, carrier_id, horizon), sites, fixed, as_of),
        horizon=horizon,
        deadline=carrier_deadline(scenario, carrier),
        objective=scenario.objective,
        dark_weight=scenario.dark_weight,
        order=tuple(topological_order(sites)),
        arrival_steps=clamped_arrival_steps(scenario, horizon),
        own_funds_usd=carrier.own_funds_usd,
        missed_deadline=scenario.missed_deadline,
        fixed_starts=fixed,
        as_of=as_of,
    )


def capacity_left(
    capacity: dict[str, tuple[float, ...]], sites: tuple[Site, ...], fixed_starts: dict[str, int], as_of: int
) -> dict[str, tuple[float, ...]]:
    """Crews left for planned work: cap[k,t] - need of the fixed sites working in t, for t >= as_of, never < 0.

    Months before as_of are the record (no planned work runs then); work the record puts on
    more crews than there are is the record's, and leaves planned work none.
    """
    if not fixed_starts:
        return capacity
    left = {k: list(periods) for k, periods in capacity.items()}
    by_id = {s.site_id: s for s in sites}
    for site_id, start in fixed_starts.items():
        site = by_id[site_id]
        for kind, units in site.crew_need:
            periods = left.get(kind)
            if periods is None:
                continue
            for t in range(max(start, as_of, 0), min(start + site.duration_months, len(periods))):
                periods[t] = max(0.0, periods[t] - units)
    return {k: tuple(v) for k, v in left.items()}


def clamped_arrival_steps(scenario: Scenario, horizon: int) -> tuple[tuple[int, float], ...]:
    """The scenario's arrival steps within the horizon: a stretch reaching past it ends at H - 1."""
    steps = []
    for period, phi in arrival_steps(scenario):
        steps.append((min(period, horizon - 1), phi))
        if period >= horizon - 1:
            break
    return tuple(steps)


@lru_cache(maxsize=1 << 17)  # every row of a site repeats its id: 590,000 calls for a 2,500-site star
def slug(text: str) -> str:
    """A name PuLP and LP files accept unchanged (PuLP rewrites -+[] ->/ to _), one per id.

    Letters and digits stay; every other character, '_' included, becomes _x<hex>x, so two
    ids never share a name ('s-1' -> 's_x2dx1', 's_1' -> 's_x5fx1'; replacing them all by
    '_' made both 's_1' and crashed the solve), and a slug never holds '__', which is
    left to separate the keys of a name.
    """
    return re.sub(r"[^A-Za-z0-9]", lambda match: f"_x{ord(match.group()):x}x", text)
