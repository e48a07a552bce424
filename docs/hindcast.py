"""The hindcast: run the program as it ran on `datasets/program126` and set the plan beside the record.

    PYTHONPATH=$PWD python docs/hindcast.py [--time-limit 120] [--out docs/hindcast.md]

Writes `docs/hindcast.md` (issue 14). Every plan figure on the page comes from the solve; every
record figure comes from a row of `datasets/reference/program_facts.csv`, cited by its key. Nothing
is tuned to the record: the point is to see whether a plausible world lands near what happened.

The scenario is the `program-as-run` preset on the dataset's own `scenario.toml`. The preset sets
the money (two tranches, $1.895B 2022-07 and $3.08B 2025-04), the priority rule, the 12-month term
and one 6-month extension; it does not set the calendar, so period 0 is the dataset's `start`,
2022-08, the first month after the July 2022 allocation. The 2022-07 tranche arrived before
`start` and so is in hand in period 0, every applicant's term runs from period 0 (the first
money) and its deadline with the one extension is period 18, 2024-02.

Structure, so the page can be tested on a tiny plan quickly: `hindcast_figures(plan, ...)` turns
a solved Plan into a dict of figures; `render_page(figures)` turns that dict into Markdown;
`main(argv)` reads, solves (twice: as run, and with `missed_deadline = "shut_down"` unless
`--no-shut-down`) and writes.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

import planner
from planner.core.clock import (
    arrived_fraction,
    carrier_deadline,
    first_money_period,
    fund_arrivals,
    period_of_month,
    tranche_words,
)
from planner.core.network import earliest_starts
from planner.core.schema import Plan
from planner.inputs import presets

REPO = Path(__file__).resolve().parent.parent
DATASET = REPO / "datasets" / "program126"
FACTS = REPO / "datasets" / "reference" / "program_facts.csv"
PRESET = "program-as-run"

# The months of the record's snapshots: mid-2024 (the July 2024 progress report), June 2023,
# December 2024 and December 2025.
MID_2024 = "2024-07"


def read_facts(path: Path = FACTS) -> dict[str, dict[str, str]]:
    """The public facts, by key: value, unit, as_of, what, source."""
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["key"]: row for row in csv.DictReader(handle)}


def month_in_plan(plan: Plan, label: str) -> int:
    """The period of a `YYYY-MM` month; beyond the horizon, the last planned period (figures are 'by then')."""
    monthly_rows = plan.horizon or plan.scenario.horizon
    return min(period_of_month(plan.scenario, label), monthly_rows - 1)


def carriers_done_by(plan: Plan, label: str) -> int:
    """Carriers whose every site is replaced and finished by the start of month `label`."""
    carriers = planner.carriers_table(plan)
    period = period_of_month(plan.scenario, label)
    done = carriers["completion_period"].dropna()
    return int((done <= period).sum())


def fund_drawn_by(plan: Plan, label: str) -> dict[str, float]:
    """Fund money drawn through month `label`, by the two conventions of `planner.monthly_table`.

    `committed`: each site's whole cost drawn from the fund (own funds first) in the month its work
    starts, the quantity the tranche rule limits. `cash`: the cost spread over the months of work,
    allocation first, i.e. money out of the fund as the work is done.
    """
    monthly = planner.monthly_table(plan)
    rows = monthly[monthly["period"] <= month_in_plan(plan, label)]
    return {
        "committed": float(rows["cumulative_fund_drawn_at_start_usd"].iloc[-1]) if len(rows) else 0.0,
        "cash": float(rows["funds_drawn_usd"].sum()),
    }


def late_carriers(plan: Plan) -> dict[str, int]:
    """Carriers that needed an extension (not done by first money + term) and those late even with theirs.

    Also the people on sites not finished by their carrier's extended deadline: the people a
    shut-down rule would have left without service on this schedule.
    """
    scenario, dataset = plan.scenario, plan.dataset
    first_deadline = first_money_period(scenario) + scenario.deadline
    carriers = planner.carriers_table(plan)
    completion = carriers["completion_period"]
    # not finished (no completion month) or finished after the first deadline: needed an extension
    needed_extension = int((completion.isna() | (completion.fillna(0) > first_deadline)).sum())
    late_after_extensions = int((~carriers["on_time"].astype(bool)).sum())
    people_late = 0
    for carrier in dataset.carriers:
        deadline = carrier_deadline(scenario, carrier)
        for site in dataset.sites_by_carrier.get(carrier.carrier_id, ()):
            start = plan.starts.get(site.site_id)
            if start is None or start + site.duration_months > deadline:
                people_late += site.population
    return {
        "needed_extension": needed_extension,
        "late_after_extensions": late_after_extensions,
        "people_on_late_sites": people_late,
    }


def what_binds(plan: Plan) -> dict:
    """Why applications are late, from the data alone: lead times and the money in hand before the second tranche.

    `cannot_meet_term`: applications whose earliest finish (lead times and dependencies, unlimited
    crews and money: e_s = max(lead_s, e_j + d_j of its predecessors)) is after first money + term;
    `cannot_meet_extended`: after their extended deadline; `wireless` of each: with RAN sites.
    `money_enough_early`: applications whose own funds + allocation x the fraction in hand before
    the second tranche cover their whole cost (money alone would let them finish before it).
    """
    scenario, dataset = plan.scenario, plan.dataset
    arrivals = fund_arrivals(scenario)
    first_share = arrived_fraction(scenario, arrivals[0][0])
    second_month = scenario.month_label(arrivals[1][0]) if len(arrivals) > 1 else None
    first_deadline = first_money_period(scenario) + scenario.deadline
    earliest = earliest_starts(dataset.sites)
    figures = {
        "first_share": first_share,
        "second_tranche_month": second_month,
        "applications": len(dataset.carriers),
        "wireless": 0,
        "cannot_meet_term": 0,
        "cannot_meet_term_wireless": 0,
        "cannot_meet_extended": 0,
        "money_enough_early": 0,
        "own_funds_usd": math.fsum(c.own_funds_usd for c in dataset.carriers),
        "done_before_second_tranche": carriers_done_by(plan, second_month) if second_month else None,
    }
    for carrier in dataset.carriers:
        sites = dataset.sites_by_carrier.get(carrier.carrier_id, ())
        wireless = any(s.kind == "ran" for s in sites)
        finish = max((earliest[s.site_id] + s.duration_months for s in sites), default=0)
        figures["wireless"] += wireless
        if finish > first_deadline:
            figures["cannot_meet_term"] += 1
            figures["cannot_meet_term_wireless"] += wireless
        if finish > carrier_deadline(scenario, carrier):
            figures["cannot_meet_extended"] += 1
        allocation = plan.allocation_usd.get(carrier.carrier_id, 0.0)
        if carrier.own_funds_usd + allocation * first_share >= dataset.demand_usd(carrier.carrier_id) - 0.5:
            figures["money_enough_early"] += 1
    return figures


def hindcast_figures(
    plan: Plan,
    shut_down_plan: Plan | None = None,
    facts: dict[str, dict[str, str]] | None = None,
    description: str = "",
) -> dict:
    """Every figure of the page, from the plan (and the shut-down re-solve) and the facts file."""
    facts = read_facts() if facts is None else facts
    scenario, dataset = plan.scenario, plan.dataset
    summary = planner.summary(plan)
    late = late_carriers(plan)
    first_deadline = first_money_period(scenario) + scenario.deadline
    figures: dict = {
        "dataset": dataset.name,
        "description": description,
        "carriers": len(dataset.carriers),
        "sites": len(dataset.sites),
        "population": summary["population_total"],
        "demand_usd": summary["demand_usd"],
        "start": scenario.start,
        "horizon": summary["horizon"],
        "tranches": tranche_words(scenario),
        "fund_usd": scenario.fund_usd,
        "available_usd": scenario.available_usd,
        "rule": scenario.rule,
        "term_months": scenario.deadline,
        "extensions": scenario.extensions,
        "first_deadline_month": scenario.month_label(first_deadline),
        "deadline_months": summary["carrier_deadline_months"],
        "missed_deadline": scenario.missed_deadline,
        "status": summary["status"],
        "gap": summary["gap"],
        "wall_seconds": summary["wall_seconds"],
        "time_limit_s": scenario.time_limit_s,
        "tier_factors": summary["priority_tier_factors"],
        "sites_replaced": summary["sites_replaced"],
        "makespan_month": scenario.month_label(summary["makespan"]),
        "late": late,
        "binds": what_binds(plan),
    }
    drawn_mid_2024 = fund_drawn_by(plan, MID_2024)
    drawn_2023_01 = fund_drawn_by(plan, "2023-01")
    rows = [
        {
            "figure": "applications done (all sites replaced) by June 2023, share of all",
            "key": "share_done_2023_06",
            "record": facts["share_done_2023_06"]["value"],
            "record_text": f"{float(facts['share_done_2023_06']['value']):.0%}",
            "plan": carriers_done_by(plan, "2023-06") / max(1, len(dataset.carriers)),
            "plan_text": None,
            "kind": "share",
        },
        {
            "figure": "applications certified complete by July 2024",
            "key": "certified_complete_2024_07",
            "record": facts["certified_complete_2024_07"]["value"],
            "plan": carriers_done_by(plan, MID_2024),
            "kind": "count",
        },
        {
            "figure": "applications complete by December 2024",
            "key": "completed_2024_12",
            "record": facts["completed_2024_12"]["value"],
            "plan": carriers_done_by(plan, "2024-12"),
            "kind": "count",
        },
        {
            "figure": "applications complete by December 2025",
            "key": "completed_2025_12",
            "record": facts["completed_2025_12"]["value"],
            "plan": carriers_done_by(plan, "2025-12"),
            "kind": "count",
        },
        {
            "figure": "claims paid by January 2023 (plan: fund drawn as work is done, through 2023-01)",
            "key": "claims_approved_2023_01",
            "record": facts["claims_approved_2023_01"]["value"],
            "plan": drawn_2023_01["cash"],
            "kind": "usd",
        },
        {
            "figure": "money disbursed by July 2024 (plan: fund drawn as work is done, through 2024-07)",
            "key": "disbursed_2024_07",
            "record": facts["disbursed_2024_07"]["value"],
            "plan": drawn_mid_2024["cash"],
            "kind": "usd",
        },
        {
            "figure": "money disbursed by July 2024 (plan: fund committed at each site's start, through 2024-07)",
            "key": "disbursed_2024_07",
            "record": facts["disbursed_2024_07"]["value"],
            "plan": drawn_mid_2024["committed"],
            "kind": "usd",
        },
        {
            "figure": f"extensions: applications not done by their first deadline ({figures['first_deadline_month']})",
            "key": "extensions_granted_2024_07",
            "record": facts["extensions_granted_2024_07"]["value"],
            "plan": late["needed_extension"],
            "kind": "count",
        },
    ]
    figures["rows"] = rows
    shut: dict = {
        "late_after_extensions": late["late_after_extensions"],
        "people_on_late_sites": late["people_on_late_sites"],
    }
    if shut_down_plan is not None:
        shut_summary = planner.summary(shut_down_plan)
        shut_carriers = planner.carriers_table(shut_down_plan)
        shut |= {
            "resolved": True,
            "status": shut_summary["status"],
            "gap": shut_summary["gap"],
            "wall_seconds": shut_summary["wall_seconds"],
            "carriers_with_dark_sites": int((shut_carriers["population_left_without_service"] > 0).sum()),
            "people_without_service": shut_summary["population_left_without_service"],
            "dark_population_months": shut_summary["dark_population_months"],
            "sites_replaced": shut_summary["sites_replaced"],
        }
    else:
        shut["resolved"] = False
    figures["shut_down"] = shut
    return figures


def money(usd: float) -> str:
    """$693.2M, $1.895B, $40,966."""
    if abs(usd) >= 1e9:
        return f"${usd / 1e9:,.3f}B"
    if abs(usd) >= 1e6:
        return f"${usd / 1e6:,.1f}M"
    return f"${usd:,.0f}"


def figure_text(value, kind: str) -> str:
    if kind == "usd":
        return money(float(value))
    if kind == "share":
        return f"{float(value):.0%}"
    return f"{float(value):,.0f}"


def render_page(figures: dict) -> str:
    """The Markdown page of a `hindcast_figures` dict."""
    gap = figures["gap"]
    gap_text = "none proven" if gap is None else f"{gap:.2%}"
    late = figures["late"]
    shut = figures["shut_down"]
    lines = [
        "# Hindcast: the program as it ran, planned on program126, beside the public record",
        "",
        "Generated by `docs/hindcast.py` (`PYTHONPATH=$PWD python docs/hindcast.py`); do not edit by hand.",
        "The test suite runs the script (`tests/test_hindcast.py`), so the page cannot rot. Plan figures",
        "come from the solve; record figures from `datasets/reference/program_facts.csv`, cited by key.",
        "Nothing in the dataset or the scenario was tuned to these records.",
        "",
        "## What was run",
        "",
        f"- **Dataset**: `{figures['dataset']}`, {figures['carriers']:,} applications, {figures['sites']:,} sites, "
        f"{figures['population']:,} people, {money(figures['demand_usd'])} of cost estimates (invented networks "
        "at the program's size: see `datasets/program126/README.md`).",
        f"- **Scenario**: the `{PRESET}` preset on the dataset's `scenario.toml`"
        + (f" ({figures['description']})" if figures["description"] else "")
        + ".",
        f"  - Money: {figures['tranches']} (fund {money(figures['fund_usd'])}, "
        f"{money(figures['available_usd'])} after the administrative reserve), shared by the "
        f"`{figures['rule']}` rule"
        + (
            " (tier factors: " + ", ".join(f"P{t} {f:.3f}" for t, f in figures["tier_factors"].items()) + ")"
            if figures["tier_factors"]
            else ""
        )
        + ".",
        f"  - Clock: period 0 is {figures['start']} (the dataset's start, the month after the July 2022 "
        f"allocation; the first tranche arrived before it, so it is in hand in period 0), horizon "
        f"{figures['horizon']} months. Each application has {figures['term_months']} months from the first "
        f"money (first deadline {figures['first_deadline_month']}) and {figures['extensions']} extension(s) "
        f"of 6 months: deadline {', '.join(figures['deadline_months'])}.",
        f"  - A site late for its deadline: `{figures['missed_deadline']}` (late networks ran on under "
        "extension; none was ordered dark).",
        f"- **Solve**: status {figures['status']}, gap {gap_text}, {figures['wall_seconds']:,.0f} s wall "
        f"(time limit {figures['time_limit_s']:,.0f} s); {figures['sites_replaced']:,} of {figures['sites']:,} "
        f"sites replaced, the last finishing in {figures['makespan_month']}.",
        "",
        "## The plan beside the record",
        "",
        "| figure | public record | facts key | plan |",
        "|---|---|---|---|",
    ]
    for row in figures["rows"]:
        lines.append(
            f"| {row['figure']} | {figure_text(row['record'], row['kind'])} | `{row['key']}` "
            f"| {figure_text(row['plan'], row['kind'])} |"
        )
    lines.append(
        "| applications late even with their extension (at risk under a shut-down rule) | no figure "
        "(press: recipients warned of shutdowns) | none | "
        f"{late['late_after_extensions']:,} |"
    )
    lines.append(
        "| people on sites not replaced by their carrier's deadline (this schedule) | no figure | none | "
        f"{late['people_on_late_sites']:,} |"
    )
    if shut["resolved"]:
        lines.append(
            '| people left without service, re-solved with `missed_deadline = "shut_down"` | no figure | none | '
            f"{shut['people_without_service']:,} ({shut['carriers_with_dark_sites']:,} application(s) with dark "
            "sites) |"
        )
    lines += [
        "",
        "Conventions:",
        "",
        "- An application is **done** in the month its last site finishes (all its sites replaced); the "
        "record counts final certifications, which come after the work.",
        "- **Money** is fund money, not own funds. *As work is done* spreads each site's cost over its months "
        "of work, allocation first (`funds_drawn_usd` of `planner.monthly_table`, summed); *committed* draws a "
        "site's whole cost in the month its work starts, own funds first (`cumulative_fund_drawn_at_start_usd`), "
        "the quantity the tranche rule limits. The record counts reimbursements paid, after claims; *as work is done* "
        "is the closer of the two.",
        "- **Extensions**: an application needs one when it is not done by its first deadline (first money + "
        "term). The record counts extensions granted, and some recipients had more than one.",
    ]
    if shut["resolved"]:
        shut_gap = "none proven" if shut["gap"] is None else f"{shut['gap']:.2%}"
        lines.append(
            f'- **Shut down**: the same scenario solved again with `missed_deadline = "shut_down"` (status '
            f"{shut['status']}, gap {shut_gap}, {shut['wall_seconds']:,.0f} s): a site not replaced within "
            "the horizon goes dark from its carrier's deadline to the horizon "
            f"({shut['dark_population_months']:,.0f} person-months)."
        )
    lines += ["", *differ_section(figures)]
    return "\n".join(lines) + "\n"


def differ_section(figures: dict) -> list[str]:
    """'Where the model and the record differ, and why', in plain words, with this run's figures."""
    binds, late, shut = figures["binds"], figures["late"], figures["shut_down"]
    plan_of = {row["key"] + ":" + row["kind"]: row["plan"] for row in figures["rows"]}
    record_of = {row["key"]: row["record"] for row in figures["rows"]}

    def record(key: str) -> str:
        kind = next(row["kind"] for row in figures["rows"] if row["key"] == key)
        return figure_text(record_of[key], kind)

    second = binds["second_tranche_month"] or "the end"
    lines = [
        "## Where the model and the record differ, and why",
        "",
        "- **Radio gear took 8-12 months to arrive** (`radio_lead_time_min_2021`, `radio_lead_time_max_2021`), "
        f"and a RAN site waits for its hub and core. In the dataset {binds['cannot_meet_term']:,} of "
        f"{binds['applications']:,} applications ({binds['cannot_meet_term_wireless']:,} of the "
        f"{binds['wireless']:,} wireless ones) could not finish by their first deadline "
        f"({figures['first_deadline_month']}) even with all the money and unlimited crews, and "
        f"{binds['cannot_meet_extended']:,} not even by {', '.join(figures['deadline_months'])}. The plan needs "
        f"{late['needed_extension']:,} extensions; the record counts {record('extensions_granted_2024_07')} granted "
        f"by July 2024, when {record('certified_complete_2024_07')} applications had certified: the record does "
        "not say how the others "
        "stood (requests pending, work done but not certified).",
        f"- **Money in hand.** Before {second} the fund held {binds['first_share']:.1%} of its money, and an "
        "application may draw that share of its allocation (the tranche rule); own funds total "
        f"{money(binds['own_funds_usd'])} in all. So {binds['money_enough_early']:,} of {binds['applications']:,} "
        f"applications could pay for every site before {second}, and the plan finishes "
        f"{binds['done_before_second_tranche'] or 0:,} "
        f"before it (record: {record('share_done_2023_06')} done by June 2023, "
        f"{record('certified_complete_2024_07')} certified by July 2024, {record('completed_2024_12')} complete "
        "by December 2024). Real recipients that "
        "finished early paid the rest from money the dataset does not give them (own funds, loans, lower real "
        "costs); the planner never spends money it does not have.",
        "- **The model's carriers start work the month the money is there**, and spend the whole first share at "
        f"once: {money(plan_of['disbursed_2024_07:usd'])} of fund money spent on work by July 2024 against "
        f"{record('disbursed_2024_07')} paid out. Real recipients waited for approvals, "
        "contracts, permits and tower crews; each term ran from its own first draw-down (deadlines from "
        "September 2023 to June 2024, `share_done_2023_06`), not from one month for all.",
        "- **Claims lag the work.** Reimbursements are paid on claims, filed up to 120 days after the term "
        "(`claim_window_days`) and reviewed before payment, with status updates every 90 days "
        "(`status_update_days`); the plan's draws are the work's cost as it is done (or as it starts), so "
        f"they lead the record: {money(plan_of['claims_approved_2023_01:usd'])} by January 2023 against "
        f"{record('claims_approved_2023_01')} of claims approved.",
        f"- **After {second}** the model's carriers resume at once with full funding and "
        f"{plan_of['completed_2025_12:count']:,.0f} applications are done by December 2025 (the last site in "
        f"{figures['makespan_month']}), against the record's {record('completed_2025_12')}. The "
        f"record counts final certifications, and its counts contradict each other ({record('completed_2024_12')} "
        f"complete in December 2024, `completed_2024_12`, then {record('completed_2025_12')} in December 2025, "
        "`completed_2025_12`); the model counts the "
        "month the last site finishes.",
        "- **Shutdowns.** Under `keep_running` nobody goes dark. On this schedule "
        f"{late['people_on_late_sites']:,} people were on sites not replaced by their carrier's deadline: a "
        "program that switched covered gear off at the deadline would have cut them off, and they are the "
        "people the record's shutdown warnings were about.",
    ]
    if shut["resolved"]:
        lines.append(
            '  Re-solved with `missed_deadline = "shut_down"`, the plan leaves '
            f"{shut['people_without_service']:,} people without service: in the model a site replaced after "
            "its deadline is late, not dark (only a site never replaced goes dark), so the planner still replaces "
            "almost every late site; the figure is the people it gives up on, not those at risk."
        )
    lines += [
        "- **The dataset is invented.** Networks, costs, durations, own funds and crews are drawn, not anybody's; "
        f"one price scale brings the total to {money(figures['demand_usd'])}. Per-application figures are "
        "plausible, not facts.",
        "- **Nothing here was tuned.** The differences are the model's assumptions showing, not errors to fit "
        "away: the world is plausible, so its what-ifs (money earlier, more extensions, a shut-down rule) can "
        "be believed in direction and rough size.",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--time-limit", type=float, default=120.0, help="solver seconds per solve (default 120)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "hindcast.md", help="the page to write")
    parser.add_argument("--dataset", type=Path, default=DATASET, help="the dataset (default datasets/program126)")
    parser.add_argument(
        "--no-shut-down", action="store_true", help="skip the second solve with missed_deadline = shut_down"
    )
    args = parser.parse_args(argv)
    dataset = planner.read_dataset(args.dataset)
    scenario = presets.resolve(PRESET, base=dataset.default_scenario, issues=[])
    scenario = scenario.with_overrides(time_limit_s=args.time_limit)
    as_run = planner.plan(dataset, scenario)
    shut_down = None
    if not args.no_shut_down:
        shut_down = planner.plan(dataset, scenario.with_overrides(missed_deadline="shut_down"))
    figures = hindcast_figures(as_run, shut_down, description=presets.preset(PRESET).description)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_page(figures), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
