"""The sidebar and the carrier screen show the program's clock: tranches, own deadlines, the missed-deadline policy."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import planner
from planner.analysis.marginal_value import value_of_money
from planner.core.clock import tranche_words, with_fund
from planner.core.schema import Scenario
from planner.inputs.io import read_dataset, write_dataset

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny"


def test_a_new_fund_keeps_the_tranche_calendar_scaled():
    """$1.895B + $3.08B in two tranches; half the fund keeps the months, each tranche halved."""
    scenario = Scenario(start="2022-08", fund_usd=4.975e9, tranches=(("2022-07", 1.895e9), ("2025-04", 3.08e9)))
    halved = with_fund(scenario, 2.4875e9)
    assert halved.tranches == (("2022-07", 0.9475e9), ("2025-04", 1.54e9))
    assert with_fund(scenario, 1e9, keep_tranches=False).tranches == ()
    assert tranche_words(scenario) == "$1.895B in 2022-07, $3.08B in 2025-04"
    assert tranche_words(Scenario(start="2023-01")) == "all at the start (2023-01)"


@pytest.fixture
def clocked(tmp_path, monkeypatch):
    """The tiny dataset with its fund in two tranches and carrier `north` granted one extension of its own."""
    data = read_dataset(TINY)
    base = data.default_scenario
    fund = base.fund_usd
    scenario = base.with_overrides(tranches=((base.start, fund / 2), (base.month_label(3), fund / 2)))
    carriers = tuple(replace(c, extensions=1) if c.carrier_id == "north" else c for c in data.carriers)
    write_dataset(replace(data, carriers=carriers, default_scenario=scenario), tmp_path / "clocked")
    monkeypatch.setenv("RRPLAN_DATASET", str(tmp_path / "clocked"))
    monkeypatch.setenv("RRPLAN_STORE", str(tmp_path / "store.sqlite"))
    return scenario


def test_the_sidebar_shows_the_tranches_and_the_policy_and_plans_with_them(clocked):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert at.sidebar.checkbox(key="keep_tranches").value is True
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert tranche_words(clocked) in captions and "1 carriers have their own extensions" in captions
    assert at.session_state["scenario"].tranches == clocked.tranches
    at.sidebar.selectbox(key="missed_deadline").set_value("keep_running").run()
    assert at.session_state["scenario"].missed_deadline == "keep_running"
    at.sidebar.checkbox(key="keep_tranches").uncheck().run()
    assert not at.exception and at.session_state["scenario"].tranches == ()


def test_the_carrier_screen_shows_the_carriers_own_deadline(clocked):
    """`north` has one six-month extension of its own: its deadline is six months after the scenario's."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/carrier.py").run()
    at.selectbox(key="carrier_id").set_value("north").run()
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Deadline"] == clocked.month_label(clocked.deadline + 6 * 1)


def test_the_carrier_screen_says_what_one_more_million_buys(clocked):
    """Computed on request by re-planning the carrier alone with and without $1M more (tiny's sites cost <= $1M)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/carrier.py").run()
    at.selectbox(key="carrier_id").set_value("north").run()
    at.button(key="value_north").click().run()
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    plan = planner.plan(read_dataset(os.environ["RRPLAN_DATASET"]), at.session_state["scenario"], workers=1)
    (expected,) = value_of_money(plan, ["north"]).to_dict("records")
    assert shown["People kept connected per $1M"] == f"{expected['people_connected_per_1m']:,.0f}"
    assert shown["Buys"] == ("another site" if expected["bought_anything"] else "nothing more")
