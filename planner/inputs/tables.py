"""CSV tables as text cells: read defensively from disk or bytes, and a Dataset written back as the documented CSV.

Files come from spreadsheets and from outside, so reading is defensive: a file over
64 MiB or 100,000 rows is refused from its size and line count before parsing; text
must be UTF-8 (a BOM and any line endings are fine) and an encoding error names its
line, column and cell; quotes are parsed strictly, so a stray `"` is reported instead
of silently swallowing the rest of the file. Writing neutralises formula-like text
(`csv_text`) so a dataset opened in a spreadsheet runs nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from planner.core.errors import Issue
from planner.core.files import csv_text
from planner.core.schema import Dataset

DATASET_FILES = ("carriers.csv", "crews.csv", "sites.csv")
MAX_FILE_BYTES = 64 * 1024 * 1024  # larger inputs are refused rather than risk the machine
# The real program has a few hundred carriers and some thousands of sites (rural40: 4,184);
# a file beyond this is a mistake (a whole export pasted in), and would take minutes to read
# and far longer to plan, so it is refused at once from its line count.
MAX_ROWS = 100_000


@dataclass(frozen=True)
class RawTable:
    """A CSV file as text cells, each row paired with the line a spreadsheet shows."""

    file: str
    header: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, str]], ...]


def not_a_file(path: Path) -> str | None:
    """What a path that exists but is not a regular file is ('a folder', 'a link to /dev/zero, a device'), else None.

    A folder or a device named sites.csv must be called what it is: reading /dev/zero never
    ends, a FIFO blocks, and "file is missing: the folder has sites.csv" helps nobody.
    """
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_symlink() and not path.exists():
        return f"a link to {os.readlink(path)}, which does not exist"
    mode = path.stat().st_mode
    if stat.S_ISREG(mode):
        return None
    kind = (
        "a folder"
        if stat.S_ISDIR(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a named pipe"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    return f"a link to {os.readlink(path)}, {kind}" if path.is_symlink() else kind


def read_table(path: Path, issues: list[Issue], max_bytes: int = MAX_FILE_BYTES) -> RawTable | None:
    """Read one CSV file; append problems to `issues` and return None if unreadable."""
    name = path.name
    kind = not_a_file(path)
    if kind is not None:
        issues.append(
            Issue(name, None, None, "not-a-file", None, f"{name} is {kind}, not a CSV file; put the CSV file there")
        )
        return None
    if not path.is_file():
        others = [p.name for p in path.parent.iterdir() if p.name != name] if path.parent.is_dir() else []
        stem = name.rsplit(".", 1)[0]
        near = [o for o in others if o.lower() == name.lower()]
        workbooks = [
            o
            for o in others
            if o.lower().rsplit(".", 1)[0] == stem and o.lower().endswith((".xlsx", ".xlsm", ".xls", ".ods"))
        ]
        hint = (
            f"; the folder has {near[0]}: rename it to {name}"
            if near
            else f"; the folder has {workbooks[0]}: save it as 'CSV UTF-8' named {name}"
            if workbooks
            else ""
        )
        issues.append(
            Issue(name, None, None, "missing-file", None, f"file {name} is missing from the dataset folder{hint}")
        )
        return None
    size = path.stat().st_size
    if size > max_bytes:
        issues.append(
            Issue(
                name,
                None,
                None,
                "file-too-large",
                f"{size:,} bytes",
                f"file is larger than the {max_bytes // (1024 * 1024)} MiB limit; split the dataset",
            )
        )
        return None
    return parse_table(name, path.read_bytes(), issues)


def parse_table(name: str, data: bytes, issues: list[Issue], max_rows: int | None = None) -> RawTable | None:
    """Parse CSV bytes (UTF-8, with or without BOM, any line endings); at most `max_rows` data rows."""
    max_rows = MAX_ROWS if max_rows is None else max_rows
    lines = max(data.count(b"\n"), data.count(b"\r"))  # at least the number of rows, counted in milliseconds
    if lines > max_rows + 1:
        issues.append(
            Issue(
                name,
                None,
                None,
                "too-many-rows",
                f"{lines:,} lines",
                f"file has more than {max_rows:,} rows; a dataset is a few thousand sites, "
                "so this is probably not the file meant (or split it by carrier)",
            )
        )
        return None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        issues.append(
            Issue(
                name,
                1,
                None,
                "encoding",
                repr(data[:2]),
                "file is UTF-16 text (Excel's 'Unicode Text'); save it as 'CSV UTF-8'",
            )
        )
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line, column, cell = _locate_byte(data, err.start)
        issues.append(
            Issue(
                name,
                line,
                column,
                "encoding",
                cell,
                "file is not UTF-8 text (Excel's plain 'CSV' uses Windows-1252); "
                "save it as 'CSV UTF-8' or re-encode it to UTF-8",
            )
        )
        return None
    if "\x00" in text:
        line, column, cell = _locate_byte(data, data.index(b"\x00"))
        issues.append(
            Issue(
                name,
                line,
                column,
                "encoding",
                cell.replace("\x00", "\\x00"),
                "file contains NUL bytes; it is not a CSV text file (a spreadsheet's binary format?)",
            )
        )
        return None
    # strict: a stray double quote is reported instead of silently swallowing the rest of the file
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    record_end = 0
    try:
        header_row = next(reader, None)
        if header_row is None:
            issues.append(Issue(name, None, None, "empty-file", None, "file is empty; it needs a header row"))
            return None
        header = tuple(h.strip() for h in header_row)
        record_end = reader.line_num
        separator = _other_separator(header_row)
        if separator:
            issues.append(
                Issue(
                    name,
                    1,
                    None,
                    "wrong-delimiter",
                    header_row[0][:60],
                    f"the header is separated by {separator}, not commas (Excel in many European "
                    "locales saves CSV so); save it as 'CSV (comma delimited)' or 'CSV UTF-8'",
                )
            )
            return None
        rows: list[tuple[int, dict[str, str]]] = []
        for cells in reader:
            line = record_end + 1  # where the row starts: a quoted cell may span several lines
            record_end = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank lines carry no data
            if len(cells) > len(header):
                issues.append(
                    Issue(
                        name,
                        line,
                        None,
                        "extra-cells",
                        ",".join(cells[len(header) :])[:60],
                        f"row has {len(cells)} cells but the header has {len(header)} columns; "
                        "put text that contains commas in double quotes",
                    )
                )
            rows.append((line, {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)}))
    except csv.Error as err:
        issues.append(Issue(name, record_end + 1, None, "csv-syntax", None, _csv_message(str(err))))
        return None
    return RawTable(name, header, tuple(rows))


def _other_separator(header_row: list[str]) -> str | None:
    """The separator a one-cell header was really written with (';', tab, '|'), or None."""
    if len(header_row) == 1 and header_row[0].lower().startswith("sep="):
        return repr(header_row[0][4:5] or "?")  # Excel's "sep=;" first line
    if len(header_row) == 1:
        for separator, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
            if separator in header_row[0]:
                return label
    return None


def _csv_message(error: str) -> str:
    """The csv module's complaint, in the words of someone editing a spreadsheet."""
    if "unexpected end of data" in error:
        return (
            "a double quote opened in the row starting on this line is never closed, so the rest of the file "
            "would be read as one cell; close the quote or remove it"
        )
    if "expected after" in error:
        return (
            "text follows a closing double quote in the row starting on this line; "
            "quote the whole cell or remove the quotes"
        )
    if "field limit" in error:
        return f"a cell in the row starting on this line is longer than {csv.field_size_limit():,} characters"
    return f"CSV syntax error in the row starting on this line: {error}"


def _locate_byte(data: bytes, offset: int) -> tuple[int, str | None, str]:
    """(line, column name, cell text) around a byte offset, so an encoding error points at the cell."""
    line = data[:offset].count(b"\n") + 1
    header = data.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace").strip("\r")
    line_start = data.rfind(b"\n", 0, offset) + 1
    line_end = data.find(b"\n", offset)
    row_text = data[line_start : len(data) if line_end < 0 else line_end].decode("utf-8", errors="backslashreplace")
    before = data[line_start:offset].decode("utf-8", errors="replace")
    try:
        names = next(csv.reader([header]))
        index = len(next(csv.reader([before + "x"]))) - 1  # cells started before the bad byte
        cells = next(csv.reader([row_text.rstrip("\r")]))
    except (csv.Error, StopIteration):
        return line, None, row_text[:60]
    column = names[index].strip() if line > 1 and index < len(names) else None
    return line, column, cells[index] if index < len(cells) else row_text[:60]


def dataset_sha256(folder: Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Checksum of the dataset files, in a fixed order, so a plan names the exact input.

    Read in 1 MiB chunks, and only files within the size limit: `read_dataset` hashes after
    the files were judged, but a caller hashing a folder of a 3 GiB file must not hold it all.
    """
    digest = hashlib.sha256()
    for name in (*DATASET_FILES, "scenario.toml"):
        path = folder / name
        if path.is_file():
            size = path.stat().st_size
            if size > max_bytes:
                raise ValueError(f"{path} is {size:,} bytes, over the {max_bytes:,}-byte limit; it is not hashed")
            digest.update(name.encode())
            with path.open("rb") as stream:
                for chunk in iter(lambda: stream.read(2**20), b""):
                    digest.update(chunk)
    return digest.hexdigest()


def dataset_tables(dataset: Dataset) -> dict[str, str]:
    """The dataset as the text of its three CSV files (the documented format)."""
    out: dict[str, str] = {}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # `extensions` is written only when some carrier has its own (the file stays as it was otherwise)
    own_extensions = any(c.extensions is not None for c in dataset.carriers)
    writer.writerow(
        ["carrier_id", "name", "state", "subscribers", "own_funds_usd", "priority"] + ["extensions"] * own_extensions
    )
    for c in dataset.carriers:
        extensions = ["" if c.extensions is None else c.extensions] * own_extensions
        writer.writerow(
            [c.carrier_id, csv_text(c.name), c.state, c.subscribers, _number(c.own_funds_usd), c.priority, *extensions]
        )
    out["carriers.csv"] = buffer.getvalue()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["carrier_id", "crew_type", "capacity", "winter_capacity"])
    for p in dataset.crews:
        writer.writerow(
            [
                p.carrier_id,
                p.crew_type,
                _number(p.capacity),
                "" if p.winter_capacity is None else _number(p.winter_capacity),
            ]
        )
    out["crews.csv"] = buffer.getvalue()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    crew_types = dataset.crew_types
    # `status` and `started` are written only when some site has them (the file stays as it was otherwise)
    progress = any(s.status != "planned" or s.started for s in dataset.sites)
    writer.writerow(
        [
            "site_id",
            "carrier_id",
            "kind",
            "name",
            "lat",
            "lon",
            "county_fips",
            "population",
            "cost_usd",
            "duration",
            "lead_time",
            "depends_on",
            *[f"crew_{k}" for k in crew_types],
        ]
        + ["status", "started"] * progress
    )
    for s in dataset.sites:
        writer.writerow(
            [
                s.site_id,
                s.carrier_id,
                s.kind,
                csv_text(s.name),
                "" if s.lat is None else s.lat,
                "" if s.lon is None else s.lon,
                s.county_fips,
                s.population,
                _number(s.cost_usd),
                s.duration_months,
                s.lead_time_months,
                ";".join(s.depends_on),
                *[_number(s.need(k)) for k in crew_types],
                *[s.status, s.started][: 2 * progress],
            ]
        )
    out["sites.csv"] = buffer.getvalue()
    return out


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
