"""Plan reports as files a reviewer can file and re-check: Excel, one self-contained web page, and a PDF.

Two entry points over one record (`planner.documents.RunRecord`):
- `write_reports(run_dir, formats, out)` re-makes reports from what `rrplan solve --out` wrote,
  without solving again (this is `rrplan report`);
- `plan_report_bytes(plan, fmt)` makes one report from a Plan in memory (the app's download buttons).

Every report carries the same provenance, and two reports of one run differ only in the
"Report made at" timestamp (`generated_at`; now if None).
"""
from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

from .documents.pdf import pdf_bytes
from .documents.record import RunRecord
from .documents.webpage import page_bytes
from .documents.xlsx import workbook_bytes

FORMATS = ("xlsx", "html", "pdf")
FILE_NAMES = {"xlsx": "plan.xlsx", "html": "plan.html", "pdf": "plan.pdf"}
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
    "pdf": "application/pdf",
}
WRITERS = {"xlsx": workbook_bytes, "html": page_bytes, "pdf": pdf_bytes}


def report_bytes(record: RunRecord, fmt: str, generated_at: datetime | None = None) -> bytes:
    """One report of a run record in `fmt` (xlsx, html or pdf)."""
    if fmt not in WRITERS:
        raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return WRITERS[fmt](record, generated_at)


def plan_report_bytes(plan, fmt: str, plans_by_rule: dict | None = None, generated_at: datetime | None = None,
                      made_at: datetime | None = None) -> bytes:
    """One report of a Plan in memory; `plans_by_rule` ({rule: Plan}) adds the other rules for comparison.

    `made_at` is when the plan was made (now if None): the app knows it, a Plan does not.
    """
    record = RunRecord.from_plan(plan, made_at=made_at, plans_by_rule=plans_by_rule)
    return report_bytes(record, fmt, generated_at)


def write_reports(run_dir: str | Path, formats=FORMATS, out: str | Path | None = None,
                  generated_at: datetime | None = None) -> list[Path]:
    """Write plan.xlsx / plan.html / plan.pdf for a run folder into `out` (the run folder if None).

    Raises InputError naming every missing or malformed file of the run folder.
    """
    record = RunRecord.from_folder(run_dir)
    target = Path(out) if out is not None else Path(run_dir)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = target / FILE_NAMES[fmt]
        _write_atomic(path, report_bytes(record, fmt, generated_at))
        written.append(path)
    return written


def _write_atomic(path: Path, data: bytes) -> None:
    """Write beside the target and rename, so a reader never opens half a report."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o666 & ~_umask())  # reports are for sharing; mkstemp makes files private
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
