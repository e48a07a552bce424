"""The `rrplan` subcommands for scenarios at scale: sweep, montecarlo, runs, diff; and the store around solve.

`planner.cli.main` registers these with `add_scale_commands` and hands them over in `run`;
they follow its exit codes (0 done, 2 bad input, 3 some scenario gave no plan, 130
interrupted) and print every input problem as `file:row: column: message`.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from planner.cli.common import (
    EXIT_INPUT,
    EXIT_NO_PLAN,
    EXIT_OK,
    interrupted_exit_code,
    plain_number,
    print_warnings,
    report_input_error,
    resolve_scenario,
    whole_number,
)
from planner.core.errors import InputError, PlannerError
from planner.core.files import write_atomic
from planner.core.wording import duration, usd
from planner.inputs.io import read_dataset
from planner.inputs.validation import check_against_scenario
from planner.runs.montecarlo import Uncertainty, check_inputs, run_montecarlo
from planner.runs.store import RunStore, StoreError, default_store_path, diff_runs
from planner.runs.sweep import (
    estimate_sweep,
    parse_deadlines,
    parse_funds,
    parse_rules,
    run_sweep,
    solve_recorded,
    sweep_scenarios,
)

SCALE_COMMANDS = ("sweep", "montecarlo", "runs", "diff")
BASE_FLAGS = (  # scenario flags a sweep or Monte Carlo run takes as its base (dest, help)
    ("admin_reserve", "USD held back for administration"),
    ("start", "first month, YYYY-MM"),
    ("horizon", "months planned"),
    ("extensions", "number of 6-month extensions granted"),
    ("objective", "exposure | makespan"),
    ("time_limit", "solver time limit in seconds, per scenario"),
    ("mip_gap", "relative optimality gap at which to stop"),
    ("dark_weight", "weight of a person-month without service"),
)


def add_store_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", help=f"run store file (default: $RRPLAN_STORE or {default_store_path()})")


def add_scale_commands(commands) -> None:
    """Register sweep, montecarlo, runs and diff on the `rrplan` subparsers."""
    sweep = commands.add_parser("sweep", help="solve every fund x rule x deadline and write the funding curve")
    sweep.add_argument("dataset")
    sweep.add_argument(
        "--fund",
        dest="funds",
        required=True,
        help="START:STOP:COUNT evenly spaced (0.5e9:6e9:12) or a comma list, in USD",
    )
    sweep.add_argument("--rule", dest="rules", default="pro_rata", help="comma list: pro_rata,priority,optimal,greedy")
    sweep.add_argument("--deadline", dest="deadlines", help="comma list of terms in months (default: the scenario's)")
    _add_base_flags(sweep)
    sweep.add_argument("--out", required=True, help="folder for curve.csv and one folder per run under runs/")

    montecarlo = commands.add_parser("montecarlo", help="probability that each carrier finishes by the deadline")
    montecarlo.add_argument("dataset")
    montecarlo.add_argument("--runs", type=whole_number, required=True, help="number of draws")
    montecarlo.add_argument("--seed", type=whole_number, default=0, help="seed of the random draws (default 0)")
    montecarlo.add_argument(
        "--cost-median", type=plain_number, default=1.10, help="median cost factor per carrier (1.10)"
    )
    montecarlo.add_argument(
        "--cost-sigma", type=plain_number, default=0.20, help="spread of the log cost factor (0.20)"
    )
    montecarlo.add_argument(
        "--delay-mean", type=plain_number, default=2.0, help="mean extra lead time per carrier, months (2)"
    )
    montecarlo.add_argument("--fund", help="fund size in USD")
    montecarlo.add_argument("--rule", help="pro_rata | priority | optimal | greedy")
    montecarlo.add_argument("--deadline", help="term in months from start")
    _add_base_flags(montecarlo)
    montecarlo.add_argument("--out", required=True, help="folder for montecarlo.csv (per carrier) and draws.csv")

    runs = commands.add_parser("runs", help="list the runs in the store")
    add_store_flags(runs)
    runs.add_argument("--last", type=whole_number, default=30, help="show the last N runs (default 30; 0 = all)")

    diff = commands.add_parser("diff", help="what changed between two stored runs, carrier by carrier")
    diff.add_argument("run_a", type=whole_number)
    diff.add_argument("run_b", type=whole_number)
    diff.add_argument("--all", action="store_true", help="list every carrier, not only those whose figures moved")
    add_store_flags(diff)


def _add_base_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", help="preset name or scenario TOML file to start from")
    for dest, text in BASE_FLAGS:
        parser.add_argument("--" + dest.replace("_", "-"), dest=dest, help=text)
    parser.add_argument(
        "--workers", type=whole_number, default=None, help="scenarios solved at once (default: up to 2)"
    )
    parser.add_argument("--scheduler", help="run on a Dask cluster instead: tcp://HOST:PORT of its scheduler")
    parser.add_argument("--no-store", action="store_true", help="neither reuse nor record runs")
    add_store_flags(parser)
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")


def run_scale_command(args: argparse.Namespace) -> int:
    """Run one of SCALE_COMMANDS; returns the exit code."""
    try:
        return {"sweep": _sweep, "montecarlo": _montecarlo, "runs": _runs, "diff": _diff}[args.command](args)
    except InputError as err:
        return report_input_error(err, f"{len(err.issues)} problem(s) in the input; nothing was solved")
    except PlannerError as err:
        print(f"rrplan: {err}", file=sys.stderr)
        return EXIT_NO_PLAN
    except KeyboardInterrupt as err:
        print(
            "rrplan: interrupted; finished runs are in the store, run the same command again to resume", file=sys.stderr
        )
        return interrupted_exit_code(err)
    except (OSError, sqlite3.Error) as err:
        print(f"rrplan: cannot read or write a file: {err}", file=sys.stderr)
        return EXIT_INPUT


def open_store(args: argparse.Namespace) -> RunStore | None:
    """The run store the flags name, or None with --no-store."""
    if getattr(args, "no_store", False):
        return None
    return named_store(args)


def named_store(args: argparse.Namespace) -> RunStore:
    """The run store --store names, or the default one (for commands that only read the store)."""
    return RunStore(args.store) if getattr(args, "store", None) else RunStore()


def _base(args: argparse.Namespace):

    dataset = read_dataset(args.dataset)
    scenario = resolve_scenario(dataset.default_scenario, args)
    if not args.quiet:
        print_warnings([*dataset.warnings, *check_against_scenario(dataset, scenario)])
    return dataset, scenario


@contextmanager
def progress_bar(quiet: bool, description: str):
    """A rich progress bar on stderr; yields a callback (done, total, name, status)."""
    if quiet:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[last]}"),
        console=console,
    ) as bar:
        task = bar.add_task(description, total=None, last="")

        def report(done: int, total: int, name: str, status: str) -> None:
            bar.update(task, completed=done, total=total, last=f"{name}: {status}")
            if status == "failed":
                bar.console.print(f"[red]failed[/red] {name}")

        yield report


def _sweep(args: argparse.Namespace) -> int:

    dataset, base = _base(args)
    funds, rules = parse_funds(args.funds), parse_rules(args.rules)
    deadlines = parse_deadlines(args.deadlines) if args.deadlines else None
    scenarios = sweep_scenarios(base, funds, rules, deadlines)
    store = open_store(args)
    try:
        if not args.quiet and args.scheduler is None:
            estimate = estimate_sweep(dataset, scenarios, store, args.workers)
            print(
                f"{len(scenarios)} scenarios, {estimate.to_solve} to solve: about {duration(estimate.seconds)} "
                f"({estimate.basis})",
                file=sys.stderr,
            )
        with progress_bar(args.quiet, f"sweep of {len(scenarios)}") as report:
            result = run_sweep(
                dataset,
                scenarios,
                args.out,
                store=store,
                workers=args.workers,
                scheduler=args.scheduler,
                progress=report,
            )
    finally:
        if store is not None:
            store.close()
    for name, error in result.failures:
        print(f"rrplan: scenario {name} failed: {error}", file=sys.stderr)
    if not args.quiet:
        print(
            f"{len(scenarios)} scenarios: {result.solved} solved, {result.reused} reused from the store, "
            f"{len(result.failures)} failed, in {result.seconds:.1f} s"
        )
        print(f"wrote {Path(args.out) / 'curve.csv'} and one folder per run under {Path(args.out) / 'runs'}")
    return EXIT_NO_PLAN if result.failures else EXIT_OK


def _montecarlo(args: argparse.Namespace) -> int:

    dataset, scenario = _base(args)
    uncertainty = Uncertainty(args.cost_median, args.cost_sigma, args.delay_mean)
    check_inputs(args.runs, uncertainty)
    with progress_bar(args.quiet, f"{args.runs} draws") as report:
        result = run_montecarlo(
            dataset,
            scenario,
            args.runs,
            seed=args.seed,
            uncertainty=uncertainty,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=report,
        )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "montecarlo.csv", result.carriers.to_csv(index=False))
    write_atomic(out / "draws.csv", result.draws.to_csv(index=False))
    for index, error in result.failures:
        print(f"rrplan: draw {index} failed: {error}", file=sys.stderr)
    if not args.quiet:
        shown = result.carriers.sort_values(["probability_on_time", "carrier_id"])
        print(
            f"{args.runs} draws (seed {args.seed}; cost factor median {uncertainty.cost_overrun_median:g}, "
            f"log-sd {uncertainty.cost_overrun_sigma:g}; delay mean {uncertainty.delay_mean_months:g} months), "
            f"rule {scenario.rule}, fund {usd(scenario.fund_usd)}, deadline month {scenario.effective_deadline}, "
            f"{result.seconds:.1f} s"
        )
        print(
            shown[
                [
                    "carrier_id",
                    "probability_on_time",
                    "probability_all_replaced",
                    "mean_sites_replaced",
                    "sites",
                    "completion_period_p50",
                    "completion_period_p90",
                ]
            ].to_string(index=False, float_format="{:.2f}".format)
        )
        print(f"wrote {out / 'montecarlo.csv'} and {out / 'draws.csv'}")
    return EXIT_NO_PLAN if result.failures else EXIT_OK


def _runs(args: argparse.Namespace) -> int:
    with named_store(args) as store:
        table = store.runs_table()
        print(f"{store.path}: {len(table)} run(s)")
    if args.last:
        table = table.tail(args.last)
    if len(table):
        shown = table[
            [
                "run_id",
                "created_utc",
                "source",
                "dataset",
                "scenario",
                "fund_usd",
                "rule",
                "deadline",
                "status",
                "carriers_done_by_deadline",
                "sites_replaced",
                "population_left_without_service",
            ]
        ].copy()
        shown["fund_usd"] = shown["fund_usd"].map(usd)
        shown["deadline"] = [
            f"{d}" if not x else f"{d}+{x}x6" for d, x in zip(table["deadline"], table["extensions"], strict=True)
        ]
        shown.columns = [
            "run",
            "created (UTC)",
            "source",
            "dataset",
            "scenario",
            "fund",
            "rule",
            "deadline",
            "status",
            "on time",
            "sites replaced",
            "left without service",
        ]
        print(shown.to_string(index=False, na_rep="-"))
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    with named_store(args) as store:
        try:
            change = diff_runs(store, args.run_a, args.run_b)
        except StoreError as err:
            print(f"rrplan: {err}", file=sys.stderr)
            return EXIT_INPUT
    print(
        f"run #{args.run_a} ({change.run_a.scenario_name}, {change.run_a.status}) -> "
        f"run #{args.run_b} ({change.run_b.scenario_name}, {change.run_b.status})"
    )
    print("\ninputs that differ:")
    print("  none (same dataset and scenario)" if change.inputs.empty else change.inputs.to_string(index=False))
    print("\nheadline figures (change = b - a):")
    print(change.headline.to_string(index=False, na_rep="-"))
    carriers = change.carriers if args.all else change.carriers[change.carriers["changed"].astype(bool)]
    print(
        f"\ncarriers whose figures moved: {int(change.carriers['changed'].sum()) if len(change.carriers) else 0}"
        f" of {len(change.carriers)}"
    )
    if len(carriers):
        print(compact_carrier_changes(carriers).to_string(index=False))
    return EXIT_OK


def compact_carrier_changes(carriers: pd.DataFrame) -> pd.DataFrame:
    """One `a -> b` cell per figure, for a terminal."""

    def cell(value, money: bool = False) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return "-"
        if money:
            return usd(float(value))
        return f"{value:g}" if isinstance(value, float) else str(value)

    shown = pd.DataFrame({"carrier": carriers["carrier_id"]})
    labels = {
        "allocation_usd": "allocation",
        "sites_replaced": "sites replaced",
        "completion_period": "done (period)",
        "on_time": "on time",
        "population_left_without_service": "left without service",
    }
    for figure, label in labels.items():
        money = figure == "allocation_usd"
        shown[label] = [
            cell(a, money) if cell(a, money) == cell(b, money) else f"{cell(a, money)} -> {cell(b, money)}"
            for a, b in zip(carriers[f"{figure}_a"], carriers[f"{figure}_b"], strict=True)
        ]
    return shown


def solve_with_store(dataset, scenario, args: argparse.Namespace, progress) -> tuple[dict, str]:
    """`rrplan solve` through the store: reuse or solve and record; returns (figures, a line to print)."""

    try:
        store = open_store(args)
    except (StoreError, OSError, sqlite3.Error) as err:
        print(f"warning: run store unusable, solving without it: {err}", file=sys.stderr)
        store = None
    try:
        figures, run_id, reused = solve_recorded(
            dataset, scenario, args.out, store, progress=progress, workers=args.workers
        )
    finally:
        if store is not None:
            store.close()
    if store is None or run_id is None:  # no store, or it failed (a warning said so)
        return figures, ""
    if reused:
        return figures, (
            f"reused run #{run_id} from {store.path} (same inputs, same planner code); pass --no-store to solve again"
        )
    return figures, f"recorded as run #{run_id} in {store.path}"
