"""planner.analysis.ontime: the least money, crews and lead-time relief, on cases solved by hand.

crews:  one tower crew; two sites of 2 months needing 1 unit each; deadline 3. One at a time
        they finish at 4 (late); side by side at 2. Any capacity below 2 runs them one at a
        time, so the least crew factor is 2 (the search answers within 5% above it).
lead:   one site of 1 month delivered in month 4; deadline 3: it needs delivery by month 2,
        2 months earlier (the bound lead + d - D = 4 + 1 - 3); crews cannot help.
money:  two $10 sites and $15 of fund, two crews: short by exactly $5; crews and lead time are
        searched with that $5 paid, and then need no change.
"""

from __future__ import annotations

import pytest

import planner
from planner.analysis.ontime import CREW_FACTOR_PRECISION, carrier_on_time, least_change_to_finish_on_time
from planner.core.schema import CrewPool
from tests.conftest import dataset, scenario, site


def late_plan(sites, crews=None, **overrides):
    plan = planner.plan(dataset(sites, crews=crews), scenario(deadline=3, horizon=8, **overrides))
    assert not carrier_on_time(plan, "a")[0]
    return plan


def test_two_sites_one_crew_need_twice_the_crews():
    plan = late_plan([site("r1", cost=10, duration=2), site("r2", cost=10, duration=2)])
    found = least_change_to_finish_on_time(plan, "a", "crews")
    assert found.found and 2.0 <= found.value <= 2.0 * (1 + CREW_FACTOR_PRECISION)
    assert {k: c for k, c, _ in found.changes.crews}["tower"] == pytest.approx(found.value)
    assert any(not t.on_time and t.value < 2.0 for t in found.trials)  # the search saw the failing side
    assert least_change_to_finish_on_time(plan, "a", "money").found is False  # every site is already paid for


def test_a_late_delivery_needs_exactly_the_months_it_is_late():
    plan = late_plan([site("x", cost=10, duration=1, lead=4)])
    found = least_change_to_finish_on_time(plan, "a", "lead time")
    assert found.found and found.value == 2 and found.changes.lead_time_change_months == -2
    crews = least_change_to_finish_on_time(plan, "a", "crews")
    assert not crews.found and "lead times" in crews.note


def test_money_short_of_demand_needs_exactly_the_shortfall():
    plan = late_plan(
        [site("r1", cost=10, duration=1), site("r2", cost=10, duration=1)],
        crews=(CrewPool("a", "tower", 2.0),),
        fund_usd=15,
    )
    found = least_change_to_finish_on_time(plan, "a", "money")
    assert found.found and found.value == pytest.approx(5.0)
    assert found.changes.own_funds_usd == pytest.approx(5.0)
    crews = least_change_to_finish_on_time(plan, "a", "crews")  # searched with the money gap closed: no more crews
    assert crews.found and crews.value == 0 and "$5 shortfall paid as well" in crews.note


def test_together_pays_the_money_shortens_lead_times_by_the_bound_and_then_finds_the_crews():
    """Two $10 sites of 2 months, delivered in month 2, one crew, $15 of fund, deadline 3.

    Alone nothing works: money leaves them late; lead times at 0 still run one after the
    other (0-2, 2-4); crews cannot beat the earliest finish 2 + 2 = 4. Together: $5, one
    month earlier (finish 1 + 2 = 3, the least relief), and twice the crews (side by side).
    """
    plan = late_plan([site("r1", cost=10, duration=2, lead=2), site("r2", cost=10, duration=2, lead=2)], fund_usd=15)
    alone = {lever: least_change_to_finish_on_time(plan, "a", lever) for lever in ("money", "crews", "lead time")}
    assert not any(result.found for result in alone.values())
    together = least_change_to_finish_on_time(plan, "a", "together")
    assert together.found and 2.0 <= together.value <= 2.0 * (1 + CREW_FACTOR_PRECISION)
    assert together.changes.lead_time_change_months == -1
    assert together.changes.own_funds_usd == pytest.approx(5.0)
