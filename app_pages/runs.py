"""Saved runs: a funding curve swept over fund sizes, the runs in the store, and what changed between two."""

import streamlit as st

from app_pages import _state
from planner.core.errors import InputError
from planner.core.schema import RULES
from planner.core.wording import usd
from planner.present import plots
from planner.runs.store import RunStore, StoreError, default_store_path, diff_runs
from planner.runs.sweep import parse_deadlines, run_sweep, sweep_scenarios

SWEEP_FOLDER = default_store_path().parent / "app-sweeps"

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
    with st.form("sweep"):
        low, high, count = st.columns(3)
        fund_low_b = low.number_input("From (USD billions)", 0.0, 50.0, 0.5, step=0.1, format="%.3f", key="sweep_low")
        fund_high_b = high.number_input("To (USD billions)", 0.0, 50.0, 6.0, step=0.1, format="%.3f", key="sweep_high")
        points = count.number_input("Fund sizes", 1, 50, 12, key="sweep_count")
        rules = st.multiselect(
            "Rules", RULES, default=["pro_rata", "optimal"], format_func=_state.RULE_LABELS.get, key="sweep_rules"
        )
        deadlines_text = st.text_input(
            "Deadlines (months after the start, comma list)", str(base.deadline), key="sweep_deadlines"
        )
        submitted = st.form_submit_button("Run the sweep", type="primary")
    if submitted:
        try:
            funds = [
                fund_low_b * 1e9 + (fund_high_b - fund_low_b) * 1e9 * i / max(1, points - 1) for i in range(points)
            ]
            scenarios = sweep_scenarios(
                base.with_overrides(name="app"), funds, rules or ["pro_rata"], parse_deadlines(deadlines_text)
            )
        except InputError as err:
            st.error("; ".join(str(issue) for issue in err.issues))
            st.stop()
        bar = st.progress(0.0, text=f"Sweep of {len(scenarios)} scenarios: up to {base.time_limit_s:.0f} s each...")

        def progress(done: int, total: int, name: str, status: str) -> None:
            bar.progress(done / total, text=f"{done} of {total} scenarios ({name}: {status})")

        result = run_sweep(dataset, scenarios, SWEEP_FOLDER / dataset.name, store=store, progress=progress)
        bar.empty()
        st.session_state["sweep_curve"] = result.curve
        st.success(
            f"{len(scenarios)} scenarios: {result.solved} solved, {result.reused} read from the store, "
            f"{len(result.failures)} failed, in {result.seconds:.0f} s."
        )
        for name, error in result.failures:
            st.warning(f"{name} failed: {error}")
    curve = st.session_state.get("sweep_curve")
    if curve is None:
        st.info(
            "Choose the fund sizes and rules, then run the sweep. On the embedded 40-carrier dataset each "
            f"point takes up to {base.time_limit_s:.0f} s; points already in the store are instant."
        )
    else:
        figure = st.radio(
            "Figure",
            list(plots.CURVE_FIGURES),
            format_func=plots.CURVE_FIGURES.get,
            horizontal=True,
            key="sweep_figure",
        )
        st.plotly_chart(plots.funding_curve(curve, figure), width="stretch")
        st.dataframe(
            curve,
            hide_index=True,
            column_config={"fund_usd": st.column_config.NumberColumn("fund (USD)", format="dollar")},
        )

with runs_tab:
    runs = store.runs_table()
    if runs.empty:
        st.info("No runs yet. `rrplan solve`, `rrplan sweep` and the sweep on this page record their runs here.")
    else:
        st.dataframe(
            runs.iloc[::-1],
            hide_index=True,
            column_config={
                "fund_usd": st.column_config.NumberColumn("fund (USD)", format="dollar"),
                "allocated_usd": st.column_config.NumberColumn("allocated (USD)", format="dollar"),
            },
        )

with diff_tab:
    runs = store.runs_table()
    choices = runs["run_id"].tolist()[::-1]
    if len(choices) < 2:
        st.info("Two stored runs are needed to compare.")
    else:
        labels = {
            row.run_id: f"#{row.run_id} {row.scenario} ({row.dataset}, {row.status})" for row in runs.itertuples()
        }
        left, right = st.columns(2)
        run_a = left.selectbox("Run A", choices, index=1, format_func=labels.get, key="diff_a")
        run_b = right.selectbox("Run B", choices, index=0, format_func=labels.get, key="diff_b")
        change = diff_runs(store, run_a, run_b)
        st.subheader("Inputs that differ")
        if change.inputs.empty:
            st.write("None: the same dataset and scenario.")
        else:
            st.dataframe(change.inputs.astype(str), hide_index=True)
        st.subheader("Headline figures (change = B - A)")
        st.dataframe(change.headline, hide_index=True)
        moved = change.carriers[change.carriers["changed"].astype(bool)]
        st.subheader(f"Carriers whose figures moved: {len(moved)} of {len(change.carriers)}")
        st.dataframe(moved.drop(columns=["changed"]), hide_index=True)
store.close()
