"""A run record: everything a report shows, read from a run folder or taken from a Plan in memory.

A report is made from what `rrplan solve --out DIR` wrote (summary.json with its `provenance`
entry, schedule.csv, carriers.csv, monthly.csv), so it can be re-made later without solving again.
`RunRecord.from_plan` turns a Plan into the same files' text and parses it with the same
reader, so a report made in the app and one made from the folder are the same document.
"""

from __future__ import annotations

import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from planner.analysis.reports import carriers_table, json_ready, monthly_table, schedule_table, summary
from planner.core.errors import InputError, Issue
from planner.core.files import csv_text, write_atomic
from planner.inputs.validation import parse_text
from planner.runs.provenance import run_provenance

RUN_FILES = ("summary.json", "schedule.csv", "carriers.csv", "monthly.csv")

SUMMARY_KEYS = (
    "status",
    "objective",
    "bound",
    "gap",
    "fund_usd",
    "available_usd",
    "demand_usd",
    "allocated_usd",
    "spend_usd",
    "sites_total",
    "sites_replaced",
    "carriers_total",
    "carriers_done_by_deadline",
    "population_total",
    "population_left_without_service",
    "horizon",
    "effective_deadline",
    "solve_seconds",
    "wall_seconds",
    "solver",
    "dataset",
    "dataset_sha256",
    "rule",
    "scenario",
)
TEXT_FIGURES = {"status", "solver", "dataset", "dataset_sha256", "rule"}
NULLABLE_FIGURES = {"objective", "bound", "gap"}  # JSON has no NaN: `rrplan solve` writes null
SCENARIO_KEYS = ("start", "deadline", "extensions", "objective", "time_limit_s", "mip_gap", "dark_weight")
SCENARIO_NUMBERS = (
    "fund_usd",
    "admin_reserve_usd",
    "horizon",
    "deadline",
    "extensions",
    "time_limit_s",
    "mip_gap",
    "dark_weight",
)
TABLE_COLUMNS = {
    "carriers.csv": (
        "carrier_id",
        "name",
        "state",
        "priority",
        "demand_usd",
        "allocation_usd",
        "own_funds_usd",
        "spend_usd",
        "sites",
        "sites_replaced",
        "completion_period",
        "completion_month",
        "on_time",
        "population",
        "population_left_without_service",
        "reason",
    ),
    "schedule.csv": (
        "site_id",
        "carrier_id",
        "kind",
        "start",
        "finish",
        "month",
        "finish_month",
        "replaced",
        "cost_usd",
        "population",
    ),
    "monthly.csv": (
        "period",
        "month",
        "spend_usd",
        "funds_drawn_usd",
        "population_on_covered_gear",
        "population_on_new_gear",
        "population_without_service",
        "cumulative_spend_usd",
    ),
}
TEXT_COLUMNS = {
    "carrier_id",
    "name",
    "state",
    "reason",
    "completion_month",
    "site_id",
    "kind",
    "month",
    "finish_month",
    "deadline_month",
    "status",  # schedule.csv: done | in progress | planned | not replaced
}
FLAG_COLUMNS = {"replaced", "on_time"}
WHOLE_COLUMNS = {
    "priority",
    "sites",
    "sites_replaced",
    "completion_period",
    "population",
    "population_left_without_service",
    "start",
    "finish",
    "period",
    "population_on_covered_gear",
    "population_on_new_gear",
    "population_without_service",
}


@dataclass(frozen=True)
class RuleResult:
    """What one funding rule gave: money per carrier and the headline outcome (for 'allocation by rule')."""

    rule: str
    allocation_usd: dict[str, float]
    allocated_usd: float
    carriers_done_by_deadline: int
    population_left_without_service: int


@dataclass(frozen=True, eq=False)
class RunRecord:
    """The figures, tables and provenance of one solved run.

    `rules` holds this run's own rule first, then any other rules solved for comparison.
    """

    summary: dict
    provenance: dict  # tool, versions, made-at (see planner.runs.provenance)
    carriers: pd.DataFrame
    schedule: pd.DataFrame
    monthly: pd.DataFrame
    rules: tuple[RuleResult, ...] = field(default=())
    source: str = ""  # a folder path or "plan in memory"; never printed, so both give the same report

    # ------------------------------------------------------------ construction

    @classmethod
    def from_folder(cls, folder: str | Path) -> RunRecord:
        """Read a run folder; raise InputError naming every missing or malformed file, row and column."""
        folder = Path(folder)
        if not folder.is_dir():
            raise InputError(
                [
                    Issue(
                        str(folder),
                        None,
                        None,
                        "run-folder",
                        None,
                        "is not a folder; give the folder `rrplan solve --out` wrote",
                    )
                ]
            )
        missing = [name for name in RUN_FILES if not (folder / name).is_file()]
        if missing:
            raise InputError(
                [
                    Issue(
                        str(folder / name),
                        None,
                        None,
                        "run-folder",
                        None,
                        "missing: not a run folder written by `rrplan solve --out`",
                    )
                    for name in missing
                ]
            )
        texts = {name: (folder / name).read_text(encoding="utf-8") for name in RUN_FILES}
        return cls.from_texts(texts, source=str(folder), folder=folder)

    @classmethod
    def from_plan(cls, plan, made_at=None, plans_by_rule: dict | None = None) -> RunRecord:
        """The record `rrplan solve --out` would write for this plan, made at `made_at` (now if None).

        `plans_by_rule` ({rule: Plan} of the same dataset) adds other rules for the
        'allocation by rule' comparison; this plan's own rule is always first.
        """
        record = cls.from_texts(run_files(plan, run_provenance(made_at)), source="plan in memory")
        others = [
            rule_result_of_plan(other)
            for rule, other in sorted((plans_by_rule or {}).items())
            if other is not plan and rule != record.rule
        ]
        return record.with_rules(others)

    @classmethod
    def from_texts(cls, texts: dict[str, str], source: str = "", folder: Path | None = None) -> RunRecord:
        """Parse the run files' text (file name -> text); every problem is collected before raising.

        Problems name the file inside `folder` when the text came from one.
        """
        issues: list[Issue] = []
        where = {name: str(folder / name) if folder is not None else name for name in RUN_FILES}
        figures = _read_json(where["summary.json"], texts["summary.json"], issues)
        if figures is not None:
            _check_summary(where["summary.json"], figures, issues)
        tables = {name: _read_table(where[name], name, texts[name], issues) for name in TABLE_COLUMNS}
        if tables["schedule.csv"] is not None:
            _check_schedule(where["schedule.csv"], tables["schedule.csv"], issues)
        carriers, schedule, monthly = tables["carriers.csv"], tables["schedule.csv"], tables["monthly.csv"]
        # A file that could not be read left its problem in `issues`; the None checks say so to the type checker.
        if issues or figures is None or carriers is None or schedule is None or monthly is None:
            raise InputError(issues)
        # Runs written before provenance was recorded still make reports, saying "not recorded".
        record = cls(
            summary=figures,
            provenance=figures.get("provenance") or {},
            carriers=carriers,
            schedule=schedule,
            monthly=monthly,
            source=source,
        )
        return record.with_rules([])

    def with_rules(self, others: list[RuleResult]) -> RunRecord:
        """This record with its own rule's result first and `others` after it."""
        own = RuleResult(
            rule=self.rule,
            allocation_usd=dict(zip(self.carriers["carrier_id"], self.carriers["allocation_usd"], strict=True)),
            allocated_usd=float(self.summary["allocated_usd"]),
            carriers_done_by_deadline=int(self.summary["carriers_done_by_deadline"]),
            population_left_without_service=int(self.summary["population_left_without_service"]),
        )
        return RunRecord(
            self.summary,
            self.provenance,
            self.carriers,
            self.schedule,
            self.monthly,
            rules=(own, *others),
            source=self.source,
        )

    # ------------------------------------------------------------ derived views

    @property
    def scenario(self) -> dict:
        return self.summary["scenario"]

    @property
    def rule(self) -> str:
        return self.summary["rule"]

    @property
    def horizon(self) -> int:
        return int(self.summary["horizon"])

    @property
    def deadline(self) -> int:
        return int(self.summary["effective_deadline"])

    def month_label(self, period: int) -> str:
        """`YYYY-MM` of a period counted from the scenario's start."""
        year, month = (int(part) for part in self.scenario["start"].split("-"))
        index = year * 12 + month - 1 + int(period)
        return f"{index // 12:04d}-{index % 12 + 1:02d}"

    @property
    def deadline_month(self) -> str:
        return self.month_label(self.deadline)

    @property
    def carrier_ids(self) -> list[str]:
        return sorted(self.carriers["carrier_id"])

    def carrier(self, carrier_id: str) -> dict:
        """One row of carriers.csv as a dict."""
        return self.carriers[self.carriers["carrier_id"] == carrier_id].iloc[0].to_dict()

    def carrier_sites(self, carrier_id: str) -> pd.DataFrame:
        """The carrier's sites: replaced ones by start then id, then the ones not replaced by id."""
        sites = self.schedule[self.schedule["carrier_id"] == carrier_id]
        return sites.sort_values(["replaced", "start", "site_id"], ascending=[False, True, True], na_position="last")

    def carrier_monthly(self, carrier_id: str) -> pd.DataFrame:
        """Per month: the carrier's spend (a site's cost spread evenly over its months of work) and its running sum."""
        spend = [0.0] * self.horizon
        sites = self.schedule[(self.schedule["carrier_id"] == carrier_id) & self.schedule["replaced"]]
        for start, finish, cost in zip(sites["start"], sites["finish"], sites["cost_usd"], strict=True):
            months = int(finish) - int(start)
            for period in range(int(start), min(int(finish), self.horizon)):
                spend[period] += cost / months
        table = pd.DataFrame(
            {
                "period": range(self.horizon),
                "month": [self.month_label(t) for t in range(self.horizon)],
                "spend_usd": spend,
            }
        )
        table["cumulative_spend_usd"] = table["spend_usd"].cumsum()
        return table

    @property
    def missed(self) -> pd.DataFrame:
        """Carriers that do not finish every site by the effective deadline, with the reason."""
        return self.carriers[~self.carriers["on_time"]].sort_values("carrier_id")


def _check_summary(name: str, figures: dict, issues: list[Issue]) -> None:
    """Every figure a report prints is there and has the right type (a report never stops on a traceback)."""

    def problem(key, value, message):
        issues.append(Issue(name, None, key, "run-summary", None if value is None else str(value), message))

    for key in SUMMARY_KEYS:
        if key not in figures:
            problem(key, None, "missing figure; re-run `rrplan solve --out` to write a complete summary")
        elif key in TEXT_FIGURES:
            if not isinstance(figures[key], str):
                problem(key, figures[key], "must be text")
        elif key == "scenario":
            scenario = figures[key]
            if not isinstance(scenario, dict) or any(k not in scenario for k in SCENARIO_KEYS):
                problem(key, None, f"must hold the scenario's {', '.join(SCENARIO_KEYS)}")
            else:
                if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(scenario["start"])):
                    problem("scenario.start", scenario["start"], "must be a month written YYYY-MM")
                for numeric in SCENARIO_NUMBERS:
                    if numeric in scenario and not _is_number(scenario[numeric]):
                        problem(f"scenario.{numeric}", scenario[numeric], "must be a number")
        elif not _is_number(figures[key]) and not (figures[key] is None and key in NULLABLE_FIGURES):
            problem(key, figures[key], "must be a number")
    notes = figures.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        problem("notes", None, "must be a list of sentences")


def _check_schedule(name: str, schedule: pd.DataFrame, issues: list[Issue]) -> None:
    """A replaced site has a start and a later finish (its spend is spread over those months)."""
    replaced = schedule[schedule["replaced"]]
    bad = replaced["start"].isna() | replaced["finish"].isna() | (replaced["finish"] <= replaced["start"]).fillna(True)
    for row in bad[bad].index[:5]:
        issues.append(
            Issue(
                name,
                int(row) + 2,
                "finish",
                "run-value",
                f"{schedule.at[row, 'start']!s}..{schedule.at[row, 'finish']!s}",
                "a replaced site needs a start and a later finish",
            )
        )


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def rule_result_of_plan(plan) -> RuleResult:
    figures = summary(plan)
    return RuleResult(
        rule=plan.scenario.rule,
        allocation_usd=dict(plan.allocation_usd),
        allocated_usd=figures["allocated_usd"],
        carriers_done_by_deadline=figures["carriers_done_by_deadline"],
        population_left_without_service=figures["population_left_without_service"],
    )


def _read_json(name: str, text: str, issues: list[Issue]) -> dict | None:
    """One JSON object, or None with the problem recorded (`name` is how messages call the file)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        issues.append(Issue(name, err.lineno, None, "json-syntax", None, f"not valid JSON: {err.msg}"))
        return None
    if not isinstance(value, dict):
        issues.append(Issue(name, None, None, "json-object", None, "must hold one JSON object"))
        return None
    return value


def _read_table(name: str, kind: str, text: str, issues: list[Issue]) -> pd.DataFrame | None:
    """Parse one run table (`kind`, e.g. carriers.csv) with every column typed; ids and names stay text as written."""
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        issues.append(Issue(name, None, None, "csv-syntax", None, f"cannot read the table: {err}"))
        return None
    absent = [c for c in TABLE_COLUMNS[kind] if c not in raw.columns]
    for column in absent:
        issues.append(Issue(name, None, column, "run-table", None, "missing column; re-run `rrplan solve --out`"))
    if absent:
        return None
    table = pd.DataFrame(index=raw.index)
    for column in raw.columns:
        values = raw[column]
        if column in TEXT_COLUMNS:
            table[column] = values.map(parse_text)  # undo the apostrophe that keeps formula-like text inert in CSV
            continue
        if column in FLAG_COLUMNS:
            bad = ~values.isin(["True", "False"])
            table[column] = values == "True"
        else:
            numbers = pd.to_numeric(values.replace("", None), errors="coerce")
            bad = numbers.isna() & (values != "")
            if column in WHOLE_COLUMNS:
                bad |= numbers.notna() & (numbers % 1 != 0)
                numbers = numbers.round().astype("Int64")
            table[column] = numbers
        for row in bad[bad].index[:5]:
            issues.append(
                Issue(
                    name,
                    int(row) + 2,
                    column,
                    "run-value",
                    values[row],
                    "not a " + ("True/False flag" if column in FLAG_COLUMNS else "number"),
                )
            )
    return table


def run_files(result, provenance: dict) -> dict[str, str]:
    """The text of every file of a run folder, the single definition `write_plan` and reports share."""
    recorded = {**summary(result), "provenance": provenance}  # tool, versions and made-at, for `rrplan report`
    schedule = schedule_table(result)[
        [
            "site_id",
            "carrier_id",
            "kind",
            "start",
            "finish",
            "month",
            "finish_month",
            "replaced",
            "cost_usd",
            "population",
            "status",  # done | in progress | planned | not replaced (plans from today); read as optional
        ]
    ]
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
