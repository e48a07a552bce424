"""Benchmark: the app in a real browser: cold start, a cached reload, a new fund (a new solve) and back.

Runs `docs/screenshots/take_screenshots.py` on the national screen only (headless system Chromium,
nothing downloaded; screenshots go to a temporary folder) and prints its timings. Issue 13's goal:
a new scenario's figures within 10 s of the click on this 2-core machine, after the first solve.

    .venv/bin/python benchmarks/bench_app.py                     # the app's default dataset (program126)
    .venv/bin/python benchmarks/bench_app.py --dataset datasets/rural40
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "screenshots"))

from take_screenshots import main as take_screenshots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", help="a dataset folder (default: the app's)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        return take_screenshots(
            ["--screens", "national", "--out", scratch, *(["--dataset", args.dataset] if args.dataset else [])]
        )


if __name__ == "__main__":
    raise SystemExit(main())
