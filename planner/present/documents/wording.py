"""The words every report format shares: the quotable headline, figures, provenance, assumptions, glossary.

Each function returns plain rows (label, value, unit) or sentences, so the Excel, HTML and PDF
writers say exactly the same thing; `show` turns a value and its unit into the text a reader sees.
"""

from __future__ import annotations

from datetime import datetime

from planner.core.wording import STATUS_WORDS, rule_name, rule_words, usd, usd_exact
from planner.runs.folder import RunRecord
from planner.runs.provenance import utc_timestamp

# Units a value can carry; the writers format and number-format by them.
USD, USD_EXACT, PEOPLE, COUNT, MONTHS, RATIO, SECONDS, NUMBER, TEXT = (
    "usd",
    "usd_exact",
    "people",
    "count",
    "months",
    "ratio",
    "seconds",
    "number",
    "text",
)


def show(value, unit: str) -> str:
    """A value as a reader sees it: $1.90B, 1,856,039, 12 months, 0.16%, or the text itself."""
    if value is None or value == "":
        return "n/a"
    if unit == USD:
        return usd(float(value))
    if unit == USD_EXACT:
        return usd_exact(float(value))
    if unit in (PEOPLE, COUNT):
        return f"{int(value):,}"
    if unit == MONTHS:
        return f"{int(value)} months"
    if unit == RATIO:
        return f"{float(value):.2%}"
    if unit == SECONDS:
        return f"{float(value):,.1f} s"
    if unit == NUMBER:
        return f"{float(value):,.2f}".rstrip("0").rstrip(".")
    return str(value)


def headline_sentence(record: RunRecord) -> str:
    """The plan in one sentence a policy reader can quote."""
    figures = record.summary
    fund = usd_exact(figures["fund_usd"])
    reserve = figures["fund_usd"] - figures["available_usd"]
    after = f" ({usd(figures['available_usd'])} after a {usd(reserve)} administrative reserve)" if reserve > 0.5 else ""
    done, total = figures["carriers_done_by_deadline"], figures["carriers_total"]
    dark = figures["population_left_without_service"]
    return (
        f"With a {fund} fund{after} {rule_words(record.rule)}, {done} of {total} carriers replace all their "
        f"covered gear by {record.deadline_month} (the deadline, month {record.deadline} of the plan); "
        f"{dark:,} {'person is' if dark == 1 else 'people are'} left without service."
    )


def detail_sentences(record: RunRecord) -> list[str]:
    """Two more sentences: what the money buys, and how sure the solver is."""
    figures = record.summary
    replaced, total = figures["sites_replaced"], figures["sites_total"]
    money = (
        f"The plan replaces {replaced:,} of {total:,} sites, spending {usd(figures['spend_usd'])} against a demand "
        f"of {usd(figures['demand_usd'])}"
    )
    money += "; sites not replaced are shut down at the deadline." if replaced < total else "."
    gap = figures.get("gap")
    sureness = f"The schedule is {status_words(figures)}"
    sureness += f" (gap {gap:.2%})." if gap is not None else "."
    sentences = [money, sureness]
    idle = figures.get("idle_allocation_usd") or 0.0
    if idle >= 1.0:
        sentences.append(idle_sentence(record))
    return sentences


TIME_LIMIT_WORDS = "time limit"  # how the engine's notes say a carrier's solve was cut short


def time_limited(figures: dict) -> bool:
    """True when a note says the time limit stopped some solve (a carrier's, or the national model's)."""
    return any(TIME_LIMIT_WORDS in note for note in figures.get("notes", []))


def status_words(figures: dict) -> str:
    """The plan's status in a sentence, never "proven optimal" beside a note that the time limit stopped a solve.

    A plan can be within the requested gap as a whole while single carriers were cut short (their
    gaps sum to less than the gap); that is said as such.
    """
    status = figures["status"]
    if status == "optimal" and time_limited(figures):
        return (
            "within the requested gap of the best bound for the plan as a whole, though the time limit "
            "stopped some carriers' solves before each was proven (see the notes)"
        )
    return STATUS_WORDS.get(status, status)


def completion_words(row: dict) -> str:
    """A carrier's completion month, or why it has none (`not all sites replaced: 12 of 16`)."""
    text = row.get("completion")
    if isinstance(text, str) and text:
        return text
    if isinstance(row.get("completion_month"), str) and row["completion_month"]:
        return row["completion_month"]
    return f"not all sites replaced: {int(row['sites_replaced']):,} of {int(row['sites']):,}"


def idle_carriers(record: RunRecord):
    """Carriers allocated at least a dollar they cannot spend, largest idle amount first (empty for old runs)."""
    carriers = record.carriers
    if "idle_allocation_usd" not in carriers:
        return carriers.iloc[0:0]
    return carriers[carriers["idle_allocation_usd"] >= 1.0].sort_values(
        ["idle_allocation_usd", "carrier_id"], ascending=[False, True]
    )


def idle_sentence(record: RunRecord) -> str:
    """Money carriers receive but cannot use, with the worst cases named."""
    figures = record.summary
    idle = idle_carriers(record)
    named = "; ".join(
        f"{row.carrier_id} receives {usd(row.allocation_usd)} and replaces "
        f"{row.sites_replaced:,} of {row.sites:,} sites"
        for row in idle.head(3).itertuples()
    )
    return (
        f"{usd_exact(figures['idle_allocation_usd'])} allocated to {len(idle):,} carrier(s) cannot be spent: it is "
        f"less than their next whole site costs ({named}{'; ...' if len(idle) > 3 else ''})."
    )


def headline_rows(record: RunRecord) -> list[tuple[str, object, str]]:
    """(label, value, unit) of the headline figures."""
    f = record.summary
    return [
        ("Fund", f["fund_usd"], USD_EXACT),
        ("Available after the administrative reserve", f["available_usd"], USD),
        ("Demand (cost of replacing every site)", f["demand_usd"], USD),
        ("Allocated from the fund", f["allocated_usd"], USD_EXACT),
        ("Allocated but unusable (less than the next whole site)", f.get("idle_allocation_usd"), USD_EXACT),
        ("Spent on replaced sites", f["spend_usd"], USD),
        ("Sites replaced", f["sites_replaced"], COUNT),
        ("Sites in the dataset", f["sites_total"], COUNT),
        ("Carriers done by the deadline", f["carriers_done_by_deadline"], COUNT),
        ("Carriers in the dataset", f["carriers_total"], COUNT),
        ("Deadline (month from start)", f["effective_deadline"], MONTHS),
        ("Deadline month", record.deadline_month, TEXT),
        ("People served by the sites", f["population_total"], PEOPLE),
        ("People kept connected (on replaced sites)", f.get("population_kept_connected"), PEOPLE),
        ("People left without service", f["population_left_without_service"], PEOPLE),
        ("Person-months on new gear by the horizon", f.get("connected_population_months_on_new_gear"), PEOPLE),
        (
            "Exposure (population-months on covered gear; falls when people are shut down)",
            f.get("exposure_population_months"),
            PEOPLE,
        ),
    ]


def provenance_rows(record: RunRecord, generated_at: datetime | None) -> list[tuple[str, object, str]]:
    """(label, value, unit) saying where the plan came from; only 'Report made at' changes between reports."""
    f, p = record.summary, record.provenance
    libraries = ", ".join(f"{name} {version}" for name, version in sorted(p.get("libraries", {}).items()))
    run_id = f.get("run_id") or p.get("run_id")
    return [
        *([("Run", str(run_id), TEXT)] if run_id else []),
        ("Tool", f"{p.get('tool', 'rrplan')} {p.get('tool_version', 'version not recorded')}", TEXT),
        ("Git commit", p.get("git_commit") or "not recorded (not run from a git checkout)", TEXT),
        ("Dataset", f["dataset"], TEXT),
        ("Dataset SHA-256", f["dataset_sha256"] or "not recorded (dataset built in memory)", TEXT),
        ("Scenario", f["scenario"].get("name", ""), TEXT),
        ("Funding rule", f["rule"], TEXT),
        ("Solver", f["solver"], TEXT),
        ("Termination status", f"{f['status']}: {status_words(f)}".rstrip(": "), TEXT),
        ("Objective", f["objective"], NUMBER),
        ("Best bound", f["bound"], NUMBER),
        ("Gap", f["gap"], RATIO),
        ("Solve time (elapsed)", f["wall_seconds"], SECONDS),
        ("Solver time (summed over workers)", f["solve_seconds"], SECONDS),
        ("Python and libraries", f"Python {p['python']}; {libraries}" if "python" in p else None, TEXT),
        ("Plan solved at", p.get("solved_at", "not recorded"), TEXT),
        ("Run files written at", p.get("made_at", "not recorded"), TEXT),
        ("Report made at", utc_timestamp(generated_at), TEXT),
    ]


SCENARIO_LABELS = {
    "name": ("Scenario name", TEXT),
    "fund_usd": ("Fund", USD_EXACT),
    "admin_reserve_usd": ("Administrative reserve", USD_EXACT),
    "rule": ("Funding rule", TEXT),
    "start": ("First month (period 0)", TEXT),
    "horizon": ("Horizon", MONTHS),
    "deadline": ("Term (deadline before extensions)", MONTHS),
    "extensions": ("Six-month extensions granted", COUNT),
    "objective": ("Objective", TEXT),
    "time_limit_s": ("Solver time limit", SECONDS),
    "mip_gap": ("Accepted optimality gap", RATIO),
    "dark_weight": ("Weight of a person-month without service", NUMBER),
    "tranches": ("Money arrives (month and dollars)", TEXT),
    "missed_deadline": ("A site not replaced by its carrier's deadline", TEXT),
    "as_of": ("Planned from (work recorded before is kept)", TEXT),
}


def scenario_rows(record: RunRecord) -> list[tuple[str, object, str]]:
    """(label, value, unit) of every scenario field, known ones first in a fixed order, then any others."""
    scenario = record.scenario
    shown = {**scenario, "tranches": tranche_sentence(scenario), "missed_deadline": missed_deadline_words(scenario)}
    rows = [(label, shown[key], unit) for key, (label, unit) in SCENARIO_LABELS.items() if key in scenario]
    rows += [(key, _plain(scenario[key]), TEXT) for key in sorted(scenario) if key not in SCENARIO_LABELS]
    return rows


def _plain(value: object) -> object:
    """A list value (the tranches: month and dollars) as one line of text; other values as they are."""
    if isinstance(value, (list, tuple)):
        return (
            "; ".join(
                " ".join(str(part) for part in item) if isinstance(item, (list, tuple)) else str(item) for item in value
            )
            or "none"
        )
    return value


def tranche_sentence(scenario: dict) -> str:
    """'$1.895B in 2022-07, then $3.08B in 2025-04', or 'all of it in 2022-08 (the first month)'."""
    tranches = scenario.get("tranches") or ()
    if not tranches:
        return f"all of it in {scenario['start']} (the first month)"
    return ", then ".join(f"{usd(float(amount))} in {month}" for month, amount in tranches)


def missed_deadline_words(scenario: dict) -> str:
    if scenario.get("missed_deadline") == "keep_running":
        return "kept running on covered gear, late but not dark"
    return "shut down at the deadline: its people are without service"


def assumptions(record: RunRecord) -> list[str]:
    """What the figures assume, in the scenario's own numbers."""
    s = record.scenario
    if s["objective"] == "exposure":
        minimised = (
            f"population-months on covered gear, with each person-month without service weighing {s['dark_weight']:g}"
        )
    else:
        minimised = "the months until every carrier is done (makespan)"
    return [
        f"Months are counted from {s['start']} (period 0); the plan covers {record.horizon} months.",
        f"Each carrier's deadline runs from the month the fund first has money: the {s['deadline']}-month term "
        f"plus six months for each extension ({s['extensions']} by default; a carrier's own count where "
        f"carriers.csv gives one): month {record.deadline} ({record.deadline_month}) for a carrier with the "
        "default; the carriers table gives each carrier's own.",
        f"Money: the fund less the administrative reserve ({usd(record.summary['available_usd'])}) is "
        f"{rule_words(record.rule)}. It arrives {tranche_sentence(s)}; by any month a carrier has drawn at most "
        "its allocation times the share of the fund arrived, and its own funds are there from the start.",
        "A site's cost is spent evenly over its months of work; a site is replaced only if its carrier can pay "
        "its whole cost.",
        "A replaced site keeps its people on covered gear until the month its work finishes; a site not replaced "
        + (
            "keeps running on covered gear to the end of the horizon (late, not dark: as under an extension)."
            if s.get("missed_deadline") == "keep_running"
            else "is shut down at its carrier's deadline and its people are without service from then to the end "
            "of the horizon."
        ),
        "Crews: in each month a carrier's work in progress never needs more crew units of a type than it has "
        "(fewer in December to March where winter capacity is set); a site starts only after its equipment "
        "arrives (lead time) and after the sites it depends on are finished.",
        f"The solver minimises {minimised}; "
        f"it stops at a {s['mip_gap']:.2%} gap or at its time limit of {s['time_limit_s']:g} s.",
        "Figures come from the dataset named on the cover; its SHA-256 identifies the exact files.",
    ]


GLOSSARY = (
    ("Covered gear", "Network equipment from Huawei or ZTE that the FCC requires carriers to remove and replace."),
    (
        "Fund",
        "Money appropriated for reimbursement (the Secure and Trusted Communications Networks Reimbursement Program).",
    ),
    ("Administrative reserve", "Part of the fund held back and not allocated to carriers."),
    ("Demand", "The cost of replacing every site of a carrier (or of all carriers)."),
    ("Allocation", "Money from the fund assigned to a carrier by the funding rule."),
    ("Pro rata", "Every carrier receives the same fraction of its demand."),
    ("Deadline", "The term (months from the start) plus six months per extension granted (47 CFR 1.50004)."),
    ("Done by the deadline", "Every site of the carrier is replaced and its work finished by the deadline month."),
    (
        "Left without service",
        "People served by sites that are not replaced: their covered gear is shut down at the deadline.",
    ),
    ("Exposure", "People times months spent on covered gear before it is replaced or shut down."),
    ("Site", "A location whose covered gear must be replaced (core, backhaul or radio access)."),
    ("Crew unit", "A team that can work on one unit of a site's crew need in a month."),
    ("Gap", "Relative distance between the plan's objective and the best bound the solver proved; 0% is optimal."),
    ("Bound", "A value no plan can beat, proven by the solver."),
    (
        "Termination status",
        "optimal: proven within the requested gap; feasible: valid, stopped by the time "
        "limit; heuristic: valid, from list scheduling without an optimality claim.",
    ),
)


def carrier_sentence(record: RunRecord, carrier_id: str) -> str:
    """One carrier's outcome in a sentence."""
    row = record.carrier(carrier_id)
    money = row["allocation_usd"] + row["own_funds_usd"]
    text = (
        f"{row['name']} ({row['carrier_id']}, {row['state']}) receives {usd(row['allocation_usd'])} against a demand "
        f"of {usd(row['demand_usd'])}"
    )
    text += f" and has {usd(row['own_funds_usd'])} of its own" if row["own_funds_usd"] > 0 else ""
    idle = row.get("idle_allocation_usd")
    if idle is not None and idle >= 1.0:
        text += f" ({usd(idle)} of it cannot be spent: less than its next whole site costs)"
    text += (
        f"; it spends {usd(row['spend_usd'])} of the {usd(money)} available and replaces "
        f"{row['sites_replaced']:,} of {row['sites']:,} sites"
    )
    if row["on_time"]:
        text += f", finishing in {row['completion_month']}, on time."
    elif row["completion_month"]:
        text += f", finishing in {row['completion_month']}, after the deadline ({record.deadline_month})."
    else:
        left = row["population_left_without_service"]
        text += f"; {left:,} of its {row['population']:,} people are left without service."
    return text


COMPARE_FIGURES = (  # (label, summary key, unit): the Compare table, in the order the app shows it
    ("Allocated from the fund", "allocated_usd", USD_EXACT),
    ("Allocated but unusable", "idle_allocation_usd", USD_EXACT),
    ("Carriers done by the deadline", "carriers_done_by_deadline", COUNT),
    ("Sites replaced", "sites_replaced", COUNT),
    ("People kept connected", "population_kept_connected", PEOPLE),
    ("People left without service", "population_left_without_service", PEOPLE),
    ("Person-months on new gear by the horizon", "connected_population_months_on_new_gear", PEOPLE),
    ("Months on covered gear per person kept", "covered_months_per_person_kept", NUMBER),
    ("Objective (lower is better)", "objective", NUMBER),
    ("Termination status", "status", TEXT),
    ("Gap", "gap", RATIO),
)


def compare_rows(record: RunRecord) -> tuple[list[str], list[tuple[str, str, list]]]:
    """The rules' names, and per figure (label, unit, one value per rule); a figure a rule lacks is None."""
    labels = [rule_name(r.rule) for r in record.rules]
    rows = [(label, unit, [r.figures.get(key) for r in record.rules]) for label, key, unit in COMPARE_FIGURES]
    rows[:0] = [("Fund", USD_EXACT, [r.figures.get("fund_usd") for r in record.rules])]
    return labels, rows
