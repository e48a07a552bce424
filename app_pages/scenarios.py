"""Scenarios: named, pinned scenarios side by side (fund x rule x deadline x tranches), with their differences."""

import pandas as pd
import streamlit as st

from app_pages import _state
from planner.analysis.reports import GRID_FIGURES, scenario_grid
from planner.core.clock import tranche_words
from planner.core.wording import RULE_NAMES, usd, usd_exact

dataset = _state.active_dataset()
pinned = _state.pinned_scenarios()

st.title("Scenarios")
st.markdown(
    "Scenarios pinned from the sidebar (**Name this scenario**, then **Pin**), side by side on "
    f"{_state.source_text(dataset)}; every change is against the first pinned. Each is the plan the other "
    "screens show for the same settings."
)
if not pinned:
    st.info("Nothing pinned yet: set a fund, rule, deadline or tranches in the sidebar and pin it; then another.")
    if st.button("Pin the sidebar's scenario", key="pin_current"):
        current = _state.current_scenario()
        pinned[current.name] = current
        st.rerun()
    st.stop()

missing = [name for name, scenario in pinned.items() if not _state.is_cached(dataset, scenario)]
if missing:
    notice = st.empty()
    with notice.container():
        st.info(f"Not solved yet: {', '.join(missing)}. Solved plans are kept, so coming back is instant.")
        clicked = st.button(f"Solve {len(missing)} scenario(s)", type="primary", key="scenarios_solve")
    if not clicked:
        st.stop()
    _state.start_solves(dataset, pinned)
views = {name: _state.plan_views(dataset, scenario, label=name) for name, scenario in pinned.items()}
if missing:
    notice.empty()

settings = pd.DataFrame(
    {
        name: {
            "Fund": usd_exact(view.plan.scenario.fund_usd),
            "Rule": RULE_NAMES.get(view.plan.scenario.rule, view.plan.scenario.rule),
            "Deadline": view.plan.scenario.month_label(view.plan.scenario.effective_deadline),
            "Extensions": str(view.plan.scenario.extensions),
            "Money arrives": tranche_words(view.plan.scenario),
            "A late site": _state.MISSED_DEADLINE_LABELS.get(view.plan.scenario.missed_deadline, ""),
        }
        for name, view in views.items()
    }
)
grid = scenario_grid({name: view.summary for name, view in views.items()})
names = list(views)
solved = ", ".join(f"{name} {view.plan.solved_at}" for name, view in views.items())
caption = f"Pinned scenarios. Source: rrplan, {_state.source_text(dataset)}. Plans solved at {solved}."
money = {label for key, (label, _) in GRID_FIGURES.items() if key.endswith("_usd")}


def shown(value, label: str, change: bool = False) -> str:
    """A grid value as a policy reader expects it: dollars whole, counts with separators, the gap in percent."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    sign = "+" if change and value > 0 else ""
    if label in money:
        return sign + usd(value) if value >= 0 else "-" + usd(-value)
    if label == "Proven gap":
        return f"{sign}{value:.2%}" if change else f"{value:.2%}"
    return f"{sign}{value:,.0f}"


display = grid.copy()
for column in display.columns:
    if column in ("figure", "better"):
        continue
    display[column] = [
        shown(v, label, change=column not in names) for v, label in zip(grid[column], grid["figure"], strict=True)
    ]
st.subheader("Settings")
st.dataframe(settings.rename_axis("setting"), width="stretch")
st.subheader("Figures, and each scenario's change against the first")
_state.table(
    grid,
    caption,
    key="scenario_grid",
    run=_state.views_run(views[names[0]]),
    shown=display,
    hide_index=True,
    column_config={"better": st.column_config.TextColumn("better is", help="Which way of a change is better.")},
)
removed = st.multiselect("Unpin", names, key="unpin", placeholder="Pick scenarios to take off the grid")
if removed and st.button(f"Unpin {len(removed)}", key="unpin_go"):
    for name in removed:
        pinned.pop(name, None)
    st.rerun()
