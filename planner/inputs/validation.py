"""The dataset and scenario rules: parse text cells into records, collect every problem.

Each `check_*` function yields `Issue`s and never stops at the first one, so a user
fixes a file in one pass. The rule names in `Issue.rule` are stable: `DATASET_RULES`
lists them, docs/hard-inputs.md tabulates them, and tests/fixtures/broken holds a
folder that fires each one. A row already reported is not reported again through the
rows that refer to it (one defect, one message). `check_dataset` applies the same
rules to a Dataset made in code; `check_against_scenario` adds the rules that need
the scenario too.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

from planner.core.errors import Issue, character_name
from planner.core.files import FORMULA_STARTS
from planner.core.network import dependency_cycles, earliest_starts
from planner.core.schema import (
    MISSED_DEADLINE_POLICIES,
    OBJECTIVES,
    RULES,
    SITE_KINDS,
    SITE_STATUSES,
    Carrier,
    CrewPool,
    Dataset,
    Scenario,
    Site,
)
from planner.core.wording import range_words
from planner.inputs.tables import RawTable, dataset_tables, parse_table

PRIORITY_SUBSCRIBER_LIMIT = 2_000_000  # 47 CFR 1.50004: providers with <= 2M customers are Priority 1
ID_PATTERN = re.compile(r"^[^;,\s][^;,\x00-\x1f\x7f]*$")
# Upper bounds far beyond any real carrier, so a typo (an extra six zeros, a date pasted as a
# number) is caught here instead of producing a numerically hopeless model.
MAX_USD = 1e12  # the whole program is $4.98B
MAX_PEOPLE = 400_000_000  # more than the US population
MAX_MONTHS = 600  # the longest scenario horizon
MAX_CREW_UNITS = 100_000
MAX_ID_CHARS = 200  # solver names are built from ids
# Start variables (site x month of its window) beyond which model building alone takes minutes:
# rural40 over 48 months has 157,000 and takes about 25 s in all; over 600 months, 2.5 million.
LARGE_MODEL_START_VARIABLES = 500_000
NO_ROW_LIMIT = 10**12


class CellError(ValueError):
    """A cell that breaks its column's rule: `rule` names it, the message explains."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule


# Every rule a dataset or scenario is checked against: rule -> (severity, what it checks).
# `Issue.rule` is always one of these; tests/fixtures/broken holds a folder firing each one,
# and docs/hard-inputs.md tabulates them.
DATASET_RULES: dict[str, tuple[str, str]] = {
    "missing-folder": ("error", "the dataset folder exists"),
    "missing-file": ("error", "carriers.csv, crews.csv and sites.csv are all present"),
    "not-a-file": (
        "error",
        "each dataset file (and scenario.toml, if present) is a regular file, not a folder or device",
    ),
    "file-too-large": ("error", "each file is at most 64 MiB (checked before reading it)"),
    "too-many-rows": ("error", "each file has at most 100,000 rows (counted from its lines before parsing)"),
    "encoding": ("error", "files are UTF-8 text without NUL bytes (a BOM is fine; UTF-16 and Windows-1252 are not)"),
    "empty-file": ("error", "a file has at least a header row"),
    "wrong-delimiter": ("error", "cells are separated by commas, not semicolons, tabs or bars (nor a 'sep=' line)"),
    "csv-syntax": ("error", "quotes are balanced and cells are shorter than 128 KiB"),
    "no-rows": ("error", "a file has at least one data row"),
    "missing-column": ("error", "every required column is in the header"),
    "duplicate-column": ("error", "no column appears twice in a header"),
    "extra-column": ("warning", "columns not in the format are reported and ignored"),
    "extra-cells": ("error", "no row has more cells than the header has columns"),
    "required": ("error", "required cells are not empty"),
    "bad-id": (
        "error",
        "ids have no ';', ',' or line breaks, do not start with a space, =, +, - or @, and have at most 200 characters",
    ),
    "not-a-number": ("error", "numeric cells hold plain numbers (no $, no thousands separators)"),
    "not-finite": ("error", "numbers are not NaN or infinite"),
    "not-an-integer": ("error", "counts and months are whole numbers"),
    "negative": ("error", "costs, money, populations, durations, lead times and crews are not negative"),
    "out-of-range": ("error", "numbers lie within their column's range (e.g. priority 1-3, duration 1-600 months)"),
    "bad-state": ("error", "state is a two-letter code"),
    "bad-kind": ("error", "kind is core, backhaul, ran or other"),
    "bad-fips": ("error", "county_fips is a county code of up to five digits"),
    "duplicate-id": ("error", "carrier ids, site ids and (carrier, crew type) pairs are unique"),
    "unknown-carrier": ("error", "every carrier_id in crews.csv and sites.csv is in carriers.csv"),
    "unknown-site": ("error", "every site in depends_on is in sites.csv"),
    "repeated-in-list": ("error", "a list cell (depends_on) names each id at most once"),
    "self-dependency": ("error", "no site depends on itself"),
    "cross-carrier-dependency": ("error", "a site depends only on sites of its own carrier"),
    "dependency-cycle": ("error", "dependencies form no cycle (the message names it)"),
    "missing-crew-type": ("error", "a site needs only crew types its carrier has in crews.csv"),
    "crew-need-exceeds-capacity": ("warning", "a site needs no more crew units than its carrier ever has"),
    "carrier-without-sites": ("warning", "every carrier has at least one site"),
    "lead-time-beyond-horizon": (
        "warning",
        "a site's earliest finish (lead time, the sites it waits for, its own work) fits the scenario's horizon",
    ),
    "large-model": (
        "warning",
        "the scenario's horizon does not make the model so large that building it takes minutes",
    ),
    "toml-syntax": ("error", "scenario.toml is valid TOML"),
    "unknown-key": ("error", "scenario keys are known ones"),
    "bad-type": ("error", "scenario values have the key's type (number or text)"),
    "reserve-exceeds-fund": ("error", "the administrative reserve does not exceed the fund"),
}
# Plans from today: what sites.csv says is already done (`status`, `started`) and the scenario's `as_of`.
PROGRESS_RULES: dict[str, tuple[str, str]] = {
    "bad-status": ("error", "a site's status is planned, in_progress or replaced"),
    "bad-month": ("error", "months (a site's started, a tranche's month) are written YYYY-MM"),
    "missing-started": ("error", "a site in progress or replaced says when its work started (started, YYYY-MM)"),
    "started-for-planned": ("warning", "a planned site has no started month (it is ignored: the plan chooses)"),
    "done-before-dependency": (
        "error",
        "a site in progress or replaced depends only on sites in progress or replaced",
    ),
    "started-after-as-of": ("error", "a site in progress or replaced started no later than the scenario's as_of"),
    "replaced-unfinished": ("error", "a replaced site's work (started + duration) ended by the scenario's as_of"),
    "as-of-outside-horizon": ("error", "the scenario's as_of lies between its start and the end of its horizon"),
}
DATASET_RULES.update({rule: what for rule, what in PROGRESS_RULES.items() if rule not in DATASET_RULES})
MONTH_PATTERN = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


# --- cell parsers: text -> value, or CellError naming the rule ------------------------------


def parse_id(text: str) -> str:
    if not text:
        raise CellError("required", "an id is required here")
    if len(text) > MAX_ID_CHARS:
        raise CellError("bad-id", f"ids are at most {MAX_ID_CHARS} characters")
    if text.startswith(FORMULA_STARTS):
        raise CellError("bad-id", "ids may not start with =, +, - or @: a spreadsheet would run them as a formula")
    if not ID_PATTERN.match(text):
        raise CellError("bad-id", "ids may not contain ';', ',' or line breaks, nor start with a space")
    invisible = [c for c in text if unicodedata.category(c) in INVISIBLE_IN_IDS and c != " "]
    if invisible:
        raise CellError(
            "bad-id",
            f"the id holds {character_name(invisible[0])}, an invisible character (pasted from a web page "
            "or a word processor?); retype the id",
        )
    return text


def lookalike_key(text: str) -> str:
    """An id as it looks on screen: full-width forms folded, invisible characters dropped, Cyrillic and
    Greek letters that look Latin made Latin; two ids with one key cannot be told apart by a reader."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(LOOKALIKES.get(c, c) for c in folded if unicodedata.category(c) not in INVISIBLE_IN_IDS)


def lookalike_hints(known: Iterable[str], file: str) -> Callable[[str], str]:
    """A function giving '; sites.csv has n-core, which looks the same ...' for a value that differs from a
    known id only in characters a reader cannot see, else ''. The index is built on the first call."""
    index: dict[str, list[str]] = {}

    def hint(value: str) -> str:
        if not index:
            for k in sorted(known):
                index.setdefault(lookalike_key(k), []).append(k)
        same = [k for k in index.get(lookalike_key(value), ()) if k != value]
        return f"; {file} has {same[0]}, which looks the same but is written with other characters" if same else ""

    return hint


# Characters no reader sees: zero-width spaces and joiners, BOMs, direction marks, control characters.
INVISIBLE_IN_IDS = {"Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Cn"}
# Cyrillic and Greek letters drawn like Latin ones (the common homoglyphs of ids typed on other keyboards).
LOOKALIKES = dict(
    zip(
        "АВЕКМНОРСТХаеорсухіјѕԁԛԝΑΒΕΖΗΙΚΜΝΟΡΤΥΧοκνρτυχ",
        "ABEKMHOPCTXaeopcyxijsdqwABEZHIKMNOPTYXokvptux",
        strict=True,
    )
)


def parse_text(text: str) -> str:
    """Free text; the apostrophe `files.csv_text` puts before formula-like text is taken off again.

    Only then: a name "'tis" is kept as written; ids never pass through here (an id "'--" stays "'--").
    """
    if text.startswith("'") and text[1:].lstrip("'").startswith(FORMULA_STARTS):
        return text[1:]
    return text


NUMBER_PATTERN = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
NOT_FINITE_WORDS = {"nan", "inf", "infinity"}


def parse_number(text: str) -> float:
    """A number written the plain way: ASCII digits, optional sign, decimal point and exponent.

    Python's float() also takes '1_000', full-width '１２' and Arabic-Indic '١٢'; a spreadsheet
    would not, and a typo or a locale's digits should be seen, not silently read. -0 is 0.
    """
    if text == "":
        raise CellError("required", "a number is required here")
    if text.lstrip("+-").lower() in NOT_FINITE_WORDS:
        if text.lstrip("+-").lower() == "nan":
            raise CellError("not-finite", "NaN is not a value; give a number")
        raise CellError("not-finite", "infinite values are not allowed")
    if not NUMBER_PATTERN.fullmatch(text):
        raise CellError("not-a-number", _not_a_number(text)) from None
    value = float(text)
    if math.isinf(value):
        raise CellError("not-finite", "infinite values are not allowed (the number is too large)")
    return value + 0.0  # -0.0 + 0.0 is 0.0: '-0' must not print as -0.0 in the plan's tables


def _not_a_number(text: str) -> str:
    """How to write the number, said for the way it was written."""
    if text.startswith("#"):  # #N/A, #VALUE!, #REF!: a formula that failed in the spreadsheet
        return "a spreadsheet error value, not a number; fix the formula or type the value in"
    foreign = [c for c in text if c.isdigit() and not c.isascii()]
    if foreign:
        return (
            f"write the number with the digits 0-9; the cell holds {character_name(foreign[0])} "
            "(another script's or a full-width digit)"
        )
    digits = re.sub(r"[_,\s\u00a0\u202f']", "", text)
    if digits != text and NUMBER_PATTERN.fullmatch(digits):
        return f"write {digits} without thousands separators (no ',', '_', spaces or apostrophes)"
    return "expected a number (digits 0-9, optional sign, decimal point and exponent; no $ or thousands separators)"


def parse_integer(text: str) -> int:
    value = parse_number(text)
    if value != int(value):
        raise CellError("not-an-integer", "expected a whole number")
    return int(value)


def between(low: float, high: float, parse: Callable[[str], float], money: bool = False) -> Callable[[str], float]:
    """A parser that also keeps the value in [low, high]; its messages say the range in words (`range_words`)."""

    def parse_bounded(text: str):
        value = parse(text)
        if value < 0 <= low:
            raise CellError(
                "negative",
                "must not be negative; negative values have no meaning here "
                f"(allowed: {range_words(low, high, money)})",
            )
        if not low <= value <= high:
            raise CellError("out-of-range", f"must be {range_words(low, high, money)}")
        return value

    return parse_bounded


def parse_state(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{2}", text):
        raise CellError("bad-state", "expected a two-letter state code such as NE")
    return text.upper()


def parse_kind(text: str) -> str:
    kind = text.lower()
    if kind not in SITE_KINDS:
        raise CellError("bad-kind", f"kind must be one of {', '.join(SITE_KINDS)}")
    return kind


def parse_status(text: str) -> str:
    status = (text or "planned").strip().lower()
    if status not in SITE_STATUSES:
        raise CellError("bad-status", f"status must be one of {', '.join(SITE_STATUSES)} (empty means planned)")
    return status


def parse_month(text: str) -> str:
    if text and not MONTH_PATTERN.fullmatch(text):
        raise CellError("bad-month", "must be a month written YYYY-MM, e.g. 2023-04")
    return text


def parse_fips(text: str) -> str:
    if not re.fullmatch(r"[0-9]{1,5}", text):
        raise CellError("bad-fips", "county_fips is a 5-digit county code")
    return text.zfill(5)  # spreadsheets drop the leading zero of Alabama's 01001


def parse_depends(text: str) -> tuple[str, ...]:
    """A list of site ids separated by ';'; an id named twice is refused (the solver would get the same row twice)."""
    parts = tuple(part.strip() for part in text.split(";") if part.strip())
    repeated = [part for part, count in Counter(parts).items() if count > 1]
    if repeated:
        raise CellError(
            "repeated-in-list",
            f"the list names {', '.join(repeated)} more than once; name each site once",
        )
    return parts


# Column specs: name -> (parser, required, default when the cell is empty or the column absent)
Spec = dict[str, tuple[Callable[[str], object], bool, object]]

CARRIER_COLUMNS: Spec = {
    "carrier_id": (parse_id, True, None),
    "name": (parse_text, True, ""),
    "state": (parse_state, True, None),
    "subscribers": (between(0, MAX_PEOPLE, parse_integer), True, None),
    "own_funds_usd": (between(0, MAX_USD, parse_number, money=True), False, 0.0),
    "priority": (between(1, 3, parse_integer), False, None),
    "extensions": (between(0, 100, parse_integer), False, None),  # six-month extensions; empty = the scenario's
}
CREW_COLUMNS: Spec = {
    "carrier_id": (parse_id, True, None),
    "crew_type": (parse_id, True, None),
    "capacity": (between(0, MAX_CREW_UNITS, parse_number), True, None),
    "winter_capacity": (between(0, MAX_CREW_UNITS, parse_number), False, None),
}
SITE_COLUMNS: Spec = {
    "site_id": (parse_id, True, None),
    "carrier_id": (parse_id, True, None),
    "kind": (parse_kind, True, None),
    "name": (parse_text, False, ""),
    "lat": (between(-90, 90, parse_number), False, None),
    "lon": (between(-180, 180, parse_number), False, None),
    "county_fips": (parse_fips, False, ""),
    "population": (between(0, MAX_PEOPLE, parse_integer), False, 0),
    "cost_usd": (between(0, MAX_USD, parse_number, money=True), True, None),
    "duration": (between(1, MAX_MONTHS, parse_integer), True, None),
    "lead_time": (between(0, MAX_MONTHS, parse_integer), False, 0),
    "depends_on": (parse_depends, False, ()),
    "status": (parse_status, False, "planned"),  # what is already done (plans from today)
    "started": (parse_month, False, ""),  # YYYY-MM the work began: in_progress and replaced sites
}
CREW_COLUMN_PREFIX = "crew_"


def parse_rows(table: RawTable, spec: Spec, issues: list[Issue], extra: Iterable[str] = ()) -> list[tuple[int, dict]]:
    """Parse every row of a table by its spec; problems go to `issues`, bad rows are dropped."""
    present = set(table.header)
    missing = [c for c, (_, required, _) in spec.items() if required and c not in present]
    for column in missing:
        issues.append(
            Issue(
                table.file,
                1,
                column,
                "missing-column",
                None,
                f"required column '{column}' is missing from the header" + _did_you_mean(column, table.header),
            )
        )
    allowed = set(spec) | set(extra)
    for column, count in Counter(table.header).items():
        if count > 1:
            issues.append(
                Issue(table.file, 1, column, "duplicate-column", column, "column appears more than once in the header")
            )
    for column in table.header:
        if column not in allowed:
            issues.append(
                Issue(
                    table.file,
                    1,
                    column,
                    "extra-column",
                    column,
                    "column is not part of the format and is ignored",
                    severity="warning",
                )
            )
    if missing:
        return []
    if not table.rows:
        issues.append(Issue(table.file, None, None, "no-rows", None, "file has a header but no data rows"))
    parsed = []
    for line, cells in table.rows:
        record, ok = {}, True
        for column, (parse, required, default) in spec.items():
            text = cells.get(column, "")
            if text == "" and not required:
                record[column] = default
                continue
            try:
                record[column] = parse(text)
            except CellError as err:
                issues.append(Issue(table.file, line, column, err.rule, text, str(err)))
                ok = False
        if ok:
            parsed.append((line, record))
    return parsed


def _did_you_mean(column: str, header: Iterable[str]) -> str:
    """A hint when the header holds the column under another spelling ('Site ID', 'cost')."""

    def squash(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", text.lower())

    candidates = [h for h in header if squash(h) == squash(column)]
    candidates = candidates or difflib.get_close_matches(column, list(header), n=1, cutoff=0.6)
    return f" (the header has '{candidates[0]}': rename it to '{column}')" if candidates else ""


def check_unique(
    rows: list[tuple[int, dict]], key: Callable[[dict], object], file: str, column: str
) -> Iterator[Issue]:
    """Yield one issue per repeated key, naming the line where it first appeared."""
    first_line: dict[object, int] = {}
    for line, record in rows:
        value = key(record)
        if value in first_line:
            text = ", ".join(value) if isinstance(value, tuple) else str(value)
            yield Issue(file, line, column, "duplicate-id", text, f"duplicate of line {first_line[value]}")
        else:
            first_line[value] = line


def build_dataset(
    tables: dict[str, RawTable | None], issues: list[Issue], name: str, sha256: str, default_scenario: Scenario | None
) -> Dataset | None:
    """Turn raw tables into a Dataset, appending every problem to `issues`."""
    carrier_rows = parse_rows(tables["carriers.csv"], CARRIER_COLUMNS, issues) if tables["carriers.csv"] else []
    crew_rows = parse_rows(tables["crews.csv"], CREW_COLUMNS, issues) if tables["crews.csv"] else []
    sites_table = tables["sites.csv"]
    crew_columns = [c for c in sites_table.header if c.startswith(CREW_COLUMN_PREFIX)] if sites_table else []
    site_spec = dict(SITE_COLUMNS) | {c: (between(0, MAX_CREW_UNITS, parse_number), False, 0.0) for c in crew_columns}
    site_rows = parse_rows(sites_table, site_spec, issues) if sites_table else []
    if any(t is None for t in tables.values()):
        return None

    issues.extend(check_unique(carrier_rows, lambda r: r["carrier_id"], "carriers.csv", "carrier_id"))
    issues.extend(check_unique(site_rows, lambda r: r["site_id"], "sites.csv", "site_id"))
    issues.extend(check_unique(crew_rows, lambda r: (r["carrier_id"], r["crew_type"]), "crews.csv", "crew_type"))

    carriers = [_carrier(r) for _, r in carrier_rows]
    crews = [CrewPool(r["carrier_id"], r["crew_type"], r["capacity"], r["winter_capacity"]) for _, r in crew_rows]
    sites = [_site(r, crew_columns, line) for line, r in site_rows]
    site_lines = {site.site_id: line for site, (line, _) in zip(sites, site_rows, strict=True)}

    # References are checked against every id written in a file, parsed or not, and not at all
    # against a file whose header is broken: a row already reported (a carrier with a bad state,
    # a crews.csv without its capacity column) must not come back as thousands of "unknown" ids.
    carrier_ids = _written_ids(tables["carriers.csv"], CARRIER_COLUMNS, lambda c: c["carrier_id"])
    crew_pairs = _written_ids(tables["crews.csv"], CREW_COLUMNS, lambda c: (c["carrier_id"], c["crew_type"]))
    site_ids = _written_ids(sites_table, SITE_COLUMNS, lambda c: c["site_id"])
    if carrier_ids is not None:
        carrier_hint = lookalike_hints(carrier_ids, "carriers.csv")
        for line, record in crew_rows:
            if record["carrier_id"] not in carrier_ids:
                issues.append(
                    Issue(
                        "crews.csv",
                        line,
                        "carrier_id",
                        "unknown-carrier",
                        record["carrier_id"],
                        "carrier_id does not appear in carriers.csv" + carrier_hint(record["carrier_id"]),
                    )
                )
        for site in sites:
            if site.carrier_id not in carrier_ids:
                issues.append(
                    Issue(
                        "sites.csv",
                        site_lines[site.site_id],
                        "carrier_id",
                        "unknown-carrier",
                        site.carrier_id,
                        "carrier_id does not appear in carriers.csv" + carrier_hint(site.carrier_id),
                    )
                )
    # Sites of an unknown carrier were reported once above; checking their dependencies or
    # crews as well would only repeat the same defect in other words.
    known_sites = [s for s in sites if carrier_ids is None or s.carrier_id in carrier_ids]
    issues.extend(check_dependencies(sites, site_lines, carrier_ids, written_site_ids=site_ids))
    if crew_pairs is not None:
        issues.extend(check_crew_types(known_sites, crews, site_lines, written_pairs=crew_pairs))
    issues.extend(check_carriers_have_sites(carriers, sites, carrier_rows))
    issues.extend(check_progress(sites, site_lines))

    unique_sites = {s.site_id: s for s in reversed(sites)}  # keep the first of duplicates
    return _remember_checked(
        Dataset(
            carriers=tuple({c.carrier_id: c for c in reversed(carriers)}.values())[::-1],
            crews=tuple(crews),
            sites=tuple(s for s in sites if unique_sites.get(s.site_id) is s),
            name=name,
            sha256=sha256,
            default_scenario=default_scenario,
            warnings=tuple(i for i in issues if i.severity != "error"),
        ),
        issues,
    )


# Datasets this module built from files without errors, by id(): `check_dataset` trusts them.
# A weak reference tells a live dataset from a new object that happens to reuse the id.
_CHECKED: dict[int, weakref.ref] = {}


def _remember_checked(dataset: Dataset, issues: list[Issue]) -> Dataset:
    """Note a dataset that passed every rule (forgetting datasets no longer alive)."""
    if not any(i.severity == "error" for i in issues):
        for key in [k for k, ref in _CHECKED.items() if ref() is None]:
            del _CHECKED[key]
        _CHECKED[id(dataset)] = weakref.ref(dataset)
    return dataset


def check_dataset(dataset: Dataset) -> list[Issue]:
    """Every file rule, applied to a Dataset built or modified in code (errors and warnings).

    A dataset read from files was checked as it was read. One made in code (the app's
    edits, `dataclasses.replace` on a site, a test) may hold a NaN cost or a dependency
    cycle that would crash the solver, so it is written as the documented CSV text and
    read back through the very same rules: one definition of valid. Row numbers then
    refer to the record's position in that text (header = line 1), which is also its
    position in `dataset.sites` (+2).
    """
    ref = _CHECKED.get(id(dataset))
    if ref is not None and ref() is dataset:
        return []
    issues: list[Issue] = []
    tables = {
        name: parse_table(name, text.encode("utf-8"), issues, max_rows=NO_ROW_LIMIT)  # made in code: no file limit
        for name, text in dataset_tables(dataset).items()
    }
    build_dataset(tables, issues, name=dataset.name, sha256=dataset.sha256, default_scenario=None)
    # An empty selection made in code (no sites, no crews) is a question with an empty answer,
    # not the header-only file a user forgot to fill.
    issues = [i for i in issues if i.rule != "no-rows"]
    _remember_checked(dataset, issues)
    return issues


def _written_ids(table: RawTable | None, spec: Spec, key: Callable[[dict[str, str]], object]) -> set | None:
    """Every id written in a table's rows, or None if the table is missing or lacks a required column."""
    if table is None or any(required and column not in table.header for column, (_, required, _) in spec.items()):
        return None
    return {key(cells) for _, cells in table.rows}


def _carrier(r: dict) -> Carrier:
    priority = r["priority"]
    if priority is None:
        priority = 1 if r["subscribers"] <= PRIORITY_SUBSCRIBER_LIMIT else 3
    return Carrier(
        r["carrier_id"], r["name"], r["state"], r["subscribers"], r["own_funds_usd"], priority, r["extensions"]
    )


def _site(r: dict, crew_columns: list[str], line: int) -> Site:
    need = tuple(sorted((c[len(CREW_COLUMN_PREFIX) :], r[c]) for c in crew_columns if r[c] > 0))
    return Site(
        site_id=r["site_id"],
        carrier_id=r["carrier_id"],
        kind=r["kind"],
        cost_usd=r["cost_usd"],
        duration_months=r["duration"],
        lead_time_months=r["lead_time"],
        population=r["population"],
        depends_on=r["depends_on"],
        crew_need=need,
        name=r["name"],
        lat=r["lat"],
        lon=r["lon"],
        county_fips=r["county_fips"],
        status=r["status"],
        started=r["started"],
        line=line,
    )


def check_dependencies(
    sites: list[Site],
    site_lines: dict[str, int],
    carrier_ids: set[str] | None = None,
    written_site_ids: set[str] | None = None,
) -> Iterator[Issue]:
    """Every dependency names a known site of the same carrier, and there are no cycles.

    `written_site_ids` are ids present in the file even if their row had other problems:
    depending on one of those is not reported again as unknown-site.
    """
    by_id = {s.site_id: s for s in sites}
    known = carrier_ids if carrier_ids is not None else {s.carrier_id for s in sites}
    written = written_site_ids or set()
    site_hint = lookalike_hints(by_id.keys() | written, "sites.csv")
    for site in sites:
        line = site_lines[site.site_id]
        for other in site.depends_on:
            if other == site.site_id:
                yield Issue("sites.csv", line, "depends_on", "self-dependency", other, "a site cannot depend on itself")
            elif other not in by_id:
                if other not in written:
                    yield Issue(
                        "sites.csv",
                        line,
                        "depends_on",
                        "unknown-site",
                        other,
                        "depends on a site_id not in sites.csv" + site_hint(other),
                    )
            elif site.carrier_id not in known or by_id[other].carrier_id not in known:
                continue  # an unknown carrier is reported once, as unknown-carrier
            elif by_id[other].carrier_id != site.carrier_id:
                yield Issue(
                    "sites.csv",
                    line,
                    "depends_on",
                    "cross-carrier-dependency",
                    other,
                    f"depends on a site of carrier {by_id[other].carrier_id}; "
                    f"dependencies must stay within carrier {site.carrier_id}",
                )
    for cycle in dependency_cycles(sites):
        at = min(range(len(cycle)), key=lambda i: site_lines[cycle[i]])
        cycle = cycle[at:] + cycle[:at]  # start at the row that comes first in the file
        first = cycle[0]
        yield Issue(
            "sites.csv",
            site_lines[first],
            "depends_on",
            "dependency-cycle",
            " -> ".join([*cycle, first]),
            "dependencies form a cycle, so none of these sites can ever start",
        )


def check_crew_types(
    sites: list[Site],
    crews: list[CrewPool],
    site_lines: dict[str, int],
    written_pairs: set[tuple[str, str]] | None = None,
) -> Iterator[Issue]:
    """A site may only need crew types its carrier has; needing more than ever exists is a warning.

    `written_pairs` are (carrier, crew type) rows present in crews.csv even if they had other problems.
    """
    pools = {(p.carrier_id, p.crew_type): p for p in crews}
    written = written_pairs or set()
    for site in sites:
        for crew_type, units in site.crew_need:
            pool = pools.get((site.carrier_id, crew_type))
            column = f"{CREW_COLUMN_PREFIX}{crew_type}"
            if pool is None and (site.carrier_id, crew_type) in written:
                continue  # that crews.csv row was reported already
            if pool is None:
                yield Issue(
                    "sites.csv",
                    site_lines[site.site_id],
                    column,
                    "missing-crew-type",
                    f"{units:g}",
                    f"site needs crew type '{crew_type}' but carrier {site.carrier_id} has no such row in crews.csv",
                )
            elif units > max(pool.capacity, pool.winter_capacity or 0):
                yield Issue(
                    "sites.csv",
                    site_lines[site.site_id],
                    column,
                    "crew-need-exceeds-capacity",
                    f"{units:g}",
                    f"site needs {units:g} units but carrier {site.carrier_id} never has more than "
                    f"{max(pool.capacity, pool.winter_capacity or 0):g}; it can never be replaced",
                    severity="warning",
                )


def check_progress(sites: list[Site], site_lines: dict[str, int]) -> Iterator[Issue]:
    """What sites.csv says is done: a start month where the record fixes one, and an order it can keep.

    A site in progress or replaced needs `started`; a planned one's `started` is ignored (a
    warning); a site in progress or replaced cannot wait for a site still planned.
    """
    by_id = {s.site_id: s for s in sites}
    for site in sites:
        line = site_lines[site.site_id]
        if site.fixed and not site.started:
            yield Issue(
                "sites.csv",
                line,
                "started",
                "missing-started",
                "",
                f"site is {site.status.replace('_', ' ')}, so the plan keeps it as it is: give the month its work "
                "started (YYYY-MM)",
            )
        elif not site.fixed and site.started:
            yield Issue(
                "sites.csv",
                line,
                "started",
                "started-for-planned",
                site.started,
                "site is planned, so the plan chooses its start and this month is ignored; "
                "set status to in_progress or replaced if the work has begun",
                severity="warning",
            )
        if site.fixed:
            for other in site.depends_on:
                if other in by_id and not by_id[other].fixed:
                    yield Issue(
                        "sites.csv",
                        line,
                        "depends_on",
                        "done-before-dependency",
                        other,
                        f"site is {site.status.replace('_', ' ')} but depends on {other}, which is still planned; "
                        f"mark {other} in progress or replaced, or correct this site's status",
                    )


def check_progress_against_scenario(dataset: Dataset, scenario: Scenario) -> list[Issue]:
    """as_of lies in [start, start + horizon); recorded work started by as_of; replaced work ended by then."""
    if scenario.as_of and not MONTH_PATTERN.fullmatch(scenario.as_of):  # a scenario made in code
        return [Issue("scenario", None, "as_of", "bad-month", scenario.as_of, "must be a month written YYYY-MM")]
    start = _month_number(scenario.start)
    today = _month_number(scenario.as_of) if scenario.as_of else start
    issues = []
    if not start <= today < start + scenario.horizon:
        issues.append(
            Issue(
                "scenario",
                None,
                "as_of",
                "as-of-outside-horizon",
                scenario.as_of,
                f"as_of must lie between the start {scenario.start} and the last month of the "
                f"{scenario.horizon}-month horizon ({scenario.month_label(scenario.horizon - 1)})",
            )
        )
        return issues
    for site in dataset.sites:
        if not site.fixed or not MONTH_PATTERN.fullmatch(site.started):
            continue
        started = _month_number(site.started)
        if started > today:
            issues.append(
                Issue(
                    "sites.csv",
                    site.line or None,
                    "started",
                    "started-after-as-of",
                    site.started,
                    f"site is {site.status.replace('_', ' ')} since a month after as_of "
                    f"{scenario.as_of or scenario.start}; the record cannot be ahead of today",
                )
            )
        elif site.status == "replaced" and started + site.duration_months > today:
            issues.append(
                Issue(
                    "sites.csv",
                    site.line or None,
                    "started",
                    "replaced-unfinished",
                    site.started,
                    f"site is replaced but its {site.duration_months}-month work started in {site.started} "
                    f"ends after as_of {scenario.as_of or scenario.start}; mark it in_progress, or correct "
                    "started or duration",
                )
            )
    return issues


def _month_number(label: str) -> int:
    year, month = label.split("-")
    return int(year) * 12 + int(month) - 1


def check_carriers_have_sites(carriers, sites, carrier_rows) -> Iterator[Issue]:
    with_sites = {s.carrier_id for s in sites}
    for carrier, (line, _) in zip(carriers, carrier_rows, strict=True):
        if carrier.carrier_id not in with_sites:
            yield Issue(
                "carriers.csv",
                line,
                "carrier_id",
                "carrier-without-sites",
                carrier.carrier_id,
                "carrier has no sites; it gets no money",
                severity="warning",
            )


# --- scenarios -----------------------------------------------------------------------------

START_YEAR_RANGE = range(1900, 2200)  # the program runs in the 2020s; a year 0000 or 10000 is a typo
START_YEARS: str = f"{START_YEAR_RANGE.start}-{START_YEAR_RANGE.stop - 1}"

# key -> (type, check); a check is given the value already converted to the key's type, hence Any.
SCENARIO_KEYS: dict[str, tuple[type, Callable[[Any], str | None]]] = {
    "fund_usd": (float, lambda v: None if v >= 0 else "must be >= 0"),
    "admin_reserve_usd": (float, lambda v: None if v >= 0 else "must be >= 0"),
    "rule": (str, lambda v: None if v in RULES else f"must be one of {', '.join(RULES)}"),
    "start": (str, lambda v: None if is_start_month(v) else f"must be a month written YYYY-MM, year {START_YEARS}"),
    "horizon": (int, lambda v: None if 1 <= v <= 600 else "must be between 1 and 600 months"),
    "deadline": (int, lambda v: None if 0 <= v <= 600 else "must be between 0 and 600 months"),
    "extensions": (int, lambda v: None if 0 <= v <= 100 else "must be between 0 and 100"),
    "objective": (str, lambda v: None if v in OBJECTIVES else f"must be one of {', '.join(OBJECTIVES)}"),
    "time_limit_s": (float, lambda v: None if v > 0 else "must be > 0 seconds"),
    "mip_gap": (float, lambda v: None if 0 <= v < 1 else "must be in [0, 1)"),
    "dark_weight": (float, lambda v: None if 1 <= v <= 1e6 else "must be between 1 and 1e6"),
    "name": (str, lambda v: None),
    "as_of": (str, lambda v: None if v == "" or MONTH_PATTERN.fullmatch(v) else "must be a month written YYYY-MM"),
    "missed_deadline": (
        str,
        lambda v: None if v in MISSED_DEADLINE_POLICIES else f"must be one of {', '.join(MISSED_DEADLINE_POLICIES)}",
    ),
}
SCENARIO_TABLE_KEYS = ("tranches",)  # arrays of tables, read by their own function
TRANCHE_KEYS = ("month", "usd")


def is_start_month(text: str) -> bool:
    """YYYY-MM with ASCII digits, a real month and a year in START_YEAR_RANGE."""
    match = re.fullmatch(r"([0-9]{4})-(0[1-9]|1[0-2])", text)
    return match is not None and int(match.group(1)) in START_YEAR_RANGE


def coerce_scenario_value(key: str, value: object) -> object:
    """Convert a TOML or command-line value to the key's type, or raise CellError."""
    kind, _ = SCENARIO_KEYS[key]
    if isinstance(value, bool) or value is None:
        raise CellError("bad-type", f"expected {kind.__name__}")
    if kind is str:
        if not isinstance(value, str):
            raise CellError("bad-type", 'expected text in double quotes, e.g. rule = "pro_rata"')
        return value
    if not isinstance(value, (int, float, str)):
        raise CellError("bad-type", f"expected a number, not a {type(value).__name__}")
    try:
        number = parse_number(value) if isinstance(value, str) else float(value)
    except OverflowError:
        raise CellError("not-finite", "the number is too large") from None
    if not math.isfinite(number):
        raise CellError("not-finite", "must be a finite number")
    if kind is int:
        if number != int(number):
            raise CellError("not-an-integer", "expected a whole number")
        return int(number)
    return number


def scenario_from_mapping(
    mapping: dict,
    file: str,
    issues: list[Issue],
    base: Scenario | None = None,
    name: str | None = None,
    lines: dict[str, int] | None = None,
) -> Scenario:
    """Apply a mapping of overrides to `base`, checking every key and value.

    `lines` maps keys to the line they were written on, so messages can point there.
    """
    lines = lines or {}
    values: dict[str, object] = {}
    for key, raw in mapping.items():
        if key == "tranches":
            tranches = parse_tranches(raw, file, issues, lines.get(key))
            if tranches is not None:
                values[key] = tranches
            continue
        if key not in SCENARIO_KEYS:
            hint = difflib.get_close_matches(key, [*SCENARIO_KEYS, *SCENARIO_TABLE_KEYS], n=1)
            issues.append(
                Issue(
                    file,
                    lines.get(key),
                    key,
                    "unknown-key",
                    str(raw)[:80],
                    (
                        f"unknown scenario key; did you mean '{hint[0]}'?"
                        if hint
                        else f"unknown scenario key; known keys: {', '.join(SCENARIO_KEYS)}"
                    ),
                )
            )
            continue
        try:
            value = coerce_scenario_value(key, raw)
        except CellError as err:
            issues.append(Issue(file, lines.get(key), key, err.rule, str(raw)[:80], str(err)))
            continue
        problem = SCENARIO_KEYS[key][1](value)
        if problem:
            issues.append(Issue(file, lines.get(key), key, "out-of-range", str(raw), problem))
            continue
        values[key] = value
    if "tranches" in values and "fund_usd" in values:
        tranches = cast(tuple[tuple[str, float], ...], values["tranches"])
        total = math.fsum(usd for _, usd in tranches)
        if abs(total - cast(float, values["fund_usd"])) > 0.5:
            issues.append(
                Issue(
                    file,
                    lines.get("fund_usd"),
                    "fund_usd",
                    "fund-disagrees-with-tranches",
                    f"{values['fund_usd']:g}",
                    f"the tranches sum to {total:,.2f}; give fund_usd equal to their sum, or leave it out",
                )
            )
            del values["fund_usd"]  # the tranches say when and how much; the fund follows them
    scenario = (base or Scenario()).with_overrides(**values)
    if name and "name" not in values and (base is None or base.name == "default"):
        scenario = scenario.with_overrides(name=name)
    if scenario.admin_reserve_usd > scenario.fund_usd:
        issues.append(
            Issue(
                file,
                lines.get("admin_reserve_usd"),
                "admin_reserve_usd",
                "reserve-exceeds-fund",
                f"{scenario.admin_reserve_usd:g}",
                f"the administrative reserve exceeds the fund ({scenario.fund_usd:g})",
            )
        )
    return scenario


def parse_tranches(raw: object, file: str, issues: list[Issue], line: int | None) -> tuple | None:
    """`[[tranches]]` tables -> (("YYYY-MM", usd), ...) sorted by month, or None (issues say why).

    Each table holds `month = "YYYY-MM"` and `usd` (a number >= 0); months are distinct and
    the money totals more than 0.
    """
    if not isinstance(raw, list) or not raw or not all(isinstance(t, dict) for t in raw):
        issues.append(
            Issue(
                file,
                line,
                "tranches",
                "bad-type",
                str(raw)[:80],
                'tranches are [[tranches]] tables, each with month = "YYYY-MM" and usd = amount',
            )
        )
        return None
    found: list[tuple[str, float]] = []
    ok = True
    for number, table in enumerate(raw, start=1):
        where = f"tranches[{number}]"
        for key in table:
            if key not in TRANCHE_KEYS:
                issues.append(
                    Issue(
                        file, line, f"{where}.{key}", "unknown-key", str(table[key])[:80], "a tranche has month and usd"
                    )
                )
                ok = False
        month, usd = table.get("month"), table.get("usd")
        if not isinstance(month, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
            issues.append(
                Issue(file, line, f"{where}.month", "bad-month", str(month)[:80], "must be a month written YYYY-MM")
            )
            ok = False
        if isinstance(usd, bool) or not isinstance(usd, (int, float)) or not math.isfinite(usd) or usd < 0:
            issues.append(
                Issue(file, line, f"{where}.usd", "out-of-range", str(usd)[:80], "must be a number of dollars >= 0")
            )
            ok = False
        if ok:
            found.append((month, float(usd)))
    months = [m for m, _ in found]
    for month in sorted({m for m in months if months.count(m) > 1}):
        issues.append(
            Issue(file, line, "tranches", "repeated-month", month, "two tranches in one month; give their sum once")
        )
        ok = False
    if ok and math.fsum(usd for _, usd in found) <= 0:
        issues.append(Issue(file, line, "tranches", "out-of-range", "0", "the tranches bring no money"))
        ok = False
    return tuple(sorted(found)) if ok else None


def check_tranches_within_horizon(scenario: Scenario) -> list[Issue]:
    """A tranche arriving at or after the horizon can pay for nothing in the plan (a warning: a legitimate what-if)."""
    year, month = (int(part) for part in scenario.start.split("-"))
    issues = []
    for number, (label, usd) in enumerate(scenario.tranches, start=1):
        tranche_year, tranche_month = (int(part) for part in label.split("-"))
        period = (tranche_year - year) * 12 + tranche_month - month
        if period >= scenario.horizon and usd > 0:
            issues.append(
                Issue(
                    "scenario",
                    None,
                    f"tranches[{number}].month",
                    "tranche-after-horizon",
                    label,
                    f"this tranche arrives in month {period}, after the {scenario.horizon}-month horizon: "
                    "its money can pay for no work in this plan",
                    severity="warning",
                )
            )
    return issues


def check_against_scenario(dataset: Dataset, scenario: Scenario) -> list[Issue]:
    """Rules that need both: a site whose earliest finish lies beyond the horizon is never replaced.

    A dataset built or changed in code is first checked by every file rule (`check_dataset`),
    so `planner.plan`, which calls this, refuses a cycle or a NaN with an InputError.

    The earliest finish counts the site's lead time and the sites it waits for
    (`network.earliest_starts`). This is a warning, not an error: the model leaves such a
    site out and reports it, and a short horizon is a legitimate question to ask
    ("what can be done in 6 months?"); refusing to solve would block that question.
    """
    issues = check_dataset(dataset)
    if any(i.severity == "error" for i in issues):
        return issues  # a cycle or a NaN makes the horizon check meaningless (and would crash it)
    issues.extend(check_tranches_within_horizon(scenario))
    issues.extend(check_progress_against_scenario(dataset, scenario))
    start_variables = 0
    for sites in dataset.sites_by_carrier.values():
        earliest = earliest_starts(sites)
        for site in sites:
            if site.fixed:
                continue  # the record decides its start, not its lead time
            finish = earliest[site.site_id] + site.duration_months
            start_variables += max(0, scenario.horizon - finish + 1)
            if finish <= scenario.horizon:
                continue
            waits = (
                ""
                if earliest[site.site_id] == site.lead_time_months
                else f", after the sites it depends on (earliest start month {earliest[site.site_id]})"
            )
            issues.append(
                Issue(
                    "sites.csv",
                    site.line or None,
                    "lead_time",
                    "lead-time-beyond-horizon",
                    str(site.lead_time_months),
                    f"lead time {site.lead_time_months} + duration {site.duration_months} months{waits} "
                    f"puts the earliest finish at month {finish}, beyond the {scenario.horizon}-month "
                    "horizon; the site cannot be replaced in this scenario",
                    severity="warning",
                )
            )
    if start_variables > LARGE_MODEL_START_VARIABLES:
        issues.append(
            Issue(
                "scenario",
                None,
                "horizon",
                "large-model",
                f"{start_variables:,} site-months",
                f"every site may start in any month of its window: about {start_variables:,} start "
                f"variables over a {scenario.horizon}-month horizon; building the models takes minutes "
                "and is not covered by the time limit (rural40 over 48 months has 157,000); "
                "a shorter horizon plans faster",
                severity="warning",
            )
        )
    return issues
