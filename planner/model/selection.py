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

import pulp

from planner.model.build import add_row
from planner.model.case import CarrierCase, slug


def build_selection(cases: list[CarrierCase], own_funds: dict[str, float], available_usd: float):
    """The selection MILP over all carriers; returns (problem, replaced vars, allocation vars, constant)."""
    problem = pulp.LpProblem("national_selection", pulp.LpMinimize)
    replaced: dict[str, pulp.LpVariable] = {}
    allocation: dict[str, pulp.LpVariable] = {}
    objective, constant = [], 0.0
    for case in cases:
        c = case.carrier_id
        allocation[c] = pulp.LpVariable(f"allocation__{slug(c)}", lowBound=0)
        for site_id in case.windows:
            replaced[site_id] = pulp.LpVariable(f"replaced__{slug(site_id)}", cat=pulp.LpBinary)
        for site_id in case.windows:
            for j in case.by_id[site_id].depends_on:
                add_row(
                    problem,
                    pulp.LpConstraint(
                        pulp.LpAffineExpression([(replaced[site_id], 1), (replaced[j], -1)]),
                        pulp.LpConstraintLE,
                        f"precedence__{slug(site_id)}__{slug(j)}",
                        0,
                    ),
                )
        money = [(replaced[s], case.by_id[s].cost_usd) for s in case.windows] + [(allocation[c], -1)]
        add_row(
            problem,
            pulp.LpConstraint(
                pulp.LpAffineExpression(money), pulp.LpConstraintLE, f"money__{slug(c)}", own_funds.get(c, 0.0)
            ),
        )
        for crew_type, periods in case.capacity.items():
            work = [
                (replaced[s], case.by_id[s].need(crew_type) * case.by_id[s].duration_months)
                for s in case.windows
                if case.by_id[s].need(crew_type) > 0
            ]
            if work and sum(w for _, w in work) > math.fsum(periods):
                add_row(
                    problem,
                    pulp.LpConstraint(
                        pulp.LpAffineExpression(work),
                        pulp.LpConstraintLE,
                        f"crew_months__{slug(c)}__{slug(crew_type)}",
                        math.fsum(periods),
                    ),
                )
        if case.objective == "makespan":
            finish = pulp.LpVariable(f"makespan__{slug(c)}", lowBound=0)
            for s in case.windows:
                earliest_finish = case.windows[s].start + case.by_id[s].duration_months
                add_row(
                    problem,
                    pulp.LpConstraint(
                        pulp.LpAffineExpression([(finish, 1), (replaced[s], -earliest_finish)]),
                        pulp.LpConstraintGE,
                        f"makespan__{slug(s)}",
                        0,
                    ),
                )
            objective.append((finish, 1.0))
            objective.extend((replaced[s], -case.unreplaced_penalty) for s in case.windows)
            constant += case.unreplaced_penalty * len(case.sites)
        else:
            for site in case.sites:
                unreplaced = case.unreplaced_cost(site)
                constant += unreplaced
                if site.site_id in case.windows:
                    earliest_finish = case.windows[site.site_id].start + site.duration_months
                    objective.append((replaced[site.site_id], site.population * earliest_finish - unreplaced))
    add_row(
        problem,
        pulp.LpConstraint(
            pulp.LpAffineExpression([(a, 1) for a in allocation.values()]), pulp.LpConstraintLE, "fund", available_usd
        ),
    )
    problem.setObjective(pulp.LpAffineExpression(objective))
    return problem, replaced, allocation, constant
