"""Fuzzed inputs: whatever a spreadsheet does to the files, the planner answers or explains.

Mutations of two small datasets (the tiny fixture and three carriers cut from the
embedded rural40 dataset): drop or rename a column, swap two columns, corrupt cells with
the values spreadsheets produce, shuffle, duplicate or delete rows, truncate a file,
insert stray bytes, change line endings, write list cells as people do (a site named twice,
empty tokens, invisible or look-alike characters), re-draw the dependency graph (chain, star,
tree, DAG with shared sites, cycle). Oversized files of every name and size (sparse, up to
1 TiB) are refused unread, and damaged run folders (bits flipped, tables of another run,
truncated, non-UTF-8, a folder in a file's place) are refused or reported, never a traceback.
The outcome must always be a Dataset (and, for
the sample that is solved, a plan that passes `check_plan`) or an InputError whose every
issue names a documented rule; never another exception. About 1,100 cases in all.
"""

from __future__ import annotations

import csv
import io
import random
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import planner
from planner import InputError
from planner.cli.main import run
from planner.inputs.tables import MAX_FILE_BYTES
from planner.inputs.uploads import UPLOAD_RULES, dataset_from_upload
from planner.inputs.validation import DATASET_RULES
from planner.runs.folder import write_plan

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "fixtures" / "tiny"
RURAL40 = ROOT / "datasets" / "rural40"
CSV_FILES = ("carriers.csv", "crews.csv", "sites.csv")
SUBSET = ("c19", "c27", "c40")  # the three carriers of rural40 with the fewest sites (46 in all)
FUZZ = settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], database=None
)

NASTY_CELLS = [
    "",
    " ",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "1e309",
    "-1",
    "0",
    "-0",
    "1.5",
    "2.0",
    "1e15",
    "abc",
    "$1,000",
    "1,000",
    '"',
    "'",
    "=1+1",
    "n-core",
    "c19-core",
    "a;b",
    "\t",
    "TRUE",
    "None",
    "null",
    "0x10",
    "1_000",
    "١٢",
    "𝟙",
    "é",
    "\u200b",
    "9" * 40,
    "-9" * 20,
    "2023-03",
    "38035",
    "ND",
]


def subset_of_rural40() -> dict[str, bytes]:
    """carriers, crews and sites of SUBSET, as the CSV text of the embedded dataset."""
    files = {}
    for name in CSV_FILES:
        rows = list(csv.reader(io.StringIO((RURAL40 / name).read_text(encoding="utf-8"), newline="")))
        column = rows[0].index("carrier_id")
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([rows[0], *(r for r in rows[1:] if r[column] in SUBSET)])
        files[name] = buffer.getvalue().encode()
    files["scenario.toml"] = (
        b'fund_usd = 45000000\nrule = "pro_rata"\nstart = "2022-08"\nhorizon = 24\n'
        b"deadline = 12\ntime_limit_s = 2\nmip_gap = 0.01\n"
    )
    return files


BASES = {
    "tiny": {name: (TINY / name).read_bytes() for name in (*CSV_FILES, "scenario.toml")},
    "rural40-subset": subset_of_rural40(),
}


# --- mutations: each takes the file dict and a Random, and changes one thing -------------------


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def _text(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


def drop_column(files, name, rng):
    rows = _rows(files[name])
    index = rng.randrange(len(rows[0]))
    files[name] = _text([r[:index] + r[index + 1 :] for r in rows])


def rename_column(files, name, rng):
    rows = _rows(files[name])
    rows[0][rng.randrange(len(rows[0]))] = rng.choice(
        ["Cost", "site id", "cost_usd", "crew_", "crew_x", "", "depends_on"]
    )
    files[name] = _text(rows)


def swap_columns(files, name, rng):
    """Exchange two columns' cells under unchanged headers: numbers land in text columns and back."""
    rows = _rows(files[name])
    i, j = rng.randrange(len(rows[0])), rng.randrange(len(rows[0]))
    for row in rows[1:]:
        if len(row) > max(i, j):
            row[i], row[j] = row[j], row[i]
    files[name] = _text(rows)


def corrupt_cell(files, name, rng):
    rows = _rows(files[name])
    if len(rows) < 2:
        return
    row = rng.choice(rows[1:])
    if row:
        row[rng.randrange(len(row))] = rng.choice(NASTY_CELLS)
    files[name] = _text(rows)


def shuffle_rows(files, name, rng):
    rows = _rows(files[name])
    body = rows[1:]
    rng.shuffle(body)
    files[name] = _text([rows[0], *body])


def duplicate_row(files, name, rng):
    rows = _rows(files[name])
    if len(rows) > 1:
        rows.insert(rng.randrange(1, len(rows) + 1), list(rng.choice(rows[1:])))
    files[name] = _text(rows)


def delete_row(files, name, rng):
    rows = _rows(files[name])
    if len(rows) > 1:
        del rows[rng.randrange(1, len(rows))]
    files[name] = _text(rows)


def truncate(files, name, rng):
    files[name] = files[name][: rng.randrange(len(files[name]) + 1)]


def insert_bytes(files, name, rng):
    data = files[name]
    at = rng.randrange(len(data) + 1)
    stray = rng.choice([b"\x00", b"\xff", b"\xe9", b'"', b",", b"\n", b"\r", b"\xef\xbb\xbf", bytes(rng.randbytes(3))])
    files[name] = data[:at] + stray + data[at:]


def line_endings(files, name, rng):
    files[name] = files[name].replace(b"\n", rng.choice([b"\r\n", b"\r"]))


def drop_file(files, name, rng):
    del files[name]


def scenario_value(files, name, rng):
    key = rng.choice(
        [
            "fund_usd",
            "horizon",
            "deadline",
            "rule",
            "mip_gap",
            "time_limit_s",
            "start",
            "objective",
            "extensions",
            "dark_weight",
            "admin_reserve_usd",
            "bogus",
        ]
    )
    value = rng.choice(
        [
            "0",
            "-1",
            "1",
            "3",
            "nan",
            "inf",
            "1e300",
            '"optimal"',
            '"greedy"',
            '"makespan"',
            '"2023-13"',
            "2.5",
            "[1, 2]",
            "{a = 1}",
            "true",
            '"x"',
            "600",
            "601",
        ]
    )
    files["scenario.toml"] = files.get("scenario.toml", b"") + f"\n{key} = {value}\n".encode()


LIST_TOKENS = ["", " ", ";", "\u200b", "\ufeff", "\u00a0", "\u043e", "\uff0d", "-", "_"]


def list_cell(files, name, rng):
    """depends_on as people write lists: a token repeated, empty tokens, invisible or look-alike characters."""
    rows = _rows(files["sites.csv"])
    if len(rows) < 2 or "depends_on" not in rows[0]:
        return
    column, ids = rows[0].index("depends_on"), [r[0] for r in rows[1:] if r]
    row = rng.choice(rows[1:])
    if len(row) <= column:
        return
    tokens = [t for t in row[column].split(";") if t] or [rng.choice(ids)]
    action = rng.randrange(4)
    if action == 0:
        tokens.append(rng.choice(tokens))  # the same site twice
    elif action == 1:
        tokens.insert(rng.randrange(len(tokens) + 1), "")  # a;;b
    elif action == 2:
        at = rng.randrange(len(tokens))
        cut = rng.randrange(len(tokens[at]) + 1)
        tokens[at] = tokens[at][:cut] + rng.choice(LIST_TOKENS) + tokens[at][cut:]
    else:
        tokens = [rng.choice(ids) for _ in range(rng.randrange(1, 5))]
    row[column] = rng.choice([";", "; ", " ;"]).join(tokens)
    files["sites.csv"] = _text(rows)


def graph_shape(files, name, rng):
    """Re-draw each carrier's dependencies as a chain, a star, a tree, a DAG with shared sites, or one with
    a cycle: the graph shapes a dataset may hold, valid or not."""
    rows = _rows(files["sites.csv"])
    if len(rows) < 2 or not {"site_id", "carrier_id", "depends_on"} <= set(rows[0]):
        return
    sid, cid, dep = (rows[0].index(c) for c in ("site_id", "carrier_id", "depends_on"))
    shape = rng.choice(["chain", "star", "tree", "dag", "cycle"])
    by_carrier: dict[str, list[list[str]]] = {}
    for row in rows[1:]:
        if len(row) > max(sid, cid, dep):
            by_carrier.setdefault(row[cid], []).append(row)
    for members in by_carrier.values():
        for index, row in enumerate(members):
            earlier = [m[sid] for m in members[:index]]
            if not earlier:
                before = [members[-1][sid]] if shape == "cycle" and len(members) > 1 else []
            elif shape in ("chain", "cycle"):
                before = [earlier[-1]]
            elif shape == "star":
                before = [earlier[0]]
            elif shape == "tree":
                before = [earlier[(index - 1) // 2]]
            else:
                before = sorted(set(rng.sample(earlier, min(len(earlier), rng.randrange(1, 4)))))
            row[dep] = ";".join(before)
    files["sites.csv"] = _text(rows)


MUTATIONS = (
    list_cell,
    graph_shape,
    drop_column,
    rename_column,
    swap_columns,
    corrupt_cell,
    corrupt_cell,
    corrupt_cell,
    shuffle_rows,
    duplicate_row,
    delete_row,
    truncate,
    insert_bytes,
    line_endings,
    drop_file,
    scenario_value,
)


def mutate(base: str, seed: int, count: int) -> tuple[dict[str, bytes], list[str]]:
    rng = random.Random(seed)
    files = dict(BASES[base])
    applied = []
    for _ in range(count):
        mutation = rng.choice(MUTATIONS)
        present = [n for n in CSV_FILES if n in files]
        if not present:
            break
        name = "scenario.toml" if mutation is scenario_value else rng.choice(present)
        if mutation in (list_cell, graph_shape) and "sites.csv" not in files:
            continue
        try:
            mutation(files, name, rng)
        except (UnicodeDecodeError, csv.Error, IndexError, ValueError):
            continue  # an earlier mutation left bytes or an empty header this helper cannot work on: keep them
        applied.append(f"{mutation.__name__}({name})")
    return files, applied


def load(files: dict[str, bytes], workdir: Path):
    """The dataset, or the InputError, after checking the error is well formed."""
    try:
        return dataset_from_upload(list(files.items()), workdir)
    except InputError as err:
        assert err.issues, "an InputError must list at least one problem"
        for issue in err.issues:
            assert issue.rule in DATASET_RULES or issue.rule in UPLOAD_RULES, issue
            assert str(issue) and issue.message
        return err


@settings(FUZZ, max_examples=800)
@given(base=st.sampled_from(sorted(BASES)), seed=st.integers(0, 2**32), count=st.integers(1, 3))
def test_mutated_datasets_load_or_explain(base, seed, count, tmp_path):
    files, applied = mutate(base, seed, count)
    began = time.perf_counter()
    load(files, tmp_path)
    assert time.perf_counter() - began < 5, f"loading took too long after {applied}"


@settings(FUZZ, max_examples=200)
@given(base=st.sampled_from(sorted(BASES)), seed=st.integers(0, 2**32), count=st.integers(1, 2))
def test_cli_validate_exits_0_or_2_without_traceback(base, seed, count, tmp_path_factory, capsys):
    files, applied = mutate(base, seed, count)
    folder = tmp_path_factory.mktemp("case")
    for name, data in files.items():
        (folder / name).write_bytes(data)
    code = run(["validate", str(folder)])
    err = capsys.readouterr().err
    assert code in (0, 2), applied
    assert "Traceback" not in err
    if code == 2:
        problems = err.splitlines()[-1]
        assert problems.startswith("rrplan: ") and "problem(s) in the input" in problems


# --- the valid mutants are solved: every plan must pass the independent validator ----------------

BENIGN = (shuffle_rows, duplicate_row, delete_row, corrupt_cell, scenario_value, line_endings, graph_shape, list_cell)


@settings(FUZZ, max_examples=100)
@given(seed=st.integers(0, 2**32), count=st.integers(1, 3), big=st.integers(0, 9))
def test_valid_mutants_solve_to_valid_plans(seed, count, big, tmp_path):
    """Mostly the tiny dataset (fast); one case in ten is the rural40 subset."""
    rng = random.Random(seed)
    files = dict(BASES["rural40-subset" if big == 0 else "tiny"])
    for _ in range(count):
        mutation = rng.choice(BENIGN)
        name = "scenario.toml" if mutation is scenario_value else rng.choice(CSV_FILES)
        if mutation in (list_cell, graph_shape) and "sites.csv" not in files:
            continue
        mutation(files, name, rng)
    outcome = load(files, tmp_path)
    if isinstance(outcome, InputError):
        return
    scenario = outcome.default_scenario.with_overrides(time_limit_s=2.0)
    problems = planner.inputs.validation.check_against_scenario(outcome, scenario)
    assert all(p.severity == "warning" for p in problems)
    began = time.perf_counter()
    result = planner.plan(outcome, scenario, workers=1)
    assert time.perf_counter() - began < 30
    assert planner.check_plan(result) == []
    assert set(result.starts) <= set(outcome.site_by_id)


# --- row order ----------------------------------------------------------------------------------


def figures(result) -> dict:
    keep = (
        "objective",
        "sites_replaced",
        "population_left_without_service",
        "exposure_population_months",
        "allocated_usd",
        "spend_usd",
        "carriers_done_by_deadline",
        "makespan",
    )
    summary = planner.summary(result)
    return {k: (round(summary[k], 6) if isinstance(summary[k], float) else summary[k]) for k in keep}


def shuffled(base: str, seed: int) -> dict[str, bytes]:
    rng = random.Random(seed)
    files = dict(BASES[base])
    for name in CSV_FILES:
        shuffle_rows(files, name, rng)
    return files


@settings(FUZZ, max_examples=25)
@given(seed=st.integers(0, 2**32), rule=st.sampled_from(["pro_rata", "priority", "greedy", "optimal"]))
def test_row_order_does_not_change_the_tiny_plan(seed, rule, tmp_path):
    original = dataset_from_upload(list(BASES["tiny"].items()), tmp_path)
    reordered = dataset_from_upload(list(shuffled("tiny", seed).items()), tmp_path)
    scenario = original.default_scenario.with_overrides(rule=rule)
    assert figures(planner.plan(reordered, scenario, workers=1)) == figures(planner.plan(original, scenario, workers=1))


def test_row_order_does_not_change_the_rural40_subset_plan(tmp_path):
    """Solved to proven optimality (gap 0), the figures cannot depend on the order of the rows."""
    original = dataset_from_upload(list(BASES["rural40-subset"].items()), tmp_path)
    scenario = original.default_scenario.with_overrides(mip_gap=0.0, time_limit_s=30)
    reference = planner.plan(original, scenario, workers=1)
    assert reference.status == "optimal"
    reordered = dataset_from_upload(list(shuffled("rural40-subset", 2026).items()), tmp_path)
    assert [c.carrier_id for c in reordered.carriers] != [c.carrier_id for c in original.carriers] or [
        s.site_id for s in reordered.sites
    ] != [s.site_id for s in original.sites]
    again = planner.plan(reordered, scenario, workers=1)
    assert again.status == "optimal"
    assert figures(again) == figures(reference)
    assert again.allocation_usd == pytest.approx(reference.allocation_usd, abs=1e-6)


# --- ids the solver's names must keep apart -----------------------------------------------------

ID_CHARS = st.sampled_from(list("ab1_-. /+[]>:;é") + ["__", "x2dx", "_x5fx"])


@settings(FUZZ, max_examples=60)
@given(
    ids=st.lists(st.lists(ID_CHARS, min_size=1, max_size=4).map("".join), min_size=2, max_size=5, unique=True),
    crew_types=st.lists(st.lists(ID_CHARS, min_size=1, max_size=3).map("".join), min_size=1, max_size=3, unique=True),
    rule=st.sampled_from(["pro_rata", "optimal"]),
)
def test_ids_differing_only_in_punctuation_are_planned_apart(ids, crew_types, rule):
    """'s-1', 's_1' and 's 1' once became the same solver name and crashed the solve."""
    from planner.core.schema import Carrier, CrewPool, Dataset, Site

    valid = [i for i in ids if not i.startswith(" ") and ";" not in i and "," not in i]
    if len(valid) < 2:
        return
    carriers = tuple(Carrier(c, c, "TX", 10) for c in valid[:2])
    crews = tuple(CrewPool(c.carrier_id, k, 1.0) for c in carriers for k in crew_types)
    sites = tuple(
        Site(
            f"{c.carrier_id}{suffix}",
            c.carrier_id,
            "ran",
            cost_usd=10.0,
            duration_months=1,
            population=5 + n,
            crew_need=((crew_types[n % len(crew_types)], 1.0),),
            depends_on=(f"{c.carrier_id}{valid[0]}",) if suffix != valid[0] else (),
        )
        for c in carriers
        for n, suffix in enumerate(valid)
    )
    if len({s.site_id for s in sites}) < len(sites):
        return
    dataset = Dataset(carriers, crews, sites)
    scenario = planner.Scenario(fund_usd=35.0 * len(valid), rule=rule, horizon=6, deadline=3, time_limit_s=5)
    try:
        result = planner.plan(dataset, scenario, workers=1)
    except InputError as err:  # e.g. an id the file format refuses; then it must say so
        assert all(i.rule in DATASET_RULES for i in err.issues)
        return
    assert planner.check_plan(result) == []
    assert set(result.starts) <= {s.site_id for s in sites}


def test_a_site_that_appears_in_no_constraint_is_planned():
    """Found by hypothesis: a site with no people, no crew need and no dependants has a start
    variable PuLP leaves out of the problem; reading its value crashed with AttributeError."""
    from planner.core.schema import Carrier, CrewPool, Dataset, Site

    dataset = Dataset(
        (Carrier("c0", "c0", "WY", 100),),
        (CrewPool("c0", "tower", 0.0), CrewPool("c0", "core", 0.0)),
        (Site("c0s0", "c0", "ran", 0.0, 1), Site("c0s1", "c0", "ran", 0.0, 1, lead_time_months=2)),
    )
    for rule in ("pro_rata", "optimal"):
        scenario = planner.Scenario(fund_usd=0, start="2022-01", horizon=3, deadline=0, mip_gap=0.0, rule=rule)
        result = planner.plan(dataset, scenario, workers=1)
        assert planner.check_plan(result) == []


# --- scenario flags: any text on the command line gives a plan or a message ----------------------

FLAG_VALUES = st.one_of(
    st.sampled_from(
        [
            "0",
            "-1",
            "1",
            "2",
            "12",
            "600",
            "601",
            "1e9",
            "1e400",
            "nan",
            "-inf",
            "0.5",
            "1.5",
            "1e-300",
            "abc",
            "",
            " ",
            "2023-13",
            "2024-02",
            "0000-01",
            "pro_rata",
            "priority",
            "optimal",
            "greedy",
            "exposure",
            "makespan",
            "1_000",
            "0x10",
            "12 ",
            "١٢",
        ]
    ),
    st.text(max_size=8),
)
FLAGS = (
    "--fund",
    "--admin-reserve",
    "--rule",
    "--objective",
    "--start",
    "--horizon",
    "--deadline",
    "--extensions",
    "--time-limit",
    "--mip-gap",
    "--dark-weight",
)


@settings(FUZZ, max_examples=120)
@given(flags=st.dictionaries(st.sampled_from(FLAGS), FLAG_VALUES, min_size=1, max_size=4))
def test_any_scenario_flags_plan_or_explain(flags, tmp_path_factory, capsys):
    out = tmp_path_factory.mktemp("out")
    argv = ["solve", str(TINY), "--out", str(out / "plan"), "--quiet", "--workers", "1", "--no-store"]
    for flag, value in flags.items():
        argv += [f"{flag}={value}"]
    if "--horizon" in flags and flags["--horizon"].strip() not in ("", "nan") and "--time-limit" not in flags:
        argv += ["--time-limit=2"]
    code = run(argv)
    err = capsys.readouterr().err
    assert code in (0, 2), (argv, err)
    assert "Traceback" not in err
    if code == 0:
        assert (out / "plan" / "summary.json").is_file()
    else:
        assert "problem(s) in the input; nothing was solved" in err and not (out / "plan").exists()


# --- file sizes: any file of any size is judged by its size before a byte is read ----------------

SIZES = st.sampled_from([MAX_FILE_BYTES + 1, 2**31 - 1, 2**31, 3 * 2**30, 2**40])


@settings(FUZZ, max_examples=30)
@given(name=st.sampled_from([*CSV_FILES, "scenario.toml"]), size=SIZES, others=st.booleans())
def test_an_oversized_file_of_any_name_and_size_is_refused_unread(name, size, others, tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.mktemp("sparse")
    for other, data in BASES["tiny"].items():
        (folder / other).write_bytes(data)
    big = folder / name
    with open(big, "ab") as stream:
        stream.truncate(size)  # sparse: no disk used
    if others:  # a second oversized file: both named, neither read
        with open(folder / ("crews.csv" if name != "crews.csv" else "sites.csv"), "ab") as stream:
            stream.truncate(size)
    real_open = Path.open
    opened = []

    def guarded(self, *args, **kwargs):
        if self.exists() and self.stat().st_size > MAX_FILE_BYTES:
            opened.append(self.name)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded)
    monkeypatch.setattr(Path, "read_bytes", lambda self: guarded(self, "rb").read())
    with pytest.raises(InputError) as excinfo:
        planner.read_dataset(folder)
    assert opened == []
    assert {i.rule for i in excinfo.value.issues} == {"file-too-large"}
    assert name in {i.file for i in excinfo.value.issues}


# --- run folders: any damage is refused with a message or reported, never a traceback -------------


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    dataset = planner.read_dataset(TINY)
    for name, fund in (("a", 1e6), ("b", 5e5)):
        scenario = dataset.default_scenario.with_overrides(fund_usd=fund, time_limit_s=2.0)
        write_plan(planner.plan(dataset, scenario, workers=1), root / name)
    return root


def damage_run(folder: Path, other: Path, rng: random.Random) -> str:
    files = sorted(p.name for p in folder.iterdir() if p.is_file())
    if not files:
        return "nothing left to damage"
    name = rng.choice(files)
    path = folder / name
    data = bytearray(path.read_bytes())
    action = rng.choice(["flip", "truncate", "other-run", "delete", "non-utf8", "folder", "empty", "append"])
    if action == "flip" and data:
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(data))
    elif action == "truncate":
        path.write_bytes(bytes(data[: rng.randrange(len(data) + 1)]))
    elif action == "other-run":
        path.write_bytes((other / name).read_bytes())
    elif action == "delete":
        path.unlink()
    elif action == "non-utf8" and data:
        at = rng.randrange(len(data))
        path.write_bytes(bytes(data[:at]) + rng.choice([b"\xff", b"\xe9", b"\x80\x80", b"\xc3"]) + bytes(data[at:]))
    elif action == "folder":
        path.unlink()
        path.mkdir()
    elif action == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(bytes(data) + rng.choice([b"\n", b"x", b"\n1,2,3\n", b" "]))
    return f"{action}({name})"


@settings(FUZZ, max_examples=60)
@given(seed=st.integers(0, 2**32), count=st.integers(1, 2))
def test_a_damaged_run_folder_is_refused_or_reported_without_traceback(seed, count, two_runs, tmp_path_factory, capsys):
    rng = random.Random(seed)
    folder = tmp_path_factory.mktemp("damaged") / "run"
    shutil.copytree(two_runs / "a", folder)
    done = [damage_run(folder, two_runs / "b", rng) for _ in range(count)]
    code = run(["report", str(folder), "--format", "html", "--out", str(folder.parent / "report"), "--quiet"])
    err = capsys.readouterr().err
    assert code in (0, 2), (done, err)
    assert "Traceback" not in err
    if code == 2:
        assert "cannot be reported on" in err or "cannot read or write" in err, (done, err)
        assert not (folder.parent / "report" / "plan.html").exists()
    if any(d.startswith(("other-run(c", "other-run(s", "other-run(m", "flip(c", "flip(s", "flip(m")) for d in done):
        assert code == 2, done  # a table from another run, or changed, is never reported as this run's
