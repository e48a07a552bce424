"""Why a carrier misses its deadline or leaves people dark, in words a planner understands.

The model never becomes infeasible: every site is optional, so a contradictory scenario
(a deadline before a lead time, no crews of a type, no money) shows up as sites not
replaced or carriers late. Two views explain it:

`deadline_reasons(plan)` gives one line per late carrier (the carriers table shows it):
the first of money, lead time or precedence, crews, and crews and precedence together.

`explain(plan)` gives every rule that bites, for each carrier, and by how much:

    money        budget b_c = allocation + own funds < demand D_c: short by D_c - b_c
    crew-type    a site needs u units of crew type k; the carrier never has u in any month
    lead-time    lead_s + d_s > deadline: the site finishes late whatever else happens
    precedence   the longest chain of sites ending at s, e_s + d_s > deadline
    crews        for some month t0, the sites that cannot start before t0 need more
                 crew-months of type k than the carrier has in t0 .. deadline-1:
                 max_t0 sum_{s: e_s >= t0} u_sk d_s - sum_{t0 <= t < D} cap_k(t) > 0
    packing      none of the above alone, yet the schedule cannot be packed in time

Each bound is necessary, not sufficient: a finding proves the rule bites, and its amount
is the least that must change. With `relax=True` each finding is also measured by `relax`: the carrier is re-planned
alone with that one rule relaxed, and the finding says how many more sites and people
that would serve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

from planner.analysis.relax import RELAXATIONS, Outcome, carrier_outcome, replan_outcome
from planner.core.clock import carrier_deadline
from planner.core.network import earliest_starts
from planner.core.schema import Dataset, Plan, Scenario, Site
from planner.core.wording import usd
from planner.model.case import crew_capacity


def deadline_reasons(plan: Plan) -> dict[str, str]:
    """carrier_id -> one line saying why it does not finish every site by the effective deadline."""
    dataset, scenario = plan.dataset, plan.scenario
    reasons = {}
    for carrier in dataset.carriers:
        deadline = carrier_deadline(scenario, carrier)  # each applicant's own clock
        sites = dataset.sites_by_carrier.get(carrier.carrier_id, ())
        unfinished = [
            s for s in sites if s.site_id not in plan.starts or plan.starts[s.site_id] + s.duration_months > deadline
        ]
        if not unfinished:
            continue
        demand = dataset.demand_usd(carrier.carrier_id)
        money = plan.allocation_usd.get(carrier.carrier_id, 0.0) + carrier.own_funds_usd
        if money < demand - 0.5:
            reasons[carrier.carrier_id] = (
                f"money: short of {usd(demand - money)} (has {usd(money)} for a demand of "
                f"{usd(demand)}); {sum(1 for s in sites if s.site_id not in plan.starts)} sites not replaced"
            )
            continue
        earliest = earliest_starts(sites)
        by_id = {s.site_id: s for s in sites}
        blocked = [s for s in unfinished if earliest[s.site_id] + s.duration_months > deadline]
        if blocked:
            site = max(blocked, key=lambda s: earliest[s.site_id] + s.duration_months)
            finish = earliest[site.site_id] + site.duration_months
            if earliest[site.site_id] == site.lead_time_months:
                reasons[carrier.carrier_id] = (
                    f"lead time: site {site.site_id} cannot start before month {site.lead_time_months} "
                    f"(equipment delivery), so it finishes in month {finish}, after the deadline (month {deadline})"
                )
            else:
                waits = max(site.depends_on, key=lambda j: earliest[j] + by_id[j].duration_months)
                reasons[carrier.carrier_id] = (
                    f"precedence: site {site.site_id} must wait for {waits}, so it cannot finish "
                    f"before month {finish}, after the deadline (month {deadline})"
                )
            continue
        capacity = crew_capacity(dataset, scenario, carrier.carrier_id, horizon=max(deadline, 0))
        shortfalls = []
        for crew_type, periods in sorted(capacity.items()):
            need = math.fsum(s.need(crew_type) * s.duration_months for s in sites)
            have = math.fsum(periods[:deadline])
            if need > have + 1e-9:
                shortfalls.append(f"{need - have:,.0f} more {crew_type} crew-months")
        if shortfalls:
            reasons[carrier.carrier_id] = (
                "crews: needs " + " and ".join(shortfalls) + f" before the deadline (month {deadline})"
            )
        else:
            reasons[carrier.carrier_id] = (
                "crews and precedence: the crews exist in total, but the order of the work "
                f"cannot be packed before the deadline (month {deadline})"
            )
    return reasons


# --- explain: every rule that bites, by how much --------------------------------------------

RULE_ORDER = ("money", "crew-type", "lead-time", "precedence", "crews", "packing")


@dataclass(frozen=True)
class Finding:
    """One rule that keeps a carrier from finishing by the deadline, and by how much.

    `amount` is in `unit` (usd, crews, months, crew-months): the least change that the
    rule alone demands. `relaxed` is filled by `explain(..., relax=True)`: the carrier's
    outcome re-planned with this rule relaxed, next to `baseline` with nothing relaxed.
    """

    carrier_id: str
    rule: str
    message: str
    amount: float
    unit: str
    sites: tuple[str, ...] = ()
    baseline: Outcome | None = None
    relaxed: Outcome | None = None

    def __str__(self) -> str:
        text = f"{self.carrier_id}: {self.rule}: {self.message}"
        if self.relaxed is not None and self.baseline is not None:
            text += f". {relaxation_sentence(self)}"
        return text


def explain(
    plan: Plan, carrier_ids: list[str] | None = None, relax: bool = False, relax_time_limit_s: float = 10.0
) -> list[Finding]:
    """Every rule that keeps a carrier from finishing on time or leaves its people dark.

    Carriers that finish every site by the effective deadline get no finding. `relax`
    re-plans each explained carrier alone once per relaxed rule (a few MILPs each, at most
    `relax_time_limit_s` seconds apiece), so ask for it on a handful of carriers.
    """
    findings: list[Finding] = []
    wanted = set(carrier_ids) if carrier_ids is not None else None
    for carrier in plan.dataset.carriers:
        if wanted is not None and carrier.carrier_id not in wanted:
            continue
        found = carrier_findings(plan, carrier.carrier_id)
        if relax and found:
            found = measure(plan, carrier.carrier_id, found, relax_time_limit_s)
        findings.extend(found)
    return findings


def carrier_findings(plan: Plan, carrier_id: str) -> list[Finding]:
    """The analytical findings for one carrier (no solving): exact bounds, each necessary."""
    dataset, scenario = plan.dataset, plan.scenario
    sites = dataset.sites_by_carrier.get(carrier_id, ())
    if not sites or carrier_outcome(plan, carrier_id).on_time:
        return []
    deadline = carrier_deadline(scenario, dataset.carrier_by_id.get(carrier_id))
    horizon = plan.horizon or scenario.horizon
    findings = [*_money(plan, carrier_id, sites), *_crew_types(dataset, scenario, carrier_id, sites, horizon)]
    earliest = earliest_starts(sites)
    findings += _lead_times(carrier_id, sites, deadline, horizon)
    findings += _precedence(carrier_id, sites, earliest, deadline, horizon)
    findings += _crew_months(dataset, scenario, carrier_id, sites, earliest, deadline)
    if not findings:
        findings.append(
            Finding(
                carrier_id,
                "packing",
                "the money, crews and time windows each suffice on their own, but the work cannot be "
                f"packed so that every site finishes by the deadline (month {deadline}); crews and "
                "precedence bite together",
                0.0,
                "months",
            )
        )
    return findings


def _people(sites) -> str:
    count = sum(s.population for s in sites)
    return f"{count:,} {'person' if count == 1 else 'people'}"


def _months(count: int) -> str:
    return f"{count} month{'s' if count != 1 else ''}"


def _name_sites(site_ids: list[str], limit: int = 3) -> str:
    shown = ", ".join(site_ids[:limit])
    return shown + (f" and {len(site_ids) - limit} more" if len(site_ids) > limit else "")


def _money(plan: Plan, carrier_id: str, sites) -> list[Finding]:
    carrier = plan.dataset.carrier_by_id[carrier_id]
    demand = plan.dataset.demand_usd(carrier_id)
    allocation = plan.allocation_usd.get(carrier_id, 0.0)
    budget = allocation + carrier.own_funds_usd
    if budget >= demand - 0.5:
        return []
    unfunded = [s for s in sites if s.site_id not in plan.starts]
    return [
        Finding(
            carrier_id,
            "money",
            f"short by {usd(demand - budget)}: the sites cost {usd(demand)} and the carrier has "
            f"{usd(budget)} ({usd(allocation)} from the fund, {usd(carrier.own_funds_usd)} of its own); "
            f"{len(unfunded)} site{'s' if len(unfunded) != 1 else ''} serving {_people(unfunded)} "
            f"{'are' if len(unfunded) != 1 else 'is'} not replaced",
            demand - budget,
            "usd",
            tuple(s.site_id for s in unfunded),
        )
    ]


def _crew_types(dataset: Dataset, scenario: Scenario, carrier_id: str, sites, horizon: int) -> list[Finding]:
    """A site whose need of some crew type exceeds what the carrier has in every month: never workable."""
    capacity = crew_capacity(dataset, scenario, carrier_id, horizon=horizon)
    blocked: dict[str, list[Site]] = {}
    missing: dict[str, float] = {}
    for site in sites:
        for crew_type, units in site.crew_need:
            most = max(capacity.get(crew_type, ()), default=0.0)
            if units > most + 1e-9:
                blocked.setdefault(crew_type, []).append(site)
                missing[crew_type] = max(missing.get(crew_type, 0.0), units - most)
    findings = []
    for crew_type, stuck in sorted(blocked.items()):
        most = max(capacity.get(crew_type, ()), default=0.0)
        need = max(s.need(crew_type) for s in stuck)
        have = "no" if most == 0 else f"at most {most:g}"
        findings.append(
            Finding(
                carrier_id,
                "crew-type",
                f"{have} '{crew_type}' crews in any month, but {len(stuck)} site"
                f"{'s' if len(stuck) != 1 else ''} ({_name_sites([s.site_id for s in stuck])}, "
                f"{_people(stuck)}) need{'s' if len(stuck) == 1 else ''} {need:g}; "
                f"{missing[crew_type]:g} more '{crew_type}' crew unit{'s' if missing[crew_type] != 1 else ''} "
                "needed before they can be worked at all",
                missing[crew_type],
                "crews",
                tuple(s.site_id for s in stuck),
            )
        )
    return findings


def _lead_times(carrier_id: str, sites, deadline: int, horizon: int) -> list[Finding]:
    late = sorted(
        (s for s in sites if s.lead_time_months + s.duration_months > deadline),
        key=lambda s: (-(s.lead_time_months + s.duration_months), s.site_id),
    )
    if not late:
        return []
    worst = late[0]
    finish = worst.lead_time_months + worst.duration_months
    beyond = f"; it is also beyond the {horizon}-month horizon, so it is never replaced" if finish > horizon else ""
    others = f" ({len(late) - 1} other site{'s' if len(late) != 2 else ''} too)" if len(late) > 1 else ""
    return [
        Finding(
            carrier_id,
            "lead-time",
            f"site {worst.site_id}'s lead time of {_months(worst.lead_time_months)} puts its earliest finish at "
            f"month {finish} (after {_months(worst.duration_months)} of work), {_months(finish - deadline)} after "
            f"the deadline (month {deadline}){beyond}{others}",
            float(finish - deadline),
            "months",
            tuple(s.site_id for s in late),
        )
    ]


def critical_chain(sites, earliest: dict[str, int], site_id: str) -> list[str]:
    """The chain of dependencies that sets a site's earliest start, first site first."""
    by_id = {s.site_id: s for s in sites}
    chain = [site_id]
    while True:
        site = by_id[chain[-1]]
        waits = [
            j
            for j in site.depends_on
            if j in by_id
            and earliest[j] + by_id[j].duration_months == earliest[site.site_id]
            and earliest[site.site_id] > site.lead_time_months
        ]
        if not waits:
            return chain[::-1]
        chain.append(min(waits))


def _precedence(carrier_id: str, sites, earliest: dict[str, int], deadline: int, horizon: int) -> list[Finding]:
    """Sites whose chain of predecessors, not their own lead time, makes them finish late."""
    late = [
        s
        for s in sites
        if earliest[s.site_id] + s.duration_months > deadline and s.lead_time_months + s.duration_months <= deadline
    ]
    if not late:
        return []
    worst = max(late, key=lambda s: (earliest[s.site_id] + s.duration_months, s.site_id))
    finish = earliest[worst.site_id] + worst.duration_months
    chain = critical_chain(sites, earliest, worst.site_id)
    by_id = {s.site_id: s for s in sites}
    lead = by_id[chain[0]].lead_time_months
    months = finish - lead
    beyond = f"; that is beyond the {horizon}-month horizon, so it is never replaced" if finish > horizon else ""
    others = f" ({len(late) - 1} other site{'s' if len(late) != 2 else ''} too)" if len(late) > 1 else ""
    return [
        Finding(
            carrier_id,
            "precedence",
            f"precedence chain {' -> '.join(chain)} takes {_months(months)} of work"
            + (f" after a {lead}-month lead time" if lead else "")
            + f", so {worst.site_id} finishes in month {finish} at the earliest, {_months(finish - deadline)} "
            f"after the deadline (month {deadline}){beyond}{others}",
            float(finish - deadline),
            "months",
            tuple(chain),
        )
    ]


def _crew_months(
    dataset: Dataset, scenario: Scenario, carrier_id: str, sites, earliest: dict[str, int], deadline: int
) -> list[Finding]:
    """Crew-months needed before the deadline versus those that exist, from each possible start month.

    Only sites that could finish by the deadline on their own count: the others are
    explained by their lead time or precedence chain, and no crew could help them.
    """
    capacity = crew_capacity(dataset, scenario, carrier_id, horizon=max(deadline, 0))
    possible = [s for s in sites if earliest[s.site_id] + s.duration_months <= deadline]
    findings = []
    for crew_type in sorted({k for s in possible for k, _ in s.crew_need}):
        periods = capacity.get(crew_type, (0.0,) * max(deadline, 0))
        worst = (0.0, 0, 0.0, 0.0)  # shortfall, from month, need, have
        for start in sorted({0, *(earliest[s.site_id] for s in possible)}):
            need = math.fsum(s.need(crew_type) * s.duration_months for s in possible if earliest[s.site_id] >= start)
            have = math.fsum(periods[start:deadline])
            if need - have > worst[0] + 1e-9:
                worst = (need - have, start, need, have)
        short, start, need, have = worst
        if short <= 1e-9:
            continue
        if start == 0:
            window, which = f"before the deadline (month {deadline})", "its sites"
        else:
            window = f"in month {start}" if start == deadline - 1 else f"in months {start}-{deadline - 1}"
            which = f"the sites that cannot start before month {start}"
        findings.append(
            Finding(
                carrier_id,
                "crews",
                f"{short:,.0f} '{crew_type}' crew-month{'s' if round(short) != 1 else ''} missing: "
                f"{which} need {need:,.0f} crew-months {window}, and the carrier has {have:,.0f}",
                short,
                "crew-months",
            )
        )
    return findings


# --- relax and report ---------------------------------------------------------------------------


def measure(plan: Plan, carrier_id: str, findings: list[Finding], time_limit_s: float) -> list[Finding]:
    """Attach to each finding the carrier's outcome with that rule relaxed, beside the unrelaxed re-plan."""
    baseline = replan_outcome(plan, carrier_id, None, time_limit_s)
    measured: dict[str, Outcome] = {}
    out = []
    for finding in findings:
        key = RELAXATIONS[finding.rule]
        if key not in measured:
            measured[key] = replan_outcome(plan, carrier_id, finding.rule, time_limit_s)
        out.append(replace(finding, baseline=baseline, relaxed=measured[key]))
    return out


def relaxation_sentence(finding: Finding) -> str:
    """The measured outcome in words.

    'Relaxing it (money up to ...): 11 sites replaced (was 8), 9 by the deadline (was 6),
    120 people left dark (was 900).'
    """
    before, after = finding.baseline, finding.relaxed
    if before is None or after is None:
        raise ValueError(f"{finding.carrier_id}: {finding.rule}: not measured; explain(..., relax=True) measures it")
    parts = [
        f"{after.sites_replaced} sites replaced (was {before.sites_replaced})",
        f"{after.sites_done_by_deadline} by the deadline (was {before.sites_done_by_deadline})",
        f"{after.people_left_dark:,} people left dark (was {before.people_left_dark:,})",
    ]
    if after.on_time:
        parts.append(f"every site done by month {after.completion_period}")
    elif after.completion_period is not None:
        parts.append(f"every site done by month {after.completion_period}, still after the deadline")
    return f"Relaxing it ({RELAXATIONS[finding.rule]}): " + ", ".join(parts) + "."


def findings_table(findings: list[Finding]):
    """Findings as a table (one row each) for the app and the reports."""

    rows = []
    for f in findings:
        rows.append(
            {
                "carrier_id": f.carrier_id,
                "rule": f.rule,
                "amount": f.amount,
                "unit": f.unit,
                "message": f.message,
                "sites": ";".join(f.sites),
                "relaxed": RELAXATIONS[f.rule] if f.relaxed else None,
                "sites_replaced_before": f.baseline.sites_replaced if f.baseline else None,
                "sites_replaced_relaxed": f.relaxed.sites_replaced if f.relaxed else None,
                "sites_by_deadline_before": f.baseline.sites_done_by_deadline if f.baseline else None,
                "sites_by_deadline_relaxed": f.relaxed.sites_done_by_deadline if f.relaxed else None,
                "people_dark_before": f.baseline.people_left_dark if f.baseline else None,
                "people_dark_relaxed": f.relaxed.people_left_dark if f.relaxed else None,
                "on_time_relaxed": f.relaxed.on_time if f.relaxed else None,
            }
        )
    columns = [
        "carrier_id",
        "rule",
        "amount",
        "unit",
        "message",
        "sites",
        "relaxed",
        "sites_replaced_before",
        "sites_replaced_relaxed",
        "sites_by_deadline_before",
        "sites_by_deadline_relaxed",
        "people_dark_before",
        "people_dark_relaxed",
        "on_time_relaxed",
    ]
    return pd.DataFrame(rows, columns=columns)
