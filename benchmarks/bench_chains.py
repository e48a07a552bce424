"""Benchmark: deep and wide dependency graphs stay near-linear and within the time limit.

Writes a one-carrier dataset of N sites whose dependencies form a chain (each site waits for
the one before it), a star (every site waits for one core) or a binary tree, then runs
`rrplan solve DATA --time-limit 5 --no-store` in a fresh process per size and prints its wall
time, its peak memory (`os.wait4`'s ru_maxrss of that process) and how many lines it printed
to stderr. Issue 11 measured, before the fix: chain of 2,500 sites 50 s, 5,000 sites 164 s and
730 MB, 10,000 sites past 5 minutes and 2.4 GB, with about 10,000 warning lines.

    .venv/bin/python benchmarks/bench_chains.py [--sizes 2500 5000 10000] [--shapes chain star tree]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_graph_dataset(folder: Path, sites: int, shape: str) -> Path:
    """One carrier, `sites` sites of one month each, dependencies shaped as a chain, star or binary tree."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "carriers.csv").write_text(
        "carrier_id,name,state,subscribers,own_funds_usd,priority\nc,Chain Wireless,NE,1000,0,1\n"
    )
    (folder / "crews.csv").write_text("carrier_id,crew_type,capacity,winter_capacity\nc,tower,4,\n")
    rows = ["site_id,carrier_id,kind,population,cost_usd,duration,lead_time,depends_on,crew_tower"]
    for index in range(sites):
        if index == 0:
            before = ""
        elif shape == "chain":
            before = f"s{index - 1:05d}"
        elif shape == "star":
            before = "s00000"
        else:
            before = f"s{(index - 1) // 2:05d}"
        rows.append(f"s{index:05d},c,{'core' if index == 0 else 'ran'},{index % 97},1000,1,0,{before},1")
    (folder / "sites.csv").write_text("\n".join(rows) + "\n")
    (folder / "scenario.toml").write_text('fund_usd = 1e12\nstart = "2023-01"\nhorizon = 48\ndeadline = 36\n')
    return folder


def measure(folder: Path, out: Path, time_limit_s: float, timeout_s: float) -> dict:
    """Wall time, peak memory and stderr lines of one `rrplan solve` in a fresh process."""
    command = [sys.executable, "-m", "planner.cli.main", "solve", str(folder), "--out", str(out), "--no-store"]
    command += ["--time-limit", str(time_limit_s), "--quiet"]
    began = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, cwd=ROOT, stderr=errors, env={**os.environ, "PYTHONPATH": str(ROOT)})
        timer = threading.Timer(timeout_s, process.kill)
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)  # this process's own rusage, not the children's maximum
        timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - began
        errors.seek(0)
        lines = errors.read().decode(errors="replace").splitlines()
    return {
        "seconds": seconds,
        "peak_mib": usage.ru_maxrss / 1024,
        "exit": process.returncode,
        "stderr_lines": len(lines),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2500, 5000, 10000])
    parser.add_argument("--shapes", nargs="+", default=["chain", "star", "tree"], choices=["chain", "star", "tree"])
    parser.add_argument("--time-limit", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=900.0, help="give up on one run after this many seconds")
    args = parser.parse_args()
    print(f"{'shape':6} {'sites':>6} {'seconds':>8} {'peak MiB':>9} {'exit':>5} {'stderr lines':>13}")
    with tempfile.TemporaryDirectory() as scratch:
        for shape in args.shapes:
            for size in args.sizes:
                folder = write_graph_dataset(Path(scratch) / f"{shape}{size}", size, shape)
                figures = measure(folder, Path(scratch) / f"out-{shape}{size}", args.time_limit, args.timeout)
                print(
                    f"{shape:6} {size:>6,} {figures['seconds']:>8.1f} {figures['peak_mib']:>9.0f} "
                    f"{figures['exit']:>5} {figures['stderr_lines']:>13,}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
