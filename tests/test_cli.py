"""The `rrplan` command: files, columns, figures and exit codes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from planner.cli.main import run
from planner.inputs.io import write_dataset
from tests.conftest import dataset, scenario, site

SUMMARY_KEYS = {
    "status",
    "objective",
    "bound",
    "gap",
    "makespan",
    "fund_usd",
    "demand_usd",
    "allocated_usd",
    "pro_rata_factor",
    "sites_total",
    "sites_replaced",
    "carriers_total",
    "carriers_done_by_deadline",
    "population_left_without_service",
    "exposure_population_months",
    "build_seconds",
    "solve_seconds",
    "solver",
    "dataset_sha256",
    "scenario",
}


@pytest.fixture
def folder(tmp_path):
    ds = dataset(
        [
            site("core", cost=100, duration=2, kind="core"),
            site("r1", population=100, cost=100, after=["core"]),
            site("r2", population=40, cost=100, after=["core"]),
            site("x", "b", population=70, cost=200, lead=1),
        ],
        name="small",
    )
    ds = ds.__class__(
        ds.carriers, ds.crews, ds.sites, name="small", default_scenario=scenario(fund_usd=300, horizon=6, deadline=3)
    )
    return write_dataset(ds, tmp_path / "small")


def test_solve_writes_every_table(folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(["solve", str(folder), "--out", str(out), "--workers", "1"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert SUMMARY_KEYS <= summary.keys()
    # $300 of $500 demand: every carrier gets 60% of its demand
    assert summary["pro_rata_factor"] == pytest.approx(0.6)
    assert summary["allocated_usd"] == pytest.approx(300)
    schedule = pd.read_csv(out / "schedule.csv")
    assert {"site_id", "carrier_id", "start", "finish", "month", "replaced", "cost_usd"} <= set(schedule.columns)
    replaced = schedule[schedule["replaced"]]
    assert (replaced["finish"] - replaced["start"] > 0).all()
    assert summary["sites_replaced"] == len(replaced)
    carriers = pd.read_csv(out / "carriers.csv")
    assert {
        "allocation_usd",
        "spend_usd",
        "completion_period",
        "on_time",
        "population_left_without_service",
        "reason",
    } <= set(carriers.columns)
    monthly = pd.read_csv(out / "monthly.csv")
    assert len(monthly) == summary["horizon"]
    assert {
        "spend_usd",
        "funds_drawn_usd",
        "crew_tower_used",
        "population_on_covered_gear",
        "population_without_service",
    } <= set(monthly.columns)
    assert "status" in capsys.readouterr().out


def test_money_is_the_reason_a_short_carrier_is_late(folder, tmp_path):
    out = tmp_path / "out"
    assert run(["solve", str(folder), "--out", str(out), "--quiet", "--workers", "1"]) == 0
    carriers = pd.read_csv(out / "carriers.csv").set_index("carrier_id")
    assert not carriers.loc["a", "on_time"]
    assert carriers.loc["a", "reason"].startswith("money: short of $120")


def test_flags_override_the_dataset_scenario(folder, tmp_path):
    out = tmp_path / "out"
    assert run(["solve", str(folder), "--fund", "1e6", "--deadline", "5", "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pro_rata_factor"] == 1.0
    assert summary["carriers_done_by_deadline"] == 2
    assert summary["scenario"]["deadline"] == 5


def test_bad_flag_values_exit_2_naming_each(folder, tmp_path, capsys):
    code = run(["solve", str(folder), "--fund", "-5", "--rule", "fairest", "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert "fund_usd" in err and "rule" in err and "fairest" in err
    assert "Traceback" not in err


def test_validate_reports_every_problem(folder, capsys):
    sites = folder / "sites.csv"
    text = sites.read_text().replace("r1,a,ran", "r1,zz,ran").replace("r2,a,ran,,,,,40,", "r2,a,ran,,,,,-40,")
    sites.write_text(text)
    assert run(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "unknown-carrier" in err and "zz" in err
    assert "sites.csv:4: population:" in err and "-40" in err
