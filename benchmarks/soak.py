"""Soak run: many solves of random scenario variations in one process; does memory grow?

    .venv/bin/python benchmarks/soak.py                 # 200 solves of a 4-carrier cut of rural40
    .venv/bin/python benchmarks/soak.py --dataset tiny  # the 7-site test fixture, seconds in all
    .venv/bin/python benchmarks/soak.py --solves 50 --seed 3

Each round draws a scenario (fund 20-130% of demand, every funding rule, both objectives,
deadline, extensions, horizon, start month, dark weight, a short time limit), solves it,
checks the plan with the independent validator, builds the report tables and explains
the late carriers; every tenth round also goes through the upload path. Resident memory
(VmRSS from /proc/self/status), open file descriptors and threads are measured at the
start, after the first solve (imports and solver libraries loaded) and every 25 solves,
after a garbage collection. A benchmark, not a test: it prints the figures to judge.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import planner
from planner.analysis.diagnostics import explain
from planner.inputs.tables import dataset_tables
from planner.inputs.uploads import dataset_from_upload

SMALLEST_RURAL40 = ("c19", "c40", "c27", "c31")  # the four carriers with the fewest sites (65 in all)


def rss_mib() -> float:
    """Resident set size now, from /proc (Linux); falls back to the peak from getrusage."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def open_files() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


def threads() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def load(name: str) -> planner.Dataset:
    if name == "tiny":
        return planner.read_dataset(ROOT / "tests" / "fixtures" / "tiny")
    full = planner.read_dataset(ROOT / "datasets" / "rural40")
    keep = set(SMALLEST_RURAL40)
    return replace(
        full,
        carriers=tuple(c for c in full.carriers if c.carrier_id in keep),
        crews=tuple(p for p in full.crews if p.carrier_id in keep),
        sites=tuple(s for s in full.sites if s.carrier_id in keep),
        name="rural40-smallest4",
    )


def random_scenario(rng: random.Random, dataset: planner.Dataset, time_limit_s: float) -> planner.Scenario:
    base = dataset.default_scenario or planner.Scenario()
    return base.with_overrides(
        fund_usd=round(dataset.total_demand_usd * rng.uniform(0.2, 1.3)),
        admin_reserve_usd=0.0,
        rule=rng.choice(["pro_rata", "priority", "optimal", "greedy"]),
        objective=rng.choice(["exposure", "exposure", "makespan"]),
        start=f"{rng.randint(2022, 2025)}-{rng.randint(1, 12):02d}",
        horizon=rng.randint(18, 36),
        deadline=rng.randint(3, 18),
        extensions=rng.randint(0, 2),
        dark_weight=rng.choice([1.0, 10.0, 100.0, 1000.0]),
        time_limit_s=time_limit_s,
        mip_gap=rng.choice([0.0, 0.01, 0.05]),
        name="soak",
    )


def one_round(
    rng: random.Random, dataset: planner.Dataset, round_number: int, time_limit_s: float, workdir: Path
) -> dict:
    if round_number % 10 == 0:  # the upload path too: files written, read, folder removed
        files = [(name, text.encode()) for name, text in dataset_tables(dataset).items()]
        dataset = replace(dataset_from_upload(files, workdir), default_scenario=dataset.default_scenario)
    scenario = random_scenario(rng, dataset, time_limit_s)
    began = time.perf_counter()
    result = planner.plan(dataset, scenario, workers=1)
    seconds = time.perf_counter() - began
    problems = planner.check_plan(result)
    figures = planner.summary(result)
    planner.schedule_table(result)
    planner.monthly_table(result)
    findings = explain(result)
    return {
        "seconds": seconds,
        "valid": not problems,
        "status": figures["status"],
        "findings": len(findings),
        "late": len(result.dataset.carriers) - figures["carriers_done_by_deadline"],
    }


def measure(label: str, solves: int) -> dict:
    gc.collect()
    return {"label": label, "solves": solves, "rss_mib": rss_mib(), "fds": open_files(), "threads": threads()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solves", type=int, default=200)
    parser.add_argument("--dataset", choices=("rural40-smallest4", "tiny"), default="rural40-smallest4")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--time-limit", type=float, default=2.0, help="solver seconds per solve")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    samples = [measure("start (dataset not loaded)", 0)]
    dataset = load(args.dataset)
    print(
        f"soak: {args.solves} solves of {dataset.name} ({len(dataset.carriers)} carriers, {len(dataset.sites)} sites), "
        f"seed {args.seed}, {args.time_limit:g} s limit each",
        flush=True,
    )
    rounds = []
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="soak-") as workdir:
        for number in range(1, args.solves + 1):
            rounds.append(one_round(rng, dataset, number, args.time_limit, Path(workdir)))
            if number == 1:
                samples.append(measure("after the first solve", number))
            elif number % 25 == 0 or number == args.solves:
                samples.append(measure(f"after {number} solves", number))
                print(
                    f"  {number:4d} solves  RSS {samples[-1]['rss_mib']:7.1f} MiB  fds {samples[-1]['fds']:3d}  "
                    f"threads {samples[-1]['threads']:2d}  {time.perf_counter() - began:6.1f} s",
                    flush=True,
                )
        leftovers = list(Path(workdir).iterdir())
    wall = time.perf_counter() - began

    warm, end = samples[1], samples[-1]
    seconds = sorted(r["seconds"] for r in rounds)
    invalid = sum(not r["valid"] for r in rounds)
    statuses = {s: sum(r["status"] == s for r in rounds) for s in sorted({r["status"] for r in rounds})}
    print()
    print(
        f"solves                 {len(rounds)} in {wall:.1f} s (median {seconds[len(seconds) // 2]:.2f} s, "
        f"max {seconds[-1]:.2f} s)"
    )
    print(f"statuses               {', '.join(f'{k} {v}' for k, v in statuses.items())}")
    print(f"plans failing check    {invalid}")
    print(
        f"late carriers explained {sum(r['findings'] > 0 for r in rounds if r['late'])} of "
        f"{sum(1 for r in rounds if r['late'])} rounds with a late carrier"
    )
    print(f"RSS at start           {samples[0]['rss_mib']:.1f} MiB")
    print(f"RSS after first solve  {warm['rss_mib']:.1f} MiB")
    print(
        f"RSS at end             {end['rss_mib']:.1f} MiB  "
        f"(growth after warm-up {end['rss_mib'] - warm['rss_mib']:+.1f} MiB, "
        f"{(end['rss_mib'] - warm['rss_mib']) * 1024 / max(1, len(rounds) - 1):+.1f} KiB per solve)"
    )
    peak = max([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024] + [m["rss_mib"] for m in samples])
    print(f"peak RSS               {peak:.1f} MiB")
    print(f"open files             {warm['fds']} after first solve, {end['fds']} at end")
    print(f"threads                {warm['threads']} after first solve, {end['threads']} at end")
    print(f"upload folders left    {len(leftovers)}")
    return 0 if invalid == 0 and not leftovers else 1


if __name__ == "__main__":
    sys.exit(main())
