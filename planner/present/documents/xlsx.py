"""The Excel workbook `plan.xlsx`: a summary sheet and one filterable sheet per table.

Workbook manners: a frozen, bold header row, widths fitted to the content, number formats
for dollars, people and months (months are real dates shown as yyyy-mm, so they sort and
filter), and an autofilter on every table. Text from the data is always written as a
string cell; text a spreadsheet would run as a formula (starting with =, +, -, @, tab or
carriage return) is also marked with Excel's quote prefix so that editing the cell keeps it
text. The file is byte-for-byte reproducible: document dates are the plan's made-at time and
every zip entry carries that same time.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from planner.core.wording import rule_name, usd
from planner.present.documents import wording
from planner.present.documents.wording import (
    COUNT,
    MONTHS,
    NUMBER,
    PEOPLE,
    RATIO,
    SECONDS,
    TEXT,
    USD,
    USD_EXACT,
)
from planner.runs.folder import RunRecord
from planner.runs.provenance import parse_timestamp

MONTH, PERIOD, FLAG, CREW = "month", "period", "flag", "crew"  # units only tables use
NUMBER_FORMATS = {
    USD: '"$"#,##0',
    USD_EXACT: '"$"#,##0',
    PEOPLE: "#,##0",
    COUNT: "#,##0",
    MONTHS: '0" months"',
    RATIO: "0.00%",
    SECONDS: '0.0" s"',
    MONTH: "yyyy-mm",
    PERIOD: "0",
    CREW: "#,##0.0",
    NUMBER: "#,##0.00",
    TEXT: "@",
}
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
FALLBACK_TIME = datetime(2000, 1, 1)  # document date when the run does not say when it was made
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", start_color="FFE8EEF4")
TITLE_FONT = Font(bold=True, size=14)
SECTION_FONT = Font(bold=True, size=12)


@dataclass(frozen=True)
class Column:
    header: str
    source: str
    unit: str


CARRIER_COLUMNS = (
    Column("Carrier ID", "carrier_id", TEXT),
    Column("Carrier", "name", TEXT),
    Column("State", "state", TEXT),
    Column("Priority tier", "priority", COUNT),
    Column("Demand (USD)", "demand_usd", USD),
    Column("Allocation (USD)", "allocation_usd", USD),
    Column("Allocated but unusable (USD)", "idle_allocation_usd", USD),
    Column("Own funds (USD)", "own_funds_usd", USD),
    Column("Spend (USD)", "spend_usd", USD),
    Column("Sites", "sites", COUNT),
    Column("Sites replaced", "sites_replaced", COUNT),
    Column("Completion month", "completion_month", MONTH),
    Column("Completion (or why not)", "completion", TEXT),
    Column("Done by deadline", "on_time", FLAG),
    Column("People", "population", PEOPLE),
    Column("People left without service", "population_left_without_service", PEOPLE),
)
SCHEDULE_COLUMNS = (
    Column("Site ID", "site_id", TEXT),
    Column("Carrier ID", "carrier_id", TEXT),
    Column("Kind", "kind", TEXT),
    Column("Replaced", "replaced", FLAG),
    Column("Start month", "month", MONTH),
    Column("Finish month", "finish_month", MONTH),
    Column("Start (months from start)", "start", PERIOD),
    Column("Finish (months from start)", "finish", PERIOD),
    Column("Cost (USD)", "cost_usd", USD),
    Column("People", "population", PEOPLE),
)
MONTHLY_COLUMNS = (
    Column("Month", "month", MONTH),
    Column("Period (months from start)", "period", PERIOD),
    Column("Spend (USD)", "spend_usd", USD),
    Column("Drawn from the fund (USD)", "funds_drawn_usd", USD),
    Column("Cumulative spend (USD)", "cumulative_spend_usd", USD),
    Column("People on covered gear", "population_on_covered_gear", PEOPLE),
    Column("People on new gear", "population_on_new_gear", PEOPLE),
    Column("People without service", "population_without_service", PEOPLE),
)
MISSED_COLUMNS = (
    Column("Carrier ID", "carrier_id", TEXT),
    Column("Carrier", "name", TEXT),
    Column("State", "state", TEXT),
    Column("Sites", "sites", COUNT),
    Column("Sites replaced", "sites_replaced", COUNT),
    Column("Completion month", "completion_month", MONTH),
    Column("Completion (or why not)", "completion", TEXT),
    Column("People left without service", "population_left_without_service", PEOPLE),
    Column("Reason for missing the deadline", "reason", TEXT),
)


def workbook_bytes(record: RunRecord, generated_at: datetime | None = None) -> bytes:
    """The whole workbook as bytes; identical for identical inputs and `generated_at`."""
    book = Workbook()
    summary_sheet = book.active
    summary_sheet.title = "Summary"
    write_summary(summary_sheet, record, generated_at)
    write_table(book.create_sheet("Allocation"), CARRIER_COLUMNS, record.carriers.sort_values("carrier_id"))
    write_table(book.create_sheet("Schedule"), SCHEDULE_COLUMNS, record.schedule.sort_values(["carrier_id", "site_id"]))
    monthly_columns = MONTHLY_COLUMNS + tuple(
        Column(_crew_header(name), name, CREW) for name in record.monthly.columns if name.startswith("crew_")
    )
    write_table(book.create_sheet("Monthly"), monthly_columns, record.monthly.sort_values("period"))
    write_table(book.create_sheet("Missed deadline"), MISSED_COLUMNS, record.missed)
    if len(record.rules) > 1:
        write_rules(book.create_sheet("Allocation by rule"), record)
        write_compare(book.create_sheet("Compare"), record)
    made = _document_time(record)
    book.properties.creator = f"rrplan {record.provenance.get('tool_version', '')}".strip()
    book.properties.title = f"Rip-and-replace plan: {record.scenario.get('name', '')} ({record.summary['dataset']})"
    book.properties.created = made
    book.properties.modified = made
    return _zip_at(_save(book), made)


def write_summary(sheet, record: RunRecord, generated_at: datetime | None) -> None:
    """Title, the quotable sentence, then headline figures, scenario and provenance as label/value rows."""
    sheet.column_dimensions["A"].width = 46
    sheet.column_dimensions["B"].width = 80
    _text(sheet.cell(1, 1), f"Rip-and-replace plan: {record.scenario.get('name', '')} ({record.summary['dataset']})")
    sheet.cell(1, 1).font = TITLE_FONT
    row = 2
    for sentence in [wording.headline_sentence(record), *wording.detail_sentences(record)]:
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
        _text(sheet.cell(row, 1), sentence)
        sheet.cell(row, 1).alignment = Alignment(wrap_text=True, vertical="top")
        sheet.row_dimensions[row].height = 15 * (1 + len(sentence) // 110)
        row += 1
    sections = [
        ("Headline figures", wording.headline_rows(record)),
        ("Scenario", wording.scenario_rows(record)),
        ("Provenance", wording.provenance_rows(record, generated_at)),
    ]
    if len(record.rules) > 1:
        sections.append(
            (
                "Outcome under each rule",
                [
                    (
                        rule_name(r.rule),
                        f"allocated {usd(r.allocated_usd)}; "
                        f"{r.carriers_done_by_deadline:,} carriers done by the deadline; "
                        f"{r.population_left_without_service:,} people left without service",
                        TEXT,
                    )
                    for r in record.rules
                ],
            )
        )
    for title, rows in sections:
        row += 1
        _text(sheet.cell(row, 1), title)
        sheet.cell(row, 1).font = SECTION_FONT
        row += 1
        for label, value, unit in rows:
            _text(sheet.cell(row, 1), label)
            _value(sheet.cell(row, 2), value, unit)
            sheet.cell(row, 2).alignment = Alignment(horizontal="left", wrap_text=unit == TEXT)
            row += 1
    for note in record.summary.get("notes") or []:
        _text(sheet.cell(row, 1), "Note")
        _text(sheet.cell(row, 2), note)
        row += 1


def write_table(sheet, columns: tuple[Column, ...], table, top: int = 1) -> None:
    """A header row (row `top`) and one row per record; frozen header, fitted widths, number formats, autofilter.

    Columns the table lacks (a run written by an older version) are left out.
    """
    columns = tuple(c for c in columns if c.source in table)
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(top, index)
        _text(cell, column.header)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row_index, values in enumerate(zip(*(table[c.source] for c in columns), strict=True), start=top + 1):
        for index, (column, value) in enumerate(zip(columns, values, strict=True), start=1):
            _value(sheet.cell(row_index, index), value, column.unit)
    last_row = max(top + 1, top + len(table))
    sheet.freeze_panes = f"A{top + 1}"
    sheet.auto_filter.ref = f"A{top}:{get_column_letter(len(columns))}{last_row}"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _width(column, table[column.source])


def table_workbook_bytes(table: pd.DataFrame, caption: str, title: str = "Table") -> bytes:
    """Any table the app shows as a one-sheet workbook: its caption (scenario, source, date) across the top,
    then the table with the plan workbook's manners (units read from the column names and values, so
    dollars, people and months are numbers Excel formats and sorts). Identical bytes for identical input.
    """
    book = Workbook()
    sheet = book.active
    sheet.title = ILLEGAL_SHEET_CHARACTERS.sub(" ", title)[:31] or "Table"
    columns = tuple(Column(_header_of(str(name)), name, _unit_of(str(name), table[name])) for name in table.columns)
    width = max(1, len(columns))
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(width, 6))
    _text(sheet.cell(1, 1), caption)
    sheet.cell(1, 1).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.row_dimensions[1].height = 15 * (1 + len(caption) // 100)
    if columns:
        write_table(sheet, columns, table, top=3)
    book.properties.title = caption[:200]
    book.properties.created = book.properties.modified = FALLBACK_TIME
    return _zip_at(_save(book), FALLBACK_TIME)


ILLEGAL_SHEET_CHARACTERS = re.compile(r"[\\/*?:\[\]]")
MONTH_TEXT = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
USD_NAME = re.compile(r"(^|_)usd(_|$)")  # allocation_usd, allocation_usd_change
RATIO_NAMES = {"gap", "pro_rata_factor", "share"}


def _header_of(name: str) -> str:
    """A column name as a spreadsheet header: "allocation_usd" -> "Allocation (USD)"; other headers are kept."""
    if not re.fullmatch(r"[a-z0-9_]+", name):
        return name
    words = name.removesuffix("_usd").replace("_", " ")
    return words[:1].upper() + words[1:] + (" (USD)" if name.endswith("_usd") else "")


def _unit_of(name: str, values: pd.Series) -> str:
    """The unit a column's name and values say: dollars, people, months (yyyy-mm), flags, counts, numbers, text."""
    present = values[[not _missing(v) for v in values]]
    if pd.api.types.is_bool_dtype(values) or (len(present) and all(isinstance(v, bool) for v in present)):
        return FLAG
    numbers = len(present) and all(isinstance(v, int | float) and math.isfinite(v) for v in present)
    if pd.api.types.is_numeric_dtype(values) or numbers:
        if USD_NAME.search(name.lower()):
            return USD
        if name.lower() in RATIO_NAMES:
            return RATIO
        whole = all(float(v).is_integer() for v in present)
        if whole and ("population" in name.lower() or "people" in name.lower()):
            return PEOPLE
        return COUNT if whole else NUMBER
    if len(present) and all(isinstance(v, str) and MONTH_TEXT.match(v) for v in present):
        return MONTH
    return TEXT


def write_rules(sheet, record: RunRecord) -> None:
    """Allocation per carrier (rows) under each rule solved (columns), then each rule's outcome."""
    columns = [Column("Carrier ID", "carrier_id", TEXT), Column("Carrier", "name", TEXT)]
    columns += [Column(f"Allocation, {rule_name(r.rule)} (USD)", r.rule, USD) for r in record.rules]
    table = record.carriers[["carrier_id", "name"]].sort_values("carrier_id").copy()
    for result in record.rules:
        table[result.rule] = [result.allocation_usd.get(cid, 0.0) for cid in table["carrier_id"]]
    write_table(sheet, tuple(columns), table)


def write_compare(sheet, record: RunRecord) -> None:
    """The Compare screen's table: one row per headline figure, one column per rule solved."""
    labels, rows = wording.compare_rows(record)
    sheet.column_dimensions["A"].width = 48
    _text(sheet.cell(1, 1), "Figure")
    sheet.cell(1, 1).font, sheet.cell(1, 1).fill = HEADER_FONT, HEADER_FILL
    for index, label in enumerate(labels, start=2):
        _text(sheet.cell(1, index), label)
        sheet.cell(1, index).font, sheet.cell(1, index).fill = HEADER_FONT, HEADER_FILL
        sheet.column_dimensions[get_column_letter(index)].width = 20
    for row_index, (label, unit, values) in enumerate(rows, start=2):
        _text(sheet.cell(row_index, 1), label)
        for index, value in enumerate(values, start=2):
            _value(sheet.cell(row_index, index), value, unit)
    sheet.freeze_panes = "B2"


def _text(cell, value) -> None:
    """Write text that Excel shows as written and never evaluates."""
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value))
    cell.value = text
    cell.data_type = "s"  # openpyxl would store "=..." as a formula otherwise
    if text.startswith(FORMULA_TRIGGERS):
        cell.quotePrefix = True  # Excel keeps it text even after the cell is edited


def _value(cell, value, unit: str) -> None:
    if _missing(value):
        return
    if unit == TEXT:
        _text(cell, value)
        return
    if unit == MONTH:
        year, month = (int(part) for part in str(value).split("-"))
        cell.value = date(year, month, 1)
    elif unit == FLAG:
        cell.value = bool(value)
    else:
        cell.value = int(value) if unit in (PEOPLE, COUNT, PERIOD) and float(value).is_integer() else float(value)
    cell.number_format = NUMBER_FORMATS.get(unit, "General")


def _missing(value) -> bool:
    """None, NaN, an infinity, pandas' NA or an empty string: a blank cell."""
    if isinstance(value, str):
        return value == ""
    if isinstance(value, float) and math.isinf(value):
        return True  # no spreadsheet number says infinity: a blank cell
    return value is None or bool(pd.isna(value))


def _width(column: Column, values) -> float:
    """Characters wide enough for the header's longest word and the longest value, within 8..60."""
    longest = max((len(str(v)) for v in values), default=0)
    if column.unit in (USD, PEOPLE, COUNT):
        longest = len(f"${max((abs(float(v)) for v in values if not _missing(v)), default=0):,.0f}")
    elif column.unit == MONTH:
        longest = 8
    header = max(len(word) for word in column.header.split())
    return float(min(60, max(8, header + 2, longest + 2)))


def _crew_header(name: str) -> str:
    kind, what = name[len("crew_") :].rsplit("_", 1)
    return f"{kind.capitalize()} crew units {'in use' if what == 'used' else 'available'}"


def _document_time(record: RunRecord) -> datetime:
    """When the plan was solved (else written; naive UTC, as Excel wants), or a fixed date when it is unknown."""
    try:
        return (
            parse_timestamp(record.provenance.get("solved_at") or record.provenance["made_at"])
            .astimezone(UTC)
            .replace(tzinfo=None)
        )
    except (KeyError, TypeError, ValueError):
        return FALLBACK_TIME


def _save(book: Workbook) -> bytes:
    # ExcelWriter directly: openpyxl's save_workbook stamps the clock into docProps/core.xml.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).write_data()
    return buffer.getvalue()


def _zip_at(data: bytes, moment: datetime) -> bytes:
    """The same zip with every entry dated `moment`, so two saves of one workbook are identical."""
    stamp = (max(1980, moment.year), moment.month, moment.day, moment.hour, moment.minute, moment.second)
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, source.read(info.filename))
    return buffer.getvalue()
