"""Shared fixtures: tiny datasets built in code, and the embedded dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.core.schema import Carrier, CrewPool, Dataset, Scenario, Site

ROOT = Path(__file__).resolve().parent.parent
RURAL40 = ROOT / "datasets" / "rural40"


def site(
    site_id, carrier_id="a", *, population=0, cost=0.0, duration=1, lead=0, after=(), tower=1.0, kind="ran", **crews
):
    need = {"tower": tower, **crews}
    return Site(
        site_id=site_id,
        carrier_id=carrier_id,
        kind=kind,
        cost_usd=float(cost),
        duration_months=duration,
        lead_time_months=lead,
        population=population,
        depends_on=tuple(after),
        crew_need=tuple(sorted((k, float(v)) for k, v in need.items() if v)),
    )


def dataset(sites, crews=None, carriers=None, name="tiny"):
    """A dataset from sites; by default every carrier has one tower crew and no own funds."""
    carrier_ids = sorted({s.carrier_id for s in sites})
    carriers = carriers or tuple(Carrier(c, f"Carrier {c}", "TX", 1000) for c in carrier_ids)
    if crews is None:
        crews = tuple(CrewPool(c, "tower", 1.0) for c in carrier_ids)
    return Dataset(carriers=tuple(carriers), crews=tuple(crews), sites=tuple(sites), name=name)


def only_carriers(ds: Dataset, keep, name: str) -> Dataset:
    """The dataset's carriers in `keep`, with their crews and sites."""
    keep = set(keep)
    return Dataset(
        tuple(c for c in ds.carriers if c.carrier_id in keep),
        tuple(p for p in ds.crews if p.carrier_id in keep),
        tuple(s for s in ds.sites if s.carrier_id in keep),
        name=name,
    )


def scenario(**overrides):
    """A scenario for tiny cases: money enough, no dark penalty surprises, exact optimality."""
    base = {"fund_usd": 1e12, "horizon": 12, "deadline": 12, "mip_gap": 0.0, "time_limit_s": 30.0, "start": "2022-05"}
    base.update(overrides)
    return Scenario(**base)


@pytest.fixture(autouse=True)
def private_run_store(tmp_path, monkeypatch):
    """Every test records its solves in its own run store, never in the working folder's runs/."""
    monkeypatch.setenv("RRPLAN_STORE", str(tmp_path / "rrplan.sqlite"))


@pytest.fixture(scope="session")
def rural40():
    from planner import read_dataset

    return read_dataset(RURAL40)
