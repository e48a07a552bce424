"""What every `rrplan` command shares: exit codes, the scenario a command's flags describe, and how bad input is
printed."""

from __future__ import annotations

import argparse
import sys

from planner.core.errors import InputError, Issue
from planner.core.schema import Scenario
from planner.inputs.presets import resolve
from planner.inputs.validation import scenario_from_mapping

EXIT_OK, EXIT_INPUT, EXIT_NO_PLAN, EXIT_INTERRUPTED = 0, 2, 3, 130

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


def report_input_error(err: InputError, closing: str) -> int:
    """Print every problem as `file:row: column: message`, then one closing line; the exit code for bad input."""
    for issue in err.issues:
        print(str(issue), file=sys.stderr)
    print(f"rrplan: {closing}", file=sys.stderr)
    return EXIT_INPUT
