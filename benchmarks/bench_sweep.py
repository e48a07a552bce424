"""Benchmark: sweep time on 1 and 2 workers (speed-up), and a 12-point sweep of the embedded dataset.

    .venv/bin/python benchmarks/bench_sweep.py                  # both parts
    .venv/bin/python benchmarks/bench_sweep.py --skip-full      # only the speed-up on a slice of rural40
    .venv/bin/python benchmarks/bench_sweep.py --full-points 4  # a shorter full-dataset sweep (busy machine)

Part 1 sweeps a slice of rural40 (the mid-sized carriers, no store, so everything is solved)
serially and on two worker processes and prints the two times and their ratio. Part 2 is
`rrplan sweep datasets/rural40 --fund 0.5e9:6e9:12 --rule pro_rata` through the library,
without the store. Target (issue 5): part 2 under 10 minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import planner
from planner.runs.sweep import parse_funds, parse_rules, run_sweep, sweep_scenarios

SLICE = ("c03", "c05", "c07", "c08", "c09", "c11", "c13", "c19", "c27", "c31", "c40")  # 10-50 sites each


def timed_sweep(dataset, scenarios, workers: int) -> tuple[float, object]:
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as out:
        began = time.perf_counter()
        result = run_sweep(dataset, scenarios, out, store=None, workers=workers)
        return time.perf_counter() - began, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slice-points", type=int, default=8, help="fund sizes in the speed-up sweep (default 8)")
    parser.add_argument("--slice-time-limit", type=float, default=10.0, help="solver limit per slice scenario, s")
    parser.add_argument("--full-points", type=int, default=12, help="fund sizes in the full sweep (default 12)")
    parser.add_argument("--rule", default="pro_rata", help="rules of the full sweep, comma list (default pro_rata)")
    parser.add_argument(
        "--time-limit", type=float, default=None, help="solver limit per full scenario, s (default: the dataset's, 60)"
    )
    parser.add_argument("--skip-full", action="store_true", help="only the speed-up part")
    args = parser.parse_args()

    full = planner.read_dataset(ROOT / "datasets" / "rural40")
    base = full.default_scenario
    load = os.getloadavg()[0]
    print(f"machine           {os.cpu_count()} cores, load average {load:.1f} at start")

    keep = set(SLICE)
    small = replace(
        full,
        carriers=tuple(c for c in full.carriers if c.carrier_id in keep),
        crews=tuple(p for p in full.crews if p.carrier_id in keep),
        sites=tuple(s for s in full.sites if s.carrier_id in keep),
        name="rural40-slice",
        sha256="",
    )
    funds = parse_funds(f"0:{small.total_demand_usd * 1.1:.0f}:{args.slice_points}")
    scenarios = sweep_scenarios(
        base.with_overrides(admin_reserve_usd=0.0, time_limit_s=args.slice_time_limit), funds, ["pro_rata", "optimal"]
    )
    print(
        f"speed-up sweep    {len(small.carriers)} carriers, {len(small.sites)} sites, {len(scenarios)} scenarios "
        f"(pro_rata and optimal at {args.slice_points} funds, time limit {args.slice_time_limit:g} s)"
    )
    one, serial = timed_sweep(small, scenarios, workers=1)
    two, parallel = timed_sweep(small, scenarios, workers=2)
    same = (
        serial.curve["population_left_without_service"].tolist()
        == parallel.curve["population_left_without_service"].tolist()
    )
    print(f"  1 worker        {one:.1f} s")
    print(f"  2 workers       {two:.1f} s")
    print(f"  speed-up        {one / two:.2f}x  (figures equal: {same})")

    if args.skip_full:
        return
    rules = parse_rules(args.rule)
    full_base = base if args.time_limit is None else base.with_overrides(time_limit_s=args.time_limit)
    scenarios = sweep_scenarios(full_base, parse_funds(f"0.5e9:6e9:{args.full_points}"), rules)
    print(
        f"full sweep        rural40 ({len(full.carriers)} carriers, {len(full.sites):,} sites), {len(scenarios)} "
        f"scenarios: fund 0.5e9:6e9:{args.full_points}, rule {','.join(rules)}, "
        f"time limit {full_base.time_limit_s:g} s, 2 workers"
    )
    seconds, result = timed_sweep(full, scenarios, workers=2)
    for row in result.curve.itertuples():
        gap = "" if row.gap is None or row.gap != row.gap else f" gap {row.gap:.2%}"
        print(
            f"  {row.scenario:<28} {row.status}{gap}, {row.sites_replaced:,} sites, "
            f"{row.population_left_without_service:,} left without service, "
            f"{row.carriers_done_by_deadline} carriers on time"
        )
    print(
        f"  total           {seconds:.0f} s ({seconds / 60:.1f} min; target under 10 min), "
        f"{len(result.failures)} failed; load average {os.getloadavg()[0]:.1f} at the end"
    )


if __name__ == "__main__":
    main()
