"""Benchmark: the planner as a resource-constrained project scheduler on PSPLIB-style instances.

Each instance is read with `planner.inputs.psplib.read_psplib` (the `.sm` format) and planned with
`--objective makespan` as the dataset says; printed per instance: the makespan, the status, the bound,
the wall time and the validator's verdict, then how many of the sample were proven optimal and the
median and largest times. Run it on the real J30 set when you have it:

    .venv/bin/python benchmarks/bench_psplib.py --instances ~/psplib/j30 --optima ~/psplib/j30opt.sm --sample 30

`--optima` (PSPLIB's j30opt.sm: parameter, instance, makespan per line) adds the published optimum
beside each result. Without `--instances` the script writes a fresh sample in the same format, made
the way PSPLIB's J30 set was made (ProGen, Kolisch and Sprecher 1996): 30 jobs, 4 renewable
resources, durations and demands 1-10, and every combination of network complexity NC in
{1.5, 1.8, 2.1}, resource factor RF in {0.25, 0.5, 0.75, 1} and resource strength RS in
{0.2, 0.5, 0.7, 1}, the capacity of resource k being K = Kmin + RS (Kmax - Kmin) (Kmin the largest
single demand, Kmax the peak of the earliest-start schedule). The seed picks the instances, so a
run never sees the same ones as the last unless asked to (`--seed`).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import planner
from planner.inputs.psplib import read_psplib

RULE = "*" * 72
SHIPPED = ROOT / "tests" / "data" / "psplib"  # real J30 instances kept with the tests
SHIPPED_OPTIMA = {"j301_1": 43, "j3013_1": 58, "j3045_1": 82}  # PSPLIB's j30opt.sm


def progen_like(rng: random.Random, nc: float, rf: float, rs: float, jobs: int = 30, resources: int = 4) -> str:
    """One instance as `.sm` text: jobs 2..jobs+1 real, 1 the source and jobs+2 the sink."""
    real = list(range(2, jobs + 2))
    sink = jobs + 2
    successors: dict[int, set[int]] = {j: set() for j in range(1, sink + 1)}
    starters = real[: max(3, jobs // 10)]
    successors[1] = set(starters)
    # arcs from earlier to later jobs until the average number of arcs per real job reaches nc
    for j in real[len(starters) :]:
        successors[rng.choice([i for i in real if i < j])].add(j)
    arcs_wanted = round(nc * jobs)
    while sum(len(successors[j]) for j in real) < arcs_wanted:
        a, b = sorted(rng.sample(real, 2))
        successors[a].add(b)
    for j in real:
        if not successors[j]:
            successors[j] = {sink}
    durations = {j: rng.randint(1, 10) for j in real}
    demands = {}
    for j in real:
        used = [k for k in range(resources) if rng.random() < rf] or [rng.randrange(resources)]
        demands[j] = [rng.randint(1, 10) if k in used else 0 for k in range(resources)]
    earliest = {1: 0}
    for j in range(2, sink + 1):
        before = [i for i in successors if j in successors[i]]
        earliest[j] = max(earliest[i] + durations.get(i, 0) for i in before)
    horizon = sum(durations.values())
    capacities = []
    for k in range(resources):
        k_min = max(demands[j][k] for j in real)
        peak = max(
            sum(demands[j][k] for j in real if earliest[j] <= t < earliest[j] + durations[j]) for t in range(horizon)
        )
        capacities.append(k_min + round(rs * (max(k_min, peak) - k_min)))
    lines = [
        RULE,
        "file with basedata            : generated",
        f"initial value random generator: {rng.randrange(10**5)}",
        RULE,
        "projects                      :  1",
        f"jobs (incl. supersource/sink ):  {sink}",
        f"horizon                       :  {horizon}",
        "RESOURCES",
        f"  - renewable                 :  {resources}   R",
        "  - nonrenewable              :  0   N",
        "  - doubly constrained        :  0   D",
        RULE,
        "PRECEDENCE RELATIONS:",
        "jobnr.    #modes  #successors   successors",
    ]
    for j in range(1, sink + 1):
        after = sorted(successors[j]) if j != sink else []
        lines.append(f"{j:4d}        1{len(after):11d}        " + "".join(f"{s:4d}" for s in after))
    lines += [RULE, "REQUESTS/DURATIONS:", "jobnr. mode duration" + "".join(f"  R {k + 1}" for k in range(resources))]
    lines.append("-" * 72)
    for j in range(1, sink + 1):
        need = demands.get(j, [0] * resources)
        lines.append(f"{j:3d}      1 {durations.get(j, 0):5d}" + "".join(f"{u:5d}" for u in need))
    lines += [RULE, "RESOURCEAVAILABILITIES:", "".join(f"  R {k + 1}" for k in range(resources))]
    lines += ["".join(f"{c:5d}" for c in capacities), RULE]
    return "\n".join(lines) + "\n"


def generated_sample(folder: Path, count: int, seed: int) -> list[Path]:
    """`count` instances over the 48 parameter combinations of J30, written to `folder`."""
    rng = random.Random(seed)
    grid = [(nc, rf, rs) for nc in (1.5, 1.8, 2.1) for rf in (0.25, 0.5, 0.75, 1.0) for rs in (0.2, 0.5, 0.7, 1.0)]
    paths = []
    for i in range(count):
        nc, rf, rs = grid[i % len(grid)]
        path = folder / f"gen{i // len(grid) + 1}_{i % len(grid) + 1}.sm"
        path.write_text(progen_like(rng, nc, rf, rs))
        paths.append(path)
    return paths


def published_optima(path: Path) -> dict[str, int]:
    """j30opt.sm: lines of parameter, instance, makespan (and CPU time) -> {'j301_1': 43, ...}."""
    optima = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0].isdigit() and parts[1].isdigit():
            optima[f"j30{parts[0]}_{parts[1]}"] = int(float(parts[2]))
    return optima


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=Path, help="a folder of .sm files (default: a generated J30-like sample)")
    parser.add_argument("--optima", type=Path, help="PSPLIB's j30opt.sm, for the published optima")
    parser.add_argument("--sample", type=int, default=48, help="how many instances (default 48)")
    parser.add_argument("--seed", type=int, default=None, help="which sample (default: a new one each run)")
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    seed = random.randrange(10**6) if args.seed is None else args.seed
    with tempfile.TemporaryDirectory() as scratch:
        if args.instances:
            # PSPLIB's tables (j30opt.sm) share the folder and the suffix: only files holding one project are instances
            paths = [path for path in sorted(args.instances.glob("*.sm")) if "jobs (incl." in path.read_text()]
            paths = random.Random(seed).sample(paths, min(args.sample, len(paths)))
        else:
            paths = sorted(SHIPPED.glob("*.sm")) + generated_sample(Path(scratch), args.sample, seed)
            print(f"PSPLIB's {', '.join(sorted(SHIPPED_OPTIMA))} and a generated J30-like sample, seed {seed}")
        optima = published_optima(args.optima) if args.optima else dict(SHIPPED_OPTIMA)
        proven, seconds, wrong = 0, [], []
        for path in sorted(paths):
            dataset = read_psplib(path)
            scenario = dataset.default_scenario.with_overrides(time_limit_s=args.time_limit)
            began = time.perf_counter()
            plan = planner.plan(dataset, scenario, workers=1)
            took = time.perf_counter() - began
            makespan = planner.summary(plan)["makespan"]
            known = optima.get(path.stem)
            if known is not None and (makespan < known or (plan.status == "optimal" and makespan != known)):
                wrong.append(path.stem)
            proven += plan.status == "optimal"
            seconds.append(took)
            print(
                f"{path.stem:12s} makespan {makespan:4d}"
                + (f" (published {known})" if known is not None else "")
                + f"  {plan.status:9s} bound {plan.bound or 0:6.1f}  {took:6.2f} s  "
                f"valid={not planner.check_plan(plan)}",
                flush=True,
            )
    print(
        f"proven optimal: {proven} of {len(paths)}; median {statistics.median(seconds):.2f} s, "
        f"largest {max(seconds):.2f} s, total {sum(seconds):.1f} s"
    )
    if optima:
        print(f"disagreeing with the published optimum: {', '.join(wrong) or 'none'}")


if __name__ == "__main__":
    main()
