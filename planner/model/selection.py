"""The national selection model: which sites to fund, with the fund shared by all carriers.

Used by the `optimal` rule. It relaxes the monthly schedule to totals, so its optimum
is a valid lower bound on every plan's objective and its choice of sites fixes each
carrier's allocation; the carriers' schedules are then solved one by one.

    x_s in {0,1} replaced,  a_c >= 0 allocation
    x_s <= x_j                                          for s, j in pred(s)          (precedence)
    sum_{s in S_c} cost_s x_s <= a_c + own_c           for c                         (carrier money)
    sum_c a_c <= A                                                                   (the fund)
    sum_{s in S_c} need[s,k] d_s x_s <= sum_t cap[c,k,t]   for c, k                  (crew-months)
    exposure:  min sum_s u_s + sum_s (pop_s (e_s + d_s) - u_s) x_s      (finish_s >= e_s + d_s)
    makespan:  min P sum_s (1 - x_s) + sum_c C_c,   C_c >= (e_s + d_s) x_s
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from planner.model.case import CarrierCase, slug
from planner.model.linear import GE, LE, LinearModel, Terms


@dataclass
class SelectionModel:
    """The selection MILP with its columns by site and carrier, and its objective terms as they are added."""

    problem: LinearModel
    replaced: dict[str, int] = field(default_factory=dict)
    allocation: dict[str, int] = field(default_factory=dict)
    objective: Terms = field(default_factory=list)
    constant: float = 0.0

    def add(self, terms: Terms, sense: int, rhs: float, name: str) -> None:
        self.problem.add_row(name, terms, sense, rhs)


def add_selection_variables(m: SelectionModel, case: CarrierCase) -> None:
    """x_s binary for each site that fits the horizon, a_c >= 0 for the carrier."""
    m.allocation[case.carrier_id] = m.problem.column(f"allocation__{slug(case.carrier_id)}")
    for site_id in case.windows:
        m.replaced[site_id] = m.problem.binary(f"replaced__{slug(site_id)}")


def constrain_selected_precedence(m: SelectionModel, case: CarrierCase) -> None:
    """A site is funded only with every site it depends on.

    x_s <= x_j        for s, j in pred(s)
    """
    for site_id in case.windows:
        for j in case.by_id[site_id].depends_on:
            if j in case.fixed_starts:
                continue  # in progress or replaced: kept by the record, so x_j = 1
            m.add(
                [(m.replaced[site_id], 1), (m.replaced[j], -1)],
                LE,
                0,
                f"precedence__{slug(site_id)}__{slug(j)}",
            )


def constrain_carrier_money(m: SelectionModel, case: CarrierCase, own_funds_usd: float) -> None:
    """A carrier spends at most its allocation and its own funds.

    sum_{s in S_c} cost_s x_s - a_c <= own_c - F_c      (F_c: cost of the sites the record fixes)
    """
    money = [(m.replaced[s], case.by_id[s].cost_usd) for s in case.windows]
    m.add(
        [*money, (m.allocation[case.carrier_id], -1)],
        LE,
        own_funds_usd - case.fixed_cost_usd,  # the record's sites are paid for: F_c comes off first
        f"money__{slug(case.carrier_id)}",
    )


def constrain_crew_months(m: SelectionModel, case: CarrierCase) -> None:
    """The work funded fits the crew-months a carrier has over the horizon (rows that cannot bind are left out).

    sum_{s in S_c} need[s,k] d_s x_s <= sum_t cap[c,k,t]        for k
    """
    for crew_type, periods in case.capacity.items():
        work = [
            (m.replaced[s], case.by_id[s].need(crew_type) * case.by_id[s].duration_months)
            for s in case.windows
            if case.by_id[s].need(crew_type) > 0
        ]
        if work and sum(w for _, w in work) > math.fsum(periods):
            m.add(
                work,
                LE,
                math.fsum(periods),
                f"crew_months__{slug(case.carrier_id)}__{slug(crew_type)}",
            )


def constrain_fund(m: SelectionModel, available_usd: float) -> None:
    """The allocations share the fund.

    sum_c a_c <= A
    """
    m.add([(a, 1) for a in m.allocation.values()], LE, available_usd, "fund")


def objective_exposure(m: SelectionModel, case: CarrierCase) -> None:
    """Each funded site finishes no earlier than its earliest finish; an unfunded one costs what it costs unreplaced.

    sum_s u_s + sum_s (pop_s (e_s + d_s) - u_s) x_s
    """
    for site in case.sites:
        if site.site_id in case.fixed_starts:  # the record: pop_s * max(0, finish_s), a constant
            m.constant += site.population * max(0, case.fixed_starts[site.site_id] + site.duration_months)
            continue
        unreplaced = case.unreplaced_cost(site)
        m.constant += unreplaced
        if site.site_id in case.windows:
            earliest_finish = case.windows[site.site_id].start + site.duration_months
            m.objective.append((m.replaced[site.site_id], site.population * earliest_finish - unreplaced))


def objective_makespan(m: SelectionModel, case: CarrierCase) -> None:
    """A penalty P per site not replaced, plus the carrier's last earliest finish.

    P sum_s (1 - x_s) + C_c,   C_c >= (e_s + d_s) x_s
    """
    recorded_finish = max((p + case.by_id[s].duration_months for s, p in case.fixed_starts.items()), default=0)
    finish = m.problem.column(f"makespan__{slug(case.carrier_id)}", max(0, recorded_finish))
    for s in case.windows:
        earliest_finish = case.windows[s].start + case.by_id[s].duration_months
        m.add([(finish, 1), (m.replaced[s], -earliest_finish)], GE, 0, f"makespan__{slug(s)}")
    m.objective.append((finish, 1.0))
    m.objective.extend((m.replaced[s], -case.unreplaced_penalty) for s in case.windows)
    m.constant += case.unreplaced_penalty * (len(case.sites) - len(case.fixed_starts))


def build_selection(
    cases: list[CarrierCase], own_funds: dict[str, float], available_usd: float
) -> tuple[LinearModel, dict[str, int], dict[str, int], float]:
    """The selection MILP over all carriers; returns (problem, replaced columns, allocation columns, constant)."""
    m = SelectionModel(LinearModel("national_selection"))
    for case in cases:
        add_selection_variables(m, case)
        constrain_selected_precedence(m, case)
        constrain_carrier_money(m, case, own_funds.get(case.carrier_id, 0.0))
        constrain_crew_months(m, case)
        (objective_makespan if case.objective == "makespan" else objective_exposure)(m, case)
    constrain_fund(m, available_usd)
    m.problem.set_objective(m.objective)
    return m.problem, m.replaced, m.allocation, m.constant
