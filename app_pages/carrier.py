"""Carrier: one carrier's schedule, crews and money, and a quick re-plan, for engineers."""

import streamlit as st

import planner
from app_pages import _state
from planner.analysis.replan import CarrierChanges, carrier_view
from planner.core.wording import usd
from planner.present import plots

dataset = _state.active_dataset()
national = _state.plan_views(dataset, _state.current_scenario(), label="the national plan")
scenario = national.plan.scenario

st.title("Carrier")
carriers = national.carriers.sort_values("carrier_id")
names = dict(zip(carriers["carrier_id"], carriers["name"], strict=True))
states = dict(zip(carriers["carrier_id"], carriers["state"], strict=True))
carrier_id = st.selectbox(
    "Carrier", list(carriers["carrier_id"]), key="carrier_id", format_func=lambda c: f"{c}: {names[c]} ({states[c]})"
)


def show(views: _state.PlanViews, carrier_id: str, heading: str) -> None:
    """The carrier's figures, reason, Gantt, crews, money, map and unfunded sites."""
    row = views.carriers.set_index("carrier_id").loc[carrier_id]
    deadline = views.plan.scenario.effective_deadline
    deadline_month = views.plan.scenario.month_label(deadline)
    money_usd = float(row["allocation_usd"]) + float(row["own_funds_usd"])
    columns = st.columns(4)
    columns[0].metric("Demand", usd(row["demand_usd"]))
    columns[1].metric("Allocation from the fund", usd(row["allocation_usd"]))
    columns[2].metric("Own funds", usd(row["own_funds_usd"]))
    columns[3].metric("Sites replaced", _state.of(int(row["sites_replaced"]), int(row["sites"])))
    columns = st.columns(4)
    columns[0].metric("Completes", row["completion_month"] or "not all sites")
    columns[1].metric("Deadline", deadline_month)
    columns[2].metric("Done by the deadline", "yes" if row["on_time"] else "no")
    columns[3].metric("People left without service", _state.people(row["population_left_without_service"]))
    if row["on_time"]:
        st.success(
            f"{names[carrier_id]} replaces all {int(row['sites']):,} sites by {row['completion_month']}, "
            f"within the deadline ({deadline_month})."
        )
    else:
        st.warning(f"{names[carrier_id]} misses the deadline ({deadline_month}). Why: {row['reason']}")

    st.plotly_chart(
        plots.timeline(views.schedule, title=f"{heading}: site replacements by kind", deadline_month=deadline_month),
        width="stretch",
    )
    left, right = st.columns(2)
    left.plotly_chart(
        plots.crews_over_time(views.monthly, title=f"{heading}: crews in use against capacity"), width="stretch"
    )
    right.plotly_chart(
        plots.cumulative_spend(views.monthly, money_usd, title=f"{heading}: cumulative spend against money available"),
        width="stretch",
    )


view = carrier_view(national.plan, carrier_id)
views = _state.PlanViews(
    view, planner.summary(view), planner.schedule_table(view), planner.carriers_table(view), planner.monthly_table(view)
)
show(views, carrier_id, carrier_id)
_state.report_downloads(views, key=f"carrier_report_{carrier_id}")

months = _state.month_options(scenario, national.summary["horizon"])
chosen = st.select_slider(
    "Month shown on the map",
    options=months,
    value=months[min(scenario.effective_deadline, len(months) - 1)],
    key="carrier_month",
)
st.plotly_chart(
    plots.site_map(
        views.schedule,
        months.index(chosen),
        scenario.effective_deadline,
        month=chosen,
        title=f"{carrier_id}: sites by state in {chosen}",
        marker_size=8,
    ),
    width="stretch",
)

unfunded = views.schedule[~views.schedule["replaced"]]
st.subheader(f"Sites left unfunded ({len(unfunded):,})")
if len(unfunded):
    st.dataframe(
        unfunded[["site_id", "kind", "population", "cost_usd", "duration"]],
        hide_index=True,
        column_config={
            "cost_usd": st.column_config.NumberColumn("cost (USD)", format=_state.MONEY_COLUMN),
            "population": st.column_config.NumberColumn("people", format="localized"),
            "duration": st.column_config.NumberColumn("months of work"),
        },
    )
else:
    st.caption("Every site of this carrier is replaced within the horizon.")

st.subheader("Change this carrier and re-plan it")
st.caption("The fund's allocation to this carrier stays fixed; only this carrier is solved again, in seconds.")
pools = dataset.crews_by_carrier.get(carrier_id, {})
carrier = dataset.carrier_by_id[carrier_id]
with st.form(f"replan_{carrier_id}"):
    crew_changes = []
    columns = st.columns(max(1, len(pools)))
    for column, (crew_type, pool) in zip(columns, sorted(pools.items()), strict=False):
        capacity = column.number_input(
            f"{crew_type} crews per month",
            0.0,
            1000.0,
            float(pool.capacity),
            step=1.0,
            key=f"cap_{carrier_id}_{crew_type}",
        )
        winter = column.number_input(
            f"{crew_type} crews in winter (Dec-Mar)",
            0.0,
            1000.0,
            float(pool.capacity if pool.winter_capacity is None else pool.winter_capacity),
            step=1.0,
            key=f"winter_{carrier_id}_{crew_type}",
        )
        if capacity != pool.capacity or winter != (
            pool.capacity if pool.winter_capacity is None else pool.winter_capacity
        ):
            crew_changes.append((crew_type, capacity, winter))
    lead_change = st.number_input(
        "Change every site's lead time by (months; negative = earlier delivery)", -24, 24, 0, key=f"lead_{carrier_id}"
    )
    own_funds_m = st.number_input(
        "Own funds (USD millions)", 0.0, 100_000.0, carrier.own_funds_usd / 1e6, step=1.0, key=f"own_{carrier_id}"
    )
    submitted = st.form_submit_button("Re-plan this carrier")
if submitted:
    own_funds = own_funds_m * 1e6
    st.session_state[f"changes_{carrier_id}"] = CarrierChanges(
        crews=tuple(crew_changes),
        lead_time_change_months=int(lead_change),
        own_funds_usd=None if abs(own_funds - carrier.own_funds_usd) < 0.5 else own_funds,
    )
changes = st.session_state.get(f"changes_{carrier_id}")
if changes is not None:
    replanned = _state.replanned_views(national, carrier_id, changes)
    before, after = views.summary, replanned.summary
    st.markdown(
        f"**Re-planned** ({after['status']}, {after['wall_seconds']:.1f} s): "
        + (
            "no changes"
            if changes.is_empty
            else "; ".join(
                [
                    *(f"{k} crews {c:g} per month, {w:g} in winter" for k, c, w in changes.crews),
                    *(
                        [f"lead times {changes.lead_time_change_months:+d} months"]
                        if changes.lead_time_change_months
                        else []
                    ),
                    *([f"own funds {usd(changes.own_funds_usd)}"] if changes.own_funds_usd is not None else []),
                ]
            )
        )
    )

    def change(after_value: int, before_value: int, unit: str = ""):
        """A metric delta, or none when nothing changed (a "+0" arrow would read as a change)."""
        return None if after_value == before_value else f"{after_value - before_value:+,d}{unit}"

    columns = st.columns(4)
    columns[0].metric(
        "Sites replaced",
        _state.of(after["sites_replaced"], after["sites_total"]),
        delta=change(after["sites_replaced"], before["sites_replaced"]),
    )
    columns[1].metric("Done by the deadline", "yes" if after["carriers_done_by_deadline"] else "no")
    columns[2].metric(
        "People left without service",
        _state.people(after["population_left_without_service"]),
        delta=change(after["population_left_without_service"], before["population_left_without_service"]),
        delta_color="inverse",
    )
    columns[3].metric(
        "Last site finishes",
        scenario.month_label(after["makespan"]) if after["makespan"] else "n/a",
        delta=change(after["makespan"], before["makespan"], " months"),
        delta_color="inverse",
    )
    show(replanned, carrier_id, f"{carrier_id} re-planned")
