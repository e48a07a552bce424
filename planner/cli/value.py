"""`rrplan value DATASET [scenario flags] --out FILE.csv`: what $1M more would keep connected, per carrier.

Solves the scenario as `rrplan solve` does, then re-plans each chosen carrier alone with its
allocation and with its allocation plus `--step` (`planner.analysis.marginal_value`), and
writes one row per carrier. Two re-plans per carrier make it far slower than a solve, so it is
its own command, not a column of every run's carriers.csv.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from planner.analysis.marginal_value import value_of_money
from planner.cli.common import (
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_NO_PLAN,
    EXIT_OK,
    SCENARIO_FLAGS,
    report_input_error,
    resolve_scenario,
)
from planner.core.errors import InputError, Issue, PlannerError
from planner.core.files import write_atomic
from planner.engine.planning import plan as make_plan
from planner.inputs.io import read_dataset
from planner.inputs.validation import CellError, check_against_scenario, parse_number

VALUE_COMMAND = "value"


def add_value_command(commands) -> None:
    value = commands.add_parser(
        VALUE_COMMAND, help="people and person-months $1M more would keep connected, carrier by carrier"
    )
    value.add_argument("dataset")
    value.add_argument("--scenario", help="scenario TOML file or preset name (as for solve)")
    for dest in SCENARIO_FLAGS:
        value.add_argument(f"--{dest.replace('_', '-')}", dest=dest, help=f"as for solve: the scenario's {dest}")
    value.add_argument("--carrier", action="append", help="carrier id (repeat for several; default: every carrier)")
    value.add_argument("--step", default="1e6", help="extra money per carrier, USD (default 1e6)")
    value.add_argument(
        "--replan-time-limit", type=float, default=10.0, help="seconds for each carrier's re-plan (default 10)"
    )
    value.add_argument("--out", required=True, help="CSV file to write")
    value.add_argument("--quiet", action="store_true", help="print nothing but errors")


def run_value(args: argparse.Namespace) -> int:
    try:
        try:
            step_usd = parse_number(args.step)
        except CellError as err:
            raise InputError([Issue("command line", None, "--step", err.rule, args.step, str(err))]) from None
        if not step_usd > 0:
            raise InputError(
                [Issue("command line", None, "--step", "out-of-range", args.step, "the step must be more than $0")]
            )
        dataset = read_dataset(args.dataset)
        scenario = resolve_scenario(dataset.default_scenario, args)
        errors = [i for i in check_against_scenario(dataset, scenario) if i.severity == "error"]
        if errors:
            raise InputError(errors)
        unknown = [c for c in args.carrier or () if c not in dataset.carrier_by_id]
        if unknown:
            raise InputError(
                [
                    Issue("command line", None, "--carrier", "unknown-carrier", c, "carrier_id is not in carriers.csv")
                    for c in unknown
                ]
            )
        base = make_plan(dataset, scenario)
        table = value_of_money(base, args.carrier, step_usd=step_usd, time_limit_s=args.replan_time_limit)
        write_atomic(Path(args.out), table.to_csv(index=False))
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
    if not args.quiet:
        bought = int(table["bought_anything"].sum())
        print(f"wrote {args.out}: {bought} of {len(table)} carrier(s) would buy something with ${step_usd:,.0f} more")
    return EXIT_OK
