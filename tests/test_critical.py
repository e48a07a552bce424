"""planner.analysis.critical and plots.schedule_gantt on a hand-made schedule (no solver).

One carrier, start 2023-01, deadline month 4 (2023-05):

    core  d=2  starts 0 -> finishes 2
    bh    d=1  after core, starts 2 -> 3
    r1    d=2  after bh,   starts 3 -> 5   (the last finish, tied with r2; r1 < r2 by id)
    r2    d=1  after bh,   starts 4 -> 5   (waits a month after bh: crews, not the dependency)
    r3    d=1  after core, starts 2 -> 3
    r4    d=1  after bh,   not funded

Critical path: r1 finishes last; its only predecessor is bh, whose only one is core:
core -> bh -> r1. Groups by hub and kind: "core (no hub)" {core}, "core · backhaul" {bh},
"core · ran" {r3}, "bh · ran" {r1, r2, r4}: 4 rows collapsed, 4 + 6 = 10 expanded.
"""

from __future__ import annotations

import pandas as pd
import pytest

import planner
from planner.analysis.critical import critical_path, dependency_table, hubs
from planner.core.schema import Plan
from planner.present import plots
from tests.conftest import dataset, scenario, site

STARTS = {"core": 0, "bh": 2, "r1": 3, "r2": 4, "r3": 2}


@pytest.fixture(scope="module")
def hand_plan() -> Plan:
    sites = [
        site("core", kind="core", duration=2, population=0),
        site("bh", kind="backhaul", duration=1, after=["core"]),
        site("r1", duration=2, after=["bh"], population=100),
        site("r2", duration=1, after=["bh"], population=50),
        site("r3", duration=1, after=["core"], population=30),
        site("r4", duration=1, after=["bh"], population=20),
    ]
    return Plan(
        dataset=dataset(sites),
        scenario=scenario(start="2023-01", deadline=4, horizon=8),
        allocation_usd={"a": 0.0},
        starts=dict(STARTS),
        status="heuristic",
        objective=0.0,
        bound=None,
    )


def gantt(plan: Plan, **options):
    return plots.schedule_gantt(
        planner.schedule_table(plan),
        hubs(plan.dataset),
        dependency_table(plan.dataset),
        deadline_month=plan.scenario.month_label(plan.scenario.effective_deadline),
        first_month=plan.scenario.start,
        last_month=plan.scenario.month_label(plan.scenario.horizon - 1),
        **options,
    )


def test_the_critical_path_follows_the_last_finishing_predecessor_back_from_the_last_finish(hand_plan):
    assert critical_path(hand_plan, "a") == ["core", "bh", "r1"]


def test_the_critical_path_takes_the_predecessor_that_finishes_last():
    """x needs p (finishes 1) and q (finishes 3): q bounds x's start, so the path is q -> x, not p -> x."""
    sites = [site("p", duration=1), site("q", duration=3), site("x", duration=1, after=["p", "q"])]
    plan = Plan(dataset(sites), scenario(), {}, {"p": 0, "q": 0, "x": 3}, "heuristic", 0.0, None)
    assert critical_path(plan, "a") == ["q", "x"]
    assert critical_path(plan, "nobody") == []


def test_hubs_and_dependencies_come_from_depends_on(hand_plan):
    assert hubs(hand_plan.dataset) == {"core": None, "bh": "core", "r1": "bh", "r2": "bh", "r3": "core", "r4": "bh"}
    table = dependency_table(hand_plan.dataset)
    assert len(table) == 5 and set(zip(table["predecessor_id"], table["site_id"], strict=True)) >= {
        ("core", "bh"),
        ("bh", "r4"),
    }


def test_collapsed_groups_are_one_row_each_and_expanding_adds_their_sites(hand_plan):
    collapsed = gantt(hand_plan)
    assert list(collapsed.layout.yaxis.categoryarray) == [
        "group:core (no hub)",
        "group:core · backhaul",
        "group:core · ran",
        "group:bh · ran",
    ]
    assert collapsed.layout.height == 4 * plots.GANTT_ROW_PX + plots.GANTT_TOP_PX + plots.GANTT_BOTTOM_PX
    one_open = gantt(hand_plan, expanded=["bh · ran"])
    assert list(one_open.layout.yaxis.categoryarray)[3:] == ["group:bh · ran", "site:r1", "site:r2", "site:r4"]
    everything = gantt(hand_plan, expanded=True)
    assert len(everything.layout.yaxis.categoryarray) == 10


def test_the_month_axis_is_on_top_with_zoom_and_the_deadline_is_a_line(hand_plan):
    figure = gantt(hand_plan)
    axis = figure.layout.xaxis
    assert axis.side == "top" and axis.type == "date"
    assert axis.rangeslider.visible and [b.label for b in axis.rangeselector.buttons][-1] == "all"
    deadlines = [s for s in figure.layout.shapes if s.type == "line"]
    assert len(deadlines) == 1 and pd.Timestamp(deadlines[0].x0) == pd.Timestamp("2023-05-01")


def test_unfunded_sites_are_rows_marked_not_funded(hand_plan):
    def marks(figure):
        trace = next(t for t in figure.data if t.name == plots.NOT_FUNDED)
        return dict(zip(trace.y, trace.text, strict=True))

    assert marks(gantt(hand_plan)) == {"group:bh · ran": "1 of 3 not funded"}
    assert marks(gantt(hand_plan, expanded=True))["site:r4"] == "not funded"


def test_group_bars_span_their_sites_and_dependencies_join_the_rows_that_show_them(hand_plan):
    figure = gantt(hand_plan, critical=critical_path(hand_plan, "a"))
    bars = {}
    for trace in figure.data:
        if trace.type == "bar":
            for key, base, width in zip(trace.y, trace.base, trace.x, strict=True):
                bars[key] = (pd.Timestamp(base), pd.Timestamp(base) + pd.Timedelta(milliseconds=width))
    # bh · ran: r1 starts 2023-04 (period 3); r1 and r2 finish at period 5 = 2023-06
    assert bars["group:bh · ran"] == (pd.Timestamp("2023-04-01"), pd.Timestamp("2023-06-01"))
    arrows = [t for t in figure.data if t.name in ("dependency", "critical path") and t.x and t.x[0] is not None]
    ends = [(t.name, t.y[i - 1]) for t in arrows for i, v in enumerate(t.y) if v is None]  # row before each gap
    # collapsed: core -> backhaul group, core -> r3's group, backhaul -> its towers; two on the critical path
    assert sorted(ends) == [
        ("critical path", "group:bh · ran"),
        ("critical path", "group:core · backhaul"),
        ("dependency", "group:core · ran"),
    ]


def test_a_replan_is_drawn_over_its_baseline_in_one_chart(hand_plan):
    later = Plan(**{**hand_plan.__dict__, "starts": {**STARTS, "r4": 5}})
    figure = plots.schedule_gantt(
        planner.schedule_table(later),
        hubs(later.dataset),
        baseline=planner.schedule_table(hand_plan),
        expanded=True,
    )
    baseline = next(t for t in figure.data if t.name.startswith("baseline"))
    assert baseline.marker.color == "rgba(0,0,0,0)"  # hollow
    assert "site:r4" not in baseline.y  # not funded before the re-plan
    filled = {k for t in figure.data if t.type == "bar" and t is not baseline for k in t.y}
    assert "site:r4" in filled


def test_grouping_by_kind_gives_one_row_per_kind(hand_plan):
    figure = gantt(hand_plan, by="kind")
    assert list(figure.layout.yaxis.categoryarray) == ["group:core", "group:backhaul", "group:ran"]
