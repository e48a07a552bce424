"""Turn files a user uploaded (CSV files, or one zip holding them) into a validated Dataset.

Uploads come from outside the organisation, so nothing in them is trusted: sizes are
limited before anything is decompressed, a zip is refused if its members are too many,
too large (declared or actual), compress suspiciously well (a zip bomb), are links, or
have names that would land outside the upload folder (absolute paths, `..`). Nothing
is ever written under a name the user chose: only the fixed dataset file names are
written, into a fresh private folder (`tempfile.mkdtemp`), so one user's upload is
invisible to another session. The folder is then read with `read_dataset` like any
other dataset, and removed again unless the caller asks to keep it.

Every problem raises one `InputError` whose issues name file, rule and value.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path, PurePosixPath

import openpyxl

from planner.core.errors import InputError, Issue
from planner.core.schema import Dataset
from planner.inputs.io import read_dataset
from planner.inputs.tables import DATASET_FILES, MAX_FILE_BYTES

UPLOAD_FILES = (*DATASET_FILES, "scenario.toml")
MAX_UPLOAD_BYTES = MAX_FILE_BYTES  # total of all files, after decompression
MAX_ZIP_MEMBERS = 64  # a dataset is four files; anything far beyond that is not a dataset
MAX_COMPRESSION_RATIO = 200  # CSV text compresses 5-20x; a deflate bomb reaches ~1000x
RATIO_CHECK_MIN_BYTES = 1024 * 1024  # small members cannot hurt whatever their ratio
CHUNK_BYTES = 1024 * 1024
# Every rule an upload is checked against (before the dataset rules of planner.inputs.validation).
UPLOAD_RULES: dict[str, tuple[str, str]] = {
    "no-files": ("error", "at least one file was uploaded"),
    "upload-too-large": ("error", "the upload, and a zip's declared uncompressed total, stay within the size limit"),
    "duplicate-file": ("error", "each dataset file is uploaded once"),
    "unexpected-file": ("warning", "files other than the dataset's are reported and ignored"),
    "missing-file": ("error", "carriers.csv, crews.csv and sites.csv are all uploaded"),
    "zip-with-other-files": ("error", "a zip comes alone"),
    "bad-zip": ("error", "the zip and each member can be read (CRC checked)"),
    "zip-too-many-members": ("error", f"a zip holds at most {MAX_ZIP_MEMBERS} entries"),
    "zip-absolute-path": ("error", "member names are relative (no /, \\ or drive letter at the start)"),
    "zip-path-escape": ("error", "member names hold no '..' part and no NUL"),
    "zip-symlink": ("error", "members are plain files, not symbolic links"),
    "zip-encrypted": ("error", "members are not encrypted"),
    "zip-bomb": ("error", f"a member over 1 MiB expands at most {MAX_COMPRESSION_RATIO}x"),
    "zip-size-mismatch": (
        "error",
        "a member yields no more bytes than its header declares or the limit allows "
        "(defence in depth: zipfile itself stops at the declared size and checks the CRC)",
    ),
    "zip-several-folders": ("error", "the dataset files sit together, at the top or in one folder"),
    "bad-workbook": ("error", "an .xlsx workbook can be opened, and holds the sheets carriers, crews and sites"),
}
# What a damaged or hostile zip makes the zipfile module raise (found by fuzzing: a corrupt
# deflate stream raises zlib.error, an odd version field NotImplementedError, a bad header struct.error).
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    OSError,
    EOFError,
    RuntimeError,
    ValueError,
    zlib.error,
    struct.error,
    KeyError,
    IndexError,
    OverflowError,
)
IGNORED_MEMBERS = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$|desktop\.ini$|\._)")


def dataset_from_upload(
    files: list[tuple[str, bytes]], workdir: Path, max_bytes: int = MAX_UPLOAD_BYTES, keep_files: bool = False
) -> Dataset:
    """Validate uploaded files and load them as a Dataset; raise InputError on any problem.

    `files` is a list of (file name as the browser sent it, content). Either the dataset's
    CSV files (carriers.csv, crews.csv, sites.csv, optionally scenario.toml), or exactly
    one .zip holding them at its top level or inside one folder. `max_bytes` bounds the
    total size, compressed and uncompressed. The files are written into a fresh folder
    under `workdir`, read, and the folder is removed afterwards unless `keep_files`.
    """
    if not files:
        raise InputError(
            [
                Issue(
                    "upload",
                    None,
                    None,
                    "no-files",
                    None,
                    "no files were uploaded; upload carriers.csv, crews.csv and sites.csv, or one .zip",
                )
            ]
        )
    issues: list[Issue] = []
    total = sum(len(data) for _, data in files)
    if total > max_bytes:
        raise InputError(
            [
                Issue(
                    "upload",
                    None,
                    None,
                    "upload-too-large",
                    f"{total:,} bytes",
                    f"the upload is larger than the {_size(max_bytes)} limit; remove unrelated files "
                    "or split the dataset",
                )
            ]
        )
    zips = [(name, data) for name, data in files if _base_name(name).endswith((".zip", *WORKBOOK_SUFFIXES))]
    from_workbook = bool(zips) and _base_name(zips[0][0]).endswith(WORKBOOK_SUFFIXES)
    if zips:
        if len(files) > 1:
            raise InputError(
                [
                    Issue(
                        _base_name(zips[0][0]),
                        None,
                        None,
                        "zip-with-other-files",
                        str(len(files)),
                        "upload one .zip, or one .xlsx workbook, or the CSV files; not several",
                    )
                ]
            )
        unpack = _unpack_workbook if from_workbook else _unpack_zip
        contents, label = unpack(*zips[0], max_bytes, issues)
    else:
        contents, label = _collect_plain(files, issues), "upload"
    if any(i.severity == "error" for i in issues):
        raise InputError(issues)

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=workdir))
    try:
        for name, data in contents.items():  # only names from UPLOAD_FILES: never a user's path
            (folder / name).write_bytes(data)
        try:
            dataset = read_dataset(folder)
        except InputError as err:
            found = [*err.issues, *err.warnings]
            found = _sheet_issues(found) if from_workbook else found
            raise InputError([*issues, *found], row_ids=row_ids(contents, from_workbook)) from None
    finally:
        if not keep_files:
            shutil.rmtree(folder, ignore_errors=True)
    warnings = _sheet_issues(dataset.warnings) if from_workbook else dataset.warnings
    return replace(dataset, name=label, warnings=(*issues, *warnings))


ID_COLUMNS = {"sites.csv": "site_id", "carriers.csv": "carrier_id", "crews.csv": "carrier_id"}


def row_ids(contents: dict[str, bytes], from_workbook: bool = False) -> dict[tuple[str, int], str]:
    """(file as messages name it, line) -> the site or carrier id in that row, so a problem table can show it.

    Best effort on text that may be broken: a file that cannot be read as CSV gives no ids.
    """
    ids: dict[tuple[str, int], str] = {}
    for name, column in ID_COLUMNS.items():
        try:
            reader = csv.DictReader(io.StringIO(contents.get(name, b"").decode("utf-8-sig")))
            label = sheet_label(name) if from_workbook else name
            for row in reader:
                value = (row.get(column) or "").strip()
                if value:
                    ids[(label, reader.line_num)] = value
        except (UnicodeDecodeError, csv.Error):
            continue
    return ids


def _base_name(name: str) -> str:
    """The last part of a browser-sent name, lower-cased ('C:\\x\\Sites.CSV' -> 'sites.csv')."""
    return re.split(r"[\\/]", name)[-1].strip().lower()


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):g} MiB" if count >= 1024 * 1024 else f"{count:,} bytes"


def _collect_plain(files: list[tuple[str, bytes]], issues: list[Issue]) -> dict[str, bytes]:
    """Match uploaded files to the dataset's file names; unknown names are warned about and skipped."""
    contents: dict[str, bytes] = {}
    for name, data in files:
        base = _base_name(name)
        if base not in UPLOAD_FILES:
            issues.append(
                Issue(
                    name,
                    None,
                    None,
                    "unexpected-file",
                    name,
                    _unexpected(base, f"not a dataset file ({', '.join(UPLOAD_FILES)}); it was ignored"),
                    severity="warning",
                )
            )
        elif base in contents:
            issues.append(Issue(name, None, None, "duplicate-file", name, f"{base} was uploaded twice; upload it once"))
        else:
            contents[base] = data
    _require_dataset_files(contents, "upload", issues)
    return contents


SPREADSHEET_SUFFIXES = (".xls", ".ods", ".numbers")  # workbooks read only once saved as .xlsx or CSV
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")  # read directly (see _unpack_workbook)


def _unexpected(base: str, default: str) -> str:
    """Why a file was ignored; a workbook in another format gets told how to become a dataset."""
    if base.endswith(SPREADSHEET_SUFFIXES):
        return (
            "this spreadsheet format is not read directly; save the workbook as .xlsx (sheets carriers, crews, "
            "sites), or save its sheets as 'CSV UTF-8' files named carriers.csv, crews.csv and sites.csv"
        )
    return default


def _require_dataset_files(contents: Mapping[str, object], where: str, issues: list[Issue]) -> None:
    workbook = any(
        i.rule == "unexpected-file" and (i.value or "").lower().endswith(SPREADSHEET_SUFFIXES) for i in issues
    )
    hint = " (a workbook was uploaded: save it as .xlsx, or its sheets as 'CSV UTF-8' files)" if workbook else ""
    for name in DATASET_FILES:
        if name not in contents:
            issues.append(
                Issue(
                    name,
                    None,
                    None,
                    "missing-file",
                    None,
                    f"{name} is missing from the {where}; a dataset needs {', '.join(DATASET_FILES)}{hint}",
                )
            )


def _member_problem(info: zipfile.ZipInfo) -> tuple[str, str] | None:
    """(rule, message) if a zip member must not be extracted, judged from its header alone."""
    name = info.filename
    mode = info.external_attr >> 16
    if not name:  # a damaged central directory (found by fuzzing: zipfile's is_dir() fails on it)
        return "bad-zip", "member has an empty name; the zip is damaged"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "zip-absolute-path", "member has an absolute path; a dataset zip holds relative names only"
    if ".." in re.split(r"[\\/]", name):
        return "zip-path-escape", "member name contains '..' and would land outside the upload folder"
    if "\x00" in name:
        return "zip-path-escape", "member name contains a NUL byte"
    if stat.S_ISLNK(mode):
        return "zip-symlink", "member is a symbolic link; links are not accepted in uploads"
    if info.flag_bits & 0x1:
        return "zip-encrypted", "member is encrypted; upload an unencrypted zip"
    return None


def _upload_label(name: str) -> str:
    """The upload's name as a dataset label: its stem, with anything but letters, digits, `_.-` made `-`."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", PurePosixPath(re.split(r"[\\/]", name)[-1]).stem).strip("-.") or "upload"


def _open_archive(
    data: bytes, file: str, issues: list[Issue], bad_rule: str, bad_message: str, max_members: int, too_many: str
) -> zipfile.ZipFile | None:
    """The zip (or .xlsx, itself a zip) opened from its central directory, or None with the problem in `issues`."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except ZIP_ERRORS as err:
        issues.append(Issue(file, None, None, bad_rule, None, f"{bad_message} ({err})"))
        return None
    if len(members) > max_members:
        issues.append(Issue(file, None, None, "zip-too-many-members", str(len(members)), too_many))
        return None
    return archive


def _bomb(file: str, info: zipfile.ZipInfo, part: str, whole: str) -> list[Issue]:
    """The zip-bomb issue of a member whose declared size is far beyond its compressed size (none otherwise)."""
    if info.file_size <= RATIO_CHECK_MIN_BYTES or info.file_size <= MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
        return []
    ratio = info.file_size / max(info.compress_size, 1)
    return [
        Issue(
            file,
            None,
            None,
            "zip-bomb",
            f"{ratio:,.0f}x",
            f"{part} {info.filename} expands {info.compress_size:,} bytes to {info.file_size:,}; "
            f"that ratio is a zip bomb, not {whole}",
        )
    ]


def _unpack_zip(name: str, data: bytes, max_bytes: int, issues: list[Issue]) -> tuple[dict[str, bytes], str]:
    """Check a zip from its headers, then read its dataset files with a hard cap on actual bytes."""
    label = _upload_label(name)
    file = _base_name(name)
    archive = _open_archive(
        data,
        file,
        issues,
        "bad-zip",
        "file is not a readable zip archive",
        MAX_ZIP_MEMBERS,
        f"zip holds more than {MAX_ZIP_MEMBERS} entries; a dataset is at most four files",
    )
    if archive is None:
        return {}, label
    members = archive.infolist()

    declared = 0
    wanted: dict[str, zipfile.ZipInfo] = {}
    folders: set[str] = set()
    for info in members:
        problem = _member_problem(info)
        if problem:
            issues.append(Issue(file, None, None, problem[0], info.filename, problem[1]))
            continue
        if info.is_dir() or IGNORED_MEMBERS.search(info.filename):
            continue
        declared += info.file_size
        issues.extend(_bomb(file, info, "member", "a dataset"))
        parts = PurePosixPath(info.filename.replace("\\", "/")).parts
        base = parts[-1].lower()
        if base not in UPLOAD_FILES or len(parts) > 2:
            issues.append(
                Issue(
                    file,
                    None,
                    None,
                    "unexpected-file",
                    info.filename,
                    _unexpected(base, "not a dataset file at the top of the zip or of its one folder; it was ignored"),
                    severity="warning",
                )
            )
            continue
        folders.add("/".join(parts[:-1]))
        if base in wanted:
            issues.append(
                Issue(
                    file,
                    None,
                    None,
                    "duplicate-file",
                    info.filename,
                    f"the zip holds {base} twice; keep one dataset per zip",
                )
            )
            continue
        wanted[base] = info
    if declared > max_bytes:
        issues.append(
            Issue(
                file,
                None,
                None,
                "upload-too-large",
                f"{declared:,} bytes",
                f"the zip expands to more than the {_size(max_bytes)} limit",
            )
        )
    if len(folders) > 1:
        issues.append(
            Issue(
                file,
                None,
                None,
                "zip-several-folders",
                ", ".join(sorted(f or "(top)" for f in folders)),
                "the dataset files are spread over several folders; put them in one",
            )
        )
    if not any(i.severity == "error" for i in issues):
        _require_dataset_files(wanted, "zip", issues)
    if any(i.severity == "error" for i in issues):
        return {}, label

    contents: dict[str, bytes] = {}
    budget = max_bytes
    for base, info in wanted.items():
        read = _read_member(archive, info, min(budget, info.file_size), file, issues)
        if read is None:
            return {}, label
        contents[base] = read
        budget -= len(read)
    folder = next(iter(folders), "")
    if folder:
        label = re.sub(r"[^A-Za-z0-9_.-]+", "-", folder).strip("-.") or label
    return contents, label


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, file: str, issues: list[Issue]
) -> bytes | None:
    """Read at most `limit` bytes; a member that yields more than its header declared is refused."""
    buffer = bytearray()
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(CHUNK_BYTES):
                buffer += chunk
                if len(buffer) > limit:
                    issues.append(
                        Issue(
                            file,
                            None,
                            None,
                            "zip-size-mismatch",
                            f"more than {limit:,} bytes",
                            f"member {info.filename} expands beyond its declared size ({info.file_size:,} bytes) "
                            "or the upload limit; the zip is damaged or hostile",
                        )
                    )
                    return None
    except ZIP_ERRORS as err:
        issues.append(
            Issue(file, None, None, "bad-zip", info.filename, f"member {info.filename} cannot be read ({err})")
        )
        return None
    return bytes(buffer)


# ---------------------------------------------------------------- one .xlsx workbook

SHEET_FILES = {"carriers": "carriers.csv", "crews": "crews.csv", "sites": "sites.csv", "scenario": "scenario.toml"}
IGNORED_SHEETS = ("readme",)  # the template's column descriptions
MAX_WORKBOOK_MEMBERS = 4 * MAX_ZIP_MEMBERS  # a workbook's parts: a dozen, plus one per sheet


def sheet_label(file_name: str) -> str:
    """'sites.csv' -> 'sites (sheet)': how messages name a sheet of an uploaded workbook."""
    for sheet, name in SHEET_FILES.items():
        if file_name == name:
            return f"{sheet} (sheet)"
    return file_name


def _sheet_issues(issues) -> list[Issue]:
    """Issues of the CSV files made from a workbook, renamed after their sheets (rows are Excel's rows already)."""
    return [replace(issue, file=sheet_label(issue.file)) for issue in issues]


def _unpack_workbook(name: str, data: bytes, max_bytes: int, issues: list[Issue]) -> tuple[dict[str, bytes], str]:
    """A workbook's sheets carriers, crews, sites (and scenario) as the same CSV (and TOML) text as a folder's.

    An .xlsx is a zip, so its members pass the zip checks first (no links, no escaping names,
    no encryption, declared sizes within the limit, no bomb ratios) before openpyxl opens it.
    Row r of a sheet becomes line r of its CSV file, so messages show the row Excel shows.
    Cells are read as values (a formula's last computed value; formulas are never run).
    """
    label = _upload_label(name)
    file = _base_name(name)
    archive = _open_archive(
        data,
        file,
        issues,
        "bad-workbook",
        "file is not a readable .xlsx workbook",
        MAX_WORKBOOK_MEMBERS,
        f"the workbook holds more than {MAX_WORKBOOK_MEMBERS} parts; a dataset workbook has a few sheets",
    )
    if archive is None:
        return {}, label
    members = archive.infolist()
    declared = 0
    for info in members:
        problem = _member_problem(info)
        if problem:
            issues.append(Issue(file, None, None, problem[0], info.filename, problem[1]))
        declared += info.file_size
        issues.extend(_bomb(file, info, "workbook part", "a workbook"))
    if declared > max_bytes:
        issues.append(
            Issue(
                file,
                None,
                None,
                "upload-too-large",
                f"{declared:,} bytes",
                f"the workbook expands to more than the {_size(max_bytes)} limit",
            )
        )
    if any(i.severity == "error" for i in issues):
        return {}, label
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:
        issues.append(Issue(file, None, None, "bad-workbook", None, f"the workbook cannot be opened ({err})"))
        return {}, label
    contents: dict[str, bytes] = {}
    try:
        for sheet in book.worksheets:
            key = sheet.title.strip().lower()
            if key in IGNORED_SHEETS:
                continue
            if key not in SHEET_FILES:
                issues.append(
                    Issue(
                        file,
                        None,
                        None,
                        "unexpected-file",
                        sheet.title,
                        f"sheet {sheet.title!r} is not a dataset sheet ({', '.join(SHEET_FILES)}); it was ignored",
                        severity="warning",
                    )
                )
                continue
            if SHEET_FILES[key] in contents:
                issues.append(
                    Issue(file, None, None, "duplicate-file", sheet.title, f"the workbook holds two {key} sheets")
                )
                continue
            rows = [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
            if key == "scenario":
                contents["scenario.toml"] = _scenario_sheet_toml(rows).encode("utf-8")
            else:
                contents[SHEET_FILES[key]] = _rows_csv(rows).encode("utf-8")
    except Exception as err:
        issues.append(Issue(file, None, None, "bad-workbook", None, f"a sheet of the workbook cannot be read ({err})"))
        return {}, label
    finally:
        book.close()
    for key, name_ in SHEET_FILES.items():
        if key != "scenario" and name_ not in contents:
            issues.append(
                Issue(
                    f"{key} (sheet)",
                    None,
                    None,
                    "missing-file",
                    None,
                    f"the workbook has no sheet named {key}; a dataset workbook has the sheets carriers, crews "
                    "and sites (and optionally scenario)",
                )
            )
    return contents, label


def _cell_text(value) -> str:
    """A cell as the text a CSV export of it holds: 12 not 12.0, empty for an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if hasattr(value, "isoformat"):  # a date cell: a month such as 2023-03 typed into Excel
        return value.strftime("%Y-%m") if hasattr(value, "strftime") else value.isoformat()
    return str(value)


def _rows_csv(rows: list[list[str]]) -> str:
    """Rows as CSV text, up to the last non-empty row and column (Excel reports formatted empty cells too)."""
    while rows and not any(rows[-1]):
        rows.pop()
    width = max((max((i + 1 for i, cell in enumerate(row) if cell), default=0) for row in rows), default=0)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow((row + [""] * width)[:width])
    return buffer.getvalue()


def _scenario_sheet_toml(rows: list[list[str]]) -> str:
    """A two-column sheet (key, value; header in row 1) as scenario TOML, line r for sheet row r."""
    lines = ["# scenario sheet of an uploaded workbook"]  # line 1 stands for the header row
    for row in rows[1:]:
        key, value = (row + ["", ""])[:2]
        key = key.strip()
        if not key:
            lines.append("")
            continue
        if not re.fullmatch(r"[A-Za-z0-9_-]+", key):
            key = json.dumps(key)  # a quoted key: a cell's line breaks or '=' cannot add lines or keys
        if re.fullmatch(r"-?\d+(\.\d+)?([eE][+-]?\d+)?", value.strip()):
            lines.append(f"{key} = {value.strip()}")
        elif value.strip().lower() in ("true", "false"):
            lines.append(f"{key} = {value.strip().lower()}")
        else:
            lines.append(f"{key} = {json.dumps(value)}")  # a TOML basic string is a JSON string
    return "\n".join(lines) + "\n"
