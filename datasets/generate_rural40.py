#!/usr/bin/env python3
"""Generate ``datasets/rural40``: 40 fictional carriers calibrated to the real program.

Usage::

    python datasets/generate_rural40.py [--seed 2019] [--out datasets/rural40]

Everything random comes from one ``numpy.random.default_rng(seed)``, drawn in a fixed
order, and every number is written from an explicit format string, so a run with the same
seed (and the same ``datasets/reference/`` files) rewrites byte-identical files. Inputs are
read only from ``datasets/reference/`` (copies of public data; see its README).

What is real and what is invented
---------------------------------
Real: the counties (FIPS, name, 2019 population, land area, internal point: US Census),
the program totals in ``program_facts.csv`` (the $1.895B appropriation, the $4.64B of
Priority 1 cost estimates, the 39.5% pro-rata factor, the 12-month term) and the size
and state hints of the 2022 requests in ``requests_2022.csv``.
Invented: every carrier, name, site, price, crew and date. No row describes a real company.

Modelling choices
-----------------
Carriers (``design_carriers``)
    40 carriers, echoing the ~40 US Huawei customers of 2019. The size mix copies the
    heavy tail of the 2022 requests: one carrier near 900 sites and over $1B in CO/NE/KS
    (the largest request: ~$1.19B, >900 LTE sites), one WY-based carrier of ~420 sites
    (418 towers in WY/CO/UT/ID), four more of 100-450 sites (OK, AL and others) and 34
    small carriers. The small ones take evenly spread sizes over 10-78 RAN sites (plus
    jitter) rather than a pure log-normal draw, so that the total always lands in
    4,000-6,000 sites whatever the seed. Eligibility follows 47 CFR 1.50004: carriers with
    <= 2,000,000 subscribers are priority 1; one university network is set to priority 2
    explicitly and one national wireline/enterprise provider (> 2M subscribers, small
    Huawei footprint) is priority 3.
States
    The anchored carriers use the states hinted in the requests (CO/NE/KS, WY, OK, AL,
    MI, WA/ID); the largest ones span 2-3 states. The small ones take a random primary
    state from the 21 rural western and midwestern states of ``PROGRAM_STATES`` and, with
    probability 0.35, one neighbouring state (``NEIGHBOURS``): 1-3 states per carrier.
Footprint and site placement (``choose_footprint``, ``place_points``)
    Urban counties (over 150 people per sq mi or over 250,000 people) are excluded.
    County weights are density^-0.3 * land_area^0.5: sparse counties are favoured, and
    large counties need more towers to cover. A home county is drawn in the primary state
    with these weights (multi-state carriers draw it among the quarter of primary-state
    counties nearest their other states). The footprint is the K counties nearest home
    (K = RAN sites / U(2, 5), at most 110; counties outside the primary state count as
    1.6x farther), plus the nearest county of any listed state not yet present. Each RAN
    site picks a footprint county with the same weights and is jittered uniformly within
    +-0.5 * sqrt(land area) miles of the county's internal point; it keeps that county's
    FIPS.
Hubs (``place_hubs``)
    One backhaul hub per 8-25 RAN sites (larger carriers aggregate more sites per hub, so
    the ratio rises with size), at least one. Hubs sit at k-means centres of the carrier's
    RAN points, snapped to the nearest RAN point plus 1-3 miles of jitter (so each has a
    real county). Each RAN site depends on its geographically nearest hub, each hub on the
    core, and the core on nothing: a three-level tree per carrier, so dependencies never
    cross carriers and are acyclic by construction (still checked before writing). The
    core sits 1-3 miles from the hub nearest the centre of the hubs in the primary state.
Population
    A RAN site serves county_population * market_share / (the carrier's sites in that
    county), times log-normal noise (sigma 0.45), clipped to 50-15,000; the market share is
    drawn once per carrier in 10-40%. Frontier counties of a few thousand people with
    several of a carrier's towers give a low tail (a third of RAN sites under 200
    people), which matches the thin subscriber counts per tower of the real carriers. A
    hub's own cell covers 0-2,000 people; the core covers nobody directly (its outage is
    modelled through the dependencies). A priority-1
    carrier's subscribers are the sum of its RAN populations times U(0.7, 1.3).
Costs (``price_carrier``, ``calibrate_price_scale``)
    Each carrier gets 2-3 turnkey RAN quotes (light / standard / heavy: 0.6-0.8x, 1x and
    1.2-1.4x of a standard price drawn once per carrier) and each RAN site takes one of
    them, mirroring per-configuration vendor quotes. Hubs cost U(0.9, 1.6)M each, the core
    $8M + $52M * (RAN sites / 860) (so $8M-$60M with carrier size). One global scale on
    the RAN and hub prices is found by bisection so that priority-1 carriers total the
    $4,640,284,672 of reasonable Priority 1 estimates in program_facts.csv; after scaling
    RAN quotes are clipped to $0.5M-$1.6M, hub costs to $0.8M-$2.0M, and all costs are
    rounded to $1,000.
Schedule parameters
    Deliveries come in batches, so each carrier has few distinct values: core lead time
    2-4 months and duration 3-6 (longer for larger carriers); one hub lead time (1-3) and
    hub durations of one base value (1-2) plus one month for the pricier hubs; RAN lead
    times of one or two batches within 2-5 months (the second batch for the later half of
    the hubs) and RAN durations of 1 month, 2 for heavy configurations (and, for about
    half of the carriers with 100+ RAN sites, for standard ones too).
Crews
    Each site occupies one unit of its crew type (core -> core, backhaul -> backhaul,
    ran -> tower) in every month of its work. Tower crews are set so that doing all RAN
    work at full capacity takes 30-40 months for the largest carrier and 20-34 months for
    the mid-sized ones (labour binds); small carriers have 1-3 tower crews, every carrier
    1-3 backhaul crews and 1 core team. In northern tower-access states (``NORTHERN``)
    winter capacity (December-March) is ceil(capacity / 2) for tower and backhaul crews
    and the full capacity for the core team; elsewhere it is left empty.
Own funds
    Most carriers have none; five priority-1 carriers and the priority-3 provider can add
    2-5% of their own cost estimate.
Scenario
    ``scenario.toml`` is written from program_facts.csv: the fund is the 2020
    appropriation, the admin reserve is that minus the money actually prorated
    (0.395 * $4.64B = $1.833B), and the deadline is the 12-month term of 47 CFR 1.50004.

Before writing, ``check_dataset`` verifies ids, references, the dependency tree, value
ranges and the calibration targets, and the script stops with a list of every problem.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REFERENCE_DIR = HERE / "reference"
DEFAULT_OUT = HERE / "rural40"
DEFAULT_SEED = 2019

PROGRAM_STATES = "CO NE KS WY MT OK AL WA ID SD ND TX NM UT MI MO MN IA WI OR NV".split()
NORTHERN = frozenset("MT ND SD WY NE MN MI ID WA CO UT WI IA KS".split())
NEIGHBOURS = {
    "CO": "NE KS WY UT NM OK",
    "NE": "CO KS WY SD IA MO",
    "KS": "CO NE OK MO",
    "WY": "MT SD NE CO UT ID",
    "MT": "ND SD WY ID",
    "OK": "KS CO NM TX MO",
    "AL": "",
    "WA": "ID OR",
    "ID": "WA OR MT WY UT NV",
    "SD": "ND MT WY NE IA MN",
    "ND": "MT SD MN",
    "TX": "OK NM",
    "NM": "CO OK TX UT",
    "UT": "ID WY CO NM NV",
    "MI": "WI",
    "MO": "IA NE KS OK",
    "MN": "ND SD IA WI",
    "IA": "MN SD NE MO WI",
    "WI": "MI MN IA",
    "OR": "WA ID NV",
    "NV": "OR ID UT",
}

URBAN_DENSITY_PER_SQMI = 150.0
URBAN_POPULATION = 250_000
DENSITY_EXPONENT = -0.3
LAND_EXPONENT = 0.5
SITES_PER_COUNTY = (2, 5)
MAX_FOOTPRINT_COUNTIES = 110
MILES_PER_DEG_LAT = 69.0
EARTH_RADIUS_MI = 3958.8

RAN_PRICE_RANGE_USD = (500_000, 1_600_000)
HUB_PRICE_RANGE_USD = (800_000, 2_000_000)
CORE_PRICE_RANGE_USD = (8_000_000, 60_000_000)
LARGEST_RAN_SITES = 860
P1_TOLERANCE = 0.03
TOTAL_SITES_RANGE = (4_000, 6_000)
SUBSCRIBER_LIMIT_P1 = 2_000_000

SITE_COLUMNS = [
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
    "crew_core",
    "crew_backhaul",
    "crew_tower",
]
CARRIER_COLUMNS = ["carrier_id", "name", "state", "subscribers", "own_funds_usd", "priority"]
CREW_COLUMNS = ["carrier_id", "crew_type", "capacity", "winter_capacity"]
CREW_TYPES = ("core", "backhaul", "tower")

SMALL_CARRIER_NAMES = (
    "Meadowlark Mobile Cooperative",
    "Cottonwood Draw Wireless",
    "Pronghorn Valley Telephone Company",
    "Sage Hen Cellular LLC",
    "Lone Cedar Communications",
    "Bitterbrush Wireless Inc",
    "Tumbleweed Crossing Mobile",
    "Sod House Telephone Cooperative",
    "Bur Oak Wireless LLC",
    "Willow Slough Telephone Company",
    "Switchgrass Communications Inc",
    "Kestrel Ridge Cellular",
    "Badger Hollow Telephone Company",
    "Juniper Breaks Wireless",
    "Blue Grama Mobile LLC",
    "Chokecherry Telephone Cooperative",
    "Ironwood Lakes Wireless",
    "Prairie Smoke Cellular Inc",
    "Snowberry Mountain Telecom",
    "Little Muddy Wireless LLC",
    "Porcupine Hills Communications",
    "Rimrock Mesa Cellular",
    "Sandhill Crane Wireless",
    "Tamarack Bay Telephone Company",
    "Foxtail Valley Mobile",
    "Quail Run Telephone Company",
    "Thistle Creek Wireless LLC",
    "Wapiti Country Cellular",
    "Red Clay Hills Wireless",
    "Bison Trail Telephone Cooperative",
    "Cattail Marsh Mobile",
    "Greasewood Flats Communications",
    "Horned Lark Telephone Company",
    "Coyote Butte Wireless",
)


@dataclass
class CarrierPlan:
    """The design of one carrier, before any site exists."""

    carrier_id: str
    name: str
    states: list[str]
    ran_sites: int
    priority: int
    standard_ran_price_usd: float
    subscribers: int | None = None  # set explicitly for priority 2 and 3
    own_funds_share: float = 0.0  # share of its cost it can pay itself
    sites: pd.DataFrame = field(default_factory=pd.DataFrame)
    ran_quotes_usd: list[float] = field(default_factory=list)


# --------------------------------------------------------------------------- inputs


def read_reference(reference_dir: Path, states=PROGRAM_STATES) -> tuple[pd.DataFrame, dict[str, float]]:
    """Read the Census county table (rural counties of ``states`` only) and the program facts."""
    counties = pd.read_csv(reference_dir / "us_counties_2019.csv", dtype={"fips": str})
    counties = counties[counties["state"].isin(states)].copy()
    counties["density_per_sqmi"] = counties["population_2019"] / counties["land_sqmi"]
    rural = (counties["density_per_sqmi"] <= URBAN_DENSITY_PER_SQMI) & (counties["population_2019"] <= URBAN_POPULATION)
    counties = counties[rural].sort_values("fips").reset_index(drop=True)
    facts = pd.read_csv(reference_dir / "program_facts.csv")
    fact_values = dict(zip(facts["key"], facts["value"].astype(float), strict=True))
    requests = pd.read_csv(reference_dir / "requests_2022.csv")
    hinted = set("/".join(requests["states"].dropna()).split("/"))
    missing = hinted - set(states)
    if missing:
        raise SystemExit(f"requests_2022.csv hints states outside the program states: {missing}")
    return counties, fact_values


# --------------------------------------------------------------------------- carriers


def design_carriers(rng: np.random.Generator) -> list[CarrierPlan]:
    """Lay out the 40 carriers: anchored large ones, two special priorities, small ones."""
    anchored = [
        # the largest 2022 request (~$1.19B, >900 LTE sites in CO/NE/KS)
        CarrierPlan("", "Buffalo Grass Cellular Inc", ["CO", "NE", "KS"], 860, 1, 1.40e6),
        # WY-based, 418 towers in WY/CO/UT/ID, turnkey replacement
        CarrierPlan("", "Red Desert Mountain Telephone Company", ["WY", "CO", "UT"], 392, 1, 1.45e6),
        CarrierPlan("", "Coulee and Butte Telephone Cooperative", ["MT", "ND"], 410, 1, 0.95e6),
        CarrierPlan("", "Caprock Prairie Wireless LLC", ["TX", "NM"], 335, 1, 0.90e6),
        # OK requests: >140 towers; 44 towers
        CarrierPlan("", "Sandplum Telephone Company", ["OK"], 262, 1, 0.75e6),
        # AL request (delays from storms, shipments and labour)
        CarrierPlan("", "Longleaf Piney Cellular Inc", ["AL"], 205, 1, 0.80e6),
        # WA/ID request
        CarrierPlan("", "Scabland Wireless LP", ["WA", "ID"], 14, 1, 0.70e6),
        # priority 2: the MI university network
        CarrierPlan(
            "",
            "Board of Trustees, Copper Range State University",
            ["MI"],
            30,
            2,
            0.70e6,
            subscribers=int(rng.integers(2_000, 6_000)),
        ),
        # priority 3: national wireline/enterprise provider with a small Huawei footprint
        CarrierPlan(
            "",
            "Transcontinental Enterprise Networks LLC",
            ["CO", "NM", "OK"],
            24,
            3,
            0.90e6,
            subscribers=int(rng.integers(2_600_000, 4_200_000)),
            own_funds_share=float(rng.uniform(0.02, 0.05)),
        ),
    ]
    small = design_small_carriers(rng, 40 - len(anchored))
    carriers = anchored + small
    order = [0, 1] + list(2 + rng.permutation(len(carriers) - 2))
    carriers = [carriers[i] for i in order]
    for number, carrier in enumerate(carriers, start=1):
        carrier.carrier_id = f"c{number:02d}"
    give_own_funds(rng, carriers, count=5)
    return carriers


def design_small_carriers(rng: np.random.Generator, count: int) -> list[CarrierPlan]:
    """Small priority-1 carriers: evenly spread sizes of 10-78 RAN sites with jitter."""
    names = list(rng.permutation(SMALL_CARRIER_NAMES))[:count]
    quantiles = (np.arange(count) + 0.5) / count
    sizes = 10 + 68 * quantiles**0.9
    sizes = np.clip(np.round(sizes * rng.uniform(0.9, 1.1, count)), 10, 78).astype(int)
    sizes = rng.permutation(sizes)
    carriers = []
    for name, ran_sites in zip(names, sizes, strict=True):
        states = draw_states(rng)
        price = float(rng.uniform(0.65e6, 1.15e6))
        carriers.append(CarrierPlan("", str(name), states, int(ran_sites), 1, price))
    return carriers


def draw_states(rng: np.random.Generator, states=PROGRAM_STATES, neighbours_of=NEIGHBOURS) -> list[str]:
    """A primary state and, for about a third of small carriers, one neighbouring state."""
    primary = str(rng.choice(states))
    neighbours = neighbours_of[primary].split()
    if neighbours and rng.random() < 0.35:
        return [primary, str(rng.choice(neighbours))]
    return [primary]


def give_own_funds(rng: np.random.Generator, carriers: list[CarrierPlan], count: int) -> None:
    """A handful of priority-1 carriers can pay 2-5% of their cost themselves."""
    eligible = [c for c in carriers if c.priority == 1 and c.ran_sites < 500]
    for index in rng.choice(len(eligible), size=count, replace=False):
        eligible[index].own_funds_share = float(rng.uniform(0.02, 0.05))


# --------------------------------------------------------------------------- geography


def distance_mi(lat1, lon1, lat2, lon2):
    """Great-circle distance in miles (haversine), broadcasting over numpy arrays."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_MI * np.arcsin(np.sqrt(a))


def rural_weights(counties: pd.DataFrame) -> np.ndarray:
    """Sampling weights favouring low population density, normalised to sum 1."""
    w = counties["density_per_sqmi"].clip(lower=0.1).to_numpy() ** DENSITY_EXPONENT
    w = w * counties["land_sqmi"].to_numpy() ** LAND_EXPONENT
    return w / w.sum()


def choose_footprint(rng, counties: pd.DataFrame, carrier: CarrierPlan) -> pd.DataFrame:
    """The compact set of counties a carrier serves, around a home county."""
    mine = counties[counties["state"].isin(carrier.states)]
    primary = mine[mine["state"] == carrier.states[0]]
    others = mine[mine["state"] != carrier.states[0]]
    candidates = primary
    if len(others):
        gap = distance_mi(
            primary["lat"].to_numpy()[:, None],
            primary["lon"].to_numpy()[:, None],
            others["lat"].to_numpy()[None, :],
            others["lon"].to_numpy()[None, :],
        )
        near_border = gap.min(axis=1) <= np.quantile(gap.min(axis=1), 0.25)
        candidates = primary[near_border]
    home = candidates.iloc[rng.choice(len(candidates), p=rural_weights(candidates))]
    reach = distance_mi(home["lat"], home["lon"], mine["lat"].to_numpy(), mine["lon"].to_numpy())
    reach = np.where(mine["state"].to_numpy() == carrier.states[0], reach, reach * 1.6)
    ranked = mine.assign(reach_mi=reach).sort_values(["reach_mi", "fips"])
    size = math.ceil(carrier.ran_sites / rng.uniform(*SITES_PER_COUNTY))
    size = int(np.clip(size, 1, MAX_FOOTPRINT_COUNTIES))
    footprint = ranked.head(size)
    for state in carrier.states:
        if state not in set(footprint["state"]):
            footprint = pd.concat([footprint, ranked[ranked["state"] == state].head(1)])
    return footprint.reset_index(drop=True)


def place_points(rng, footprint: pd.DataFrame, count: int) -> pd.DataFrame:
    """Draw ``count`` site locations in footprint counties, jittered inside each county."""
    picks = rng.choice(len(footprint), size=count, p=rural_weights(footprint))
    chosen = footprint.iloc[picks].reset_index(drop=True)
    half_side_mi = 0.5 * np.sqrt(chosen["land_sqmi"].to_numpy())
    dlat = rng.uniform(-1, 1, count) * half_side_mi / MILES_PER_DEG_LAT
    dlon = rng.uniform(-1, 1, count) * half_side_mi / (MILES_PER_DEG_LAT * np.cos(np.radians(chosen["lat"].to_numpy())))
    return pd.DataFrame(
        {
            "lat": chosen["lat"].to_numpy() + dlat,
            "lon": chosen["lon"].to_numpy() + dlon,
            "county_fips": chosen["fips"].to_numpy(),
            "county_label": (chosen["county"] + " " + chosen["state"]).to_numpy(),
            "county_population": chosen["population_2019"].to_numpy(),
        }
    )


def hub_count(rng, ran_sites: int) -> int:
    """One hub per 8-25 RAN sites; larger carriers aggregate more sites per hub."""
    size_share = min(1.0, math.log(max(ran_sites, 10) / 10) / math.log(LARGEST_RAN_SITES / 10))
    sites_per_hub = 8 + 13 * size_share + rng.uniform(0, 4)
    return max(1, round(ran_sites / sites_per_hub))


def kmeans_centres(rng, lat: np.ndarray, lon: np.ndarray, k: int, rounds: int = 12) -> np.ndarray:
    """Plain Lloyd k-means (k-means++ start) on locally flattened coordinates."""
    xy = np.column_stack([lon * np.cos(np.radians(lat.mean())), lat])
    centres = [xy[rng.integers(len(xy))]]
    for _ in range(1, k):
        d2 = np.min([((xy - c) ** 2).sum(axis=1) for c in centres], axis=0)
        centres.append(xy[rng.choice(len(xy), p=d2 / d2.sum())] if d2.sum() > 0 else xy[0])
    centres = np.array(centres)
    for _ in range(rounds):
        label = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        for j in range(k):
            if (label == j).any():
                centres[j] = xy[label == j].mean(axis=0)
    return centres, xy


def place_hubs(rng, ran: pd.DataFrame, k: int) -> pd.DataFrame:
    """Hubs at k-means centres of the RAN points, snapped to a RAN point plus 1-3 miles."""
    centres, xy = kmeans_centres(rng, ran["lat"].to_numpy(), ran["lon"].to_numpy(), k)
    anchors = [int(((xy - c) ** 2).sum(axis=1).argmin()) for c in centres]
    hubs = ran.iloc[anchors].reset_index(drop=True).copy()
    bearing = rng.uniform(0, 2 * np.pi, k)
    offset_mi = rng.uniform(1, 3, k)
    hubs["lat"] = hubs["lat"] + offset_mi * np.sin(bearing) / MILES_PER_DEG_LAT
    hubs["lon"] = hubs["lon"] + offset_mi * np.cos(bearing) / (MILES_PER_DEG_LAT * np.cos(np.radians(hubs["lat"])))
    order = np.lexsort((hubs["lon"].to_numpy(), -hubs["lat"].to_numpy()))
    return hubs.iloc[order].reset_index(drop=True)


def place_core(rng, hubs: pd.DataFrame, primary_state: str) -> pd.DataFrame:
    """The core sits 1-3 miles from the hub nearest the hubs' centre, in the primary state."""
    in_primary = hubs[hubs["county_label"].str.endswith(" " + primary_state)]
    pool = in_primary if len(in_primary) else hubs
    return place_hubs(rng, pool, 1)


def nearest_hub(ran: pd.DataFrame, hubs: pd.DataFrame) -> np.ndarray:
    """Index of the geographically nearest hub for every RAN site."""
    d = distance_mi(
        ran["lat"].to_numpy()[:, None],
        ran["lon"].to_numpy()[:, None],
        hubs["lat"].to_numpy()[None, :],
        hubs["lon"].to_numpy()[None, :],
    )
    return d.argmin(axis=1)


# --------------------------------------------------------------------------- sites


def build_carrier_sites(rng, counties: pd.DataFrame, carrier: CarrierPlan) -> None:
    """Create the core, hubs and RAN sites of one carrier (prices are set later)."""
    footprint = choose_footprint(rng, counties, carrier)
    ran = place_points(rng, footprint, carrier.ran_sites)
    build_sites_at(rng, carrier, ran)


def build_sites_at(rng, carrier: CarrierPlan, ran: pd.DataFrame, market_share=(0.10, 0.40)) -> None:
    """Hubs, core and site rows of one carrier whose RAN points (``place_points``) are drawn.

    ``market_share``: range of the share of its counties' people the carrier serves."""
    hubs = place_hubs(rng, ran, hub_count(rng, carrier.ran_sites))
    ran["hub"] = nearest_hub(ran, hubs)
    ran = ran.sort_values(["hub", "lat", "lon"], ascending=[True, False, True]).reset_index(drop=True)
    core = place_core(rng, hubs, carrier.states[0])

    cid = carrier.carrier_id
    share = rng.uniform(*market_share)
    per_county = ran.groupby("county_fips")["county_fips"].transform("size").to_numpy()
    ran_pop = ran["county_population"].to_numpy() * share / per_county
    ran_pop = np.clip(ran_pop * rng.lognormal(0, 0.45, len(ran)), 50, 15_000)

    hub_ids = [f"{cid}-bh{j + 1:02d}" for j in range(len(hubs))]
    rows = [site_row(cid, f"{cid}-core", "core", f"Core network, {core['county_label'][0]}", core.iloc[0], 0, "")]
    hub_pop = rng.integers(0, 2_001, len(hubs))
    for j, hub in hubs.iterrows():
        rows.append(
            site_row(
                cid,
                hub_ids[j],
                "backhaul",
                f"Backhaul hub {j + 1:02d}, {hub['county_label']}",
                hub,
                int(hub_pop[j]),
                f"{cid}-core",
            )
        )
    for i, site in ran.iterrows():
        rows.append(
            site_row(
                cid,
                f"{cid}-ran{i + 1:04d}",
                "ran",
                f"Cell site {i + 1:04d}, {site['county_label']}",
                site,
                int(round(ran_pop[i])),
                hub_ids[site["hub"]],
            )
        )
    carrier.sites = pd.DataFrame(rows)


def site_row(cid, site_id, kind, name, place, population, depends_on) -> dict:
    """One sites.csv row with location and structure; cost, times and crews come later."""
    return {
        "site_id": site_id,
        "carrier_id": cid,
        "kind": kind,
        "name": name,
        "lat": float(place["lat"]),
        "lon": float(place["lon"]),
        "county_fips": str(place["county_fips"]),
        "population": population,
        "cost_usd": 0,
        "duration": 1,
        "lead_time": 0,
        "depends_on": depends_on,
        "crew_core": int(kind == "core"),
        "crew_backhaul": int(kind == "backhaul"),
        "crew_tower": int(kind == "ran"),
    }


def set_schedule(rng, carrier: CarrierPlan, tier: np.ndarray, hub_cost_usd: np.ndarray) -> None:
    """Lead times and durations in a few batch values per carrier."""
    sites = carrier.sites
    size_share = min(1.0, carrier.ran_sites / LARGEST_RAN_SITES)
    is_core, is_hub, is_ran = (sites["kind"] == k for k in ("core", "backhaul", "ran"))
    sites.loc[is_core, "lead_time"] = int(rng.integers(2, 5))
    sites.loc[is_core, "duration"] = int(min(6, 3 + round(3 * size_share**0.5) + rng.integers(0, 2)))
    sites.loc[is_hub, "lead_time"] = int(rng.integers(1, 4))
    base = int(rng.integers(1, 3))
    pricey = hub_cost_usd > np.median(hub_cost_usd) if len(hub_cost_usd) > 1 else np.array([False])
    sites.loc[is_hub, "duration"] = base + pricey.astype(int)
    first = int(rng.integers(2, 5))
    second = min(5, first + int(rng.integers(0, 3)))
    hub_number = sites.loc[is_ran, "depends_on"].str[-2:].astype(int).to_numpy()
    later = hub_number > (hub_number.max() + 1) / 2
    sites.loc[is_ran, "lead_time"] = np.where(later, second, first)
    # small carriers (<= 3 tower crews) keep standard sites to one month of work
    standard_takes_two = carrier.ran_sites >= 100 and rng.random() < 0.5
    heavy = (tier == 2) | ((tier == 1) & standard_takes_two)
    sites.loc[is_ran, "duration"] = np.where(heavy, 2, 1)


# --------------------------------------------------------------------------- costs


@dataclass
class PriceDraws:
    """The random parts of one carrier's prices, fixed before calibration."""

    quote_factors: np.ndarray  # multipliers of the standard price, one per quote
    quote_tiers: np.ndarray  # 0 light, 1 standard, 2 heavy, one per quote
    config: np.ndarray  # quote index of every RAN site
    hub_base_usd: np.ndarray  # unscaled hub costs
    core_usd: int


def draw_prices(rng, carrier: CarrierPlan) -> PriceDraws:
    """Draw a carrier's quote menu, its sites' configurations, hub and core costs."""
    factors = np.array([rng.uniform(0.6, 0.8), 1.0, rng.uniform(1.2, 1.4)])
    mix = np.array([0.3, 0.5, 0.2])
    tiers = np.array([0, 1, 2])
    if rng.random() < 0.5:  # a two-quote menu: light+standard or standard+heavy
        tiers = tiers[[0, 1]] if rng.random() < 0.5 else tiers[[1, 2]]
        mix = np.array([0.6, 0.4])
    config = rng.choice(len(tiers), size=carrier.ran_sites, p=mix)
    n_hubs = int((carrier.sites["kind"] == "backhaul").sum())
    hub_base = rng.uniform(0.9e6, 1.6e6, n_hubs)
    core = CORE_PRICE_RANGE_USD[0] + 52e6 * carrier.ran_sites / LARGEST_RAN_SITES
    core *= rng.uniform(0.92, 1.05)
    core = int(np.clip(round(core, -3), *CORE_PRICE_RANGE_USD))
    return PriceDraws(factors[tiers], tiers, config, hub_base, core)


def price_carrier(carrier: CarrierPlan, draws: PriceDraws, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """RAN and hub costs (USD, rounded to $1,000) for one global price scale."""
    quotes = np.clip(carrier.standard_ran_price_usd * draws.quote_factors * scale, *RAN_PRICE_RANGE_USD)
    quotes = np.round(quotes, -3)
    hubs = np.round(np.clip(draws.hub_base_usd * scale, *HUB_PRICE_RANGE_USD), -3)
    return quotes, hubs


def carrier_total_usd(carrier: CarrierPlan, draws: PriceDraws, scale: float) -> float:
    """All-in cost of one carrier at a given price scale."""
    quotes, hubs = price_carrier(carrier, draws, scale)
    return float(quotes[draws.config].sum() + hubs.sum() + draws.core_usd)


def calibrate_price_scale(carriers, draws, target_usd: float) -> float:
    """Bisection on the global RAN/hub price scale so priority-1 cost hits the target."""
    low, high = 0.2, 5.0
    for _ in range(60):
        mid = (low + high) / 2
        total = sum(carrier_total_usd(c, d, mid) for c, d in zip(carriers, draws, strict=True) if c.priority == 1)
        low, high = (mid, high) if total < target_usd else (low, mid)
    return (low + high) / 2


def apply_prices(rng, carrier: CarrierPlan, draws: PriceDraws, scale: float) -> None:
    """Write costs, schedule values and the quote menu into the carrier's sites."""
    quotes, hubs = price_carrier(carrier, draws, scale)
    sites = carrier.sites
    sites.loc[sites["kind"] == "core", "cost_usd"] = draws.core_usd
    sites.loc[sites["kind"] == "backhaul", "cost_usd"] = hubs.astype(int)
    sites.loc[sites["kind"] == "ran", "cost_usd"] = quotes[draws.config].astype(int)
    carrier.ran_quotes_usd = sorted(set(quotes.tolist()))
    set_schedule(rng, carrier, draws.quote_tiers[draws.config], hubs)


# --------------------------------------------------------------------------- crews & carriers


def crew_rows(rng, carrier: CarrierPlan) -> list[dict]:
    """Monthly crew capacity per type, with winter capacity in northern states."""
    sites = carrier.sites
    ran_crew_months = int(sites.loc[sites["kind"] == "ran", "duration"].sum())
    hub_crew_months = int(sites.loc[sites["kind"] == "backhaul", "duration"].sum())
    if carrier.ran_sites >= 600:
        tower = round(ran_crew_months / rng.uniform(33, 37))
    elif carrier.ran_sites >= 100:
        tower = round(ran_crew_months / rng.uniform(20, 34))
    else:
        tower = int(np.clip(round(ran_crew_months / rng.uniform(15, 30)), 1, 3))
    backhaul = int(np.clip(round(hub_crew_months / rng.uniform(6, 14)), 1, 3))
    capacity = {"core": 1, "backhaul": backhaul, "tower": max(1, int(tower))}
    northern = carrier.states[0] in NORTHERN
    rows = []
    for crew_type in CREW_TYPES:
        cap = capacity[crew_type]
        winter = "" if not northern else str(cap if crew_type == "core" else math.ceil(cap / 2))
        rows.append(
            {"carrier_id": carrier.carrier_id, "crew_type": crew_type, "capacity": cap, "winter_capacity": winter}
        )
    return rows


def carrier_row(rng, carrier: CarrierPlan) -> dict:
    """One carriers.csv row; subscribers follow the RAN population for priority 1."""
    sites = carrier.sites
    if carrier.subscribers is None:
        ran_pop = sites.loc[sites["kind"] == "ran", "population"].sum()
        carrier.subscribers = int(round(ran_pop * rng.uniform(0.7, 1.3), -1))
    own = int(round(carrier.own_funds_share * sites["cost_usd"].sum(), -3))
    return {
        "carrier_id": carrier.carrier_id,
        "name": carrier.name,
        "state": carrier.states[0],
        "subscribers": carrier.subscribers,
        "own_funds_usd": own,
        "priority": carrier.priority,
    }


# --------------------------------------------------------------------------- checks


def check_dataset(carriers: pd.DataFrame, crews: pd.DataFrame, sites: pd.DataFrame, p1_target_usd: float) -> list[str]:
    """Every problem found in the generated tables (empty list when all is well)."""
    problems = []
    ids = set(carriers["carrier_id"])
    if len(carriers) != 40 or len(ids) != 40:
        problems.append(f"expected 40 unique carriers, got {len(carriers)} rows / {len(ids)} ids")
    if sites["site_id"].duplicated().any():
        problems.append(f"duplicate site ids: {sorted(sites.loc[sites['site_id'].duplicated(), 'site_id'])[:5]}")
    for column, pattern in (("carrier_id", r"c\d{2}"), ("county_fips", r"\d{5}")):
        frame = carriers if column == "carrier_id" else sites
        bad = ~frame[column].astype(str).str.fullmatch(pattern)
        if bad.any():
            problems.append(f"{column} not matching {pattern}: {frame.loc[bad, column].head().tolist()}")
    problems += check_dependencies(sites)
    problems += check_site_ranges(sites)
    problems += check_carriers_and_crews(carriers, crews, ids)
    total_sites = len(sites)
    if not TOTAL_SITES_RANGE[0] <= total_sites <= TOTAL_SITES_RANGE[1]:
        problems.append(f"total sites {total_sites} outside {TOTAL_SITES_RANGE}")
    cost = sites.groupby("carrier_id")["cost_usd"].sum()
    p1 = cost[carriers.set_index("carrier_id")["priority"] == 1].sum()
    if abs(p1 / p1_target_usd - 1) > P1_TOLERANCE:
        problems.append(f"priority-1 cost {p1:,} not within 3% of {p1_target_usd:,.0f}")
    if cost.max() <= 1e9:
        problems.append(f"largest carrier costs {cost.max():,}, expected over $1B")
    return problems


PARENT_KIND = {"core": None, "backhaul": "core", "ran": "backhaul"}


def check_dependencies(sites: pd.DataFrame, parent_kind: dict[str, str | None] = PARENT_KIND) -> list[str]:
    """Dependencies exist, stay inside the carrier, follow core <- hub <- ran, no cycles."""
    problems = []
    by_id = sites.set_index("site_id")
    graph = {}
    for site_id, row in by_id.iterrows():
        deps = [d for d in row["depends_on"].split(";") if d]
        graph[site_id] = deps
        expected = parent_kind[row["kind"]]
        if expected is None and deps:
            problems.append(f"{site_id}: core depends on {deps}")
        if expected is not None and len(deps) != 1:
            problems.append(f"{site_id}: expected exactly one dependency, got {deps}")
        for dep in deps:
            if dep not in by_id.index:
                problems.append(f"{site_id}: unknown dependency {dep}")
            elif by_id.at[dep, "carrier_id"] != row["carrier_id"]:
                problems.append(f"{site_id}: dependency {dep} crosses carriers")
            elif by_id.at[dep, "kind"] != expected:
                problems.append(f"{site_id}: depends on a {by_id.at[dep, 'kind']}, expected {expected}")
    if find_cycle(graph):
        problems.append(f"dependency cycle through {find_cycle(graph)}")
    return problems


def find_cycle(graph: dict[str, list[str]]) -> str | None:
    """A node on a dependency cycle, or None (iterative three-colour DFS)."""
    state = {}
    for start in graph:
        if start in state:
            continue
        stack = [(start, iter(graph[start]))]
        state[start] = "open"
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = "done"
                stack.pop()
            elif state.get(child) == "open":
                return child
            elif child not in state and child in graph:
                state[child] = "open"
                stack.append((child, iter(graph[child])))
    return None


def check_site_ranges(sites: pd.DataFrame) -> list[str]:
    """Per-kind ranges of cost, duration, lead time and crews from the dataset contract."""
    rules = {
        "core": {"cost": CORE_PRICE_RANGE_USD, "duration": (3, 6), "lead": (2, 4), "crew": "crew_core"},
        "backhaul": {"cost": HUB_PRICE_RANGE_USD, "duration": (1, 3), "lead": (1, 3), "crew": "crew_backhaul"},
        "ran": {"cost": RAN_PRICE_RANGE_USD, "duration": (1, 2), "lead": (2, 5), "crew": "crew_tower"},
    }
    problems = []
    for kind, rule in rules.items():
        part = sites[sites["kind"] == kind]
        for column, (lo, hi) in (
            ("cost_usd", rule["cost"]),
            ("duration", rule["duration"]),
            ("lead_time", rule["lead"]),
        ):
            bad = part[(part[column] < lo) | (part[column] > hi)]
            if len(bad):
                problems.append(f"{kind} {column} outside [{lo}, {hi}]: {bad['site_id'].head(3).tolist()}")
        if (part[rule["crew"]] != 1).any() or (
            part[["crew_core", "crew_backhaul", "crew_tower"]].sum(axis=1) != 1
        ).any():
            problems.append(f"{kind} sites must need exactly one unit of {rule['crew']}")
    if (sites["cost_usd"] % 1000 != 0).any():
        problems.append("costs not rounded to $1,000")
    if (sites["population"] < 0).any():
        problems.append("negative population")
    per_carrier = sites.groupby("carrier_id")["kind"].value_counts().unstack(fill_value=0)
    if (per_carrier["core"] != 1).any() or (per_carrier["backhaul"] < 1).any():
        problems.append("every carrier needs one core and at least one hub")
    return problems


def check_carriers_and_crews(carriers, crews, ids) -> list[str]:
    """Priorities per 47 CFR 1.50004 and a full set of crews for every carrier."""
    problems = []
    p = carriers.set_index("carrier_id")
    rule = np.where(p["subscribers"] > SUBSCRIBER_LIMIT_P1, 3, 1)
    explicit_p2 = p["priority"] == 2
    if explicit_p2.sum() != 1 or (p["priority"] == 3).sum() != 1:
        problems.append("expected exactly one priority-2 and one priority-3 carrier")
    if ((p["priority"] != rule) & ~explicit_p2).any():
        problems.append("priority does not follow the 2,000,000-subscriber rule")
    if (p["own_funds_usd"] < 0).any():
        problems.append("negative own funds")
    if set(crews["carrier_id"]) != ids or len(crews) != 3 * len(ids):
        problems.append("every carrier needs exactly one row per crew type")
    if (crews["capacity"] < 1).any():
        problems.append("crew capacity below 1")
    return problems


# --------------------------------------------------------------------------- output


def format_sites(sites: pd.DataFrame) -> pd.DataFrame:
    """Fixed text formatting for sites.csv (6-decimal coordinates, integers)."""
    out = sites[SITE_COLUMNS].copy()
    out["lat"] = out["lat"].map(lambda v: f"{v:.6f}")
    out["lon"] = out["lon"].map(lambda v: f"{v:.6f}")
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV with '\\n' line ends and minimal quoting, byte-stable across runs."""
    frame.to_csv(path, index=False, lineterminator="\n")


def scenario_toml(facts: dict[str, float], dataset_name: str = "rural40") -> str:
    """The dataset's default scenario, each key citing program_facts.csv."""
    fund = int(facts["appropriation_2020"])
    prorated = facts["pro_rata_factor_2022"] * facts["priority1_estimates_2022"]
    reserve = int(round(fund - prorated, -6))
    term = int(facts["term_months"])
    return f"""# Default scenario of the {dataset_name} dataset. Figures from datasets/reference/program_facts.csv.
# appropriation_2020: Consolidated Appropriations Act 2021 s.906, $1.895B for reimbursements
fund_usd = {fund}
# appropriation_2020 minus what was actually prorated (pro_rata_factor_2022 0.395 x \
priority1_estimates_2022 $4.64B = $1.833B)
admin_reserve_usd = {reserve}
# the July 2022 allocation prorated every Priority 1 estimate by one factor (pro_rata_factor_2022)
rule = "pro_rata"
# first allocations were announced July 2022 (priority1_estimates_2022, 2022-07-18)
start = "2022-08"
# 4 years of planning horizon, long enough to see the extensions of completed_2024_12
horizon = 48
# term_months: replace within one year of the first draw-down (47 CFR 1.50004)
deadline = {term}
# extension_months: 6-month extensions exist (47 CFR 1.50004); none granted in the base case
extensions = 0
# minimise population-months left exposed on covered gear
objective = "exposure"
# solver wall-clock limit in seconds
time_limit_s = 60
# relative MIP gap accepted by the solver
mip_gap = 0.01
"""


def summary(carriers: pd.DataFrame, sites: pd.DataFrame, scale: float) -> dict[str, str]:
    """The headline numbers printed by the script and shown in the data card."""
    per = sites.groupby("carrier_id").agg(sites=("site_id", "size"), cost=("cost_usd", "sum"))
    per = per.join(carriers.set_index("carrier_id")[["name", "state", "priority"]])
    per["cost_per_site"] = per["cost"] / per["sites"]
    largest = per["cost"].idxmax()
    kinds = sites["kind"].value_counts()
    small = per[per["sites"] < 100]
    by_priority = per.groupby("priority").agg(n=("sites", "size"), sites=("sites", "sum"), cost=("cost", "sum"))
    ran_pop = sites.loc[sites["kind"] == "ran", "population"]

    def musd(value: float) -> str:
        return f"${value / 1e6:,.1f}M"

    return {
        "carriers (priority 1 / 2 / 3)": " / ".join(str(by_priority.at[p, "n"]) for p in (1, 2, 3)),
        "sites (core / backhaul / ran)": f"{len(sites):,} ({kinds['core']} / {kinds['backhaul']} / {kinds['ran']:,})",
        "total cost": f"${per['cost'].sum():,}",
        "priority-1 cost (target $4,640,284,672)": f"${by_priority.at[1, 'cost']:,}",
        "priority-2 / priority-3 cost": f"{musd(by_priority.at[2, 'cost'])} ({by_priority.at[2, 'sites']} sites) / "
        f"{musd(by_priority.at[3, 'cost'])} ({by_priority.at[3, 'sites']} sites)",
        "largest carrier": f"{largest} {per.at[largest, 'name']} ({per.at[largest, 'state']}): "
        f"{per.at[largest, 'sites']} sites, {musd(per.at[largest, 'cost'])}",
        "carrier sizes (sites)": f"{per['sites'].min()}-{per['sites'].max()}, median {per['sites'].median():.0f}; "
        f">=800: {(per['sites'] >= 800).sum()}, 100-450: "
        f"{per['sites'].between(100, 450).sum()}, <100: {len(small)} "
        f"({small['sites'].min()}-{small['sites'].max()})",
        "cost per site, carrier averages": f"${per['cost_per_site'].min() / 1e6:.2f}M-"
        f"${per['cost_per_site'].max() / 1e6:.2f}M, "
        f"median ${per['cost_per_site'].median() / 1e6:.2f}M",
        "RAN site population": f"total {ran_pop.sum():,}; median {ran_pop.median():,.0f}, "
        f"10-90% {ran_pop.quantile(0.1):,.0f}-{ran_pop.quantile(0.9):,.0f}",
        "global RAN/hub price scale": f"{scale:.4f}",
    }


def update_data_card(card: Path, stats: dict[str, str], marker: str = "summary", header=("statistic", "value")) -> None:
    """Rewrite the generated ``marker`` block of the data card, if the card exists.

    ``stats`` maps a row's first cell to the rest (one string, or a tuple of cells for wider tables)."""
    if not card.exists():
        return
    cells = [(k,) + (v if isinstance(v, tuple) else (v,)) for k, v in stats.items()]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    block = f"<!-- {marker}:start -->\n" + "\n".join(lines) + f"\n<!-- {marker}:end -->"
    text = card.read_text()
    pattern = rf"<!-- {marker}:start -->.*?<!-- {marker}:end -->"
    new = re.sub(pattern, lambda _: block, text, flags=re.S)
    card.write_text(new)


# --------------------------------------------------------------------------- main


def generate(seed: int, reference_dir: Path = REFERENCE_DIR):
    """Build (carriers, crews, sites, facts, scale) for one seed; no files written."""
    rng = np.random.default_rng(seed)
    counties, facts = read_reference(reference_dir)
    plans = design_carriers(rng)
    for carrier in plans:
        build_carrier_sites(rng, counties, carrier)
    draws = [draw_prices(rng, c) for c in plans]
    scale = calibrate_price_scale(plans, draws, facts["priority1_estimates_2022"])
    for carrier, d in zip(plans, draws, strict=True):
        apply_prices(rng, carrier, d, scale)
    crews = pd.DataFrame([row for c in plans for row in crew_rows(rng, c)], columns=CREW_COLUMNS)
    carriers = pd.DataFrame([carrier_row(rng, c) for c in plans], columns=CARRIER_COLUMNS)
    sites = pd.concat([c.sites for c in plans], ignore_index=True)
    return carriers, crews, sites, facts, scale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    carriers, crews, sites, facts, scale = generate(args.seed)
    problems = check_dataset(carriers, crews, sites, facts["priority1_estimates_2022"])
    if problems:
        print("generated data failed its checks; nothing written:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1

    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(carriers, args.out / "carriers.csv")
    write_csv(crews, args.out / "crews.csv")
    write_csv(format_sites(sites), args.out / "sites.csv")
    (args.out / "scenario.toml").write_text(scenario_toml(facts))
    stats = summary(carriers, sites, scale)
    update_data_card(args.out / "README.md", stats)
    print(f"wrote {args.out} (seed {args.seed})")
    for key, value in stats.items():
        print(f"  {key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
