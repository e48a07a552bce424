"""Reports a reviewer can file: open each file the way a reader would and check what it says.

One tiny run (three carriers, one named like a spreadsheet formula, one like a script tag, money
short for some sites) is solved once and written as `rrplan solve --out` would; every report is
made from that folder.
"""

from __future__ import annotations

import dataclasses
import html
import io
import json
import math
import re
import zipfile
from datetime import UTC, datetime
from html.parser import HTMLParser

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

import planner
from planner.cli.main import run
from planner.core.schema import Carrier, CrewPool
from planner.core.wording import usd
from planner.inputs.io import read_dataset, write_dataset
from planner.present.documents import RunRecord, webpage
from planner.present.export import plan_report_bytes, report_bytes, write_reports
from planner.runs.folder import write_plan
from planner.runs.provenance import utc_timestamp
from tests.conftest import dataset, scenario, site

FORMULA_NAME = '=HYPERLINK("http://x","y")'
SCRIPT_NAME = "<script>alert(1)</script>"
PLAIN_NAME = "Prairie Wireless, Inc."
REPORT_TIME = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 1, 17, 30, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Demand $330 against a $200 fund pro rata: some sites go unfunded, so some carriers miss the deadline."""
    carriers = (
        Carrier("a", FORMULA_NAME, "TX", 100),
        Carrier("b", SCRIPT_NAME, "OK", 100),
        Carrier("c", PLAIN_NAME, "KS", 100),
    )
    sites = [
        site("a1", "a", cost=100, population=500, duration=2),
        site("a2", "a", cost=50, population=300),
        site("b1", "b", cost=80, population=400, duration=2),
        site("b2", "b", cost=40, population=100),
        site("c1", "c", cost=60, population=250),
    ]
    crews = tuple(CrewPool(c, "tower", 1.0) for c in "abc")
    built = dataset(sites, crews=crews, carriers=carriers, name="tiny")
    folder = write_dataset(built, tmp_path_factory.mktemp("data") / "tiny")
    loaded = read_dataset(folder)  # read back so the plan names the files' SHA-256
    result = planner.plan(loaded, scenario(fund_usd=200.0, horizon=6, deadline=3), workers=1)
    out = tmp_path_factory.mktemp("run")
    write_plan(result, out)
    return result, out


@pytest.fixture(scope="module")
def record(tiny_run):
    return RunRecord.from_folder(tiny_run[1])


def test_the_tiny_run_is_the_case_described(tiny_run):
    result, _ = tiny_run
    figures = planner.summary(result)
    assert figures["allocated_usd"] == pytest.approx(200.0)
    assert 0 < figures["sites_replaced"] < figures["sites_total"]
    assert figures["carriers_done_by_deadline"] < 3
    assert result.dataset.sha256


# ---------------------------------------------------------------- Excel


@pytest.fixture(scope="module")
def workbook(record):
    return openpyxl.load_workbook(io.BytesIO(report_bytes(record, "xlsx", REPORT_TIME)))


def column(sheet, header: str) -> list:
    headers = [cell.value for cell in sheet[1]]
    index = headers.index(header)
    return [row[index] for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_workbook_totals_equal_the_plan(workbook, tiny_run):
    result, _ = tiny_run
    figures = planner.summary(result)
    assert workbook.sheetnames == ["Summary", "Allocation", "Schedule", "Monthly", "Missed deadline"]
    allocation = workbook["Allocation"]
    assert math.fsum(column(allocation, "Allocation (USD)")) == pytest.approx(math.fsum(result.allocation_usd.values()))
    assert math.fsum(column(allocation, "Spend (USD)")) == pytest.approx(figures["spend_usd"])
    assert sum(column(allocation, "People left without service")) == figures["population_left_without_service"]
    schedule = workbook["Schedule"]
    assert len(column(schedule, "Site ID")) == len(result.dataset.sites)
    assert sum(column(schedule, "Replaced")) == figures["sites_replaced"]
    assert math.fsum(column(workbook["Monthly"], "Spend (USD)")) == pytest.approx(figures["spend_usd"])
    missed = workbook["Missed deadline"]
    assert len(column(missed, "Carrier ID")) == figures["carriers_total"] - figures["carriers_done_by_deadline"]
    assert all(reason for reason in column(missed, "Reason for missing the deadline"))


def test_workbook_summary_has_scenario_headline_and_provenance(workbook, tiny_run):
    result, _ = tiny_run
    labels = {row[0]: row[1] for row in workbook["Summary"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert labels["Fund"] == pytest.approx(200.0)
    assert labels["People left without service"] == planner.summary(result)["population_left_without_service"]
    assert labels["Dataset SHA-256"] == result.dataset.sha256
    assert labels["Solver"] == result.solver
    assert labels["Termination status"].startswith(result.status)
    assert labels["Tool"] == f"rrplan {planner.__version__}"
    assert labels["Report made at"] == utc_timestamp(REPORT_TIME)


def test_workbook_manners(workbook):
    for name in ("Allocation", "Schedule", "Monthly", "Missed deadline"):
        sheet = workbook[name]
        assert sheet.freeze_panes == "A2", name
        assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{sheet.max_row}", name
        assert all(cell.font.bold for cell in sheet[1]), name
    allocation = workbook["Allocation"]
    headers = [cell.value for cell in allocation[1]]
    assert allocation.cell(2, headers.index("Allocation (USD)") + 1).number_format == '"$"#,##0'
    assert allocation.cell(2, headers.index("People") + 1).number_format == "#,##0"
    month = workbook["Monthly"].cell(2, 1)
    assert month.is_date and month.number_format == "yyyy-mm"
    assert allocation.column_dimensions["B"].width >= len(PLAIN_NAME)


def test_formula_like_text_stays_text(record):
    data = report_bytes(record, "xlsx", REPORT_TIME)
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Allocation"]
    names = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert names["a"] == FORMULA_NAME
    cell = next(c for c in sheet["B"] if c.value == FORMULA_NAME)
    assert cell.data_type == "s" and cell.quotePrefix
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in archive.read(name).decode(), f"{name} holds a formula"


# ---------------------------------------------------------------- HTML


class Links(HTMLParser):
    """Every src/href attribute, and every tag that would load something."""

    def __init__(self):
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.targets += [value or "" for key, value in attrs if key in ("src", "href", "srcset", "data", "action")]


def test_html_is_self_contained_and_escapes_data(record):
    page = report_bytes(record, "html", REPORT_TIME).decode("utf-8")
    links = Links()
    links.feed(page)
    network = [t for t in links.targets if re.match(r"\s*(https?:)?//", t, re.IGNORECASE)]
    assert network == []
    assert all(t.startswith("#") for t in links.targets)  # only links within the page
    assert "Plotly.newPlot" in page and len(page) > 1_000_000  # plotly.js itself is inline
    assert "cdn.plot.ly" not in page.split("</head>")[1]
    assert SCRIPT_NAME not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "@media print" in page
    assert usd(200.0) in page and record.summary["dataset_sha256"] in page


# ---------------------------------------------------------------- PDF


@pytest.fixture(scope="module")
def pdf_at_report_time(record):
    return report_bytes(record, "pdf", REPORT_TIME)


def pdf_words(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture(scope="module")
def pdf_text(pdf_at_report_time):
    return PdfReader(io.BytesIO(pdf_at_report_time)), pdf_words(pdf_at_report_time)


def test_pdf_says_who_what_and_where_from(pdf_text, tiny_run):
    reader, text = pdf_text
    result, _ = tiny_run
    flat = re.sub(r"\s+", "", text)
    for carrier in result.dataset.carriers:
        assert re.sub(r"\s+", "", carrier.name) in flat, carrier.name
    figures = planner.summary(result)
    assert f"{figures['carriers_done_by_deadline']} of 3 carriers" in text
    assert f"{figures['population_left_without_service']:,}" in text
    assert usd(200.0) in text
    assert result.dataset.sha256 in flat
    assert re.sub(r"\s+", "", result.solver) in flat
    assert f"{result.status}: " in text
    assert "Glossary" in text and "Assumptions" in text
    assert len(reader.pages) >= 3 + 3  # cover, summary, charts ..., one page per carrier
    assert reader.metadata.title.startswith("Rip-and-replace plan")


def test_pdf_explains_each_late_carrier(pdf_text, record):
    _, text = pdf_text
    flat = re.sub(r"\s+", "", text)
    for row in record.missed.itertuples():
        assert re.sub(r"\s+", "", row.reason) in flat


def test_pdf_keeps_characters_beyond_windows_1252(record, pdf_at_report_time):
    """Helvetica (not embedded) when every character allows it; DejaVu Sans embedded when a name needs it."""
    name = "Hāna ʻOhana Wireless – Łódź"
    carriers = record.carriers.assign(
        name=[
            name if cid == "c" else n
            for cid, n in zip(record.carriers["carrier_id"], record.carriers["name"], strict=True)
        ]
    )
    data = report_bytes(dataclasses.replace(record, carriers=carriers), "pdf", REPORT_TIME)
    assert name in pdf_words(data)
    assert b"DejaVuSans" in data
    assert b"/Helvetica" in pdf_at_report_time and b"DejaVuSans" not in pdf_at_report_time


# ---------------------------------------------------------------- reproducible


def test_two_reports_of_one_run_differ_only_in_the_timestamp(record, pdf_at_report_time):
    first, second = utc_timestamp(REPORT_TIME), utc_timestamp(LATER)
    page_a, page_b = (report_bytes(record, "html", t) for t in (REPORT_TIME, LATER))
    assert page_a != page_b and page_a.replace(first.encode(), second.encode()) == page_b
    book_a, book_b = (zipfile.ZipFile(io.BytesIO(report_bytes(record, "xlsx", t))) for t in (REPORT_TIME, LATER))
    assert book_a.namelist() == book_b.namelist()
    for name in book_a.namelist():
        assert book_a.read(name).replace(first.encode(), second.encode()) == book_b.read(name), name
    assert report_bytes(record, "xlsx", REPORT_TIME) == report_bytes(record, "xlsx", REPORT_TIME)
    assert report_bytes(record, "pdf", REPORT_TIME) == pdf_at_report_time
    text_a, text_b = pdf_words(pdf_at_report_time), pdf_words(report_bytes(record, "pdf", LATER))
    assert text_a != text_b and text_a.replace(first, second) == text_b


def test_a_report_from_the_plan_is_the_report_from_its_folder(tiny_run, record):
    result, _ = tiny_run
    made_at = datetime.strptime(record.provenance["made_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    for fmt in ("xlsx", "html"):
        assert plan_report_bytes(result, fmt, generated_at=REPORT_TIME, made_at=made_at) == report_bytes(
            record, fmt, REPORT_TIME
        ), fmt


def test_other_rules_are_compared_when_given(tiny_run):
    result, _ = tiny_run
    greedy = planner.plan(result.dataset, result.scenario.with_overrides(rule="greedy"), workers=1)
    book = openpyxl.load_workbook(io.BytesIO(plan_report_bytes(result, "xlsx", plans_by_rule={"greedy": greedy})))
    sheet = book["Allocation by rule"]
    assert [c.value for c in sheet[1]][2:] == ["Allocation, pro rata (USD)", "Allocation, greedy (USD)"]
    outcomes = {
        row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row[0] in ("pro rata", "greedy")
    }
    dark = planner.summary(greedy)["population_left_without_service"]
    assert f"{dark:,} people left without service" in outcomes["greedy"]
    assert math.fsum(column(sheet, "Allocation, greedy (USD)")) == pytest.approx(
        math.fsum(greedy.allocation_usd.values())
    )


# ---------------------------------------------------------------- rrplan report


def test_rrplan_report_writes_every_format(tiny_run, tmp_path, capsys):
    _, folder = tiny_run
    assert run(["report", str(folder), "--format", "all", "--out", str(tmp_path)]) == 0
    assert {p.name for p in tmp_path.iterdir()} == {"plan.xlsx", "plan.html", "plan.pdf"}
    assert "plan.pdf" in capsys.readouterr().out
    assert run(["report", str(folder), "--format", "xlsx", "--out", str(tmp_path / "one"), "--quiet"]) == 0
    assert [p.name for p in (tmp_path / "one").iterdir()] == ["plan.xlsx"]


def test_rrplan_report_names_what_is_missing(tiny_run, tmp_path, capsys):
    assert run(["report", str(tmp_path / "nowhere")]) == 2
    assert "nowhere: is not a folder" in capsys.readouterr().err
    _, folder = tiny_run
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in ("summary.json", "schedule.csv", "monthly.csv"):
        (partial / name).write_bytes((folder / name).read_bytes())
    assert run(["report", str(partial)]) == 2
    err = capsys.readouterr().err
    assert f"{partial / 'carriers.csv'}: missing" in err
    assert not (partial / "plan.xlsx").exists()


def test_rrplan_report_names_the_bad_row_and_column(tiny_run, tmp_path, capsys):
    _, folder = tiny_run
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("summary.json", "schedule.csv", "carriers.csv", "monthly.csv"):
        (broken / name).write_bytes((folder / name).read_bytes())
    lines = (broken / "carriers.csv").read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")
    cells[header.index("allocation_usd")] = "lots"
    lines[2] = ",".join(cells)
    (broken / "carriers.csv").write_text("\n".join(lines) + "\n")
    summary = json.loads((broken / "summary.json").read_text())
    del summary["solver"]
    (broken / "summary.json").write_text(json.dumps(summary))
    assert run(["report", str(broken), "--format", "html"]) == 2
    err = capsys.readouterr().err
    assert f"{broken / 'carriers.csv'}:3: allocation_usd: not a number (value: lots)" in err
    assert f"{broken / 'summary.json'}: solver: missing figure" in err
    with pytest.raises(planner.InputError):
        write_reports(broken, ("html",))


# ---------------------------------------------------------------- in a real browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.mark.browser
def test_the_page_opens_offline_and_runs_no_data_script(record, tmp_path):
    """Headless Chromium opens plan.html: no request leaves the file, the charts draw, the script name is text."""
    import os

    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "plan.html"
    page_file.write_bytes(report_bytes(record, "html", REPORT_TIME))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            requests, dialogs = [], []
            page.on("request", lambda request: requests.append(request.url))
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(page_file.as_uri())
            page.wait_for_selector("#chart-coverage .main-svg", timeout=30_000)
            assert [url for url in requests if not url.startswith("file:")] == []
            assert dialogs == []  # alert(1) never ran
            assert SCRIPT_NAME in page.inner_text("#missed")
        finally:
            browser.close()


# ---------------------------------------------------------------- forty carriers


@pytest.mark.slow
def test_forty_carriers_report_in_well_under_a_minute(rural40, tmp_path):
    """The embedded dataset, scheduled by list scheduling (greedy rule, no solver), reported in every format."""
    import time

    result = planner.plan(rural40, rural40.default_scenario.with_overrides(rule="greedy"), workers=1)
    write_plan(result, tmp_path)
    began = time.perf_counter()
    written = write_reports(tmp_path)
    seconds = time.perf_counter() - began
    assert seconds < 60, f"{seconds:.1f} s"
    reader = PdfReader(written[-1])
    assert len(reader.pages) >= 40 + 4
    text = pdf_words(written[-1].read_bytes())
    assert all(re.sub(r"\s+", "", c.name) in re.sub(r"\s+", "", text) for c in rural40.carriers)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda s: s.update(fund_usd="plenty"), "summary.json: fund_usd: must be a number (value: plenty)"),
        (
            lambda s: s["scenario"].update(start="August"),
            "summary.json: scenario.start: must be a month written YYYY-MM",
        ),
        (lambda s: s["scenario"].pop("deadline"), "summary.json: scenario: must hold the scenario's start, deadline"),
        (lambda s: s.update(notes="one note"), "summary.json: notes: must be a list of sentences"),
    ],
)
def test_a_damaged_summary_is_named_not_a_traceback(tiny_run, tmp_path, capsys, damage, message):
    _, folder = tiny_run
    for name in ("schedule.csv", "carriers.csv", "monthly.csv"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    summary = json.loads((folder / "summary.json").read_text())
    damage(summary)
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    assert run(["report", str(tmp_path)]) == 2
    assert f"{tmp_path}/{message}" in capsys.readouterr().err


def test_a_replaced_site_without_a_start_is_named(tiny_run, tmp_path, capsys):
    _, folder = tiny_run
    for name in ("summary.json", "carriers.csv", "monthly.csv"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    lines = (folder / "schedule.csv").read_text().splitlines()
    header = lines[0].split(",")
    row = next(i for i, line in enumerate(lines) if line.split(",")[header.index("replaced")] == "True")
    cells = lines[row].split(",")
    cells[header.index("start")] = ""
    lines[row] = ",".join(cells)
    (tmp_path / "schedule.csv").write_text("\n".join(lines) + "\n")
    assert run(["report", str(tmp_path), "--format", "xlsx"]) == 2
    assert (
        f"{tmp_path / 'schedule.csv'}:{row + 1}: finish: a replaced site needs a start and a later finish"
        in capsys.readouterr().err
    )


def test_rrplan_report_compares_runs_of_other_rules(tiny_run, tmp_path, capsys):
    result, folder = tiny_run
    greedy = planner.plan(result.dataset, result.scenario.with_overrides(rule="greedy"), workers=1)
    write_plan(greedy, tmp_path / "greedy")
    assert (
        run(
            [
                "report",
                str(folder),
                "--format",
                "xlsx",
                "--out",
                str(tmp_path / "out"),
                "--compare",
                str(tmp_path / "greedy"),
            ]
        )
        == 0
    )
    sheet = openpyxl.load_workbook(tmp_path / "out" / "plan.xlsx")["Allocation by rule"]
    assert math.fsum(column(sheet, "Allocation, greedy (USD)")) == pytest.approx(
        math.fsum(greedy.allocation_usd.values())
    )
    assert run(["report", str(folder), "--compare", str(folder)]) == 2
    assert "compare-one-run-per-rule" in capsys.readouterr().err


# ---------------------------------------------------------------- any name at all

NAMES = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40) | st.sampled_from(
    ["=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "=cmd|'/C calc'!A0", "'quoted", "  padded  "]
)


def renamed(record, name: str):
    names = [
        name if cid == "b" else n for cid, n in zip(record.carriers["carrier_id"], record.carriers["name"], strict=True)
    ]
    return dataclasses.replace(record, carriers=record.carriers.assign(name=names))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES)
def test_any_carrier_name_is_text_in_excel_and_escaped_in_html(record, name):
    changed = renamed(record, name)
    book = openpyxl.load_workbook(io.BytesIO(report_bytes(changed, "xlsx", REPORT_TIME)))
    cell = next(row[1] for row in book["Allocation"].iter_rows(min_row=2) if row[0].value == "b")
    assert cell.value == name and cell.data_type == "s"
    # The page's sections that print names (the whole page is checked with a script tag above).
    sections = webpage.allocation_section(changed) + webpage.carriers_section(changed)
    assert html.escape(name) in sections
    if "<" in name:
        assert name not in sections


# ---------------------------------------------------------------- what a reviewer quotes (issue 13)


def labelled(data: bytes) -> dict:
    """Label -> value of the workbook's Summary sheet (the first row of a label: headline before scenario)."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    shown: dict = {}
    for row in book["Summary"].iter_rows(min_row=2, values_only=True):
        if row[0]:
            shown.setdefault(row[0], row[1])
    return shown


def test_reports_say_when_the_plan_was_solved_not_when_the_report_was_made(tiny_run, record):
    """Two reports made a day apart show one solve time: the plan's own, recorded when it was solved."""
    result, _ = tiny_run
    assert record.provenance["solved_at"] == result.solved_at
    early, late = (labelled(report_bytes(record, "xlsx", t)) for t in (REPORT_TIME, LATER))
    assert early["Plan solved at"] == late["Plan solved at"] == result.solved_at
    assert early["Report made at"] != late["Report made at"]
    assert "Plan made at" not in early
    assert f"plan solved at {result.solved_at}" in report_bytes(record, "html", REPORT_TIME).decode()
    assert result.solved_at in pdf_words(report_bytes(record, "pdf", LATER))
    # a report made from the plan in memory, minutes later, still carries the plan's solve time
    assert labelled(plan_report_bytes(result, "xlsx", generated_at=LATER))["Plan solved at"] == result.solved_at


def test_the_code_version_and_commit_are_recorded(record, tmp_path):
    from planner.runs.provenance import git_commit

    assert record.provenance["tool_version"] == planner.__version__
    assert record.provenance["git_commit"] == git_commit()  # this test runs from a checkout: a 40-digit commit
    assert git_commit() is None or re.fullmatch(r"[0-9a-f]{40}", git_commit())
    assert git_commit(tmp_path) is None  # not a checkout
    commit = "0123456789abcdef0123456789abcdef01234567"
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / ".git" / "packed-refs").write_text(f"# pack-refs with: peeled\n{commit} refs/heads/main\n")
    assert git_commit(tmp_path) == commit


def test_downloaded_reports_are_named_by_run(record):
    from planner.present.export import report_file_name

    sha, solved = record.summary["dataset_sha256"], record.provenance["solved_at"]
    stamp = solved.replace("-", "").replace(":", "")
    assert report_file_name(record.summary, record.provenance, "pdf") == f"plan-{sha[:12]}-{stamp}.pdf"
    assert report_file_name({**record.summary, "run_id": "r-0042"}, record.provenance, "xlsx") == "plan-r-0042.xlsx"


def test_the_fund_is_quoted_to_the_dollar(record):
    exact = dataclasses.replace(record, summary={**record.summary, "fund_usd": 1_895_000_000.0})
    assert "$1,895,000,000" in report_bytes(exact, "html", REPORT_TIME).decode()
    assert "$1,895,000,000" in pdf_words(report_bytes(exact, "pdf", REPORT_TIME))
    assert labelled(report_bytes(exact, "xlsx", REPORT_TIME))["Fund"] == 1_895_000_000


def test_money_a_carrier_cannot_use_is_flagged(tiny_run, record):
    """$200 pro rata over $330 of demand gives each carrier 200/330 = 60.6% of its demand:
    a gets $90.91 (buys a2 at $50, not a1 at $100: $40.91 idle), b gets $72.73 (buys b2 at $40, not b1 at $80:
    $32.73 idle), c gets $36.36 and cannot buy c1 at $60 (replaces 0 of 1 sites: all $36.36 idle)."""
    result, _ = tiny_run
    carriers = planner.carriers_table(result).set_index("carrier_id")
    assert carriers.loc["c", "sites_replaced"] == 0
    assert carriers.loc["c", "idle_allocation_usd"] == pytest.approx(60 * 200 / 330, abs=0.01)
    assert carriers["allocation_idle"].all()
    figures = planner.summary(result)
    assert figures["idle_allocation_usd"] == pytest.approx(200 - figures["spend_usd"], abs=0.05)
    assert figures["carriers_with_idle_allocation"] == 3
    page = html.unescape(report_bytes(record, "html", REPORT_TIME).decode())
    assert "cannot be spent" in page and "c receives $36 and replaces 0 of 1 sites" in page
    assert "Money allocated but unusable" in pdf_words(report_bytes(record, "pdf", REPORT_TIME))
    book = openpyxl.load_workbook(io.BytesIO(report_bytes(record, "xlsx", REPORT_TIME)))
    assert sum(column(book["Allocation"], "Allocated but unusable (USD)")) == pytest.approx(
        figures["idle_allocation_usd"]
    )


def test_late_carriers_have_their_completion_explained(record):
    page = html.unescape(report_bytes(record, "html", REPORT_TIME).decode())
    assert "not all sites replaced: 0 of 1" in page
    book = openpyxl.load_workbook(io.BytesIO(report_bytes(record, "xlsx", REPORT_TIME)))
    explained = column(book["Missed deadline"], "Completion (or why not)")
    assert explained and all(explained)


def test_never_proven_optimal_beside_a_time_limit_note(record):
    """A plan within the gap as a whole, with a carrier cut short by the time limit, is not called proven optimal."""
    note = "the time limit stopped the solver before 1 carrier(s) were each proven within the gap: c01 (3.0%)"
    cut = dataclasses.replace(record, summary={**record.summary, "status": "optimal", "notes": [note]})
    for fmt in ("html", "pdf"):
        data = report_bytes(cut, fmt, REPORT_TIME)
        text = pdf_words(data) if fmt == "pdf" else html.unescape(data.decode())
        assert "time limit stopped" in text and "proven optimal" not in re.sub(r"\s+", " ", text), fmt
    assert (
        "proven optimal"
        in report_bytes(
            dataclasses.replace(record, summary={**record.summary, "status": "optimal", "notes": []}),
            "html",
            REPORT_TIME,
        ).decode()
    )


def test_the_workbook_has_the_compare_table_when_rules_are_compared(tiny_run):
    result, out = tiny_run
    others = {
        rule: planner.plan(result.dataset, result.scenario.with_overrides(rule=rule), workers=1)
        for rule in ("greedy", "optimal")
    }
    book = openpyxl.load_workbook(io.BytesIO(plan_report_bytes(result, "xlsx", {**others, "pro_rata": result})))
    compare = book["Compare"]
    header = [cell.value for cell in compare[1]]
    assert header == ["Figure", "pro rata", "greedy", "optimal"]
    rows = {row[0]: row[1:] for row in compare.iter_rows(min_row=2, values_only=True)}
    for index, plan in enumerate([result, others["greedy"], others["optimal"]]):
        figures = planner.summary(plan)
        assert rows["People left without service"][index] == figures["population_left_without_service"]
        assert rows["Allocated from the fund"][index] == pytest.approx(figures["allocated_usd"])
    assert "Compare" not in openpyxl.load_workbook(io.BytesIO(plan_report_bytes(result, "xlsx"))).sheetnames


def test_reports_say_when_money_arrives_and_what_happens_to_a_late_site():
    """Two tranches and `keep_running`: the scenario rows and the assumptions say both, in dollars and months."""
    from planner.present.documents import wording

    sites = [site("a1", population=10, cost=100), site("a2", population=5, cost=100)]
    tranches = (("2022-01", 100.0), ("2022-04", 100.0))
    sc = scenario(
        start="2022-01", fund_usd=200, tranches=tranches, horizon=6, deadline=3, missed_deadline="keep_running"
    )
    record = RunRecord.from_plan(planner.plan(dataset(sites), sc, workers=1))
    rows = {label: value for label, value, _ in wording.scenario_rows(record)}
    assert rows["Money arrives (month and dollars)"] == "$100 in 2022-01, then $100 in 2022-04"
    assert rows["A site not replaced by its carrier's deadline"] == "kept running on covered gear, late but not dark"
    said = " ".join(wording.assumptions(record))
    assert "It arrives $100 in 2022-01, then $100 in 2022-04" in said
    assert "keeps running on covered gear to the end of the horizon" in said and "shut down" not in said
