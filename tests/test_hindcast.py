"""The hindcast page (docs/hindcast.py, issue 14): built by the script, so it never rots.

The fast test renders the page from a plan of the tiny fixture with two tranches; the slow one
runs the script itself on program126 with a short time limit.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

import planner

ROOT = Path(__file__).resolve().parent.parent
RECORD_KEYS = (
    "certified_complete_2024_07",
    "disbursed_2024_07",
    "extensions_granted_2024_07",
    "completed_2025_12",
)


def load_hindcast():
    spec = importlib.util.spec_from_file_location("hindcast", ROOT / "docs" / "hindcast.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def table_rows(page: str, key: str) -> list[list[str]]:
    """The cells of the comparison table's rows citing `key` (the prose cites keys too)."""
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in page.splitlines()
        if line.startswith("|") and f"`{key}`" in line
    ]


def assert_page(page: str, facts: dict) -> None:
    for key in RECORD_KEYS:
        rows = table_rows(page, key)
        assert rows, f"no row cites {key}"
        for figure, record, cited, plan_figure in rows:
            assert cited == f"`{key}`"
            # the plan figure is a number ($ amounts and counts alike), not a placeholder
            assert re.fullmatch(r"\$?[\d,]+(\.\d+)?[MB]?%?", plan_figure), (figure, plan_figure)
            assert re.search(r"\d", record)
    assert "## Where the model and the record differ, and why" in page
    assert "{" not in page, "a figure was left as an unformatted placeholder"
    assert "14" in table_rows(page, "certified_complete_2024_07")[0][1]
    assert facts["certified_complete_2024_07"]["value"] == "14"


def test_page_of_a_tiny_plan_has_every_record_row():
    """Two tranches on the tiny fixture: the page's rows and numbers are computed from the plan.

    The fixture's demand is $1.27M against a $1M fund, all of which arrives by 2023-09 inside its
    12-month horizon (2023-03..2024-02), so the plan's fund drawn through the horizon is at most $1M
    and every month of the record (2024-07 and later) is beyond it: the figures are 'by the horizon'.
    """
    hindcast = load_hindcast()
    dataset = planner.read_dataset(ROOT / "tests" / "fixtures" / "tiny")
    scenario = dataset.default_scenario.with_overrides(
        fund_usd=1_000_000, tranches=(("2023-03", 600_000.0), ("2023-09", 400_000.0)), extensions=1
    )
    plan = planner.plan(dataset, scenario)
    facts = hindcast.read_facts()
    figures = hindcast.hindcast_figures(plan, None, facts=facts)
    drawn = hindcast.fund_drawn_by(plan, "2024-07")
    assert 0 < drawn["cash"] <= 1_000_000 + 1e-6
    assert 0 < drawn["committed"] <= 1_000_000 + 1e-6
    done = planner.carriers_table(plan)["completion_period"].notna().sum()
    assert hindcast.carriers_done_by(plan, "2025-12") == done
    page = hindcast.render_page(figures)
    assert_page(page, facts)
    assert "in 2023-03" in page and "in 2023-09" in page  # the tranches, in words


@pytest.mark.slow
def test_script_writes_the_hindcast_page(tmp_path):
    hindcast = load_hindcast()
    out = tmp_path / "hindcast.md"
    assert hindcast.main(["--time-limit", "20", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert_page(page, hindcast.read_facts())
    assert "program126" in page
    assert "shut_down" in page


def test_what_binds_and_who_needs_an_extension_on_the_tiny_fixture():
    """Lead times, money in hand and crews on the tiny fixture, derived by hand.

    Term 5 months from 2023-03 (period 0), one extension (deadline 11); $1.8M in 2023-03 and $0.2M
    in 2023-09 (period 6): 90% of the fund in hand before period 6. Pro rata with $2M > $1.27M demand
    gives each carrier its demand (north $780k, south $490k).
    - Earliest finish (unlimited crews): north core lead 1 + 2 = 3, r1 3->4, r3 after r1 4->6: 6 > 5,
      cannot meet the term; south core lead 2 + 1 = 3, r2 3->5: 5, can. Both are wireless.
    - Money early: north 0.9 x 780k = 702k < 780k; south 0.9 x 490k + 50k own = 491k >= 490k: one.
    - South has one tower crew: r1 3->4 then r2 4->6, done at 6 > 5; north must wait for period 6 for
      its last $78k: both need their extension, both are done by 11, nobody on a late site.
    """
    hindcast = load_hindcast()
    dataset = planner.read_dataset(ROOT / "tests" / "fixtures" / "tiny")
    scenario = dataset.default_scenario.with_overrides(
        fund_usd=2_000_000, tranches=(("2023-03", 1_800_000.0), ("2023-09", 200_000.0)), deadline=5, extensions=1
    )
    plan = planner.plan(dataset, scenario)
    binds = hindcast.what_binds(plan)
    assert binds["first_share"] == pytest.approx(0.9)
    assert (binds["wireless"], binds["cannot_meet_term"], binds["cannot_meet_extended"]) == (2, 1, 0)
    assert binds["money_enough_early"] == 1
    assert hindcast.late_carriers(plan) == {
        "needed_extension": 2,
        "late_after_extensions": 0,
        "people_on_late_sites": 0,
    }
