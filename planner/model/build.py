"""The time-indexed scheduling model of one carrier (arrays of `planner.model.linear`; PuLP to read it).

Variables, for each replaceable site s and each period t of its window [e_s, L_s]:

    z[s,t] = 1  if work on s has started in period t or earlier ("started-by" form)

so start_s = e_s + sum_{t=e_s}^{L_s-1} (x_s - z[s,t]) and x_s = z[s,L_s] says s is replaced
within the horizon. Outside the window z is a constant: 0 before e_s and x_s after L_s.
The started-by form gives the disaggregated precedence rows of Pritsker et al., whose LP
relaxation is much tighter than the textbook "start-at" binaries with big-M precedence.

Like sites (`CarrierCase.like_sites`: same cost, duration, crews, window and predecessors,
nobody waiting for them) are one group g of n_g sites, and z[g,t] in {0..n_g} counts how
many of them have started by t: every row below reads the same with z[g,t] in place of
z[s,t] and n_g * cost (crews, ...) in place of one site's. Which sites those are follows:
the heaviest first (see `like_sites`). The objective then needs the people of the z[g,t]
heaviest sites, a concave function of z[g,t]; it is given exactly by fill variables
f[g,q,t] in [0, m_q], one per population q of the group (m_q sites have it), with
sum_q f[g,q,t] <= z[g,t] ("fill" rows): minimising pulls the fill onto the largest q first.
A group of 1 is a site and has no fill. On c01 of rural40 (896 sites, 106 groups) the LP
has a third of the columns' rows and solves about 6x faster than one binary per site,
to the same bound.

Each constraint family is one function below with its math; `build_model` applies them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from planner.core.schema import Site
from planner.model.case import CarrierCase, slug
from planner.model.linear import GE, LE, LinearModel, Terms


@dataclass
class PlanModel:
    """A linear model plus the index that maps columns and rows back to sites and periods.

    Columns (ints, see `planner.model.linear`) are held per group of like sites, under the id of
    the group's first (heaviest) site: `started_by[lead][t]` is z[g,t], `groups[lead]` the group's
    sites, heaviest first. Several carriers' models may share one `problem` (the national model).
    """

    case: CarrierCase
    problem: LinearModel
    started_by: dict[str, dict[int, int]] = field(default_factory=dict)
    objective_constant: float = 0.0
    families: dict[str, list[tuple]] = field(default_factory=dict)
    extra: dict[str, dict[int, int]] = field(default_factory=dict)  # more families: work_going
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # lead site -> the group's sites
    lead_of: dict[str, str] = field(default_factory=dict)  # site -> the lead site of its group
    fill: dict[str, dict[int, dict[int, int]]] = field(default_factory=dict)  # lead -> q -> t -> f

    def z(self, site_id: str, period: int) -> int | None:
        """z[g,t] of the site's group as a column, or None before the window; after it, z[g,L_g]."""
        window = self.case.windows[site_id]
        if period < window.start:
            return None
        return self.started_by[self.lead_of[site_id]][min(period, window.stop - 1)]

    def replaced(self, site_id: str) -> int:
        """x_g = z[g, L_g]: how many sites of the group are replaced (x_s for a site alone)."""
        window = self.case.windows[site_id]
        return self.started_by[self.lead_of[site_id]][window.stop - 1]

    def size(self, lead: str) -> int:
        return len(self.groups[lead])

    def add(self, terms: Terms, sense: int, rhs: float, family: str, keys: tuple) -> None:
        """Add sum(coef * column) <sense> rhs as a named row of `family` indexed by `keys`."""
        name = f"{family}__{'__'.join(slug(str(k)) for k in keys)}"
        self.problem.add_row(name, terms, sense, rhs)
        self.families.setdefault(family, []).append(keys)

    def values_of(self, starts: dict[str, int]) -> dict[int, float]:
        """Column values of a known schedule (a warm start).

        A group's count is how many of its sites have started by t; the fill is that many of its
        heaviest sites, so a schedule that started lighter sites of a group first gets the value of
        the same starts given to the heaviest (never more).
        """
        values: dict[int, float] = {}
        for lead, periods in self.started_by.items():
            members = self.groups[lead]
            begun = sorted(starts[s] for s in members if s in starts)
            for t, column in periods.items():
                values[column] = float(sum(1 for start in begun if start <= t))
            for population, by_period in self.fill.get(lead, {}).items():
                for t, column in by_period.items():
                    count = int(values[periods[t]])
                    values[column] = float(
                        sum(1 for s in members[:count] if self.case.by_id[s].population == population)
                    )
        return values

    def read_starts(self, value: Callable[[int], float]) -> dict[str, int]:
        """Start period of each site a solution replaces; `value(column)` reads a column.

        A site alone starts at the first t with z[s,t] = 1; in a group the k-th heaviest site
        starts at the first t with z[g,t] >= k.
        """
        starts = {}
        for lead, periods in self.started_by.items():
            members = self.groups[lead]
            placed = 0
            for t in sorted(periods):
                count = min(len(members), int(math.floor(value(periods[t]) + 0.5)))
                while placed < count:
                    starts[members[placed]] = t
                    placed += 1
        return starts

    def site_fractions(self, value: Callable[[int], float]) -> dict[str, dict[int, float]]:
        """A fractional solution as each site's started-by fractions (for alpha-point rounding).

        A site of a group gets its population's fill shared evenly, f[g,q,t] / m_q; sites with no
        people share what the count holds beyond the fill.
        """
        fractions: dict[str, dict[int, float]] = {}
        for lead, periods in self.started_by.items():
            members = self.groups[lead]
            if len(members) == 1:
                fractions[lead] = {t: value(var) for t, var in periods.items()}
                continue
            fill = self.fill.get(lead, {})
            nobody = [s for s in members if self.case.by_id[s].population not in fill]
            for s in members:
                population = self.case.by_id[s].population
                if population in fill:
                    share = len([m for m in members if self.case.by_id[m].population == population])
                    fractions[s] = {t: min(1.0, max(0.0, value(var) / share)) for t, var in fill[population].items()}
                else:
                    fractions[s] = {
                        t: min(1.0, max(0.0, (value(var) - sum(value(f[t]) for f in fill.values())) / len(nobody)))
                        for t, var in periods.items()
                    }
        return fractions


def add_started_by_variables(m: PlanModel) -> None:
    """z[g,t] per group of like sites and period of its window: binary for a site alone, else in {0..n_g}.

    A group of more than one site also gets its fill variables f[g,q,t] in [0, m_q] (see the module).
    """
    for members in m.case.like_sites:
        lead = members[0]
        m.groups[lead] = members
        m.lead_of.update(dict.fromkeys(members, lead))
        window = m.case.windows[lead]
        name = slug(lead)
        if len(members) == 1:
            m.started_by[lead] = {t: m.problem.binary(f"z__{name}__{t}") for t in window}
            continue
        m.started_by[lead] = {t: m.problem.column(f"z__{name}__{t}", 0, len(members), integer=True) for t in window}
        tiers: dict[int, int] = {}
        for s in members:
            population = m.case.by_id[s].population
            if population > 0:
                tiers[population] = tiers.get(population, 0) + 1
        m.fill[lead] = {
            q: {t: m.problem.column(f"f__{name}__{q}__{t}", 0, count) for t in window} for q, count in tiers.items()
        }


def constrain_started_once(m: PlanModel) -> None:
    """Once started, a site stays started.

    z[g,t] <= z[g,t+1]        for g, t in [e_g, L_g - 1]
    """
    for lead, z in m.started_by.items():
        window = m.case.windows[lead]
        for t in range(window.start, window.stop - 1):
            m.add([(z[t], 1), (z[t + 1], -1)], LE, 0, "started_once", (lead, t))


def constrain_precedence(m: PlanModel) -> None:
    """A site starts only after every site it depends on has finished.

    z[g,t] <= n_g * z[j, t - d_j]       for g, j in pred(g), t in [e_g, L_g]
    f[g,q,t] <= m_q * z[j, t - d_j]     for each population q of a group g

    (start_s <= t implies start_j <= t - d_j, i.e. j finished by t). Summing over t
    gives the aggregated start_s >= start_j + d_j; the disaggregated rows are stronger.
    Nobody waits for a site of a group, so j is a site alone (n_j = 1). The fill rows are
    the per-site rows z[s,t] <= z[j, t - d_j] summed over the m_q sites of q: without them
    the LP could credit the heaviest sites with a start the predecessor allows only a
    fraction of, and its bound would be much weaker.
    """
    case = m.case
    for lead, z in m.started_by.items():
        site, n = case.by_id[lead], m.size(lead)
        for j in dict.fromkeys(site.depends_on):  # a repeated predecessor is one rule, not two rows
            if j in case.fixed_starts:
                continue  # a recorded start: e_s >= its finish by construction of the window
            duration = case.by_id[j].duration_months
            for t in z:
                before = m.z(j, t - duration)
                if before is None:  # cannot happen: e_s >= e_j + d_j by construction
                    raise AssertionError(f"window of {lead} starts before {j} can finish")
                m.add([(z[t], 1), (before, -n)], LE, 0, "precedence", (lead, j, t))
                for q, fill in m.fill.get(lead, {}).items():
                    count = m.problem.upper[fill[t]]
                    m.add([(fill[t], 1), (before, -count)], LE, 0, "precedence", (lead, j, q, t))


def started_by(m: PlanModel, site_id: str, period: int) -> int:
    """z[g,t] of a site whose window starts by t (the rows that call this only take such sites)."""
    column = m.z(site_id, period)
    if column is None:
        raise AssertionError(f"period {period} is before the window of {site_id}")
    return column


def running(m: PlanModel, site: Site, period: int) -> Terms:
    """Terms of `sites of s's group being worked on in period t` = z[g,t] - z[g,t-d_s]."""
    now = m.z(site.site_id, period)
    if now is None:
        return []
    terms: Terms = [(now, 1.0)]
    before = m.z(site.site_id, period - site.duration_months)
    if before is not None:
        if before is now:
            return []
        terms.append((before, -1.0))
    return terms


def constrain_crews(m: PlanModel) -> None:
    """Work in progress never exceeds the crews a carrier has, per crew type and month.

    sum_g need[g,k] * (z[g,t] - z[g,t-d_g]) <= cap[k,t]      for k, t

    Rows that can never bind (all sites that might run at t fit together) are left out.
    Planned work starts at as_of or later, so rows start there; cap[k,t] is what in-progress
    sites leave (`planner.model.case.capacity_left`).
    """
    case = m.case
    for crew_type in sorted({k for s in case.sites for k, _ in s.crew_need}):
        users = [case.by_id[lead] for lead in m.started_by if case.by_id[lead].need(crew_type) > 0]
        for t in range(max(0, case.as_of), case.horizon):
            active = [
                s
                for s in users
                if case.windows[s.site_id].start <= t < case.windows[s.site_id].stop - 1 + s.duration_months
            ]
            capacity = case.capacity_at(crew_type, t)
            if math.fsum(s.need(crew_type) * m.size(s.site_id) for s in active) <= capacity + 1e-9:
                continue
            terms = [(var, coef * s.need(crew_type)) for s in active for var, coef in running(m, s, t)]
            m.add(terms, LE, capacity, "crews", (case.carrier_id, crew_type, t))


def constrain_budget(m: PlanModel) -> None:
    """A carrier never spends more than its allocation plus its own funds.

    sum_g cost_g * x_g <= allocation_c + own_funds_c

    Spending only grows over time, so this bounds cumulative spending in every month.
    Sites the record fixes (in progress, replaced) have no x_s: their cost F_c is spent,
    so the row is sum_{planned s} cost_s * x_s <= max(0, allocation_c + own_funds_c - F_c).
    """
    case = m.case
    total = math.fsum(case.by_id[s].cost_usd for s in case.windows)
    if total <= case.planned_budget_usd + 1e-6:
        return
    terms = [(m.replaced(g), case.by_id[g].cost_usd) for g in m.started_by if case.by_id[g].cost_usd > 0]
    m.add(terms, LE, case.planned_budget_usd, "budget", (case.carrier_id,))


def constrain_cumulative_funding(m: PlanModel) -> None:
    """Money arrives in tranches: by every month a carrier has spent at most what it has in hand.

    sum_g cost_g * z[g,t] <= own_c + allocation_c * phi(t)        for t in T_c

    phi(t) is the fraction of the fund arrived by t (`planner.core.clock`); a site's cost is
    drawn in the month its work starts, so the left side is the cost of the sites started by
    t (z[s,t] = 0 before e_s and x_s after L_s). phi is constant between arrivals and the
    left side only grows, so T_c holds only the last month of each stretch with phi < 1;
    rows whose sites cannot overspend even all together are left out. After the last
    tranche `constrain_budget` is the same row with phi = 1.
    """
    case = m.case
    for period, money in case.money_steps:
        started = [g for g in m.started_by if case.windows[g].start <= period and case.by_id[g].cost_usd > 0]
        if math.fsum(case.by_id[g].cost_usd * m.size(g) for g in started) <= money + 1e-6:
            continue
        terms = [(started_by(m, g, period), case.by_id[g].cost_usd) for g in started]
        m.add(terms, LE, money, "cumulative_funding", (case.carrier_id, period))


def objective_exposure(m: PlanModel) -> Terms:
    """People first, then time on covered gear.

    min  sum_s pop_s * finish_s * x_s  +  sum_s u_s * (1 - x_s),   u_s = pop_s * (D + w * max(0, H - D))

    With start_s = e_s + sum_{t<L_s} (x_s - z[s,t]) this is linear in z:

    min  sum_s [ (pop_s * (L_s + d_s) - u_s) * z[s,L_s] - pop_s * sum_{t=e_s}^{L_s-1} z[s,t] ]  +  sum_s u_s

    L_s is the window's last start: H - d_s, or earlier when the crews a site needs are missing
    at the end of the horizon (winter). pop_s * H in place of pop_s * (L_s + d_s) would overcharge
    such a site by pop_s * (H - d_s - L_s) and steer the MILP away from replacing it.

    A group of like sites counts its heaviest started sites through its fill (U = u_s / pop_s,
    the same for the group, and L_g + d_g <= U by `like_sites`, so no coefficient is positive):

    min  sum_q q * [ (L_g + d_g - U) * f[g,q,L_g] - sum_{t=e_g}^{L_g-1} f[g,q,t] ]  +  sum_{s in g} u_s
    sum_q f[g,q,t] <= z[g,t]                                   ("fill", for t in [e_g, L_g])
    """
    case = m.case
    terms: Terms = []
    constant = 0.0
    for site in case.sites:
        if site.site_id in case.fixed_starts:  # the record: a constant pop_s * max(0, finish_s)
            constant += site.population * max(0, case.fixed_starts[site.site_id] + site.duration_months)
            continue
        constant += case.unreplaced_cost(site)
    for lead, z in m.started_by.items():
        site = case.by_id[lead]
        last = case.windows[lead].stop - 1
        if m.size(lead) == 1:
            unreplaced = case.unreplaced_cost(site)
            if site.population == 0 and unreplaced == 0:
                continue
            terms.append((z[last], site.population * (last + site.duration_months) - unreplaced))
            terms.extend((z[t], -float(site.population)) for t in z if t != last)
            continue
        fill = m.fill[lead]
        if not fill:  # nobody in the group: it counts nothing either way
            continue
        for t in z:
            m.add([(f[t], 1.0) for f in fill.values()] + [(z[t], -1.0)], LE, 0, "fill", (lead, t))
        months = case.unreplaced_months(site)
        for q, by_period in fill.items():
            terms.append((by_period[last], q * (last + site.duration_months - months)))
            terms.extend((by_period[t], -float(q)) for t in by_period if t != last)
    m.objective_constant = constant
    return terms


def objective_makespan(m: PlanModel) -> Terms:
    """Replace every site the money allows, then finish the last one as early as possible.

    min  P * sum_s (1 - x_s)  +  sum_t y_t,     P = H + 1 (more than any makespan)
    y_t >= x_s - z[s, t - d_s]     (s replaced but not finished by t: work goes on in t)
    y_t >= y_{t+1},  0 <= y_t <= 1

    so sum_t y_t is the makespan max_s finish_s of the replaced sites.
    """
    case = m.case
    periods = range(case.horizon)
    # the record's work (in progress, replaced) goes on until its finish: y_t = 1 there
    recorded_finish = max((p + case.by_id[s].duration_months for s, p in case.fixed_starts.items()), default=0)
    going = {
        t: m.problem.column(f"work_going__{slug(case.carrier_id)}__{t}", 1 if t < recorded_finish else 0, 1)
        for t in periods
    }
    m.extra["work_going"] = going
    for t in periods[:-1]:
        m.add([(going[t], 1), (going[t + 1], -1)], GE, 0, "makespan_order", (case.carrier_id, t))
    for site_id, window in case.windows.items():
        duration = case.by_id[site_id].duration_months
        x = m.replaced(site_id)
        m.add(
            [(going[window.start + duration - 1], 1), (x, -1)],
            GE,
            0,
            "makespan",
            (site_id, window.start),
        )
        for t in range(window.start + duration, window.stop - 1 + duration):
            m.add(
                [(going[t], 1), (x, -1), (m.started_by[site_id][t - duration], 1)],
                GE,
                0,
                "makespan",
                (site_id, t),
            )
    penalty = case.unreplaced_penalty
    m.objective_constant = penalty * (len(case.sites) - len(case.fixed_starts))
    return [(m.replaced(s), -penalty) for s in case.windows] + [(going[t], 1.0) for t in periods]


def constrain_fund(models: list[PlanModel], own_funds: dict[str, float], available_usd: float) -> dict[str, int]:
    """National model: carriers share the fund; each spends at most its allocation plus own funds.

    sum_{g in S_c} cost_g * x_g - a_c <= own_c      for c        (a_c >= 0, the allocation)
    sum_c a_c <= A                                               (the fund less the reserve)
    """
    allocation = {}
    for m in models:
        c = m.case.carrier_id
        allocation[c] = m.problem.column(f"allocation__{slug(c)}")
        terms = [(m.replaced(g), m.case.by_id[g].cost_usd) for g in m.started_by if m.case.by_id[g].cost_usd > 0]
        m.add(terms + [(allocation[c], -1.0)], LE, own_funds.get(c, 0.0), "carrier_money", (c,))
    if models:
        models[0].add([(a, 1.0) for a in allocation.values()], LE, available_usd, "fund", ("national",))
    return allocation


def constrain_cumulative_fund_draws(models: list[PlanModel], allocation: dict[str, int]) -> None:
    """National model with tranches: a carrier's draws by t stay within its share of what arrived.

    sum_{g in S_c} cost_g * z[g,t] - phi(t) * a_c <= own_c      for c, t in T (see constrain_cumulative_funding)
    """
    for m in models:
        case = m.case
        for period, phi in case.arrival_steps:
            started = [g for g in m.started_by if case.windows[g].start <= period and case.by_id[g].cost_usd > 0]
            if not started:
                continue
            terms = [(started_by(m, g, period), case.by_id[g].cost_usd) for g in started]
            m.add(
                terms + [(allocation[case.carrier_id], -phi)],
                LE,
                case.own_funds_usd,
                "cumulative_fund_draws",
                (case.carrier_id, period),
            )


SCHEDULE_FAMILIES: tuple[Callable[[PlanModel], None], ...] = (
    constrain_started_once,
    constrain_precedence,
    constrain_crews,
)
CONSTRAINT_FAMILIES: tuple[Callable[[PlanModel], None], ...] = (
    *SCHEDULE_FAMILIES,
    constrain_budget,
    constrain_cumulative_funding,
)
OBJECTIVES: dict[str, Callable[[PlanModel], Terms]] = {
    "exposure": objective_exposure,
    "makespan": objective_makespan,
}


def build_model(case: CarrierCase, families: Iterable[Callable[[PlanModel], None]] | None = None) -> PlanModel:
    """The carrier's MILP: variables, every constraint family, then the objective.

    `families` replaces CONSTRAINT_FAMILIES; tests drop one to show its rows change an optimum.
    """
    m = PlanModel(case, LinearModel(f"schedule__{slug(case.carrier_id)}"))
    add_started_by_variables(m)
    for family in CONSTRAINT_FAMILIES if families is None else families:
        family(m)
    m.problem.set_objective(OBJECTIVES[case.objective](m))
    return m


@dataclass
class NationalModel:
    """Every carrier's schedule in one problem, coupled by the fund (the `optimal` rule, small cases)."""

    problem: LinearModel
    models: list[PlanModel]
    allocation: dict[str, int]
    objective_constant: float


def build_national_model(cases: list[CarrierCase], own_funds: dict[str, float], available_usd: float) -> NationalModel:
    """All carriers' MILPs in one problem, money chosen by the model: exact for the `optimal` rule."""
    problem = LinearModel("national_schedule")
    models, terms = [], []
    for case in cases:
        m = PlanModel(case, problem)
        add_started_by_variables(m)
        for family in SCHEDULE_FAMILIES:
            family(m)
        terms.extend(OBJECTIVES[case.objective](m))
        models.append(m)
    allocation = constrain_fund(models, own_funds, available_usd)
    constrain_cumulative_fund_draws(models, allocation)
    problem.set_objective(terms)
    return NationalModel(problem, models, allocation, sum(m.objective_constant for m in models))
