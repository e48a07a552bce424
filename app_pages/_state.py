"""What every screen shares: the active dataset, the scenario sidebar, cached solves and number formats.

Caching lives here, in the UI layer, never in the library. A solve is keyed by the
dataset's sha256 and the scenario as a dict, so the same inputs give the same plan
instantly, across reruns, pages and browser sessions. The store is a small LRU held by
`st.cache_resource` rather than `st.cache_data`, because a cold solve must drive a
progress bar created outside the cached call (cache_data would try to replay it), and
because plans are never mutated, so handing out the same object is safe. One lock
serialises solves: this runs on small machines where two parallel solves of the same
inputs would only slow each other down.

A new scenario is solved in a background thread (`SolveJob`), not in the script: it goes on
when the user changes page or the script reruns, the page shows a preview plan (the list
schedules the solver starts from) and the solve's progress while it waits, and a Cancel button
stops it (`planner.plan(cancel=...)`).
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

import planner
from planner.analysis.marginal_value import value_of_money
from planner.analysis.ontime import LEVERS, least_change_to_finish_on_time
from planner.analysis.replan import CarrierChanges, replan_carrier
from planner.analysis.reports import FALLBACK_NOTE
from planner.core.clock import tranche_words, with_fund
from planner.core.errors import Cancelled, PlannerError
from planner.core.files import csv_text
from planner.core.schema import RULES, Scenario
from planner.core.wording import (
    RULE_LABELS,
    RULE_NAMES,
    STATUS_LABELS,
    of,
    people,  # noqa: F401 (the Carrier screen uses _state.people)
    person_months,
    share,
    usd,
    usd_exact,
)
from planner.inputs.presets import fund_presets
from planner.present.documents.wording import time_limited
from planner.present.documents.xlsx import table_workbook_bytes
from planner.present.export import MEDIA_TYPES, plan_report_bytes, report_file_name, run_name
from planner.present.images import IMAGE_FORMATS, figure_image, image_browser
from planner.runs.store import RunStore, StoreError
from planner.runs.sweep import record_plan

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATASET = ROOT / "datasets" / "program126"  # the program's size (issue 14); rural40 is the smaller one
DATASET_ENV = "RRPLAN_DATASET"
REPLAN_TIME_LIMIT_S = 10.0  # a safety net: rural40's largest carrier (896 sites) re-plans in about 2 s
STORE_SIZE = 24  # plans kept in memory (a program126 plan with its tables is a few MB)

FUND_PRESETS = fund_presets()  # the shipped presets' funds, each cited in its preset file
CUSTOM_FUND = "Custom amount"
MISSED_DEADLINE_CHOICES = ("shut_down", "keep_running")
MISSED_DEADLINE_LABELS = {"shut_down": "is shut down (people lose service)", "keep_running": "keeps running, late"}
FUND_MIN_M, FUND_MAX_M = 0.0, 6_000.0  # the custom fund, in USD millions (to the thousand dollars)


def custom_fund_m(fund_usd: float) -> float:
    """A fund as the custom-fund control holds it: USD millions to the thousand dollars, within its range."""
    return min(FUND_MAX_M, max(FUND_MIN_M, round(fund_usd / 1e6, 3)))


# ---------------------------------------------------------------- formats a policy reader expects

MONEY_COLUMN = "$%,d"  # whole dollars with thousands separators in tables (st.column_config)


METRICS_PER_ROW = 4  # at most, on a wide screen; the grid wraps to fewer on a narrow one
METRIC_WIDTH_PX = 168  # two metrics fit side by side on a phone (about 360 px of page)
METRIC_GAP_PX = 16  # Streamlit's "small" gap
HEADLINE_STYLE = "<style>.st-key-headline_grid [data-testid='stMetricValue'] {font-size: 1.45rem;}</style>"
GRID_WIDTH_PX = METRICS_PER_ROW * METRIC_WIDTH_PX + (METRICS_PER_ROW - 1) * METRIC_GAP_PX + 20  # room for 4, not 5


def headline_metrics(summary: dict) -> None:
    """The national headline figures as a compact grid that wraps: at most METRICS_PER_ROW a row on a wide
    screen, two on a phone (st.columns would stack them one per row there); each with its tooltip."""
    # Values such as "1,303 of 4,184" must fit a phone-sized metric: a smaller font than Streamlit's default.
    st.markdown(HEADLINE_STYLE, unsafe_allow_html=True)
    with st.container(horizontal=True, gap="small", width=GRID_WIDTH_PX, key="headline_grid"):
        for label, value in headline_values(summary).items():
            st.metric(label, value, help=HEADLINE_HELP.get(label), width=METRIC_WIDTH_PX)


# What each headline figure counts, and which way is better (shown as the metric's tooltip).
HEADLINE_HELP = {
    "Demand": "The cost of replacing every site of every carrier.",
    "Allocated": "Money from the fund assigned to carriers by the funding rule.",
    "Pro-rata factor": "The share of its demand every carrier receives under pro rata (n/a under other rules).",
    "Unusable allocation": "Allocations carriers cannot spend: too little for their next whole site, so "
    "it buys nothing unless it is moved. Less is better.",
    "Carriers on time": "Carriers done by the deadline: every site replaced by then. More is better.",
    "Sites replaced": "Sites whose covered gear is replaced within the horizon. More is better.",
    "People connected": "People served by replaced sites: they move to new gear and never lose service. "
    "More is better.",
    "Left without service": "People left without service, served by sites not replaced: their covered "
    "gear is shut down at the deadline. Fewer is better.",
    "Person-months served": "Person-months connected on new gear by the end of the horizon: people on "
    "replaced sites times the months "
    "from their site's finish to the horizon; sooner and more replacements both raise it. More is better.",
    "Wait for new gear": "Months on covered gear per person kept connected: the average wait, from "
    "the start, before their site is on new gear. Fewer is better.",
}


def headline_values(summary: dict) -> dict[str, str]:
    """The national headline figures, as shown, from `planner.summary` (the single source of the numbers).

    Each is named so that its direction is plain; exposure (population-months on covered gear) is not
    shown, because it falls when less money shuts more people down.
    """
    wait = summary.get("covered_months_per_person_kept")
    return {
        "Demand": usd(summary["demand_usd"]),
        "Allocated": usd(summary["allocated_usd"]),
        "Pro-rata factor": share(summary["pro_rata_factor"]),
        "Unusable allocation": usd(summary["idle_allocation_usd"]),
        "Carriers on time": of(summary["carriers_done_by_deadline"], summary["carriers_total"]),
        "Sites replaced": of(summary["sites_replaced"], summary["sites_total"]),
        "People connected": f"{summary['population_kept_connected']:,}",  # the label says people; short for a phone
        "Left without service": f"{summary['population_left_without_service']:,}",
        "Person-months served": person_months(summary["connected_population_months_on_new_gear"]),
        "Wait for new gear": "n/a" if wait is None else f"{wait:.1f} months",
    }


def plan_notes(summary: dict) -> None:
    """The plan's notes on screen; a fallback to the pro-rata allocation is a warning, not a footnote."""
    if summary.get("kept_pro_rata_allocation"):
        st.warning(
            "The optimal rule kept the pro-rata allocation: the optimiser's own allocation scored no better "
            "within the time limit, so this plan is the pro-rata plan. A longer time limit (sidebar, Solver) "
            "may find a better one.",
            icon=":material/warning:",
        )
    for note in summary["notes"]:
        if FALLBACK_NOTE not in note:
            st.info(note)


def status_label(summary: dict) -> str:
    """The plan's status in a few words; never "optimal" alone beside a note that the time limit cut a solve."""
    if summary["status"] == "optimal" and time_limited(summary):
        return "within the gap as a whole; the time limit cut some carriers' solves short (see the notes)"
    return STATUS_LABELS.get(summary["status"], summary["status"])


def solve_note(summary: dict) -> str:
    """One honest line on how good the plan is and what it cost to find."""
    gap = summary["gap"]
    quality = status_label(summary)
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
    """The dataset's own scenario, time limit included: the app's plan is the one `rrplan solve` makes."""
    return dataset.default_scenario or Scenario()


def _unless_set(key: str, parameter: str, default) -> dict:
    """`{parameter: default}`, or nothing when the widget's value is in session state already.

    "Open in the app" (Saved runs) sets the sidebar's widgets through session state; a widget given a
    default as well would make Streamlit print a warning on screen.
    """
    return {} if key in st.session_state else {parameter: default}


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
        key="fund_choice",
        **_unless_set("fund_choice", "index", [*presets, CUSTOM_FUND].index(default_preset)),
        help="Money Congress makes available for reimbursements.",
    )
    if choice == CUSTOM_FUND:
        fund_m = side.number_input(
            "Custom fund (USD millions)",
            FUND_MIN_M,
            FUND_MAX_M,
            step=5.0,
            format="%.3f",
            key="fund_custom_m",
            help="Any amount from $0 to $6B, to the thousand dollars: 1895 is the 2020 appropriation, 12.5 is $12.5M.",
            **_unless_set("fund_custom_m", "value", custom_fund_m(base.fund_usd)),
        )
        fund_usd = round(fund_m * 1e6)
        side.caption(f"Fund: {usd_exact(fund_usd)}")
    else:
        fund_usd = FUND_PRESETS[choice]
    if base.admin_reserve_usd:
        side.caption(
            f"{usd(max(0.0, fund_usd - base.admin_reserve_usd))} available after the "
            f"{usd(base.admin_reserve_usd)} administrative reserve."
        )
    rule = side.selectbox(
        "Funding rule",
        RULES,
        format_func=RULE_LABELS.get,
        key="rule",
        **_unless_set("rule", "index", RULES.index(base.rule)),
    )
    deadline = side.number_input(
        "Deadline (months after the start)",
        1,
        120,
        key="deadline",
        help=f"The term to replace everything; plans start {base.start}.",
        **_unless_set("deadline", "value", int(base.deadline)),
    )
    extensions = side.number_input(
        "Six-month extensions granted",
        0,
        6,
        key="extensions",
        **_unless_set("extensions", "value", int(base.extensions)),
    )
    horizon = side.slider(
        "Planning horizon (months)",
        12,
        120,
        key="horizon",
        **_unless_set("horizon", "value", min(120, max(12, int(base.horizon)))),
    )
    keep_tranches = True
    if base.tranches:
        keep_tranches = side.checkbox(
            "Money arrives in the scenario's tranches",
            key="keep_tranches",
            help=f"The scenario's calendar: {tranche_words(base)}. A carrier draws at most its share of what has "
            "arrived. Another fund keeps the calendar, each tranche scaled by the same factor; unticked, all the "
            "money is there at the start.",
            **_unless_set("keep_tranches", "value", True),
        )
    missed = side.selectbox(
        "A site not replaced by its carrier's deadline",
        MISSED_DEADLINE_CHOICES,
        format_func=MISSED_DEADLINE_LABELS.get,
        key="missed_deadline",
        help="Shut down: its people lose service at the deadline (the program's rule). Kept running: it stays on "
        "covered gear, late but not dark (as when extensions are granted).",
        **_unless_set("missed_deadline", "index", MISSED_DEADLINE_CHOICES.index(base.missed_deadline)),
    )
    with side.expander("Solver"):
        time_limit = st.number_input(
            "Time limit per national solve (seconds)",
            5,
            600,
            key="time_limit_s",
            **_unless_set("time_limit_s", "value", int(base.time_limit_s)),
            help="When it is reached the best plan found is shown, with its proven gap.",
        )
    scenario = with_fund(base, float(fund_usd), keep_tranches).with_overrides(
        missed_deadline=missed,
        rule=rule,
        deadline=int(deadline),
        extensions=int(extensions),
        horizon=int(horizon),
        time_limit_s=float(time_limit),
    )
    scenario = auto_named(scenario)  # runs, reports and the run store name it by fund / rule / deadline
    st.session_state["scenario"] = scenario
    pin_control(side, scenario)
    own_extensions = sum(1 for c in active_dataset().carriers if c.extensions is not None)
    side.caption(
        f"Money: {tranche_words(scenario)}. Each carrier's deadline runs from the first money: "
        f"{scenario.month_label(scenario.effective_deadline)} with the scenario's extensions"
        + (f" ({own_extensions} carriers have their own extensions)" if own_extensions else "")
        + f"; horizon to {scenario.month_label(scenario.horizon - 1)}."
    )


PINNED = "pinned_scenarios"  # session state: {label: Scenario}, in the order pinned


def pinned_scenarios() -> dict[str, Scenario]:
    return st.session_state.setdefault(PINNED, {})


def pin_control(side, scenario: Scenario) -> None:
    """Name the sidebar's scenario and pin it to the Scenarios screen's grid (the scenario itself keeps its
    automatic name, so a pinned scenario is the very plan the other screens show: one answer, one cache)."""
    with side.form("pin_scenario", clear_on_submit=True, border=False):
        label = st.text_input(
            "Name this scenario",
            key="pin_label",
            placeholder=scenario.name,
            help="Pinned scenarios are compared side by side on the Scenarios screen.",
        )
        if st.form_submit_button("Pin to the Scenarios screen", icon=":material/push_pin:", key="pin_go"):
            pinned = pinned_scenarios()
            name = (label or scenario.name).strip()
            pinned.pop(name, None)
            pinned[name] = scenario
            st.toast(f"Pinned: {name} ({len(pinned)} pinned)")


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
    run_id: int | None = None  # the plan's id in the run store (Saved runs), when it was recorded


@dataclass(eq=False)
class SolveJob:
    """One scenario being solved in a background thread, shared by every session that asks for it.

    The thread fills in `preview` (a valid plan in under a second), then `result` or `error`,
    then sets `finished`; `progress` holds what the solve last reported.
    """

    label: str
    started: float = field(default_factory=time.monotonic)
    cancel: threading.Event = field(default_factory=threading.Event)
    sessions: set[str] = field(default_factory=set)  # the browser sessions waiting for it; the last to cancel stops it
    finished: threading.Event = field(default_factory=threading.Event)
    progress: dict = field(default_factory=lambda: {"done": 0, "total": 0, "carrier": "", "waiting": False})
    preview: PlanViews | None = None
    result: PlanViews | None = None
    error: BaseException | None = None
    warning: str = ""

    def status_text(self) -> str:
        seconds = time.monotonic() - self.started
        latest = self.progress
        if latest["waiting"]:
            return f"Solving {self.label}: waiting for another solve to end ({seconds:.0f} s)"
        if latest["total"]:
            return (
                f"Solving {self.label}: {latest['done']} of {latest['total']} carriers scheduled "
                f"({latest['carrier']}), {seconds:.0f} s"
            )
        return f"Solving {self.label}: allocating the fund and building the models ({seconds:.0f} s)"

    def fraction(self) -> float:
        total = self.progress["total"]
        return min(1.0, self.progress["done"] / total) if total else 0.0


class PlanStore:
    """The last `size` plans by key, shared by all sessions of this server, and the solves under way.

    Reads take a short lock; solves take another, so a user whose plan is cached is never
    kept waiting behind another user's solve, while two solves never compete for the CPUs.
    """

    def __init__(self, size: int = STORE_SIZE) -> None:
        self.size = size
        self._plans: OrderedDict[str, PlanViews] = OrderedDict()
        self._jobs: dict[str, SolveJob] = {}
        self._reading = threading.Lock()
        self._solving = threading.Lock()

    def _keep(self, key: str, made: PlanViews) -> None:
        with self._reading:
            self._plans[key] = made
            while len(self._plans) > self.size:
                self._plans.popitem(last=False)

    def solve_job(
        self, key: str, label: str, dataset: planner.Dataset, scenario: Scenario, session: str, again: bool = False
    ) -> SolveJob:
        """The background solve of these inputs for this browser session: a finished one (the plan is stored),
        the one under way, or a new one. A failed solve is kept, and given again, until `again` asks for a new
        try; a cancelled one is started afresh (its session remembers it cancelled, and does not ask)."""
        with self._reading:
            if key in self._plans:
                done = SolveJob(label, result=self._plans[key])
                done.finished.set()
                return done
            job = self._jobs.get(key)
            cancelled = job is not None and job.finished.is_set() and isinstance(job.error, Cancelled)
            if job is None or cancelled or (again and job.finished.is_set()):
                job = SolveJob(label)
                self._jobs[key] = job
                worker = threading.Thread(
                    target=self._solve, args=(key, job, dataset, scenario), name="rrplan-solve", daemon=True
                )
                worker.start()
            job.sessions.add(session)
            return job

    def cancel(self, job: SolveJob, session: str) -> None:
        """This session no longer wants the job; it stops when no session does."""
        with self._reading:
            job.sessions.discard(session)
            if not job.sessions:
                job.cancel.set()

    def _solve(self, key: str, job: SolveJob, dataset: planner.Dataset, scenario: Scenario) -> None:
        def progress(done: int, total: int, carrier_id: str) -> None:
            job.progress.update(done=done, total=total, carrier=carrier_id)

        try:
            job.preview = _views(planner.preview_plan(dataset, scenario))
            job.progress["waiting"] = True
            while not self._solving.acquire(timeout=PROGRESS_POLL_S):  # another solve holds the CPUs
                if job.cancel.is_set():
                    raise Cancelled("the solve was cancelled before it started; no plan was made")
            try:
                job.progress["waiting"] = False
                plan = planner.plan(dataset, scenario, progress=progress, cancel=job.cancel)
            finally:
                self._solving.release()
            run_id, job.warning = record(plan)
            job.result = replace(_views(plan), run_id=run_id)
            self._keep(key, job.result)
        except BaseException as err:  # handed to the page that waits on the job, which reports it
            job.error = err.with_traceback(None)  # the frames would keep the solve's models alive
        finally:
            job.preview = None  # only shown while the solve runs
            with self._reading:
                job.finished.set()
                if (job.result is not None or isinstance(job.error, Cancelled)) and self._jobs.get(key) is job:
                    del self._jobs[key]  # stored, or nothing to keep; a failure stays until asked again

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
            self._keep(key, made)
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


def record(plan: planner.Plan) -> tuple[int | None, str]:
    """Keep every plan the app solves in the run store (Saved runs screen): its run id and "", or None and
    why the store could not take it (a store problem is only a warning, shown by the page)."""
    try:
        return record_plan(RunStore(), plan, source="app"), ""
    except (StoreError, OSError) as err:
        return None, f"The plan was not saved to the run store: {err}"


PROGRESS_POLL_S = 0.25  # how often the page redraws the progress bar while a solve runs
CANCELLED_KEY = "cancelled_solves"  # session state: the plan keys this user cancelled
HIDE_STALE_STYLE = (  # elements, and blocks (expanders, columns) holding no fresh element
    "<style>[data-testid='stMain'] [data-stale='true'], "
    "[data-testid='stMain'] [data-testid='stLayoutWrapper']:not(:has([data-stale='false'])) {display: none;}</style>"
)


def session_id() -> str:
    """This browser session's id (one per tab), or "" outside a Streamlit run."""
    context = get_script_run_ctx()
    return context.session_id if context is not None else ""


def widget_key(prefix: str, key: str) -> str:
    """A widget key unique to a plan key (labels such as pinned names may share a file stem)."""
    return f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def cancel_solve(key: str, job: SolveJob) -> None:
    """The Cancel button's callback: this session gives the solve up at once (before the rerun it causes)."""
    st.session_state.setdefault(CANCELLED_KEY, set()).add(key)
    plan_store().cancel(job, session_id())


def start_solves(dataset: planner.Dataset, scenarios: dict[str, Scenario]) -> None:
    """Start solving these scenarios ({label: scenario}) in the background, one after another, unless stored or
    under way; the user asked for them, so an earlier cancel of the same inputs no longer holds. A screen that
    needs several plans starts them all, then waits for each (`plan_views`)."""
    cancelled = st.session_state.setdefault(CANCELLED_KEY, set())
    for label, scenario in scenarios.items():
        key = plan_key(dataset, scenario)
        cancelled.discard(key)
        plan_store().solve_job(key, label, dataset, scenario, session_id())


def plan_views(dataset: planner.Dataset, scenario: Scenario, label: str = "") -> PlanViews:
    """The plan for these inputs: from the store, or solved in the background while the page shows a preview,
    the progress and a Cancel button. Stops the page on failure or cancel."""
    key = plan_key(dataset, scenario)
    found = plan_store().get(key)
    if found is not None:
        return found
    label = label or dataset.name
    cancelled = st.session_state.setdefault(CANCELLED_KEY, set())
    if key in cancelled:
        st.info(f"You cancelled the solve of {label}. Change the settings, or solve these again.")
        st.button("Solve again", key=widget_key("resolve", key), on_click=cancelled.discard, args=(key,))
        st.stop()
    again = st.session_state.pop(widget_key("retry", key), False)
    job = plan_store().solve_job(key, label, dataset, scenario, session_id(), again=again)
    views = wait_for(job, key, label, dataset, scenario)
    if job.warning:
        st.warning(job.warning)
    return views


def wait_for(job: SolveJob, key: str, label: str, dataset: planner.Dataset, scenario: Scenario) -> PlanViews:
    """Show the job's preview, progress and a Cancel button until it ends; its plan, or stop the page."""
    slot = st.empty()
    with slot.container(border=True):
        # The previous scenario's figures stay on the page, marked stale, until this run replaces them: hidden
        # while this one solves, so the preview is never read beside figures that belong to other settings.
        st.markdown(HIDE_STALE_STYLE, unsafe_allow_html=True)
        bar = st.progress(job.fraction(), text=job.status_text())
        preview = st.empty()
        st.button(
            "Cancel this solve",
            key=widget_key("cancel", key),
            on_click=cancel_solve,
            args=(key, job),
            icon=":material/cancel:",
            help="Stop the solve; nothing is kept. The figures above are the preview until it ends.",
        )
    shown = False
    while not job.finished.wait(PROGRESS_POLL_S):
        drawn = job.preview  # the solving thread drops it when it ends
        if drawn is not None and not shown:
            preview.markdown(preview_text(drawn))
            shown = True
        bar.progress(job.fraction(), text=job.status_text())
    slot.empty()
    if isinstance(job.error, Cancelled):
        if key in st.session_state.get(CANCELLED_KEY, set()):
            st.rerun()  # the page now says this session cancelled it and offers to solve again
        # the solve ended on a cancel as this session joined it: start it again, and wait for that one
        plan_store().solve_job(key, label, dataset, scenario, session_id())
        st.rerun()
    if isinstance(job.error, planner.InputError):
        input_problems("These settings", job.error)
    if job.error is not None:
        words = str(job.error) if isinstance(job.error, PlannerError) else f"{type(job.error).__name__}: {job.error}"
        st.error(f"The planner could not produce a plan: {words}")
        st.button(
            "Try again",
            key=widget_key("try_again", key),
            on_click=st.session_state.__setitem__,
            args=(widget_key("retry", key), True),
        )
        st.stop()
    assert job.result is not None
    return job.result


def preview_text(views: PlanViews) -> str:
    """The preview plan's key figures in one line, marked as a preview."""
    figures = headline_values(views.summary)
    return (
        "**Preview while the solver works** (list schedules of the allocation, the plan it starts from; "
        f"the solved plan scores at least as well): {figures['Left without service']} people left without service, "
        f"{figures['Sites replaced']} sites replaced, {figures['Carriers on time']} carriers on time."
    )


def input_problems(inputs: str, err: planner.InputError) -> NoReturn:
    """Say that these inputs cannot be planned, list every problem, and stop the page."""
    st.error(f"{inputs} cannot be planned: {len(err.issues)} problem(s).")
    st.dataframe(issues_table(err.issues), hide_index=True)
    st.stop()


def _stored_or_solved(key: str, solve, inputs: str, action: str) -> PlanViews:
    """The plan under `key` from the store, or solved now; on failure, show why and stop the page."""
    try:
        return plan_store().get_or_make(key, solve)
    except planner.InputError as err:
        input_problems(inputs, err)
    except PlannerError as err:
        st.error(f"The planner could not {action}: {err}")
        st.stop()


REPORT_LABELS = {"pdf": "PDF report", "xlsx": "Excel workbook", "html": "Web page (offline)"}


def report_downloads(views: PlanViews, key: str, plans_by_rule: dict | None = None) -> None:
    """Download buttons for the plan's reports, named by run (`plan-<run>.pdf`); each made only when clicked.

    `plans_by_rule` ({rule: Plan}) adds the other rules' allocations (and a Compare sheet) to the reports.
    """

    provenance = {"solved_at": views.plan.solved_at, "run_id": views.run_id}
    columns = st.columns(len(REPORT_LABELS))
    run = f"Run {views.run_id}: plan" if views.run_id is not None else "Plan"
    for column, (fmt, label) in zip(columns, REPORT_LABELS.items(), strict=True):
        column.download_button(
            label,
            (lambda fmt=fmt: plan_report_bytes(views.plan, fmt, plans_by_rule, run_id=views.run_id)),
            file_name=report_file_name(views.summary, provenance, fmt),
            mime=MEDIA_TYPES[fmt],
            key=f"{key}_{fmt}",
            icon=":material/download:",
            on_click="ignore",
            help=f"{run} solved at {views.plan.solved_at}; the report says when it was made.",
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
def _carrier_answers() -> dict:
    """Answers computed for one carrier of one plan (least changes, value of money), by plan key, for every session."""
    return {}


def least_changes(views: PlanViews, carrier_id: str, compute: bool = False) -> list | None:
    """The least money, crews and lead-time relief for the carrier to be on time: stored, computed now, or None.

    Each lever takes a few re-plans of the carrier (see `planner.analysis.ontime`), so they are
    computed only when asked for, and kept for every session by plan and carrier.
    """
    key = plan_key(views.plan.dataset, views.plan.scenario, f"least:{carrier_id}")
    store = _carrier_answers()
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

SCENARIO_CONTROL_KEYS = (
    "fund_choice",
    "fund_custom_m",
    "keep_tranches",
    "missed_deadline",
    "rule",
    "deadline",
    "extensions",
    "horizon",
    "time_limit_s",
)


def set_scenario_controls(scenario: Scenario | dict) -> None:
    """Set the sidebar's widgets to this scenario (a stored run's, or a newly used dataset's own).

    Call it from a button's callback, which runs before the sidebar is drawn. The values are set,
    not forgotten: a keyed widget keeps the value the browser last showed unless session state
    says otherwise, so an uploaded $15M scenario was planned at the $1.895B the radio still showed.
    """
    values = scenario.to_dict() if isinstance(scenario, Scenario) else scenario
    state = st.session_state
    fund = float(values.get("fund_usd", 0.0))
    preset = next((label for label, value in FUND_PRESETS.items() if abs(value - fund) < 0.5), None)
    state["fund_choice"] = preset or CUSTOM_FUND
    state["fund_custom_m"] = custom_fund_m(fund)
    if values.get("rule") in RULES:
        state["rule"] = values["rule"]
    state["deadline"] = min(120, max(1, int(values.get("deadline", Scenario().deadline))))
    state["extensions"] = min(6, max(0, int(values.get("extensions", 0))))
    state["horizon"] = min(120, max(12, int(values.get("horizon", Scenario().horizon))))
    state["time_limit_s"] = min(600, max(5, int(values.get("time_limit_s", Scenario().time_limit_s))))
    state["keep_tranches"] = bool(values.get("tranches", True))  # a run solved without them reopens without
    if values.get("missed_deadline") in MISSED_DEADLINE_CHOICES:
        state["missed_deadline"] = values["missed_deadline"]
    state.pop("scenario", None)


def use_dataset(dataset: planner.Dataset | None) -> None:
    """A button callback: plan with this uploaded dataset (None: the default one again), the sidebar set to
    the dataset's own scenario."""
    st.session_state["use_uploaded"] = dataset is not None
    if dataset is not None:
        st.session_state["uploaded_dataset"] = dataset
    try:
        folder = dataset_folder()
        chosen = dataset if dataset is not None else _read_dataset(str(folder), _folder_stamp(folder))
    except planner.InputError:  # the folder's dataset is broken: the page says why; the sidebar starts afresh
        for key in SCENARIO_CONTROL_KEYS:
            st.session_state.pop(key, None)
        return
    set_scenario_controls(_base_scenario(chosen))


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


# ---------------------------------------------------------------- memo-ready figures and tables

IMAGE_EXPORT = image_browser() is not None  # kaleido draws PNG and SVG in the machine's own Chrome or Chromium


def scenario_title(scenario: Scenario) -> str:
    """The scenario's own name, or `$1.895B / pro rata / deadline 2025-07` for the app's unnamed ones."""
    if scenario.name and scenario.name != "app":
        return scenario.name
    return auto_title(scenario)


def auto_named(scenario: Scenario) -> Scenario:
    """The scenario named by its fund, rule and deadline, as the sidebar and Compare name theirs (so a rule
    compared is the same scenario, and the same cached plan, as that rule chosen in the sidebar)."""
    return scenario.with_overrides(name=auto_title(scenario))


def auto_title(scenario: Scenario) -> str:
    return (
        f"{money_short(scenario.fund_usd)} / {RULE_NAMES.get(scenario.rule, scenario.rule)} / "
        f"deadline {scenario.month_label(scenario.effective_deadline)}"
    )


def money_short(amount_usd: float) -> str:
    """$1.895B, $4.98B, $15M: as precise as the amount was typed (six digits), shorter than whole dollars."""
    for suffix, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(amount_usd) >= scale:
            return f"${amount_usd / scale:.6g}{suffix}"
    return f"${amount_usd:,.0f}"


def source_text(dataset: planner.Dataset) -> str:
    sha = dataset.sha256 or ""
    return f"dataset {dataset.name}" + (f" (sha256 {sha[:12]})" if sha else " (built in memory, no sha256)")


def plan_caption(what: str, views: PlanViews) -> str:
    """`<what>. Scenario ...; source ...; plan solved at ...`: what a memo's figure caption must carry."""
    plan = views.plan
    return (
        f"{what}. Scenario: {scenario_title(plan.scenario)}. Source: rrplan, {source_text(plan.dataset)}. "
        f"Plan solved at {plan.solved_at}."
    )


def dated_caption(what: str, scenario_text: str, dataset: planner.Dataset) -> str:
    """A caption for figures of several plans (sweeps, stored runs): dated when it was drawn."""
    today = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{what}. Scenario: {scenario_text}. Source: rrplan, {source_text(dataset)}. Drawn {today}."


def file_stem(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in text).strip("-")[:80] or "figure"


def csv_bytes(table: pd.DataFrame, caption: str) -> bytes:
    """The table as CSV, its caption on the first line (a `#` comment: `pd.read_csv(comment="#")` skips it)."""
    safe = table.copy()
    for column in safe.columns:
        if safe[column].dtype == object:
            safe[column] = safe[column].map(lambda v: csv_text(v) if isinstance(v, str) else v)
    return ("# " + caption.replace("\n", " ") + "\n" + safe.to_csv(index=False)).encode()


def figure_html(figure, caption: str) -> bytes:
    """The chart as one self-contained web page (plotly.js inside: opens offline), its caption below it."""
    chart = figure.to_html(include_plotlyjs=True, full_html=False)
    title = html.escape(caption.split(". ")[0])
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'
        f'<body style="font-family: sans-serif">{chart}<p>{html.escape(caption)}</p></body></html>'
    ).encode()


CARRIER_PAGE = "app_pages/carrier.py"


def carrier_in_selection(selection, rows: pd.DataFrame | None = None) -> str | None:
    """The carrier a click picked: a chart point's customdata (a carrier id, or (site, carrier, ...) on the
    map), or a table row's `carrier_id` (`rows` is the table drawn); None if nothing is picked."""
    if not selection:
        return None
    points = selection.get("points") or []
    if points:
        data = points[0].get("customdata")
        if isinstance(data, list | tuple):
            return str(data[1] if len(data) > 1 else data[0]) if data else None
        return None if data is None else str(data)
    picked = selection.get("rows") or []
    if picked and rows is not None and "carrier_id" in rows and picked[0] < len(rows):
        return str(rows["carrier_id"].iloc[picked[0]])
    return None


def open_carrier_on_click(key: str, selection, rows: pd.DataFrame | None = None) -> None:
    """A carrier clicked in a chart or a table opens its screen (once per click: coming back does not reopen it)."""
    carrier_id = carrier_in_selection(selection, rows)
    handled = st.session_state.setdefault("_opened_carriers", {})
    signature = json.dumps(selection, sort_keys=True, default=str) if selection else ""
    if carrier_id is None or handled.get(key) == signature:
        handled[key] = signature
        return
    handled[key] = signature
    st.session_state["carrier_id"] = carrier_id
    st.switch_page(CARRIER_PAGE)


def chart(figure, data: pd.DataFrame, caption: str, key: str, run: str = "", pick_carrier: bool = False) -> None:
    """A chart with its caption and downloads: its data as CSV, the figure as an offline web page, and PNG and
    SVG images carrying the caption (when kaleido finds a Chrome or Chromium on the machine). With
    `pick_carrier`, clicking a carrier's point or bar opens the Carrier screen on it."""
    if pick_carrier:
        event = st.plotly_chart(figure, width="stretch", key=f"{key}_chart", on_select="rerun", selection_mode="points")
        open_carrier_on_click(key, event.get("selection") if event else None)
    else:
        st.plotly_chart(figure, width="stretch", key=f"{key}_chart")
    st.caption(caption)
    stem = file_stem(f"{key}-{run}" if run else key)
    columns = st.columns(5 if IMAGE_EXPORT else 3)
    data_downloads(columns[0], columns[1], "Chart data", data, caption, key, stem)
    columns[2].download_button(
        "Chart (web page, offline)",
        lambda: figure_html(figure, caption),
        file_name=f"{stem}.html",
        mime="text/html",
        key=f"{key}_html",
        on_click="ignore",
        icon=":material/download:",
    )
    if IMAGE_EXPORT:
        for column, fmt in zip(columns[3:], IMAGE_FORMATS, strict=True):
            column.download_button(
                f"Chart ({fmt.upper()})",
                lambda fmt=fmt: figure_image(figure, fmt, caption),
                file_name=f"{stem}.{fmt}",
                mime=IMAGE_FORMATS[fmt],
                key=f"{key}_{fmt}",
                on_click="ignore",
                icon=":material/download:",
            )


def table(
    data: pd.DataFrame,
    caption: str,
    key: str,
    run: str = "",
    shown: pd.DataFrame | None = None,
    pick_carrier: bool = False,
    **options,
):
    """A table with its caption and CSV and Excel downloads of `data` (`shown`, if given, is what the screen draws).

    With `pick_carrier`, selecting a row (the box at its left) opens the Carrier screen on its carrier."""
    drawn = data if shown is None else shown
    if pick_carrier:
        event = st.dataframe(drawn, key=f"{key}_table", on_select="rerun", selection_mode="single-row", **options)
        open_carrier_on_click(key, event.get("selection") if event else None, drawn)
    else:
        st.dataframe(drawn, key=f"{key}_table", **options)
    st.caption(caption)
    data_downloads(*st.columns(2), "Table", data, caption, key, file_stem(f"{key}-{run}" if run else key))


def data_downloads(csv_column, xlsx_column, what: str, data: pd.DataFrame, caption: str, key: str, stem: str) -> None:
    """`what (CSV)` and `what (Excel)` buttons for a table's data, each carrying the caption."""
    csv_column.download_button(
        f"{what} (CSV)",
        lambda: csv_bytes(data, caption),
        file_name=f"{stem}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        on_click="ignore",
        icon=":material/download:",
    )
    xlsx_column.download_button(
        f"{what} (Excel)",
        lambda: table_workbook_bytes(data, caption, title=key),
        file_name=f"{stem}.xlsx",
        mime=MEDIA_TYPES["xlsx"],
        key=f"{key}_xlsx",
        on_click="ignore",
        icon=":material/download:",
    )


def views_run(views: PlanViews) -> str:
    """The run name used in file names: the run id if any, else sha prefix and solved-at."""
    return run_name(views.summary, {"solved_at": views.plan.solved_at, "run_id": views.run_id})


def value_of_more_money(views: PlanViews, carrier_id: str, compute: bool = False) -> dict | None:
    """What $1M more buys this carrier (`planner.analysis.marginal_value`): stored, computed now, or None."""
    key = plan_key(views.plan.dataset, views.plan.scenario, f"value:{carrier_id}")
    store = _carrier_answers()
    if key in store or not compute:
        return store.get(key)
    with st.spinner(f"Re-planning {carrier_id} with and without $1M more..."):
        table = value_of_money(views.plan, [carrier_id], time_limit_s=REPLAN_TIME_LIMIT_S)
    store[key] = table.iloc[0].to_dict()
    return store[key]
