"""Funding rules reproduce the program's formulas exactly."""

from __future__ import annotations

import pytest

import planner
from planner.core.schema import Carrier
from planner.engine.allocation import (
    greedy_funding,
    priority_tiers,
    pro_rata,
    pro_rata_factor,
)
from tests.conftest import dataset, scenario, site


def test_fcc_proration_factor_2022():
    """FCC, July 2022: $1.833B available against $4,640,284,672 of Priority-1 estimates -> 39.5%."""
    assert pro_rata_factor(1_833_000_000, 4_640_284_672) == pytest.approx(0.39502, abs=5e-6)
    assert round(pro_rata_factor(1_833_000_000, 4_640_284_672), 3) == 0.395


def test_factor_is_capped_at_full_funding():
    assert pro_rata_factor(5e9, 4.64e9) == 1.0


def two_tier_dataset():
    carriers = [
        Carrier("small", "Small", "NE", 10_000),
        Carrier("school", "School", "MI", 500, priority=2),
        Carrier("large", "Large", "TX", 3_000_000, priority=3),
    ]
    sites = [site("s1", "small", cost=600), site("s2", "school", cost=300), site("s3", "large", cost=400)]
    return dataset(sites, carriers=carriers)


def test_priority_pays_tier_one_first_and_prorates_the_next():
    """$750 available: tier 1 ($600) in full, tier 2 gets the $150 left of its $300 (50%), tier 3 nothing."""
    allocation = priority_tiers(two_tier_dataset(), scenario(fund_usd=800, admin_reserve_usd=50))
    assert allocation == pytest.approx({"small": 600, "school": 150, "large": 0})


def test_loader_derives_priority_from_subscribers(tmp_path):
    """No priority column: <= 2,000,000 subscribers is tier 1, more is tier 3 (47 CFR 1.50004)."""
    from planner.inputs.tables import dataset_tables

    tables = dataset_tables(two_tier_dataset())
    lines = tables["carriers.csv"].splitlines()
    tables["carriers.csv"] = "\n".join(",".join(line.split(",")[:-1]) for line in lines) + "\n"
    for name, text in tables.items():
        (tmp_path / name).write_text(text)
    loaded = planner.read_dataset(tmp_path)
    assert {c.carrier_id: c.priority for c in loaded.carriers} == {"small": 1, "school": 1, "large": 3}


def test_pro_rata_gives_everyone_the_same_share():
    allocation = pro_rata(two_tier_dataset(), scenario(fund_usd=650))
    assert allocation == pytest.approx({"small": 300, "school": 150, "large": 200})


def test_greedy_funds_the_best_people_per_dollar_with_prerequisites():
    """The RAN site (100 people for $10 plus its $50 hub) beats the lone site (30 people for $20)."""
    sites = [
        site("hub", cost=50, kind="backhaul"),
        site("ran", population=100, cost=10, after=["hub"]),
        site("lone", "b", population=30, cost=20),
    ]
    allocation, funded = greedy_funding(dataset(sites), scenario(fund_usd=70))
    assert funded == {"hub": True, "ran": True}
    assert allocation == pytest.approx({"a": 60, "b": 0})


@pytest.mark.parametrize("rule", ["pro_rata", "priority", "greedy", "optimal"])
def test_every_rule_stays_within_the_fund(rule):
    ds = two_tier_dataset()
    result = planner.plan(ds, scenario(fund_usd=700, rule=rule), workers=1)
    assert planner.check_plan(result) == []
    assert sum(result.allocation_usd.values()) <= 700 + 1e-6
