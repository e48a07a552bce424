"""The embedded program126 dataset: it loads cleanly, holds the public record's totals, and its generator
rewrites it byte for byte (as rural40's generator, lightly refactored to be shared, still rewrites rural40)."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from planner import read_dataset
from planner.inputs.validation import check_against_scenario

ROOT = Path(__file__).resolve().parent.parent
PROGRAM126 = ROOT / "datasets" / "program126"
sys.path.insert(0, str(ROOT / "datasets"))

import generate_program  # noqa: E402  (the generator scripts live in datasets/, not in a package)
import generate_rural40  # noqa: E402

P1_ESTIMATES_USD = 4_640_284_672  # program_facts priority1_estimates_2022 (FCC DA-22-774)
NAVAJO_NATION_FIPS = {"04001", "04005", "04017", "35031", "35045", "49037"}
DATA_FILES = ("carriers.csv", "crews.csv", "sites.csv", "scenario.toml")


@pytest.fixture(scope="module")
def program126():
    return read_dataset(PROGRAM126)


@pytest.fixture(scope="module")
def generated():
    return generate_program.Generated(*generate_program.generate(generate_program.DEFAULT_SEED))


def entity_of(name: str) -> str:
    return re.sub(r" \(application \d+ of \d+\)$", "", name)


def test_shipped_files_load_without_warnings_and_every_site_fits_the_default_horizon(program126):
    """The planner reads the folder with no warning (no extra column) and, with 8-12 month radio lead
    times, no site's earliest finish falls beyond the 48-month horizon of the default scenario."""
    assert program126.warnings == ()
    assert program126.default_scenario.horizon == 48
    assert check_against_scenario(program126, program126.default_scenario) == []


def test_the_dataset_holds_the_public_record(program126):
    """126 approved applications from 85 entities, all Priority 1, about 8,400 locations, Priority 1
    estimates of $4,640,284,672, and radio gear arriving 8-12 months after the start."""
    carriers, sites = program126.carriers, program126.sites
    assert len(carriers) == 126
    assert len({entity_of(c.name) for c in carriers}) == 85
    assert {c.priority for c in carriers} == {1}
    assert 8_000 <= len(sites) <= 8_800
    assert abs(sum(s.cost_usd for s in sites) - P1_ESTIMATES_USD) <= 100_000
    ran_lead = {s.lead_time_months for s in sites if s.kind == "ran"}
    assert ran_lead and min(ran_lead) >= 8 and max(ran_lead) <= 12
    assert max(s.lead_time_months for s in sites if s.kind != "ran") < 8


def test_size_mix_like_the_requests(program126):
    """About 15 entities over $100M and about 21 under $1M; the largest spreads 22 applications."""
    cost_by_carrier: dict[str, float] = {}
    for s in program126.sites:
        cost_by_carrier[s.carrier_id] = cost_by_carrier.get(s.carrier_id, 0.0) + s.cost_usd
    by_entity: dict[str, float] = {}
    applications: dict[str, int] = {}
    for c in program126.carriers:
        entity = entity_of(c.name)
        by_entity[entity] = by_entity.get(entity, 0.0) + cost_by_carrier[c.carrier_id]
        applications[entity] = applications.get(entity, 0) + 1
    assert 12 <= sum(v > 100e6 for v in by_entity.values()) <= 16
    assert 19 <= sum(v < 1e6 for v in by_entity.values()) <= 23
    largest = max(by_entity, key=by_entity.get)
    assert applications[largest] == 22 and by_entity[largest] > 1e9


def test_navajo_nation_and_american_samoa_are_on_the_map(program126):
    """The Navajo Nation applicant's sites all lie in the Nation's six counties of AZ, NM and UT, and the
    American Samoa applicant's sites carry territory codes (60xxx) and South Pacific coordinates."""
    names = {c.carrier_id: c.name for c in program126.carriers}
    navajo = [s for s in program126.sites if names[s.carrier_id].startswith("Four Corners Tribal Wireless")]
    assert navajo and {s.county_fips for s in navajo} <= NAVAJO_NATION_FIPS
    assert {s.county_fips[:2] for s in navajo} == {"04", "35", "49"}
    samoa_ids = {c.carrier_id for c in program126.carriers if c.state == "AS"}
    samoa = [s for s in program126.sites if s.carrier_id in samoa_ids]
    assert samoa and all(s.county_fips.startswith("60") for s in samoa)
    assert all(-15 < s.lat < -14 and -171 < s.lon < -169 for s in samoa)


def test_wireline_applications_have_no_radio_sites_and_no_tower_crews(program126):
    """Wireline applicants replace core and transport gear only: their leaves are kind `other`."""
    kinds: dict[str, set[str]] = {}
    for s in program126.sites:
        kinds.setdefault(s.carrier_id, set()).add(s.kind)
    wireline = {cid for cid, k in kinds.items() if "other" in k}
    assert len(wireline) >= 10
    assert all("ran" not in kinds[cid] for cid in wireline)
    towers = {p.carrier_id for p in program126.crews if p.crew_type == "tower"}
    assert not wireline & towers


def test_generator_rewrites_the_shipped_files_byte_for_byte(generated, tmp_path):
    """Same seed, same bytes: a fresh run matches the committed tables, and the data card's generated
    tables are current (a run over a copy of the card leaves it unchanged)."""
    assert generated.problems() == []
    shutil.copy(PROGRAM126 / "README.md", tmp_path / "README.md")
    generate_program.write_dataset(generated, tmp_path)
    for name in (*DATA_FILES, "README.md"):
        assert (tmp_path / name).read_bytes() == (PROGRAM126 / name).read_bytes(), name


def test_generator_checks_refuse_a_broken_dataset(generated):
    """The checks that stop the generator from writing: a dependency cycle and a radio lead time of 13
    months are both reported."""
    sites = generated.sites.copy()
    core = sites.index[sites["site_id"] == "c001-core"][0]
    sites.loc[core, "depends_on"] = "c001-bh01"
    ran = sites.index[sites["kind"] == "ran"][0]
    sites.loc[ran, "lead_time"] = 13
    problems = generate_program.check_program(
        generated.carriers, generated.crews, sites, generated.applications, generated.facts, 48
    )
    assert any("cycle" in p for p in problems)
    assert any("ran lead times outside 8-12" in p for p in problems)


def test_rural40_generator_still_rewrites_rural40(tmp_path):
    """The refactor that shares rural40's functions leaves its output unchanged."""
    carriers, crews, sites, facts, _scale = generate_rural40.generate(generate_rural40.DEFAULT_SEED)
    assert generate_rural40.check_dataset(carriers, crews, sites, facts["priority1_estimates_2022"]) == []
    generate_rural40.write_csv(sites.pipe(generate_rural40.format_sites), tmp_path / "sites.csv")
    generate_rural40.write_csv(carriers, tmp_path / "carriers.csv")
    generate_rural40.write_csv(crews, tmp_path / "crews.csv")
    (tmp_path / "scenario.toml").write_text(generate_rural40.scenario_toml(facts))
    rural40 = ROOT / "datasets" / "rural40"
    for name in DATA_FILES:
        assert (tmp_path / name).read_bytes() == (rural40 / name).read_bytes(), name
