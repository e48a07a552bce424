"""Carrier: one carrier's schedule as a scheduler reads it, a re-plan drawn over it, and what would make it on time."""

import streamlit as st

import planner
from app_pages import _state
from planner.analysis.critical import critical_path, dependency_table, hubs
from planner.analysis.ontime import LEVERS, trials_table
from planner.analysis.replan import CarrierChanges, carrier_view
from planner.core.wording import usd
from planner.present import plots

MAX_HUB_GROUPS = 15  # beyond this many hub groups the chart opens grouped by kind (a few hundred px tall)

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

view = carrier_view(national.plan, carrier_id)
views = _state.PlanViews(
    view, planner.summary(view), planner.schedule_table(view), planner.carriers_table(view), planner.monthly_table(view)
)
row = views.carriers.set_index("carrier_id").loc[carrier_id]
# Each applicant's own clock: the term from the first money, plus its own extensions.
deadline = int(row["deadline_period"])
deadline_month = str(row["deadline_month"])

# ---------------------------------------------------------------- re-plan form, near the top

pools = dataset.crews_by_carrier.get(carrier_id, {})
carrier = dataset.carrier_by_id[carrier_id]
with st.expander("Change this carrier and re-plan it", icon=":material/tune:"):
    st.caption(
        "The fund's allocation to this carrier stays fixed; only this carrier is solved again. "
        "The result is drawn over the plan below (grey outlines: before; filled bars: after)."
    )
    with st.form(f"replan_{carrier_id}"):
        crew_changes = []
        columns = st.columns(max(1, len(pools)))
        for column, (crew_type, pool) in zip(columns, sorted(pools.items()), strict=False):
            winter_now = pool.capacity if pool.winter_capacity is None else pool.winter_capacity
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
                float(winter_now),
                step=1.0,
                key=f"winter_{carrier_id}_{crew_type}",
            )
            if capacity != pool.capacity or winter != winter_now:
                crew_changes.append((crew_type, capacity, winter))
        lead_change = st.number_input(
            "Change every site's lead time by (months; negative = earlier delivery)",
            -24,
            24,
            0,
            key=f"lead_{carrier_id}",
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
    if st.session_state.get(f"changes_{carrier_id}") is not None and st.button(
        "Clear the re-plan", key=f"clear_{carrier_id}"
    ):
        st.session_state[f"changes_{carrier_id}"] = None
        st.rerun()

changes = st.session_state.get(f"changes_{carrier_id}")
replanned = _state.replanned_views(national, carrier_id, changes) if changes is not None else None

# ---------------------------------------------------------------- the carrier's figures

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

if replanned is not None:
    before, after = views.summary, replanned.summary
    after_row = replanned.carriers.set_index("carrier_id").loc[carrier_id]
    st.markdown(
        f"**Re-planned** ({after['status']}, {after['wall_seconds']:.1f} s): " + _state.changes_sentence(changes)
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
    columns[1].metric(
        "Last site finishes",
        scenario.month_label(after["makespan"]) if after["makespan"] else "n/a",
        delta=change(after["makespan"], before["makespan"], " months"),
        delta_color="inverse",
    )
    columns[2].metric(
        "People left without service",
        _state.people(after["population_left_without_service"]),
        delta=change(after["population_left_without_service"], before["population_left_without_service"]),
        delta_color="inverse",
    )
    columns[3].metric("Done by the deadline", "yes" if after_row["on_time"] else "no")

# ---------------------------------------------------------------- the Gantt

shown = replanned if replanned is not None else views
hub_by_site = hubs(dataset, carrier_id)
hub_groups = plots.gantt_groups(shown.schedule, hub_by_site)["group"].nunique()
GROUPINGS = {"hub": "hub and kind", "kind": "kind only"}
left, middle, right = st.columns([3, 1, 1])
by = (
    middle.segmented_control(
        "Group rows by",
        list(GROUPINGS),
        format_func=GROUPINGS.get,
        default="hub" if hub_groups <= MAX_HUB_GROUPS else "kind",  # a big carrier starts with three rows
        key=f"group_by_{carrier_id}",
    )
    or "hub"
)
group_names = list(dict.fromkeys(plots.gantt_groups(shown.schedule, hub_by_site, by)["group"]))
expand_all = right.toggle("Expand every group", key=f"expand_all_{carrier_id}")
expanded = left.multiselect(
    "Groups to expand (a group is a hub and the sites of one kind that hang off it)"
    if by == "hub"
    else "Groups to expand (one group per kind of site)",
    group_names,
    key=f"expanded_{carrier_id}" if by == "hub" else f"expanded_{carrier_id}_by_kind",
    disabled=expand_all,
    placeholder="All groups collapsed: pick groups to see their sites",
)
path = critical_path(shown.plan, carrier_id)
heading = f"{carrier_id} re-planned against the baseline" if replanned is not None else f"{carrier_id}: schedule"
run = _state.views_run(national)
_state.chart(
    plots.schedule_gantt(
        shown.schedule,
        hub_by_site,
        dependency_table(dataset, carrier_id),
        expanded=True if expand_all else expanded,
        critical=path,
        baseline=views.schedule if replanned is not None else None,
        deadline_month=deadline_month,
        first_month=scenario.start,
        last_month=scenario.month_label(max(scenario.horizon, shown.plan.horizon or 0) - 1),
        title=f"{heading} by {GROUPINGS[by]} (critical path outlined)",
        by=by,
    ),
    shown.schedule,
    _state.plan_caption(f"{heading} (schedule by site)", national),
    key=f"gantt_{carrier_id}",
    run=run,
)
st.caption(
    "Critical path (the chain that ends at the last finish): "
    + (" → ".join(path) if path else "none, nothing is replaced")
    + ". Drag across the chart to zoom, double-click to reset."
)

left, right = st.columns(2)
with left:
    _state.chart(
        plots.crews_over_time(shown.monthly, title=f"{heading}: crews in use against capacity"),
        shown.monthly,
        _state.plan_caption(f"{heading}: crews in use against capacity, by month", national),
        key=f"crews_{carrier_id}",
        run=run,
    )
with right:
    _state.chart(
        plots.cumulative_spend(shown.monthly, money_usd, title=f"{heading}: cumulative spend against money available"),
        shown.monthly,
        _state.plan_caption(f"{heading}: cumulative spend against money available, by month", national),
        key=f"spend_{carrier_id}",
        run=run,
    )
_state.report_downloads(views, key=f"carrier_report_{carrier_id}")

# ---------------------------------------------------------------- the value of one more dollar

st.subheader("The value of $1M more")
st.caption(
    "This carrier re-planned alone with its allocation and with $1M more (finite differences: a site is bought "
    "whole, so a larger or smaller step can buy more or less per dollar; see `rrplan value`)."
)
value = _state.value_of_more_money(national, carrier_id)
if value is None and st.button("Compute the value of $1M more", key=f"value_{carrier_id}", icon=":material/paid:"):
    value = _state.value_of_more_money(national, carrier_id, compute=True)
if value is not None:
    columns = st.columns(3)
    columns[0].metric("People kept connected per $1M", f"{value['people_connected_per_1m']:,.0f}")
    columns[1].metric("Person-months connected per $1M", f"{value['person_months_connected_per_1m']:,.0f}")
    columns[2].metric("Buys", "another site" if value["bought_anything"] else "nothing more")

# ---------------------------------------------------------------- what would make us on time

st.subheader("What would make us on time")
if row["on_time"]:
    st.caption(f"{carrier_id} already finishes every site by the deadline ({deadline_month}).")
else:
    st.caption(
        "Each lever alone, searched by re-planning this carrier (the least own money; the least factor on every "
        "crew pool; the fewest months of earlier delivery). Crews and lead times are searched with any money "
        "shortfall paid, since without every site paid for no schedule is on time. 'All together' pays the "
        "shortfall, shortens lead times by the least the dependencies need, then searches the crews."
    )
    results = _state.least_changes(national, carrier_id)
    if results is None:
        if st.button("Compute what would make us on time", key=f"least_{carrier_id}", icon=":material/calculate:"):
            results = _state.least_changes(national, carrier_id, compute=True)
    if results is not None:
        columns = st.columns(len(LEVERS))
        for column, result in zip(columns, results, strict=True):
            together = result.lever == "together"
            if not result.found:
                value = "not enough" if together else "not enough alone"
            elif result.lever == "money":
                value = f"+{usd(result.value)}"
            elif result.lever in ("crews", "together"):
                value = f"x{result.value:.2f} crews" + (" and more" if together else "")
            else:
                value = f"{int(result.value)} months earlier"
            column.metric("All together" if together else f"Least {result.lever}", value, help=result.note)
            column.caption(result.note)
        trials = trials_table(results)
        _state.chart(
            plots.least_change_trials(trials, deadline, title=f"{carrier_id}: re-plans tried for each lever"),
            trials,
            _state.plan_caption(f"{carrier_id}: re-plans tried for each lever to finish on time", national),
            key=f"trials_{carrier_id}",
            run=_state.views_run(national),
        )

# ---------------------------------------------------------------- map and unfunded sites

months = _state.month_options(scenario, national.summary["horizon"])
chosen = st.select_slider(
    "Month shown on the map",
    options=months,
    value=months[min(deadline, len(months) - 1)],
    key="carrier_month",
)
_state.chart(
    plots.site_map(
        views.schedule,
        months.index(chosen),
        deadline,
        month=chosen,
        title=f"{carrier_id}: sites by state in {chosen}",
        marker_size=8,
    ),
    views.schedule[["site_id", "kind", "population", "lat", "lon", "month", "finish_month", "replaced"]],
    _state.plan_caption(f"{carrier_id}: sites by state in {chosen}", national),
    key=f"map_{carrier_id}",
    run=run,
)

unfunded = views.schedule[~views.schedule["replaced"]]
st.subheader(f"Sites left unfunded ({len(unfunded):,})")
if len(unfunded):
    _state.table(
        unfunded[["site_id", "kind", "population", "cost_usd", "duration"]],
        _state.plan_caption(f"{carrier_id}: sites left unfunded", national),
        key=f"unfunded_{carrier_id}",
        run=run,
        hide_index=True,
        column_config={
            "cost_usd": st.column_config.NumberColumn("cost (USD)", format=_state.MONEY_COLUMN),
            "population": st.column_config.NumberColumn("people", format="localized"),
            "duration": st.column_config.NumberColumn("months of work"),
        },
    )
else:
    st.caption("Every site of this carrier is replaced within the horizon.")
