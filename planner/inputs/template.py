"""A dataset as one Excel workbook, and the downloadable template (a CSV zip and a workbook).

The workbook has the sheets carriers, crews and sites, holding exactly the columns of the
CSV files (row 1 the header), an optional scenario sheet (key, value) and a README sheet
that describes every column. `planner.inputs.uploads` reads such a workbook back into the
same CSV text, so a dataset written here and uploaded again is the same dataset.

Numbers are written as numbers (Excel would flag numbers stored as text); text that only
looks like a number but carries a leading zero (county FIPS 08109, an id 007) stays text.
Text that a spreadsheet would run as a formula was already neutralised by `csv_text`.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

from planner.core.schema import Dataset
from planner.inputs.io import scenario_toml
from planner.inputs.tables import DATASET_FILES, dataset_tables

TEMPLATE_FOLDER = Path(__file__).resolve().parents[1] / "data" / "template"
TEMPLATE_FILES = (*DATASET_FILES, "scenario.toml")
NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?")
# (sheet, column, what it holds): the README sheet; the same rules as the README's "Dataset format".
COLUMN_NOTES = (
    ("carriers", "carrier_id", "required, unique id of the carrier"),
    ("carriers", "name", "the carrier's name"),
    ("carriers", "state", "two-letter state code, e.g. NE"),
    ("carriers", "subscribers", "whole number, 0 or more"),
    (
        "carriers",
        "own_funds_usd",
        "USD the carrier can spend beyond the fund; 0 or more, at most $1 trillion; empty = 0",
    ),
    ("carriers", "priority", "1 to 3, optional; empty = from subscribers (47 CFR 1.50004: up to 2,000,000 -> 1)"),
    ("crews", "carrier_id", "a carrier of the carriers sheet"),
    ("crews", "crew_type", "the crew type, e.g. tower; sites name it in a crew_<type> column"),
    ("crews", "capacity", "crew units available in each month; 0 or more"),
    ("crews", "winter_capacity", "units in December-March (northern tower work); empty = same as capacity"),
    ("sites", "site_id", "required, unique; no ';' or ','"),
    ("sites", "carrier_id", "a carrier of the carriers sheet"),
    ("sites", "kind", "core, backhaul, ran or other"),
    ("sites", "name", "optional text"),
    ("sites", "lat, lon", "optional position in degrees"),
    ("sites", "county_fips", "optional 5-digit county code (leading zeros are restored)"),
    ("sites", "population", "people who lose service if the site goes dark; whole number, 0 or more"),
    ("sites", "cost_usd", "all-in replacement cost in USD; 0 or more, at most $1 trillion"),
    ("sites", "duration", "months of crew work; whole number, 1 or more"),
    ("sites", "lead_time", "first month work may start (equipment delivery); whole number, 0 or more"),
    ("sites", "depends_on", "site ids, separated by ';', that must be finished before this one starts"),
    ("sites", "crew_<type>", "one column per crew type: units of that crew the site needs each month of work"),
    ("scenario", "key, value", "optional: fund_usd, rule, start (YYYY-MM), horizon, deadline, extensions, ..."),
)
README_INTRO = (
    "rrplan dataset workbook. Fill the sheets carriers, crews and sites (row 1 is the header; keep the "
    "column names). The scenario sheet is optional. Upload this workbook as it is, or save each sheet as "
    "'CSV UTF-8' named carriers.csv, crews.csv, sites.csv. Problems are reported with the sheet and the "
    "row number Excel shows."
)


def template_tables() -> dict[str, str]:
    """The template's files as text: a small example dataset (two carriers) and its scenario."""
    return {name: (TEMPLATE_FOLDER / name).read_text(encoding="utf-8") for name in TEMPLATE_FILES}


def template_zip_bytes() -> bytes:
    """The template as a zip of the CSV files and scenario.toml, ready to edit and upload."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in template_tables().items():
            archive.writestr(name, text)
    return buffer.getvalue()


def template_workbook_bytes() -> bytes:
    """The template as one workbook: carriers, crews, sites, scenario and README sheets."""
    tables = template_tables()
    return workbook_bytes({k: v for k, v in tables.items() if k in DATASET_FILES}, tables.get("scenario.toml"))


def dataset_workbook_bytes(dataset: Dataset) -> bytes:
    """A dataset (and its default scenario) as one workbook that uploads back to the same dataset."""
    scenario = None if dataset.default_scenario is None else scenario_toml(dataset.default_scenario)
    return workbook_bytes(dataset_tables(dataset), scenario)


def workbook_bytes(tables: dict[str, str], scenario_text: str | None = None) -> bytes:
    """CSV texts ({'sites.csv': text, ...}) and scenario TOML as an .xlsx workbook with a README sheet."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for name in DATASET_FILES:
        sheet = book.create_sheet(name.removesuffix(".csv"))
        for index, row in enumerate(csv.reader(io.StringIO(tables[name]))):
            sheet.append([_cell(value) for value in row] if index else row)
        for cell in sheet[1]:
            cell.font = bold
        sheet.freeze_panes = "A2"
    if scenario_text is not None:
        sheet = book.create_sheet("scenario")
        sheet.append(["key", "value"])
        for key, value in tomllib.loads(scenario_text).items():
            sheet.append([key, value])
        for cell in sheet[1]:
            cell.font = bold
    readme = book.create_sheet("README")
    readme.append([README_INTRO])
    readme.append([])
    readme.append(["sheet", "column", "what it holds"])
    for cell in readme[3]:
        cell.font = bold
    for note in COLUMN_NOTES:
        readme.append(list(note))
    readme.column_dimensions["A"].width = 12
    readme.column_dimensions["B"].width = 18
    readme.column_dimensions["C"].width = 100
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(text: str):
    """A CSV cell as a workbook cell: a plain number as a number, everything else as the same text."""
    if NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    return text
