"""The run store: reuse by inputs, atomic runs, a versioned schema, and the diff of two runs."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pytest

import planner
from planner.cli.main import run
from planner.inputs.io import write_dataset
from planner.runs.store import RunStore, StoreError, diff_runs, inputs_checksum
from planner.runs.sweep import solve_recorded
from tests.conftest import ROOT, dataset, scenario, site


def two_carriers():
    """Carrier a: core (cost 10) then a cell of 30 people (cost 10); carrier b: one cell of 7 people (cost 4)."""
    return dataset(
        [
            site("a-core", cost=10, kind="core"),
            site("a-cell", population=30, cost=10, after=["a-core"]),
            site("b-cell", "b", population=7, cost=4),
        ],
        name="two",
    )


@pytest.fixture
def store(tmp_path):
    with RunStore(tmp_path / "runs.sqlite") as opened:
        yield opened


def test_a_solved_run_is_found_again_and_not_solved_twice(store, tmp_path, monkeypatch):
    data = two_carriers()
    figures, run_id, reused = solve_recorded(data, scenario(fund_usd=24), tmp_path / "first", store)
    assert not reused and figures["sites_replaced"] == 3
    calls = []
    monkeypatch.setattr("planner.runs.sweep.plan", lambda *a, **k: calls.append(1))
    again, same_id, reused = solve_recorded(
        data, scenario(fund_usd=24, name="another label"), tmp_path / "second", store
    )
    assert reused and same_id == run_id and calls == []
    assert again == figures
    assert (tmp_path / "second" / "carriers.csv").read_text() == (tmp_path / "first" / "carriers.csv").read_text()
    assert len(store.runs()) == 1


def test_the_checksum_covers_dataset_and_scenario_values_but_not_the_label():
    data = two_carriers()
    assert inputs_checksum(data, scenario(name="x")) == inputs_checksum(data, scenario(name="y"))
    assert inputs_checksum(data, scenario()) != inputs_checksum(data, scenario(fund_usd=5))
    other = dataset([*data.sites[:2], site("b-cell", "b", population=8, cost=4)])
    assert inputs_checksum(data, scenario()) != inputs_checksum(other, scenario())


def test_runs_of_other_planner_code_and_failed_runs_are_not_reused(store, monkeypatch):
    data, chosen = two_carriers(), scenario(fund_usd=24)
    store.save_failure(data, chosen, "solver crashed")
    assert store.find(data, chosen) is None
    store.save(data, chosen, {"status": "optimal"}, {"carriers.csv": "carrier_id\na\n"})
    assert store.find(data, chosen).status == "optimal"
    monkeypatch.setattr("planner.runs.store.code_checksum", lambda: "different code")
    assert store.find(data, chosen) is None


def test_a_store_of_a_newer_schema_or_a_foreign_file_is_refused(tmp_path, capsys):
    path = tmp_path / "newer.sqlite"
    RunStore(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="newer rrplan"):
        RunStore(path)
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE cats (name TEXT)")
    with pytest.raises(StoreError, match="not an rrplan run store"):
        RunStore(foreign)
    assert run(["runs", "--store", str(path)]) == 3
    assert "newer rrplan" in capsys.readouterr().err


KILLED_WRITER = textwrap.dedent("""
    import sys, time
    from collections.abc import Mapping
    from planner.runs.store import RunStore
    from tests.conftest import dataset, scenario, site

    class SlowFiles(Mapping):
        '''Three files; after the first is inserted (inside the run's transaction) it waits to be killed.'''
        names = ["carriers.csv", "schedule.csv", "monthly.csv"]
        def __getitem__(self, name): return "x" * 1000
        def __len__(self): return 3
        def __iter__(self):
            for index, name in enumerate(self.names):
                if index == 1:
                    print("half-written", flush=True)
                    time.sleep(60)
                yield name

    store = RunStore(sys.argv[1])
    store.save(dataset([site("s", population=1, cost=1)]), scenario(fund_usd=7), {"status": "optimal"}, SlowFiles())
""")


def test_a_run_killed_half_way_leaves_the_store_readable_and_without_it(store, tmp_path):
    data = two_carriers()
    store.save(data, scenario(fund_usd=24), {"status": "optimal"}, {"carriers.csv": "carrier_id\na\n"})
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(store.path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout.readline().strip() == "half-written"
    finally:
        writer.kill()
        writer.wait(timeout=30)
    with RunStore(store.path) as reopened:
        assert reopened._connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert [r.scenario["fund_usd"] for r in reopened.runs()] == [24]
        assert reopened._connection.execute("SELECT COUNT(*) FROM run_files").fetchone()[0] == 1
        reopened.save(data, scenario(fund_usd=7), {"status": "optimal"}, {})  # and it takes new runs
        assert len(reopened.runs()) == 2


def test_diff_names_the_changed_inputs_and_how_each_carrier_moved(store, tmp_path):
    data = two_carriers()
    _, short, _ = solve_recorded(data, scenario(fund_usd=12), tmp_path / "short", store)
    _, full, _ = solve_recorded(data, scenario(fund_usd=24), tmp_path / "full", store)
    change = diff_runs(store, short, full)
    assert change.inputs.to_dict("records") == [{"input": "fund_usd", "a": 12.0, "b": 24.0}]
    carriers = change.carriers.set_index("carrier_id")
    # pro rata on demand 24: $12 gives every carrier half its demand: a $10 (its core only), b $2 (nothing)
    assert carriers.loc["a", "allocation_usd_a"] == pytest.approx(10)
    assert carriers.loc["a", "allocation_usd_change"] == pytest.approx(10)
    assert carriers.loc["b", "sites_replaced_change"] == 1
    assert carriers.loc["a", "population_left_without_service_change"] == -30
    assert carriers.loc["b", "on_time_change"] == "False -> True"
    assert carriers["changed"].all()
    headline = change.headline.set_index("figure")
    assert headline.loc["population_left_without_service", "change"] == -37


def test_cli_records_every_solve_unless_told_not_to(tmp_path, monkeypatch, capsys):
    data = two_carriers()
    folder = write_dataset(
        data.__class__(
            data.carriers,
            data.crews,
            data.sites,
            name="two",
            default_scenario=scenario(fund_usd=24, horizon=6, deadline=3),
        ),
        tmp_path / "two",
    )
    path = tmp_path / "cli.sqlite"
    monkeypatch.setenv("RRPLAN_STORE", str(path))
    assert run(["solve", str(folder), "--out", str(tmp_path / "a"), "--workers", "1"]) == 0
    assert "recorded as run #1" in capsys.readouterr().out
    assert run(["solve", str(folder), "--out", str(tmp_path / "b"), "--workers", "1"]) == 0
    assert "reused run #1" in capsys.readouterr().out
    assert run(["solve", str(folder), "--out", str(tmp_path / "c"), "--no-store", "--quiet"]) == 0
    assert run(["solve", str(folder), "--fund", "12", "--out", str(tmp_path / "d"), "--quiet"]) == 0
    with RunStore(path) as opened:
        assert [r.scenario["fund_usd"] for r in opened.runs()] == [24, 12]
    assert run(["runs"]) == 0
    listing = capsys.readouterr().out
    assert "2 run(s)" in listing and "optimal" in listing
    assert run(["diff", "1", "2"]) == 0
    shown = capsys.readouterr().out
    assert "fund_usd" in shown and "$20 -> $10" in shown  # carrier a: all its demand, then half
    assert run(["diff", "1", "7"]) == 2
    assert "no run #7" in capsys.readouterr().err


def test_the_store_keeps_the_plan_files_readable_as_tables(store, tmp_path):
    _, run_id, _ = solve_recorded(two_carriers(), scenario(fund_usd=24), tmp_path / "out", store)
    assert set(store.file_names(run_id)) == {"summary.json", "schedule.csv", "carriers.csv", "monthly.csv"}
    schedule = store.table(run_id, "schedule.csv")
    assert schedule["replaced"].all() and len(schedule) == 3
    assert store.get(run_id).summary["sites_replaced"] == 3
    assert planner.__version__  # the store is part of the public package


def test_the_saved_runs_screen_sweeps_lists_and_compares(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("RRPLAN_DATASET", str(ROOT / "tests" / "fixtures" / "tiny"))
    monkeypatch.setenv("RRPLAN_STORE", str(tmp_path / "app.sqlite"))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()  # the national screen solves the default scenario, and the app records that run
    with RunStore(tmp_path / "app.sqlite") as opened:
        assert [run.source for run in opened.runs()] == ["app"]
    app.switch_page("app_pages/runs.py").run()
    assert not app.exception
    app.text_input(key="sweep_funds").set_value("0:0.002:3")  # USD billions: three evenly spaced funds
    app.button[0].click().run()
    assert not app.exception
    # the pro-rata point at $0.001B is the national screen's plan (tiny's fund is $1M): read back, not solved
    assert app.success[0].value.startswith("6 scenarios: 5 solved, 1 read from the store")
    assert len(app.get("plotly_chart")) == 1
    with RunStore(tmp_path / "app.sqlite") as opened:
        assert len(opened.runs()) == 1 + 5
    assert "Inputs that differ" in [header.value for header in app.subheader]


def test_a_plan_solved_elsewhere_can_be_recorded_and_is_then_reused(store, tmp_path):
    from planner.runs.sweep import record_plan

    data, chosen = two_carriers(), scenario(fund_usd=24)
    run_id = record_plan(store, planner.plan(data, chosen, workers=1), source="app")
    found = store.find(data, chosen)
    assert found.run_id == run_id and found.source == "app" and found.summary["sites_replaced"] == 3
    assert set(store.file_names(run_id)) == {"summary.json", "schedule.csv", "carriers.csv", "monthly.csv"}
