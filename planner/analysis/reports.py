"""Plan -> tidy tables and headline figures. Every number the CLI, app and reports show is made here.

Definitions (periods are months from the scenario's start; H the horizon, D_c the
effective deadline of carrier c = first month the fund has money + term + 6 x the
carrier's extensions, see `planner.core.clock`):
- a replaced site is on covered gear until `finish = start + duration`; finishing after
  D_c makes its carrier miss the deadline (late, not dark);
- a site not replaced is shut down at D_c (`missed_deadline = "shut_down"`): its people are
  left without service from D_c to H; with `keep_running` they stay on covered gear to H;
- exposure_population_months = sum_replaced pop x max(0, finish) + sum_unreplaced pop x D_c (x H if kept
  running); a site sites.csv records as replaced before `start` has a negative finish and counts 0;
- dark_population_months = sum_unreplaced pop x max(0, H - D_c) (0 if kept running);
- money: a site's cost is drawn in the month its work starts, own funds first, then the
  fund, which a carrier may draw up to allocation x the fraction of the fund arrived;
- objective (exposure) = exposure_population_months + w x dark_population_months;
- objective (makespan) = (H + 1) x sites not replaced + sum over carriers of their makespan.

Figures named so that more is better (the headline shows these; exposure alone falls when
less money shuts more people down, because people cut off leave covered gear):
- population_kept_connected = population of replaced sites (they never lose service);
- population_on_new_gear_by_deadline = population of sites whose work finishes by D;
- connected_population_months_on_new_gear = sum_replaced pop x max(0, H - finish);
- covered_months_per_person_kept = sum_replaced pop x finish / population_kept_connected (the average
  wait on covered gear of the people who keep service; fewer months is better, None if nobody is kept).
Money a carrier receives but cannot use: idle_allocation_usd = max(0, allocation - spend) per carrier
(a site is bought only whole, so an allocation too small for the next site sits idle).
"""

from __future__ import annotations

import math
from collections import defaultdict

import pandas as pd

from planner.analysis.diagnostics import deadline_reasons
from planner.core.clock import arrived_fraction, carrier_deadline, carrier_deadlines, carrier_extensions, fund_arrivals
from planner.core.geography import NAME_OF_FIPS, state_fips
from planner.core.schema import Plan
from planner.engine.allocation import applied_pro_rata_factor, priority_tier_factors
from planner.engine.solve import solver_name

# schedule.csv's `status`: what the record says was done (sites.csv `status`), or what the plan does
SCHEDULE_STATUS = {"replaced": "done", "in_progress": "in progress", "planned": "planned"}


def schedule_table(plan: Plan) -> pd.DataFrame:
    """One row per site: when work starts and finishes, or that it is not replaced.

    `status` says whose decision a start is: done (the record: replaced), in progress (the record:
    work under way, kept), planned (the plan's), or not replaced.
    """
    rows = []
    for site in plan.dataset.sites:
        start = plan.starts.get(site.site_id)
        rows.append(
            {
                "site_id": site.site_id,
                "carrier_id": site.carrier_id,
                "kind": site.kind,
                "start": start,
                "finish": None if start is None else start + site.duration_months,
                "month": None if start is None else plan.scenario.month_label(start),
                "finish_month": None if start is None else plan.scenario.month_label(start + site.duration_months),
                "replaced": start is not None,
                "status": SCHEDULE_STATUS[site.status] if start is not None or site.fixed else "not replaced",
                "cost_usd": site.cost_usd,
                "population": site.population,
                "duration": site.duration_months,
                "lat": site.lat,
                "lon": site.lon,
            }
        )
    table = pd.DataFrame(rows)
    for column in ("start", "finish"):
        table[column] = table[column].astype("Int64")
    return table


def carriers_table(plan: Plan) -> pd.DataFrame:
    """One row per carrier: money, spend, completion, on time, people left dark, and why late."""
    dataset, scenario = plan.dataset, plan.scenario
    reasons = deadline_reasons(plan)
    kept_running = scenario.missed_deadline == "keep_running"
    rows = []
    for carrier in dataset.carriers:
        deadline = carrier_deadline(scenario, carrier)
        sites = dataset.sites_by_carrier.get(carrier.carrier_id, ())
        replaced = [s for s in sites if s.site_id in plan.starts]
        finishes = [plan.starts[s.site_id] + s.duration_months for s in replaced]
        completion = max(finishes) if replaced and len(replaced) == len(sites) else None
        on_time = len(replaced) == len(sites) and all(f <= deadline for f in finishes)
        allocation = plan.allocation_usd.get(carrier.carrier_id, 0.0)
        spend = math.fsum(s.cost_usd for s in replaced)
        idle = round(max(0.0, allocation - spend), 2)
        rows.append(
            {
                "carrier_id": carrier.carrier_id,
                "name": carrier.name,
                "state": carrier.state,
                "priority": carrier.priority,
                "demand_usd": dataset.demand_usd(carrier.carrier_id),
                "allocation_usd": allocation,
                "own_funds_usd": carrier.own_funds_usd,
                "spend_usd": spend,
                "sites": len(sites),
                "sites_replaced": len(replaced),
                "completion_period": completion,
                "completion_month": None if completion is None else scenario.month_label(completion),
                "on_time": on_time,
                "population": sum(s.population for s in sites),
                "population_left_without_service": 0
                if kept_running
                else sum(s.population for s in sites if s.site_id not in plan.starts),
                "reason": "" if on_time else reasons.get(carrier.carrier_id, ""),
                "extensions": carrier_extensions(scenario, carrier),
                "deadline_period": deadline,
                "deadline_month": scenario.month_label(deadline),
                "population_unreplaced": sum(s.population for s in sites if s.site_id not in plan.starts),
                "idle_allocation_usd": idle,
                "allocation_idle": idle >= 1.0,  # receives at least a dollar it cannot spend on a whole site
                "completion": completion_text(completion, len(replaced), len(sites), scenario.month_label),
            }
        )
    table = pd.DataFrame(rows)
    table["completion_period"] = table["completion_period"].astype("Int64")
    return table


def completion_text(completion: int | None, replaced: int, sites: int, month_label) -> str:
    """The completion month, or why there is none: `not all sites replaced: 12 of 16`."""
    if completion is not None:
        return month_label(completion)
    if sites == 0:
        return "no sites"
    return f"not all sites replaced: {replaced:,} of {sites:,}"


FALLBACK_NOTE = "pro-rata allocation is kept"  # the engine's note when the optimiser could not beat pro rata


def kept_pro_rata(notes) -> bool:
    """True when an optimal-rule plan fell back to the pro-rata allocation (said in its notes)."""
    return any(FALLBACK_NOTE in note for note in notes)


def monthly_table(plan: Plan) -> pd.DataFrame:
    """One row per period: spend, money drawn from the fund, crews in use, people by service state.

    A site's cost is spent evenly over the months of its work. Carriers draw on their
    fund allocation first and on their own funds after it.
    """
    dataset, scenario = plan.dataset, plan.scenario
    horizon = plan_horizon(plan)
    deadlines = carrier_deadlines(dataset, scenario)
    kept_running = scenario.missed_deadline == "keep_running"
    crew_types = dataset.crew_types
    spend = [0.0] * horizon
    spend_by_carrier: dict[str, list[float]] = defaultdict(lambda: [0.0] * horizon)
    used = {k: [0.0] * horizon for k in crew_types}
    on_covered = [0] * horizon
    on_new = [0] * horizon
    dark = [0] * horizon
    for site in dataset.sites:
        start = plan.starts.get(site.site_id)
        if start is None:
            deadline = horizon if kept_running else deadlines.get(site.carrier_id, scenario.effective_deadline)
            for t in range(horizon):
                if t < deadline:
                    on_covered[t] += site.population
                else:
                    dark[t] += site.population
            continue
        finish = start + site.duration_months
        # work the record began before `start` (a negative period) shows only its months from period 0
        for t in range(max(0, start), min(finish, horizon)):
            spend[t] += site.cost_usd / site.duration_months
            spend_by_carrier[site.carrier_id][t] += site.cost_usd / site.duration_months
            for kind, units in site.crew_need:
                used[kind][t] += units
        for t in range(horizon):
            if t < finish:
                on_covered[t] += site.population
            else:
                on_new[t] += site.population
    drawn = [0.0] * horizon
    for carrier_id, monthly in spend_by_carrier.items():
        allocation, cumulative = plan.allocation_usd.get(carrier_id, 0.0), 0.0
        for t, amount in enumerate(monthly):
            before = min(cumulative, allocation)
            cumulative += amount
            drawn[t] += min(cumulative, allocation) - before
    arrived, drawn_at_start = fund_by_month(plan, horizon)
    capacity = {k: [0.0] * horizon for k in crew_types}
    for pool in dataset.crews:
        for t in range(horizon):
            capacity[pool.crew_type][t] += pool.available(scenario.calendar_month(t))
    table = pd.DataFrame(
        {
            "period": range(horizon),
            "month": [scenario.month_label(t) for t in range(horizon)],
            "spend_usd": spend,
            "funds_drawn_usd": drawn,
            "fund_arrived_usd": arrived,
            "fund_drawn_at_start_usd": drawn_at_start,
            **{f"crew_{k}_used": used[k] for k in crew_types},
            **{f"crew_{k}_capacity": capacity[k] for k in crew_types},
            "population_on_covered_gear": on_covered,
            "population_on_new_gear": on_new,
            "population_without_service": dark,
        }
    )
    table["cumulative_spend_usd"] = table["spend_usd"].cumsum()
    table["cumulative_fund_arrived_usd"] = table["fund_arrived_usd"].cumsum()
    table["cumulative_fund_drawn_at_start_usd"] = table["fund_drawn_at_start_usd"].cumsum()
    return table


def fund_by_month(plan: Plan, horizon: int) -> tuple[list[float], list[float]]:
    """Money arriving in the fund per month, and drawn from it per month by the model's convention.

    Drawn: each site's whole cost in the month its work starts, own funds first, then the fund
    (the quantity the tranche rule limits to allocation x fraction arrived). `funds_drawn_usd`
    is the cash-flow view instead: cost spread over the months of work, allocation first.
    """
    dataset, scenario = plan.dataset, plan.scenario
    arrived = [0.0] * horizon
    for period, usd in fund_arrivals(scenario):
        if period < horizon:
            arrived[period] += usd
    drawn = [0.0] * horizon
    for carrier in dataset.carriers:
        committed = [0.0] * horizon
        for site in dataset.sites_by_carrier.get(carrier.carrier_id, ()):
            start = plan.starts.get(site.site_id)
            if start is not None and start < horizon:
                committed[max(0, start)] += site.cost_usd  # the record's money spent before start: in period 0
        allocation, cumulative = plan.allocation_usd.get(carrier.carrier_id, 0.0), 0.0
        for t, amount in enumerate(committed):
            before = min(allocation, max(0.0, cumulative - carrier.own_funds_usd))
            cumulative += amount
            drawn[t] += min(allocation, max(0.0, cumulative - carrier.own_funds_usd)) - before
    return arrived, drawn


def plan_horizon(plan: Plan) -> int:
    return plan.horizon or plan.scenario.horizon


def json_ready(value):
    """Figures as JSON can hold them: NaN and infinity (a missing bound, say) become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


def summary(plan: Plan) -> dict:
    """The headline figures of a plan, as plain JSON-ready values."""

    dataset, scenario = plan.dataset, plan.scenario
    horizon, deadline = plan_horizon(plan), carrier_deadline(scenario, None)
    deadlines = carrier_deadlines(dataset, scenario)
    kept_running = scenario.missed_deadline == "keep_running"
    carriers = carriers_table(plan)
    replaced = [s for s in dataset.sites if s.site_id in plan.starts]
    unreplaced = [s for s in dataset.sites if s.site_id not in plan.starts]

    def shut_down_at(site) -> int:
        return horizon if kept_running else deadlines.get(site.carrier_id, deadline)

    # counted from start: a site the record finished before it counts 0 months (as in the objective)
    exposure = math.fsum(
        s.population * max(0, plan.starts[s.site_id] + s.duration_months) for s in replaced
    ) + math.fsum(s.population * shut_down_at(s) for s in unreplaced)
    demand = dataset.total_demand_usd
    kept = math.fsum(s.population for s in replaced)
    waited = math.fsum(s.population * (plan.starts[s.site_id] + s.duration_months) for s in replaced)
    return {
        "status": plan.status,
        "objective": plan.objective,
        "bound": plan.bound,
        "gap": plan.gap,
        "makespan": max((plan.starts[s.site_id] + s.duration_months for s in replaced), default=0),
        "fund_usd": scenario.fund_usd,
        "available_usd": scenario.available_usd,
        "demand_usd": demand,
        "allocated_usd": math.fsum(plan.allocation_usd.values()),
        "pro_rata_factor": applied_pro_rata_factor(dataset, scenario) if demand > 0 else None,
        "priority_tier_factors": {
            str(tier): factor for tier, factor in priority_tier_factors(dataset, scenario).items()
        }
        if scenario.rule == "priority"
        else None,
        "spend_usd": math.fsum(s.cost_usd for s in replaced),
        "sites_total": len(dataset.sites),
        "sites_replaced": len(replaced),
        "carriers_total": len(dataset.carriers),
        "carriers_done_by_deadline": int(carriers["on_time"].sum()) if len(carriers) else 0,
        "population_total": sum(s.population for s in dataset.sites),
        "population_left_without_service": 0 if kept_running else sum(s.population for s in unreplaced),
        "population_unreplaced": sum(s.population for s in unreplaced),
        "exposure_population_months": exposure,
        "dark_population_months": math.fsum(s.population * max(0, horizon - shut_down_at(s)) for s in unreplaced),
        "horizon": horizon,
        "effective_deadline": deadline,
        "missed_deadline": scenario.missed_deadline,
        "missed_deadline_assumed": "sites not replaced by their carrier's deadline keep running on covered gear "
        "(late, not dark)"
        if kept_running
        else "sites not replaced by their carrier's deadline are shut down (their people lose service)",
        "tranches": [
            {"month": scenario.month_label(p), "usd": usd, "arrived_fraction": arrived_fraction(scenario, p)}
            for p, usd in fund_arrivals(scenario)
        ],
        "carrier_deadline_months": sorted({scenario.month_label(d) for d in deadlines.values()}),
        # plans from today: what the record fixed (sites.csv status) and the month planning starts from
        "as_of": scenario.as_of or scenario.start,
        "sites_done_before_as_of": sum(1 for s in dataset.sites if s.status == "replaced"),
        "sites_in_progress_at_as_of": sum(1 for s in dataset.sites if s.status == "in_progress"),
        "recorded_spend_usd": math.fsum(s.cost_usd for s in dataset.sites if s.fixed),
        "build_seconds": round(plan.build_seconds, 3),
        "solve_seconds": round(plan.solve_seconds, 3),
        "wall_seconds": round(plan.wall_seconds, 3),
        "solver": plan.solver or solver_name(plan.scenario.objective),
        "dataset": dataset.name,
        "dataset_sha256": dataset.sha256,
        "rule": scenario.rule,
        "scenario": scenario.to_dict(),
        "notes": list(plan.notes),
        "population_kept_connected": int(kept),
        "population_on_new_gear_by_deadline": sum(
            s.population for s in replaced if plan.starts[s.site_id] + s.duration_months <= deadline
        ),
        "connected_population_months_on_new_gear": math.fsum(
            s.population * max(0, horizon - plan.starts[s.site_id] - s.duration_months) for s in replaced
        ),
        "covered_months_per_person_kept": round(waited / kept, 3) if kept > 0 else None,
        "idle_allocation_usd": math.fsum(carriers["idle_allocation_usd"]) if len(carriers) else 0.0,
        "carriers_with_idle_allocation": int(carriers["allocation_idle"].sum()) if len(carriers) else 0,
        "kept_pro_rata_allocation": scenario.rule == "optimal" and kept_pro_rata(plan.notes),
        "stopped_by_time_limit": list(plan.stopped_by_clock),
        "optimal_fallback_reason": plan.fallback_reason or None,
    }


# Figures of the scenario grid: summary key -> (label, +1 when more is better, -1 when fewer is, 0 neither)
GRID_FIGURES = {
    "population_left_without_service": ("People left without service", -1),
    "population_kept_connected": ("People connected", 1),
    "carriers_done_by_deadline": ("Carriers on time", 1),
    "sites_replaced": ("Sites replaced", 1),
    "connected_population_months_on_new_gear": ("Person-months served on new gear", 1),
    "allocated_usd": ("Allocated (USD)", 0),
    "idle_allocation_usd": ("Allocated but unusable (USD)", -1),
    "gap": ("Proven gap", -1),
}


def scenario_grid(summaries: dict[str, dict]) -> pd.DataFrame:
    """Several scenarios' figures side by side (one column each, in order) and each one's change against the first.

    Rows are `GRID_FIGURES`; columns are the scenarios' names, then `<name> - <first>` for every other
    scenario (None where a figure is missing), then `better`: "more" or "fewer" (or "") to read the
    changes by.
    """
    names = list(summaries)
    rows = []
    for key, (label, direction) in GRID_FIGURES.items():
        row: dict[str, object] = {"figure": label}
        values = {name: summaries[name].get(key) for name in names}
        row.update(values)
        first = values[names[0]] if names else None
        for name in names[1:]:
            value = values[name]
            if isinstance(value, int | float) and isinstance(first, int | float):
                row[f"{name} - {names[0]}"] = value - first
            else:
                row[f"{name} - {names[0]}"] = None
        row["better"] = {1: "more", -1: "fewer"}.get(direction, "")
        rows.append(row)
    return pd.DataFrame(rows)


def without_service_by_state(plan: Plan, period: int) -> pd.DataFrame:
    """People without service in a period, by state: the people of sites shut down by then (none before a
    carrier's deadline, none under `keep_running`), with the sites shut down and every site counted.

    Columns: state_fips, state, people_without_service, sites_shut_down, sites; one row per state with
    sites, most people first. A site's state is its county's, else its carrier's (`planner.core.geography`).
    """
    deadlines = carrier_deadlines(plan.dataset, plan.scenario)
    dark_sites = {
        site.site_id
        for site in plan.dataset.sites
        if plan.scenario.missed_deadline == "shut_down"
        and site.site_id not in plan.starts
        and period >= deadlines.get(site.carrier_id, plan.scenario.effective_deadline)
    }
    rows: dict[str, dict] = {}
    for site in plan.dataset.sites:
        fips = state_fips(site.county_fips, plan.dataset.carrier_by_id[site.carrier_id].state)
        row = rows.setdefault(
            fips,
            {
                "state_fips": fips,
                "state": NAME_OF_FIPS.get(fips, "unknown"),
                "people_without_service": 0,
                "sites_shut_down": 0,
                "sites": 0,
            },
        )
        row["sites"] += 1
        if site.site_id in dark_sites:
            row["people_without_service"] += site.population
            row["sites_shut_down"] += 1
    table = pd.DataFrame(
        list(rows.values()), columns=["state_fips", "state", "people_without_service", "sites_shut_down", "sites"]
    )
    return table.sort_values(["people_without_service", "state"], ascending=[False, True], ignore_index=True)
