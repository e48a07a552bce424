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
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

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
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 1 - 50 / height,
            "yanchor": "top",
            "xanchor": "left",
            "x": 0,
        },
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


def _money_available_line(x: pd.Series, money_available_usd: float) -> go.Scatter:
    """The money a spend chart is measured against: a dashed level line across its months."""
    return go.Scatter(
        x=[x.iloc[0], x.iloc[-1]],
        y=[money_available_usd] * 2,
        name="money available",
        mode="lines",
        line={"color": MONEY_COLOURS["available"], "dash": "dash", "width": 2},
        hovertemplate="$%{y:,.0f}<extra>money available</extra>",
    )


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
        fig.add_trace(_money_available_line(x, money_available_usd), secondary_y=True)
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
        fig.add_trace(_money_available_line(x, money_available_usd))
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
    names = (
        table["name"].where(table["name"].astype(str) != "", table["carrier_id"])
        if "name" in table
        else table["carrier_id"]
    )
    labels = [f"{name} ({cid})" for name, cid in zip(names, table["carrier_id"], strict=True)]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=labels,
            x=table["demand_usd"],
            orientation="h",
            name="demand (cost of all sites)",
            marker_color=MONEY_COLOURS["demand"],
            customdata=table["carrier_id"],  # a click names the carrier (the app opens its screen)
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
            customdata=table["carrier_id"],
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
                customdata=table["carrier_id"],
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
                customdata=table["carrier_id"] if "carrier_id" in table else None,  # a click names the carrier
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
        done["width_ms"] = (end - begin).dt.total_seconds().to_numpy() * 1000.0
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
                    customdata=list(zip(rows["month"], rows["finish_month"], rows["population"], strict=True)),
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
    # A legend to the right, clear of the panel titles.
    fig.update_layout(legend={"orientation": "v", "yanchor": "top", "y": 1, "xanchor": "left", "x": 1.02})
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
def state_shapes() -> dict[str, tuple[str, tuple[tuple[tuple[float, float], ...], ...]]]:
    """State FIPS -> (name, rings of (lon, lat)) from the shipped GeoJSON; the Aleutians kept west of -180."""
    with open(STATES_GEOJSON, encoding="utf-8") as handle:
        geo = json.load(handle)
    shapes = {}
    for feature in geo["features"]:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        rings = tuple(
            tuple((lon - 360.0 if lon > 0 else lon, lat) for lon, lat, *_ in ring)
            for polygon in polygons
            for ring in polygon
        )
        shapes[feature["properties"]["fips"]] = (feature["properties"]["name"], rings)
    return shapes


def _joined(rings) -> tuple[list[float | None], list[float | None]]:
    """Rings as one polyline, None between them (plotly draws, and fills, each piece on its own)."""
    lons: list[float | None] = []
    lats: list[float | None] = []
    for ring in rings:
        lons.extend(lon for lon, _ in ring)
        lats.extend(lat for _, lat in ring)
        lons.append(None)
        lats.append(None)
    return lons, lats


@lru_cache(maxsize=1)
def state_outlines() -> tuple[tuple[float | None, ...], tuple[float | None, ...]]:
    """US state borders as one polyline: lon and lat lists with None between rings (from shipped GeoJSON)."""
    lons, lats = _joined(ring for _, rings in state_shapes().values() for ring in rings)
    return tuple(lons), tuple(lats)


# People without service in a state: the bands of the state layer, and their colours (light to dark).
DARK_BANDS = (
    (0, 0, "nobody"),
    (1, 999, "1-999 people"),
    (1_000, 9_999, "1,000-9,999 people"),
    (10_000, 99_999, "10,000-99,999 people"),
)
DARK_TOP_LABEL = "100,000 people or more"
DARK_COLOURS = ("#F2F2F2", "#FDD0A2", "#FD8D3C", "#D94801", "#7F2704")


def without_service_map(by_state: pd.DataFrame, month: str, title: str | None = None) -> go.Figure:
    """States filled by the people without service there in `month` (`planner.analysis.reports.
    without_service_by_state`), in five bands; hover a state for its figures. Offline: shipped outlines.

    States with sites but no outline (territories such as American Samoa) are named in the title."""
    shapes = state_shapes()
    people = dict(zip(by_state["state_fips"], by_state["people_without_service"], strict=True))
    bands = [*DARK_BANDS, (100_000, math.inf, DARK_TOP_LABEL)]
    fig = go.Figure()
    for (low, high, label), colour in zip(bands, DARK_COLOURS, strict=True):
        members = [fips for fips in shapes if low <= people.get(fips, 0) <= high]
        lons, lats = _joined(ring for fips in members for ring in shapes[fips][1])
        fig.add_trace(
            go.Scatter(
                x=lons or [None],
                y=lats or [None],
                mode="lines",
                fill="toself",
                fillcolor=colour,
                line={"color": OUTLINE_COLOUR, "width": 0.6},
                name=f"{label} ({len(members)} state{'' if len(members) == 1 else 's'})",
                hoverinfo="skip",
            )
        )
    drawn = by_state[by_state["state_fips"].isin(list(shapes))]
    centres = {fips: _centre(max(shapes[fips][1], key=len)) for fips in drawn["state_fips"]}
    fig.add_trace(
        go.Scatter(
            x=[centres[f][0] for f in drawn["state_fips"]],
            y=[centres[f][1] for f in drawn["state_fips"]],
            mode="markers",
            marker={"size": 6, "color": "rgba(0,0,0,0)"},
            customdata=list(
                zip(
                    drawn["state"],
                    drawn["people_without_service"],
                    drawn["sites_shut_down"],
                    drawn["sites"],
                    strict=True,
                )
            ),
            hovertemplate="%{customdata[0]}: %{customdata[1]:,} people without service; "
            "%{customdata[2]:,} of %{customdata[3]:,} sites shut down<extra></extra>",
            showlegend=False,
            name="states",
        )
    )
    elsewhere = by_state[~by_state["state_fips"].isin(list(shapes))]
    outside = "; ".join(f"{r.state}: {r.people_without_service:,}" for r in elsewhere.itertuples())
    heading = title or f"People without service by state in {month}"
    _layout(
        fig,
        heading + (f" (not on the map: {outside})" if outside else ""),
        "Longitude (degrees)",
        "Latitude (degrees)",
        height=520,
    )
    points = [point for f in drawn["state_fips"] for ring in shapes[f][1] for point in ring]
    _map_axes(
        fig,
        pd.Series([lon for lon, _ in points], dtype="Float64"),
        pd.Series([lat for _, lat in points], dtype="Float64"),
    )
    return fig


def _centre(ring) -> tuple[float, float]:
    """The middle of a ring's bounding box (where the hover point of a state sits)."""
    lons = [lon for lon, _ in ring]
    lats = [lat for _, lat in ring]
    return (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2


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


STATE_CODES = {state: code for code, state in enumerate(SITE_STATES)}
SITE_HOVER = "%{customdata[0]} (%{customdata[1]}, %{customdata[2]}): %{customdata[3]:,} people"


def site_map(
    schedule: pd.DataFrame,
    period: int,
    deadline: int,
    month: str | None = None,
    title: str | None = None,
    marker_size: int = 6,
    months: Sequence[str] = (),
) -> go.Figure:
    """Every site at its position, coloured by its state in `period`, over US state outlines (offline).

    The legend's four entries count the sites in each state. Given `months` (the label of every
    period from 0), the map also plays through them: a Play and a Pause button and a month slider,
    all in the browser (plotly frames, one per month, each recolouring the sites and recounting the
    legend), starting at `period`.
    """
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
    customdata = list(
        zip(schedule["site_id"], schedule["carrier_id"], schedule["kind"], schedule["population"], strict=True)
    )
    hover = SITE_HOVER + "<extra>%{meta}</extra>"
    for state in SITE_STATES:
        rows = schedule[states == state]
        chosen = (states == state).to_numpy()
        fig.add_trace(
            go.Scatter(
                x=rows["lon"],
                y=rows["lat"],
                mode="markers",
                name=f"{state} ({len(rows):,})",
                marker={"color": STATE_COLOURS[state], "size": marker_size, "line": {"width": 0}},
                customdata=[c for c, keep in zip(customdata, chosen, strict=True) if keep],
                meta=state,
                hovertemplate=hover,
                visible=True,
            )
        )
    when = month or f"month {period}"
    _layout(fig, title or f"Sites by state in {when}", "Longitude (degrees)", "Latitude (degrees)", height=560)
    _map_axes(fig, schedule["lon"].astype("Float64"), schedule["lat"].astype("Float64"))
    if months:
        _play_through_months(
            fig, schedule, deadline, list(months), period, title or f"Sites by state in {when}", customdata
        )
    return fig


def _play_through_months(
    fig: go.Figure,
    schedule: pd.DataFrame,
    deadline: int,
    months: list[str],
    period: int,
    title: str,
    customdata: list[tuple],
) -> None:
    """Frames for every month, a Play/Pause pair and a month slider (see `site_map`).

    The frames need no positions: the sites are one more trace, coloured by a code per site (0-3,
    a colour scale of four bands), and each frame sends only the codes, the legend's counts and
    the title: about 2 bytes a site a month, where four traces of positions would be thirty.
    """
    first = months[min(period, len(months) - 1)]
    title_of = (lambda m: title.replace(first, m)) if first in title else (lambda m: title)
    bands = []
    for code, state in enumerate(SITE_STATES):
        bands += [
            [code / len(SITE_STATES), STATE_COLOURS[state]],
            [(code + 1) / len(SITE_STATES), STATE_COLOURS[state]],
        ]
    codes_now = site_states(schedule, period, deadline).map(STATE_CODES).to_numpy() + 0.5
    coloured = len(fig.data)
    fig.add_trace(
        go.Scatter(
            x=schedule["lon"],
            y=schedule["lat"],
            mode="markers",
            name="sites",
            showlegend=False,
            customdata=customdata,
            hovertemplate=SITE_HOVER + "<extra></extra>",
            marker={
                "color": codes_now,
                "colorscale": bands,
                "cmin": 0,
                "cmax": len(SITE_STATES),
                "size": fig.data[1].marker.size,
                "line": {"width": 0},
            },
            visible=False,  # shown when playing: the four state traces above carry the hover and the legend
        )
    )
    frames = []
    for index, label in enumerate(months):
        states = site_states(schedule, index, deadline)
        counts = states.value_counts()
        frames.append(
            go.Frame(
                name=label,
                data=[  # the state traces keep only their legend entry; the coloured trace shows the sites
                    *(
                        go.Scatter(x=[None], y=[None], name=f"{state} ({int(counts.get(state, 0)):,})")
                        for state in SITE_STATES
                    ),
                    go.Scatter(marker={"color": states.map(STATE_CODES).to_numpy() + 0.5}, visible=True),
                ],
                traces=[1, 2, 3, 4, coloured],
                layout={"title": {"text": title_of(label)}},
            )
        )
    fig.frames = frames
    step_args = {"mode": "immediate", "frame": {"duration": 0, "redraw": True}, "transition": {"duration": 0}}
    fig.update_layout(
        margin={"b": 150},
        height=int(fig.layout.height or 560) + 110,
        updatemenus=[
            {
                "type": "buttons",
                "direction": "left",
                "x": 0,
                "y": -0.13,  # below the longitude axis, in the bottom margin
                "yanchor": "top",
                "xanchor": "left",
                "buttons": [
                    {
                        "label": "Play",
                        "method": "animate",
                        "args": [None, {**step_args, "frame": {"duration": 450, "redraw": True}, "fromcurrent": True}],
                    },
                    {"label": "Pause", "method": "animate", "args": [[None], step_args]},
                ],
            }
        ],
        sliders=[
            {
                "active": months.index(first),
                "x": 0.14,
                "len": 0.86,
                "y": -0.1,
                "yanchor": "top",
                "currentvalue": {"prefix": "Month shown: "},
                "steps": [{"label": label, "method": "animate", "args": [[label], step_args]} for label in months],
            }
        ],
    )


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


# ---------------------------------------------------------------- one carrier's schedule, as a scheduler reads it

GANTT_ROW_PX = 22  # every row the same height, so the figure is rows x 22 px plus the margins
GANTT_TOP_PX = 170  # title (14 px), legend (from 50 px), zoom buttons (105-130 px) and the month axis below them
GANTT_BOTTOM_PX = 60  # the range slider
CRITICAL_COLOUR = "#D55E00"  # vermillion, as in STATE_COLOURS: the chain that sets the last finish
BASELINE_COLOUR = "#7F7F7F"
NOT_FUNDED = "not funded"


GANTT_GROUPINGS = ("hub", "kind")


def gantt_groups(schedule: pd.DataFrame, hub_by_site: dict[str, str | None], by: str = "hub") -> pd.DataFrame:
    """Site -> Gantt group: "<hub> · <kind>" (a tower under its backhaul, a backhaul under its core), or "<kind>".

    `hub_by_site` is `planner.analysis.critical.hubs`; `by="kind"` puts every site of a kind
    in one group (three rows for a carrier with 35 backhaul hubs). Groups are ordered by
    their first start, groups with nothing funded last, ties by name; sites within a group
    by start then id. Returns site_id, group, in display order.
    """
    if by not in GANTT_GROUPINGS:
        raise ValueError(f"group by one of {', '.join(GANTT_GROUPINGS)}, not {by!r}")
    table = schedule[["site_id", "kind", "start"]].copy()
    table["group"] = [
        kind if by == "kind" else f"{hub} · {kind}" if hub else f"{kind} (no hub)"
        for hub, kind in zip([hub_by_site.get(s) for s in table["site_id"]], table["kind"], strict=True)
    ]
    first = table.groupby("group")["start"].min()
    order = sorted(first.index, key=lambda g: (pd.isna(first[g]), 0 if pd.isna(first[g]) else int(first[g]), g))
    table["group_order"] = table["group"].map({g: i for i, g in enumerate(order)})
    table["start_order"] = table["start"].astype("Float64").fillna(float("inf"))
    table = table.sort_values(["group_order", "start_order", "site_id"])
    return table[["site_id", "group"]].reset_index(drop=True)


def _when(spans: pd.DataFrame, key: str, column: str) -> pd.Timestamp:
    """A row's begin or end as a Timestamp (the frame holds only Timestamps; pandas' types cannot say so)."""
    value: Any = spans.loc[key, column]
    return pd.Timestamp(value)


def _span_ms(spans: pd.DataFrame, key: str) -> float:
    """A bar's length in milliseconds (plotly's unit for a date axis)."""
    return (_when(spans, key, "end") - _when(spans, key, "begin")).total_seconds() * 1000


def _gantt_rows(groups: pd.DataFrame, expanded) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    """Rows as (key, kind of row, group) and the row each site is drawn in (its own, or its group's)."""
    rows: list[tuple[str, str, str]] = []
    row_of_site: dict[str, str] = {}
    for group_key, members in groups.groupby("group", sort=False):
        group = str(group_key)
        rows.append((f"group:{group}", "group", group))
        open_ = expanded is True or group in set(expanded or ())
        for site_id in members["site_id"]:
            if open_:
                rows.append((f"site:{site_id}", "site", group))
            row_of_site[site_id] = f"site:{site_id}" if open_ else f"group:{group}"
    return rows, row_of_site


def _spans(schedule: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """Per row key (site and group rows): begin and end timestamps of the replaced sites, and counts."""
    table = schedule.merge(groups, on="site_id")
    done = table[table["replaced"]].copy()
    done["begin"] = month_dates(done["month"]).values
    done["end"] = month_dates(done["finish_month"]).values
    sites = done.assign(key="site:" + done["site_id"])[["key", "begin", "end"]]
    spans = done.groupby("group").agg(begin=("begin", "min"), end=("end", "max")).reset_index()
    spans["key"] = "group:" + spans["group"]
    return pd.concat([sites, spans[["key", "begin", "end"]]], ignore_index=True).set_index("key")


def schedule_gantt(
    schedule: pd.DataFrame,
    hub_by_site: dict[str, str | None],
    dependencies: pd.DataFrame | None = None,
    *,
    expanded=(),
    critical: tuple[str, ...] | list[str] = (),
    baseline: pd.DataFrame | None = None,
    deadline_month: str | None = None,
    first_month: str | None = None,
    last_month: str | None = None,
    title: str = "Schedule",
    by: str = "hub",
) -> go.Figure:
    """A scheduler's Gantt of one carrier: groups by hub and kind (or kind, `by`), collapsible, months on top.

    schedule: `schedule_table` rows (the re-plan when `baseline` is given); hub_by_site:
    `planner.analysis.critical.hubs`; dependencies: `critical.dependency_table`
    (predecessor_id, site_id); expanded: the group names (see `gantt_groups`) whose sites
    get a row each, or True for all; critical: `critical.critical_path`, outlined in
    vermillion with its links; baseline: the schedule before a re-plan, drawn as hollow
    grey bars behind the filled ones. Every group has one summary bar from its first start
    to its last finish; sites not funded get a "not funded" mark in their row. A dependency
    is an arrow from the predecessor's finish to the successor's start, between the rows
    that show them (a collapsed group's row stands for all its sites). The deadline is a
    dashed vertical line; drag to zoom, or use the buttons and the range slider.
    """
    groups = gantt_groups(schedule, hub_by_site, by)
    rows, row_of_site = _gantt_rows(groups, expanded)
    keys = [key for key, _, _ in rows]
    spans = _spans(schedule, groups)
    base_spans = _spans(baseline, groups) if baseline is not None else None
    kind_of = dict(zip(schedule["site_id"], schedule["kind"], strict=True))
    replaced = dict(zip(schedule["site_id"], schedule["replaced"].astype(bool), strict=True))
    group_sites = groups.groupby("group", sort=False)["site_id"].apply(list).to_dict()
    critical_set = set(critical)
    labels = []
    for key, row_type, group in rows:
        if row_type == "group":
            members = group_sites[group]
            mark = "▾" if key not in {row_of_site[s] for s in members} else "▸"
            labels.append(f"<b>{mark} {group}</b> ({len(members):,})")
        else:
            labels.append(key.removeprefix("site:"))

    fig = go.Figure()
    if base_spans is not None:
        shown = [k for k in keys if k in base_spans.index]
        fig.add_trace(
            go.Bar(
                y=shown,
                x=[_span_ms(base_spans, k) for k in shown],
                base=[base_spans.loc[k, "begin"] for k in shown],
                orientation="h",
                width=0.8,
                name="baseline (before the re-plan)",
                marker={"color": "rgba(0,0,0,0)", "line": {"color": BASELINE_COLOUR, "width": 1.5}},
                hovertemplate="%{y}: baseline %{base|%Y-%m} to %{x|%Y-%m}<extra>baseline</extra>",
            )
        )

    def row_kind(key: str, group: str) -> str:
        return kind_of[key.removeprefix("site:")] if key.startswith("site:") else kind_of[group_sites[group][0]]

    kinds_present = [k for k in KIND_COLOURS if k in set(kind_of.values())] + sorted(
        set(kind_of.values()) - set(KIND_COLOURS)
    )
    for kind in kinds_present:
        for row_type, width in (("group", 0.45), ("site", 0.6)):
            chosen = [
                (key, group)
                for key, kind_of_row, group in rows
                if kind_of_row == row_type and key in spans.index and row_kind(key, group) == kind
            ]
            if not chosen:
                continue
            on_path = [
                (key.removeprefix("site:") in critical_set)
                if row_type == "site"
                else any(s in critical_set for s in group_sites[group])
                for key, group in chosen
            ]
            fig.add_trace(
                go.Bar(
                    y=[key for key, _ in chosen],
                    x=[_span_ms(spans, k) for k, _ in chosen],
                    base=[spans.loc[k, "begin"] for k, _ in chosen],
                    orientation="h",
                    width=width,
                    name=kind if row_type == "site" else f"{kind} (group)",
                    legendgroup=kind,
                    showlegend=row_type == "site"
                    or not any(r[1] == "site" and row_kind(r[0], r[2]) == kind for r in rows),
                    marker={
                        "color": KIND_COLOURS.get(kind, KIND_COLOURS["other"]),
                        "opacity": 1.0 if row_type == "site" else 0.75,
                        "line": {
                            "color": [CRITICAL_COLOUR if c else "rgba(0,0,0,0)" for c in on_path],
                            "width": [2.5 if c else 0 for c in on_path],
                        },
                    },
                    customdata=[
                        [
                            _when(spans, k, "begin").strftime("%Y-%m"),
                            _when(spans, k, "end").strftime("%Y-%m"),
                        ]
                        for k, _ in chosen
                    ],
                    hovertemplate="%{y}: %{customdata[0]} to %{customdata[1]}<extra>" + kind + "</extra>",
                )
            )

    # Sites not funded: a mark in the site's row, or a count in its collapsed group's row.
    axis_start = (
        month_dates([first_month]).iloc[0]
        if first_month
        else (spans["begin"].min() if len(spans) else pd.Timestamp("2000-01-01"))
    )
    unfunded_x, unfunded_y, unfunded_text = [], [], []
    for key, row_type, group in rows:
        members = group_sites[group]
        missing = [s for s in members if not replaced[s]]
        if row_type == "site" and not replaced[key.removeprefix("site:")]:
            unfunded_x.append(axis_start)
            unfunded_y.append(key)
            unfunded_text.append(NOT_FUNDED)
        elif row_type == "group" and missing:
            funded_span = key in spans.index
            unfunded_x.append(spans.loc[key, "end"] if funded_span else axis_start)
            unfunded_y.append(key)
            unfunded_text.append(
                f"{len(missing):,} of {len(members):,} {NOT_FUNDED}"
                if funded_span
                else f"{NOT_FUNDED} ({len(missing):,})"
            )
    if unfunded_y:
        fig.add_trace(
            go.Scatter(
                x=unfunded_x,
                y=unfunded_y,
                text=unfunded_text,
                mode="markers+text",
                textposition="middle right",
                marker={"symbol": "x-thin-open", "size": 8, "color": STATE_COLOURS[SHUT_DOWN], "line": {"width": 1.5}},
                textfont={"size": 11, "color": STATE_COLOURS[SHUT_DOWN]},
                name=NOT_FUNDED,
                hovertemplate="%{y}: %{text}<extra></extra>",
            )
        )

    # Dependencies between the rows that show them: predecessor's finish -> successor's start.
    if dependencies is not None and len(dependencies):
        links: dict[tuple[str, str], list] = {}
        for predecessor, successor in zip(dependencies["predecessor_id"], dependencies["site_id"], strict=True):
            if predecessor not in row_of_site or successor not in row_of_site:
                continue
            if not (replaced.get(predecessor) and replaced.get(successor)):
                continue
            pair = (row_of_site[predecessor], row_of_site[successor])
            if pair[0] == pair[1]:
                continue
            finish = spans.loc[f"site:{predecessor}", "end"] if f"site:{predecessor}" in spans.index else None
            start = spans.loc[f"site:{successor}", "begin"] if f"site:{successor}" in spans.index else None
            if finish is None:
                finish = _site_span(schedule, predecessor)[1]
            if start is None:
                start = _site_span(schedule, successor)[0]
            link_on_path = predecessor in critical_set and successor in critical_set
            found = links.setdefault(pair, [finish, start, False])
            found[0], found[1], found[2] = max(found[0], finish), min(found[1], start), found[2] or link_on_path
        for is_critical in (False, True):
            xs, ys, sizes = [], [], []
            for (from_row, to_row), (finish, start, link_critical) in links.items():
                if link_critical != is_critical:
                    continue
                points = (
                    [(finish, from_row), (finish, to_row), (start, to_row)]
                    if start > finish
                    else [
                        (finish, from_row),
                        (start, to_row),
                    ]
                )
                xs += [p[0] for p in points] + [None]
                ys += [p[1] for p in points] + [None]
                sizes += [0] * (len(points) - 1) + [8, 0]
            if not xs:
                continue
            colour = CRITICAL_COLOUR if is_critical else "#555555"
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines+markers",
                    line={"color": colour, "width": 1.6 if is_critical else 0.8},
                    marker={"symbol": "arrow", "angleref": "previous", "size": sizes, "color": colour},
                    name="critical path" if is_critical else "dependency",
                    hoverinfo="skip",
                    connectgaps=False,
                )
            )
    if critical_set and not any(getattr(t, "name", "") == "critical path" for t in fig.data):
        fig.add_trace(  # the legend entry for the outlined bars, even when no critical link is visible
            go.Scatter(
                x=[None], y=[None], mode="lines", line={"color": CRITICAL_COLOUR, "width": 2.5}, name="critical path"
            )
        )

    _mark_month(fig, deadline_month, "deadline")
    height = GANTT_ROW_PX * len(rows) + GANTT_TOP_PX + GANTT_BOTTOM_PX
    _layout(fig, title, "", "", height=height, barmode="overlay")
    fig.update_layout(margin={"t": GANTT_TOP_PX, "l": 10, "r": 20, "b": GANTT_BOTTOM_PX}, bargap=0)
    x_range = None
    if first_month and last_month:
        x_range = [month_dates([first_month]).iloc[0], month_dates([last_month]).iloc[0] + pd.offsets.MonthBegin(1)]
    plot_px = GANTT_ROW_PX * max(1, len(rows))
    fig.update_xaxes(
        type="date",
        side="top",
        range=x_range,
        tickformat="%b\n%Y",
        dtick="M3",
        ticklabelmode="period",
        minor={"dtick": "M1", "showgrid": True, "gridcolor": "#EEEEEE"},
        showgrid=True,
        gridcolor="#CCCCCC",
        rangeslider={"visible": True, "thickness": min(0.3, 30 / plot_px)},
        rangeselector={
            "buttons": [
                {"count": 6, "label": "6 months", "step": "month", "stepmode": "backward"},
                {"count": 1, "label": "1 year", "step": "year", "stepmode": "backward"},
                {"count": 2, "label": "2 years", "step": "year", "stepmode": "backward"},
                {"label": "all", "step": "all"},
            ],
            "yanchor": "bottom",
            "y": 1 + 40 / plot_px,  # the buttons end 40 px above the plot, clear of the two-line month labels
            "x": 0,
        },
    )
    fig.update_yaxes(
        type="category",
        categoryorder="array",
        categoryarray=keys,
        tickvals=keys,
        ticktext=labels,
        range=[len(keys) - 0.5, -0.5],
        automargin=True,
        fixedrange=True,
        showgrid=False,
    )
    return fig


def _site_span(schedule: pd.DataFrame, site_id: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    row = schedule[schedule["site_id"] == site_id].iloc[0]
    return month_dates([row["month"]]).iloc[0], month_dates([row["finish_month"]]).iloc[0]


# ---------------------------------------------------------------- what would make a carrier on time

LEVER_AXES = {
    "money": "Extra money (USD)",
    "crews": "Crew factor (x every pool)",
    "lead time": "Lead times shortened (months)",
    "together": "Crew factor, with money and lead times",
}


def least_change_trials(trials: pd.DataFrame, deadline: int, title: str = "Re-plans tried per lever") -> go.Figure:
    """One panel per lever: each re-plan the search made (`ontime.trials_table`), its last finish against the deadline.

    Filled green dots finished every site on time; open vermillion ones did not (hover: sites
    replaced). The least change is the leftmost green dot of a panel.
    """
    levers = [lever for lever in LEVER_AXES if lever in set(trials["lever"])] or list(LEVER_AXES)
    fig = make_subplots(rows=1, cols=len(levers), subplot_titles=[LEVER_AXES[lever] for lever in levers])
    for column, lever in enumerate(levers, start=1):
        tried = trials[trials["lever"] == lever].sort_values("value")
        for on_time, name, colour, symbol in (
            (True, "on time", STATE_COLOURS[REPLACED], "circle"),
            (False, "late or not every site", STATE_COLOURS[COVERED], "circle-open"),
        ):
            rows = tried[tried["on_time"] == on_time]
            fig.add_trace(
                go.Scatter(
                    x=rows["value"],
                    y=rows["last_finish"].astype("Float64").fillna(0),
                    mode="markers",
                    name=name,
                    legendgroup=name,
                    showlegend=column == 1,
                    marker={"color": colour, "symbol": symbol, "size": 10, "line": {"width": 2, "color": colour}},
                    customdata=rows["sites_replaced"],
                    hovertemplate="%{x:,.3~f}: last finish month %{y}, %{customdata:,} sites replaced<extra>"
                    + name
                    + "</extra>",
                ),
                row=1,
                col=column,
            )
        fig.add_hline(y=deadline, line={"color": "#333333", "dash": "dash", "width": 1}, row=1, col=column)
        fig.update_xaxes(title_text=LEVER_AXES[lever], row=1, col=column, **(MONEY_TICKS if lever == "money" else {}))
    _layout(fig, title, LEVER_AXES[levers[0]], "Last finish (months after the start)", height=380)
    fig.update_yaxes(rangemode="tozero")
    return fig
