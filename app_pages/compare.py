"""Compare rules: pro rata, priority tiers, optimal and greedy on the same fund, side by side."""

import pandas as pd
import streamlit as st

from app_pages import _state
from planner.core.schema import RULES
from planner.core.wording import RULE_NAMES, usd
from planner.present import plots

dataset = _state.active_dataset()
base = _state.current_scenario()
# Each rule's scenario is the sidebar's with only the rule changed, so the plan of the sidebar's rule is the
# very plan the other screens show (one cache, one key per scenario): one answer per scenario.
scenarios = {rule: _state.auto_named(base.with_overrides(rule=rule)) for rule in RULES}

st.title("Compare rules")
st.markdown(
    f"The four funding rules on the same fund (**{usd(base.fund_usd)}**), the same data and the same "
    f"deadline ({base.month_label(base.effective_deadline)}). The fund, deadline and horizon are set in "
    "the sidebar."
)

missing = [rule for rule, scenario in scenarios.items() if not _state.is_cached(dataset, scenario)]
if missing:
    notice = st.empty()  # cleared once the solves are done, so the page does not say "not solved" over results
    with notice.container():
        st.info(
            f"Not solved yet for these settings: {', '.join(RULE_NAMES[r] for r in missing)}. Each solve "
            f"takes up to {base.time_limit_s:.0f} s plus the time to build the models; solved plans are kept, "
            "so coming back is instant."
        )
        clicked = st.button(f"Solve {len(missing)} rule(s) and compare", type="primary", key="compare_solve")
    if not clicked:
        st.stop()
    _state.start_solves(dataset, {f"the {rule} plan": scenario for rule, scenario in scenarios.items()})
views = {rule: _state.plan_views(dataset, scenario, label=f"the {rule} plan") for rule, scenario in scenarios.items()}
if missing:
    notice.empty()

rows = {}
for rule, view in views.items():
    summary = view.summary
    rows[RULE_NAMES[rule]] = {
        **_state.headline_values(summary),
        "Objective (lower is better)": f"{summary['objective']:,.0f}",
        "Plan status": _state.status_label(summary)
        + ("" if summary["gap"] is None else f" (gap {summary['gap']:.1%})"),
    }
st.subheader("Headline figures")
headline = pd.DataFrame(rows)
source = _state.source_text(dataset)
compared = f"{_state.money_short(base.fund_usd)} / every rule / deadline {base.month_label(base.effective_deadline)}"
solved = ", ".join(f"{RULE_NAMES[r]} {v.plan.solved_at}" for r, v in views.items())
caption = f"Headline figures under each rule. Scenario: {compared}. Source: rrplan, {source}. Plans solved at {solved}."
run = _state.views_run(views["pro_rata"])
_state.table(
    headline.rename_axis("figure").reset_index(),
    caption,
    key="compare_headline",
    run=run,
    shown=headline,
    width="stretch",
)
_state.plan_notes({**views["optimal"].summary, "notes": []})  # warns if the optimal rule kept pro rata
st.caption("Reports of the pro-rata plan with every rule's allocation beside it (the workbook has a Compare sheet):")
_state.report_downloads(views["pro_rata"], key="compare_report", plans_by_rule={r: v.plan for r, v in views.items()})
best = min(views, key=lambda rule: views[rule].summary["objective"])
pro_rata = views["pro_rata"].summary
gain = views[best].summary["population_kept_connected"] - pro_rata["population_kept_connected"]
st.caption(
    f"Best objective: {_state.RULE_LABELS[best]}. Against pro rata it keeps "
    f"{_state.people(abs(gain))} {'more' if gain >= 0 else 'fewer'} connected. The objective (lower is better) "
    "counts population-months on covered gear plus each person-month without service weighed "
    f"{base.dark_weight:g} times."
)
allocation = views["pro_rata"].carriers[["carrier_id", "name", "demand_usd"]].copy()
for rule, view in views.items():
    allocation[rule] = view.carriers.set_index("carrier_id").loc[allocation["carrier_id"], "allocation_usd"].to_numpy()
st.subheader("Allocation by carrier")
st.caption("Click a carrier's bar or a row of the table to open that carrier's screen.")
labelled = allocation.assign(name=allocation["name"] + " (" + allocation["carrier_id"] + ")").rename(columns=RULE_NAMES)
allocation_caption = (
    f"Allocation by carrier under each rule (USD). Scenario: {compared}. Source: rrplan, {source}. "
    f"Plans solved at {solved}."
)
_state.chart(
    plots.allocation_by_rule(
        labelled[["carrier_id", "name", *RULE_NAMES.values()]], title="Allocation by carrier under each rule"
    ),
    allocation,
    allocation_caption,
    key="compare_allocation",
    run=run,
    pick_carrier=True,
)
money = {rule: st.column_config.NumberColumn(RULE_NAMES[rule], format=_state.MONEY_COLUMN) for rule in RULES}
_state.table(
    allocation,
    allocation_caption,
    key="compare_allocation_table",
    run=run,
    pick_carrier=True,
    hide_index=True,
    column_config={
        "carrier_id": "carrier",
        "demand_usd": st.column_config.NumberColumn("demand (USD)", format=_state.MONEY_COLUMN),
        **money,
    },
)
