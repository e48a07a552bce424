"""Tables -> plotly figures: the charts the app and the reports show. No solving, no streamlit.

Every function takes a table made by `planner.analysis.reports` (schedule_table, carriers_table,
monthly_table) and returns a `plotly.graph_objects.Figure` with a title and labelled axes.
Colours come from two palettes defined once here, so a site state or a site kind has the
same colour on every screen: `STATE_COLOURS` (covered gear in service, in work, replaced,
shut down) and `KIND_COLOURS` (core, backhaul, ran, other). Both use the Okabe-Ito
colour-blind-safe palette.

Maps are drawn without any network access: plotly's `geo` subplots make plotly.js fetch
topojson from a CDN, so `site_map` instead draws plain cartesian axes in degrees with the US
state outlines from `planner/data/us_states.geojson` as line traces, and fixes the aspect
ratio so that a degree of longitude is drawn cos(latitude) as wide as a degree of latitude.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

STATES_GEOJSON = Path(__file__).resolve().parents[1] / "data" / "us_states.geojson"

# Site states in a month (see `site_states`), in the order a site passes through them.
COVERED, IN_WORK, REPLACED, SHUT_DOWN = "covered gear in service", "in work", "replaced", "shut down"
SITE_STATES = (COVERED, IN_WORK, REPLACED, SHUT_DOWN)
STATE_COLOURS = {
    COVERED: "#D55E00",  # vermillion: people still depend on Huawei/ZTE gear
    IN_WORK: "#E69F00",  # orange: crews on site, covered gear still carrying traffic
    REPLACED: "#009E73",  # bluish green: on new, trusted gear
    SHUT_DOWN: "#4D4D4D",  # dark grey: covered gear switched off, nothing replaced it
}
KIND_COLOURS = {
    "core": "#0072B2",  # blue
    "backhaul": "#56B4E9",  # sky blue
    "ran": "#CC79A7",  # reddish purple
    "other": "#999999",  # grey
}
MONEY_COLOURS = {
    "demand": "#BBBBBB",
    "allocation": "#0072B2",
    "own funds": "#56B4E9",
    "spend": "#009E73",
    "available": "#D55E00",
}
OUTLINE_COLOUR = "#9A9A9A"
MONTH_FORMAT = "%Y-%m"
# Money ticks: "$300M", "$1.5B" (plotly's SI exponent format would write a billion as "1G").
MONEY_TICKS = {"tickprefix": "$", "exponentformat": "B", "separatethousands": True}


def month_dates(labels) -> pd.Series:
    """`YYYY-MM` labels -> timestamps on the first of the month (for date axes)."""
    return pd.to_datetime(pd.Series(list(labels), dtype="object").astype(str) + "-01", format="%Y-%m-%d")


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str, height: float = 450, **more) -> go.Figure:
    """Title, axis titles, and a legend in the band between title and plot.

    Title and legend are placed in pixels from the top (container coordinates), so they
    never overlap however tall the figure is.
    """
    height = int(height)
    fig.update_layout(
        title={"text": title, "yref": "container", "y": 1 - 14 / height, "yanchor": "top"},
        xaxis_title=x_title,
        yaxis_title=y_title,
        height=height,
        template="plotly_white",
        margin={"t": 95, "l": 60, "r": 20, "b": 40},
        legend={"orientation": "h", "yref": "container", "y": 1 - 50 / height, "yanchor": "top", "xanchor": "left", "x": 0},
        **more,
    )
    return fig


def _mark_month(fig: go.Figure, month: str | None, text: str, row: int | None = None) -> None:
    """A dashed vertical line at a `YYYY-MM` month with a label (drawn as a shape: no annotation bugs on dates)."""
    if not month:
        return
    when = month_dates([month]).iloc[0]
    kwargs = {} if row is None else {"row": row, "col": 1}
    fig.add_vline(x=when, line={"color": "#333333", "dash": "dash", "width": 1}, **kwargs)
    fig.add_annotation(
        x=when,
        y=1.0,
        yref="paper",
        text=text,
        showarrow=False,
        xanchor="left",
        yanchor="top",
        font={"size": 11, "color": "#333333"},
        bgcolor="rgba(255,255,255,0.8)",
    )


# ---------------------------------------------------------------- national, over time


def coverage_over_time(
    monthly: pd.DataFrame, deadline_month: str | None = None, title: str = "People by service state, per month"
) -> go.Figure:
    """Stacked areas: people served by covered gear, by new (replaced) gear, and left without service."""
    x = month_dates(monthly["month"])
    fig = go.Figure()
    for column, state, name in (
        ("population_on_covered_gear", COVERED, "on covered gear"),
        ("population_on_new_gear", REPLACED, "on new gear"),
        ("population_without_service", SHUT_DOWN, "without service"),
    ):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=monthly[column],
                name=name,
                stackgroup="people",
                mode="lines",
                line={"width": 0.5, "color": STATE_COLOURS[state]},
                fillcolor=STATE_COLOURS[state],
                hovertemplate="%{x|%Y-%m}: %{y:,.0f} people<extra>" + name + "</extra>",
            )
        )
    _mark_month(fig, deadline_month, "deadline")
    _layout(fig, title, "Month", "People")
    fig.update_xaxes(tickformat=MONTH_FORMAT)
    fig.update_yaxes(tickformat=",.0f")
    return fig


def spend_over_time(
    monthly: pd.DataFrame, money_available_usd: float | None = None, title: str = "Spend per month and cumulative spend"
) -> go.Figure:
    """Bars of spend per month, a line of cumulative spend, and optionally the money available."""
    x = month_dates(monthly["month"])
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=x,
            y=monthly["spend_usd"],
            name="spend per month",
            marker_color=MONEY_COLOURS["allocation"],
            hovertemplate="%{x|%Y-%m}: $%{y:,.0f}<extra>spend per month</extra>",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=monthly["cumulative_spend_usd"],
            name="cumulative spend",
            mode="lines",
            line={"color": MONEY_COLOURS["spend"], "width": 2},
            hovertemplate="%{x|%Y-%m}: $%{y:,.0f}<extra>cumulative spend</extra>",
        ),
        secondary_y=True,
    )
    if money_available_usd is not None:
        fig.add_trace(
            go.Scatter(
                x=[x.iloc[0], x.iloc[-1]],
                y=[money_available_usd] * 2,
                name="money available",
                mode="lines",
                line={"color": MONEY_COLOURS["available"], "dash": "dash", "width": 2},
                hovertemplate="$%{y:,.0f}<extra>money available</extra>",
            ),
            secondary_y=True,
        )
    _layout(fig, title, "Month", "Spend per month (USD)")
    fig.update_yaxes(
        title_text="Cumulative spend (USD)",
        secondary_y=True,
        **MONEY_TICKS,
        rangemode="tozero",
        tickmode="auto",
        showgrid=False,
    )
    fig.update_yaxes(**MONEY_TICKS, secondary_y=False)
    fig.update_xaxes(tickformat=MONTH_FORMAT)
    return fig


def cumulative_spend(
    monthly: pd.DataFrame,
    money_available_usd: float | None = None,
    title: str = "Cumulative spend against money available",
) -> go.Figure:
    """One line of cumulative spend, with the money available (allocation plus own funds) as a ceiling."""
    x = month_dates(monthly["month"])
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=monthly["cumulative_spend_usd"],
            name="cumulative spend",
            mode="lines",
            line={"color": MONEY_COLOURS["spend"], "width": 2},
            line_shape="hv",
            hovertemplate="%{x|%Y-%m}: $%{y:,.0f}<extra>cumulative spend</extra>",
        )
    )
    if money_available_usd is not None:
        fig.add_trace(
            go.Scatter(
                x=[x.iloc[0], x.iloc[-1]],
                y=[money_available_usd] * 2,
                name="money available",
                mode="lines",
                line={"color": MONEY_COLOURS["available"], "dash": "dash", "width": 2},
                hovertemplate="$%{y:,.0f}<extra>money available</extra>",
            )
        )
    _layout(fig, title, "Month", "USD")
    fig.update_xaxes(tickformat=MONTH_FORMAT)
    fig.update_yaxes(**MONEY_TICKS, rangemode="tozero")
    return fig


# ---------------------------------------------------------------- money per carrier


def allocation_by_carrier(
    carriers: pd.DataFrame, title: str = "Demand and allocation by carrier", top: int | None = None
) -> go.Figure:
    """Horizontal bars per carrier: demand (grey) behind the allocation from the fund and own funds."""
    table = carriers.sort_values("demand_usd", ascending=True)
    if top is not None and len(table) > top:
        table = table.iloc[-top:]
    labels = (
        table["name"].where(table["name"].astype(str) != "", table["carrier_id"])
        if "name" in table
        else table["carrier_id"]
    )
    labels = [f"{name} ({cid})" for name, cid in zip(labels, table["carrier_id"])]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=labels,
            x=table["demand_usd"],
            orientation="h",
            name="demand (cost of all sites)",
            marker_color=MONEY_COLOURS["demand"],
            hovertemplate="%{y}: $%{x:,.0f}<extra>demand</extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            y=labels,
            x=table["allocation_usd"],
            orientation="h",
            name="allocation from the fund",
            marker_color=MONEY_COLOURS["allocation"],
            hovertemplate="%{y}: $%{x:,.0f}<extra>allocation</extra>",
        )
    )
    if "own_funds_usd" in table and (table["own_funds_usd"] > 0).any():
        fig.add_trace(
            go.Bar(
                y=labels,
                x=table["own_funds_usd"],
                orientation="h",
                name="own funds",
                marker_color=MONEY_COLOURS["own funds"],
                hovertemplate="%{y}: $%{x:,.0f}<extra>own funds</extra>",
            )
        )
    _layout(fig, title, "USD", "Carrier", barmode="group", height=max(400, 22 * len(table) * 1.6 + 140))
    fig.update_xaxes(**MONEY_TICKS)
    return fig


def allocation_by_rule(allocations: pd.DataFrame, title: str = "Allocation by carrier under each rule") -> go.Figure:
    """Grouped horizontal bars: one row per carrier, one bar per rule.

    `allocations` has a `carrier_id` (or `name`) column and one column of USD per rule.
    """
    label_column = "name" if "name" in allocations else "carrier_id"
    rules = [c for c in allocations.columns if c not in ("carrier_id", "name", "demand_usd")]
    table = allocations.sort_values(rules[0] if rules else label_column)
    palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]
    fig = go.Figure()
    for index, rule in enumerate(rules):
        fig.add_trace(
            go.Bar(
                y=table[label_column],
                x=table[rule],
                orientation="h",
                name=rule,
                marker_color=palette[index % len(palette)],
                hovertemplate="%{y}: $%{x:,.0f}<extra>" + rule + "</extra>",
            )
        )
    _layout(
        fig,
        title,
        "Allocation (USD)",
        "Carrier",
        barmode="group",
        height=max(400, 14 * len(table) * max(1, len(rules)) + 140),
    )
    fig.update_xaxes(**MONEY_TICKS)
    return fig


# ---------------------------------------------------------------- one carrier's schedule


def timeline(
    schedule: pd.DataFrame, title: str = "Site replacements", deadline_month: str | None = None, max_rows: int = 400
) -> go.Figure:
    """Gantt chart: one bar per replaced site from its start month to its finish month, coloured by kind."""
    done = schedule[schedule["replaced"]].copy()
    done = done.sort_values(["start", "finish", "site_id"]).head(max_rows)
    fig = go.Figure()
    if len(done):
        begin = month_dates(done["month"])
        end = month_dates(done["finish_month"])
        done["begin"] = begin.values
        done["width_ms"] = (end - begin).dt.total_seconds().values * 1000.0
        for kind in [k for k in KIND_COLOURS if k in set(done["kind"])] + sorted(set(done["kind"]) - set(KIND_COLOURS)):
            rows = done[done["kind"] == kind]
            fig.add_trace(
                go.Bar(
                    y=rows["site_id"],
                    x=rows["width_ms"],
                    base=rows["begin"],
                    orientation="h",
                    name=kind,
                    marker_color=KIND_COLOURS.get(kind, KIND_COLOURS["other"]),
                    customdata=list(zip(rows["month"], rows["finish_month"], rows["population"])),
                    hovertemplate="%{y}: %{customdata[0]} to %{customdata[1]}, %{customdata[2]:,} people<extra>"
                    + kind
                    + "</extra>",
                )
            )
    _mark_month(fig, deadline_month, "deadline")
    _layout(fig, title, "Month", "Site", height=max(350, 14 * len(done) + 160))
    fig.update_xaxes(type="date", tickformat=MONTH_FORMAT)
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=list(done["site_id"]))
    return fig


def crews_over_time(monthly: pd.DataFrame, title: str = "Crews in use against capacity") -> go.Figure:
    """One panel per crew type: units in use each month (bars) against units available (step line).

    Reads the `crew_<type>_used` and `crew_<type>_capacity` columns of `monthly_table`.
    """
    crew_types = [
        c[len("crew_") : -len("_used")] for c in monthly.columns if c.startswith("crew_") and c.endswith("_used")
    ]
    x = month_dates(monthly["month"])
    fig = make_subplots(
        rows=max(1, len(crew_types)),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=[f"{k} crews" for k in crew_types] or [""],
    )
    for row, kind in enumerate(crew_types, start=1):
        first = row == 1
        fig.add_trace(
            go.Bar(
                x=x,
                y=monthly[f"crew_{kind}_used"],
                name="in use",
                marker_color=STATE_COLOURS[IN_WORK],
                showlegend=first,
                legendgroup="used",
                hovertemplate="%{x|%Y-%m}: %{y:,.1f} units in use<extra>" + kind + "</extra>",
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=monthly[f"crew_{kind}_capacity"],
                name="capacity",
                mode="lines",
                line={"color": "#333333", "width": 2, "shape": "hv"},
                showlegend=first,
                legendgroup="capacity",
                hovertemplate="%{x|%Y-%m}: %{y:,.1f} units available<extra>" + kind + "</extra>",
            ),
            row=row,
            col=1,
        )
    _layout(fig, title, "", "", height=max(320, 220 * len(crew_types) + 80))
    fig.update_layout(legend={"orientation": "v", "yanchor": "top", "y": 1, "xanchor": "left", "x": 1.02})  # clear of panel titles
    fig.update_yaxes(title_text="Crew units", rangemode="tozero")
    fig.update_xaxes(tickformat=MONTH_FORMAT)
    fig.update_xaxes(title_text="Month", row=max(1, len(crew_types)), col=1)
    return fig


# ---------------------------------------------------------------- maps


def site_states(schedule: pd.DataFrame, period: int, deadline: int) -> pd.Series:
    """Each site's state in a period (months from the start), by the definitions of `planner.analysis.reports`.

    Not replaced: covered gear in service before the deadline, shut down from it. Replaced:
    covered gear in service before its start, in work from start to finish - 1, replaced from finish.
    """
    start = schedule["start"].astype("Float64")
    finish = schedule["finish"].astype("Float64")
    replaced = schedule["replaced"].astype(bool)
    state = pd.Series(COVERED, index=schedule.index, dtype="object")
    state[~replaced & (period >= deadline)] = SHUT_DOWN
    state[replaced & (start <= period).fillna(False) & (finish > period).fillna(False)] = IN_WORK
    state[replaced & (finish <= period).fillna(False)] = REPLACED
    return state


@lru_cache(maxsize=1)
def state_outlines() -> tuple[tuple[float | None, ...], tuple[float | None, ...]]:
    """US state borders as one polyline: lon and lat lists with None between rings (from shipped GeoJSON)."""
    with open(STATES_GEOJSON, encoding="utf-8") as handle:
        geo = json.load(handle)
    lons: list[float | None] = []
    lats: list[float | None] = []
    for feature in geo["features"]:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        for polygon in polygons:
            for ring in polygon:
                for lon, lat, *_ in ring:
                    # The Aleutians cross the antimeridian; keep Alaska in one piece.
                    lons.append(lon - 360.0 if lon > 0 else lon)
                    lats.append(lat)
                lons.append(None)
                lats.append(None)
    return tuple(lons), tuple(lats)


def _map_axes(fig: go.Figure, lons: pd.Series, lats: pd.Series) -> None:
    """Frame the sites (lower 48 if none), and draw a degree of longitude cos(latitude) as wide as one of latitude."""
    lons, lats = lons.dropna(), lats.dropna()
    if len(lons):
        west, east, south, north = lons.min(), lons.max(), lats.min(), lats.max()
    else:
        west, east, south, north = -124.8, -66.9, 24.5, 49.4
    pad_lon, pad_lat = max(1.0, 0.06 * (east - west)), max(1.0, 0.06 * (north - south))
    mid_lat = (south + north) / 2
    fig.update_xaxes(
        range=[west - pad_lon, east + pad_lon],
        title_text="Longitude (degrees)",
        showgrid=False,
        zeroline=False,
        constrain="domain",
    )
    fig.update_yaxes(
        range=[south - pad_lat, north + pad_lat],
        title_text="Latitude (degrees)",
        showgrid=False,
        zeroline=False,
        scaleanchor="x",
        scaleratio=1 / max(0.2, math.cos(math.radians(mid_lat))),
        constrain="domain",
    )


def site_map(
    schedule: pd.DataFrame,
    period: int,
    deadline: int,
    month: str | None = None,
    title: str | None = None,
    marker_size: int = 6,
) -> go.Figure:
    """Every site at its position, coloured by its state in `period`, over US state outlines (offline)."""
    states = site_states(schedule, period, deadline)
    fig = go.Figure()
    outline_lon, outline_lat = state_outlines()
    fig.add_trace(
        go.Scatter(
            x=outline_lon,
            y=outline_lat,
            mode="lines",
            line={"color": OUTLINE_COLOUR, "width": 0.8},
            hoverinfo="skip",
            showlegend=False,
            name="state borders",
        )
    )
    for state in SITE_STATES:
        rows = schedule[states == state]
        fig.add_trace(
            go.Scatter(
                x=rows["lon"],
                y=rows["lat"],
                mode="markers",
                name=f"{state} ({len(rows):,})",
                marker={"color": STATE_COLOURS[state], "size": marker_size, "line": {"width": 0}},
                customdata=list(zip(rows["site_id"], rows["carrier_id"], rows["kind"], rows["population"])),
                hovertemplate="%{customdata[0]} (%{customdata[1]}, %{customdata[2]}): %{customdata[3]:,} people<extra>"
                + state
                + "</extra>",
            )
        )
    when = month or f"month {period}"
    _layout(fig, title or f"Sites by state in {when}", "Longitude (degrees)", "Latitude (degrees)", height=560)
    _map_axes(fig, schedule["lon"].astype("Float64"), schedule["lat"].astype("Float64"))
    return fig


# ---------------------------------------------------------------- sweeps (planner.runs.sweep)

CURVE_FIGURES = {
    "population_left_without_service": "People left without service",
    "carriers_done_by_deadline": "Carriers done by the deadline",
    "sites_replaced": "Sites replaced",
    "exposure_population_months": "Population-months on covered gear",
}


def funding_curve(
    curve: pd.DataFrame, figure: str = "population_left_without_service", title: str | None = None
) -> go.Figure:
    """A sweep's funding curve (`planner.runs.sweep` curve.csv): one line per rule and deadline, fund on x.

    Failed points are left out (a gap in the line), so a failure never reads as a figure.
    """
    label = CURVE_FIGURES.get(figure, figure)
    table = curve[curve["status"] != "failed"].sort_values("fund_usd")
    palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]
    dashes = ["solid", "dash", "dot", "dashdot"]
    fig = go.Figure()
    rules = list(dict.fromkeys(table["rule"]))
    deadlines = list(dict.fromkeys(table["deadline"]))
    for (rule, deadline), line in table.groupby(["rule", "deadline"], sort=False):
        name = f"{rule}, deadline {deadline}" if len(deadlines) > 1 else str(rule)
        fig.add_trace(
            go.Scatter(
                x=line["fund_usd"],
                y=line[figure],
                mode="lines+markers",
                name=name,
                line={
                    "color": palette[rules.index(rule) % len(palette)],
                    "dash": dashes[deadlines.index(deadline) % len(dashes)],
                },
                hovertemplate="$%{x:,.0f}: %{y:,}<extra>" + name + "</extra>",
            )
        )
    _layout(fig, title or f"{label} by fund size", "Fund (USD)", label)
    fig.update_xaxes(**MONEY_TICKS)
    return fig
