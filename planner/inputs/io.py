"""Reading datasets and scenarios from disk, keeping (file, row, column) for every value.

A dataset is a folder with `carriers.csv`, `crews.csv`, `sites.csv` and optionally
`scenario.toml` (its default scenario). `read_dataset` either returns a validated
`Dataset` or raises one `InputError` listing every problem found in every file; the
cells are read by `tables` and judged by `validation`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from planner.core.errors import InputError, Issue
from planner.core.schema import Dataset, Scenario
from planner.inputs.tables import (
    DATASET_FILES,
    dataset_sha256,
    dataset_tables,
    not_a_file,
    read_table,
)
from planner.inputs.validation import build_dataset, scenario_from_mapping

MAX_SCENARIO_BYTES = 1024 * 1024  # a scenario is a dozen lines


def read_dataset(folder: str | Path) -> Dataset:
    """Load and validate a dataset folder; raise InputError listing every problem."""
    folder = Path(folder)
    issues: list[Issue] = []
    if not folder.is_dir():
        what = (
            "is a file, not a folder; give the folder holding carriers.csv, crews.csv and sites.csv"
            if folder.exists()
            else "dataset folder does not exist"
        )
        raise InputError([Issue(str(folder), None, None, "missing-folder", None, what)])
    tables = {name: read_table(folder / name, issues) for name in DATASET_FILES}
    scenario = None
    scenario_path = folder / "scenario.toml"
    if scenario_path.exists() or scenario_path.is_symlink():  # a folder of that name is an error, not ignored
        scenario = read_scenario(scenario_path, issues=issues)
    # Hashed only once every file was judged by its size and read: a refused 3 GiB file is never read.
    readable = all(table is not None for table in tables.values()) and not any(i.severity == "error" for i in issues)
    sha256 = dataset_sha256(folder) if readable else ""
    dataset = build_dataset(tables, issues, name=folder.name, sha256=sha256, default_scenario=scenario)
    if any(i.severity == "error" for i in issues) or dataset is None:
        raise InputError(issues)
    return dataset


def read_scenario(path: str | Path, base: Scenario | None = None, issues: list[Issue] | None = None) -> Scenario:
    """Read a scenario TOML file as overrides on `base` (the defaults if None)."""
    path = Path(path)
    own = issues if issues is not None else []
    text, mapping = "", None
    kind = not_a_file(path)
    try:
        size = 0 if kind else path.stat().st_size
        if kind:
            own.append(Issue(path.name, None, None, "not-a-file", None, f"{path.name} is {kind}, not a scenario file"))
        elif size > MAX_SCENARIO_BYTES:  # refused unread: a scenario is a dozen lines
            own.append(
                Issue(
                    path.name,
                    None,
                    None,
                    "file-too-large",
                    f"{size:,} bytes",
                    f"a scenario file is a few lines; this one is over {MAX_SCENARIO_BYTES // 1024} KiB",
                )
            )
        else:
            text = path.read_text(encoding="utf-8-sig")
            mapping = tomllib.loads(text)
    except FileNotFoundError:
        own.append(Issue(path.name, None, None, "missing-file", str(path), "scenario file does not exist"))
    except RecursionError:  # tomllib recurses into nested arrays and tables: thousands of '[' exhaust the stack
        own.append(
            Issue(
                path.name,
                None,
                None,
                "toml-syntax",
                None,
                "scenario nests arrays or tables too deeply to be a scenario; it holds plain keys and values",
            )
        )
    except tomllib.TOMLDecodeError as err:
        at = re.search(r"at line (\d+)", str(err))
        own.append(
            Issue(
                path.name,
                int(at.group(1)) if at else None,
                None,
                "toml-syntax",
                None,
                f"scenario is not valid TOML: {err}",
            )
        )
    except UnicodeDecodeError as err:
        own.append(Issue(path.name, None, None, "encoding", None, f"scenario is not UTF-8 text: {err}"))
    scenario = base or Scenario()
    if mapping is not None:
        scenario = scenario_from_mapping(mapping, path.name, own, base=scenario, name=path.stem, lines=_key_lines(text))
    if issues is None and any(i.severity == "error" for i in own):
        raise InputError(own)
    return scenario


def _key_lines(text: str) -> dict[str, int]:
    """Line of each top-level `key = value` in TOML text (tomllib keeps no positions)."""
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("["):
            break  # keys below a [table] header are not scenario keys
        match = re.match(r"\s*([A-Za-z0-9_-]+|\"[^\"]*\")\s*=", line)
        if match:
            lines.setdefault(match.group(1).strip('"'), number)
    return lines


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
    lines: list[str] = []
    tables: list[str] = []
    for key, value in scenario.to_dict().items():
        if key == "tranches":  # an array of tables, written after every plain key
            tables.extend(f'\n[[tranches]]\nmonth = "{month}"\nusd = {usd!r}' for month, usd in value)
        elif isinstance(value, str):
            lines.append(f'{key} = "{value}"')
        elif isinstance(value, float):
            lines.append(f"{key} = {value!r}")
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines + tables) + "\n"
