"""The value of one more dollar: what a step of money more buys each carrier, by re-planning it alone.

Hand case (deadline D = 6, horizon H = 12, dark weight 100, one month per site, crews to spare):
carrier c has sites a ($1M, 1,000 people) and b ($1M, 400 people); carrier d has one site x
($3M, 5,000 people). The $2M fund is 40% of the $5M demand: c gets $0.8M, d $1.2M, so nothing
is bought.

- c with $1M more has $1.8M: it buys a (most people) and starts it at once. 1,000 people kept
  connected; a would have been dark from D to H: 1,000 x 6 = 6,000 person-months; the objective
  falls from 1,000 x (6 + 100 x 6) = 606,000 to 1,000 x 1 (finish in month 1): -605,000.
- d with $1M more has $2.2M, still short of x's $3M: nothing is bought, every figure is 0.
"""

from __future__ import annotations

import pytest

from planner.analysis.marginal_value import VALUE_COLUMNS, value_of_money
from planner.cli.main import run
from planner.core.schema import Carrier, CrewPool, Dataset, Scenario, Site
from planner.engine.planning import plan
from planner.inputs.io import write_dataset

SCENARIO = Scenario(fund_usd=2e6, start="2023-03", horizon=12, deadline=6, time_limit_s=10, mip_gap=0.0)


def site(site_id: str, carrier_id: str, cost_usd: float, population: int) -> Site:
    return Site(site_id, carrier_id, "ran", cost_usd, 1, population=population, crew_need=(("tower", 1.0),))


def two_carriers() -> Dataset:
    return Dataset(
        (Carrier("c", "C", "ND", 100), Carrier("d", "D", "ND", 100)),
        (CrewPool("c", "tower", 2.0), CrewPool("d", "tower", 1.0)),
        (site("a", "c", 1e6, 1000), site("b", "c", 1e6, 400), site("x", "d", 3e6, 5000)),
    )


def test_one_more_million_buys_exactly_one_site_or_nothing():
    base = plan(two_carriers(), SCENARIO, workers=1)
    assert base.allocation_usd == {"c": 800_000.0, "d": 1_200_000.0} and base.starts == {}
    table = value_of_money(base).set_index("carrier_id")
    assert list(table.reset_index().columns) == list(VALUE_COLUMNS)
    c, d = table.loc["c"], table.loc["d"]
    assert (c["people_connected_per_1m"], c["person_months_connected_per_1m"]) == (1000.0, 6000.0)
    assert c["objective_change_per_1m"] == pytest.approx(-605_000.0)
    assert bool(c["bought_anything"]) and c["sites_bought"] == "a"
    assert (d["people_connected_per_1m"], d["person_months_connected_per_1m"], d["objective_change_per_1m"]) == (
        0.0,
        0.0,
        0.0,
    )
    assert not bool(d["bought_anything"]) and d["sites_bought"] == ""


def test_the_figures_depend_on_the_step_because_sites_are_bought_whole():
    """$0.5M more gives c $1.3M: a alone, 1,000 people per $0.5M = 2,000 per $1M. $2M more gives $2.8M:
    a and b, 1,400 people per $2M = 700 per $1M. Neither is the $1M figure (1,000)."""
    base = plan(two_carriers(), SCENARIO, workers=1)
    half = value_of_money(base, ["c"], step_usd=5e5).iloc[0]
    double = value_of_money(base, ["c"], step_usd=2e6).iloc[0]
    assert half["people_connected_per_1m"] == 2000.0 and half["sites_bought"] == "a"
    assert double["people_connected_per_1m"] == 700.0 and double["sites_bought"] == "a;b"


def test_kept_running_sites_have_no_dark_months_to_save():
    """keep_running: nobody goes dark, so the person-months without service avoided are 0, people still 1,000."""
    base = plan(two_carriers(), SCENARIO.with_overrides(missed_deadline="keep_running"), workers=1)
    c = value_of_money(base, ["c"]).iloc[0]
    assert (c["people_connected_per_1m"], c["person_months_connected_per_1m"]) == (1000.0, 0.0)


def test_the_value_command_writes_one_row_per_carrier(tmp_path, capsys):
    folder = write_dataset(two_carriers(), tmp_path / "data")
    out = tmp_path / "value.csv"
    code = run(
        ["value", str(folder), "--fund", "2e6", "--start", "2023-03", "--horizon", "12", "--deadline", "6"]
        + ["--out", str(out)]
    )
    assert code == 0
    lines = out.read_text().splitlines()
    assert lines[0] == ",".join(VALUE_COLUMNS) and len(lines) == 3
    assert lines[1].startswith("c,800000.0,1000000.0,1000.0,6000.0,")
    assert "1 of 2 carrier(s) would buy something" in capsys.readouterr().out
    code = run(["value", str(folder), "--carrier", "west", "--out", str(out)])
    assert code == 2 and "[rule: unknown-carrier]" in capsys.readouterr().err
