"""planner.present.plots: site states by hand, every figure titled and labelled, maps that never need the network."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import pandas as pd
import pytest

import planner
from planner.present import plots
from planner.present.images import caption_lines, figure_image, image_browser
from tests.conftest import dataset, scenario, site


@pytest.fixture(scope="module")
def tiny_plan():
    """Two carriers, $30 for $40 of demand: pro rata gives each $15, enough for one $10 site each."""
    sites = [
        site("a-1", "a", population=100, cost=10, duration=2),
        site("a-2", "a", population=50, cost=10, duration=1, after=["a-1"]),
        site("b-1", "b", population=70, cost=10, duration=1),
        site("b-2", "b", population=30, cost=10, duration=1, after=["b-1"]),
    ]
    sites = [replace(s, lat=40.0 + i, lon=-100.0 - i) for i, s in enumerate(sites)]
    data = dataset(sites)
    return planner.plan(data, scenario(fund_usd=30, horizon=6, deadline=3))


def test_site_states_follow_the_report_definitions():
    """start 1, duration 2: covered in 0, in work in 1-2, replaced from 3.

    Never started: shut down from the deadline."""
    schedule = pd.DataFrame(
        {
            "start": pd.array([1, None], dtype="Int64"),
            "finish": pd.array([3, None], dtype="Int64"),
            "replaced": [True, False],
        }
    )
    by_period = [list(plots.site_states(schedule, t, deadline=2)) for t in range(4)]
    assert by_period == [
        [plots.COVERED, plots.COVERED],
        [plots.IN_WORK, plots.COVERED],
        [plots.IN_WORK, plots.SHUT_DOWN],
        [plots.REPLACED, plots.SHUT_DOWN],
    ]


def all_figures(plan):
    schedule, carriers, monthly = (
        planner.schedule_table(plan),
        planner.carriers_table(plan),
        planner.monthly_table(plan),
    )
    return {
        "coverage": plots.coverage_over_time(monthly, "2022-08"),
        "spend": plots.spend_over_time(monthly, 30.0),
        "cumulative": plots.cumulative_spend(monthly, 30.0),
        "allocation": plots.allocation_by_carrier(carriers),
        "rules": plots.allocation_by_rule(
            carriers[["carrier_id", "allocation_usd"]].rename(columns={"allocation_usd": "pro_rata"})
        ),
        "timeline": plots.timeline(schedule, deadline_month="2022-08"),
        "crews": plots.crews_over_time(monthly),
        "map": plots.site_map(schedule, 3, plan.scenario.effective_deadline, "2022-08"),
    }


def test_every_figure_has_a_title_and_axis_labels(tiny_plan):
    for name, figure in all_figures(tiny_plan).items():
        layout = figure.to_plotly_json()["layout"]
        assert layout["title"]["text"], name
        x_titles = [v["title"]["text"] for k, v in layout.items() if k.startswith("xaxis") and v.get("title")]
        y_titles = [v["title"]["text"] for k, v in layout.items() if k.startswith("yaxis") and v.get("title")]
        assert any(x_titles) and any(y_titles), name


def test_the_map_counts_sites_by_state_and_needs_no_network(tiny_plan):
    figure = plots.site_map(planner.schedule_table(tiny_plan), 3, tiny_plan.scenario.effective_deadline, "2022-08")
    spec = json.loads(figure.to_json())
    # plotly.js fetches topojson from a CDN for geo subplots: the map must not use one
    assert "geo" not in spec["layout"]
    assert all(trace.get("type", "scatter") == "scatter" for trace in spec["data"])
    counts = {t["name"].rsplit(" (", 1)[0]: int(t["name"].rsplit("(", 1)[1].rstrip(")")) for t in spec["data"][1:]}
    assert sum(counts.values()) == 4
    assert len(tiny_plan.starts) == 2
    assert counts[plots.SHUT_DOWN] == 2  # month 3 is the deadline: the two unfunded sites are switched off
    colours = {t["name"].rsplit(" (", 1)[0]: t["marker"]["color"] for t in spec["data"][1:]}
    assert colours == plots.STATE_COLOURS
    assert len(plots.state_outlines()[0]) > 1000  # the shipped outlines were read


def test_timeline_colours_bars_by_kind(tiny_plan):
    figure = plots.timeline(planner.schedule_table(tiny_plan))
    assert {trace.name: trace.marker.color for trace in figure.data} == {"ran": plots.KIND_COLOURS["ran"]}
    assert sum(len(trace.y) for trace in figure.data) == len(tiny_plan.starts)


def test_a_chart_as_png_and_svg_carries_its_caption_and_needs_no_network(tiny_plan):
    """Memo-ready images: drawn by kaleido in the machine's Chromium (CI installs Debian's), caption under the plot."""
    if image_browser() is None:
        assert not os.environ.get("CI"), "CI installs Chromium: image export must work there"
        pytest.skip("no Chrome or Chromium on this machine")
    figure = plots.coverage_over_time(planner.monthly_table(tiny_plan), "2023-07", title="People by gear")
    caption = "People by gear. Scenario: $1.895B / pro rata. Source: rrplan, dataset tiny. Plan solved at 2026-12-06."
    png = figure_image(figure, "png", caption)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    svg = figure_image(figure, "svg", caption).decode()
    assert svg.lstrip().startswith("<svg") and "Plan solved at 2026-12-06." in svg
    assert "https://" not in svg.replace("http://www.w3.org", "")  # nothing refers to the web
    with pytest.raises(ValueError, match="image format"):
        figure_image(figure, "gif")


def test_long_captions_wrap_at_word_boundaries():
    lines = caption_lines("one two three four five six seven", width_px=14 * 7)
    assert lines == ["one two three", "four five six", "seven"]


def test_the_map_plays_through_every_month_in_the_browser(tiny_plan):
    """One frame per month: the sites recoloured by their state then, the legend recounted, the title renamed."""
    schedule = planner.schedule_table(tiny_plan)
    deadline = tiny_plan.scenario.effective_deadline
    months = [tiny_plan.scenario.month_label(t) for t in range(6)]
    figure = plots.site_map(schedule, 3, deadline, months[3], title=f"Sites in {months[3]}", months=months)
    spec = json.loads(figure.to_json())
    assert [frame["name"] for frame in spec["frames"]] == months
    assert spec["layout"]["sliders"][0]["active"] == 3
    assert [b["label"] for b in spec["layout"]["updatemenus"][0]["buttons"]] == ["Play", "Pause"]
    code_of = {state: code + 0.5 for code, state in enumerate(plots.SITE_STATES)}
    for period, frame in enumerate(spec["frames"]):
        states = plots.site_states(schedule, period, deadline)
        assert list(figure.frames[period].data[-1].marker.color) == [code_of[s] for s in states]
        counts = {d["name"].rsplit(" (", 1)[0]: int(d["name"].rsplit("(", 1)[1].rstrip(")")) for d in frame["data"][:4]}
        assert counts == {s: int((states == s).sum()) for s in plots.SITE_STATES}
        assert frame["layout"]["title"]["text"] == f"Sites in {months[period]}"
    # month 0: the funded a-1 and b-1 start at once (in work), the other two still run on covered gear
    assert plots.site_states(schedule, 0, deadline).tolist() == [plots.IN_WORK, plots.COVERED] * 2


def test_people_without_service_by_state_by_hand(tiny_plan):
    """Carriers in Texas; b-2 sits in a county of Nebraska (31...), a-2 has no county (its carrier's Texas).

    Before the deadline (month 3) nobody is dark; from it a-2 (50 people) and b-2 (30), never replaced, are.
    """
    plan = replace(
        tiny_plan,
        dataset=replace(
            tiny_plan.dataset,
            sites=tuple(replace(s, county_fips="31005") if s.site_id == "b-2" else s for s in tiny_plan.dataset.sites),
        ),
    )
    early = planner.without_service_by_state(plan, 2).set_index("state")
    assert early["people_without_service"].sum() == 0 and early.loc["Texas", "sites"] == 3
    late = planner.without_service_by_state(plan, 3).set_index("state")
    assert late.loc["Texas", ["people_without_service", "sites_shut_down", "sites"]].tolist() == [50, 1, 3]
    assert late.loc["Nebraska", ["people_without_service", "sites_shut_down", "sites"]].tolist() == [30, 1, 1]
    kept = replace(plan, scenario=replace(plan.scenario, missed_deadline="keep_running"))
    assert planner.without_service_by_state(kept, 5)["people_without_service"].sum() == 0  # late, not dark
    figure = plots.without_service_map(planner.without_service_by_state(plan, 3), "2022-08")
    spec = json.loads(figure.to_json())
    assert "geo" not in spec["layout"]  # offline: the shipped outlines, filled
    bands = [t["name"] for t in spec["data"][:5]]
    assert "1-999 people (2 states)" in bands  # Texas (50) and Nebraska (30)
    assert figure.layout.title.text == "People without service by state in 2022-08"
