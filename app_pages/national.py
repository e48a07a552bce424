"""National picture: what a fund buys the country, for policy staff."""

import streamlit as st

import planner
from app_pages import _state
from planner.core.wording import usd, usd_exact
from planner.present import plots

dataset = _state.active_dataset()
scenario = _state.current_scenario()
views = _state.plan_views(dataset, scenario, label="the national plan")
summary, scenario = views.summary, views.plan.scenario

st.title("National picture")
st.markdown(
    f"A fund of **{usd_exact(scenario.fund_usd)}** shared by the **{_state.RULE_LABELS[scenario.rule].lower()}** rule, "
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
    "Month shown on the map",
    options=months,
    value=months[min(deadline, horizon - 1)],
    key="national_month",
    help="The month the map opens on, and whose states the map's data (CSV) holds; the map's Play button "
    "and its own slider go through every month in the browser.",
)
run = _state.views_run(views)
st.caption("Click a site on the map, a carrier's bar or a row of the carriers table to open that carrier's screen.")
map_columns = ["site_id", "carrier_id", "kind", "population", "lat", "lon", "month", "finish_month", "replaced"]
_state.chart(
    plots.site_map(
        views.schedule,
        months.index(chosen),
        deadline,
        month=chosen,
        title=f"Every site by its state in {chosen}",
        marker_size=5,
        months=months,
    ),
    views.schedule[map_columns],
    _state.plan_caption(f"Every site by its state in {chosen}", views),
    key="national_map",
    run=run,
    pick_carrier=True,
)
by_state = planner.without_service_by_state(views.plan, months.index(chosen))
_state.chart(
    plots.without_service_map(by_state, chosen),
    by_state,
    _state.plan_caption(f"People without service by state in {chosen}", views),
    key="national_dark_states",
    run=run,
)
_state.chart(
    plots.coverage_over_time(
        views.monthly, deadline_month, title="People served by covered gear, by new gear, and without service"
    ),
    views.monthly[["month", "population_on_covered_gear", "population_on_new_gear", "population_without_service"]],
    _state.plan_caption("People served by covered gear, by new gear, and without service, by month", views),
    key="national_coverage",
    run=run,
)
_state.chart(
    plots.allocation_by_carrier(views.carriers, title="Demand and allocation by carrier"),
    views.carriers[["carrier_id", "name", "demand_usd", "allocation_usd", "idle_allocation_usd", "spend_usd"]],
    _state.plan_caption("Demand and allocation by carrier (USD)", views),
    key="national_allocation",
    run=run,
    pick_carrier=True,
)

idle = views.carriers[views.carriers["allocation_idle"]]
if len(idle):
    worst = idle.sort_values("idle_allocation_usd", ascending=False).iloc[0]
    st.warning(
        f"{usd(summary['idle_allocation_usd'])} allocated to {len(idle)} carrier(s) cannot be spent: it is less "
        f"than their next whole site costs. The largest: {worst['name']} ({worst['carrier_id']}) receives "
        f"{usd(worst['allocation_usd'])} and replaces {worst['sites_replaced']:,} of {worst['sites']:,} sites. "
        'See "unusable" in the carriers table.',
        icon=":material/money_off:",
    )

with st.expander("Carriers table", expanded=bool(len(idle))):
    table = views.carriers[
        [
            "carrier_id",
            "name",
            "state",
            "priority",
            "demand_usd",
            "allocation_usd",
            "idle_allocation_usd",
            "allocation_idle",
            "sites",
            "sites_replaced",
            "completion",
            "on_time",
            "population_left_without_service",
            "reason",
        ]
    ]
    _state.table(
        table,
        _state.plan_caption("Carriers: money, sites, completion and why late", views),
        key="national_carriers",
        run=run,
        pick_carrier=True,
        hide_index=True,
        column_config={
            "carrier_id": "carrier",
            "demand_usd": st.column_config.NumberColumn("demand (USD)", format=_state.MONEY_COLUMN),
            "allocation_usd": st.column_config.NumberColumn("allocation (USD)", format=_state.MONEY_COLUMN),
            "idle_allocation_usd": st.column_config.NumberColumn(
                "unusable (USD)",
                format=_state.MONEY_COLUMN,
                help="Allocated but less than the carrier's next whole site costs, so it buys nothing.",
            ),
            "allocation_idle": st.column_config.CheckboxColumn("money it cannot use"),
            "sites_replaced": "sites replaced",
            "population_left_without_service": st.column_config.NumberColumn(
                "people left without service", format="localized"
            ),
            "completion": st.column_config.TextColumn(
                "completes", help="The month its last site is finished, or how many of its sites are replaced."
            ),
            "on_time": "done by the deadline",
        },
    )
