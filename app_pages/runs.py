"""Saved runs: a funding curve swept over fund sizes, the runs in the store, and what changed between two."""

import time

import pandas as pd
import streamlit as st

from app_pages import _state
from planner.core.errors import InputError
from planner.core.schema import RULES
from planner.core.wording import RULE_NAMES, duration, usd
from planner.present import plots
from planner.runs.store import RunStore, StoreError, default_store_path, diff_runs
from planner.runs.sweep import (
    estimate_sweep,
    parse_deadlines,
    parse_funds,
    run_sweep,
    stored_curve,
    sweep_scenarios,
)

SWEEP_FOLDER = default_store_path().parent / "app-sweeps"
CURVE_SOURCES = {"sweep": "the sweep above", "store": "saved runs (overlaid)"}
SWEEP_STOPPED = "sweep_stopped"  # session state: the user pressed Stop during the last sweep
# One style per line, so lines that coincide (two rules giving the same figures) both stay visible:
# a wide solid line under a dashed one, and open markers of different shapes and sizes.
CURVE_STYLES = (
    {"dash": "solid", "width": 6, "symbol": "circle-open", "size": 14},
    {"dash": "dash", "width": 2.5, "symbol": "x", "size": 8},
    {"dash": "dot", "width": 2.5, "symbol": "diamond-open", "size": 11},
    {"dash": "dashdot", "width": 2, "symbol": "square-open", "size": 9},
)
# The curve's figures, named so their direction is plain (exposure falls when people are shut down: not offered).
CURVE_FIGURES = {
    "population_left_without_service": "People left without service (fewer is better)",
    "carriers_done_by_deadline": "Carriers done by the deadline (more is better)",
    "sites_replaced": "Sites replaced (more is better)",
}


def run_title(row) -> str:
    """A stored run's name: its scenario's own name, else `$1.895B / pro rata / deadline 24 months`."""
    name = str(row.scenario or "")
    if name and name != "app":
        return name
    extensions = f" + {int(row.extensions)} extension(s)" if row.extensions and row.extensions == row.extensions else ""
    fund = _state.money_short(float(row.fund_usd)) if row.fund_usd == row.fund_usd else "fund ?"
    return f"{fund} / {RULE_NAMES.get(row.rule, row.rule)} / deadline {row.deadline} months{extensions}"


def readable_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The store's runs as a reader wants them: named, newest first, money short, gap in percent."""
    shown = pd.DataFrame(
        {
            "Run": runs["run_id"],
            "Name": [run_title(row) for row in runs.itertuples()],
            "Saved at (UTC)": runs["created_utc"],
            "From": runs["source"],
            "Dataset": runs["dataset"],
            "Fund": [_state.money_short(f) if f == f and f is not None else "" for f in runs["fund_usd"]],
            "Rule": [RULE_NAMES.get(r, r) for r in runs["rule"]],
            "Status": runs["status"],
            "Gap": runs["gap"],
            "Sites replaced": runs["sites_replaced"],
            "Carriers done by the deadline": runs["carriers_done_by_deadline"],
            "People left without service": runs["population_left_without_service"],
            "Allocated": [usd(a) if a == a and a is not None else "" for a in runs["allocated_usd"]],
            "Solve time (s)": runs["wall_seconds"],
            "Error": runs["error"],
        }
    )
    return shown.iloc[::-1].reset_index(drop=True)


def reopen(scenario: dict) -> None:
    """Set the sidebar's widgets to a stored run's scenario (a button callback: it runs before the sidebar)."""
    _state.set_scenario_controls(scenario)
    st.session_state["reopen_to_national"] = True


if st.session_state.pop("reopen_to_national", False):
    st.switch_page("app_pages/national.py")

dataset = _state.active_dataset()
base = _state.current_scenario()
st.title("Saved runs and funding curves")
try:
    store = RunStore()
except StoreError as err:
    st.error(f"The run store cannot be opened: {err}")
    st.stop()
st.caption(
    f"Run store: `{store.path}` (set RRPLAN_STORE to use another). Every sweep point is recorded there, and "
    "a point already solved with the same inputs is read back instead of solved again."
)

curve_tab, runs_tab, diff_tab = st.tabs(["Funding curve", "Saved runs", "Compare two runs"])

with curve_tab:
    st.markdown(
        f"Solve **{dataset.name}** at several fund sizes and rules; the other settings (deadline, "
        f"extensions, horizon, time limit) come from the sidebar. The administrative reserve of "
        f"{usd(base.admin_reserve_usd)} is taken from every fund."
    )
    presets = ", ".join(f"{value / 1e9:g}" for value in sorted(set(_state.FUND_PRESETS.values())))
    with st.form("sweep"):
        funds_text = st.text_input(
            "Funds (USD billions): a comma list, or FROM:TO:COUNT",
            presets,
            key="sweep_funds",
            help="Any amounts, e.g. `1.895, 4.98`, or `0.5:6:12` for 12 evenly spaced funds from $0.5B to $6B.",
        )
        rules = st.multiselect(
            "Rules", RULES, default=["pro_rata", "optimal"], format_func=_state.RULE_LABELS.get, key="sweep_rules"
        )
        deadlines_text = st.text_input(
            "Deadlines (months after the start, comma list)", str(base.deadline), key="sweep_deadlines"
        )
        submitted = st.form_submit_button("Run the sweep", type="primary")
    if st.session_state.get(SWEEP_STOPPED):
        st.warning(
            "You stopped the sweep. Every point solved before the stop is in the run store: run the sweep again "
            "to solve the rest; stored points are read back at once."
        )
        st.session_state[SWEEP_STOPPED] = False
    if submitted:
        try:
            funds = [amount * 1e9 for amount in parse_funds(funds_text, flag="Funds (USD billions)")]
            scenarios = sweep_scenarios(
                base.with_overrides(name="app"), funds, rules or ["pro_rata"], parse_deadlines(deadlines_text)
            )
        except InputError as err:
            st.error("; ".join(str(issue) for issue in err.issues))
            st.stop()
        estimate = estimate_sweep(dataset, scenarios, store)
        cached = len(scenarios) - estimate.to_solve
        st.session_state[SWEEP_STOPPED] = False
        stop = st.empty()
        stop.button(
            "Stop the sweep",
            key="sweep_stop",
            icon=":material/stop_circle:",
            on_click=st.session_state.__setitem__,
            args=(SWEEP_STOPPED, True),
            help="Stops the sweep: the points already finished stay in the run store (the ones being solved when you "
            "press it are not kept); running the sweep again solves only what is missing.",
        )
        bar = st.progress(
            0.0,
            text=f"Sweep of {len(scenarios)} scenarios ({cached} already in the store): about "
            f"{duration(estimate.seconds)} ({estimate.basis})...",
        )
        began = time.monotonic()

        def progress(done: int, total: int, name: str, status: str) -> None:
            solved, elapsed = done - cached, time.monotonic() - began
            left = f", about {duration(elapsed / solved * (total - done))} left" if solved > 0 and done < total else ""
            bar.progress(done / total, text=f"{done} of {total} scenarios ({name}: {status}){left}")

        result = run_sweep(dataset, scenarios, SWEEP_FOLDER / dataset.name, store=store, progress=progress)
        bar.empty()
        stop.empty()
        st.session_state["sweep_curve"] = result.curve
        st.session_state["sweep_caption"] = (
            f"{', '.join(RULE_NAMES.get(r, r) for r in rules or ['pro_rata'])} at funds {funds_text} (USD billions), "
            f"deadline(s) {deadlines_text} months"
        )
        st.success(
            f"{len(scenarios)} scenarios: {result.solved} solved, {result.reused} read from the store, "
            f"{len(result.failures)} failed, in {result.seconds:.0f} s."
        )
        for name, error in result.failures:
            st.warning(f"{name} failed: {error}")
    source = st.radio(
        "Curve from",
        list(CURVE_SOURCES),
        format_func=CURVE_SOURCES.get,
        horizontal=True,
        key="curve_source",
        help="Saved runs: every stored run of this dataset with the sidebar's settings but for the fund, the rule "
        "and the deadline (the latest per point), from every sweep, solve and app session: curves overlaid.",
    )
    if source == "sweep":
        curve, curve_text = st.session_state.get("sweep_curve"), st.session_state.get("sweep_caption", "")
    else:
        curve, curve_text = stored_curve(store, dataset, base), "every saved run of these settings, by fund"
        if curve.empty:
            curve = None
    if curve is None:
        st.info(
            "Choose the fund sizes and rules, then run the sweep. On the embedded 40-carrier dataset each "
            f"point takes up to {base.time_limit_s:.0f} s; points already in the store are instant."
            if source == "sweep"
            else "No saved run of this dataset has the sidebar's settings (other than fund, rule and deadline) yet."
        )
    else:
        figure = st.radio(
            "Figure", list(CURVE_FIGURES), format_func=CURVE_FIGURES.get, horizontal=True, key="sweep_figure"
        )
        chart = plots.funding_curve(curve, figure, title=f"{CURVE_FIGURES[figure]} by fund size")
        for index, trace in enumerate(chart.data):
            style = CURVE_STYLES[index % len(CURVE_STYLES)]
            trace.update(
                line={"dash": style["dash"], "width": style["width"]},
                marker={"symbol": style["symbol"], "size": style["size"], "line": {"width": 2}},
            )
        caption = _state.dated_caption(f"{CURVE_FIGURES[figure]} by fund size", curve_text, dataset)
        _state.chart(chart, curve, caption, key="sweep_curve")
        _state.table(
            curve,
            caption,
            key="sweep_table",
            hide_index=True,
            column_config={
                "fund_usd": st.column_config.NumberColumn("fund (USD)", format="dollar"),
                "gap": st.column_config.NumberColumn("gap", format="percent"),
                "carriers_done_by_deadline": "carriers done by the deadline",
                "sites_replaced": "sites replaced",
                "population_left_without_service": st.column_config.NumberColumn(
                    "people left without service", format="localized"
                ),
                "exposure_population_months": st.column_config.NumberColumn(
                    "population-months on covered gear", format="localized"
                ),
                "effective_deadline": "deadline with extensions",
                "run_id": "run",
            },
        )

with runs_tab:
    runs = store.runs_table()
    if runs.empty:
        st.info("No runs yet. `rrplan solve`, `rrplan sweep` and the sweep on this page record their runs here.")
    else:
        shown = readable_runs(runs)
        _state.table(
            shown,
            _state.dated_caption("Runs in the store", "every stored run", dataset),
            key="runs_table",
            hide_index=True,
            column_config={
                "Gap": st.column_config.NumberColumn("Gap", format="percent"),
                "People left without service": st.column_config.NumberColumn(format="localized"),
                "Solve time (s)": st.column_config.NumberColumn(format="%.1f"),
            },
        )
        titles = dict(zip(shown["Run"], shown["Name"], strict=True))
        pick, button = st.columns([3, 1], vertical_alignment="bottom")
        chosen = pick.selectbox(
            "Reopen a run's scenario in the app",
            list(shown["Run"]),
            format_func=lambda run_id: f"#{run_id} {titles[run_id]}",
            key="reopen_run",
        )
        scenario = next(r.scenario for r in store.runs() if r.run_id == chosen)
        button.button(
            "Open in the app",
            on_click=reopen,
            args=(scenario,),
            key="reopen_button",
            icon=":material/open_in_new:",
            help="Sets the sidebar to this run's fund, rule, deadline, extensions, horizon and time limit, and "
            "opens the national picture.",
        )

with diff_tab:
    runs = store.runs_table()
    choices = runs["run_id"].tolist()[::-1]
    if len(choices) < 2:
        st.info("Two stored runs are needed to compare.")
    else:
        labels = {
            row.run_id: f"#{row.run_id} {run_title(row)} ({row.dataset}, {row.status})" for row in runs.itertuples()
        }
        left, right = st.columns(2)
        run_a = left.selectbox("Run A", choices, index=1, format_func=labels.get, key="diff_a")
        run_b = right.selectbox("Run B", choices, index=0, format_func=labels.get, key="diff_b")
        change = diff_runs(store, run_a, run_b)
        compared = f"{labels[run_a]} against {labels[run_b]}"
        st.subheader("Inputs that differ")
        if change.inputs.empty:
            st.write("None: the same dataset and scenario.")
        else:
            _state.table(
                change.inputs.astype(str),
                _state.dated_caption("Inputs that differ", compared, dataset),
                key="diff_inputs",
                hide_index=True,
            )
        st.subheader("Headline figures (change = B - A)")
        _state.table(
            change.headline,
            _state.dated_caption("Headline figures (change = B - A)", compared, dataset),
            key="diff_headline",
            hide_index=True,
        )
        moved = change.carriers[change.carriers["changed"].astype(bool)]
        st.subheader(f"Carriers whose figures moved: {len(moved)} of {len(change.carriers)}")
        _state.table(
            moved.drop(columns=["changed"]),
            _state.dated_caption("Carriers whose figures moved", compared, dataset),
            key="diff_carriers",
            hide_index=True,
        )
store.close()
