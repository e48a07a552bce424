"""The `rrplan` command: validate a dataset, solve a scenario, write the plan's tables, and
`rrplan report RUN_DIR` to make plan.xlsx, plan.html and plan.pdf from them (see docs/reports.md).

Exit codes: 0 a plan was written (unfunded sites are an answer, not an error),
2 bad input (every problem listed as `file:row: column: message`), 3 no plan could be made,
130 interrupted.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__
from .diagnostics import usd
from .engine import plan as make_plan
from .errors import InputError, Issue, PlannerError
from .io import csv_text, read_dataset, write_atomic
from .provenance import run_provenance
from .reports import carriers_table, json_ready, monthly_table, schedule_table, summary
from .schema import Scenario
from .validation import check_against_scenario, scenario_from_mapping

EXIT_OK, EXIT_INPUT, EXIT_NO_PLAN, EXIT_INTERRUPTED = 0, 2, 3, 130

SCENARIO_FLAGS = {  # flag dest -> scenario key
    "fund": "fund_usd", "admin_reserve": "admin_reserve_usd", "rule": "rule", "start": "start",
    "horizon": "horizon", "deadline": "deadline", "extensions": "extensions", "objective": "objective",
    "time_limit": "time_limit_s", "mip_gap": "mip_gap", "dark_weight": "dark_weight",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rrplan", description="Plan the replacement of covered network gear.")
    parser.add_argument("--version", action="version", version=f"rrplan {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="check a dataset folder and list every problem")
    validate.add_argument("dataset", help="folder with carriers.csv, crews.csv, sites.csv")
    validate.add_argument("--scenario", help="scenario TOML file to check along with the dataset")

    solve = commands.add_parser("solve", help="allocate the fund and schedule every carrier")
    solve.add_argument("dataset")
    solve.add_argument("--scenario", help="scenario TOML file or preset name, e.g. appropriation-2020 "
                       "(overrides the dataset's scenario.toml)")
    solve.add_argument("--fund", help="fund size in USD, e.g. 1895000000 or 1.895e9")
    solve.add_argument("--admin-reserve", help="USD held back for administration")
    solve.add_argument("--rule", help="pro_rata | priority | optimal | greedy")
    solve.add_argument("--objective", help="exposure | makespan")
    solve.add_argument("--start", help="first month, YYYY-MM")
    solve.add_argument("--horizon", help="months planned")
    solve.add_argument("--deadline", help="term in months from start")
    solve.add_argument("--extensions", help="number of 6-month extensions granted")
    solve.add_argument("--time-limit", help="solver time limit in seconds")
    solve.add_argument("--mip-gap", help="relative optimality gap at which to stop")
    solve.add_argument("--dark-weight", help="weight of a person-month without service")
    solve.add_argument("--workers", type=int, default=None, help="parallel solver processes (default: up to 2)")
    solve.add_argument("--out", required=True, help="folder to write summary.json and the tables to")
    solve.add_argument("--quiet", action="store_true", help="print nothing but errors")
    solve.add_argument("--no-store", action="store_true", help="neither reuse nor record the run in the run store")
    solve.add_argument("--store", help="run store file (default: $RRPLAN_STORE or runs/rrplan.sqlite)")
    report = commands.add_parser("report", help="write plan.xlsx, plan.html and plan.pdf from a solved run folder")
    report.add_argument("run_dir", help="folder written by `rrplan solve --out`")
    report.add_argument("--format", default="all", choices=("xlsx", "html", "pdf", "all"), help="which report (default: all)")
    report.add_argument("--out", help="folder to write the reports to (default: RUN_DIR)")
    report.add_argument("--compare", nargs="+", default=(), metavar="OTHER_RUN_DIR",
                        help="runs of the same dataset under other rules, shown in 'allocation by rule'")
    report.add_argument("--quiet", action="store_true", help="print nothing but errors")
    from .cli_scale import add_scale_commands  # sweep, montecarlo, runs, diff
    add_scale_commands(commands)
    return parser


def resolve_scenario(dataset_default: Scenario | None, args: argparse.Namespace) -> Scenario:
    """Defaults, then the dataset's scenario.toml, then --scenario, then flags; all problems at once."""
    issues: list[Issue] = []
    scenario = dataset_default or Scenario()
    if getattr(args, "scenario", None):
        from .scenarios import resolve  # a file path, or the name of a shipped preset
        scenario = resolve(args.scenario, base=scenario, issues=issues)
    flags = {key: getattr(args, dest) for dest, key in SCENARIO_FLAGS.items() if getattr(args, dest, None) is not None}
    if flags:
        scenario = scenario_from_mapping(flags, "command line", issues, base=scenario)
    if any(i.severity == "error" for i in issues):
        raise InputError(issues)
    return scenario


def run_files(result, provenance: dict) -> dict[str, str]:
    """The text of every file of a run folder, the single definition `write_plan` and reports share."""
    recorded = {**summary(result), "provenance": provenance}  # tool, versions and made-at, for `rrplan report`
    schedule = schedule_table(result)[["site_id", "carrier_id", "kind", "start", "finish", "month", "finish_month",
                                        "replaced", "cost_usd", "population"]]
    carriers = carriers_table(result)
    carriers["name"] = carriers["name"].map(csv_text)  # a name like =HYPERLINK(...) must not run in a spreadsheet
    return {
        "summary.json": json.dumps(json_ready(recorded), indent=2) + "\n",
        "schedule.csv": schedule.to_csv(index=False),
        "carriers.csv": carriers.to_csv(index=False),
        "monthly.csv": monthly_table(result).to_csv(index=False),
    }


def write_run_files(files: dict[str, str], out: Path) -> None:
    """Write a run folder's files (see `run_files`), each atomically."""
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        write_atomic(out / name, text)


def write_plan(result, out: Path) -> dict:
    """Write summary.json, schedule.csv, carriers.csv and monthly.csv; return the summary."""
    files = run_files(result, run_provenance())
    write_run_files(files, out)
    return json.loads(files["summary.json"])


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
    for note in figures["notes"]:
        lines.append(f"note              {note}")
    print("\n".join(lines))


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .cli_scale import SCALE_COMMANDS, run_scale_command, solve_with_store
    if args.command in SCALE_COMMANDS:
        return run_scale_command(args)
    if args.command == "report":
        return run_report(args)
    try:
        dataset = read_dataset(args.dataset)
        scenario = resolve_scenario(dataset.default_scenario, args)
        checks = check_against_scenario(dataset, scenario)
        for warning in [*dataset.warnings, *checks]:
            print(f"warning: {warning}", file=sys.stderr)
        if args.command == "validate":
            print(f"{args.dataset}: {len(dataset.carriers)} carriers, {len(dataset.sites)} sites, "
                  f"{len(dataset.crews)} crew pools: valid")
            return EXIT_OK
        progress = None if args.quiet or not sys.stderr.isatty() else _progress_printer()
        if args.no_store:
            figures, stored = write_plan(make_plan(dataset, scenario, progress=progress, workers=args.workers),
                                         Path(args.out)), ""
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
    except KeyboardInterrupt:
        print("rrplan: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as err:
        print(f"rrplan: cannot read or write a file: {err}", file=sys.stderr)
        return EXIT_INPUT


def report_input_error(err: InputError, closing: str) -> int:
    """Print every problem as `file:row: column: message`, then one closing line; the exit code for bad input."""
    for issue in err.issues:
        print(str(issue), file=sys.stderr)
    print(f"rrplan: {closing}", file=sys.stderr)
    return EXIT_INPUT


def run_report(args: argparse.Namespace) -> int:
    """`rrplan report RUN_DIR`: re-make the reports of a solved run without solving again."""
    import time

    from .export import FORMATS, write_reports  # the reports group's libraries load only for this command

    began = time.perf_counter()
    try:
        written = write_reports(args.run_dir, FORMATS if args.format == "all" else (args.format,), out=args.out,
                                compare=tuple(args.compare))
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
        print(f"\r  scheduled {done}/{total} carriers (last: {carrier_id})   ", end="" if done < total else "\n",
              file=sys.stderr, flush=True)
    return report


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
