#!/usr/bin/env python3
"""Generate ``datasets/program126``: the reimbursement program at its real size, with invented networks.

Usage::

    python datasets/generate_program.py [--seed 2022] [--out datasets/program126]

One ``numpy.random.default_rng(seed)`` drawn in a fixed order and explicit number formats make the
same seed (and the same ``datasets/reference/`` files) rewrite byte-identical files. The geography,
hub placement, site rows, dependency checks and file writing are those of
``datasets/generate_rural40.py`` (imported, not copied); this script adds the program's shape: many
applications per entity, wireline applicants, lead times of 2021-22, American Samoa and the Navajo
Nation.

What is real and what is invented
---------------------------------
Real (``datasets/reference/``): the counties (US Census 2019), and the program figures of
``program_facts.csv``: 126 approved applications from 85 entities, all Priority 1
(``approved_applications_2022``), about 8,400 locations (``covered_locations_2022``), the
$4,640,284,672 of Priority 1 estimates (``priority1_estimates_2022``), radio lead times of 8-12
months (``radio_lead_time_min_2021``, ``radio_lead_time_max_2021``), the fund and the 12-month term.
The sizes, application counts and state hints of the named requests in ``requests_2022.csv`` shape
26 "anchored" entities. Invented: every name, site, price, crew, subscriber count and date, the
other 59 entities, the American Samoa district points, and every lead time outside the radio range.

Modelling choices
-----------------
Applications and entities (``design_entities``)
    An application is one carrier row (its own crews, budget and dependency tree); its name is
    "<entity> (application k of n)". The requests name the application counts of eight entities
    (22, 6, 4, 3, 2, 4, 3 and 5: 49 applications); 126 - 49 = 77 = 85 - 8, so every other entity
    files one application. The anchored entities take the estimate implied by their reported
    allocation (allocation / 0.395) where one is reported, else their request; their site counts
    follow the record where it gives one (>900 LTE sites, 418 towers, 110 towers, >140 towers,
    44 towers). The large national provider of the requests (45 applications, > 2M customers) is
    not Priority 1, so it is not among the 126; nor are the university and the school district
    (Priority 2). The other 59 entities are invented: 18 tiny ones (estimates log-uniform in
    $15k-$950k, which with the three tiny named requests makes 21 under $1M) and 41 of
    $1.2M-$30M (log-uniform); those not named Wireless, Cellular or Mobile are wireline with
    probability 0.6 (about a third of them in all).
Technologies
    ``wireless``: core, backhaul hubs and RAN cell sites (rural40's three-level tree).
    ``fixed_wireless``: the same tree with cheaper towers. ``wireline``: core, backhaul hubs and
    wireline access locations (kind ``other``, worked by backhaul crews); no RAN.
    ``tiny``: a core and 0-2 backhaul nodes (a router or switch swap).
Geography
    An entity's points are drawn once for the whole entity with rural40's footprint
    (``choose_footprint``, ``place_points``) and cut into its applications by
    ``partition_points`` (bands of latitude cut along longitude, so each application is a
    contiguous patch). The Navajo Nation entity draws only in the six counties that hold the
    Nation (Apache, Coconino, Navajo AZ; McKinley, San Juan NM; San Juan UT). The air-to-ground
    entity spreads its towers over counties of every state of the table. American Samoa is not
    in the Census county table (no FIPS 60xxx), so its applicant is placed at three district
    points typed in here (``SAMOA_DISTRICTS``: approximate, invented for the dataset).
Costs (``draw_application_prices``, ``calibrate_program_scale``)
    Per application: the core takes 4-8% of its estimate, hubs 8-14% (split with +-20% noise),
    and leaf sites the rest through a menu of 2-3 quotes (light / standard / heavy, as rural40).
    One global price scale on every non-tiny application is found by bisection so that the
    (rounded to $1,000) costs of all 126 applications total $4,640,284,672. A quote shared by
    hundreds of sites moves the total in steps of hundreds of thousands of dollars, so the
    remainder (at most $250,000, checked) goes to the largest application's core and the total
    is exact. Tiny
    applications keep their drawn cost (rounded to $1) so the count under $1M is what was drawn.
Schedule (``set_program_schedule``)
    RAN lead times come in one or two batches inside 8-12 months (the trade group's 2021 range;
    program_facts ``radio_lead_time_min_2021``/``radio_lead_time_max_2021``). The reported
    shortage was of radio gear, and there is no public figure for cores, routers and transport:
    cores get 4-6 months, hubs and wireline locations 3-6 (invented; longer than rural40's 1-4 as
    chips were short for all gear). Durations as rural40: core 1-6 months by size, hubs 1-3,
    RAN 1-2, wireline locations 1. The longest chain (core 6 + 6, hub to month 15, RAN 2) ends by
    month 17, well inside the 48-month horizon.
Crews (``program_crew_rows``)
    Each application has its own crews (the format has no crews shared between carriers, so an
    entity's workforce is split over its applications). Tower crews are set so that all RAN work
    at full capacity takes 10-22 months (1-3 crews under 60 RAN crew-months); backhaul
    crews so that hubs and wireline locations take 8-18 months; one core team. Winter capacity
    (December-March) is halved for tower and backhaul crews in rural40's ``NORTHERN`` states.
People, subscribers and own funds
    As rural40, a leaf site serves its county's people times the application's market share over
    the application's sites in that county (log-normal noise, 50-15,000), but the share is drawn
    in 3-10% for wireless (2-6% for fixed wireless and wireline) rather than rural40's 10-40%:
    the record's two customer counts (about 110,000 for the >900-site entity, about 8,000 for the
    44-tower one) are a little over 100 customers per tower. Subscribers are the people of the
    application's leaf sites times U(0.7, 1.3) (tiny applications 50-5,000), all far under the
    2,000,000 of Priority 1; twelve applications can add 2-5% of their cost from own funds.

Before writing, ``check_program`` verifies ids, the dependency trees (inside each application,
acyclic), lead-time ranges, that every site can finish inside the horizon, and the calibration
targets, and the script writes nothing if any check fails.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate_rural40 import (  # the sibling script, imported as a module
    NEIGHBOURS,
    NORTHERN,
    PROGRAM_STATES,
    REFERENCE_DIR,
    SMALL_CARRIER_NAMES,
    CarrierPlan,
    build_sites_at,
    carrier_row,
    check_dependencies,
    choose_footprint,
    draw_states,
    format_sites,
    give_own_funds,
    place_points,
    read_reference,
    rural_weights,
    scenario_toml,
    site_row,
    update_data_card,
    write_csv,
)

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "program126"
DEFAULT_SEED = 2022
DATASET_NAME = "program126"

# rural40's states, the Navajo Nation's AZ, and a few eastern states for invented wireline applicants
TABLE_STATES = PROGRAM_STATES + "AZ KY TN GA FL VA AR MS IL".split()
SMALL_STATES = PROGRAM_STATES + "AZ KY TN VA AR".split()
NEIGHBOURS_126 = {
    **NEIGHBOURS,
    "AZ": "NM UT NV",
    "KY": "TN IL VA",
    "TN": "KY AR MS GA AL",
    "VA": "KY TN",
    "AR": "OK MO TN MS",
}
NAVAJO_NATION_FIPS = ("04001", "04005", "04017", "35031", "35045", "49037")
# American Samoa is not in the Census county table: district points and people typed in by hand
# (approximate; invented for the dataset, not Census data). fips, state, name, people, sq mi, lat, lon
SAMOA_DISTRICTS = (
    ("60010", "AS", "Eastern District", 23_000, 26.0, -14.275, -170.690),
    ("60050", "AS", "Western District", 31_000, 27.0, -14.330, -170.780),
    ("60020", "AS", "Manu'a District", 1_100, 21.0, -14.230, -169.480),
)
RECORD_STATES = ("CO", "NE", "KS", "WY", "UT", "ID", "OK", "AL", "WA", "AZ", "NM", "AS")

TECHNOLOGIES = ("wireless", "fixed_wireless", "wireline", "tiny")
PRO_RATA_2022 = 0.395  # program_facts pro_rata_factor_2022: estimate = allocation / 0.395
TINY_LIMIT_USD = 1_000_000
LARGE_LIMIT_USD = 100_000_000
LEAF_PRICE_USD = {  # unscaled price of one leaf site (RAN cell site or wireline location)
    "wireless": (0.80e6, 1.40e6),
    "fixed_wireless": (0.25e6, 0.40e6),
    "wireline": (0.08e6, 0.15e6),
}
MARKET_SHARE = {  # share of its counties' people an application serves (rural40: 10-40%)
    "wireless": (0.03, 0.10),
    "fixed_wireless": (0.02, 0.06),
    "wireline": (0.02, 0.06),
}
LEAD_MONTHS = {"core": (4, 6), "backhaul": (3, 6), "ran": (8, 12), "other": (3, 6)}
DURATION_MONTHS = {"core": (1, 6), "backhaul": (1, 3), "ran": (1, 2), "other": (1, 1)}
PARENT_KIND_126 = {"core": None, "backhaul": "core", "ran": "backhaul", "other": "backhaul"}
TARGETS = {  # public figure -> accepted range in the dataset (checked before writing)
    "applications": (126, 126),
    "entities": (85, 85),
    "sites": (8_000, 8_800),
    "entities_over_100m": (12, 16),
    "entities_under_1m": (19, 23),
}
SUBSCRIBER_LIMIT_P1 = 2_000_000

ENTITY_NAMES = SMALL_CARRIER_NAMES + (
    "Antelope Flats Wireless LLC",
    "Cedar Breaks Communications",
    "Dry Creek Mutual Telephone",
    "Elkhorn Ridge Cellular",
    "Fireweed Broadband Inc",
    "Goldenrod Telephone Cooperative",
    "Hackberry Hollow Networks",
    "Ironweed Valley Wireless",
    "Jackrabbit Junction Telecom",
    "Kingbird Prairie Cellular",
    "Larkspur Valley Networks LLC",
    "Mesquite Draw Telephone Company",
    "Nighthawk Plains Wireless",
    "Osage Orange Communications",
    "Paloverde Wash Wireless",
    "Quaking Aspen Telecom",
    "Rabbitbrush Mesa Cellular",
    "Shortgrass Telephone Cooperative",
    "Timber Rattler Networks",
    "Upland Plover Wireless",
    "Vesper Sparrow Telecom LLC",
    "Wild Plum Communications",
    "Yucca Flats Broadband",
    "Blackjack Oak Telephone Company",
    "Cypress Bottom Cellular",
    "Dogwood Gap Networks",
    "Hickory Knob Telephone Company",
)


@dataclass
class EntitySpec:
    """One applicant entity before any site exists."""

    name: str
    states: list[str]
    technology: str  # wireless, fixed_wireless, wireline, tiny
    applications: int
    estimate_usd: float  # unscaled
    leaf_sites: int | None = None  # RAN sites or wireline locations, when the record gives a count
    geography: str = "compact"  # compact, spread (air-to-ground), navajo, samoa
    echoes: str = ""  # the public hint it stands for (data card)


@dataclass
class Application:
    """One application (a carrier row) with its unscaled price draws."""

    plan: CarrierPlan
    entity: EntitySpec
    estimate_usd: float
    core_usd: float = 0.0
    hub_usd: np.ndarray = field(default_factory=lambda: np.zeros(0))
    quotes_usd: np.ndarray = field(default_factory=lambda: np.zeros(0))
    quote_tiers: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    config: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    @property
    def technology(self) -> str:
        return self.entity.technology


# --------------------------------------------------------------------------- entities


def anchored_entities() -> list[EntitySpec]:
    """The 26 entities that echo named requests of requests_2022.csv (names invented)."""
    a = PRO_RATA_2022
    return [
        EntitySpec(
            "Buffalo Grass Cellular Inc",
            ["CO", "NE", "KS"],
            "wireless",
            22,
            440e6 / a,
            900,
            echoes="largest request: CO/NE/KS, 22 applications, >$440M allocated, >900 LTE sites",
        ),
        EntitySpec(
            "Red Desert Mountain Telephone Company",
            ["WY", "CO", "UT", "ID"],
            "wireless",
            6,
            688e6,
            418,
            echoes="WY request: 6 applications, $688M, 418 towers in WY/CO/UT/ID",
        ),
        EntitySpec(
            "Slickrock Canyon Wireless LLC",
            ["NV", "UT", "AZ"],
            "wireless",
            4,
            418.8e6,
            echoes="$419M request in 4 applications (states invented)",
        ),
        EntitySpec(
            "Contrail Air-Ground Networks LLC",
            TABLE_STATES,
            "wireless",
            1,
            131e6 / a,
            geography="spread",
            echoes="air-to-ground request: one application, $131M allocated (largest single one)",
        ),
        EntitySpec(
            "Caprock Prairie Wireless LLC",
            ["TX", "NM"],
            "wireless",
            1,
            274.0e6,
            echoes="$274M request (states invented)",
        ),
        EntitySpec(
            "Coulee and Butte Telephone Cooperative",
            ["MT", "ND"],
            "wireless",
            1,
            76e6 / a,
            echoes="$199M request, $76M allocated (states invented)",
        ),
        EntitySpec(
            "Shawnee Hills Wireless LLC",
            ["IL", "KY", "TN"],
            "wireless",
            1,
            181.0e6,
            echoes="$181M request (states invented)",
        ),
        EntitySpec(
            "Cimarron Breaks Wireless Inc",
            ["KS"],
            "wireless",
            1,
            173.5e6,
            110,
            echoes="$173M request, 110 towers (state invented)",
        ),
        EntitySpec(
            "Mangrove Coast Fiber Ltd",
            ["FL", "GA"],
            "wireline",
            3,
            141.3e6,
            echoes="$141M wireline request in 3 applications (states invented)",
        ),
        EntitySpec(
            "Rio Frio Telecommunications LLC", ["TX"], "wireless", 1, 138.1e6, echoes="$138M request (state invented)"
        ),
        EntitySpec(
            "Milk River Telephone Cooperative", ["MT"], "wireless", 1, 125.6e6, echoes="$126M request (state invented)"
        ),
        EntitySpec(
            "Four Corners Tribal Wireless Authority",
            ["AZ", "NM", "UT"],
            "wireless",
            2,
            124.4e6,
            geography="navajo",
            echoes="Navajo Nation request: 2 applications, $124M (AZ/NM/UT)",
        ),
        EntitySpec(
            "Ridgeline Telecommunications LLC",
            ["KY", "TN", "GA"],
            "wireline",
            1,
            46e6 / a,
            echoes="$118M wireline request, $46M allocated (states invented)",
        ),
        EntitySpec(
            "High Plains Skyline Broadband LLC",
            ["CO", "KS"],
            "fixed_wireless",
            4,
            35e6 / a,
            echoes="fixed-wireless request: 4 applications, $35M allocated (states invented)",
        ),
        EntitySpec(
            "Sandplum Telephone Company",
            ["OK"],
            "wireless",
            3,
            87.1e6,
            145,
            echoes="OK request: 3 applications, $87M, >140 towers",
        ),
        EntitySpec(
            "Loess Hills Cable Corporation",
            ["IA", "MO"],
            "wireline",
            1,
            86.2e6,
            echoes="$86M cable request (states invented)",
        ),
        EntitySpec(
            "Llano Estacado Wireless LLC", ["TX", "OK"], "wireless", 1, 76.3e6, echoes="$76M request (states invented)"
        ),
        EntitySpec("Longleaf Piney Cellular Inc", ["AL"], "wireless", 1, 74.9e6, echoes="AL request: $75M"),
        EntitySpec(
            "Dakota Coteau Cooperative Telephone Company",
            ["SD"],
            "wireline",
            1,
            53.0e6,
            echoes="$53M cooperative telephone request (state invented)",
        ),
        EntitySpec(
            "Tutuila Bay Telecom LLC",
            ["AS"],
            "wireless",
            1,
            50.0e6,
            geography="samoa",
            echoes="American Samoa request: $50M",
        ),
        EntitySpec(
            "Bluegrass Ridge Wireless LLC", ["KY"], "wireless", 1, 47.5e6, echoes="$48M request (state invented)"
        ),
        EntitySpec(
            "Piedmont Point Fiber Holdings LLC",
            ["AL", "GA"],
            "wireline",
            5,
            20.8e6 / a,
            echoes="fiber request: 5 applications, $20.8M allocated (states invented)",
        ),
        EntitySpec(
            "Beaver Creek Telephone Systems Inc",
            ["OK"],
            "wireless",
            1,
            29.0e6,
            44,
            echoes="OK request: about $29M, 44 towers",
        ),
        EntitySpec("Scabland Wireless LP", ["WA", "ID"], "tiny", 1, 117_183, echoes="WA/ID request: $117,183"),
        EntitySpec(
            "Madrona Point Enterprises",
            ["OR"],
            "tiny",
            1,
            8_000 / a,
            echoes="smallest allocation, about $8,000 (state invented)",
        ),
        EntitySpec(
            "Filbert Orchard Internet Company",
            ["OR", "WA"],
            "tiny",
            1,
            8_000 / a,
            echoes="smallest allocation, about $8,000 (states invented)",
        ),
    ]


def design_entities(rng: np.random.Generator) -> list[EntitySpec]:
    """85 entities: the 26 anchored ones, 18 tiny and 41 mid-sized invented ones, in a mixed order."""
    anchored = anchored_entities()
    names = [str(n) for n in rng.permutation(ENTITY_NAMES)]
    invented = []
    for name in names[:18]:
        invented.append(
            EntitySpec(name, draw_states(rng, SMALL_STATES, NEIGHBOURS_126), "tiny", 1, log_uniform(rng, 15e3, 950e3))
        )
    for name in names[18:59]:
        radio_name = any(word in name for word in ("Wireless", "Cellular", "Mobile"))
        technology = "wireless" if radio_name or rng.random() < 0.4 else "wireline"
        states = draw_states(rng, SMALL_STATES, NEIGHBOURS_126)
        invented.append(EntitySpec(name, states, technology, 1, log_uniform(rng, 1.2e6, 30e6)))
    entities = anchored + invented
    order = [0] + list(1 + rng.permutation(len(entities) - 1))
    return [entities[i] for i in order]


def log_uniform(rng, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def split_count(rng, total: int, parts: int, minimum: int) -> list[int]:
    """``total`` split into ``parts`` positive sizes of at least ``minimum`` (gamma-weighted)."""
    weights = rng.gamma(3.0, size=parts)
    spare = total - parts * minimum
    raw = weights / weights.sum() * spare
    sizes = np.floor(raw).astype(int)
    for index in np.argsort(-(raw - sizes), kind="stable")[: spare - sizes.sum()]:
        sizes[index] += 1
    return [int(s) + minimum for s in sizes]


# --------------------------------------------------------------------------- geography


def read_geography(reference_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Rural counties of the table states, the American Samoa district points, the facts."""
    counties, facts = read_reference(reference_dir, states=TABLE_STATES)
    samoa = pd.DataFrame(
        SAMOA_DISTRICTS, columns=["fips", "state", "county", "population_2019", "land_sqmi", "lat", "lon"]
    )
    samoa["density_per_sqmi"] = samoa["population_2019"] / samoa["land_sqmi"]
    return counties, samoa, facts


def entity_points(rng, counties: pd.DataFrame, samoa: pd.DataFrame, entity: EntitySpec, count: int) -> pd.DataFrame:
    """Leaf-site points for a whole entity, drawn with rural40's footprint and jitter."""
    plan = CarrierPlan("", entity.name, entity.states, count, 1, 0.0)
    if entity.geography == "spread":
        picks = rng.choice(len(counties), size=min(count, len(counties)), replace=False, p=rural_weights(counties))
        footprint = counties.iloc[np.sort(picks)].reset_index(drop=True)
    elif entity.geography == "navajo":
        footprint = choose_footprint(rng, counties[counties["fips"].isin(NAVAJO_NATION_FIPS)], plan)
    elif entity.geography == "samoa":
        footprint = choose_footprint(rng, samoa, plan)
    else:
        footprint = choose_footprint(rng, counties, plan)
    return place_points(rng, footprint, count)


def partition_points(points: pd.DataFrame, sizes: list[int]) -> list[pd.DataFrame]:
    """Cut an entity's points into contiguous patches of the given sizes.

    Bands of latitude (about sqrt(n) of them, north to south) are each cut along longitude."""
    bands = np.array_split(np.arange(len(sizes)), max(1, round(math.sqrt(len(sizes)))))
    ordered = points.sort_values(["lat", "lon"], ascending=[False, True], kind="stable")
    groups, start = [], 0
    for band in bands:
        band_size = sum(sizes[i] for i in band)
        strip = ordered.iloc[start : start + band_size].sort_values(["lon", "lat"], kind="stable")
        start += band_size
        offset = 0
        for i in band:
            groups.append(strip.iloc[offset : offset + sizes[i]].reset_index(drop=True))
            offset += sizes[i]
    return groups


# --------------------------------------------------------------------------- sites


def build_entity(rng, counties, samoa, entity: EntitySpec, first_number: int) -> list[Application]:
    """The applications of one entity, with their site rows (prices and times come later)."""
    n = entity.applications
    if entity.technology == "tiny":
        return [build_tiny(rng, counties, samoa, entity, first_number)]
    if entity.leaf_sites is not None:
        leaves = entity.leaf_sites
    else:
        leaf_price = rng.uniform(*LEAF_PRICE_USD[entity.technology])
        leaves = max(n, round(entity.estimate_usd * 0.83 / leaf_price))
    points = entity_points(rng, counties, samoa, entity, leaves)
    sizes = split_count(rng, leaves, n, minimum=1) if n > 1 else [leaves]
    groups = partition_points(points, sizes)
    shares = np.array(sizes) * rng.uniform(0.85, 1.15, n)
    applications = []
    for k, (group, share) in enumerate(zip(groups, shares / shares.sum(), strict=True)):
        cid = f"c{first_number + k:03d}"
        name = entity.name if n == 1 else f"{entity.name} (application {k + 1} of {n})"
        # an application's states are those of its own patch, most sites first (its row's state)
        states = group["county_label"].str[-2:].value_counts(sort=False).sort_values(ascending=False, kind="stable")
        plan = CarrierPlan(cid, name, list(states.index), len(group), 1, 0.0)
        build_sites_at(rng, plan, group, MARKET_SHARE[entity.technology])
        if entity.technology == "wireline":
            relabel_wireline(plan.sites)
        applications.append(Application(plan, entity, entity.estimate_usd * float(share)))
    return applications


def relabel_wireline(sites: pd.DataFrame) -> None:
    """rural40's tree with wireline access locations (kind ``other``, backhaul crews) as leaves."""
    leaf = sites["kind"] == "ran"
    sites.loc[leaf, "kind"] = "other"
    sites.loc[leaf, "site_id"] = sites.loc[leaf, "site_id"].str.replace("-ran", "-loc", regex=False)
    sites.loc[leaf, "name"] = sites.loc[leaf, "name"].str.replace("Cell site", "Access location", regex=False)
    sites.loc[leaf, "crew_tower"] = 0
    sites.loc[leaf, "crew_backhaul"] = 1


def build_tiny(rng, counties, samoa, entity: EntitySpec, number: int) -> Application:
    """A core router and 0-2 backhaul nodes in one county."""
    cid = f"c{number:03d}"
    plan = CarrierPlan(cid, entity.name, entity.states, 1, 1, 0.0)
    nodes = int(rng.integers(0, 3))
    points = place_points(rng, choose_footprint(rng, counties, plan), 1 + nodes)
    rows = [site_row(cid, f"{cid}-core", "core", f"Core router, {points['county_label'][0]}", points.iloc[0], 0, "")]
    for j in range(nodes):
        place = points.iloc[1 + j]
        people = int(rng.integers(0, 501))
        rows.append(
            site_row(
                cid,
                f"{cid}-bh{j + 1:02d}",
                "backhaul",
                f"Transport node {j + 1:02d}, {place['county_label']}",
                place,
                people,
                f"{cid}-core",
            )
        )
    plan.sites = pd.DataFrame(rows)
    plan.subscribers = int(rng.integers(50, 5_001))
    return Application(plan, entity, entity.estimate_usd)


# --------------------------------------------------------------------------- costs


def draw_application_prices(rng, app: Application) -> None:
    """Unscaled core, hub and leaf-quote prices that add up to the application's estimate."""
    sites = app.plan.sites
    hubs = int((sites["kind"] == "backhaul").sum())
    leaves = int(sites["kind"].isin(["ran", "other"]).sum())
    if app.technology == "tiny":
        weights = rng.uniform(0.5, 1.5, 1 + hubs)
        parts = app.estimate_usd * weights / weights.sum()
        app.core_usd, app.hub_usd = float(parts[0]), parts[1:]
        return
    app.core_usd = app.estimate_usd * rng.uniform(0.04, 0.08)
    hub_weights = rng.uniform(0.8, 1.2, hubs)
    app.hub_usd = app.estimate_usd * rng.uniform(0.08, 0.14) * hub_weights / hub_weights.sum()
    factors = np.array([rng.uniform(0.6, 0.8), 1.0, rng.uniform(1.2, 1.4)])
    tiers, mix = np.array([0, 1, 2]), np.array([0.3, 0.5, 0.2])
    if rng.random() < 0.5:  # a two-quote menu: light+standard or standard+heavy
        tiers = tiers[[0, 1]] if rng.random() < 0.5 else tiers[[1, 2]]
        mix = np.array([0.6, 0.4])
    app.config = rng.choice(len(tiers), size=leaves, p=mix)
    app.quote_tiers = tiers
    leaf_budget = app.estimate_usd - app.core_usd - app.hub_usd.sum()
    standard = leaf_budget / factors[tiers][app.config].sum()
    app.quotes_usd = standard * factors[tiers]


def scaled_costs(app: Application, scale: float) -> tuple[float, np.ndarray, np.ndarray]:
    """(core, hubs, leaves) in USD at one global scale: $1,000 rounding, tiny ones unscaled to $1."""
    if app.technology == "tiny":
        return float(round(app.core_usd)), np.round(app.hub_usd), np.zeros(0)
    quotes = np.round(app.quotes_usd * scale, -3)
    return float(round(app.core_usd * scale, -3)), np.round(app.hub_usd * scale, -3), quotes[app.config]


def program_total_usd(applications: list[Application], scale: float) -> float:
    return float(sum(c + h.sum() + q.sum() for c, h, q in (scaled_costs(a, scale) for a in applications)))


def calibrate_program_scale(applications: list[Application], target_usd: float) -> float:
    """Bisection on the global price scale so all 126 applications total the Priority 1 estimates."""
    low, high = 0.2, 5.0
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if program_total_usd(applications, mid) < target_usd else (low, mid)
    return (low + high) / 2


def apply_program_prices(applications: list[Application], scale: float, target_usd: float) -> int:
    """Write the costs; the rounding remainder goes to the largest application's core. Returns it."""
    for app in applications:
        core, hubs, leaves = scaled_costs(app, scale)
        sites = app.plan.sites
        sites.loc[sites["kind"] == "core", "cost_usd"] = int(core)
        sites.loc[sites["kind"] == "backhaul", "cost_usd"] = hubs.astype(int)
        sites.loc[sites["kind"].isin(["ran", "other"]), "cost_usd"] = leaves.astype(int)
    remainder = int(round(target_usd)) - sum(int(a.plan.sites["cost_usd"].sum()) for a in applications)
    largest = max(applications, key=lambda a: a.plan.sites["cost_usd"].sum())
    core = largest.plan.sites["kind"] == "core"
    largest.plan.sites.loc[core, "cost_usd"] += remainder
    return remainder


# --------------------------------------------------------------------------- schedule and crews


def set_program_schedule(rng, app: Application) -> None:
    """Lead times in batches (RAN inside 8-12 months) and durations by kind and size."""
    sites = app.plan.sites
    is_core, is_hub, is_ran, is_other = (sites["kind"] == k for k in ("core", "backhaul", "ran", "other"))
    leaves = int((is_ran | is_other).sum())
    size_share = min(1.0, leaves / 300)
    sites.loc[is_core, "lead_time"] = int(rng.integers(4, 7))
    tiny = app.technology == "tiny"
    core_months = 1 if tiny else int(min(6, 1 + round(3 * size_share**0.5) + rng.integers(0, 3)))
    sites.loc[is_core, "duration"] = core_months
    sites.loc[is_hub, "lead_time"] = int(rng.integers(3, 7))
    hub_cost = sites.loc[is_hub, "cost_usd"].to_numpy()
    pricey = hub_cost > np.median(hub_cost) if len(hub_cost) > 1 else np.zeros(len(hub_cost), dtype=bool)
    sites.loc[is_hub, "duration"] = (1 if tiny else int(rng.integers(1, 3))) + pricey.astype(int)
    if leaves == 0:
        return
    leaf = is_ran | is_other
    low, high = LEAD_MONTHS["ran" if is_ran.any() else "other"]
    first = int(rng.integers(low, high))
    second = min(high, first + int(rng.integers(0, 3)))
    hub_number = sites.loc[leaf, "depends_on"].str[-2:].astype(int).to_numpy()
    later = hub_number > (hub_number.max() + 1) / 2
    sites.loc[leaf, "lead_time"] = np.where(later, second, first)
    if is_ran.any():
        standard_takes_two = leaves >= 100 and rng.random() < 0.5
        tier = app.quote_tiers[app.config]
        heavy = (tier == 2) | ((tier == 1) & standard_takes_two)
        sites.loc[leaf, "duration"] = np.where(heavy, 2, 1)
    else:
        sites.loc[leaf, "duration"] = 1


def program_crew_rows(rng, app: Application) -> list[dict]:
    """Monthly crews of one application (tower crews only where it has RAN sites)."""
    sites = app.plan.sites
    ran_months = int(sites.loc[sites["kind"] == "ran", "duration"].sum())
    wire_months = int(sites.loc[sites["kind"].isin(["backhaul", "other"]), "duration"].sum())
    capacity = {"core": 1}
    backhaul = max(1, round(wire_months / rng.uniform(8, 18)))
    capacity["backhaul"] = backhaul if app.technology == "wireline" else min(3, backhaul)
    if ran_months:
        tower = round(ran_months / rng.uniform(10, 22))
        capacity["tower"] = max(1, tower) if ran_months >= 60 else int(np.clip(tower, 1, 3))
    northern = app.plan.states[0] in NORTHERN
    rows = []
    for crew_type, cap in capacity.items():
        winter = "" if not northern else str(cap if crew_type == "core" else math.ceil(cap / 2))
        rows.append(
            {"carrier_id": app.plan.carrier_id, "crew_type": crew_type, "capacity": cap, "winter_capacity": winter}
        )
    return rows


def set_subscribers(rng, app: Application) -> None:
    """Wireline subscribers follow the people of their access locations (carrier_row does RAN)."""
    sites = app.plan.sites
    if app.technology == "wireline":
        people = sites.loc[sites["kind"].isin(["backhaul", "other"]), "population"].sum()
        app.plan.subscribers = int(round(people * rng.uniform(0.7, 1.3), -1))


# --------------------------------------------------------------------------- checks


def earliest_finish(sites: pd.DataFrame) -> dict[str, int]:
    """Earliest finish month of every site: max(lead time, its dependencies' finish) + duration."""
    finish: dict[str, int] = {}
    by_id = sites.set_index("site_id")
    for kind in ("core", "backhaul", "ran", "other"):  # parents always come in an earlier kind
        for site_id, row in by_id[by_id["kind"] == kind].iterrows():
            ready = max([int(row["lead_time"])] + [finish[d] for d in row["depends_on"].split(";") if d])
            finish[site_id] = ready + int(row["duration"])
    return finish


def check_program(carriers, crews, sites, applications, facts, horizon_months: int) -> list[str]:
    """Every problem found in the generated tables (empty when all is well)."""
    problems = []
    counts = calibrated_counts(carriers, sites, applications)
    for key, (low, high) in TARGETS.items():
        if not low <= counts[key] <= high:
            problems.append(f"{key} = {counts[key]}, outside [{low}, {high}]")
    if carriers["carrier_id"].duplicated().any() or not carriers["carrier_id"].str.fullmatch(r"c\d{3}").all():
        problems.append("carrier ids must be unique and look like c001")
    if sites["site_id"].duplicated().any():
        problems.append(f"duplicate site ids: {sorted(sites.loc[sites['site_id'].duplicated(), 'site_id'])[:5]}")
    if not sites["county_fips"].astype(str).str.fullmatch(r"\d{5}").all():
        problems.append("county_fips must be 5 digits")
    tree_problems = check_dependencies(sites, PARENT_KIND_126)
    problems += tree_problems
    for kind, (low, high) in LEAD_MONTHS.items():
        part = sites[sites["kind"] == kind]
        if len(part) and not part["lead_time"].between(low, high).all():
            problems.append(f"{kind} lead times outside {low}-{high} months: {sorted(set(part['lead_time']))}")
        if len(part) and not part["duration"].between(*DURATION_MONTHS[kind]).all():
            problems.append(f"{kind} durations outside {DURATION_MONTHS[kind]}: {sorted(set(part['duration']))}")
    # earliest finishes need a tree whose parents are of an earlier kind (no cycle)
    late = {} if tree_problems else {s: f for s, f in earliest_finish(sites).items() if f > horizon_months}
    if late:
        problems.append(f"{len(late)} sites cannot finish inside {horizon_months} months, e.g. {sorted(late)[:3]}")
    per_kind = sites.groupby("carrier_id")["kind"].agg(lambda k: (k == "core").sum())
    if (per_kind != 1).any():
        problems.append("every application needs exactly one core")
    total = int(sites["cost_usd"].sum())
    if abs(total - facts["priority1_estimates_2022"]) > 100_000:
        problems.append(f"priority-1 total {total:,} not within $100k of {facts['priority1_estimates_2022']:,.0f}")
    if (carriers["priority"] != 1).any() or (carriers["subscribers"] > SUBSCRIBER_LIMIT_P1).any():
        problems.append("every approved application is Priority 1 (<= 2,000,000 subscribers)")
    missing = set(RECORD_STATES) - set(sites["name"].str[-2:])
    if missing:
        problems.append(f"states of the record without a site: {sorted(missing)}")
    used = sites[["carrier_id", "crew_core", "crew_backhaul", "crew_tower"]].groupby("carrier_id").sum()
    have = set(zip(crews["carrier_id"], crews["crew_type"], strict=True))
    for cid, row in used.iterrows():
        for crew_type in ("core", "backhaul", "tower"):
            if row[f"crew_{crew_type}"] and (cid, crew_type) not in have:
                problems.append(f"{cid} uses {crew_type} crews it does not have")
    return problems


def calibrated_counts(carriers, sites, applications) -> dict[str, int]:
    """The dataset's value of every calibrated count, by entity and by application."""
    cost = sites.groupby("carrier_id")["cost_usd"].sum()
    entity_of = {a.plan.carrier_id: a.entity.name for a in applications}
    by_entity = cost.groupby(cost.index.map(entity_of)).sum()
    return {
        "applications": len(carriers),
        "entities": len(by_entity),
        "sites": len(sites),
        "entities_over_100m": int((by_entity > LARGE_LIMIT_USD).sum()),
        "entities_under_1m": int((by_entity < TINY_LIMIT_USD).sum()),
        "applications_over_100m": int((cost > LARGE_LIMIT_USD).sum()),
        "applications_under_1m": int((cost < TINY_LIMIT_USD).sum()),
    }


# --------------------------------------------------------------------------- data card


def calibration_table(carriers, sites, applications, facts, scale: float, remainder: int) -> dict[str, tuple]:
    """Rows of the data card's public-versus-dataset table (quantity -> (public, dataset, note))."""
    counts = calibrated_counts(carriers, sites, applications)
    kinds = sites["kind"].value_counts()
    technology = pd.Series([a.technology for a in applications]).value_counts()
    entity_tech = pd.Series({a.entity.name: a.technology for a in applications}).value_counts()
    ran_lead = sites.loc[sites["kind"] == "ran", "lead_time"]
    other_lead = sites.loc[sites["kind"].isin(["core", "backhaul", "other"]), "lead_time"]
    states = sorted(set(sites["name"].str[-2:]))
    record = [s for s in RECORD_STATES if s in states]
    cost = sites.groupby("carrier_id")["cost_usd"].sum()
    largest = cost.idxmax()
    largest_ids = [a.plan.carrier_id for a in applications if a.entity.name == "Buffalo Grass Cellular Inc"]
    return {
        "approved applications": (
            f"{facts['approved_applications_2022']:.0f} (`approved_applications_2022`)",
            f"{counts['applications']}",
            "one carrier row each",
        ),
        "entities": (
            "85 (`approved_applications_2022`)",
            f"{counts['entities']}",
            "in `name`: entity (application k of n)",
        ),
        "locations (sites)": (
            f"about {facts['covered_locations_2022']:,.0f} (`covered_locations_2022`)",
            f"{len(sites):,}",
            "core / backhaul / RAN / wireline: " + " / ".join(f"{kinds.get(k, 0):,}" for k in PARENT_KIND_126),
        ),
        "units of covered gear": (
            f"about {facts['covered_gear_units_2022']:,.0f} (`covered_gear_units_2022`)",
            "not modelled",
            "a site is a location; its cost covers all its units",
        ),
        "Priority 1 estimates": (
            f"${facts['priority1_estimates_2022']:,.0f} (`priority1_estimates_2022`)",
            f"${int(sites['cost_usd'].sum()):,}",
            f"global scale {scale:.4f} by bisection; rounding remainder {money(remainder)} on {largest}'s core",
        ),
        "entities over $100M": (
            "15 requests (`requests_2022.csv`; 14 without the >2M-customer provider)",
            f"{counts['entities_over_100m']} ({counts['applications_over_100m']} applications)",
            "the record counts requests before review; the dataset holds reviewed estimates",
        ),
        "entities under $1M": (
            "about 21 (issue 14; `requests_2022.csv` names 3 of them)",
            f"{counts['entities_under_1m']} ({counts['applications_under_1m']} applications)",
            "tiny applications keep their drawn cost",
        ),
        "largest entity": (
            "$1.19B requested, >$440M allocated, 22 applications, >900 LTE sites (`requests_2022.csv`)",
            f"${cost[largest_ids].sum():,}, 22 applications, {int(sites['carrier_id'].isin(largest_ids).sum())} sites",
            "estimate = allocation / 0.395 before scaling",
        ),
        "customers of the largest entity": (
            "about 110,000 (`requests_2022.csv` note)",
            f"{int(carriers.loc[carriers['carrier_id'].isin(largest_ids), 'subscribers'].sum()):,}",
            "market share of {:.0%}-{:.0%} of its counties' people".format(*MARKET_SHARE["wireless"]),
        ),
        "customers of the 44-tower applicant": (
            "about 8,000 mobile subscribers (`requests_2022.csv` note)",
            f"{int(carriers.loc[carriers['name'] == 'Beaver Creek Telephone Systems Inc', 'subscribers'].sum()):,}",
            "at least 50 people per cell site",
        ),
        "people served by all sites": (
            "no public figure",
            f"{int(sites['population'].sum()):,}",
            f"RAN sites: median {sites.loc[sites['kind'] == 'ran', 'population'].median():,.0f} people",
        ),
        "radio (RAN) lead times": (
            f"{facts['radio_lead_time_min_2021']:.0f}-{facts['radio_lead_time_max_2021']:.0f} months "
            "(`radio_lead_time_min_2021`, `radio_lead_time_max_2021`)",
            f"{ran_lead.min()}-{ran_lead.max()} months",
            "one or two batches per application",
        ),
        "core, backhaul, wireline lead times": (
            "no public figure",
            f"{other_lead.min()}-{other_lead.max()} months",
            "invented",
        ),
        "wireless / fixed wireless / wireline / tiny": (
            "wireless and some wireline (issue 14)",
            " / ".join(f"{technology.get(t, 0)}" for t in TECHNOLOGIES)
            + " applications ("
            + " / ".join(f"{entity_tech.get(t, 0)}" for t in TECHNOLOGIES)
            + " entities)",
            "invented split",
        ),
        "states of the record": (
            " ".join(RECORD_STATES) + " (requests, Navajo Nation AZ/NM/UT, American Samoa)",
            " ".join(record),
            f"all {len(states)} states with sites: {' '.join(states)}",
        ),
        "Priority": (
            "all 126 Priority 1 (`approved_applications_2022`)",
            f"{int((carriers['priority'] == 1).sum())} Priority 1",
            f"largest subscribers {carriers['subscribers'].max():,}",
        ),
    }


def money(usd: float) -> str:
    """$1,234.5M for millions, exact dollars below $1M ("-$5,608", "$20,253")."""
    sign = "-" if usd < 0 else ""
    usd = abs(usd)
    return f"{sign}${usd / 1e6:,.1f}M" if usd >= TINY_LIMIT_USD else f"{sign}${usd:,.0f}"


def anchor_table(sites: pd.DataFrame, applications: list[Application]) -> dict[str, tuple]:
    """Rows of the data card's table of anchored entities (name -> (ids, sites, cost, echoes))."""
    cost = sites.groupby("carrier_id")["cost_usd"].sum()
    count = sites.groupby("carrier_id").size()
    rows = {}
    for entity in anchored_entities():
        ids = [a.plan.carrier_id for a in applications if a.entity.name == entity.name]
        span = ids[0] if len(ids) == 1 else f"{ids[0]}-{ids[-1]}"
        rows[entity.name] = (
            f"{span} ({len(ids)})",
            entity.technology.replace("_", " "),
            f"{int(count[ids].sum()):,}",
            money(cost[ids].sum()),
            entity.echoes,
        )
    return rows


# --------------------------------------------------------------------------- main


def generate(seed: int, reference_dir: Path = REFERENCE_DIR):
    """Build (carriers, crews, sites, applications, facts, scale, remainder); no files written."""
    rng = np.random.default_rng(seed)
    counties, samoa, facts = read_geography(reference_dir)
    entities = design_entities(rng)
    applications: list[Application] = []
    for entity in entities:
        applications += build_entity(rng, counties, samoa, entity, len(applications) + 1)
    for app in applications:
        draw_application_prices(rng, app)
    target = facts["priority1_estimates_2022"]
    scale = calibrate_program_scale(applications, target)
    remainder = apply_program_prices(applications, scale, target)
    for app in applications:
        set_program_schedule(rng, app)
    plans = [a.plan for a in applications]
    give_own_funds(rng, plans, count=12)
    crews = pd.DataFrame([row for a in applications for row in program_crew_rows(rng, a)])
    for app in applications:
        set_subscribers(rng, app)
    carriers = pd.DataFrame([carrier_row(rng, p) for p in plans])
    sites = pd.concat([p.sites for p in plans], ignore_index=True)
    return carriers, crews, sites, applications, facts, scale, remainder


@dataclass
class Generated:
    """Everything one seed produces, before anything is written."""

    carriers: pd.DataFrame
    crews: pd.DataFrame
    sites: pd.DataFrame
    applications: list[Application]
    facts: dict[str, float]
    scale: float
    remainder_usd: int

    @property
    def scenario(self) -> str:
        return scenario_toml(self.facts, DATASET_NAME)

    def problems(self) -> list[str]:
        """Every failed check (empty when the tables may be written)."""
        horizon = int(next(line.split("=")[1] for line in self.scenario.splitlines() if line.startswith("horizon")))
        problems = check_program(self.carriers, self.crews, self.sites, self.applications, self.facts, horizon)
        if abs(self.remainder_usd) > 250_000:  # a few percent of the largest application's core at most
            problems.append(f"rounding remainder ${self.remainder_usd:,} is too large for one core")
        return problems


def write_dataset(generated: Generated, out: Path) -> dict[str, tuple]:
    """Write the four tables and refresh the card's generated blocks; returns the calibration table."""
    out.mkdir(parents=True, exist_ok=True)
    write_csv(generated.carriers, out / "carriers.csv")
    write_csv(generated.crews, out / "crews.csv")
    write_csv(format_sites(generated.sites), out / "sites.csv")
    (out / "scenario.toml").write_text(generated.scenario)
    g = generated
    table = calibration_table(g.carriers, g.sites, g.applications, g.facts, g.scale, g.remainder_usd)
    header = ("quantity", "public record", "dataset", "note")
    update_data_card(out / "README.md", table, marker="calibration", header=header)
    header = ("entity (invented name)", "applications", "technology", "sites", "cost", "stands for (public hint)")
    update_data_card(out / "README.md", anchor_table(g.sites, g.applications), marker="anchors", header=header)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    generated = Generated(*generate(args.seed))
    problems = generated.problems()
    if problems:
        print("generated data failed its checks; nothing written:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    table = write_dataset(generated, args.out)
    print(f"wrote {args.out} (seed {args.seed})")
    for key, (public, dataset, _note) in table.items():
        print(f"  {key}: {dataset}  [record: {public}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
