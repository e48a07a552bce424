"""National picture: what a fund buys the country, for policy staff."""

import streamlit as st

from app_pages import _state
from planner.core.wording import usd
from planner.present import plots

dataset = _state.active_dataset()
scenario = _state.current_scenario()
views = _state.plan_views(dataset, scenario, label="the national plan")
summary, scenario = views.summary, views.plan.scenario

st.title("National picture")
st.markdown(
    f"A fund of **{usd(scenario.fund_usd)}** shared by the **{_state.RULE_LABELS[scenario.rule].lower()}** rule, "
    f"with work starting {scenario.start} and a deadline of "
    f"**{scenario.month_label(scenario.effective_deadline)}**."
)

_state.headline_metrics(summary)
st.caption(_state.solve_note(summary))
_state.report_downloads(views, key="national_report")
_state.plan_notes(summary)

deadline = scenario.effective_deadline
horizon = summary["horizon"]
months = _state.month_options(scenario, horizon)
deadline_month = scenario.month_label(deadline)
chosen = st.select_slider(
    "Month shown on the map", options=months, value=months[min(deadline, horizon - 1)], key="national_month"
)
st.plotly_chart(
    plots.site_map(
        views.schedule,
        months.index(chosen),
        deadline,
        month=chosen,
        title=f"Every site by its state in {chosen}",
        marker_size=5,
    ),
    width="stretch",
)

st.plotly_chart(
    plots.coverage_over_time(
        views.monthly, deadline_month, title="People served by covered gear, by new gear, and without service"
    ),
    width="stretch",
)
st.plotly_chart(plots.allocation_by_carrier(views.carriers, title="Demand and allocation by carrier"), width="stretch")

with st.expander("Carriers table"):
    table = views.carriers[
        [
            "carrier_id",
            "name",
            "state",
            "priority",
            "demand_usd",
            "allocation_usd",
            "sites",
            "sites_replaced",
            "completion_month",
            "on_time",
            "population_left_without_service",
            "reason",
        ]
    ]
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "demand_usd": st.column_config.NumberColumn("demand (USD)", format=_state.MONEY_COLUMN),
            "allocation_usd": st.column_config.NumberColumn("allocation (USD)", format=_state.MONEY_COLUMN),
            "population_left_without_service": st.column_config.NumberColumn(
                "people left without service", format="localized"
            ),
            "completion_month": "completes",
            "on_time": "done by the deadline",
        },
    )
