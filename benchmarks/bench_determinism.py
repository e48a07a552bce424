"""Benchmark: the same plan on an idle and on a busy machine.

Solves rural40 at full funding alone, then again beside N CPU-bound busy-loop processes
(default 6: a load of about 8 on a 2-core machine, as on a shared laptop), and compares the
two `schedule.csv` files byte for byte. Prints both wall times, both gaps, the number of
sites planned differently, and which solves (if any) the time limit cut before their work
budget was used: only those can make the two plans differ.

    .venv/bin/python benchmarks/bench_determinism.py                  # full funding, 6 busy processes
    .venv/bin/python benchmarks/bench_determinism.py --load 2 --fund 1.895e9
    .venv/bin/python benchmarks/bench_determinism.py --rule optimal --fund 1.895e9
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import planner
from planner.analysis.reports import schedule_table
from planner.core.schema import Scenario


def busy_loop() -> None:
    """Burn one core until terminated."""
    while True:
        pass


def solve(dataset, scenario, workers):
    began = time.perf_counter()
    plan = planner.plan(dataset, scenario, workers=workers)
    return plan, time.perf_counter() - began, schedule_table(plan).to_csv(index=False)


def describe(label: str, plan, seconds: float) -> None:
    gap = "n/a" if plan.gap is None else f"{plan.gap:.3%}"
    cut = ", ".join(plan.stopped_by_clock) or "none"
    print(f"{label:18s} wall {seconds:7.1f} s  status {plan.status:9s} gap {gap:>8s}  cut by the clock: {cut}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fund", type=float, default=4.98e9)
    parser.add_argument("--load", type=int, default=6, help="busy-loop processes beside the second solve")
    parser.add_argument(
        "--time-limit", type=float, default=None, help="the safety net; default the dataset's own (60 s)"
    )
    parser.add_argument("--rule", default=None, help="default the dataset's (pro_rata)")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    dataset = planner.read_dataset(ROOT / "datasets" / "rural40")
    scenario = (dataset.default_scenario or Scenario()).with_overrides(
        fund_usd=args.fund, time_limit_s=args.time_limit, rule=args.rule
    )
    print(f"rural40, fund {args.fund:,.0f}, rule {scenario.rule}, time limit {scenario.time_limit_s:g} s")
    idle_plan, idle_s, idle_csv = solve(dataset, scenario, args.workers)
    describe("alone", idle_plan, idle_s)

    context = multiprocessing.get_context("fork")
    hogs = [context.Process(target=busy_loop, daemon=True) for _ in range(args.load)]
    for hog in hogs:
        hog.start()
    try:
        busy_plan, busy_s, busy_csv = solve(dataset, scenario, args.workers)
    finally:
        for hog in hogs:  # only the processes this script started
            hog.terminate()
        for hog in hogs:
            hog.join()
    describe(f"beside {args.load} busy", busy_plan, busy_s)

    differ = sum(1 for s in dataset.sites if idle_plan.starts.get(s.site_id, -1) != busy_plan.starts.get(s.site_id, -1))
    print(f"schedule.csv       {'identical, byte for byte' if idle_csv == busy_csv else 'DIFFERENT'}")
    print(f"sites planned differently  {differ:,} of {len(dataset.sites):,}")
    print(f"objective          alone {idle_plan.objective:,.0f}  busy {busy_plan.objective:,.0f}")
    print(f"wall time ratio    busy / alone = {busy_s / idle_s:.2f}")


if __name__ == "__main__":
    main()
