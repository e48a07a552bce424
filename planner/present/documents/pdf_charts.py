"""Static matplotlib charts for the PDF report, drawn onto axes the layout hands over.

The colours are the app's (`planner.present.plots` palettes), so a state or a kind looks the same on
screen and on paper. Months are drawn as periods from the start with `YYYY-MM` tick labels;
money ticks read like $1.2B. Labels from the data have `$` escaped so matplotlib never
reads a carrier's name as mathematics.
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

from planner.core.wording import RULE_NAMES, usd
from planner.present.plots import (
    COVERED,
    KIND_COLOURS,
    MONEY_COLOURS,
    REPLACED,
    SHUT_DOWN,
    STATE_COLOURS,
)
from planner.runs.folder import RunRecord

RULE_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
SMALL = 7.5


def literal(text) -> str:
    """Text matplotlib shows as written (mathtext is triggered by pairs of `$`)."""
    return str(text).replace("$", r"\$")


def money_ticks(axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda value, _: literal(usd(value))))


def people_ticks(axis) -> None:
    axis.set_major_formatter(
        FuncFormatter(lambda value, _: f"{value / 1e6:,.1f}M" if abs(value) >= 1e6 else f"{value:,.0f}")
    )


def month_ticks(ax, record: RunRecord, horizon: int, every_months: int | None = None) -> None:
    """Ticks every 6 months (12 on long horizons), labelled YYYY-MM.

    A locator and a formatter rather than `set_ticks(labels=...)`: ticks are then made once, at
    drawing time, which matters when forty carrier pages each carry two charts.
    """
    step = every_months or (6 if horizon <= 48 else 12)
    ax.xaxis.set_major_locator(FixedLocator(list(range(0, horizon + 1, step))))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: record.month_label(int(round(value)))))
    ax.set_xlim(0, horizon)


def mark_deadline(ax, record: RunRecord) -> None:
    ax.axvline(record.deadline, color="#333333", linestyle="--", linewidth=0.9)
    ax.annotate(
        f"deadline {record.deadline_month}",
        (record.deadline, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, -3),
        textcoords="offset points",
        fontsize=SMALL,
        va="top",
        color="#333333",
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.0},
    )


def _style(ax, title: str) -> None:
    ax.set_title(literal(title), fontsize=10, loc="left", fontweight="bold")
    ax.tick_params(labelsize=SMALL)
    ax.grid(axis="y", color="#e4e7eb", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def coverage(ax, record: RunRecord) -> None:
    """Stacked areas: people on covered gear, on new gear and without service, month by month."""
    monthly = record.monthly
    # A month's state holds for the whole month: repeat the last month at its end so the areas reach the horizon.
    periods = np.append(monthly["period"].to_numpy(dtype=float), len(monthly))
    layers = [
        np.append(values, values[-1])
        for values in (
            monthly[c].to_numpy(dtype=float)
            for c in ("population_on_covered_gear", "population_on_new_gear", "population_without_service")
        )
    ]
    ax.stackplot(
        periods,
        *layers,
        step="post",
        labels=["on covered gear", "on new gear", "without service"],
        colors=[STATE_COLOURS[COVERED], STATE_COLOURS[REPLACED], STATE_COLOURS[SHUT_DOWN]],
        linewidth=0,
    )
    mark_deadline(ax, record)
    month_ticks(ax, record, record.horizon)
    people_ticks(ax.yaxis)
    ax.set_ylabel("People", fontsize=SMALL)
    ax.legend(fontsize=SMALL, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False)
    _style(ax, "Coverage over time: people by service state")


def national_spend(ax, record: RunRecord) -> None:
    """Bars of spend per month; a line of cumulative spend against the money available (right axis)."""
    monthly = record.monthly
    periods = monthly["period"].to_numpy(dtype=float)
    ax.bar(
        periods + 0.5,
        monthly["spend_usd"].to_numpy(dtype=float),
        width=0.8,
        color=MONEY_COLOURS["allocation"],
        label="spend per month",
    )
    money_ticks(ax.yaxis)
    ax.set_ylabel("Spend per month", fontsize=SMALL)
    total = ax.twinx()
    total.step(
        np.append(periods, periods[-1] + 1),
        np.append(monthly["cumulative_spend_usd"].to_numpy(dtype=float), monthly["cumulative_spend_usd"].iloc[-1]),
        where="post",
        color=MONEY_COLOURS["spend"],
        linewidth=1.6,
        label="cumulative spend",
    )
    total.axhline(
        record.summary["available_usd"],
        color=MONEY_COLOURS["available"],
        linestyle="--",
        linewidth=1.2,
        label=literal(f"money available ({usd(record.summary['available_usd'])})"),
    )
    total.set_ylim(0, max(record.summary["available_usd"], monthly["cumulative_spend_usd"].max()) * 1.08 or 1)
    money_ticks(total.yaxis)
    total.tick_params(labelsize=SMALL)
    total.set_ylabel("Cumulative spend", fontsize=SMALL)
    total.spines["top"].set_visible(False)
    mark_deadline(ax, record)
    month_ticks(ax, record, record.horizon)
    handles = ax.get_legend_handles_labels()[0] + total.get_legend_handles_labels()[0]
    labels = ax.get_legend_handles_labels()[1] + total.get_legend_handles_labels()[1]
    ax.legend(handles, labels, fontsize=SMALL, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False)
    _style(ax, "Spend over time")


def allocation_by_rule(ax, record: RunRecord) -> None:
    """Horizontal bars per carrier: demand behind, then the allocation under each rule solved."""
    carriers = record.carriers.sort_values("carrier_id", ascending=False)  # first carrier at the top
    rows = np.arange(len(carriers))
    ax.barh(
        rows, carriers["demand_usd"].to_numpy(dtype=float), height=0.9, color=MONEY_COLOURS["demand"], label="demand"
    )
    count = len(record.rules)
    width = 0.7 / count
    for index, result in enumerate(record.rules):
        offset = (index - (count - 1) / 2) * width
        values = [result.allocation_usd.get(cid, 0.0) for cid in carriers["carrier_id"]]
        ax.barh(
            rows - offset,
            values,
            height=width,
            color=RULE_COLOURS[index % len(RULE_COLOURS)],
            label=f"allocation, {RULE_NAMES.get(result.rule, result.rule)}",
        )
    ax.set_yticks(
        rows,
        labels=[
            literal(_short(f"{name} ({cid})", 44))
            for name, cid in zip(carriers["name"], carriers["carrier_id"], strict=True)
        ],
    )
    ax.set_ylim(-0.7, len(carriers) - 0.3)
    money_ticks(ax.xaxis)
    ax.tick_params(axis="y", labelsize=6.5)
    ax.legend(fontsize=SMALL, loc="lower right", frameon=False)
    only = len(record.rules) == 1  # the page says so in words above the chart
    _style(
        ax,
        f"Allocation by carrier, {RULE_NAMES.get(record.rule, record.rule)} rule"
        if only
        else "Allocation by carrier under each rule",
    )
    ax.grid(axis="x", color="#e4e7eb", linewidth=0.6)
    ax.grid(axis="y", visible=False)


def carrier_timeline(ax, record: RunRecord, carrier_id: str) -> None:
    """One line per replaced site from its start to its finish, coloured by kind, earliest at the top."""
    sites = record.carrier_sites(carrier_id)
    done = sites[sites["replaced"]].sort_values(["start", "finish", "site_id"])
    rows = np.arange(len(done))[::-1]
    thickness = max(0.6, min(6.0, 150.0 / max(1, len(done))))
    for kind in sorted(
        set(done["kind"]),
        key=lambda k: (k not in KIND_COLOURS, list(KIND_COLOURS).index(k) if k in KIND_COLOURS else 0, k),
    ):
        chosen = (done["kind"] == kind).to_numpy()
        ax.hlines(
            rows[chosen],
            done["start"].to_numpy(dtype=float)[chosen],
            done["finish"].to_numpy(dtype=float)[chosen],
            colors=KIND_COLOURS.get(kind, KIND_COLOURS["other"]),
            linewidth=thickness,
            label=literal(kind),
        )
    if len(done):
        ax.set_ylim(-1, len(done))
        ax.legend(fontsize=SMALL, loc="upper right", frameon=False, ncol=4)
    else:
        ax.text(0.5, 0.5, "no site is replaced", transform=ax.transAxes, ha="center", va="center", fontsize=9)
    ax.set_yticks([])
    ax.set_ylabel(f"{len(done):,} replaced sites", fontsize=SMALL)
    mark_deadline(ax, record)
    month_ticks(ax, record, record.horizon, every_months=12 if record.horizon > 24 else 6)
    _style(ax, "Timeline: months of work per replaced site")
    ax.grid(axis="x", color="#e4e7eb", linewidth=0.6)


def carrier_money(ax, record: RunRecord, carrier_id: str) -> None:
    """Cumulative spend against the allocation and against all money available (allocation + own funds)."""
    row = record.carrier(carrier_id)
    monthly = record.carrier_monthly(carrier_id)
    periods = monthly["period"].to_numpy(dtype=float)
    cumulative = monthly["cumulative_spend_usd"].to_numpy(dtype=float)
    ax.step(
        np.append(periods, periods[-1] + 1),
        np.append(cumulative, cumulative[-1]),
        where="post",
        color=MONEY_COLOURS["spend"],
        linewidth=1.6,
        label="cumulative spend",
    )
    ax.axhline(
        row["allocation_usd"],
        color=MONEY_COLOURS["allocation"],
        linestyle="--",
        linewidth=1.1,
        label=literal(f"allocation ({usd(row['allocation_usd'])})"),
    )
    if row["own_funds_usd"] > 0:
        ax.axhline(
            row["allocation_usd"] + row["own_funds_usd"],
            color=MONEY_COLOURS["available"],
            linestyle=":",
            linewidth=1.3,
            label=literal(f"with own funds ({usd(row['allocation_usd'] + row['own_funds_usd'])})"),
        )
    ax.axhline(
        row["demand_usd"],
        color="#999999",
        linestyle="-.",
        linewidth=1.0,
        label=literal(f"demand ({usd(row['demand_usd'])})"),
    )
    ax.set_ylim(0, max(row["demand_usd"], row["allocation_usd"] + row["own_funds_usd"], cumulative.max(), 1.0) * 1.1)
    money_ticks(ax.yaxis)
    ax.yaxis.set_major_locator(MaxNLocator(5))
    mark_deadline(ax, record)
    month_ticks(ax, record, record.horizon, every_months=12 if record.horizon > 24 else 6)
    ax.legend(fontsize=SMALL, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=4, frameon=False)
    _style(ax, "Spend against money available")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
