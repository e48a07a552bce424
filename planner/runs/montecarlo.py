"""Monte Carlo: how likely is each carrier to finish by the deadline when costs overrun and gear is late?

Each draw perturbs the dataset and plans it again with the same scenario:

    cost_usd'      = cost_usd x F_c,     F_c ~ LogNormal(ln m, s)     one factor per carrier
    lead_time'     = lead_time + L_c,    L_c ~ Poisson(lambda)         months, one delay per carrier

with m = `cost_overrun_median` (default 1.10), s = `cost_overrun_sigma` (default 0.20, so
90% of carriers fall between 0.79x and 1.53x of their estimate) and lambda =
`delay_mean_months` (default 2). One factor and one delay per carrier, independent
across carriers: a carrier's gear comes from one vendor order and its prices move
together. These are assumptions, not fitted figures; the program's record only says
that costs and delays were common: the FCC's 2020 estimate of $1.837B
(fcc_cost_estimate_2020) grew to $5.6B of gross demand (gross_demand_2022) and 118 of
139 extension requests were granted (completed_2024_12), all in
datasets/reference/program_facts.csv. Change them with the arguments of `Uncertainty`.

The fund is divided by the scenario's rule on the drawn costs (the FCC allocates on
reviewed cost estimates), so a draw captures both a carrier running short of money and
a carrier running out of time. Draws are made in this process from one seeded
generator before any solving, so the result does not depend on the number of workers
or their order. Per carrier the result is the share of draws in which it replaced
every site by the effective deadline.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from planner.analysis.reports import carriers_table
from planner.core.errors import InputError, Issue
from planner.core.schema import Dataset, Scenario
from planner.engine.planning import default_workers, plan
from planner.runs.sweep import run_tasks


@dataclass(frozen=True)
class Uncertainty:
    """The distributions draws are made from (see the module docstring)."""

    cost_overrun_median: float = 1.10
    cost_overrun_sigma: float = 0.20
    delay_mean_months: float = 2.0

    def check(self) -> list[Issue]:
        issues = []
        if not (math.isfinite(self.cost_overrun_median) and self.cost_overrun_median > 0):
            issues.append(
                Issue(
                    "--cost-median",
                    None,
                    None,
                    "out-of-range",
                    f"{self.cost_overrun_median:g}",
                    "the median cost factor must be > 0 (1.0 = estimates are right on average)",
                )
            )
        if not (math.isfinite(self.cost_overrun_sigma) and 0 <= self.cost_overrun_sigma <= 2):
            issues.append(
                Issue(
                    "--cost-sigma",
                    None,
                    None,
                    "out-of-range",
                    f"{self.cost_overrun_sigma:g}",
                    "the spread of log cost factors must be between 0 and 2",
                )
            )
        if not (math.isfinite(self.delay_mean_months) and 0 <= self.delay_mean_months <= 60):
            issues.append(
                Issue(
                    "--delay-mean",
                    None,
                    None,
                    "out-of-range",
                    f"{self.delay_mean_months:g}",
                    "the mean extra lead time must be between 0 and 60 months",
                )
            )
        return issues


@dataclass(frozen=True)
class Draw:
    """One sampled world: a cost factor and a lead-time delay for every carrier."""

    index: int
    cost_factor: dict[str, float]
    delay_months: dict[str, int]


def check_inputs(runs: int, uncertainty: Uncertainty) -> None:
    """Raise one InputError naming every bad argument (the number of runs and the distributions)."""
    problems = uncertainty.check()
    if runs < 1:
        problems.append(Issue("--runs", None, None, "out-of-range", str(runs), "at least one run is needed"))
    if problems:
        raise InputError(problems)


def make_draws(dataset: Dataset, runs: int, seed: int, uncertainty: Uncertainty = Uncertainty()) -> list[Draw]:
    """`runs` draws from one generator seeded with `seed`; carriers in dataset order."""
    check_inputs(runs, uncertainty)
    generator = np.random.default_rng(seed)
    carriers = [c.carrier_id for c in dataset.carriers]
    draws = []
    for index in range(runs):
        factors = uncertainty.cost_overrun_median * np.exp(
            uncertainty.cost_overrun_sigma * generator.standard_normal(len(carriers))
        )
        delays = generator.poisson(uncertainty.delay_mean_months, len(carriers))
        draws.append(
            Draw(
                index,
                dict(zip(carriers, map(float, factors), strict=True)),
                dict(zip(carriers, map(int, delays), strict=True)),
            )
        )
    return draws


def apply_draw(dataset: Dataset, draw: Draw) -> Dataset:
    """The dataset as the draw has it: costs scaled (to whole dollars) and lead times lengthened."""
    sites = tuple(
        replace(
            s,
            cost_usd=float(round(s.cost_usd * draw.cost_factor.get(s.carrier_id, 1.0))),
            lead_time_months=s.lead_time_months + draw.delay_months.get(s.carrier_id, 0),
        )
        for s in dataset.sites
    )
    return replace(dataset, sites=sites, name=f"{dataset.name}#draw{draw.index}", sha256="")


def evaluate_draw(dataset: Dataset, scenario: Scenario, draw: Draw) -> pd.DataFrame:
    """Plan one draw; one row per carrier with its draw and whether it finished by the deadline."""
    drawn = plan(apply_draw(dataset, draw), scenario, workers=1)
    table = carriers_table(drawn)[
        [
            "carrier_id",
            "on_time",
            "sites",
            "sites_replaced",
            "completion_period",
            "allocation_usd",
            "population_left_without_service",
        ]
    ].copy()
    table.insert(0, "draw", draw.index)
    table["cost_factor"] = table["carrier_id"].map(draw.cost_factor)
    table["delay_months"] = table["carrier_id"].map(draw.delay_months)
    table["status"] = drawn.status
    return table


@dataclass
class MonteCarloResult:
    """Per-carrier probabilities (`carriers`), every draw's rows (`draws`) and draws that failed."""

    carriers: pd.DataFrame
    draws: pd.DataFrame
    failures: list[tuple[int, str]]
    seconds: float


def run_montecarlo(
    dataset: Dataset,
    scenario: Scenario,
    runs: int,
    seed: int = 0,
    uncertainty: Uncertainty = Uncertainty(),
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int, str, str], None] | None = None,
) -> MonteCarloResult:
    """Plan `runs` perturbed copies of the dataset and summarise, per carrier, how often it finished."""
    began = time.perf_counter()
    draws = make_draws(dataset, runs, seed, uncertainty)
    workers = default_workers() if workers is None else max(1, workers)
    tables, failures = [], []
    for done, (index, table, error) in enumerate(
        run_tasks(
            evaluate_draw, [(dataset, scenario, d) for d in draws], workers=min(workers, runs), scheduler=scheduler
        ),
        start=1,
    ):
        if error is not None:
            failures.append((index, f"{type(error).__name__}: {error}"))
        else:
            assert table is not None  # run_tasks yields a result whenever there is no error
            tables.append(table)
        if progress:
            progress(done, runs, f"draw {index}", "failed" if error is not None else "done")
    columns = [
        "draw",
        "carrier_id",
        "on_time",
        "sites",
        "sites_replaced",
        "completion_period",
        "allocation_usd",
        "population_left_without_service",
        "cost_factor",
        "delay_months",
        "status",
    ]
    frame = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=columns)
    frame = frame.sort_values(["draw", "carrier_id"], ignore_index=True) if len(frame) else frame
    return MonteCarloResult(summarise(dataset, frame), frame, failures, time.perf_counter() - began)


def summarise(dataset: Dataset, draws: pd.DataFrame) -> pd.DataFrame:
    """Per carrier: probability of finishing by the deadline and the spread of its outcomes."""
    rows = []
    for carrier in dataset.carriers:
        mine = draws[draws["carrier_id"] == carrier.carrier_id] if len(draws) else draws
        finished: pd.Series = (
            pd.to_numeric(mine["completion_period"], errors="coerce").dropna()
            if len(mine)
            else pd.Series([], dtype=float)
        )
        rows.append(
            {
                "carrier_id": carrier.carrier_id,
                "name": carrier.name,
                "draws": len(mine),
                "probability_on_time": float(mine["on_time"].astype(bool).mean()) if len(mine) else math.nan,
                "probability_all_replaced": float((mine["sites_replaced"] == mine["sites"]).mean())
                if len(mine)
                else math.nan,
                "mean_sites_replaced": float(mine["sites_replaced"].mean()) if len(mine) else math.nan,
                "sites": len(dataset.sites_by_carrier.get(carrier.carrier_id, ())),
                "mean_population_left_without_service": float(mine["population_left_without_service"].mean())
                if len(mine)
                else math.nan,
                "completion_period_p50": float(finished.quantile(0.5)) if len(finished) else math.nan,
                "completion_period_p90": float(finished.quantile(0.9)) if len(finished) else math.nan,
            }
        )
    return pd.DataFrame(rows)
