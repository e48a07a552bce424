"""Hard inputs, second round (issue 11): each defect fixed as the class it belongs to.

Each test names the class and asserts what a user sees: a plan, or exit code 2 with a
message naming file, row, column, rule and value; never a traceback, never a mixed folder.
"""

from __future__ import annotations

import dataclasses

import pulp
import pytest

from planner.cli.main import run
from planner.core.errors import Issue, ModelError, shown_value
from planner.engine.planning import plan
from planner.inputs.io import write_dataset
from planner.inputs.validation import check_dataset
from planner.model.build import add_row, build_model
from planner.model.case import carrier_case
from planner.runs.folder import write_plan
from tests.conftest import dataset, scenario, site


def chain_dataset():
    return dataset(
        [
            site("core", cost=100, duration=2, kind="core"),
            site("r1", population=100, cost=100, after=["core"]),
            site("r2", population=40, cost=100, after=["core", "r1"]),
        ]
    )


# --- 1. repeated tokens in a list column, duplicate rows in the model ------------------------


def test_a_dependency_named_twice_is_refused_with_its_row(tmp_path, capsys):
    ds = chain_dataset()
    twice = dataclasses.replace(ds.sites[2], depends_on=("core", "r1", "core"))
    folder = write_dataset(dataclasses.replace(ds, sites=(*ds.sites[:2], twice)), tmp_path / "data")
    assert run(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "sites.csv:4: depends_on: the list names core more than once" in err
    assert "(value: core;r1;core) [rule: repeated-in-list]" in err and "Traceback" not in err


def test_a_dataset_made_in_code_with_a_repeated_dependency_is_refused():
    ds = chain_dataset()
    twice = dataclasses.replace(ds.sites[1], depends_on=("core", "core"))
    issues = check_dataset(dataclasses.replace(ds, sites=(ds.sites[0], twice, ds.sites[2])))
    assert [(i.row, i.column, i.rule) for i in issues] == [(3, "depends_on", "repeated-in-list")]


def test_the_model_keeps_a_repeated_predecessor_once():
    """Past validation (a case built by hand), the model still never gets the same row twice."""
    ds = chain_dataset()
    twice = dataclasses.replace(ds.sites[2], depends_on=("core", "r1", "r1"))
    ds = dataclasses.replace(ds, sites=(*ds.sites[:2], twice))
    m = build_model(carrier_case(ds, scenario(), "a", 1e12))
    assert len(m.families["precedence"]) == len(set(m.families["precedence"])) > 0


def test_two_different_rows_under_one_name_are_refused_before_the_solver():
    problem = pulp.LpProblem("p", pulp.LpMinimize)
    x = pulp.LpVariable("x", lowBound=0)
    add_row(problem, pulp.LpConstraint(pulp.LpAffineExpression([(x, 1)]), pulp.LpConstraintLE, "cap", 1))
    add_row(problem, pulp.LpConstraint(pulp.LpAffineExpression([(x, 1)]), pulp.LpConstraintLE, "cap", 1))  # same
    assert list(problem.constraints) == ["cap"]
    with pytest.raises(ModelError, match="share the name 'cap'"):
        add_row(problem, pulp.LpConstraint(pulp.LpAffineExpression([(x, 2)]), pulp.LpConstraintLE, "cap", 1))


def test_the_plan_of_a_chain_is_unchanged_by_the_guard():
    """core (2 months) then r1 then r2 with one tower crew: core starts at 0, r1 at 2, r2 at 3."""
    result = plan(chain_dataset(), scenario(horizon=6, deadline=6))
    assert result.starts == {"core": 0, "r1": 2, "r2": 3}


# --- 7. run files that are not UTF-8 ---------------------------------------------------------


@pytest.fixture
def run_folder(tmp_path):
    out = tmp_path / "run"
    write_plan(plan(chain_dataset(), scenario(horizon=6, deadline=6)), out)
    return out


def test_a_run_file_with_one_non_utf8_byte_is_named_not_a_traceback(run_folder, capsys):
    carriers = run_folder / "carriers.csv"
    lines = carriers.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b"Carrier a", b"Carri\xe9r a")
    carriers.write_bytes(b"\n".join(lines))
    assert run(["report", str(run_folder), "--format", "html"]) == 2
    err = capsys.readouterr().err
    assert f"{carriers}:2: byte 0xe9 is not UTF-8 text" in err and "Carri\\xe9r a" in err
    assert "[rule: encoding]" in err and "Traceback" not in err
    assert not (run_folder / "plan.html").exists()


# --- 8. messages a person can act on ---------------------------------------------------------


def test_a_value_with_a_hidden_character_shows_its_code_point_and_name():
    issue = Issue("sites.csv", 5, "depends_on", "unknown-site", "A\u200b-core", "depends on a site_id not in sites.csv")
    assert str(issue) == (
        "sites.csv:5: depends_on: depends on a site_id not in sites.csv "
        "(value: A\\u200b-core; U+200B ZERO WIDTH SPACE) [rule: unknown-site]"
    )
    assert shown_value("\ufeffn-core") == "\\ufeffn-core; U+FEFF ZERO WIDTH NO-BREAK SPACE"
    assert shown_value("n-c\u043ere") == "n-c\\u043ere; U+043E CYRILLIC SMALL LETTER O"
    assert shown_value("Pe\u00f1asco") == "Pe\u00f1asco"  # a Latin letter is what it looks like


@pytest.mark.parametrize("name", ["sites.csv", "carriers.csv"])
def test_a_dataset_file_that_is_a_folder_is_called_a_folder(tmp_path, capsys, name):
    folder = write_dataset(chain_dataset(), tmp_path / "data")
    (folder / name).unlink()
    (folder / name).mkdir()
    assert run(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert f"{name}: {name} is a folder, not a CSV file; put the CSV file there [rule: not-a-file]" in err
    assert "rename it" not in err


def test_a_dataset_file_that_links_to_a_device_is_called_a_device(tmp_path, capsys):
    folder = write_dataset(chain_dataset(), tmp_path / "data")
    (folder / "sites.csv").unlink()
    (folder / "sites.csv").symlink_to("/dev/zero")
    assert run(["validate", str(folder)]) == 2  # never reads /dev/zero (which would never end)
    assert "sites.csv is a link to /dev/zero, a device, not a CSV file" in capsys.readouterr().err


def test_a_scenario_toml_that_is_a_folder_is_an_error_not_ignored(tmp_path, capsys):
    folder = write_dataset(chain_dataset(), tmp_path / "data")
    (folder / "scenario.toml").mkdir()
    assert run(["validate", str(folder)]) == 2
    assert "scenario.toml: scenario.toml is a folder, not a scenario file [rule: not-a-file]" in capsys.readouterr().err
    assert run(["validate", str(write_dataset(chain_dataset(), tmp_path / "ok")), "--scenario", str(tmp_path)]) == 2
    assert "is a folder, not a scenario file" in capsys.readouterr().err
