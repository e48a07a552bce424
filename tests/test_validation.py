"""Every dataset rule fires on a folder with exactly that defect, and says where and why.

The folders live in tests/fixtures/broken (written by make_broken.py from the tiny dataset,
one defect each). A user reading a message must find the file, the row, the column, the
rule and the offending value, and fixing that one thing must make the folder load.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from planner import InputError, read_dataset
from planner.cli.main import run
from planner.core.errors import shown_value
from planner.inputs.io import write_dataset
from planner.inputs.tables import MAX_FILE_BYTES
from planner.inputs.uploads import dataset_from_upload
from planner.inputs.validation import DATASET_RULES, check_against_scenario
from tests.conftest import dataset, site
from tests.fixtures.broken import make_broken

FIXTURES = Path(__file__).parent / "fixtures"
TINY = FIXTURES / "tiny"
BROKEN = FIXTURES / "broken"

DEFECTS = {d.folder: d for d in make_broken.DEFECTS}
# Rules whose trigger cannot be a small committed folder: tested on their own below.
RULES_TESTED_ELSEWHERE = {
    "missing-folder",
    "not-a-file",  # a folder or device named sites.csv: tests/test_hard_inputs.py
    "file-too-large",
    "too-many-rows",
    "lead-time-beyond-horizon",
    "large-model",
    # plans from today: rules that need the scenario's as_of (tests/test_plans_from_today.py)
    "started-after-as-of",
    "replaced-unfinished",
    "as-of-outside-horizon",
}


def located(issue) -> tuple:
    return issue.file, issue.row, issue.column, issue.rule, issue.value


def expected(defect) -> tuple:
    return defect.file, defect.row, defect.column, defect.rule, defect.value


@pytest.mark.parametrize("name", [d.folder for d in make_broken.DEFECTS if d.severity == "error"])
def test_each_defect_gives_exactly_its_error(name):
    defect = DEFECTS[name]
    with pytest.raises(InputError) as excinfo:
        read_dataset(BROKEN / name)
    assert [located(i) for i in excinfo.value.issues] == [expected(defect)]
    (issue,) = excinfo.value.issues
    text = str(issue)
    where = issue.file if issue.row is None else f"{issue.file}:{issue.row}"
    assert text.startswith(f"{where}: " + (f"{issue.column}: " if issue.column else ""))
    assert f"[rule: {issue.rule}]" in text
    if issue.value:
        assert issue.value[:40] in text or shown_value(issue.value)[:40] in text
    assert len(issue.message) > 15  # a sentence, not a code


@pytest.mark.parametrize("name", [d.folder for d in make_broken.DEFECTS if d.severity == "warning"])
def test_warnings_do_not_stop_loading(name):
    defect = DEFECTS[name]
    dataset = read_dataset(BROKEN / name)
    matching = [w for w in dataset.warnings if located(w) == expected(defect)]
    assert len(matching) == 1 and matching[0].severity == "warning"


@pytest.mark.parametrize("name", ["bom", "windows-line-endings"])
def test_bom_and_windows_line_endings_load_as_the_original(name):
    odd, tiny = read_dataset(BROKEN / name), read_dataset(TINY)
    assert (odd.carriers, odd.crews, odd.sites, odd.default_scenario) == (
        tiny.carriers,
        tiny.crews,
        tiny.sites,
        tiny.default_scenario,
    )
    assert odd.warnings == ()


def test_every_rule_has_a_broken_folder():
    covered = {d.rule for d in make_broken.DEFECTS if d.rule}
    assert covered | RULES_TESTED_ELSEWHERE >= set(DATASET_RULES)
    assert covered <= set(DATASET_RULES)  # no fixture fires an undocumented rule


def test_every_rule_is_in_the_documentation():
    from planner.inputs.uploads import UPLOAD_RULES

    text = (Path(__file__).parent.parent / "docs" / "hard-inputs.md").read_text(encoding="utf-8")
    assert [
        rule for rule in (*DATASET_RULES, *UPLOAD_RULES) if f"| `{rule}`" not in text and f", `{rule}`" not in text
    ] == []


def test_committed_folders_match_the_generator(tmp_path):
    make_broken.write_all(tmp_path)
    for defect in make_broken.DEFECTS:
        made = {p.name: p.read_bytes() for p in (tmp_path / defect.folder).iterdir()}
        committed = {p.name: p.read_bytes() for p in (BROKEN / defect.folder).iterdir()}
        assert made == committed, f"run python {BROKEN / 'make_broken.py'} to refresh {defect.folder}"


def test_all_problems_are_reported_at_once(tmp_path):
    files = make_broken.broken_files(DEFECTS["negative-cost"])
    for name in ("dependency-cycle", "bad-state", "unknown-carrier-in-crews"):
        DEFECTS[name].edit(files)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    with pytest.raises(InputError) as excinfo:
        read_dataset(tmp_path)
    assert sorted(i.rule for i in excinfo.value.issues) == [
        "bad-state",
        "dependency-cycle",
        "negative",
        "unknown-carrier",
    ]


def test_a_misnamed_column_gets_a_hint():
    with pytest.raises(InputError) as excinfo:
        read_dataset(BROKEN / "missing-column")
    assert "the header has 'cost': rename it to 'cost_usd'" in excinfo.value.issues[0].message


def test_a_broken_header_does_not_cascade_into_unknown_ids(tmp_path):
    """crews.csv without its capacity column: one issue, not one per site needing a crew."""
    files = make_broken.broken_files(make_broken.Defect("x", lambda f: None))
    files["crews.csv"] = b"carrier_id,crew_type,cap\nnorth,core,1\nnorth,tower,2\nsouth,core,1\nsouth,tower,1\n"
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    with pytest.raises(InputError) as excinfo:
        read_dataset(tmp_path)
    assert [located(i) for i in excinfo.value.issues] == [("crews.csv", 1, "capacity", "missing-column", None)]


def test_a_100_mb_file_is_refused_fast_by_size(tmp_path):
    for name in ("carriers.csv", "crews.csv", "scenario.toml"):
        (tmp_path / name).write_bytes((TINY / name).read_bytes())
    row = (TINY / "sites.csv").read_text().splitlines()[3] + "\n"
    with open(tmp_path / "sites.csv", "w") as out:
        out.write((TINY / "sites.csv").read_text().splitlines()[0] + "\n")
        out.write(row * (100 * 1024 * 1024 // len(row) + 1))
    assert (tmp_path / "sites.csv").stat().st_size > 100 * 1024 * 1024
    began = time.perf_counter()
    with pytest.raises(InputError) as excinfo:
        read_dataset(tmp_path)
    assert time.perf_counter() - began < 2.0  # refused from its size, never parsed
    (issue,) = excinfo.value.issues
    assert (issue.file, issue.rule) == ("sites.csv", "file-too-large")
    assert f"{MAX_FILE_BYTES // 2**20} MiB limit" in issue.message and issue.value.endswith("bytes")


def copy_tiny(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    for path in TINY.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    return folder


def test_a_file_with_too_many_rows_is_refused_before_parsing(tmp_path):
    folder = copy_tiny(tmp_path / "data")
    with open(folder / "crews.csv", "a") as out:
        out.write("north,tower,1,\n" * 100_001)
    began = time.perf_counter()
    with pytest.raises(InputError) as excinfo:
        read_dataset(folder)
    assert time.perf_counter() - began < 2.0
    assert [located(i) for i in excinfo.value.issues] == [("crews.csv", None, None, "too-many-rows", "100,006 lines")]
    assert "more than 100,000 rows" in excinfo.value.issues[0].message


def test_a_huge_scenario_file_is_refused_unread(tmp_path):
    folder = copy_tiny(tmp_path / "data")
    (folder / "scenario.toml").write_text("# padding\n" * 200_000)
    with pytest.raises(InputError) as excinfo:
        read_dataset(folder)
    (issue,) = excinfo.value.issues
    assert (issue.file, issue.rule) == ("scenario.toml", "file-too-large") and issue.value == "2,000,000 bytes"


def test_an_overlong_id_is_refused(tmp_path):
    folder = copy_tiny(tmp_path / "data")
    long_id = "s" * 201
    sites = folder / "sites.csv"
    sites.write_text(sites.read_text().replace("s-r2,south", f"{long_id},south"))
    with pytest.raises(InputError) as excinfo:
        read_dataset(folder)
    assert [located(i) for i in excinfo.value.issues] == [("sites.csv", 8, "site_id", "bad-id", long_id)]


def test_a_100_mb_upload_is_refused_fast_by_size(tmp_path):
    huge = b"x" * (100 * 1024 * 1024)
    began = time.perf_counter()
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([("sites.csv", huge)], tmp_path)
    assert time.perf_counter() - began < 1.0
    assert [i.rule for i in excinfo.value.issues] == ["upload-too-large"]
    assert list(tmp_path.iterdir()) == []


def test_lead_time_beyond_the_horizon_is_a_warning_with_its_row():
    """Horizon 3: the cores finish in month 3 (lead 1 + 2, lead 2 + 1); everything behind them cannot."""
    dataset = read_dataset(TINY)
    issues = check_against_scenario(dataset, dataset.default_scenario.with_overrides(horizon=3))
    assert sorted((i.row, i.value) for i in issues) == [(3, "0"), (4, "0"), (5, "0"), (7, "0"), (8, "0")]
    assert all(
        (i.file, i.column, i.rule, i.severity) == ("sites.csv", "lead_time", "lead-time-beyond-horizon", "warning")
        for i in issues
    )
    n_r3 = next(i for i in issues if i.row == 5)
    assert "(earliest start month 4)" in n_r3.message and "earliest finish at month 6" in n_r3.message


def test_a_horizon_that_makes_the_model_huge_is_warned_about(rural40):
    """rural40 over 600 months: about 2.5 million start variables; 48 months: no warning."""
    assert [i for i in check_against_scenario(rural40, rural40.default_scenario) if i.rule == "large-model"] == []
    (issue,) = [
        i
        for i in check_against_scenario(rural40, rural40.default_scenario.with_overrides(horizon=600))
        if i.rule == "large-model"
    ]
    assert issue.severity == "warning" and issue.column == "horizon" and issue.value == "2,466,564 site-months"


def test_solve_with_a_lead_time_beyond_the_horizon_still_plans(tmp_path, capsys):
    """It is a warning, not an error: the site is left out and the rest is planned."""
    code = run(
        [
            "solve",
            str(TINY),
            "--horizon",
            "2",
            "--deadline",
            "2",
            "--out",
            str(tmp_path / "out"),
            "--quiet",
            "--no-store",
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "warning: sites.csv:2: lead_time:" in err and "[rule: lead-time-beyond-horizon]" in err


@pytest.mark.parametrize(
    "name",
    ["dependency-cycle", "not-utf8", "missing-file", "scenario-bad-type", "unclosed-quote", "duplicate-crew-row"],
)
@pytest.mark.parametrize("command", ["validate", "solve"])
def test_cli_lists_every_problem_and_exits_2(name, command, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [command, str(BROKEN / name)] + (["--out", str(out), "--no-store"] if command == "solve" else [])
    assert run(argv) == 2
    err = capsys.readouterr().err
    defect = DEFECTS[name]
    where = defect.file if defect.row is None else f"{defect.file}:{defect.row}"
    line = next(line for line in err.splitlines() if line.startswith(where))
    assert line.startswith(f"{where}: " + (f"{defect.column}: " if defect.column else ""))
    assert f"[rule: {defect.rule}]" in line
    assert "Traceback" not in err and "1 problem(s) in the input; nothing was solved" in err
    assert not out.exists()


def test_cli_lists_all_problems_of_a_folder(tmp_path, capsys):
    files = make_broken.broken_files(DEFECTS["negative-cost"])
    DEFECTS["dependency-cycle"].edit(files)
    DEFECTS["bad-state"].edit(files)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    assert run(["validate", str(tmp_path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" ", 1)[0] for line in lines[:-1]] == ["carriers.csv:2:", "sites.csv:4:", "sites.csv:2:"]
    assert lines[-1] == "rrplan: 3 problem(s) in the input; nothing was solved"


def test_cli_on_a_folder_that_does_not_exist(tmp_path, capsys):
    assert run(["validate", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "dataset folder does not exist" in err and "[rule: missing-folder]" in err and "Traceback" not in err


@pytest.mark.parametrize("bad", ["=cmd|' /C calc'!A0", "+1", "-core", "@SUM(A1)"])
def test_ids_that_a_spreadsheet_would_run_are_refused(tmp_path, bad):
    folder = copy_tiny(tmp_path / "data")
    sites = folder / "sites.csv"
    sites.write_text(sites.read_text().replace("s-r2,south", f'"{bad}",south'))
    with pytest.raises(InputError) as excinfo:
        read_dataset(folder)
    assert [located(i) for i in excinfo.value.issues] == [("sites.csv", 8, "site_id", "bad-id", bad)]


def test_formula_like_names_are_written_with_an_apostrophe_and_read_back_unchanged(tmp_path):
    """CSV injection: a name a spreadsheet would run is neutralised on the way out, restored on the way in."""
    from dataclasses import replace

    from planner.inputs.io import write_dataset
    from planner.inputs.tables import dataset_tables

    tiny = read_dataset(TINY)
    names = {"n-r1": '=HYPERLINK("http://example.com","click")', "n-r2": "+1", "n-r3": "@SUM(A1)", "s-r1": "-5"}
    odd = replace(tiny, sites=tuple(replace(s, name=names.get(s.site_id, s.name)) for s in tiny.sites))
    text = dataset_tables(odd)["sites.csv"]
    assert """'=HYPERLINK(""http://example.com"",""click"")""" in text and ",'+1," in text and ",'-5," in text
    again = read_dataset(write_dataset(odd, tmp_path / "out"))
    assert again.sites == odd.sites and again.site_by_id["n-r1"].name == names["n-r1"]


def test_a_workbook_in_place_of_a_csv_gets_a_hint(tmp_path):
    folder = copy_tiny(tmp_path / "data")
    (folder / "sites.csv").rename(folder / "Sites.xlsx")
    with pytest.raises(InputError) as excinfo:
        read_dataset(folder)
    (issue,) = excinfo.value.issues
    assert (
        issue.rule == "missing-file"
        and "the folder has Sites.xlsx: save it as 'CSV UTF-8' named sites.csv" in issue.message
    )


def test_cli_on_a_file_instead_of_a_folder(capsys):
    assert run(["validate", str(TINY / "sites.csv")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_spreadsheet_error_values_get_their_own_hint(tmp_path):
    folder = copy_tiny(tmp_path / "data")
    sites = folder / "sites.csv"
    sites.write_text(sites.read_text().replace("800,120000", "800,#N/A"))
    with pytest.raises(InputError) as excinfo:
        read_dataset(folder)
    (issue,) = excinfo.value.issues
    assert (issue.row, issue.column, issue.rule, issue.value) == (4, "cost_usd", "not-a-number", "#N/A")
    assert "spreadsheet error value" in issue.message


def test_cli_validate_warns_about_extra_columns_and_succeeds(capsys):
    assert run(["validate", str(BROKEN / "extra-column")]) == 0
    captured = capsys.readouterr()
    assert "warning: sites.csv:1: notes: column is not part of the format" in captured.err
    assert "valid" in captured.out


@pytest.mark.parametrize(
    "text, said",
    [(b"sep=;\ncarrier_id;crew_type\n", "';'"), (b"carrier_id\tcrew_type\tcapacity\nnorth\ttower\t1\n", "tabs")],
)
def test_other_separators_are_named(text, said):
    from planner.inputs.tables import parse_table

    issues = []
    assert parse_table("crews.csv", text, issues) is None
    (issue,) = issues
    assert (issue.row, issue.rule) == (1, "wrong-delimiter") and f"separated by {said}" in issue.message


def test_a_scenario_nested_thousands_deep_is_a_syntax_problem_not_a_crash(tmp_path):
    folder = copy_tiny(tmp_path / "data")
    (folder / "scenario.toml").write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(InputError) as excinfo:
        read_dataset(folder)
    assert [(i.file, i.rule) for i in excinfo.value.issues] == [("scenario.toml", "toml-syntax")]


def test_range_messages_say_the_bounds_in_words(tmp_path):
    """A cost over the $1 trillion limit is told 'at most $1 trillion', not '1e+12'."""
    from planner.core.wording import range_words, usd_words
    from planner.inputs.validation import MAX_USD

    assert usd_words(MAX_USD) == "$1 trillion" and usd_words(4.98e9) == "$4.98 billion"
    assert range_words(0, 400_000_000) == "at most 400,000,000" and range_words(1, 600) == "between 1 and 600"
    folder = tmp_path / "big"
    write_dataset(dataset([site("s1", cost=1.0)]), folder)
    text = (folder / "sites.csv").read_text(encoding="utf-8").replace(",0,1,1,0,", ",0,2000000000000,1,0,", 1)
    (folder / "sites.csv").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_dataset(folder)
    messages = [i.message for i in err.value.issues if i.column == "cost_usd"]
    assert messages and "at most $1 trillion" in messages[0] and "e+" not in messages[0]
