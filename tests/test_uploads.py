"""Uploads from outside: CSV files or one zip become a Dataset, or one InputError naming the problem.

Hostile zips are built in the test (never committed): bombs, lying headers, `..` and
absolute names, links, encrypted members, too many members.
"""

from __future__ import annotations

import io
import random
import stat
import struct
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import InputError, read_dataset
from planner.inputs.uploads import MAX_ZIP_MEMBERS, UPLOAD_RULES, dataset_from_upload
from planner.inputs.validation import DATASET_RULES

TINY = Path(__file__).parent / "fixtures" / "tiny"
NAMES = ("carriers.csv", "crews.csv", "sites.csv", "scenario.toml")


def tiny_files() -> list[tuple[str, bytes]]:
    return [(name, (TINY / name).read_bytes()) for name in NAMES]


def make_zip(members: list[tuple[str | zipfile.ZipInfo, bytes]], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def rules_of_issues(issues) -> list[str]:
    return [issue.rule for issue in issues]


def rules_of(excinfo) -> list[str]:
    rules = [issue.rule for issue in excinfo.value.issues]
    assert set(rules) <= set(UPLOAD_RULES), rules  # every rule raised is documented
    return rules


def test_csv_files_load_like_the_folder(tmp_path):
    uploaded = dataset_from_upload(tiny_files(), tmp_path)
    on_disk = read_dataset(TINY)
    assert uploaded.sites == on_disk.sites and uploaded.carriers == on_disk.carriers and uploaded.crews == on_disk.crews
    assert uploaded.default_scenario == on_disk.default_scenario
    assert uploaded.sha256 == on_disk.sha256  # same bytes, same checksum


def test_browser_paths_and_case_in_names_are_ignored(tmp_path):
    files = [(f"C:\\Users\\ana\\Desktop\\{name.upper()}", data) for name, data in tiny_files()]
    assert len(dataset_from_upload(files, tmp_path).sites) == 7


def test_zip_with_one_folder_is_named_after_it(tmp_path):
    data = make_zip(
        [(f"tiny dataset/{n}", d) for n, d in tiny_files()] + [("__MACOSX/tiny dataset/._sites.csv", b"\0")]
    )
    uploaded = dataset_from_upload([("export.zip", data)], tmp_path)
    assert uploaded.name == "tiny-dataset" and len(uploaded.sites) == 7
    assert not [w for w in uploaded.warnings if w.rule == "unexpected-file"]  # macOS litter is skipped silently


def test_flat_zip_is_named_after_the_zip(tmp_path):
    uploaded = dataset_from_upload([("Plains 2024.zip", make_zip(tiny_files()))], tmp_path)
    assert uploaded.name == "Plains-2024"


def test_unrelated_files_are_warned_about_not_fatal(tmp_path):
    uploaded = dataset_from_upload([*tiny_files(), ("notes.txt", b"hello")], tmp_path)
    (warning,) = [w for w in uploaded.warnings if w.rule == "unexpected-file"]
    assert warning.severity == "warning" and warning.value == "notes.txt"


def test_a_workbook_in_another_format_is_told_how_to_become_a_dataset(tmp_path):
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([("Plan 2024.ods", b"PK\x03\x04 workbook")], tmp_path)
    assert sorted(rules_of(excinfo)) == ["missing-file"] * 3
    assert all("a workbook was uploaded" in issue.message for issue in excinfo.value.issues)
    (warning,) = excinfo.value.warnings
    assert warning.rule == "unexpected-file" and "save the workbook as .xlsx" in warning.message


def test_a_damaged_xlsx_is_reported_not_crashed(tmp_path):
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([("Plan 2024.xlsx", b"PK\x03\x04 workbook")], tmp_path)
    assert rules_of(excinfo) == ["bad-workbook"]


def test_the_template_workbook_uploads_to_the_same_dataset_as_the_template_csvs(tmp_path):
    from planner.inputs.template import template_workbook_bytes, template_zip_bytes

    from_workbook = dataset_from_upload([("template.xlsx", template_workbook_bytes())], tmp_path)
    from_csvs = dataset_from_upload([("template.zip", make_zip(list(zip_members(template_zip_bytes()))))], tmp_path)
    assert from_workbook.carriers == from_csvs.carriers and from_workbook.crews == from_csvs.crews
    assert from_workbook.sites == from_csvs.sites and len(from_csvs.sites) == 7
    assert from_workbook.default_scenario == from_csvs.default_scenario
    assert from_workbook.default_scenario.fund_usd == 1_000_000  # the template's own scenario, not the default
    assert not from_workbook.warnings  # the README sheet is expected, not "unexpected"


def zip_members(data: bytes):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            yield name, archive.read(name)


def test_a_dataset_written_as_a_workbook_uploads_back_unchanged(tmp_path):
    from planner.inputs.template import dataset_workbook_bytes

    on_disk = read_dataset(TINY)
    uploaded = dataset_from_upload([("tiny.xlsx", dataset_workbook_bytes(on_disk))], tmp_path)
    assert uploaded.sites == on_disk.sites and uploaded.carriers == on_disk.carriers and uploaded.crews == on_disk.crews
    assert uploaded.default_scenario.to_dict() | {"name": ""} == on_disk.default_scenario.to_dict() | {"name": ""}


def test_workbook_problems_name_the_sheet_and_the_row_excel_shows(tmp_path):
    import openpyxl

    from planner.inputs.template import dataset_workbook_bytes

    book = openpyxl.load_workbook(io.BytesIO(dataset_workbook_bytes(read_dataset(TINY))))
    sites = book["sites"]
    header = [cell.value for cell in sites[1]]
    sites.cell(row=4, column=header.index("cost_usd") + 1, value=2e12)  # Excel row 4: the third site
    scenario = book["scenario"]
    fund_row = next(row[0].row for row in scenario.iter_rows() if row[0].value == "fund_usd")
    scenario.cell(row=fund_row, column=2, value=-5)
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([("tiny.xlsx", buffer.getvalue())], tmp_path)
    located = {(i.file, i.row, i.column): i.message for i in excinfo.value.issues}
    assert "at most $1 trillion" in located[("sites (sheet)", 4, "cost_usd")]
    assert ("scenario (sheet)", fund_row, "fund_usd") in located


def test_a_workbook_bomb_is_refused_before_it_is_opened(tmp_path):
    bomb = make_zip([("[Content_Types].xml", b"<x/>"), ("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))])
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([("big.xlsx", bomb)], tmp_path)
    assert "zip-bomb" in rules_of(excinfo)


def test_each_upload_gets_its_own_private_folder(tmp_path):
    dataset_from_upload(tiny_files(), tmp_path, keep_files=True)
    dataset_from_upload(tiny_files(), tmp_path, keep_files=True)
    folders = sorted(tmp_path.iterdir())
    assert len(folders) == 2
    for folder in folders:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # other local users cannot list it
        assert sorted(p.name for p in folder.iterdir()) == sorted(NAMES)


def test_folder_is_removed_after_reading_by_default(tmp_path):
    dataset_from_upload(tiny_files(), tmp_path)
    with pytest.raises(InputError):
        dataset_from_upload([(n, b"garbage\xff" if n == "sites.csv" else d) for n, d in tiny_files()], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_bad_content_is_reported_with_file_row_column(tmp_path):
    files = [
        (
            n,
            d.replace(
                b"n-r2,north,ran,North tower 2,48.3,-97.6,38099,800,120000",
                b"n-r2,north,ran,North tower 2,48.3,-97.6,38099,800,lots",
            ),
        )
        for n, d in tiny_files()
    ]
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload(files, tmp_path)
    (issue,) = excinfo.value.issues
    assert (issue.file, issue.row, issue.column, issue.rule, issue.value) == (
        "sites.csv",
        4,
        "cost_usd",
        "not-a-number",
        "lots",
    )


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([f for f in tiny_files() if f[0] != "crews.csv"], tmp_path)
    assert [(i.file, i.rule) for i in excinfo.value.issues] == [("crews.csv", "missing-file")]


def test_nothing_uploaded(tmp_path):
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([], tmp_path)
    assert rules_of(excinfo) == ["no-files"]


def test_file_uploaded_twice(tmp_path):
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([*tiny_files(), ("sites.csv", b"")], tmp_path)
    assert rules_of(excinfo) == ["duplicate-file"]


def test_total_size_limit_has_a_clear_message(tmp_path):
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload(tiny_files(), tmp_path, max_bytes=1000)
    (issue,) = excinfo.value.issues
    assert issue.rule == "upload-too-large" and "1,000 bytes limit" in issue.message
    assert issue.value.endswith("bytes")


def test_zip_and_csv_together_are_refused(tmp_path):
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([("a.zip", make_zip(tiny_files())), ("sites.csv", b"x")], tmp_path)
    assert rules_of(excinfo) == ["zip-with-other-files"]


def test_not_a_zip(tmp_path):
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([("data.zip", b"PK\x03\x04 this is not a zip")], tmp_path)
    assert rules_of(excinfo) == ["bad-zip"]


def test_zip_bomb_by_ratio(tmp_path):
    bomb = make_zip([*tiny_files()[:2], ("sites.csv", b"0" * 20_000_000)])
    assert len(bomb) < 100_000
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([("bomb.zip", bomb)], tmp_path, max_bytes=10**9)
    (issue,) = excinfo.value.issues
    assert issue.rule == "zip-bomb" and "sites.csv" in issue.message and issue.value.endswith("x")


def test_declared_uncompressed_total_is_checked_before_reading(tmp_path):
    digits = random.Random(6).choices(b"0123456789,\n", k=3_000_000)
    data = make_zip([*tiny_files()[:2], ("sites.csv", bytes(digits))])  # 3 MB of text, about 1.3 MB zipped
    assert len(data) < 2_000_000
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([("big.zip", data)], tmp_path, max_bytes=2_000_000)
    assert rules_of(excinfo) == ["upload-too-large"]
    assert any("expands to more than" in i.message for i in excinfo.value.issues)


def lie_about_size(data: bytes, member: str, declared: int) -> bytes:
    """Rewrite a stored member's uncompressed size in both headers, as a hostile tool would."""
    raw = bytearray(data)
    name = member.encode()
    local = raw.find(b"PK\x03\x04")
    while local != -1:
        name_length = struct.unpack_from("<H", raw, local + 26)[0]
        if raw[local + 30 : local + 30 + name_length] == name:
            struct.pack_into("<I", raw, local + 22, declared)
        local = raw.find(b"PK\x03\x04", local + 4)
    central = raw.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", raw, central + 28)[0]
        if raw[central + 46 : central + 46 + name_length] == name:
            struct.pack_into("<I", raw, central + 24, declared)
        central = raw.find(b"PK\x01\x02", central + 4)
    return bytes(raw)


def test_member_larger_than_its_header_says_is_refused(tmp_path):
    honest = make_zip(tiny_files(), compression=zipfile.ZIP_STORED)
    hostile = lie_about_size(honest, "sites.csv", 10)
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([("liar.zip", hostile)], tmp_path)
    assert set(rules_of(excinfo)) <= {"bad-zip", "zip-size-mismatch"} and rules_of(excinfo)
    assert list(tmp_path.iterdir()) == []  # nothing was written


@pytest.mark.parametrize(
    "member, rule",
    [
        ("../sites.csv", "zip-path-escape"),
        ("data/../../sites.csv", "zip-path-escape"),
        ("/etc/sites.csv", "zip-absolute-path"),
        ("C:/temp/sites.csv", "zip-absolute-path"),
        ("..\\sites.csv", "zip-path-escape"),
    ],
)
def test_names_escaping_the_folder_are_refused(tmp_path, member, rule):
    data = make_zip([*tiny_files(), (member, b"site_id\n")])
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([("escape.zip", data)], tmp_path)
    (issue,) = excinfo.value.issues
    assert issue.rule == rule and issue.value == member and issue.file == "escape.zip"
    assert list(tmp_path.iterdir()) == [] and not (tmp_path.parent / "sites.csv").exists()


def test_symlink_member_is_refused(tmp_path):
    link = zipfile.ZipInfo("sites.csv")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    data = make_zip([*tiny_files()[:2], (link, b"/etc/passwd")])
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([("link.zip", data)], tmp_path)
    assert "zip-symlink" in rules_of(excinfo)


def test_encrypted_member_is_refused(tmp_path):
    data = bytearray(make_zip(tiny_files(), compression=zipfile.ZIP_STORED))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # set the "encrypted" flag bit
        position = data.find(signature)
        while position != -1:
            data[position + offset] |= 0x1
            position = data.find(signature, position + 4)
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([("secret.zip", bytes(data))], tmp_path)
    assert set(rules_of(excinfo)) == {"zip-encrypted"}


def test_too_many_members(tmp_path):
    data = make_zip([*tiny_files(), *((f"junk/{i}.txt", b"") for i in range(MAX_ZIP_MEMBERS))])
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([("many.zip", data)], tmp_path)
    assert rules_of(excinfo) == ["zip-too-many-members"]


def test_files_spread_over_folders(tmp_path):
    files = tiny_files()
    data = make_zip([(f"a/{files[0][0]}", files[0][1]), *((f"b/{n}", d) for n, d in files[1:])])
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([("spread.zip", data)], tmp_path)
    assert rules_of(excinfo) == ["zip-several-folders"]


def test_zip_missing_a_file(tmp_path):
    data = make_zip([f for f in tiny_files() if f[0] != "carriers.csv"])
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([("part.zip", data)], tmp_path)
    assert [(i.file, i.rule) for i in excinfo.value.issues] == [("carriers.csv", "missing-file")]


# --- exports: output paths cannot escape the chosen folder ---------------------------------------

PLAN_FILES = {"summary.json", "schedule.csv", "carriers.csv", "monthly.csv"}


def test_solve_writes_only_its_fixed_file_names_inside_out(tmp_path):
    """Ids and names that look like paths never become file names: only the four fixed files appear."""
    from planner.cli.main import run

    data = tmp_path / "data"
    data.mkdir()
    for name, content in tiny_files():
        content = content.replace(b"north", b"../../north").replace(b"North Prairie Wireless", b"/etc/passwd")
        (data / name).write_bytes(content)
    out = tmp_path / "out"
    before = set(tmp_path.parent.iterdir())
    assert run(["solve", str(data), "--out", str(out), "--quiet", "--workers", "1", "--no-store"]) == 0
    assert {p.name for p in out.iterdir()} == PLAN_FILES  # no temporary files left behind either
    assert {p.name for p in tmp_path.iterdir()} == {"data", "out"}
    assert set(tmp_path.parent.iterdir()) == before
    assert "../../north" in (out / "carriers.csv").read_text()  # the id is data, kept as written


def test_write_plan_file_names_do_not_depend_on_the_plan(tmp_path):
    from planner import plan as make_plan
    from planner.runs.folder import write_plan

    dataset = read_dataset(TINY)
    odd = make_plan(
        dataset.__class__(
            dataset.carriers,
            dataset.crews,
            dataset.sites,
            name="../../../tmp/x",
            default_scenario=dataset.default_scenario,
        ),
        workers=1,
    )
    write_plan(odd, tmp_path / "out")
    assert {p.name for p in (tmp_path / "out").iterdir()} == PLAN_FILES
    assert {p.name for p in tmp_path.iterdir()} == {"out"}


def test_no_unsafe_deserialisation_anywhere():
    """No pickle, marshal, shelve, YAML, eval or exec in the library or the app: uploads are read as CSV and TOML."""
    import ast

    root = Path(__file__).resolve().parent.parent
    sources = [*sorted((root / "planner").rglob("*.py")), root / "app.py", *sorted((root / "app_pages").glob("*.py"))]
    found = []
    for path in sources:
        if not path.exists():
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec"):
                names = [node.func.id]
            else:
                continue
            found += [
                f"{path.relative_to(root)}:{node.lineno}: {name}"
                for name in names
                if name.split(".")[0] in ("pickle", "marshal", "shelve", "yaml", "dill", "eval", "exec")
            ]
    assert found == []


# --- damaged zips: found by fuzzing, zlib.error and NotImplementedError used to escape ------------


def _tiny_zip() -> bytes:
    return make_zip([(f"tiny/{n}", d) for n, d in tiny_files()])


@settings(deadline=None, max_examples=200, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_zips_load_or_explain(data, tmp_path):
    good = _tiny_zip()
    damaged = bytearray(good)
    if data.draw(st.booleans(), label="truncate"):
        damaged = damaged[: data.draw(st.integers(0, len(good) - 1), label="length")]
    else:
        for position in data.draw(st.lists(st.integers(0, len(good) - 1), min_size=1, max_size=12), label="where"):
            damaged[position] = data.draw(st.integers(0, 255), label="byte")
    try:
        dataset = dataset_from_upload([("damaged.zip", bytes(damaged))], tmp_path)
    except InputError as err:
        assert err.issues and set(rules_of_issues(err.issues)) <= set(UPLOAD_RULES) | set(DATASET_RULES)
    else:
        assert dataset.sites == read_dataset(TINY).sites  # anything accepted passed the CRC check
    assert list(tmp_path.iterdir()) == []


def test_a_corrupt_deflate_stream_is_a_bad_zip(tmp_path):
    good = bytearray(_tiny_zip())
    start = good.find(b"tiny/sites.csv") + len("tiny/sites.csv")  # first bytes of the compressed member
    good[start + 5 : start + 25] = b"\xff" * 20
    with pytest.raises(InputError) as excinfo:
        dataset_from_upload([("corrupt.zip", bytes(good))], tmp_path)
    assert rules_of(excinfo) == ["bad-zip"]
