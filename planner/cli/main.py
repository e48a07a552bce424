"""The `rrplan` command: validate a dataset, solve a scenario, write the plan's tables, and
`rrplan report RUN_DIR` to make plan.xlsx, plan.html and plan.pdf from them (see docs/reports.md).

Exit codes: 0 a plan was written (unfunded sites are an answer, not an error),
2 bad input (every problem listed as `file:row: column: message`), 3 no plan could be made,
130 interrupted.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from planner.cli.common import (
    EXIT_INPUT,
    EXIT_NO_PLAN,
    EXIT_OK,
    interrupted_exit_code,
    print_warnings,
    raise_terminated,
    report_input_error,
    resolve_scenario,
    whole_number,
)
from planner.cli.scale import (
    SCALE_COMMANDS,
    add_scale_commands,
    run_scale_command,
    solve_with_store,
)
from planner.cli.value import VALUE_COMMAND, add_value_command, run_value
from planner.core import __version__
from planner.core.errors import InputError, PlannerError
from planner.core.wording import usd
from planner.engine.planning import plan as make_plan
from planner.inputs.io import read_dataset
from planner.inputs.validation import check_against_scenario
from planner.present.export import FORMATS, write_reports
from planner.runs.folder import write_plan


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rrplan", description="Plan the replacement of covered network gear.")
    parser.add_argument("--version", action="version", version=f"rrplan {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="check a dataset folder and list every problem")
    validate.add_argument("dataset", help="folder with carriers.csv, crews.csv, sites.csv")
    validate.add_argument("--scenario", help="scenario TOML file to check along with the dataset")

    solve = commands.add_parser("solve", help="allocate the fund and schedule every carrier")
    solve.add_argument("dataset")
    solve.add_argument(
        "--scenario",
        help="scenario TOML file or preset name, e.g. appropriation-2020 (overrides the dataset's scenario.toml)",
    )
    solve.add_argument("--fund", help="fund size in USD, e.g. 1895000000 or 1.895e9")
    solve.add_argument("--admin-reserve", help="USD held back for administration")
    solve.add_argument("--rule", help="pro_rata | priority | optimal | greedy")
    solve.add_argument("--objective", help="exposure | makespan")
    solve.add_argument("--start", help="first month, YYYY-MM")
    solve.add_argument("--horizon", help="months planned")
    solve.add_argument("--deadline", help="term in months from start")
    solve.add_argument("--extensions", help="number of 6-month extensions granted")
    solve.add_argument(
        "--time-limit",
        help="wall-clock limit in seconds for the whole solve (a safety net: work budgets normally end it, and the "
        "plan says when this limit cut a solve)",
    )
    solve.add_argument("--mip-gap", help="relative optimality gap at which to stop")
    solve.add_argument("--dark-weight", help="weight of a person-month without service")
    solve.add_argument("--as-of", help="today, YYYY-MM: plan only the rest (sites.csv status and started)")
    solve.add_argument(
        "--workers", type=whole_number, default=None, help="parallel solver processes (default: up to 2)"
    )
    solve.add_argument("--out", required=True, help="folder to write summary.json and the tables to")
    solve.add_argument("--quiet", action="store_true", help="print nothing but errors")
    solve.add_argument("--no-store", action="store_true", help="neither reuse nor record the run in the run store")
    solve.add_argument("--store", help="run store file (default: $RRPLAN_STORE or runs/rrplan.sqlite)")
    report = commands.add_parser("report", help="write plan.xlsx, plan.html and plan.pdf from a solved run folder")
    report.add_argument("run_dir", help="folder written by `rrplan solve --out`")
    report.add_argument(
        "--format", default="all", choices=("xlsx", "html", "pdf", "all"), help="which report (default: all)"
    )
    report.add_argument("--out", help="folder to write the reports to (default: RUN_DIR)")
    report.add_argument(
        "--compare",
        nargs="+",
        default=(),
        metavar="OTHER_RUN_DIR",
        help="runs of the same dataset under other rules, shown in 'allocation by rule'",
    )
    report.add_argument("--quiet", action="store_true", help="print nothing but errors")
    add_scale_commands(commands)
    add_value_command(commands)
    return parser


def print_summary(figures: dict) -> None:
    gap = figures["gap"]
    lines = [
        f"status            {figures['status']}" + ("" if gap is None else f" (gap {gap:.2%})"),
        f"rule              {figures['rule']}, fund {usd(figures['fund_usd'])}, demand {usd(figures['demand_usd'])}",
        f"allocated         {usd(figures['allocated_usd'])}"
        + ("" if figures["pro_rata_factor"] is None else f" (pro-rata factor {figures['pro_rata_factor']:.3f})"),
        f"sites replaced    {figures['sites_replaced']:,} of {figures['sites_total']:,}",
        f"done by deadline  {figures['carriers_done_by_deadline']} of {figures['carriers_total']} carriers "
        f"(month {figures['effective_deadline']})",
        f"left without service  {figures['population_left_without_service']:,} people",
        f"exposure          {figures['exposure_population_months']:,.0f} population-months on covered gear",
        f"objective         {figures['objective']:,.0f}",
        f"time              {figures['wall_seconds']:.1f} s elapsed (model building {figures['build_seconds']:.1f} s, "
        f"solver {figures['solve_seconds']:.1f} s, summed over workers)",
    ]
    tranches = figures.get("tranches") or []
    if len(tranches) > 1:
        lines.insert(3, "money arrives     " + ", ".join(f"{usd(t['usd'])} in {t['month']}" for t in tranches))
    deadlines = figures.get("carrier_deadline_months") or []
    if len(deadlines) > 1:
        lines.insert(-4, f"carrier deadlines {deadlines[0]} to {deadlines[-1]} (each applicant's own clock)")
    if figures.get("missed_deadline") == "keep_running":
        lines.insert(-4, "missed deadline   sites not replaced keep running on covered gear (late, not dark)")
    if figures.get("sites_done_before_as_of") or figures.get("sites_in_progress_at_as_of"):
        lines.insert(
            -4,
            f"as of {figures['as_of']}     {figures['sites_done_before_as_of']} sites done, "
            f"{figures['sites_in_progress_at_as_of']} in progress ({usd(figures['recorded_spend_usd'])} spent), "
            "kept as recorded; the rest is planned",
        )
    for note in figures["notes"]:
        lines.append(f"note              {note}")
    print("\n".join(lines))


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in SCALE_COMMANDS:
        return run_scale_command(args)
    if args.command == "report":
        return run_report(args)
    if args.command == VALUE_COMMAND:
        return run_value(args)
    try:
        dataset = read_dataset(args.dataset)
        scenario = resolve_scenario(dataset.default_scenario, args)
        checks = check_against_scenario(dataset, scenario)
        if any(i.severity == "error" for i in checks):  # e.g. work recorded after as_of: refused, not warned
            raise InputError([i for i in checks if i.severity == "error"])
        print_warnings([*dataset.warnings, *checks])
        if args.command == "validate":
            print(
                f"{args.dataset}: {len(dataset.carriers)} carriers, {len(dataset.sites)} sites, "
                f"{len(dataset.crews)} crew pools: valid"
            )
            return EXIT_OK
        progress = None if args.quiet or not sys.stderr.isatty() else _progress_printer()
        if args.no_store:
            figures, stored = (
                write_plan(make_plan(dataset, scenario, progress=progress, workers=args.workers), Path(args.out)),
                "",
            )
        else:
            figures, stored = solve_with_store(dataset, scenario, args, progress)
        if not args.quiet:
            print_summary(figures)
            if stored:
                print(stored)
            print(f"wrote {Path(args.out) / 'summary.json'} and schedule.csv, carriers.csv, monthly.csv")
        return EXIT_OK
    except InputError as err:
        return report_input_error(err, f"{len(err.issues)} problem(s) in the input; nothing was solved")
    except PlannerError as err:
        print(f"rrplan: no plan: {err}", file=sys.stderr)
        return EXIT_NO_PLAN
    except KeyboardInterrupt as err:  # Ctrl-C, or SIGTERM (Terminated) once `main` set its handler
        print("rrplan: interrupted; nothing was written", file=sys.stderr)
        return interrupted_exit_code(err)
    except OSError as err:
        print(f"rrplan: cannot read or write a file: {err}", file=sys.stderr)
        return EXIT_INPUT


def run_report(args: argparse.Namespace) -> int:
    """`rrplan report RUN_DIR`: re-make the reports of a solved run without solving again."""
    began = time.perf_counter()
    try:
        written = write_reports(
            args.run_dir, FORMATS if args.format == "all" else (args.format,), out=args.out, compare=tuple(args.compare)
        )
    except InputError as err:
        return report_input_error(err, f"{args.run_dir} cannot be reported on; no report was written")
    except OSError as err:
        print(f"rrplan: cannot read or write a file: {err}", file=sys.stderr)
        return EXIT_INPUT
    if not args.quiet:
        print(f"wrote {', '.join(str(path) for path in written)} in {time.perf_counter() - began:.1f} s")
    return EXIT_OK


def _progress_printer():
    def report(done: int, total: int, carrier_id: str) -> None:
        print(
            f"\r  scheduled {done}/{total} carriers (last: {carrier_id})   ",
            end="" if done < total else "\n",
            file=sys.stderr,
            flush=True,
        )

    return report


def main() -> None:
    """The `rrplan` command: every signal, at every moment, ends with one line and its exit code.

    SIGTERM becomes the same clean stop as Ctrl-C (workers ended, no half-written folder), exit 143;
    Ctrl-C exits 130. Before `run` (imports: `planner.cli.startup`) and after it (interpreter
    shutdown, where a late Ctrl-C printed "Exception ignored ..." tracebacks) both are ignored or quiet.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, raise_terminated)
    try:
        code = run()
    except KeyboardInterrupt as err:  # outside the commands' own handling (argument parsing, say)
        print("rrplan: interrupted; nothing was written", file=sys.stderr)
        code = interrupted_exit_code(err)
    finally:
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, signal.SIG_IGN)  # the work is done or stopped: let it end quietly
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)


if __name__ == "__main__":
    main()
