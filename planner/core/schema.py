"""The data model: carriers, crews, sites, scenarios and plans as frozen records.

Records check only their own invariants; rules that relate records to each other
(unknown ids, cycles, crews a site needs but its carrier lacks) live in `validation`.
Periods are months counted from the scenario's `start` (period 0). A site that
starts in period s with duration d occupies periods s .. s+d-1 and is in service on
new gear from period `finish = s + d`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from functools import cached_property

SITE_KINDS = ("core", "backhaul", "ran", "other")
RULES = ("pro_rata", "priority", "optimal", "greedy")
OBJECTIVES = ("exposure", "makespan")
WINTER_MONTHS = (12, 1, 2, 3)  # December-March: tower work is limited in northern states
EXTENSION_MONTHS = 6  # 47 CFR 1.50004: each extension adds six months
MISSED_DEADLINE_POLICIES = ("shut_down", "keep_running")  # what happens to a site not replaced by its deadline
# What sites.csv says is already done: planned (the default) is left to the plan; in_progress and
# replaced keep their recorded `started` month (see `planner.core.clock`, "Plans from today").
SITE_STATUSES = ("planned", "in_progress", "replaced")


@dataclass(frozen=True, slots=True)
class Carrier:
    """A company whose network holds covered (Huawei/ZTE) gear."""

    carrier_id: str
    name: str
    state: str
    subscribers: int
    own_funds_usd: float = 0.0
    priority: int = 1  # 47 CFR 1.50004 tier: 1 is funded first
    extensions: int | None = None  # six-month extensions granted to this applicant; None = the scenario's


@dataclass(frozen=True, slots=True)
class CrewPool:
    """Crew units of one type a carrier can put to work in each month."""

    carrier_id: str
    crew_type: str
    capacity: float
    winter_capacity: float | None = None  # units in December-March; None = same as capacity

    def available(self, calendar_month: int) -> float:
        if self.winter_capacity is not None and calendar_month in WINTER_MONTHS:
            return self.winter_capacity
        return self.capacity


@dataclass(frozen=True, slots=True)
class Site:
    """One location whose covered gear must be replaced."""

    site_id: str
    carrier_id: str
    kind: str
    cost_usd: float  # all-in replacement cost
    duration_months: int  # months of crew work, >= 1
    lead_time_months: int = 0  # first period in which work may start (equipment delivery)
    population: int = 0  # people who lose service if the site goes dark
    depends_on: tuple[str, ...] = ()  # sites that must be finished before this one starts
    crew_need: tuple[tuple[str, float], ...] = ()  # (crew type, units per month of work)
    name: str = ""
    lat: float | None = None
    lon: float | None = None
    county_fips: str = ""
    status: str = "planned"  # planned | in_progress | replaced (SITE_STATUSES)
    started: str = ""  # YYYY-MM the recorded work began (in_progress and replaced); "" for planned
    line: int = field(default=0, compare=False)  # line in sites.csv, for messages

    @property
    def fixed(self) -> bool:
        """The record decides this site's start (in progress or replaced): the plan keeps it."""
        return self.status != "planned"

    def need(self, crew_type: str) -> float:
        for kind, units in self.crew_need:
            if kind == crew_type:
                return units
        return 0.0


@dataclass(frozen=True, slots=True)
class Scenario:
    """A funding scenario: how much money, which rule, which calendar, which objective."""

    fund_usd: float = 1_895_000_000.0
    admin_reserve_usd: float = 0.0
    rule: str = "pro_rata"
    start: str = "2022-08"
    horizon: int = 48
    deadline: int = 12
    extensions: int = 0
    objective: str = "exposure"
    time_limit_s: float = 60.0
    mip_gap: float = 0.01
    dark_weight: float = 100.0  # one person-month without service weighs this many on covered gear
    name: str = "default"
    # When fund money arrives: ("YYYY-MM", usd) pairs summing to fund_usd; () = all of it at `start`.
    tranches: tuple[tuple[str, float], ...] = ()
    missed_deadline: str = "shut_down"  # shut_down: unreplaced sites go dark at the deadline; keep_running: late
    as_of: str = ""  # YYYY-MM of "today": planned work starts no earlier; "" = start

    def __post_init__(self):
        total = math.fsum(usd for _, usd in self.tranches)
        if self.tranches and abs(total - self.fund_usd) > 0.5:
            raise ValueError(f"tranches sum to {total:,.2f} but fund_usd is {self.fund_usd:,.2f}")

    @property
    def available_usd(self) -> float:
        """Money the rules may hand out: the fund less the administrative reserve."""
        return max(0.0, self.fund_usd - self.admin_reserve_usd)

    @property
    def effective_deadline(self) -> int:
        """The term plus the granted six-month extensions, in periods from start."""
        return self.deadline + EXTENSION_MONTHS * self.extensions

    @property
    def start_year_month(self) -> tuple[int, int]:
        year, month = self.start.split("-")
        return int(year), int(month)

    def calendar_month(self, period: int) -> int:
        """Calendar month (1-12) of a period."""
        _, month = self.start_year_month
        return (month - 1 + period) % 12 + 1

    def month_label(self, period: int) -> str:
        """`YYYY-MM` of a period."""
        year, month = self.start_year_month
        index = year * 12 + (month - 1) + period
        return f"{index // 12:04d}-{index % 12 + 1:02d}"

    def with_overrides(self, **overrides) -> Scenario:
        known = {f.name for f in fields(self)}
        chosen = {k: v for k, v in overrides.items() if k in known and v is not None}
        # The fund and its tranches say the same thing: a new fund alone is one tranche at start,
        # new tranches alone make the fund their sum.
        if "fund_usd" in chosen and "tranches" not in chosen:
            chosen["tranches"] = ()
        elif "tranches" in chosen and "fund_usd" not in chosen and chosen["tranches"]:
            chosen["fund_usd"] = math.fsum(usd for _, usd in chosen["tranches"])
        return replace(self, **chosen)

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Dataset:
    """A validated set of carriers, crews and sites, with where it came from."""

    carriers: tuple[Carrier, ...]
    crews: tuple[CrewPool, ...]
    sites: tuple[Site, ...]
    name: str = "dataset"
    sha256: str = ""
    default_scenario: Scenario | None = None
    warnings: tuple = field(default=(), compare=False)

    @cached_property
    def carrier_by_id(self) -> dict[str, Carrier]:
        return {c.carrier_id: c for c in self.carriers}

    @cached_property
    def site_by_id(self) -> dict[str, Site]:
        return {s.site_id: s for s in self.sites}

    @cached_property
    def sites_by_carrier(self) -> dict[str, tuple[Site, ...]]:
        grouped: dict[str, list[Site]] = {c.carrier_id: [] for c in self.carriers}
        for site in self.sites:
            grouped.setdefault(site.carrier_id, []).append(site)
        return {k: tuple(v) for k, v in grouped.items()}

    @cached_property
    def crews_by_carrier(self) -> dict[str, dict[str, CrewPool]]:
        grouped: dict[str, dict[str, CrewPool]] = {c.carrier_id: {} for c in self.carriers}
        for pool in self.crews:
            grouped.setdefault(pool.carrier_id, {})[pool.crew_type] = pool
        return grouped

    @cached_property
    def crew_types(self) -> tuple[str, ...]:
        types = {p.crew_type for p in self.crews}
        types.update(k for s in self.sites for k, _ in s.crew_need)
        return tuple(sorted(types))

    def demand_usd(self, carrier_id: str) -> float:
        """A carrier's demand: the total cost of replacing all its sites."""
        return math.fsum(s.cost_usd for s in self.sites_by_carrier.get(carrier_id, ()))

    @property
    def total_demand_usd(self) -> float:
        return math.fsum(s.cost_usd for s in self.sites)


@dataclass(frozen=True)
class CarrierOutcome:
    """What the solver said about one carrier's schedule."""

    carrier_id: str
    status: str  # optimal | feasible | heuristic | trivial
    objective: float
    bound: float
    seconds: float


def solved_now() -> str:
    """The current moment in UTC to the second, as provenance records it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Plan:
    """A plan: money per carrier and the start period of every replaced site.

    Sites absent from `starts` are not replaced within the horizon. Every figure a
    report shows is derived from these fields by `planner.analysis.reports`.
    """

    dataset: Dataset
    scenario: Scenario
    allocation_usd: dict[str, float]
    starts: dict[str, int]
    status: str  # optimal | feasible | heuristic
    objective: float
    bound: float | None
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    wall_seconds: float = 0.0  # elapsed time; build and solve seconds add up over parallel workers
    solver: str = ""
    horizon: int = 0  # periods planned; the scenario's horizon unless a makespan plan needed more
    outcomes: tuple[CarrierOutcome, ...] = ()
    notes: tuple[str, ...] = ()
    # When the plan was solved (UTC, `2026-11-30T10:07:09Z`): a Plan is made as its solve ends, so its
    # creation is the solve's time. Not compared: two solves of the same inputs give equal plans.
    solved_at: str = field(default_factory=lambda: solved_now(), compare=False)
    stopped_by_clock: tuple[str, ...] = ()  # solves the time limit cut before their work budget was used
    fallback_reason: str = ""  # the optimal rule kept the pro-rata allocation, and why

    @property
    def gap(self) -> float | None:
        """Relative distance between the plan's objective and the best proven bound."""
        if self.bound is None:
            return None
        if abs(self.objective) < 1e-9:
            return 0.0
        return max(0.0, (self.objective - self.bound) / abs(self.objective))

    def finish(self, site_id: str) -> int | None:
        start = self.starts.get(site_id)
        if start is None:
            return None
        return start + self.dataset.site_by_id[site_id].duration_months
