"""Benchmark: why the formulation matters. One carrier of rural40, two models of the same problem.

- textbook: a binary x[s,t] = 1 if site s STARTS in period t, start times S_s = sum_t t x[s,t],
  precedence by big-M (S_s >= S_j + d_j - M (1 - sum_t x[s,t])), crews by summing the starts
  that cover each period;
- planner: the started-by variables z[s,t] with disaggregated precedence (planner.model),
  solved the planner's way (LP bound, alpha-point list schedules, then branch-and-bound).

Both get the same time limit; the script prints each one's objective, bound and gap, and the
ratio of their gaps, measured in one run.

    .venv/bin/python benchmarks/bench_formulation.py [--carrier c02] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pulp

import planner
from planner.engine.allocation import pro_rata
from planner.engine.planning import schedule_carrier
from planner.engine.solve import _make_integer, _run, load
from planner.model.case import CarrierCase, carrier_case, slug
from planner.model.linear import LinearModel


def textbook_model(case: CarrierCase) -> tuple[pulp.LpProblem, float]:
    """The start-at model with big-M precedence, same objective (exposure + weighted dark months)."""
    problem = pulp.LpProblem("textbook", pulp.LpMinimize)
    H = case.horizon
    x = {
        s: {t: problem.add_variable(f"x_{slug(s)}_{t}", cat=pulp.LpBinary) for t in case.windows[s]}
        for s in case.windows
    }
    replaced = {s: pulp.lpSum(x[s].values()) for s in x}
    start = {s: pulp.lpSum(t * v for t, v in x[s].items()) for s in x}
    for s in x:
        problem += replaced[s] <= 1
        for j in case.by_id[s].depends_on:
            problem += replaced[s] <= replaced[j]
            problem += start[s] >= start[j] + case.by_id[j].duration_months - H * (1 - replaced[s])
    for kind in {k for site in case.sites for k, _ in site.crew_need}:
        for t in range(H):
            load_terms = [
                (x[s][tau], case.by_id[s].need(kind))
                for s in x
                for tau in range(t - case.by_id[s].duration_months + 1, t + 1)
                if tau in x[s] and case.by_id[s].need(kind)
            ]
            if load_terms:
                problem += pulp.LpAffineExpression(load_terms) <= case.capacity_at(kind, t)
    problem += pulp.lpSum(case.by_id[s].cost_usd * replaced[s] for s in x) <= case.budget_usd
    constant = sum(case.unreplaced_cost(site) for site in case.sites)
    problem.setObjective(
        pulp.lpSum(
            case.by_id[s].population * (start[s] + case.by_id[s].duration_months * replaced[s])
            - case.unreplaced_cost(case.by_id[s]) * replaced[s]
            for s in x
        )
    )
    return problem, constant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--carrier", default="c02")
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    dataset = planner.read_dataset(ROOT / "datasets" / "rural40")
    scenario = dataset.default_scenario
    case = carrier_case(dataset, scenario, args.carrier, pro_rata(dataset, scenario)[args.carrier])
    print(f"carrier {args.carrier}: {len(case.sites)} sites, horizon {case.horizon}, time limit {args.time_limit:g} s")

    began = time.perf_counter()
    problem, constant = textbook_model(case)
    loaded = load(LinearModel.from_pulp(problem), constant)
    _make_integer(loaded)
    status, objective, bound, _ = _run(loaded, args.time_limit, scenario.mip_gap)
    textbook_seconds = time.perf_counter() - began
    textbook_gap = (
        (objective - bound) / abs(objective) if math.isfinite(objective) and math.isfinite(bound) else math.inf
    )
    print(
        f"textbook  {status:9s} objective {objective:16,.0f} bound {bound:16,.0f} "
        f"gap {textbook_gap:8.2%} {textbook_seconds:6.1f} s"
    )

    began = time.perf_counter()
    result = schedule_carrier(case, time.time() + args.time_limit, scenario.mip_gap)
    ours_seconds = time.perf_counter() - began
    ours_gap = (result.objective - result.bound) / abs(result.objective)
    print(
        f"planner   {result.status:9s} objective {result.objective:16,.0f} bound {result.bound:16,.0f} "
        f"gap {ours_gap:8.2%} {ours_seconds:6.1f} s"
    )
    if ours_gap > 0:
        print(
            f"gap ratio textbook/planner: {textbook_gap / ours_gap:,.1f}x; "
            f"time ratio {textbook_seconds / ours_seconds:,.1f}x"
        )
    else:
        print(f"planner closed its gap; time ratio textbook/planner {textbook_seconds / ours_seconds:,.1f}x")


if __name__ == "__main__":
    main()
