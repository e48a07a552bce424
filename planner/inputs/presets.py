"""Named scenarios: shipped presets for the program's real moments, as overrides on a base scenario.

A preset is a TOML file in `planner/data/scenarios/` (shipped as package data):

    description = "2020 appropriation: ..."
    extends = "appropriation-2020"      # optional: another preset applied first
    [scenario]                          # the overrides, checked like any scenario file
    fund_usd = 1895000000
    [sources]                           # where each figure comes from: a key of
    fund_usd = "appropriation_2020"     # datasets/reference/program_facts.csv

Presets set the money, the rule and the term; the calendar (start, horizon) and the
solver settings come from the base, normally the dataset's own `scenario.toml`, so
that presets compare policies on the same data. A user's scenario file may use the
same layout (with `extends` naming a preset) or be a plain flat scenario file.

Shipped presets (figures from datasets/reference/program_facts.csv):

    proposal-2019                     $1B (authorized_fund_2019), pro rata, 12 months
    appropriation-2020                $1.895B (appropriation_2020) less a $62,087,555 reserve = $1,832,912,445
                                      available (0.395 x $4.64B, pro_rata_factor_2022 x
                                      priority1_estimates_2022), priority tiers (47 CFR 1.50004) as the FCC did
    appropriation-2020-extended       + one 6-month extension (extension_months)
    appropriation-2020-extended-twice + two 6-month extensions
    appropriation-2020-optimal        the 2020 money divided by the optimiser
    full-funding-2024                 $4.98B (total_need_2022), pro rata, 12 months
    full-funding-2024-extended        + one 6-month extension
    program-as-run                    two tranches: $1.895B 2022-07 (appropriation_2020), $3.08B
                                      2025-04 (second_tranche_available_2025_04); priority tiers;
                                      one extension each; late sites kept running
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from planner.core.errors import InputError, Issue
from planner.core.schema import Scenario
from planner.inputs.io import MAX_SCENARIO_BYTES, read_scenario
from planner.inputs.validation import scenario_from_mapping

PRESET_PACKAGE = "planner"
PRESET_FOLDER = ("data", "scenarios")
PRESET_KEYS = ("description", "extends", "scenario", "sources")


@dataclass(frozen=True)
class Preset:
    """A named scenario: overrides on a base, with a description and the source of each figure."""

    name: str
    description: str = ""
    extends: str | None = None
    overrides: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)


def _preset_files() -> dict[str, Traversable]:
    folder = resources.files(PRESET_PACKAGE).joinpath(*PRESET_FOLDER)
    return {entry.name[:-5]: entry for entry in folder.iterdir() if entry.name.endswith(".toml")}


def preset_names() -> tuple[str, ...]:
    """The names of the shipped presets, sorted."""
    return tuple(sorted(_preset_files()))


def fund_presets() -> dict[str, float]:
    """Each distinct fund the shipped presets name, labelled by its first preset: {"$1.895B: 2020 appropriation": ...}.

    The app's fund chooser shows these, so its figures are the presets' (each cited in its file), never a copy.
    """
    titles: dict[float, str] = {}
    for name in preset_names():
        found = preset(name)
        if "fund_usd" in found.overrides and found.extends is None:
            titles.setdefault(float(found.overrides["fund_usd"]), found.description.split(":")[0].strip() or name)
    return {f"${fund / 1e9:g}B: {title}": fund for fund, title in sorted(titles.items())}


def _parse_preset(name: str, mapping: dict, file: str, issues: list[Issue]) -> Preset:
    for key in mapping:
        if key not in PRESET_KEYS:
            issues.append(
                Issue(
                    file,
                    None,
                    key,
                    "unknown-key",
                    str(mapping[key])[:60],
                    f"unknown key in a named scenario; known keys: {', '.join(PRESET_KEYS)}",
                )
            )
    overrides = mapping.get("scenario", {})
    if not isinstance(overrides, dict):
        issues.append(Issue(file, None, "scenario", "bad-type", str(overrides)[:60], "[scenario] must be a table"))
        overrides = {}
    extends = mapping.get("extends")
    if extends is not None and not isinstance(extends, str):
        issues.append(Issue(file, None, "extends", "bad-type", str(extends), "extends must name a preset"))
        extends = None
    return Preset(
        name,
        str(mapping.get("description", "")),
        extends,
        dict(overrides),
        dict(mapping.get("sources", {})) if isinstance(mapping.get("sources"), dict) else {},
    )


def preset(name: str) -> Preset:
    """Read one shipped preset; raise InputError (rule unknown-scenario) naming the known ones."""
    files = _preset_files()
    if name not in files:
        raise InputError([_unknown(name)])
    issues: list[Issue] = []
    file = f"{name}.toml"
    try:
        mapping = tomllib.loads(files[name].read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise InputError([Issue(file, None, None, "toml-syntax", None, f"preset is not valid TOML: {err}")]) from None
    found = _parse_preset(name, mapping, file, issues)
    if any(i.severity == "error" for i in issues):
        raise InputError(issues)
    return found


def _unknown(name: str) -> Issue:
    return Issue(
        "--scenario",
        None,
        None,
        "unknown-scenario",
        name,
        f"no scenario file or preset of this name; presets: {', '.join(preset_names())}",
    )


def load_preset(
    name: str, base: Scenario | None = None, issues: list[Issue] | None = None, _seen: tuple[str, ...] = ()
) -> Scenario:
    """The scenario of a preset: its `extends` chain applied to `base`, then its own overrides."""
    own = issues if issues is not None else []
    if name in _seen:
        own.append(
            Issue(
                f"{name}.toml",
                None,
                "extends",
                "extends-cycle",
                " -> ".join((*_seen, name)),
                "presets extend each other in a cycle",
            )
        )
        scenario = base or Scenario()
    else:
        try:
            found = preset(name)
        except InputError as err:
            own.extend(err.issues)
            found = None
        scenario = base or Scenario()
        if found is not None:
            scenario = _apply(found, scenario, f"{name}.toml", own, (*_seen, name))
    if issues is None and any(i.severity == "error" for i in own):
        raise InputError(own)
    return scenario


def _apply(found: Preset, base: Scenario, file: str, issues: list[Issue], seen: tuple[str, ...]) -> Scenario:
    if found.extends:
        base = load_preset(found.extends, base, issues, seen)
    scenario = scenario_from_mapping(found.overrides, file, issues, base=base)
    return scenario.with_overrides(name=found.overrides.get("name", found.name))


def resolve(name_or_path: str | Path, base: Scenario | None = None, issues: list[Issue] | None = None) -> Scenario:
    """A scenario from a file path or a preset name, as overrides on `base`.

    An existing file wins over a preset of the same name. A file in the preset layout
    (a `[scenario]` table, optionally `extends = "preset"`) is applied like a preset;
    a flat file is read by `planner.read_scenario`.
    """
    own = issues if issues is not None else []
    path = Path(name_or_path)
    if path.is_file():
        scenario = _resolve_file(path, base, own)
    elif path.exists() or path.is_symlink():  # a folder or a device: read_scenario says what it is
        scenario = read_scenario(path, base=base, issues=own)
    elif str(name_or_path) in _preset_files():
        scenario = load_preset(str(name_or_path), base, own)
    elif path.suffix == ".toml" or path.parent != Path("."):
        own.append(Issue(path.name, None, None, "missing-file", str(path), "scenario file does not exist"))
        scenario = base or Scenario()
    else:
        own.append(_unknown(str(name_or_path)))
        scenario = base or Scenario()
    if issues is None and any(i.severity == "error" for i in own):
        raise InputError(own)
    return scenario


def _resolve_file(path: Path, base: Scenario | None, issues: list[Issue]) -> Scenario:
    try:
        too_large = path.stat().st_size > MAX_SCENARIO_BYTES
        mapping = None if too_large else tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError, OSError):
        mapping = None
    if mapping is None or ("scenario" not in mapping and "extends" not in mapping):
        return read_scenario(path, base=base, issues=issues)  # a plain scenario, or it reports what is wrong
    found = _parse_preset(path.stem, mapping, path.name, issues)
    return _apply(found, base or Scenario(), path.name, issues, (path.stem,))


def describe_presets(base: Scenario | None = None) -> list[dict]:
    """One row per preset: name, description, and its fund, reserve, rule and term on `base`."""
    rows = []
    for name in preset_names():
        scenario = load_preset(name, base)
        rows.append(
            {
                "name": name,
                "description": preset(name).description,
                "fund_usd": scenario.fund_usd,
                "available_usd": scenario.available_usd,
                "rule": scenario.rule,
                "deadline": scenario.deadline,
                "extensions": scenario.extensions,
                "effective_deadline": scenario.effective_deadline,
            }
        )
    return rows
