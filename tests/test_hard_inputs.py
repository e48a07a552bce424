"""Hard inputs, second round (issue 11): each defect fixed as the class it belongs to.

Each test names the class and asserts what a user sees: a plan, or exit code 2 with a
message naming file, row, column, rule and value; never a traceback, never a mixed folder.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import io
import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import openpyxl
import pytest

from planner.cli.main import run
from planner.core import files as files_module
from planner.core.errors import InputError, Issue, ModelError, shown_value
from planner.core.objective import objective_value
from planner.engine.heuristics import _subtree_sums
from planner.engine.planning import assemble, plan
from planner.engine.solve import CaseResult
from planner.inputs.io import read_dataset, write_dataset
from planner.inputs.tables import dataset_sha256
from planner.inputs.validation import CellError, check_dataset, parse_number
from planner.model.build import build_model
from planner.model.case import carrier_case
from planner.model.linear import LE, LinearModel
from planner.present.export import report_bytes
from planner.runs.folder import RunRecord, write_plan
from planner.runs.store import APPLICATION_ID, RunStore
from tests.conftest import ROOT, dataset, scenario, site


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
    problem = LinearModel("p")
    x = problem.column("x")
    problem.add_row("cap", [(x, 1)], LE, 1)
    problem.add_row("cap", [(x, 1)], LE, 1)  # the same row: kept once
    assert problem.row_names == ["cap"]
    with pytest.raises(ModelError, match="share the name 'cap'"):
        problem.add_row("cap", [(x, 2)], LE, 1)
    assert [c.name for c in problem.to_pulp().constraints()] == ["cap"]  # PuLP reads the same model


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


# --- 9. numbers, months, -0 and apostrophes: decided, not quietly accepted ---------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("1_000", "write 1000 without thousands separators"),
        ("1,000", "write 1000 without thousands separators"),
        ("1 000", "write 1000 without thousands separators"),
        ("\uff11\uff12", "U+FF11 FULLWIDTH DIGIT ONE"),
        ("\u0661\u0662", "U+0661 ARABIC-INDIC DIGIT ONE"),
        ("12e", "expected a number"),
        ("0x10", "expected a number"),
    ],
)
def test_numbers_python_would_take_are_refused_with_how_to_write_them(text, says):
    with pytest.raises(CellError) as excinfo:
        parse_number(text)
    assert excinfo.value.rule == "not-a-number" and says in str(excinfo.value)


@pytest.mark.parametrize(("text", "value"), [("12", 12.0), ("+1.5e3", 1500.0), (".5", 0.5), ("3.", 3.0), ("-0", 0.0)])
def test_plain_numbers_are_read(text, value):
    assert parse_number(text) == value and str(parse_number(text)) == str(value)  # "-0" is 0.0, not -0.0


def test_a_cost_written_with_arabic_digits_is_named(tmp_path, capsys):
    folder = write_dataset(chain_dataset(), tmp_path / "data")
    sites = folder / "sites.csv"
    sites.write_text(sites.read_text().replace(",100,2,0,", ",\u0661\u0660\u0660,2,0,", 1), encoding="utf-8")
    assert run(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "sites.csv:2: cost_usd: write the number with the digits 0-9" in err and "[rule: not-a-number]" in err


@pytest.mark.parametrize("start", ["0000-01", "1899-12", "2200-01", "\uff12\uff10\uff12\uff13-01", "10000-01"])
def test_a_start_month_out_of_the_years_planned_is_refused(capsys, tmp_path, start):
    folder = write_dataset(chain_dataset(), tmp_path / "data")
    assert run(["solve", str(folder), "--start", start, "--out", str(tmp_path / "out"), "--no-store"]) == 2
    assert "must be a month written YYYY-MM, year 1900-2199" in capsys.readouterr().err


def test_workers_in_other_digits_are_refused_by_the_command_line(tmp_path, capsys):
    folder = write_dataset(chain_dataset(), tmp_path / "data")
    with pytest.raises(SystemExit) as excinfo:
        run(["solve", str(folder), "--workers", "\u0661", "--out", str(tmp_path / "out")])
    assert excinfo.value.code == 2 and "digits 0-9" in capsys.readouterr().err


def test_a_negative_zero_cost_is_written_as_zero(tmp_path):
    ds = chain_dataset()
    free = dataclasses.replace(ds.sites[1], cost_usd=-0.0)
    out = tmp_path / "run"
    write_plan(plan(dataclasses.replace(ds, sites=(ds.sites[0], free, ds.sites[2])), scenario()), out)
    for name in ("schedule.csv", "carriers.csv", "monthly.csv"):
        assert "-0.0" not in (out / name).read_text()


def test_an_id_starting_with_an_apostrophe_stays_as_written_in_the_report(tmp_path):
    ds = dataset([site("'--", population=10, cost=5), site("'=x", population=5, cost=5)])
    named = dataclasses.replace(ds.carriers[0], name="'=SUM(1)")
    ds = dataclasses.replace(ds, carriers=(named,))
    out = tmp_path / "run"
    write_plan(plan(ds, scenario()), out)
    record = RunRecord.from_folder(out)
    assert sorted(record.schedule["site_id"]) == ["'--", "'=x"]
    assert list(record.carriers["name"]) == ["'=SUM(1)"]  # one apostrophe added on writing, one taken off
    sheet = openpyxl.load_workbook(io.BytesIO(report_bytes(record, "xlsx")))
    cells = {c.value for ws in sheet.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert {"'--", "'=x", "'=SUM(1)"} <= cells and "--" not in cells


# --- 3. sizes judged before any byte is read or hashed --------------------------------------

PEAK_MEMORY_OF_VALIDATE = """
import resource, sys
from planner.cli.main import run
from planner.core import files as files_module
code = run(["validate", sys.argv[1]])
print(code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


@pytest.mark.slow  # a fresh interpreter, to measure its own peak memory: about 7 s on the shared machine
@pytest.mark.parametrize("name", ["sites.csv", "scenario.toml"])
def test_a_sparse_3_gib_file_is_refused_by_its_size_without_reading_it(tmp_path, name):
    folder = write_dataset(chain_dataset(), tmp_path / "data")
    with open(folder / name, "ab") as stream:
        stream.truncate(3 * 2**30)  # sparse: 3 GiB long, no disk used
    done = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY_OF_VALIDATE, str(folder)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    code, peak_mib = (int(word) for word in done.stdout.split())
    assert code == 2 and f"{3 * 2**30:,} bytes" in done.stderr and "[rule: file-too-large]" in done.stderr
    assert peak_mib < 1024  # the file was neither read nor hashed (it once took 2-3 GB)
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("name", ["sites.csv", "crews.csv", "scenario.toml"])
def test_an_oversized_file_is_never_opened(tmp_path, monkeypatch, name):
    folder = write_dataset(chain_dataset(), tmp_path / "data")
    with open(folder / name, "ab") as stream:
        stream.truncate(3 * 2**30)
    big = folder / name
    real_open, real_read_bytes = Path.open, Path.read_bytes

    def guarded(method):
        def call(self, *args, **kwargs):
            assert self != big, f"{big.name} was opened despite its size"
            return method(self, *args, **kwargs)

        return call

    monkeypatch.setattr(Path, "open", guarded(real_open))
    monkeypatch.setattr(Path, "read_bytes", guarded(real_read_bytes))
    with pytest.raises(InputError) as excinfo:
        read_dataset(folder)
    assert [(i.file, i.rule) for i in excinfo.value.issues] == [(name, "file-too-large")]


def test_a_sparse_run_file_is_refused_by_its_size(run_folder, capsys):
    with open(run_folder / "schedule.csv", "ab") as stream:
        stream.truncate(3 * 2**30)
    assert run(["report", str(run_folder), "--format", "html"]) == 2
    assert "larger than the 256 MiB a run file can be" in capsys.readouterr().err


def test_hashing_a_folder_refuses_an_oversized_file(tmp_path):
    folder = write_dataset(chain_dataset(), tmp_path / "data")
    with open(folder / "sites.csv", "ab") as stream:
        stream.truncate(3 * 2**30)
    with pytest.raises(ValueError, match="it is not hashed"):
        dataset_sha256(folder)


# --- 4. a run folder is written whole or not at all, and read only if it is one run ------------


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def other_run(tmp_path: Path) -> Path:
    out = tmp_path / "other"
    write_plan(plan(chain_dataset(), scenario(horizon=6, deadline=6, fund_usd=150)), out)
    return out


@pytest.mark.parametrize("swap", ["exchange", "two renames"])
def test_a_full_disk_on_the_third_file_leaves_the_old_run_intact(run_folder, tmp_path, monkeypatch, swap):
    before = folder_bytes(run_folder)
    real_write, written = files_module.write_new_file, []

    def disk_fills_up(path, data):
        written.append(path.name)
        if len(written) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, data)

    monkeypatch.setattr(files_module, "write_new_file", disk_fills_up)
    if swap == "two renames":
        monkeypatch.setattr(files_module, "_exchange", lambda first, second: False)
    result = plan(chain_dataset(), scenario(horizon=6, deadline=6, fund_usd=150))
    with pytest.raises(OSError, match="No space left"):
        write_plan(result, run_folder)
    assert folder_bytes(run_folder) == before  # the old run, whole
    assert sorted(p.name for p in run_folder.parent.iterdir()) == ["run"]  # no temporary folder left
    monkeypatch.setattr(files_module, "write_new_file", real_write)
    write_plan(result, run_folder)  # and when the disk has room, the new run replaces it whole
    assert json.loads((run_folder / "summary.json").read_text())["fund_usd"] == 150
    assert sorted(p.name for p in run_folder.parent.iterdir()) == ["run"]


def test_a_full_disk_from_the_command_line_is_a_message(run_folder, tmp_path, monkeypatch, capsys):
    before = folder_bytes(run_folder)
    monkeypatch.setattr(
        files_module, "write_new_file", lambda path, data: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space"))
    )
    folder = write_dataset(chain_dataset(), tmp_path / "data")
    assert run(["solve", str(folder), "--out", str(run_folder), "--no-store", "--quiet"]) == 2
    assert "cannot read or write a file" in capsys.readouterr().err and folder_bytes(run_folder) == before


def test_report_refuses_a_folder_mixing_two_runs(run_folder, tmp_path, capsys):
    other = other_run(tmp_path)
    (run_folder / "carriers.csv").write_bytes((other / "carriers.csv").read_bytes())
    assert run(["report", str(run_folder), "--format", "html"]) == 2
    err = capsys.readouterr().err
    assert f"{run_folder / 'carriers.csv'}: is not the carriers.csv of this run" in err
    assert err.count("[rule: run-mixed]") == 1  # the other tables are this run's
    assert not (run_folder / "plan.html").exists()


def test_report_refuses_an_edited_table(run_folder, capsys):
    monthly = run_folder / "monthly.csv"
    monthly.write_text(monthly.read_text().replace("0.0", "1.0", 1))
    assert run(["report", str(run_folder), "--format", "html"]) == 2
    assert "is not the monthly.csv of this run" in capsys.readouterr().err


def test_report_refuses_an_edited_figure_of_the_summary(run_folder, capsys):
    """A reviewer files what the solve wrote: a figure changed by hand in summary.json is refused, not reported."""
    summary = run_folder / "summary.json"
    figures = json.loads(summary.read_text())
    figures["population_left_without_service"] += 1
    summary.write_text(json.dumps(figures, indent=2) + "\n")
    assert run(["report", str(run_folder), "--format", "html"]) == 2
    err = capsys.readouterr().err
    assert "the figures of summary.json are not the ones `rrplan solve` wrote" in err and "[rule: run-mixed]" in err
    assert not (run_folder / "plan.html").exists()


def test_a_run_folder_of_one_run_reports_and_names_its_run(run_folder):
    record = RunRecord.from_folder(run_folder)
    texts = {name: (run_folder / name).read_text() for name in ("schedule.csv", "carriers.csv", "monthly.csv")}
    assert record.summary["files_sha256"] == {n: hashlib.sha256(t.encode()).hexdigest() for n, t in texts.items()}
    assert len(record.summary["run_sha256"]) == 64


def test_a_folder_holding_other_files_is_not_replaced(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_bytes(b"years of work")
    folder = write_dataset(chain_dataset(), tmp_path / "data")
    assert run(["solve", str(folder), "--out", str(mine), "--no-store", "--quiet"]) == 2
    assert "holds files that are not a run's" in capsys.readouterr().err
    assert folder_bytes(mine) == {"thesis.docx": b"years of work"}


def test_reports_of_the_old_run_go_with_it(run_folder, tmp_path):
    assert run(["report", str(run_folder), "--format", "html", "--quiet"]) == 0
    write_plan(plan(chain_dataset(), scenario(horizon=6, deadline=6, fund_usd=150)), run_folder)
    assert sorted(p.name for p in run_folder.iterdir()) == [
        "carriers.csv",
        "monthly.csv",
        "schedule.csv",
        "summary.json",
    ]


# --- 6. the run store is a convenience: it never costs a plan nor touches a file not its own ----


def solve_args(folder: Path, out: Path, store: Path) -> list[str]:
    return ["solve", str(folder), "--out", str(out), "--store", str(store), "--quiet", "--workers", "1"]


def stored_once(path: Path) -> Path:
    with RunStore(path) as store:
        store.save(chain_dataset(), scenario(), {"status": "optimal"}, {"carriers.csv": "carrier_id\na\n"})
    return path


def test_a_damaged_store_warns_and_the_plan_is_written(tmp_path, capsys):
    path = stored_once(tmp_path / "runs.sqlite")
    data = bytearray(path.read_bytes())
    page = 4096
    data[page : 3 * page] = b"\xde\xad" * page  # the second and third pages: the tables' roots
    path.write_bytes(bytes(data))
    folder = write_dataset(chain_dataset(), tmp_path / "data")
    assert run(solve_args(folder, tmp_path / "out", path)) == 0
    err = capsys.readouterr().err
    assert "warning: run store" in err and "Traceback" not in err
    assert (tmp_path / "out" / "summary.json").is_file()


@pytest.mark.parametrize("kind", ["tables", "application_id"])
def test_a_foreign_sqlite_file_is_never_modified(tmp_path, capsys, kind):
    foreign = tmp_path / "cats.sqlite"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE cats (name TEXT)" if kind == "tables" else "PRAGMA application_id = 1234")
        connection.execute("CREATE TABLE IF NOT EXISTS dogs (name TEXT)")
    before = foreign.read_bytes()
    folder = write_dataset(chain_dataset(), tmp_path / "data")
    assert run(solve_args(folder, tmp_path / "out", foreign)) == 0
    err = capsys.readouterr().err
    assert "run store unusable, solving without it" in err and "left untouched" in err
    assert foreign.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [
        "cats.sqlite",
        "data",
        "out",
    ]
    assert run(["runs", "--store", str(foreign)]) == 3 and foreign.read_bytes() == before


def test_a_file_that_is_not_sqlite_is_never_modified(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    folder = write_dataset(chain_dataset(), tmp_path / "data")
    assert run(solve_args(folder, tmp_path / "out", notes)) == 0
    assert "not an SQLite file" in capsys.readouterr().err and notes.read_text() == "my notes\n"


def test_a_read_only_store_is_read_and_never_written(tmp_path, monkeypatch, capsys):
    path = stored_once(tmp_path / "runs.sqlite")
    before = path.read_bytes()
    monkeypatch.setattr(os, "access", lambda target, mode: mode != os.W_OK)  # as root, chmod alone is ignored
    assert run(["runs", "--store", str(path)]) == 0
    assert "1 run(s)" in capsys.readouterr().out
    folder = write_dataset(chain_dataset(), tmp_path / "data")
    assert run(solve_args(folder, tmp_path / "out", path)) == 0
    err = capsys.readouterr().err
    assert "read-only; the run was not recorded" in err and (tmp_path / "out" / "summary.json").is_file()
    assert path.read_bytes() == before


def test_four_identical_solves_at_once_are_one_run(tmp_path):
    path = tmp_path / "runs.sqlite"
    RunStore(path).close()
    ready = threading.Barrier(4)
    ids = []

    def record():
        with RunStore(path) as store:
            ready.wait()
            ids.append(store.save(chain_dataset(), scenario(), {"status": "optimal"}, {"a.csv": "x\n"}).run_id)

    threads = [threading.Thread(target=record) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1 and len(ids) == 4
    with RunStore(path) as store:
        assert len(store.runs()) == 1
        assert store._connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store._connection.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


# --- 10. status words agree with the proof ---------------------------------------------------


def test_a_plan_is_optimal_only_when_every_carrier_is_proven():
    """Carrier a (1,000 people) is proven; b (1 person) was stopped at half its objective. The national
    gap is 0.5 * b / (a + b), far under 1%, yet b is not proven: the plan is `feasible`, the note names b."""
    ds = dataset([site("a1", population=1000, cost=1), site("b1", "b", population=1, cost=1)])
    chosen = scenario(mip_gap=0.01)
    starts = {"a1": 0, "b1": 0}
    value = {c: objective_value(ds, chosen, {s: 0 for s in starts if s[0] == c}, 12, carrier_id=c) for c in "ab"}
    results = [
        CaseResult("a", {"a1": 0}, "optimal", value["a"], value["a"], 0.0, 0.0),
        CaseResult("b", {"b1": 0}, "feasible", value["b"], value["b"] / 2, 0.0, 0.0),
    ]
    result = assemble(ds, chosen, {"a": 1, "b": 1}, results, 12, 0.0, [])
    assert result.gap <= 0.01 and result.status == "feasible"
    assert any("b (50.0%)" in note for note in result.notes)
    proven = [results[0], dataclasses.replace(results[1], status="optimal", bound=value["b"])]
    assert assemble(ds, chosen, {"a": 1, "b": 1}, proven, 12, 0.0, []).status == "optimal"


# --- 2. deep and wide graphs: linear work, summarised warnings --------------------------------


def brute_force_subtree_sums(sites):
    """Every site's subtree as an explicit set of descendants (the old, quadratic way)."""
    children = {s.site_id: [t.site_id for t in sites if s.site_id in t.depends_on] for s in sites}
    by_id = {s.site_id: s for s in sites}

    def below(site_id):
        found, todo = {site_id}, [site_id]
        while todo:
            for child in children[todo.pop()]:
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return found

    return {s: (sum(by_id[m].population for m in below(s)), sum(by_id[m].cost_usd for m in below(s))) for s in by_id}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("shape", ["forest", "dag"])
def test_subtree_sums_equal_the_sets_they_replace(seed, shape):
    rng = random.Random(seed)
    sites = []
    for index in range(60):
        before = [f"s{rng.randrange(index)}" for _ in range(rng.choice([0, 1, 1, 2, 3]) if index else 0)]
        before = before[:1] if shape == "forest" else sorted(set(before))
        sites.append(site(f"s{index}", population=rng.randrange(50), cost=rng.randrange(1, 9), after=before))
    population, cost = _subtree_sums(tuple(sites), (lambda s: float(s.population), lambda s: s.cost_usd))
    expected = brute_force_subtree_sums(sites)
    assert {s: (population[s], cost[s]) for s in population} == expected


def long_chain(sites: int):
    return dataset(
        [site(f"c{i:04d}", population=i % 7, cost=1, after=[f"c{i - 1:04d}"] if i else []) for i in range(sites)]
    )


def test_a_long_chain_plans_and_its_warnings_are_summarised(tmp_path, capsys):
    """A 1,500-site chain of one-month sites over 12 months: 12 can be replaced (one a month), and the
    1,488 others each warn lead-time-beyond-horizon: 5 are printed, then the count of the rest."""
    folder = write_dataset(long_chain(1500), tmp_path / "data")
    out = tmp_path / "out"
    assert (
        run(["solve", str(folder), "--horizon", "12", "--deadline", "12", "--time-limit", "5", "--out", str(out)]) == 0
    )
    err = capsys.readouterr().err
    assert err.count("[rule: lead-time-beyond-horizon]") == 6
    assert "warning: ... and 1,483 more of the same rule [rule: lead-time-beyond-horizon]" in err
    assert json.loads((out / "summary.json").read_text())["sites_replaced"] == 12


def test_a_run_folder_reached_through_a_link_is_replaced_where_it_is(run_folder, tmp_path):
    link = tmp_path / "latest"
    link.symlink_to(run_folder)
    write_plan(plan(chain_dataset(), scenario(horizon=6, deadline=6, fund_usd=150)), link)
    assert link.is_symlink() and json.loads((run_folder / "summary.json").read_text())["fund_usd"] == 150
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "run"]  # no hidden folder or link left
