"""What every `rrplan` command shares: exit codes, the scenario a command's flags describe, and how bad input is
printed."""

from __future__ import annotations

import argparse
import signal
import sys

from planner.core.errors import InputError, Issue
from planner.core.schema import Scenario
from planner.inputs.presets import resolve
from planner.inputs.validation import CellError, parse_integer, parse_number, scenario_from_mapping

EXIT_OK, EXIT_INPUT, EXIT_NO_PLAN, EXIT_INTERRUPTED = 0, 2, 3, 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, as a shell reports a process ended by it


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is, so it stops as Ctrl-C does (workers ended, nothing half-written)."""

    signal_number = signal.SIGTERM


def raise_terminated(number: int, frame) -> None:
    raise Terminated()


def interrupted_exit_code(err: BaseException) -> int:
    """130 for Ctrl-C (SIGINT), 143 for SIGTERM."""
    return EXIT_TERMINATED if isinstance(err, Terminated) else EXIT_INTERRUPTED


SCENARIO_FLAGS = {  # flag dest -> scenario key
    "fund": "fund_usd",
    "admin_reserve": "admin_reserve_usd",
    "rule": "rule",
    "start": "start",
    "horizon": "horizon",
    "deadline": "deadline",
    "extensions": "extensions",
    "objective": "objective",
    "time_limit": "time_limit_s",
    "mip_gap": "mip_gap",
    "dark_weight": "dark_weight",
    "as_of": "as_of",
}


def whole_number(text: str) -> int:
    """An argparse type: a whole number in ASCII digits (int() would take '1_0', '١٠' or full-width digits)."""
    try:
        return parse_integer(text)
    except CellError as err:
        raise argparse.ArgumentTypeError(f"{text!r}: {err}") from None


def plain_number(text: str) -> float:
    """An argparse type: a finite number in ASCII digits, as the CSV cells and scenario flags are read."""
    try:
        return parse_number(text)
    except CellError as err:
        raise argparse.ArgumentTypeError(f"{text!r}: {err}") from None


def resolve_scenario(dataset_default: Scenario | None, args: argparse.Namespace) -> Scenario:
    """Defaults, then the dataset's scenario.toml, then --scenario, then flags; all problems at once."""
    issues: list[Issue] = []
    scenario = dataset_default or Scenario()
    if getattr(args, "scenario", None):
        scenario = resolve(args.scenario, base=scenario, issues=issues)
    flags = {key: getattr(args, dest) for dest, key in SCENARIO_FLAGS.items() if getattr(args, dest, None) is not None}
    if flags:
        scenario = scenario_from_mapping(flags, "command line", issues, base=scenario)
    if any(i.severity == "error" for i in issues):
        raise InputError(issues)
    return scenario


WARNINGS_SHOWN_PER_RULE = 5


def print_warnings(warnings, shown_per_rule: int = WARNINGS_SHOWN_PER_RULE) -> None:
    """Each warning as `warning: file:row: ...`, but at most `shown_per_rule` of one rule, then how many more.

    A 10,000-site dependency chain over a 48-month horizon once printed 10,000 lines of
    lead-time-beyond-horizon; the first five say what it is, the count says how far it goes.
    """
    counts: dict[str, int] = {}
    for warning in warnings:
        counts[warning.rule] = counts.get(warning.rule, 0) + 1
        if counts[warning.rule] <= shown_per_rule:
            print(f"warning: {warning}", file=sys.stderr)
    for rule, count in counts.items():
        if count > shown_per_rule:
            print(f"warning: ... and {count - shown_per_rule:,} more of the same rule [rule: {rule}]", file=sys.stderr)


def report_input_error(err: InputError, closing: str) -> int:
    """Print every problem as `file:row: column: message`, then one closing line; the exit code for bad input."""
    for issue in err.issues:
        print(str(issue), file=sys.stderr)
    print(f"rrplan: {closing}", file=sys.stderr)
    return EXIT_INPUT
