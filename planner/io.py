"""Reading datasets and scenarios from disk, keeping (file, row, column) for every value.

A dataset is a folder with `carriers.csv`, `crews.csv`, `sites.csv` and optionally
`scenario.toml` (its default scenario). `read_dataset` either returns a validated
`Dataset` or raises one `InputError` listing every problem found in every file.
"""
from __future__ import annotations

import csv
import hashlib
import io
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, Issue
from .schema import Dataset, Scenario

DATASET_FILES = ("carriers.csv", "crews.csv", "sites.csv")
MAX_FILE_BYTES = 64 * 1024 * 1024  # larger inputs are refused rather than risk the machine


@dataclass(frozen=True)
class RawTable:
    """A CSV file as text cells, each row paired with the line a spreadsheet shows."""

    file: str
    header: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, str]], ...]


def read_table(path: Path, issues: list[Issue], max_bytes: int = MAX_FILE_BYTES) -> RawTable | None:
    """Read one CSV file; append problems to `issues` and return None if unreadable."""
    name = path.name
    if not path.is_file():
        issues.append(Issue(name, None, None, "missing-file", None, f"file {name} is missing from the dataset folder"))
        return None
    size = path.stat().st_size
    if size > max_bytes:
        issues.append(Issue(name, None, None, "file-too-large", f"{size:,} bytes",
                            f"file is larger than the {max_bytes // (1024 * 1024)} MiB limit; split the dataset"))
        return None
    return parse_table(name, path.read_bytes(), issues)


def parse_table(name: str, data: bytes, issues: list[Issue]) -> RawTable | None:
    """Parse CSV bytes (UTF-8, with or without BOM, any line endings)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        issues.append(Issue(name, line, None, "encoding", repr(data[err.start:err.start + 4]),
                            "file is not UTF-8 text; save it as CSV UTF-8"))
        return None
    if "\x00" in text:
        issues.append(Issue(name, None, None, "encoding", "NUL byte", "file contains NUL bytes; it is not a CSV text file"))
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header_row = next(reader, None)
        if header_row is None:
            issues.append(Issue(name, None, None, "empty-file", None, "file is empty; it needs a header row"))
            return None
        header = tuple(h.strip() for h in header_row)
        rows: list[tuple[int, dict[str, str]]] = []
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank lines carry no data
            if len(cells) > len(header):
                issues.append(Issue(name, line, None, "extra-cells", ",".join(cells[len(header):])[:60],
                                    f"row has {len(cells)} cells but the header has {len(header)} columns"))
            rows.append((line, {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)}))
    except csv.Error as err:
        issues.append(Issue(name, reader.line_num, None, "csv-syntax", None, f"CSV syntax error: {err}"))
        return None
    return RawTable(name, header, tuple(rows))


def dataset_sha256(folder: Path) -> str:
    """Checksum of the dataset files, in a fixed order, so a plan names the exact input."""
    digest = hashlib.sha256()
    for name in (*DATASET_FILES, "scenario.toml"):
        path = folder / name
        if path.is_file():
            digest.update(name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def read_dataset(folder: str | Path) -> Dataset:
    """Load and validate a dataset folder; raise InputError listing every problem."""
    from .validation import build_dataset  # validation owns the rules

    folder = Path(folder)
    issues: list[Issue] = []
    if not folder.is_dir():
        raise InputError([Issue(str(folder), None, None, "missing-folder", None, "dataset folder does not exist")])
    tables = {name: read_table(folder / name, issues) for name in DATASET_FILES}
    scenario = None
    if (folder / "scenario.toml").is_file():
        scenario = read_scenario(folder / "scenario.toml", issues=issues)
    dataset = build_dataset(tables, issues, name=folder.name, sha256=dataset_sha256(folder), default_scenario=scenario)
    if any(i.severity == "error" for i in issues) or dataset is None:
        raise InputError(issues)
    return dataset


def read_scenario(path: str | Path, base: Scenario | None = None, issues: list[Issue] | None = None) -> Scenario:
    """Read a scenario TOML file as overrides on `base` (the defaults if None)."""
    from .validation import scenario_from_mapping

    path = Path(path)
    own = issues if issues is not None else []
    try:
        mapping = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        own.append(Issue(path.name, None, None, "missing-file", str(path), "scenario file does not exist"))
        mapping = None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        own.append(Issue(path.name, None, None, "toml-syntax", None, f"scenario is not valid TOML: {err}"))
        mapping = None
    scenario = base or Scenario()
    if mapping is not None:
        scenario = scenario_from_mapping(mapping, path.name, own, base=scenario, name=path.stem)
    if issues is None and any(i.severity == "error" for i in own):
        raise InputError(own)
    return scenario


def dataset_tables(dataset: Dataset) -> dict[str, str]:
    """The dataset as the text of its three CSV files (the documented format)."""
    out: dict[str, str] = {}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["carrier_id", "name", "state", "subscribers", "own_funds_usd", "priority"])
    for c in dataset.carriers:
        writer.writerow([c.carrier_id, c.name, c.state, c.subscribers, _number(c.own_funds_usd), c.priority])
    out["carriers.csv"] = buffer.getvalue()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["carrier_id", "crew_type", "capacity", "winter_capacity"])
    for p in dataset.crews:
        writer.writerow([p.carrier_id, p.crew_type, _number(p.capacity),
                         "" if p.winter_capacity is None else _number(p.winter_capacity)])
    out["crews.csv"] = buffer.getvalue()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    crew_types = dataset.crew_types
    writer.writerow(["site_id", "carrier_id", "kind", "name", "lat", "lon", "county_fips", "population", "cost_usd",
                     "duration", "lead_time", "depends_on", *[f"crew_{k}" for k in crew_types]])
    for s in dataset.sites:
        writer.writerow([s.site_id, s.carrier_id, s.kind, s.name, "" if s.lat is None else s.lat,
                         "" if s.lon is None else s.lon, s.county_fips, s.population, _number(s.cost_usd),
                         s.duration_months, s.lead_time_months, ";".join(s.depends_on),
                         *[_number(s.need(k)) for k in crew_types]])
    out["sites.csv"] = buffer.getvalue()
    return out


def write_dataset(dataset: Dataset, folder: str | Path) -> Path:
    """Write the dataset's CSV files (and its default scenario, if any) into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in dataset_tables(dataset).items():
        (folder / name).write_text(text, encoding="utf-8")
    if dataset.default_scenario is not None:
        (folder / "scenario.toml").write_text(scenario_toml(dataset.default_scenario), encoding="utf-8")
    return folder


def scenario_toml(scenario: Scenario) -> str:
    """A scenario as TOML text that `read_scenario` reads back to the same scenario."""
    lines = []
    for key, value in scenario.to_dict().items():
        if isinstance(value, str):
            lines.append(f'{key} = "{value}"')
        elif isinstance(value, float):
            lines.append(f"{key} = {value!r}")
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
