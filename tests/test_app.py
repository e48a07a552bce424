"""The Streamlit app through AppTest: what a user sees on each screen matches the library.

The app runs on a tiny dataset written into a temporary folder (RRPLAN_DATASET), with
billion-dollar costs so that the fund presets ($1B, $1.895B, $4.98B) give different plans:

    north: core $600M -> backhaul $300M -> towers $400M (5,000 people), $300M (3,000 people)
    south: core $500M -> towers $600M (8,000 people), $300M (2,000 people)
    demand $3.00B; at the $1.895B preset the pro-rata factor is 1.895 / 3 = 63.2%.

Expected figures come from `planner.plan` + `planner.summary` on the same inputs, formatted
the way the app formats them, plus the hand-derived ones above.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from dataclasses import replace
from io import BytesIO
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

import planner
from planner.core.schema import Carrier, CrewPool, Scenario
from planner.core.wording import usd
from planner.inputs.io import write_dataset
from planner.inputs.tables import dataset_tables
from planner.present.images import image_browser
from tests.conftest import ROOT, dataset, site

APP = str(ROOT / "app.py")
M = 1e6
PRESET_2020, PRESET_FULL, CUSTOM = "$1.895B: 2020 appropriation", "$4.98B: Full funding (2024)", "Custom amount"
TIMEOUT_S = 60


def billions_dataset():
    positions = [
        (47.9, -97.0),
        (48.0, -97.5),
        (48.2, -98.0),
        (48.4, -97.2),
        (31.0, -100.0),
        (31.5, -101.0),
        (30.8, -99.5),
    ]
    sites = [
        site("n-core", "north", kind="core", cost=600 * M, duration=2, lead=1, tower=0, core=1),
        site(
            "n-bh",
            "north",
            kind="backhaul",
            cost=300 * M,
            duration=1,
            after=["n-core"],
            tower=0,
            core=1,
            population=100,
        ),
        site("n-r1", "north", population=5000, cost=400 * M, duration=2, after=["n-bh"]),
        site("n-r2", "north", population=3000, cost=300 * M, duration=1, after=["n-bh"]),
        site("s-core", "south", kind="core", cost=500 * M, duration=1, tower=0, core=1),
        site("s-r1", "south", population=8000, cost=600 * M, duration=2, after=["s-core"]),
        site("s-r2", "south", population=2000, cost=300 * M, duration=3, lead=2, after=["s-core"]),
    ]
    sites = [replace(s, lat=lat, lon=lon, name=s.site_id) for s, (lat, lon) in zip(sites, positions, strict=True)]
    carriers = (
        Carrier("north", "North Prairie Wireless", "ND", 12000),
        Carrier("south", "South Mesa Cellular", "TX", 8000, own_funds_usd=50 * M),
    )
    crews = (
        CrewPool("north", "core", 1),
        CrewPool("north", "tower", 1, 0),
        CrewPool("south", "core", 1),
        CrewPool("south", "tower", 1),
    )
    scenario = Scenario(
        fund_usd=1_895_000_000, rule="pro_rata", start="2023-01", horizon=18, deadline=6, time_limit_s=10, mip_gap=0.0
    )
    return replace(dataset(sites, crews=crews, carriers=carriers), default_scenario=scenario)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return write_dataset(billions_dataset(), tmp_path_factory.mktemp("app") / "billions")


@pytest.fixture(scope="module")
def data(folder) -> planner.Dataset:
    return planner.read_dataset(folder)


@pytest.fixture()
def app(folder, monkeypatch) -> AppTest:
    monkeypatch.setenv("RRPLAN_DATASET", str(folder))
    return AppTest.from_file(APP, default_timeout=TIMEOUT_S)


def expected(data, **overrides) -> dict:
    return planner.summary(planner.plan(data, data.default_scenario.with_overrides(**overrides)))


def metrics(at) -> dict[str, str]:
    """Label -> value of every metric on the screen (the first one of each label)."""
    shown: dict[str, str] = {}
    for metric in at.metric:
        shown.setdefault(metric.label, metric.value)
    return shown


def charts(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def plotly_values(data) -> list:
    """A trace's values as a list: plotly sends numeric arrays as base64 (`{"dtype", "bdata"}`)."""
    if isinstance(data, dict) and "bdata" in data:
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).tolist()
    return list(data)


def no_exceptions(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_national_headline_figures_match_the_library(app, data):
    from app_pages._state import headline_values

    at = app.run()
    no_exceptions(at)
    assert metrics(at) == headline_values(expected(data, fund_usd=1.895e9))
    # and the hand-derived ones
    assert metrics(at)["Demand"] == "$3.00B"
    assert metrics(at)["Allocated"] == "$1.90B"
    assert metrics(at)["Pro-rata factor"] == "63.2%"
    assert at.sidebar.radio(key="fund_choice").value == PRESET_2020


def test_changing_the_fund_changes_the_headline_figures(app, data):
    from app_pages._state import headline_values

    at = app.run()
    before = metrics(at)
    at.sidebar.radio(key="fund_choice").set_value(PRESET_FULL).run()
    no_exceptions(at)
    after = metrics(at)
    assert after == headline_values(expected(data, fund_usd=4.98e9))
    assert after["Allocated"] == "$3.00B" and after["Pro-rata factor"] == "100.0%"  # full funding pays all demand
    assert after["Left without service"] != before["Left without service"]

    at.sidebar.radio(key="fund_choice").set_value(CUSTOM).run()
    at.sidebar.number_input(key="fund_custom_m").set_value(500.0).run()
    no_exceptions(at)
    assert metrics(at)["Allocated"] == "$500.0M"
    assert metrics(at)["Pro-rata factor"] == "16.7%"  # 0.5 / 3


def test_national_screen_charts_have_titles_and_axis_labels_and_the_map_follows_the_month(app, data):
    at = app.run()
    specs = charts(at)
    assert len(specs) == 4  # map, people without service by state, coverage, allocation
    for spec in specs:
        layout = spec["layout"]
        assert layout["title"]["text"]
        assert layout["xaxis"]["title"]["text"] and layout["yaxis"]["title"]["text"]
    assert specs[0]["layout"]["title"]["text"] == "Every site by its state in 2023-07"  # default: the deadline month
    at.select_slider(key="national_month").set_value("2023-01").run()
    map_spec = charts(at)[0]
    assert map_spec["layout"]["title"]["text"] == "Every site by its state in 2023-01"
    # in the first month nothing is finished: all seven sites still run on covered gear (or are being worked on)
    names = {trace.get("name", "") for trace in map_spec["data"]}
    assert "replaced (0)" in names and "shut down (0)" in names


def test_carrier_screen_shows_the_carriers_figures_and_reason(app, data):
    at = app.run()
    at.switch_page("app_pages/carrier.py").run()
    at.selectbox(key="carrier_id").set_value("south").run()
    no_exceptions(at)
    national = planner.plan(data, data.default_scenario.with_overrides(fund_usd=1.895e9))
    row = planner.carriers_table(national).set_index("carrier_id").loc["south"]
    shown = metrics(at)
    assert shown["Demand"] == usd(row["demand_usd"]) == "$1.40B"
    assert shown["Allocation from the fund"] == usd(row["allocation_usd"])
    assert shown["Own funds"] == "$50.0M"
    assert shown["Sites replaced"] == f"{row['sites_replaced']} of 3"
    assert not row["on_time"]  # 63% of the money cannot pay for every site
    assert any(row["reason"] in w.value for w in at.warning)
    for spec in charts(at):
        assert spec["layout"]["title"]["text"].startswith("south")


def test_carrier_replan_with_more_own_funds_replaces_every_site(app):
    at = app.run()
    at.switch_page("app_pages/carrier.py").run()
    at.selectbox(key="carrier_id").set_value("south").run()
    before = metrics(at)["Sites replaced"]
    at.number_input(key="own_south").set_value(2000.0)  # USD millions: more than the $1.40B demand
    at.main.button[0].click().run()  # the form's submit button is the only button on the screen
    no_exceptions(at)
    replaced = [m.value for m in at.metric if m.label == "Sites replaced"]
    assert replaced[0] == before != "3 of 3"
    assert replaced[-1] == "3 of 3"
    assert any("re-planned" in spec["layout"]["title"]["text"] for spec in charts(at))


def gantt_spec(at) -> dict:
    return next(
        spec
        for spec in charts(at)
        if str(spec["layout"].get("yaxis", {}).get("categoryarray", [""])[0]).startswith("group:")
    )


def test_carrier_screen_draws_a_schedulers_gantt_collapsed_by_hub_and_kind(app, data):
    """north: n-core (no hub), n-bh under n-core, n-r1 and n-r2 under n-bh: three groups, four sites."""
    at = app.run()
    at.switch_page("app_pages/carrier.py").run()
    at.selectbox(key="carrier_id").set_value("north").run()
    no_exceptions(at)
    layout = gantt_spec(at)["layout"]
    assert layout["yaxis"]["categoryarray"] == ["group:core (no hub)", "group:n-core · backhaul", "group:n-bh · ran"]
    assert layout["xaxis"]["side"] == "top"
    assert layout["height"] < 400  # three rows, not one per site
    at.multiselect(key="expanded_north").set_value(["n-bh · ran"]).run()
    assert gantt_spec(at)["layout"]["yaxis"]["categoryarray"][-2:] == ["site:n-r1", "site:n-r2"]


def test_carrier_replan_is_drawn_over_the_baseline_in_one_gantt(app):
    at = app.run()
    at.switch_page("app_pages/carrier.py").run()
    at.selectbox(key="carrier_id").set_value("south").run()
    at.number_input(key="own_south").set_value(2000.0)
    at.main.button[0].click().run()
    no_exceptions(at)
    gantts = [
        s for s in charts(at) if str(s["layout"].get("yaxis", {}).get("categoryarray", [""])[0]).startswith("group:")
    ]
    assert len(gantts) == 1  # one chart: the re-plan over its baseline, not a second Gantt
    names = {trace.get("name") for trace in gantts[0]["data"]}
    assert "baseline (before the re-plan)" in names
    assert "re-planned against the baseline" in gantts[0]["layout"]["title"]["text"]


def test_carrier_screen_computes_the_least_money_to_be_on_time(app, data):
    """south is short of money only: the least money is its shortfall, demand - allocation - own funds."""
    at = app.run()
    at.switch_page("app_pages/carrier.py").run()
    at.selectbox(key="carrier_id").set_value("south").run()
    at.button(key="least_south").click().run()
    no_exceptions(at)
    national = planner.plan(data, data.default_scenario.with_overrides(fund_usd=1.895e9))
    row = planner.carriers_table(national).set_index("carrier_id").loc["south"]
    shortfall = row["demand_usd"] - row["allocation_usd"] - row["own_funds_usd"]
    assert metrics(at)["Least money"] == f"+{usd(shortfall)}"
    assert any(s["layout"]["title"]["text"] == "south: re-plans tried for each lever" for s in charts(at))


def test_compare_screen_puts_the_four_rules_side_by_side(app, data):
    at = app.run()
    at.switch_page("app_pages/compare.py").run()
    at.button(key="compare_solve").click().run()
    no_exceptions(at)
    table = at.dataframe[0].value
    labels = {"pro_rata": "pro rata", "priority": "priority tiers", "optimal": "optimal", "greedy": "greedy"}
    assert list(table.columns) == list(labels.values())
    assert not at.main.info and not at.main.button  # the "not solved yet" notice is gone once they are solved
    objectives = {}
    for rule in ("pro_rata", "priority", "optimal", "greedy"):
        summary = expected(data, fund_usd=1.895e9, rule=rule)
        assert table.loc["Allocated", labels[rule]] == usd(summary["allocated_usd"])
        assert table.loc["Sites replaced", labels[rule]] == f"{summary['sites_replaced']} of 7"
        objectives[rule] = float(table.loc["Objective (lower is better)", labels[rule]].replace(",", ""))
    assert objectives["optimal"] <= objectives["pro_rata"]
    allocation = at.dataframe[1].value
    assert set(allocation["carrier_id"]) == {"north", "south"}


def test_data_screen_shows_the_dataset_tables(app, data):
    at = app.run()
    at.switch_page("app_pages/data.py").run()
    no_exceptions(at)
    tables = [frame.value for frame in at.dataframe]
    assert [len(t) for t in tables[:3]] == [2, 4, 7]  # carriers, crew pools, sites
    assert list(tables[2]["site_id"]) == [s.site_id for s in data.sites]
    scenario = dict(zip(tables[3]["setting"], tables[3]["value"], strict=True))  # the dataset's own scenario
    assert scenario["Fund"] == "$1,895,000,000" and scenario["Deadline"] == "6 months (2023-07)"


def test_a_bad_upload_shows_every_problem_in_a_table(app, data):
    texts = dataset_tables(data)
    sites = texts["sites.csv"].replace("s-r2,south,ran", "s-r2,nowhere,ran").replace(",3000,300000000,", ",3000,-5,")
    at = app.run()
    at.switch_page("app_pages/data.py").run()
    at.file_uploader(key="upload").set_value(
        [
            ("carriers.csv", texts["carriers.csv"].encode(), "text/csv"),
            ("crews.csv", texts["crews.csv"].encode(), "text/csv"),
            ("sites.csv", sites.encode(), "text/csv"),
        ]
    ).run()
    no_exceptions(at)
    assert at.error and "cannot be used" in at.error[0].value
    problems = at.dataframe[-1].value
    assert list(problems.columns) == ["file", "row", "id", "column", "rule", "value", "message", "severity"]
    line = {s.site_id: 2 + index for index, s in enumerate(data.sites)}  # the header is line 1
    located = set(zip(problems["file"], problems["row"], problems["column"], strict=True))
    named = set(zip(problems["row"], problems["id"], strict=True))
    assert (line["s-r2"], "s-r2") in named and (line["n-r2"], "n-r2") in named  # the site each problem is in
    assert ("sites.csv", line["s-r2"], "carrier_id") in located  # unknown carrier
    assert ("sites.csv", line["n-r2"], "cost_usd") in located  # negative cost


def test_a_zip_that_is_not_a_dataset_is_reported_not_crashed(app):
    archive = BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("notes.txt", "hello")
    at = app.run()
    at.switch_page("app_pages/data.py").run()
    at.file_uploader(key="upload").set_value(("dataset.zip", archive.getvalue(), "application/zip")).run()
    no_exceptions(at)
    assert at.error
    assert len(at.dataframe[-1].value) >= 1


def test_a_good_upload_can_be_used_in_every_screen(app, data):
    texts = dataset_tables(data)
    smaller = texts["sites.csv"].replace("s-r2,south,ran,s-r2", "s-r2,south,ran,Mesa tower two")
    at = app.run()
    at.switch_page("app_pages/data.py").run()
    at.file_uploader(key="upload").set_value(
        [
            ("carriers.csv", texts["carriers.csv"].encode(), "text/csv"),
            ("crews.csv", texts["crews.csv"].encode(), "text/csv"),
            ("sites.csv", smaller.encode(), "text/csv"),
        ]
    ).run()
    no_exceptions(at)
    assert at.success and "valid" in at.success[0].value
    at.button(key="use_upload").click().run()
    no_exceptions(at)
    assert any("Dataset: **upload**" in c.value for c in at.sidebar.caption)
    at.switch_page("app_pages/national.py").run()
    no_exceptions(at)
    assert metrics(at)["Demand"] == "$3.00B"


def test_a_broken_dataset_folder_shows_its_problems_instead_of_a_traceback(tmp_path, monkeypatch, data):
    texts = dataset_tables(data)
    for name, text in texts.items():
        (tmp_path / name).write_text(text.replace("north,tower,1,0", "north,tower,-1,0"), encoding="utf-8")
    monkeypatch.setenv("RRPLAN_DATASET", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()
    no_exceptions(at)
    assert at.error and "cannot be used" in at.error[0].value
    assert (at.dataframe[0].value["file"] == "crews.csv").any()


def test_a_repeat_of_the_same_inputs_is_served_from_the_cache(app):
    from app_pages._state import plan_store

    at = app.run()
    solved = len(plan_store())
    at.run()
    at.switch_page("app_pages/carrier.py").run()
    no_exceptions(at)
    assert len(plan_store()) == solved  # no new solve for the same dataset and scenario


@pytest.mark.slow
def test_the_embedded_dataset_national_screen_cold_and_cached(monkeypatch):
    """The default dataset (program126, the program's size): its figures are the planner's, and a repeat is served
    from the cache, not solved again (the time it takes is benchmarked, not tested)."""
    from app_pages._state import DEFAULT_DATASET, headline_values, plan_key, plan_store

    monkeypatch.delenv("RRPLAN_DATASET", raising=False)
    assert DEFAULT_DATASET.name == "program126"
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    no_exceptions(at)
    solved = len(plan_store())
    at.run()
    assert len(plan_store()) == solved  # the repeat is the cached plan
    data = planner.read_dataset(DEFAULT_DATASET)
    views = plan_store().get(plan_key(data, at.session_state["scenario"]))
    assert metrics(at) == headline_values(views.summary)
    assert metrics(at)["Sites replaced"].endswith(f"of {len(data.sites):,}")


def test_national_screen_offers_every_report_format(app):
    """Reviewers can download the plan as PDF, Excel and an offline web page from the national screen."""
    at = app.run()
    no_exceptions(at)
    buttons = at.get("download_button")
    labels = [b.proto.label for b in buttons]
    assert labels[:3] == ["PDF report", "Excel workbook", "Web page (offline)"]


@pytest.mark.parametrize("fund, shown", [(15_000_000, "$15.0M"), (12_500_000, "$12.5M")])
def test_an_upload_with_its_own_scenario_is_planned_with_that_scenario(app, data, fund, shown):
    """The upload's scenario.toml says $15M (or $12.5M, between the control's steps): the sidebar starts from it
    and the plan allocates exactly that, not $1.895B."""
    texts = dataset_tables(data)
    scenario_text = f'fund_usd = {fund}\nrule = "pro_rata"\nstart = "2023-01"\nhorizon = 18\ndeadline = 6\n'
    archive = BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, text in texts.items():
            zipped.writestr(name, text)
        zipped.writestr("scenario.toml", scenario_text)
    at = app.run()
    at.switch_page("app_pages/data.py").run()
    at.file_uploader(key="upload").set_value(("own.zip", archive.getvalue(), "application/zip")).run()
    no_exceptions(at)
    assert any(f"${fund:,}" in str(frame.value.to_dict()) for frame in at.dataframe)  # the upload's scenario, shown
    at.button(key="use_upload").click().run()
    at.switch_page("app_pages/national.py").run()
    no_exceptions(at)
    assert metrics(at)["Allocated"] == shown
    assert at.session_state["scenario"].fund_usd == fund


def test_the_excel_template_uploads_and_is_used_with_its_own_scenario(app):
    """Template workbook -> Data screen -> every screen: the same dataset as the template's CSV files."""
    from planner.inputs.template import TEMPLATE_FOLDER, template_workbook_bytes

    csvs = planner.read_dataset(TEMPLATE_FOLDER)
    at = app.run()
    at.switch_page("app_pages/data.py").run()
    at.file_uploader(key="upload").set_value(
        ("rrplan-template.xlsx", template_workbook_bytes(), "application/octet-stream")
    ).run()
    no_exceptions(at)
    assert at.success and f"{len(csvs.sites):,} sites" in at.success[0].value
    at.button(key="use_upload").click().run()
    at.switch_page("app_pages/national.py").run()
    no_exceptions(at)
    assert any("Dataset: **rrplan-template**" in c.value for c in at.sidebar.caption)
    assert metrics(at)["Demand"] == usd(csvs.total_demand_usd)
    assert at.session_state["scenario"].fund_usd == csvs.default_scenario.fund_usd == 1_000_000


# ---------------------------------------------------------------- issue 13: one answer, plain figures, memo-ready


def test_compare_shows_the_sidebars_plan_for_the_sidebars_rule(app, data):
    """One scenario, one plan: Compare's column for the sidebar's rule is the plan National shows, from the cache."""
    from app_pages._state import plan_store

    plan_store.clear()
    at = app.run()  # pro rata
    at.sidebar.selectbox(key="rule").set_value("optimal").run()
    national = metrics(at)
    solved = len(plan_store())
    at.switch_page("app_pages/compare.py").run()
    at.button(key="compare_solve").click().run()
    no_exceptions(at)
    assert solved == 2 and len(plan_store()) == 4  # only priority and greedy are new: the others are the sidebar's
    table = at.dataframe[0].value
    for label, value in national.items():
        assert table.loc[label, "optimal"] == value, label


def test_headline_figures_say_which_way_is_better_in_a_tooltip(app, data):
    """No exposure headline (it improves when money shrinks); every metric explains itself.

    At $1.895B pro rata (63.2% of demand) north gets $1.137B for core $600M + backhaul $300M and one tower:
    n-r1 ($400M) does not fit, n-r2 ($300M) does not either ($1.137B - $900M = $237M); south gets $948M,
    core $500M and s-r2 ($300M, 2,000 people) but not s-r1 ($600M). Kept connected: 100 + 2,000 people
    on replaced sites (n-core, s-core serve nobody)."""
    at = app.run()
    shown = {m.label: m for m in at.metric}
    assert not any("covered gear" in label and "Months" not in label for label in shown)
    assert all(m.help for m in shown.values())
    summary = expected(data, fund_usd=1.895e9)
    assert summary["population_kept_connected"] + summary["population_left_without_service"] == 18_100
    assert shown["People connected"].value == f"{summary['population_kept_connected']:,}" == "2,100"
    assert "More is better" in shown["People connected"].help
    assert "Fewer is better" in shown["Left without service"].help


def test_the_headline_grid_wraps_four_a_row_on_a_screen_and_two_on_a_phone(app):
    """The metrics sit in one wrapping row container of a fixed width: 4 fit a row of it, 5 do not; and
    two fit a phone's page (about 360 px), where st.columns would have stacked them one per row."""
    from app_pages._state import GRID_WIDTH_PX, METRIC_GAP_PX, METRIC_WIDTH_PX, METRICS_PER_ROW

    at = app.run()
    grids = [b for b in at.main.children.values() if b.type == "flex_container" and b.get("metric")]
    assert len(grids) == 1 and len(grids[0].get("metric")) == len(at.metric) == 10
    flex = grids[0].proto.flex_container
    assert flex.direction == flex.HORIZONTAL and flex.wrap
    assert grids[0].proto.width_config.pixel_width == GRID_WIDTH_PX
    row = lambda n: n * METRIC_WIDTH_PX + (n - 1) * METRIC_GAP_PX
    assert row(METRICS_PER_ROW) <= GRID_WIDTH_PX < row(METRICS_PER_ROW + 1)
    assert row(2) <= 360


def test_a_fallback_to_pro_rata_is_a_warning_on_screen():
    from app_pages import _state

    def screen():
        from app_pages import _state

        _state.plan_notes(
            {
                "kept_pro_rata_allocation": True,
                "notes": [
                    "the optimiser's allocation scored no better than pro-rata, so the pro-rata allocation is kept"
                ],
            }
        )

    at = AppTest.from_function(screen).run()
    assert len(at.warning) == 1 and "kept the pro-rata allocation" in at.warning[0].value
    assert not at.info and not at.caption  # said once, as a warning, not as a grey note
    assert _state.FALLBACK_NOTE in "so the pro-rata allocation is kept"


def test_every_national_chart_and_table_downloads_with_a_caption(app, data):
    at = app.run()
    no_exceptions(at)
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels.count("Chart data (CSV)") == 4 and labels.count("Chart (web page, offline)") == 4
    assert labels.count("Table (CSV)") == 1 and labels.count("Table (Excel)") == 1
    assert labels.count("Chart data (Excel)") == 4
    if image_browser() is not None:  # PNG and SVG when kaleido finds a Chromium (CI installs one)
        assert labels.count("Chart (PNG)") == 4 and labels.count("Chart (SVG)") == 4
    captions = [
        c.value
        for c in at.caption
        if c.value.startswith(("Every site", "People without service", "People served", "Demand", "Carriers"))
    ]
    assert len(captions) == 5
    for caption in captions:
        assert "Scenario: $1.895B / pro rata / deadline 2023-07" in caption
        assert f"sha256 {data.sha256[:12]}" in caption and "Plan solved at 20" in caption
    names = (
        [b.proto.file_name for b in at.get("download_button")]
        if hasattr(at.get("download_button")[0].proto, "file_name")
        else []
    )
    reports = [n for n in names if n.startswith("plan-")]
    assert not names or reports and all(n.startswith(f"plan-{data.sha256[:12]}-20") for n in reports)


def test_a_table_as_a_workbook_keeps_its_caption_and_its_numbers():
    """The Excel download of any table: the caption across the top, readable headers, dollars, people and months
    as numbers and dates a spreadsheet sorts, and text that looks like a formula kept as text."""
    from datetime import datetime

    from openpyxl import load_workbook

    from planner.present.documents.xlsx import table_workbook_bytes

    table = pd.DataFrame(
        {
            "carrier_id": ["c01", "=HYPERLINK(1)"],
            "allocation_usd": [1_895_000_000.0, 12.5],
            "population_left_without_service": [1200, 0],
            "finish_month": ["2023-07", ""],
            "on_time": [True, False],
            "gap": [0.0087, 0.5],
        }
    )
    caption = "Demand and allocation by carrier (USD). Scenario: $1.895B / pro rata. Source: rrplan."
    data = table_workbook_bytes(table, caption, title="national/allocation?")
    assert data == table_workbook_bytes(table, caption, title="national/allocation?")  # reproducible
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.title == "national allocation " and sheet["A1"].value == caption
    headers = [cell.value for cell in sheet[3]]
    assert headers[:3] == ["Carrier id", "Allocation (USD)", "Population left without service"]
    assert headers[3:] == ["Finish month", "On time", "Gap"]
    assert sheet["B4"].value == 1_895_000_000 and sheet["B4"].number_format == '"$"#,##0'
    assert sheet["C4"].value == 1200 and sheet["C4"].number_format == "#,##0"
    assert sheet["D4"].value == datetime(2023, 7, 1) and sheet["D5"].value is None
    assert sheet["E4"].value is True and sheet["F4"].value == 0.0087
    assert sheet["A5"].value == "=HYPERLINK(1)" and sheet["A5"].data_type == "s"
    assert sheet.freeze_panes == "A4" and sheet.auto_filter.ref == "A3:F5"

    other = pd.DataFrame(
        {"allocation_usd_change": [-5.0, 7.0], "Gap": [0.0008, None], "People": pd.Series([3, 4], dtype=object)}
    )
    sheet = load_workbook(io.BytesIO(table_workbook_bytes(other, "Runs"))).active
    assert sheet["A4"].number_format == '"$"#,##0' and sheet["B4"].number_format == "0.00%"
    assert sheet["C4"].value == 3 and sheet["C4"].number_format == "#,##0"  # numbers held as objects stay numbers
    empty = load_workbook(io.BytesIO(table_workbook_bytes(pd.DataFrame(), "Nothing to show"))).active
    assert empty["A1"].value == "Nothing to show"


def test_chart_downloads_carry_their_caption_and_open_offline(data):
    import plotly.graph_objects as go

    from app_pages import _state

    table = planner.carriers_table(planner.plan(data, data.default_scenario))
    caption = "Allocation. Scenario: x. Source: rrplan, dataset d (sha256 abc). Plan solved at 2026-12-03T10:00:00Z."
    text = _state.csv_bytes(table[["carrier_id", "allocation_usd"]], caption).decode()
    assert text.splitlines()[0] == "# " + caption
    import pandas as pd

    back = pd.read_csv(io.StringIO(text), comment="#")
    assert list(back["carrier_id"]) == ["north", "south"]
    page = _state.figure_html(go.Figure(go.Bar(x=[1], y=[2])), caption).decode()
    assert "Plan solved at 2026-12-03T10:00:00Z" in page and "<script" in page and 'src="http' not in page


def test_the_fund_is_said_to_the_dollar_on_the_national_screen(app):
    at = app.run()
    assert "$1,895,000,000" in at.markdown[0].value


def test_saved_runs_are_named_formatted_and_reopen_their_scenario(app):
    from app_pages._state import plan_store

    plan_store.clear()  # solve afresh, so that this test's run store records the plans
    at = app.run()  # the national plan ($1.895B pro rata) is recorded in the run store
    at.sidebar.radio(key="fund_choice").set_value(PRESET_FULL).run()  # and a $4.98B one
    at.switch_page("app_pages/runs.py").run()
    no_exceptions(at)
    runs = at.dataframe[0].value
    assert list(runs["Name"])[:2] == ["$4.98B / pro rata / deadline 2023-07", "$1.895B / pro rata / deadline 2023-07"]
    assert list(runs["Fund"])[:2] == ["$4.98B", "$1.895B"]
    assert "fund_usd" not in runs.columns and "Carriers done by the deadline" in runs.columns
    reopen = at.selectbox(key="reopen_run")
    reopen.set_value(int(runs["Run"].iloc[1])).run()  # the $1.895B run
    at.button(key="reopen_button").click().run()
    no_exceptions(at)
    assert at.sidebar.radio(key="fund_choice").value == PRESET_2020
    assert at.title[0].value == "National picture"
    assert metrics(at)["Allocated"] == "$1.90B"
    assert not [w for w in at.warning if "Session State" in w.value]  # set quietly, not with Streamlit's warning


def test_a_sweep_takes_a_free_list_of_funds_and_keeps_coinciding_curves_visible(app):
    at = app.run()
    at.switch_page("app_pages/runs.py").run()
    at.text_input(key="sweep_funds").set_value("1.895, 4.98")
    at.multiselect(key="sweep_rules").set_value(["pro_rata", "greedy"])
    at.button[0].click().run()  # the form's submit button
    no_exceptions(at)
    curve = at.session_state["sweep_curve"]
    assert sorted(set(curve["fund_usd"])) == [1.895e9, 4.98e9]
    spec = next(s for s in charts(at) if "by fund size" in s["layout"]["title"]["text"])
    styles = {(t["line"]["dash"], t["marker"]["symbol"]) for t in spec["data"]}
    assert len(spec["data"]) == 2 and len(styles) == 2  # two rules, two looks, even where the lines coincide
    assert "$4.98B" in " ".join(c.value for c in at.caption) or "4.98" in " ".join(c.value for c in at.caption)

    at.radio(key="curve_source").set_value("store").run()  # the same points, read back from the run store
    no_exceptions(at)
    spec = next(s for s in charts(at) if "by fund size" in s["layout"]["title"]["text"])
    assert sorted(t["name"] for t in spec["data"]) == ["greedy", "pro_rata"]
    assert all(sorted(plotly_values(t["x"])) == [1.895e9, 4.98e9] for t in spec["data"])


def test_a_solver_worker_importing_the_app_does_not_run_it(monkeypatch):
    """Worker processes (forkserver/spawn) import the parent's main script as __mp_main__; the app must not
    run there (it flooded the server log with "missing ScriptRunContext" and re-read the dataset per worker)."""
    import runpy

    import streamlit

    calls = []
    monkeypatch.setattr(streamlit, "set_page_config", lambda *a, **k: calls.append("set_page_config"))
    monkeypatch.setattr(streamlit, "navigation", lambda *a, **k: calls.append("navigation"))
    runpy.run_path(APP, run_name="__mp_main__")
    assert calls == []


def test_a_click_on_a_site_a_bar_or_a_row_names_its_carrier():
    """What the charts and the carriers table hand back when clicked, and the carrier each one means."""
    from app_pages._state import carrier_in_selection

    map_point = {"points": [{"curve_number": 5, "customdata": ["s-17", "north", "ran", 120]}], "rows": []}
    bar = {"points": [{"curve_number": 1, "customdata": "south", "x": 1e6}]}
    rows = pd.DataFrame({"carrier_id": ["north", "south"], "name": ["N", "S"]})
    assert carrier_in_selection(map_point) == "north"
    assert carrier_in_selection(bar) == "south"
    assert carrier_in_selection({"rows": [1], "columns": []}, rows) == "south"
    assert carrier_in_selection({"points": [], "rows": []}, rows) is None
    assert carrier_in_selection(None) is None


def test_pinned_scenarios_side_by_side_with_their_changes(app, data):
    """Two scenarios pinned from the sidebar: the Scenarios screen shows both, their figures the library's, and the
    second's change against the first, once it is asked to solve what is not solved yet."""
    at = app.run()
    at.sidebar.text_input(key="pin_label").input("2020 appropriation")
    at.sidebar.button(key="pin_go").click().run()
    at.sidebar.radio(key="fund_choice").set_value(PRESET_FULL).run()
    at.sidebar.text_input(key="pin_label").input("full funding")
    at.sidebar.button(key="pin_go").click().run()
    assert list(at.session_state["pinned_scenarios"]) == ["2020 appropriation", "full funding"]
    at.switch_page("app_pages/scenarios.py").run()
    no_exceptions(at)
    if "scenarios_solve" in [button.key for button in at.button]:  # both were solved on the national screen
        at.button(key="scenarios_solve").click().run()
    no_exceptions(at)
    grid = at.dataframe[-1].value.set_index("figure")
    appropriation = expected(data, fund_usd=1.895e9)
    full = expected(data, fund_usd=4.98e9)
    dark = "People left without service"
    assert grid.loc[dark, "2020 appropriation"] == f"{appropriation['population_left_without_service']:,}"
    assert grid.loc[dark, "full funding"] == f"{full['population_left_without_service']:,}"
    change = full["population_left_without_service"] - appropriation["population_left_without_service"]
    assert grid.loc[dark, "full funding - 2020 appropriation"] == (f"+{change:,}" if change > 0 else f"{change:,}")
    assert grid.loc[dark, "better"] == "fewer"


def test_a_cancelled_solve_keeps_nothing_and_is_offered_again(app, data):
    """After this session cancels (the Cancel button's callback records it before the rerun), the page says so with
    no figures and offers to solve again; the plan then solved is the library's."""
    from app_pages._state import CANCELLED_KEY, headline_values, plan_key, plan_store, widget_key

    at = app.run()
    key = plan_key(data, at.session_state["scenario"])
    plan_store()._plans.pop(key, None)  # not solved yet, as when Cancel was pressed
    at.session_state[CANCELLED_KEY] = {key}
    at.run()
    no_exceptions(at)
    assert not at.metric
    assert any("You cancelled the solve" in info.value for info in at.info)
    at.button(key=widget_key("resolve", key)).click().run()  # Solve again
    no_exceptions(at)
    assert not at.session_state[CANCELLED_KEY]
    assert metrics(at) == headline_values(expected(data, fund_usd=1.895e9))


def test_a_background_solve_can_be_cancelled_while_it_waits_and_started_again(data):
    """The store's background job: cancelled while another solve holds the CPUs, it ends with `Cancelled` at once
    and nothing is kept; asked again, a new job solves the same plan as the library, and once the plan is stored
    a third request is answered from the store without a solve."""
    from app_pages._state import PlanStore, plan_key

    store = PlanStore()
    scenario = data.default_scenario.with_overrides(fund_usd=2.5e9)
    key = plan_key(data, scenario)
    with store._solving:  # another user's solve runs: this job computes its preview and waits
        job = store.solve_job(key, "the test plan", data, scenario, "tab-1")
        while not job.progress["waiting"]:
            time.sleep(0.01)
        assert job.preview is not None and job.preview.plan.status == "heuristic"
        store.cancel(job, "tab-1")
        assert job.finished.wait(TIMEOUT_S)  # without waiting for the other solve to end
    assert isinstance(job.error, planner.Cancelled) and job.result is None and key not in store
    assert job.preview is None  # dropped once the solve ended

    again = store.solve_job(key, "the test plan", data, scenario, "tab-1")
    assert again is not job and again.finished.wait(TIMEOUT_S) and again.error is None
    assert store.get(key) is again.result
    alone = planner.plan(data, scenario)
    assert again.result.plan.starts == alone.starts and again.result.plan.objective == alone.objective
    stored = store.solve_job(key, "the test plan", data, scenario, "tab-2")
    assert stored.finished.is_set() and stored.result is again.result


def test_one_sessions_cancel_does_not_stop_a_solve_another_session_waits_for(data):
    """Two browser tabs wait for one solve; the first cancels: the solve goes on for the second, and stops only
    when the second cancels too."""
    from app_pages._state import PlanStore, plan_key

    store = PlanStore()
    scenario = data.default_scenario.with_overrides(fund_usd=2.25e9)
    key = plan_key(data, scenario)
    with store._solving:
        first = store.solve_job(key, "the plan", data, scenario, "tab-1")
        second = store.solve_job(key, "the plan", data, scenario, "tab-2")
        assert first is second
        store.cancel(first, "tab-1")
        assert not first.cancel.is_set()
        store.cancel(second, "tab-2")
        assert first.cancel.is_set() and first.finished.wait(TIMEOUT_S)
    assert isinstance(first.error, planner.Cancelled)


def test_a_failed_solve_is_kept_until_asked_again(data, monkeypatch):
    """A solve that fails is not started again by every rerun: the same failed job comes back until `again`."""
    from app_pages._state import PlanStore, plan_key

    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        raise planner.NotSolved("HiGHS found no plan")

    monkeypatch.setattr(planner, "plan", failing)
    store = PlanStore()
    scenario = data.default_scenario.with_overrides(fund_usd=2.1e9)
    key = plan_key(data, scenario)
    job = store.solve_job(key, "the plan", data, scenario, "tab-1")
    assert job.finished.wait(TIMEOUT_S) and isinstance(job.error, planner.NotSolved)
    assert store.solve_job(key, "the plan", data, scenario, "tab-1") is job and len(calls) == 1
    retried = store.solve_job(key, "the plan", data, scenario, "tab-1", again=True)
    assert retried is not job and retried.finished.wait(TIMEOUT_S) and len(calls) == 2
