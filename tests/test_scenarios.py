"""Named scenarios: every preset's figures come from program_facts.csv, and the CLI takes a preset name."""

from __future__ import annotations

import csv
import json
import tomllib

import pytest

from planner import InputError
from planner.cli.main import run
from planner.core.schema import Scenario
from planner.inputs.io import write_dataset
from planner.inputs.presets import (
    describe_presets,
    load_preset,
    preset,
    preset_names,
    resolve,
)
from tests.conftest import ROOT, dataset, scenario, site

FACTS = {row["key"]: float(row["value"]) for row in csv.DictReader(open(ROOT / "datasets/reference/program_facts.csv"))}
REQUIRED = {
    "proposal-2019",
    "appropriation-2020",
    "full-funding-2024",
    "appropriation-2020-extended",
    "appropriation-2020-extended-twice",
    "full-funding-2024-extended",
}


def test_the_program_moments_are_shipped():
    assert REQUIRED <= set(preset_names())
    for name in preset_names():
        assert preset(name).description, f"{name} has no description"


def test_preset_figures_are_the_program_facts():
    base = Scenario()
    assert load_preset("proposal-2019", base).fund_usd == FACTS["authorized_fund_2019"] == 1e9
    assert load_preset("proposal-2019", base).available_usd == 1e9
    appropriation = load_preset("appropriation-2020", base)
    assert appropriation.fund_usd == FACTS["appropriation_2020"] == 1.895e9
    # what the FCC prorated: 0.395 x $4,640,284,672 = $1,832,912,445 available (to the dollar)
    assert appropriation.available_usd == 1_832_912_445
    assert abs(appropriation.available_usd - FACTS["pro_rata_factor_2022"] * FACTS["priority1_estimates_2022"]) < 1
    assert appropriation.rule == "priority"  # 47 CFR 1.50004 tiers: Priority 1 prorated, Priorities 2-3 nothing
    full = load_preset("full-funding-2024", base)
    assert full.fund_usd == FACTS["total_need_2022"] == 4.98e9
    # the NDAA's $3.08B on top of the $1.895B is $4.975B: the same $4.98B to the nearest $10M
    assert abs(full.fund_usd - FACTS["appropriation_2020"] - FACTS["shortfall_funded_2024"]) <= 1e7
    for name in preset_names():
        assert load_preset(name, base).deadline == FACTS["term_months"] == 12


def test_every_cited_source_is_a_program_fact():
    for name in preset_names():
        for field, cited in preset(name).sources.items():
            keys = [word for word in cited.replace(";", " ").split() if "_" in word and word != "appropriation-2020"]
            assert keys or cited.startswith("as "), f"{name}.{field} cites nothing: {cited!r}"
            for key in keys:
                assert key in FACTS, f"{name}.{field} cites unknown fact {key!r}"


def test_extension_variants_lengthen_the_effective_deadline_by_six_months_each():
    base = Scenario()
    assert load_preset("appropriation-2020", base).effective_deadline == 12
    assert load_preset("appropriation-2020-extended", base).effective_deadline == 18
    assert load_preset("appropriation-2020-extended-twice", base).effective_deadline == 24
    assert load_preset("full-funding-2024-extended", base).effective_deadline == 18
    extended = load_preset("appropriation-2020-extended", base)
    assert (extended.fund_usd, extended.admin_reserve_usd, extended.name) == (
        1.895e9,
        62_087_555,
        "appropriation-2020-extended",
    )


def test_a_preset_keeps_the_base_calendar_and_solver_settings():
    base = Scenario(start="2021-01", horizon=30, time_limit_s=7.0, mip_gap=0.0, admin_reserve_usd=5.0, fund_usd=10.0)
    chosen = load_preset("proposal-2019", base)
    assert (chosen.start, chosen.horizon, chosen.time_limit_s, chosen.mip_gap) == ("2021-01", 30, 7.0, 0.0)
    assert chosen.admin_reserve_usd == 0  # the money is the preset's, not the base's


def test_describe_presets_lists_money_and_terms():
    rows = {row["name"]: row for row in describe_presets()}
    assert rows["appropriation-2020"]["available_usd"] == 1_832_912_445
    assert rows["appropriation-2020-optimal"]["rule"] == "optimal"


def test_a_user_file_may_extend_a_preset(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('extends = "appropriation-2020"\n[scenario]\nextensions = 3\n')
    chosen = resolve(str(path), Scenario())
    assert (chosen.fund_usd, chosen.extensions, chosen.effective_deadline, chosen.name) == (1.895e9, 3, 30, "mine")
    flat = tmp_path / "flat.toml"
    flat.write_text("fund_usd = 5\n")
    assert resolve(str(flat), Scenario()).fund_usd == 5


def test_bad_names_and_values_are_reported_with_file_and_column(tmp_path):
    with pytest.raises(InputError) as unknown:
        resolve("appropriation-2021", Scenario())
    assert unknown.value.issues[0].rule == "unknown-scenario"
    assert "appropriation-2020" in unknown.value.issues[0].message
    path = tmp_path / "broken.toml"
    path.write_text('extends = "proposal-2019"\n[scenario]\nfund_usd = -1\nrulez = "x"\n')
    with pytest.raises(InputError) as broken:
        resolve(str(path), Scenario())
    found = {(i.file, i.column, i.rule) for i in broken.value.issues}
    assert found == {("broken.toml", "fund_usd", "out-of-range"), ("broken.toml", "rulez", "unknown-key")}


@pytest.fixture
def folder(tmp_path):
    ds = dataset([site("r1", population=100, cost=100), site("r2", "b", population=40, cost=100)], name="two")
    ds = ds.__class__(ds.carriers, ds.crews, ds.sites, name="two", default_scenario=scenario(horizon=6, deadline=3))
    return write_dataset(ds, tmp_path / "two")


def test_rrplan_solve_accepts_a_preset_name(folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RRPLAN_STORE", str(tmp_path / "store.sqlite"))
    out = tmp_path / "out"
    assert run(["solve", str(folder), "--scenario", "appropriation-2020-extended", "--out", str(out), "--quiet"]) == 0
    chosen = json.loads((out / "summary.json").read_text())["scenario"]
    assert (chosen["fund_usd"], chosen["admin_reserve_usd"], chosen["extensions"]) == (1.895e9, 62_087_555, 1)
    assert (chosen["name"], chosen["horizon"]) == ("appropriation-2020-extended", 6)  # calendar from the dataset
    assert run(["solve", str(folder), "--scenario", "no-such-preset", "--out", str(out)]) == 2
    assert "unknown-scenario" in capsys.readouterr().err


def test_presets_are_package_data():
    table = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["planner"]
    assert "data/scenarios/*.toml" in table


def test_a_hostile_scenario_file_is_an_input_error_not_a_crash(tmp_path):
    """A file nested thousands deep, or far too large, is reported with exit code 2 like any bad scenario."""
    from planner.cli.main import run

    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    huge = tmp_path / "huge.toml"
    huge.write_text("# padding\n" * 200_000)
    for path in (deep, huge):
        assert (
            run(
                [
                    "solve",
                    str(ROOT / "tests" / "fixtures" / "tiny"),
                    "--scenario",
                    str(path),
                    "--out",
                    str(tmp_path / "out"),
                    "--no-store",
                ]
            )
            == 2
        )
