"""What every screen shares: the active dataset, the scenario sidebar, cached solves and number formats.

Caching lives here, in the UI layer, never in the library. A solve is keyed by the
dataset's sha256 and the scenario as a dict, so the same inputs give the same plan
instantly, across reruns, pages and browser sessions. The store is a small LRU held by
`st.cache_resource` rather than `st.cache_data`, because a cold solve must drive a
progress bar created outside the cached call (cache_data would try to replay it), and
because plans are never mutated, so handing out the same object is safe. One lock
serialises solves: this runs on small machines where two parallel solves of the same
inputs would only slow each other down.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

import planner
from planner.analysis.ontime import LEVERS, least_change_to_finish_on_time
from planner.analysis.replan import CarrierChanges, replan_carrier
from planner.core.errors import PlannerError
from planner.core.schema import RULES, Scenario
from planner.core.wording import (
    RULE_LABELS,
    STATUS_LABELS,
    of,
    people,
    person_months,
    share,
    usd,
    usd_exact,
)
from planner.inputs.presets import fund_presets
from planner.present.export import FILE_NAMES, MEDIA_TYPES, plan_report_bytes
from planner.runs.store import RunStore, StoreError
from planner.runs.sweep import record_plan

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATASET = ROOT / "datasets" / "rural40"
DATASET_ENV = "RRPLAN_DATASET"
APP_TIME_LIMIT_S = 30.0  # per national solve: rural40 needs ~25 s alone, and the first screen must show within a minute
# even on a busy 2-core machine; when the limit cuts a solve short the screen says so, with the proven gap
REPLAN_TIME_LIMIT_S = 10.0  # the largest rural40 carrier (896 sites) uses all of it; small ones take well under 1 s
STORE_SIZE = 24  # plans kept in memory (a rural40 plan with its tables is a few MB)

FUND_PRESETS = fund_presets()  # the shipped presets' funds, each cited in its preset file
CUSTOM_FUND = "Custom amount"
FUND_MIN_B, FUND_MAX_B = 0.0, 6.0

# ---------------------------------------------------------------- formats a policy reader expects

MONEY_COLUMN = "$%,d"  # whole dollars with thousands separators in tables (st.column_config)


def headline_metrics(summary: dict) -> None:
    """The national headline figures as metrics: money in one row, outcomes in the next."""
    figures = list(headline_values(summary).items())
    for row in (figures[:4], figures[4:]):
        for column, (label, value) in zip(st.columns(len(row)), row, strict=True):
            column.metric(label, value)


def headline_values(summary: dict) -> dict[str, str]:
    """The national headline figures, as shown, from `planner.summary` (the single source of the numbers)."""
    return {
        "Demand": usd(summary["demand_usd"]),
        "Allocated": usd(summary["allocated_usd"]),
        "Pro-rata factor": share(summary["pro_rata_factor"]),
        "Carriers done by the deadline": of(summary["carriers_done_by_deadline"], summary["carriers_total"]),
        "Sites replaced": of(summary["sites_replaced"], summary["sites_total"]),
        "People left without service": people(summary["population_left_without_service"]),
        "Population-months on covered gear": person_months(summary["exposure_population_months"]),
    }


def solve_note(summary: dict) -> str:
    """One honest line on how good the plan is and what it cost to find."""
    gap = summary["gap"]
    quality = STATUS_LABELS.get(summary["status"], summary["status"])
    bound = "" if gap is None else f", proven gap {gap:.1%}"
    return (
        f"Plan status: {quality}{bound}; solved in {summary['wall_seconds']:.1f} s with {summary['solver']}; "
        f"dataset {summary['dataset']} (sha256 {summary['dataset_sha256'][:12]})."
    )


def issues_table(issues) -> pd.DataFrame:
    """Input problems as the table the Data screen shows: file, row, column, rule, value, message."""
    return pd.DataFrame(
        [
            {
                "file": i.file,
                "row": i.row,
                "column": i.column,
                "rule": i.rule,
                "value": i.value,
                "message": i.message,
                "severity": i.severity,
            }
            for i in issues
        ],
        columns=["file", "row", "column", "rule", "value", "message", "severity"],
    ).astype({"row": "Int64"})


# ---------------------------------------------------------------- dataset


def dataset_folder() -> Path:
    return Path(os.environ.get(DATASET_ENV) or DEFAULT_DATASET)


@st.cache_resource(show_spinner="Reading the dataset...")
def _read_dataset(folder: str, _stamp: tuple) -> planner.Dataset:
    return planner.read_dataset(folder)


def _folder_stamp(folder: Path) -> tuple:
    """Changes when a dataset file changes, so an edited folder is read again."""
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.glob("*")) if p.is_file())


def active_dataset() -> planner.Dataset:
    """The uploaded dataset if the user chose one on the Data screen, else the folder's. Stops the page on bad input."""
    uploaded = st.session_state.get("uploaded_dataset")
    if uploaded is not None and st.session_state.get("use_uploaded"):
        return uploaded
    folder = dataset_folder()
    try:
        return _read_dataset(str(folder), _folder_stamp(folder) if folder.is_dir() else ())
    except planner.InputError as err:
        st.error(
            f"The dataset in {folder} cannot be used: {len(err.issues)} problem(s). "
            f"Fix them or point {DATASET_ENV} at another folder."
        )
        st.dataframe(issues_table(err.issues), hide_index=True)
        st.stop()


# ---------------------------------------------------------------- scenario sidebar


def _base_scenario(dataset: planner.Dataset) -> Scenario:
    base = dataset.default_scenario or Scenario()
    return base.with_overrides(time_limit_s=min(base.time_limit_s, APP_TIME_LIMIT_S))


def sidebar() -> None:
    """The scenario controls shared by every screen; the scenario they define is `current_scenario()`."""
    dataset = active_dataset()
    base = _base_scenario(dataset)
    side = st.sidebar
    side.header("Scenario")
    side.caption(
        f"Dataset: **{dataset.name}** ({len(dataset.carriers):,} carriers, {len(dataset.sites):,} sites, "
        f"demand {usd(dataset.total_demand_usd)})"
    )
    presets = list(FUND_PRESETS)
    default_preset = next((k for k, v in FUND_PRESETS.items() if abs(v - base.fund_usd) < 0.5), CUSTOM_FUND)
    choice = side.radio(
        "Fund",
        [*presets, CUSTOM_FUND],
        index=[*presets, CUSTOM_FUND].index(default_preset),
        key="fund_choice",
        help="Money Congress makes available for reimbursements.",
    )
    if choice == CUSTOM_FUND:
        fund_b = side.slider(
            "Custom fund (USD billions)",
            FUND_MIN_B,
            FUND_MAX_B,
            value=min(FUND_MAX_B, max(FUND_MIN_B, round(base.fund_usd / 1e9, 3))),
            step=0.005,
            format="$%.3fB",
            key="fund_custom_b",
        )
        fund_usd = fund_b * 1e9
    else:
        fund_usd = FUND_PRESETS[choice]
    if base.admin_reserve_usd:
        side.caption(
            f"{usd(max(0.0, fund_usd - base.admin_reserve_usd))} available after the "
            f"{usd(base.admin_reserve_usd)} administrative reserve."
        )
    rule = side.selectbox("Funding rule", RULES, index=RULES.index(base.rule), format_func=RULE_LABELS.get, key="rule")
    deadline = side.number_input(
        "Deadline (months after the start)",
        1,
        120,
        int(base.deadline),
        key="deadline",
        help=f"The term to replace everything; plans start {base.start}.",
    )
    extensions = side.number_input("Six-month extensions granted", 0, 6, int(base.extensions), key="extensions")
    horizon = side.slider("Planning horizon (months)", 12, 120, min(120, max(12, int(base.horizon))), key="horizon")
    with side.expander("Solver"):
        time_limit = st.number_input(
            "Time limit per national solve (seconds)",
            5,
            600,
            int(base.time_limit_s),
            key="time_limit_s",
            help="When it is reached the best plan found is shown, with its proven gap.",
        )
    scenario = base.with_overrides(
        fund_usd=float(fund_usd),
        rule=rule,
        deadline=int(deadline),
        extensions=int(extensions),
        horizon=int(horizon),
        time_limit_s=float(time_limit),
        name="app",
    )
    st.session_state["scenario"] = scenario
    side.caption(
        f"Deadline {scenario.month_label(scenario.effective_deadline)}; "
        f"horizon to {scenario.month_label(scenario.horizon - 1)}."
    )


def current_scenario() -> Scenario:
    scenario = st.session_state.get("scenario")
    return scenario if scenario is not None else _base_scenario(active_dataset())


# ---------------------------------------------------------------- cached solves


@dataclass(frozen=True)
class PlanViews:
    """A plan with the tables every screen reads, computed once per plan."""

    plan: planner.Plan
    summary: dict
    schedule: pd.DataFrame
    carriers: pd.DataFrame
    monthly: pd.DataFrame


class PlanStore:
    """The last `size` plans by key, shared by all sessions of this server.

    Reads take a short lock; solves take another, so a user whose plan is cached is never
    kept waiting behind another user's solve, while two solves never compete for the CPUs.
    """

    def __init__(self, size: int = STORE_SIZE) -> None:
        self.size = size
        self._plans: OrderedDict[str, PlanViews] = OrderedDict()
        self._reading = threading.Lock()
        self._solving = threading.Lock()

    def __len__(self) -> int:
        return len(self._plans)

    def __contains__(self, key: str) -> bool:
        return key in self._plans

    def get(self, key: str) -> PlanViews | None:
        with self._reading:
            if key not in self._plans:
                return None
            self._plans.move_to_end(key)
            return self._plans[key]

    def get_or_make(self, key: str, make) -> PlanViews:
        found = self.get(key)
        if found is not None:
            return found
        with self._solving:
            found = self.get(key)  # another session may have solved it while we waited
            if found is not None:
                return found
            made = make()
            with self._reading:
                self._plans[key] = made
                while len(self._plans) > self.size:
                    self._plans.popitem(last=False)
            return made


@st.cache_resource
def plan_store() -> PlanStore:
    return PlanStore()


def plan_key(dataset: planner.Dataset, scenario: Scenario, extra: str = "") -> str:
    return json.dumps([dataset.sha256 or dataset.name, scenario.to_dict(), extra], sort_keys=True, default=str)


def _views(plan: planner.Plan) -> PlanViews:
    return PlanViews(
        plan,
        planner.summary(plan),
        planner.schedule_table(plan),
        planner.carriers_table(plan),
        planner.monthly_table(plan),
    )


def is_cached(dataset: planner.Dataset, scenario: Scenario) -> bool:
    return plan_key(dataset, scenario) in plan_store()


def record(plan: planner.Plan) -> None:
    """Keep every plan the app solves in the run store (Saved runs screen); a store problem is only a warning."""

    try:
        record_plan(RunStore(), plan, source="app")
    except (StoreError, OSError) as err:
        st.warning(f"The plan was not saved to the run store: {err}")


def plan_views(dataset: planner.Dataset, scenario: Scenario, label: str = "") -> PlanViews:
    """The plan for these inputs: from the store, or solved now with a progress bar. Stops the page on failure."""
    key = plan_key(dataset, scenario)

    def solve() -> PlanViews:
        bar = st.progress(0.0, text=f"Planning {label or dataset.name}: allocating the fund...")

        def progress(done: int, total: int, carrier_id: str) -> None:
            bar.progress(
                min(1.0, done / max(1, total)),
                text=f"Planning {label or dataset.name}: {done} of {total} carriers scheduled ({carrier_id})",
            )

        with st.spinner(
            f"Solving {len(dataset.sites):,} sites ({scenario.rule}, time limit {scenario.time_limit_s:.0f} s)..."
        ):
            views = _views(planner.plan(dataset, scenario, progress=progress))
        bar.empty()
        record(views.plan)
        return views

    return _stored_or_solved(key, solve, "These settings", "produce a plan")


def _stored_or_solved(key: str, solve, inputs: str, action: str) -> PlanViews:
    """The plan under `key` from the store, or solved now; on failure, show why and stop the page."""
    try:
        return plan_store().get_or_make(key, solve)
    except planner.InputError as err:
        st.error(f"{inputs} cannot be planned: {len(err.issues)} problem(s).")
        st.dataframe(issues_table(err.issues), hide_index=True)
        st.stop()
    except PlannerError as err:
        st.error(f"The planner could not {action}: {err}")
        st.stop()


REPORT_LABELS = {"pdf": "PDF report", "xlsx": "Excel workbook", "html": "Web page (offline)"}


def report_downloads(views: PlanViews, key: str, plans_by_rule: dict | None = None) -> None:
    """Download buttons for the plan's reports; each is made only when its button is clicked.

    `plans_by_rule` ({rule: Plan}) adds the other rules' allocations to the reports.
    """

    columns = st.columns(len(REPORT_LABELS))
    for column, (fmt, label) in zip(columns, REPORT_LABELS.items(), strict=True):
        column.download_button(
            label,
            (lambda fmt=fmt: plan_report_bytes(views.plan, fmt, plans_by_rule)),
            file_name=FILE_NAMES[fmt],
            mime=MEDIA_TYPES[fmt],
            key=f"{key}_{fmt}",
            icon=":material/download:",
            on_click="ignore",
        )


def replanned_views(views: PlanViews, carrier_id: str, changes: CarrierChanges) -> PlanViews:
    """One carrier re-planned alone after an engineer's changes (cached by plan, carrier and changes)."""
    key = plan_key(views.plan.dataset, views.plan.scenario, f"replan:{carrier_id}:{changes!r}")

    def solve() -> PlanViews:
        with st.spinner(f"Re-planning {carrier_id} (time limit {REPLAN_TIME_LIMIT_S:.0f} s)..."):
            return _views(replan_carrier(views.plan, carrier_id, changes, time_limit_s=REPLAN_TIME_LIMIT_S))

    return _stored_or_solved(key, solve, "These changes", f"re-plan {carrier_id}")


def month_options(scenario: Scenario, horizon: int) -> list[str]:
    return [scenario.month_label(t) for t in range(horizon)]


# ---------------------------------------------------------------- carrier screen (issue 13, carrier engineers)


def changes_sentence(changes: CarrierChanges) -> str:
    """An engineer's re-plan changes in one line: "tower crews 4 per month, 2 in winter; lead times -2 months"."""
    if changes.is_empty:
        return "no changes"
    parts = [f"{kind} crews {capacity:g} per month, {winter:g} in winter" for kind, capacity, winter in changes.crews]
    if changes.lead_time_change_months:
        parts.append(f"lead times {changes.lead_time_change_months:+d} months")
    if changes.own_funds_usd is not None:
        parts.append(f"own funds {usd(changes.own_funds_usd)}")
    return "; ".join(parts)


@st.cache_resource
def _least_change_store() -> dict:
    return {}


def least_changes(views: PlanViews, carrier_id: str, compute: bool = False) -> list | None:
    """The least money, crews and lead-time relief for the carrier to be on time: stored, computed now, or None.

    Each lever takes a few re-plans of the carrier (see `planner.analysis.ontime`), so they are
    computed only when asked for, and kept for every session by plan and carrier.
    """
    key = plan_key(views.plan.dataset, views.plan.scenario, f"least:{carrier_id}")
    store = _least_change_store()
    if key in store or not compute:
        return store.get(key)
    results = []
    bar = st.progress(0.0, text=f"Searching what would make {carrier_id} on time...")
    for index, lever in enumerate(LEVERS):
        bar.progress(index / len(LEVERS), text=f"Searching the least {lever} for {carrier_id} (re-planning it)...")

        def shown(trial, index=index, lever=lever) -> None:
            bar.progress(
                index / len(LEVERS),
                text=f"Searching the least {lever} for {carrier_id}: tried {trial.value:,.3g}, "
                + ("on time" if trial.on_time else "late")
                + " (each try re-plans the carrier)...",
            )

        results.append(
            least_change_to_finish_on_time(
                views.plan, carrier_id, lever, time_limit_s=REPLAN_TIME_LIMIT_S, on_trial=shown
            )
        )
    bar.empty()
    store[key] = results
    return results


# ---------------------------------------------------------------- uploads (issue 13, carrier engineers)

SCENARIO_CONTROL_KEYS = ("fund_choice", "fund_custom_b", "rule", "deadline", "extensions", "horizon", "time_limit_s")


def reset_scenario_controls() -> None:
    """Forget the sidebar's settings, so it starts again from the (new) dataset's own scenario.

    A widget with a key keeps its value across reruns and ignores its default from then on:
    without this, a dataset uploaded with its own scenario.toml ($15M) was planned with the
    fund still selected for the previous dataset ($1.895B).
    """
    for key in SCENARIO_CONTROL_KEYS:
        st.session_state.pop(key, None)
    st.session_state.pop("scenario", None)


def scenario_table(scenario: Scenario) -> pd.DataFrame:
    """A scenario as a two-column table a reader checks at a glance (exact fund, rule in words, months)."""
    rows = [
        ("Fund", usd_exact(scenario.fund_usd)),
        ("Administrative reserve", usd_exact(scenario.admin_reserve_usd)),
        ("Funding rule", RULE_LABELS.get(scenario.rule, scenario.rule)),
        ("Start", scenario.start),
        ("Deadline", f"{scenario.deadline} months ({scenario.month_label(scenario.deadline)})"),
        ("Six-month extensions", f"{scenario.extensions}"),
        ("Horizon", f"{scenario.horizon} months"),
        ("Objective", scenario.objective),
        ("Solver time limit", f"{scenario.time_limit_s:g} s"),
    ]
    return pd.DataFrame(rows, columns=["setting", "value"])


def issues_table_with_ids(issues, row_ids: dict) -> pd.DataFrame:
    """`issues_table` with the id (site or carrier) of the row each problem is in, next to the row number."""
    table = issues_table(issues)
    table.insert(2, "id", [row_ids.get((i.file, i.row), "") for i in issues])
    return table
