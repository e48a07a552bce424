"""Plan reports as files a reviewer can file and re-check: Excel, one self-contained web page, and a PDF.

Two entry points over one record (`planner.present.documents.RunRecord`):
- `write_reports(run_dir, formats, out)` re-makes reports from what `rrplan solve --out` wrote,
  without solving again (this is `rrplan report`);
- `plan_report_bytes(plan, fmt)` makes one report from a Plan in memory (the app's download buttons).

Every report carries the same provenance (with when the plan was solved), and two reports of one
run differ only in the "Report made at" timestamp (`generated_at`; now if None). Downloaded
reports are named by run: `plan-<run>.pdf`, the run id when the plan has one, else the dataset's
SHA-256 prefix and the moment the plan was solved (`report_file_name`).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from planner.core.errors import InputError, Issue
from planner.core.files import write_atomic
from planner.present.documents.pdf import pdf_bytes
from planner.present.documents.webpage import page_bytes
from planner.present.documents.xlsx import workbook_bytes
from planner.runs.folder import RunRecord

FORMATS = ("xlsx", "html", "pdf")
FILE_NAMES = {"xlsx": "plan.xlsx", "html": "plan.html", "pdf": "plan.pdf"}
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
    "pdf": "application/pdf",
}
WRITERS = {"xlsx": workbook_bytes, "html": page_bytes, "pdf": pdf_bytes}


def run_name(summary: dict, provenance: dict | None = None) -> str:
    """A short name for the run, safe in a file name: its run id, else `<sha256[:12]>-<solved at>`."""
    provenance = provenance or {}
    run_id = summary.get("run_id") or provenance.get("run_id")
    if run_id:
        name = str(run_id)
    else:
        source = (summary.get("dataset_sha256") or summary.get("dataset") or "plan")[:12]
        moment = provenance.get("solved_at") or provenance.get("made_at") or ""
        name = f"{source}-{moment.replace('-', '').replace(':', '')}".rstrip("-")
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def report_file_name(summary: dict, provenance: dict | None, fmt: str) -> str:
    """`plan-<run>.<fmt>` (see `run_name`)."""
    return f"plan-{run_name(summary, provenance)}.{fmt}"


def report_bytes(record: RunRecord, fmt: str, generated_at: datetime | None = None) -> bytes:
    """One report of a run record in `fmt` (xlsx, html or pdf)."""
    if fmt not in WRITERS:
        raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return WRITERS[fmt](record, generated_at)


def plan_report_bytes(
    plan,
    fmt: str,
    plans_by_rule: dict | None = None,
    generated_at: datetime | None = None,
    made_at: datetime | None = None,
    run_id: int | str | None = None,
) -> bytes:
    """One report of a Plan in memory; `plans_by_rule` ({rule: Plan}) adds the other rules for comparison.

    `made_at` is when the run's files are taken to be written (now if None); the plan's own
    `solved_at` is recorded as when it was solved; `run_id`, its id in the run store, names the run.
    """
    record = RunRecord.from_plan(plan, made_at=made_at, plans_by_rule=plans_by_rule, run_id=run_id)
    return report_bytes(record, fmt, generated_at)


def write_reports(
    run_dir: str | Path,
    formats=FORMATS,
    out: str | Path | None = None,
    generated_at: datetime | None = None,
    compare: tuple = (),
) -> list[Path]:
    """Write plan.xlsx / plan.html / plan.pdf for a run folder into `out` (the run folder if None).

    `compare` names run folders of the same dataset solved under other rules; their allocations
    join this run's in 'allocation by rule'. Raises InputError naming every missing or malformed
    file, or a compared run of another dataset or a rule already shown.
    """
    record = with_compared_runs(RunRecord.from_folder(run_dir), compare)
    target = Path(out) if out is not None else Path(run_dir)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = target / FILE_NAMES[fmt]
        write_atomic(path, report_bytes(record, fmt, generated_at))
        written.append(path)
    return written


def with_compared_runs(record: RunRecord, folders) -> RunRecord:
    """The record with the own-rule results of other run folders of the same dataset added."""
    issues, others = [], []
    rules = {record.rule}
    for folder in folders:
        other = RunRecord.from_folder(folder)
        where = str(Path(folder) / "summary.json")
        if other.summary["dataset_sha256"] != record.summary["dataset_sha256"]:
            issues.append(
                Issue(
                    where,
                    None,
                    "dataset_sha256",
                    "compare-same-dataset",
                    other.summary["dataset_sha256"],
                    f"is a run of another dataset (this run's is {record.summary['dataset_sha256']})",
                )
            )
        elif other.rule in rules:
            issues.append(
                Issue(
                    where,
                    None,
                    "rule",
                    "compare-one-run-per-rule",
                    other.rule,
                    "a run with this rule is already in the comparison",
                )
            )
        else:
            rules.add(other.rule)
            others.append(other.rules[0])
    if issues:
        raise InputError(issues)
    return record.with_rules(others)
