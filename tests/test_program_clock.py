"""Issue 10: the program's real clock and money.

Presets that match the record (47 CFR 1.50004 priority tiers, the FCC's 39.5% factor),
tranches (money arriving over time), each applicant's own deadline and extensions, and
what happens to a site not replaced by its carrier's deadline.
"""

from __future__ import annotations

import csv
import json

import pytest

import planner
from planner.cli.main import run
from planner.core.schema import Carrier, Scenario
from planner.engine.allocation import allocate, applied_pro_rata_factor
from planner.inputs.io import write_dataset
from planner.inputs.presets import load_preset
from tests.conftest import ROOT, dataset, scenario, site

FACTS = {row["key"]: float(row["value"]) for row in csv.DictReader(open(ROOT / "datasets/reference/program_facts.csv"))}


# --- presets that match the record ---------------------------------------------------------


def test_appropriation_2020_pays_priority_1_at_the_fccs_factor_and_priorities_2_3_nothing(rural40):
    """rural40's Priority 1 demand is $4,640,272,000 ($12,672 under priority1_estimates_2022), so the
    $1,832,912,445 the preset makes available (0.395 x $4,640,284,672) is 0.3950011 of it."""
    chosen = load_preset("appropriation-2020", rural40.default_scenario)
    allocation = allocate(rural40, chosen)
    factor = applied_pro_rata_factor(rural40, chosen)
    assert round(factor, 4) == FACTS["pro_rata_factor_2022"] == 0.395
    assert factor == pytest.approx(0.395, abs=2e-6)
    for carrier in rural40.carriers:
        demand = rural40.demand_usd(carrier.carrier_id)
        expected = factor * demand if carrier.priority == 1 else 0.0
        assert allocation[carrier.carrier_id] == pytest.approx(expected, abs=0.01), carrier.carrier_id
    assert {c.priority for c in rural40.carriers} == {1, 2, 3}  # the tiers are really exercised
    assert sum(allocation.values()) == pytest.approx(chosen.available_usd, abs=1.0)


def test_summary_reports_the_factor_the_priority_rule_applied(tmp_path):
    """Tier 1 demands 100 + 100, tier 2 demands 100; 120 available: tier 1 gets 0.6, tier 2 nothing."""
    carriers = (Carrier("a", "A", "TX", 1000, priority=1), Carrier("b", "B", "TX", 1000, priority=1))
    carriers += (Carrier("c", "C", "TX", 3_000_000, priority=2),)
    ds = dataset(
        [site("a1", "a", population=5, cost=100), site("b1", "b", population=5, cost=100), site("c1", "c", cost=100)],
        carriers=carriers,
    )
    ds = ds.__class__(ds.carriers, ds.crews, ds.sites, name="tiers", default_scenario=scenario(horizon=4, deadline=2))
    folder = write_dataset(ds, tmp_path / "tiers")
    scenario_file = tmp_path / "tiers.toml"
    scenario_file.write_text('rule = "priority"\nfund_usd = 150\nadmin_reserve_usd = 30\n')
    out = tmp_path / "out"
    assert run(["solve", str(folder), "--scenario", str(scenario_file), "--out", str(out), "--quiet"]) == 0
    figures = json.loads((out / "summary.json").read_text())
    assert figures["pro_rata_factor"] == pytest.approx(0.6)
    assert figures["priority_tier_factors"] == {"1": pytest.approx(0.6), "2": 0.0}
    allocation = {r["carrier_id"]: float(r["allocation_usd"]) for r in csv.DictReader(open(out / "carriers.csv"))}
    assert allocation == {"a": pytest.approx(60), "b": pytest.approx(60), "c": 0.0}


def test_priority_factor_is_one_when_every_tier_is_paid():
    ds = dataset([site("a1", "a", cost=100)])
    assert applied_pro_rata_factor(ds, Scenario(fund_usd=500, rule="priority")) == 1.0
    assert applied_pro_rata_factor(ds, Scenario(fund_usd=500, rule="optimal")) is None
