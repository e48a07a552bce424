"""Benchmark: the planner at scale, with build time and peak memory.

Two datasets made from the embedded rural40 (issue 9):

- `copies`: N copies of rural40 side by side (default 6: 25,104 sites, 240 carriers), every id
  suffixed, the fund and reserve multiplied by N so every carrier gets what it gets in rural40;
- `operator`: one carrier holding K copies of rural40's largest carrier c01 (default 5: 4,480
  sites, the size of a national operator's Huawei removal in Europe), ids suffixed, with
  `--crew-factor` times c01's crews (default 2.5: tighter than K independent c01s would have)
  and its whole demand funded (crews bind) unless `--fund-share` says less.

Each plan is solved in one run with `--rule greedy` on the same data first (the yardstick), and
checked by `planner.check_plan`. Printed: wall time, the ratio to greedy, build and solve seconds
summed over workers, status, gap, peak memory of this process and of the largest worker.

    .venv/bin/python benchmarks/bench_scale.py                     # both datasets
    .venv/bin/python benchmarks/bench_scale.py --only operator --copies 5 --crew-factor 2.5
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import planner
from planner.core.schema import Carrier, CrewPool, Dataset, Scenario, Site


def copied_site(site: Site, suffix: str, carrier_id: str) -> Site:
    return replace(
        site,
        site_id=site.site_id + suffix,
        carrier_id=carrier_id,
        depends_on=tuple(j + suffix for j in site.depends_on),
    )


def copies_of(dataset: Dataset, copies: int) -> tuple[Dataset, Scenario]:
    """`copies` copies of every carrier, crew and site, ids suffixed `-k`; the fund times `copies`."""
    carriers, crews, sites = [], [], []
    for k in range(copies):
        suffix = f"-{k}"
        carriers.extend(replace(c, carrier_id=c.carrier_id + suffix) for c in dataset.carriers)
        crews.extend(replace(p, carrier_id=p.carrier_id + suffix) for p in dataset.crews)
        sites.extend(copied_site(s, suffix, s.carrier_id + suffix) for s in dataset.sites)
    base = dataset.default_scenario or Scenario()
    scenario = base.with_overrides(fund_usd=base.fund_usd * copies, admin_reserve_usd=base.admin_reserve_usd * copies)
    return Dataset(tuple(carriers), tuple(crews), tuple(sites), name=f"rural40 x{copies}"), scenario


def operator_of(dataset: Dataset, copies: int, crew_factor: float, fund_share: float) -> tuple[Dataset, Scenario]:
    """One carrier with `copies` copies of c01's sites and `crew_factor` times its crews."""
    largest = max(dataset.carriers, key=lambda c: len(dataset.sites_by_carrier[c.carrier_id]))
    carrier_id = "operator"
    sites = [
        copied_site(s, f"-{k}", carrier_id) for k in range(copies) for s in dataset.sites_by_carrier[largest.carrier_id]
    ]
    crews = [
        CrewPool(
            carrier_id,
            pool.crew_type,
            round(pool.capacity * crew_factor),
            None if pool.winter_capacity is None else round(pool.winter_capacity * crew_factor),
        )
        for pool in dataset.crews_by_carrier[largest.carrier_id].values()
    ]
    demand = sum(s.cost_usd for s in sites)
    carrier = Carrier(carrier_id, "one national operator", largest.state, largest.subscribers * copies)
    scenario = (dataset.default_scenario or Scenario()).with_overrides(
        fund_usd=demand * fund_share, admin_reserve_usd=0
    )
    name = f"operator: {copies} x {largest.carrier_id}, crews x{crew_factor:g}"
    return Dataset((carrier,), tuple(crews), tuple(sites), name=name), scenario


def peak_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def bench(dataset: Dataset, scenario: Scenario, time_limit: float) -> None:
    scenario = scenario.with_overrides(time_limit_s=time_limit)
    print(
        f"\n{dataset.name}: {len(dataset.carriers)} carriers, {len(dataset.sites):,} sites, "
        f"fund {scenario.fund_usd:,.0f}"
    )
    began = time.perf_counter()
    greedy = planner.plan(dataset, scenario.with_overrides(rule="greedy"))
    greedy_s = time.perf_counter() - began
    print(f"  greedy          wall {greedy_s:7.2f} s  objective {greedy.objective:,.0f}")
    began = time.perf_counter()
    result = planner.plan(dataset, scenario)
    wall = time.perf_counter() - began
    gap = "n/a" if result.gap is None else f"{result.gap:.3%}"
    problems = planner.check_plan(result)
    print(
        f"  {scenario.rule:15s} wall {wall:7.2f} s  ({wall / greedy_s:.1f}x greedy)  status {result.status}, gap {gap}"
    )
    print(
        f"                  build {result.build_seconds:.1f} s, solve {result.solve_seconds:.1f} s "
        "(summed over workers)"
    )
    print(
        f"                  objective {result.objective:,.0f} ({result.objective / greedy.objective:.3f} of greedy's)"
    )
    print(f"                  validator: {'valid' if not problems else f'{len(problems)} violations'}")
    print(f"                  cut by the clock: {', '.join(result.stopped_by_clock[:6]) or 'none'}")
    print(
        f"                  peak memory: this process {peak_mib(resource.RUSAGE_SELF):.0f} MiB, "
        f"largest worker {peak_mib(resource.RUSAGE_CHILDREN):.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["copies", "operator"], default=None)
    parser.add_argument("--copies", type=int, default=None, help="6 for `copies`, 5 for `operator`")
    parser.add_argument("--crew-factor", type=float, default=2.5)
    parser.add_argument("--fund-share", type=float, default=1.0, help="operator: the fund as a share of its demand")
    parser.add_argument("--time-limit", type=float, default=600.0)
    args = parser.parse_args()
    rural40 = planner.read_dataset(ROOT / "datasets" / "rural40")
    if args.only in (None, "copies"):
        bench(*copies_of(rural40, args.copies or 6), args.time_limit)
    if args.only in (None, "operator"):
        bench(*operator_of(rural40, args.copies or 5, args.crew_factor, args.fund_share), args.time_limit)


if __name__ == "__main__":
    main()
