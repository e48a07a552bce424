"""planner.analysis.replan: one carrier's part of a national plan, and re-planning it alone."""

from __future__ import annotations

import pytest

import planner
from planner.analysis.replan import (
    CarrierChanges,
    carrier_view,
    changed_dataset,
    replan_carrier,
)
from tests.conftest import dataset, scenario, site


@pytest.fixture(scope="module")
def national():
    """Two carriers of three 1-month sites, $60 for $90 of demand: each carrier can pay for two sites.

    With one tower crew each, carrier a replaces its two most populous sites in months 0 and 1.
    """
    sites = [site(f"{c}-{i}", c, population=pop, cost=15) for c in "ab" for i, pop in enumerate((300, 200, 100))]
    return planner.plan(dataset(sites), scenario(fund_usd=60, horizon=6, deadline=6))


def test_the_view_is_the_carriers_row_of_the_national_plan(national):
    view = carrier_view(national, "a")
    assert [s.site_id for s in view.dataset.sites] == ["a-0", "a-1", "a-2"]
    assert planner.check_plan(view) == []
    row = planner.carriers_table(national).set_index("carrier_id").loc["a"]
    assert planner.summary(view)["sites_replaced"] == row["sites_replaced"] == 2
    assert planner.summary(view)["allocated_usd"] == row["allocation_usd"] == 30
    assert view.starts == {"a-0": 0, "a-1": 1}


def test_replanning_without_changes_gives_the_same_schedule(national):
    again = replan_carrier(national, "a")
    assert again.allocation_usd == {"a": 30}
    assert again.starts == carrier_view(national, "a").starts


def test_own_funds_and_a_second_crew_finish_every_site_in_the_first_month(national):
    """$15 of own funds pays the third site, and three tower crews do all three 1-month sites in month 0."""
    changes = CarrierChanges(crews=(("tower", 3.0, None),), own_funds_usd=15.0)
    again = replan_carrier(national, "a", changes)
    assert again.starts == {"a-0": 0, "a-1": 0, "a-2": 0}
    assert again.allocation_usd == {"a": 30}  # the fund's share is unchanged; only own money was added
    assert planner.check_plan(again) == []


def test_lead_times_move_but_never_below_zero(national):
    later = changed_dataset(national.dataset, "a", CarrierChanges(lead_time_change_months=2))
    assert {s.lead_time_months for s in later.sites} == {2}
    earlier = changed_dataset(later, "a", CarrierChanges(lead_time_change_months=-5))
    assert {s.lead_time_months for s in earlier.sites} == {0}
    assert replan_carrier(national, "a", CarrierChanges(lead_time_change_months=2)).starts == {"a-0": 2, "a-1": 3}
