"""Property tests: every plan the engine returns passes the independent validator, and its figures agree."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import planner
from planner.core.schema import Carrier, CrewPool, Dataset
from tests.conftest import scenario, site


@st.composite
def cases(draw):
    carriers, crews, sites = [], [], []
    for c in range(draw(st.integers(1, 3))):
        cid = f"c{c}"
        carriers.append(Carrier(cid, cid, "WY", 100, own_funds_usd=draw(st.sampled_from([0.0, 0.0, 75.0]))))
        types = ["tower", "core"][: draw(st.integers(1, 2))]
        for kind in types:
            winter = draw(st.one_of(st.none(), st.integers(0, 2).map(float)))
            crews.append(CrewPool(cid, kind, float(draw(st.integers(0, 3))), winter_capacity=winter))
        ids: list[str] = []
        for i in range(draw(st.integers(1, 7))):
            after = draw(st.lists(st.sampled_from(ids), max_size=2, unique=True)) if ids else []
            need = {kind: draw(st.integers(0, 2)) for kind in types}
            sid = f"{cid}s{i}"
            sites.append(
                site(
                    sid,
                    cid,
                    population=draw(st.integers(0, 500)),
                    cost=draw(st.sampled_from([0, 50, 100, 250])),
                    duration=draw(st.integers(1, 3)),
                    lead=draw(st.integers(0, 4)),
                    after=after,
                    tower=need.get("tower", 0),
                    **{k: v for k, v in need.items() if k != "tower"},
                )
            )
            ids.append(sid)
    ds = Dataset(tuple(carriers), tuple(crews), tuple(sites), name="hypothesis")
    sc = scenario(
        fund_usd=float(draw(st.sampled_from([0, 100, 300, 1000]))),
        horizon=draw(st.integers(3, 10)),
        deadline=draw(st.integers(0, 8)),
        extensions=draw(st.integers(0, 1)),
        start=draw(st.sampled_from(["2022-01", "2022-10", "2023-03"])),
        rule=draw(st.sampled_from(["pro_rata", "priority", "optimal", "greedy"])),
        objective=draw(st.sampled_from(["exposure", "exposure", "makespan"])),
        mip_gap=0.0,
    )
    return ds, sc


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_every_plan_is_valid_and_consistent(case):
    ds, sc = case
    result = planner.plan(ds, sc, workers=1)
    assert planner.check_plan(result) == []
    figures = planner.summary(result)
    assert figures["sites_replaced"] == len(result.starts)
    assert figures["population_left_without_service"] == sum(
        s.population for s in ds.sites if s.site_id not in result.starts
    )
    assert result.objective == planner.objective_value(ds, sc, result.starts, result.horizon)
    if result.bound is not None:
        assert result.bound <= result.objective + 1e-6
    monthly = planner.monthly_table(result)
    assert math.isclose(monthly["spend_usd"].sum(), figures["spend_usd"], rel_tol=1e-9, abs_tol=1e-6)
    people = (
        monthly["population_on_covered_gear"]
        + monthly["population_on_new_gear"]
        + monthly["population_without_service"]
    )
    assert (people == figures["population_total"]).all()
    carriers = planner.carriers_table(result)
    assert int(carriers["on_time"].sum()) == figures["carriers_done_by_deadline"]
    late = carriers[~carriers["on_time"]]
    assert (late["reason"].str.len() > 0).all(), "every carrier that misses the deadline is told why"
