"""The app once through a real browser: `streamlit run app.py` driven by headless Chromium (Playwright).

Starts the app on a free port on a tiny dataset, loads the national screen, switches the
fund to the full-funding preset and checks that the headline figures change to what the
library computes for that fund, without any request leaving the app's own server. Uses the
system browser (/usr/bin/chromium, Debian's `chromium` package); no browser is ever downloaded.
Outside CI the test skips when that browser is missing; in CI (env CI set) it must run, so a missing browser fails it.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

import planner
from planner.inputs.io import write_dataset
from tests.conftest import ROOT
from tests.test_app import PRESET_FULL, billions_dataset

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_TIMEOUT_S = 60
SCREEN_TIMEOUT_MS = 60_000

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url: str, server: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit did not answer on {url} within {timeout_s:.0f} s")


@pytest.fixture()
def chromium_path() -> str:
    if not os.environ.get("CI"):
        pytest.importorskip(
            "playwright", reason="the Python package playwright is not installed (pip install '.[test]')"
        )
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI: install Debian's `chromium` package")
        pytest.skip(f"no system Chromium at {CHROMIUM} (install Debian's `chromium`); this test never downloads one")
    return str(CHROMIUM)


@pytest.fixture()
def app_url(tmp_path):
    """`streamlit run app.py` on a free port, on the tiny billion-dollar dataset; stopped afterwards."""
    folder = write_dataset(billions_dataset(), tmp_path / "billions")
    with served_app(folder, tmp_path) as url:
        yield url, folder


@contextmanager
def served_app(folder: Path, tmp_path: Path):
    """The app served on a free port with `folder` as its dataset, its log in tmp_path/streamlit.log."""
    port = free_port()
    env = {**os.environ, "RRPLAN_DATASET": str(folder)}
    log = open(tmp_path / "streamlit.log", "w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, server, STARTUP_TIMEOUT_S)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def watched_page(browser, url: str):
    """A new page and the list of every request it makes that leaves the app's own server (it must stay empty:
    maps and charts work offline, with no tiles, topojson or fonts from the web)."""
    page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda request: None if request.url.startswith((url, "data:", "blob:")) else elsewhere.append(request.url),
    )
    return page, elsewhere


@contextmanager
def open_browser(chromium_path: str):
    """The system Chromium under Playwright, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def wait_for_metric(page, value: str) -> None:
    """Wait until some headline metric shows `value` (the rerun with the new plan has drawn it)."""
    page.wait_for_function(
        """value => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
                   .some(e => e.innerText.trim() === value)""",
        arg=value,
        timeout=SCREEN_TIMEOUT_MS,
    )


def figures_shown(page):
    """The national headline's "Left without service" metric, drawn once the plan is solved (the preview shown while
    it solves says "left without service" in a sentence, so the metric's own label is what is waited for)."""
    return page.locator('[data-testid="stMetricLabel"]').get_by_text("Left without service").first


def headline(page) -> dict[str, str]:
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    return {label.strip(): value.strip() for label, value in zip(labels, values, strict=True)}


def test_fund_preset_changes_the_national_figures_in_a_real_browser(chromium_path, app_url, tmp_path):
    from app_pages._state import headline_values

    url, folder = app_url
    data = planner.read_dataset(folder)
    full = headline_values(planner.summary(planner.plan(data, data.default_scenario.with_overrides(fund_usd=4.98e9))))
    shot = Path(os.environ.get("RRPLAN_SCREENSHOT_DIR", tmp_path)) / "browser-national.png"
    with open_browser(chromium_path) as browser:
        page, elsewhere = watched_page(browser, url)
        page.goto(url)
        figures_shown(page).wait_for(timeout=SCREEN_TIMEOUT_MS)
        before = headline(page)
        assert before["Allocated"] == "$1.90B" and before["Pro-rata factor"] == "63.2%"

        page.locator('[data-testid="stSidebar"]').get_by_text(PRESET_FULL).click()
        wait_for_metric(page, "100.0%")
        page.wait_for_timeout(500)  # let the rest of the rerun land
        after = headline(page)
        assert after != before
        assert after == full
        page.locator(".js-plotly-plot").first.wait_for(timeout=SCREEN_TIMEOUT_MS)  # the map is drawn
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot))
        for screen, heading in (("Carrier", "Sites left unfunded"), ("Data", "Upload a dataset")):
            page.locator('[data-testid="stSidebarNav"]').get_by_text(screen, exact=True).click()
            page.get_by_text(heading).first.wait_for(timeout=SCREEN_TIMEOUT_MS)
        assert elsewhere == []
    assert shot.stat().st_size > 10_000


def test_every_screen_opens_by_direct_link_without_context_warnings(chromium_path, app_url, tmp_path):
    """A link copied from the address bar (or typed: /national) opens that screen, never "Page not found";
    the solve's progress is drawn without "missing ScriptRunContext" warnings in the server log."""
    url, _ = app_url
    screens = {
        "": "National picture",
        "national": "National picture",
        "carrier": "Carrier",
        "compare": "Compare rules",
        "scenarios": "Scenarios",
        "data": "Data",
        "runs": "Saved runs and funding curves",
    }
    with open_browser(chromium_path) as browser:
        for path, title in screens.items():
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto(f"{url}/{path}")
            heading = page.locator('[data-testid="stMain"] h1').first
            heading.wait_for(timeout=SCREEN_TIMEOUT_MS)
            page.wait_for_timeout(1000)
            assert heading.inner_text().strip() == title, path
            assert "page not found" not in page.locator("body").inner_text().lower(), path
            page.close()
    assert "ScriptRunContext" not in (tmp_path / "streamlit.log").read_text()


def test_one_answer_named_reports_and_a_click_to_a_carrier_in_a_real_browser(chromium_path, app_url, tmp_path):
    """One scenario, one answer: the national screen's people without service is the Compare table's pro-rata
    figure (downloaded as CSV); the reports download named by run, carrying the run id and when the plan was solved;
    a click on a carrier's bar opens its screen; and no request leaves the local server."""
    import csv

    url, _ = app_url
    with open_browser(chromium_path) as browser:
        page, elsewhere = watched_page(browser, url)
        page.goto(url)
        figures_shown(page).wait_for(timeout=SCREEN_TIMEOUT_MS)
        page.wait_for_timeout(1000)
        national = headline(page)["Left without service"]

        for label, suffix in (("Web page (offline)", ".html"), ("Excel workbook", ".xlsx"), ("PDF report", ".pdf")):
            with page.expect_download(timeout=SCREEN_TIMEOUT_MS) as download:
                page.get_by_role("button", name=label).click()
            name = download.value.suggested_filename
            assert name.startswith("plan-") and name.endswith(suffix), name
            if suffix == ".html":
                text = Path(download.value.path()).read_text(encoding="utf-8")
                run_id = name.removeprefix("plan-").removesuffix(".html")
                assert run_id.isdigit(), name  # the app recorded the plan: the run store's id names it
                assert "Plan solved at" in text and f">{run_id}<" in text

        page.locator('[data-testid="stSidebarNav"]').get_by_text("Compare rules", exact=True).click()
        solve = page.get_by_role("button", name="rule(s) and compare")
        solve.or_(page.get_by_text("Headline figures")).first.wait_for(timeout=SCREEN_TIMEOUT_MS)
        if solve.count():
            solve.click()
        page.get_by_text("Headline figures").first.wait_for(timeout=SCREEN_TIMEOUT_MS)
        with page.expect_download(timeout=SCREEN_TIMEOUT_MS) as download:
            page.get_by_role("button", name="Table (CSV)").first.click()
        rows = list(csv.DictReader(line for line in open(download.value.path()) if not line.startswith("#")))
        compared = next(row for row in rows if row["figure"] == "Left without service")
        assert compared["pro rata"] == national  # the sidebar's rule: the very plan the national screen shows

        page.locator('[data-testid="stSidebarNav"]').get_by_text("National picture", exact=True).click()
        figures_shown(page).wait_for(timeout=SCREEN_TIMEOUT_MS)
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=SCREEN_TIMEOUT_MS)
        bars = page.locator(".js-plotly-plot").nth(3)  # map, states, coverage, allocation
        bar = bars.locator(".trace.bars").first.locator(".point").last
        bar.scroll_into_view_if_needed()
        box = bar.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_url("**/carrier", timeout=SCREEN_TIMEOUT_MS)
        page.get_by_text("Sites left unfunded").first.wait_for(timeout=SCREEN_TIMEOUT_MS)
        assert elsewhere == []


def test_an_uploaded_dataset_is_planned_with_its_own_scenario_in_a_real_browser(chromium_path, app_url, tmp_path):
    """A zip of the dataset with a scenario.toml of $15M, uploaded through the Data screen's file picker: its
    scenario is announced, and once used, the national plan allocates $15M (not a preset), with the upload's
    horizon; its chart data downloads as an Excel workbook carrying the caption."""
    import zipfile

    from openpyxl import load_workbook

    url, folder = app_url
    archive = tmp_path / "own.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in ("carriers.csv", "crews.csv", "sites.csv"):
            zipped.write(folder / name, name)
        zipped.writestr(
            "scenario.toml", 'fund_usd = 15000000\nrule = "pro_rata"\nstart = "2023-01"\nhorizon = 18\ndeadline = 6\n'
        )
    with open_browser(chromium_path) as browser:
        page, elsewhere = watched_page(browser, f"{url}")
        page.goto(f"{url}/data")
        page.get_by_text("Upload a dataset").first.wait_for(timeout=SCREEN_TIMEOUT_MS)
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(archive))
        page.get_by_text("The upload is valid").wait_for(timeout=SCREEN_TIMEOUT_MS)
        page.get_by_text("The upload's own scenario").wait_for(timeout=SCREEN_TIMEOUT_MS)
        page.get_by_role("button", name="Use this dataset in every screen").click()
        page.wait_for_timeout(1000)
        page.locator('[data-testid="stSidebarNav"]').get_by_text("National picture", exact=True).click()
        wait_for_metric(page, "$15.0M")
        page.wait_for_timeout(1000)  # let the rest of the rerun land
        assert headline(page)["Allocated"] == "$15.0M"
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert "$15,000,000" in main and "2023-07" in main  # the fund to the dollar; start + the 6-month deadline
        with page.expect_download(timeout=SCREEN_TIMEOUT_MS) as download:
            page.get_by_role("button", name="Chart data (Excel)").nth(2).click()  # people by month
        sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
        assert "Scenario: $15M / pro rata" in sheet["A1"].value and sheet["A3"].value == "Month"
        assert sheet.max_row == 3 + 18  # the upload's 18-month horizon
        assert elsewhere == []


@pytest.mark.slow
def test_a_new_scenario_shows_a_preview_and_can_be_cancelled_in_a_real_browser(chromium_path, tmp_path):
    """On the program-size dataset (seconds per solve): while a new fund solves, the page shows the preview plan's
    figures and a Cancel button; Cancel ends the solve and says so, and Solve again gives the full-funding plan."""
    with served_app(ROOT / "datasets" / "program126", tmp_path) as url, open_browser(chromium_path) as browser:
        page, elsewhere = watched_page(browser, url)
        page.goto(url)
        figures_shown(page).wait_for(timeout=SCREEN_TIMEOUT_MS)
        page.locator('[data-testid="stSidebar"]').get_by_text(PRESET_FULL).click()
        page.get_by_text("Preview while the solver works").first.wait_for(timeout=SCREEN_TIMEOUT_MS)
        page.get_by_role("button", name="Cancel this solve").first.click()
        page.get_by_text("You cancelled the solve").wait_for(timeout=SCREEN_TIMEOUT_MS)
        page.wait_for_function(  # nothing half-made is shown, and the last plan's figures leave with the rerun
            "document.querySelectorAll('[data-testid=\"stMetricValue\"]').length === 0", timeout=SCREEN_TIMEOUT_MS
        )
        page.get_by_role("button", name="Solve again").click()
        wait_for_metric(page, "100.0%")
        assert elsewhere == []
    assert "Traceback" not in (tmp_path / "streamlit.log").read_text()
