"""The makespan model of one carrier as a constraint program (OR-Tools CP-SAT).

A makespan plan replaces every site the money allows, then finishes the last one as early as
possible: a resource-constrained project scheduling problem (RCPSP) with optional jobs. Its
time-indexed MILP bound is weak (45 against an optimum of 58 on one PSPLIB j30 instance), while
constraint programming with interval variables and cumulative constraints proves such
problems in seconds, so makespan cases are solved here; the exposure objective stays with the
MILP of `planner.model.build`. The model is the same problem, variable for variable:

    x_s in {0,1} replaced,  S_s in [e_s, L_s] start,  I_s = [S_s, S_s + d_s) present iff x_s
    C in [F, H] the carrier's last finish (F: the record's last finish)

with one function per constraint family below, each with its math. CP-SAT takes integers only:
crew units are scaled by 10^k (k <= 3) and money by 10^j (j <= 4, cents and below) until every
value is whole; data that no such scale makes whole is left to the MILP (`build_constraint_program`
returns None). Bounds are rounded the safe way (a budget down to the scale), so every plan of the
program keeps every rule in the original units.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from planner.model.case import CarrierCase

CREW_SCALES = (1, 10, 100, 1000)
MONEY_SCALES = (1, 100, 10_000)
LARGEST_WHOLE = 2**53  # sums of scaled money stay exact in a double and far inside int64


@dataclass
class ConstraintProgram:
    """A CP-SAT model of one carrier with its variables by site."""

    case: CarrierCase
    model: cp_model.CpModel
    crew_scale: int
    money_scale: int
    replaced: dict[str, cp_model.IntVar] = field(default_factory=dict)
    start: dict[str, cp_model.IntVar] = field(default_factory=dict)
    interval: dict[str, cp_model.IntervalVar] = field(default_factory=dict)
    last_finish: cp_model.IntVar | None = None
    objective_constant: int = 0
    families: dict[str, int] = field(default_factory=dict)  # family -> constraints added

    def counted(self, family: str, count: int = 1) -> None:
        self.families[family] = self.families.get(family, 0) + count

    def money(self, usd: float) -> int:
        """An amount in whole units of the money scale (exact for costs, by `whole_scale`)."""
        return round(usd * self.money_scale)

    def money_cap(self, usd: float) -> int:
        """A cap in whole units, rounded down: whole costs within it are within the cap in dollars."""
        return math.floor(usd * self.money_scale + 1e-6)


def whole_scale(values: Iterable[float], scales: tuple[int, ...]) -> int | None:
    """The first scale that makes every value a whole number (to 1e-9 of it), or None."""
    values = list(values)
    for scale in scales:
        if all(abs(v * scale - round(v * scale)) <= 1e-9 * max(1.0, abs(v * scale)) for v in values):
            if all(abs(v * scale) < LARGEST_WHOLE for v in values):
                return scale
    return None


def add_site_intervals(m: ConstraintProgram) -> None:
    """x_s, S_s in the window [e_s, L_s] and the optional interval I_s = [S_s, S_s + d_s) present iff x_s."""
    for site_id, window in m.case.windows.items():
        site = m.case.by_id[site_id]
        name = site_id
        m.replaced[site_id] = m.model.new_bool_var(f"x[{name}]")
        m.start[site_id] = m.model.new_int_var(window.start, window.stop - 1, f"S[{name}]")
        m.interval[site_id] = m.model.new_optional_fixed_size_interval_var(
            m.start[site_id], site.duration_months, m.replaced[site_id], f"I[{name}]"
        )


def constrain_cp_precedence(m: ConstraintProgram) -> None:
    """A site is replaced only with the sites it depends on, and starts after they finish.

    x_s <= x_j   and   x_s => S_s >= S_j + d_j        for s, j in pred(s)

    A predecessor the record fixes (in progress, replaced) is already in the window e_s.
    """
    case = m.case
    for site_id in case.windows:
        for j in dict.fromkeys(case.by_id[site_id].depends_on):
            if j in case.fixed_starts:
                continue
            m.model.add_implication(m.replaced[site_id], m.replaced[j])
            m.model.add(m.start[site_id] >= m.start[j] + case.by_id[j].duration_months).only_enforce_if(
                m.replaced[site_id]
            )
            m.counted("precedence", 2)


def constrain_cp_crews(m: ConstraintProgram) -> None:
    """Work in progress never exceeds the crews a carrier has, per crew type and month.

    cumulative({I_s : need[s,k] > 0}, need[s,k], K_k)  with blocks [t, t+1) of K_k - cap[k,t]   for k

    K_k = max_t cap[k,t]; a month with fewer crews (winter, crews held by in-progress work) is a
    fixed block of the missing units, so the work running in t has at most cap[k,t]. Units are
    scaled by `crew_scale` (whole numbers).
    """
    case = m.case
    scale = m.crew_scale
    for crew_type in sorted({k for s in case.sites for k, _ in s.crew_need}):
        users = [s for s in case.windows if case.by_id[s].need(crew_type) > 0]
        if not users:
            continue
        capacity = [round(case.capacity_at(crew_type, t) * scale) for t in range(case.horizon)]
        peak = max(capacity, default=0)
        intervals = [m.interval[s] for s in users]
        demands = [round(case.by_id[s].need(crew_type) * scale) for s in users]
        for t, units in enumerate(capacity):
            if units < peak:
                intervals.append(m.model.new_fixed_size_interval_var(t, 1, f"block[{crew_type},{t}]"))
                demands.append(peak - units)
        m.model.add_cumulative(intervals, demands, peak)
        m.counted("crews")


def constrain_cp_budget(m: ConstraintProgram) -> None:
    """A carrier never spends more than its allocation plus its own funds, less what the record spent.

    sum_s cost_s x_s <= max(0, allocation_c + own_funds_c - F_c)
    """
    case = m.case
    if not math.isfinite(case.planned_budget_usd):
        return
    costs = {s: m.money(case.by_id[s].cost_usd) for s in case.windows}
    if sum(costs.values()) <= m.money_cap(case.planned_budget_usd):
        return
    m.model.add(sum(costs[s] * m.replaced[s] for s in costs if costs[s]) <= m.money_cap(case.planned_budget_usd))
    m.counted("budget")


def constrain_cp_cumulative_funding(m: ConstraintProgram) -> None:
    """Money arrives in tranches: by every month a carrier has spent at most what it has in hand.

    sum_s cost_s [x_s and S_s <= t] <= money(t)        for t in T_c (`CarrierCase.money_steps`)

    [x_s and S_s <= t] is a literal b_st with  x_s and (S_s <= t)  =>  b_st (the only direction a
    cap needs: a site started by t is counted).
    """
    case = m.case
    for period, money in case.money_steps:
        started = [s for s in case.windows if case.windows[s].start <= period and case.by_id[s].cost_usd > 0]
        if sum(m.money(case.by_id[s].cost_usd) for s in started) <= m.money_cap(money):
            continue
        terms = []
        for s in started:
            if case.windows[s].stop - 1 <= period:  # always started by t when replaced
                terms.append(m.money(case.by_id[s].cost_usd) * m.replaced[s])
                continue
            early = m.model.new_bool_var(f"early[{s},{period}]")
            m.model.add(m.start[s] <= period).only_enforce_if(early)
            m.model.add(m.start[s] >= period + 1).only_enforce_if(~early)
            counted = m.model.new_bool_var(f"drawn[{s},{period}]")
            m.model.add_bool_or([~m.replaced[s], ~early, counted])
            terms.append(m.money(case.by_id[s].cost_usd) * counted)
        m.model.add(sum(terms) <= m.money_cap(money))
        m.counted("cumulative_funding")


def objective_cp_makespan(m: ConstraintProgram) -> None:
    """Replace every site the money allows, then finish the last one as early as possible.

    min  P * sum_s (1 - x_s)  +  C,     P = H + 1 (more than any makespan)
    C >= S_s + d_s  if x_s,   C >= F (the record's last finish)
    """
    case = m.case
    recorded = max((p + case.by_id[s].duration_months for s, p in case.fixed_starts.items()), default=0)
    m.last_finish = m.model.new_int_var(max(0, recorded), max(case.horizon, recorded), "C")
    for site_id in case.windows:
        m.model.add(m.last_finish >= m.start[site_id] + case.by_id[site_id].duration_months).only_enforce_if(
            m.replaced[site_id]
        )
    penalty = int(case.unreplaced_penalty)
    m.objective_constant = penalty * (len(case.sites) - len(case.fixed_starts))
    m.model.minimize(m.last_finish - penalty * sum(m.replaced.values()))


CP_FAMILIES: tuple[Callable[[ConstraintProgram], None], ...] = (
    constrain_cp_precedence,
    constrain_cp_crews,
    constrain_cp_budget,
    constrain_cp_cumulative_funding,
)


def build_constraint_program(
    case: CarrierCase, families: Iterable[Callable[[ConstraintProgram], None]] | None = None
) -> ConstraintProgram | None:
    """The carrier's makespan problem as a constraint program, or None when its data has no whole scale.

    `families` replaces CP_FAMILIES; tests drop one to show it changes an optimum.
    """
    if case.objective != "makespan":
        raise ValueError("the constraint program models the makespan objective only")
    crews = [u for s in case.sites for _, u in s.crew_need] + [v for c in case.capacity.values() for v in c]
    crew_scale = whole_scale(crews, CREW_SCALES)
    money = [case.by_id[s].cost_usd for s in case.windows]
    money_scale = whole_scale(money, MONEY_SCALES)
    if crew_scale is None or money_scale is None or sum(money) * money_scale >= LARGEST_WHOLE:
        return None
    m = ConstraintProgram(case, cp_model.CpModel(), crew_scale, money_scale)
    add_site_intervals(m)
    for family in CP_FAMILIES if families is None else families:
        family(m)
    objective_cp_makespan(m)
    return m
