"""A run record: everything a report shows, read from a run folder or taken from a Plan in memory.

A report is made from what `rrplan solve --out DIR` wrote (summary.json with its `provenance`
entry, schedule.csv, carriers.csv, monthly.csv), so it can be re-made later without solving again.
`RunRecord.from_plan` turns a Plan into the same files' text and parses it with the same
reader, so a report made in the app and one made from the folder are the same document.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from planner.analysis.reports import carriers_table, json_ready, monthly_table, schedule_table, summary
from planner.core.errors import InputError, Issue
from planner.core.files import csv_text, write_folder_atomic
from planner.inputs.validation import parse_text
from planner.runs.provenance import run_provenance

RUN_FILES = ("summary.json", "schedule.csv", "carriers.csv", "monthly.csv")
RUN_TABLES = RUN_FILES[1:]
REPORT_FILES = ("plan.xlsx", "plan.html", "plan.pdf")  # what `rrplan report` adds (planner.present.export)
MAX_RUN_FILE_BYTES = 256 * 2**20  # rural40's schedule.csv is 300 KB; a 100,000-site one about 8 MB

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
    "completion",
    "site_id",
    "kind",
    "month",
    "finish_month",
    "deadline_month",
    "status",  # schedule.csv: done | in progress | planned | not replaced
}
FLAG_COLUMNS = {"replaced", "on_time", "allocation_idle"}
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
ESCAPED_COLUMNS = {"name"}  # written through csv_text; ids never start like a formula, so are written as they are


@dataclass(frozen=True)
class RuleResult:
    """What one funding rule gave: money per carrier and the headline outcome (for 'allocation by rule')."""

    rule: str
    allocation_usd: dict[str, float]
    allocated_usd: float
    carriers_done_by_deadline: int
    population_left_without_service: int
    figures: dict = field(default_factory=dict)  # the rule's whole summary when known (for the Compare table)


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
        issues: list[Issue] = []
        texts = {name: _read_text(folder / name, issues) for name in RUN_FILES}
        if issues:
            raise InputError(issues)
        return cls.from_texts(texts, source=str(folder), folder=folder)

    @classmethod
    def from_plan(
        cls, plan, made_at=None, plans_by_rule: dict | None = None, run_id: int | str | None = None
    ) -> RunRecord:
        """The record `rrplan solve --out` would write for this plan, made at `made_at` (now if None).

        `plans_by_rule` ({rule: Plan} of the same dataset) adds other rules for the
        'allocation by rule' comparison; this plan's own rule is always first. `run_id` is the
        plan's id in the run store, when it was recorded there (reports then name the run).
        """
        provenance = run_provenance(made_at)
        if run_id is not None:
            provenance["run_id"] = run_id
        record = cls.from_texts(run_files(plan, provenance), source="plan in memory")
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
            _check_one_run(where, figures, texts, issues)
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
            figures=self.summary,
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
                if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", str(scenario["start"])):
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
        figures=figures,
    )


def _read_text(path: Path, issues: list[Issue]) -> str:
    """A run file's text; too large or not UTF-8 is a problem naming the file, line and bytes (never a traceback)."""
    size = path.stat().st_size
    if size > MAX_RUN_FILE_BYTES:  # judged before reading: a run folder is a few megabytes
        issues.append(
            Issue(
                str(path),
                None,
                None,
                "run-folder",
                f"{size:,} bytes",
                f"larger than the {MAX_RUN_FILE_BYTES // 2**20} MiB a run file can be; "
                "not a file `rrplan solve --out` wrote",
            )
        )
        return ""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        start = data.rfind(b"\n", 0, err.start) + 1
        end = data.find(b"\n", err.start)
        text = data[start : len(data) if end < 0 else end].decode("utf-8", errors="backslashreplace").rstrip("\r")
        issues.append(
            Issue(
                str(path),
                line,
                None,
                "encoding",
                text[:80],
                f"byte {data[err.start]:#04x} is not UTF-8 text: the file was changed after "
                "`rrplan solve --out` wrote it (saved by a spreadsheet in another encoding?); "
                "solve again, or save it as 'CSV UTF-8'",
            )
        )
        return ""


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
        if column in ESCAPED_COLUMNS:
            table[column] = values.map(parse_text)  # undo the apostrophe that keeps formula-like text inert in CSV
            continue
        if column in TEXT_COLUMNS:
            table[column] = values  # ids as written: an id "'--" keeps its apostrophe
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
    """The text of every file of a run folder, the single definition `write_plan` and reports share.

    summary.json carries the sha256 of each table (`files_sha256`) and `run_sha256` over them, so
    a reader can tell a folder whose files come from one run from one mixing two, and
    `summary_sha256` over its own figures, so a figure changed by hand is refused too.
    """
    # tool, versions, solved-at and made-at, for `rrplan report`; the plan itself knows when it was solved
    solved = {"solved_at": provenance.get("solved_at") or getattr(result, "solved_at", None)}
    # the columns a report requires, and `status` (done | in progress | planned | not replaced), read as optional
    schedule = schedule_table(result)[[*TABLE_COLUMNS["schedule.csv"], "status"]]
    carriers = carriers_table(result)
    carriers["name"] = carriers["name"].map(csv_text)  # a name like =HYPERLINK(...) must not run in a spreadsheet
    tables = {
        "schedule.csv": _without_negative_zero(schedule).to_csv(index=False),
        "carriers.csv": _without_negative_zero(carriers).to_csv(index=False),
        "monthly.csv": _without_negative_zero(monthly_table(result)).to_csv(index=False),
    }
    checksums = tables_sha256(tables)
    recorded = {
        **summary(result),
        "provenance": {**provenance, **solved},
        "run_sha256": run_sha256(checksums),
        "files_sha256": checksums,
    }
    figures = json_ready(recorded)
    figures["summary_sha256"] = summary_sha256(figures)
    return {"summary.json": json.dumps(figures, indent=2) + "\n", **tables}


def summary_sha256(figures: dict) -> str:
    """sha256 of summary.json's figures as canonical JSON (keys sorted, no spaces), `summary_sha256` left out."""
    body = {key: value for key, value in figures.items() if key != "summary_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def tables_sha256(texts: dict[str, str]) -> dict[str, str]:
    """sha256 of each run table's text as written (UTF-8)."""
    return {name: hashlib.sha256(texts[name].encode("utf-8")).hexdigest() for name in RUN_TABLES}


def run_sha256(checksums: dict[str, str]) -> str:
    """The run's identity: one sha256 over its tables' checksums, in a fixed order."""
    return hashlib.sha256("".join(f"{name}:{checksums[name]}\n" for name in RUN_TABLES).encode()).hexdigest()


def _check_one_run(where: dict[str, str], figures: dict, texts: dict[str, str], issues: list[Issue]) -> None:
    """Every table is the one summary.json was written with, and summary.json's figures are the ones written.

    Folders written before issue 11 carry no checksums, and before issue 9's second round no `summary_sha256`.
    """
    if "summary_sha256" in figures and figures["summary_sha256"] != summary_sha256(figures):
        issues.append(
            Issue(
                where["summary.json"],
                None,
                "summary_sha256",
                "run-mixed",
                None,
                "the figures of summary.json are not the ones `rrplan solve` wrote (the file was changed); "
                "solve again into an empty folder",
            )
        )
    recorded = figures.get("files_sha256")
    if recorded is None and "run_sha256" not in figures:
        return
    if not isinstance(recorded, dict) or figures.get("run_sha256") != run_sha256(
        {name: str(recorded.get(name)) for name in RUN_TABLES}
    ):
        issues.append(
            Issue(
                where["summary.json"],
                None,
                "run_sha256",
                "run-mixed",
                None,
                "the run's checksums in summary.json are damaged; solve again",
            )
        )
        return
    actual = tables_sha256(texts)
    for name in RUN_TABLES:
        if actual[name] != recorded[name]:
            issues.append(
                Issue(
                    where[name],
                    None,
                    None,
                    "run-mixed",
                    actual[name][:12],
                    f"is not the {name} of this run (summary.json, run {figures['run_sha256'][:12]}, "
                    f"expects sha256 {recorded[name][:12]}...): the folder mixes files of two runs, "
                    "or the file was changed; solve again into an empty folder",
                )
            )


def _without_negative_zero(table: pd.DataFrame) -> pd.DataFrame:
    """-0.0 (a difference that came out as zero) printed as 0: -0.0 + 0.0 is 0.0, every other value unchanged."""
    table = table.copy()
    for column in table.columns:
        if pd.api.types.is_float_dtype(table[column]):
            table[column] = table[column] + 0.0
    return table


def write_run_files(files: dict[str, str], out: Path) -> None:
    """Write a run folder's files (see `run_files`): the whole folder or nothing.

    An existing run folder is replaced whole (its old reports go with it, being of another run);
    a folder holding anything else is refused rather than deleted with it.
    """
    out = Path(out)
    if out.is_symlink():
        out = out.resolve()  # replace the folder it points to, in its own parent, and keep the link
    if out.exists() and not out.is_dir():
        raise InputError(
            [
                Issue(
                    str(out),
                    None,
                    None,
                    "run-folder",
                    None,
                    "is a file; `--out` names a folder to write the run's files into",
                )
            ]
        )
    if out.is_dir():
        ours = set(RUN_FILES) | set(REPORT_FILES)
        foreign = sorted(
            p.name for p in out.iterdir() if p.name not in ours and not p.name.startswith(tuple(f".{n}." for n in ours))
        )
        if foreign:
            raise InputError(
                [
                    Issue(
                        str(out),
                        None,
                        None,
                        "run-folder",
                        ", ".join(foreign[:5]),
                        "holds files that are not a run's; a run folder is replaced whole, "
                        "so give a new or empty folder (nothing was written)",
                    )
                ]
            )
    write_folder_atomic(out, files)


def write_plan(result, out: Path) -> dict:
    """Write summary.json, schedule.csv, carriers.csv and monthly.csv; return the summary."""
    files = run_files(result, run_provenance())
    write_run_files(files, out)
    return json.loads(files["summary.json"])
