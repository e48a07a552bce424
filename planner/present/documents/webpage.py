"""The single-file web page `plan.html`: readable on a laptop, printable, and silent on the network.

Everything is inline: the CSS, plotly.js (embedded once in the head, never fetched from a CDN)
and the charts of `planner.present.plots`. Every piece of text that comes from the data is escaped with
`html.escape` (and plotly serialises figure text with `<`, `>` and `/` escaped), so a carrier named
`<script>alert(1)</script>` is shown as those characters. Chart divs get fixed ids, so two pages
made from the same run are identical apart from the report's timestamp.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import datetime
from string import Template
from typing import Any

import pandas as pd
import plotly.io as pio
from plotly.offline import get_plotlyjs

from planner.core.wording import rule_name, usd, usd_exact
from planner.present import plots
from planner.present.documents import wording
from planner.runs.folder import RunRecord
from planner.runs.provenance import utc_timestamp

CHART_CONFIG = {"displaylogo": False, "responsive": True}
STYLE = """
:root { --ink: #1f2933; --muted: #52606d; --rule: #d9e2ec; --accent: #0072B2; --late: #D55E00; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto,
       "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 1.9rem; margin: 0 0 4px; }
h2 { font-size: 1.35rem; margin: 36px 0 8px; border-bottom: 2px solid var(--rule); }
h3 { font-size: 1.1rem; margin: 20px 0 6px; }
.sub { color: var(--muted); margin: 0 0 16px; }
.headline { font-size: 1.2rem; border-left: 4px solid var(--accent); padding: 8px 14px; background: #f5f9fc; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 10px; margin: 14px 0; }
.figures div { border: 1px solid var(--rule); border-radius: 6px; padding: 8px 12px; }
.figures dt { color: var(--muted); font-size: .85rem; } .figures dd { margin: 0; font-size: 1.25rem; font-weight: 600; }
nav ol { columns: 2; color: var(--muted); }
a { color: var(--accent); }
table { border-collapse: collapse; width: 100%; font-size: .9rem; margin: 8px 0 16px; }
th, td { border-bottom: 1px solid var(--rule); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f4f8; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.late td:first-child { border-left: 3px solid var(--late); }
.chart { margin: 12px 0 24px; }
details { border: 1px solid var(--rule); border-radius: 6px; padding: 6px 12px; margin: 8px 0; }
summary { cursor: pointer; font-weight: 600; }
.reason { color: var(--late); }
.ids { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .85rem; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; word-break: break-all; }
@media print {
  body { font-size: 10.5pt; } main { max-width: none; padding: 0; }
  nav, .modebar-container { display: none !important; }
  h2 { break-after: avoid; } .chart, .figures, tr, details { break-inside: avoid; }
  th { position: static; }
  details { border: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
}
"""
# Closed <details> print as their summary only, and a link to a closed block lands on its title:
# open them before printing, and open the one a link points at. Plotly sizes a chart to the
# screen once; narrow every chart to the printed page before printing and give it back after.
PRINT_WIDTH_PX = 700  # US Letter or A4 less the browser's default margins, at 96 px per inch
PAGE_SCRIPT = Template(
    """
function chartsTo(width) {
  document.querySelectorAll('.plotly-graph-div').forEach(function (div) {
    Plotly.relayout(div, width ? {width: width} : {width: null, autosize: true});
  });
}
window.addEventListener('beforeprint', function () {
  document.querySelectorAll('details').forEach(function (d) { d.open = true; });
  chartsTo($print_width_px);
});
window.addEventListener('afterprint', function () { chartsTo(null); });
function openLinkedBlock() {
  var target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
  if (target && target.tagName === 'DETAILS') { target.open = true; }
}
window.addEventListener('hashchange', openLinkedBlock);
window.addEventListener('DOMContentLoaded', openLinkedBlock);
"""
).substitute(print_width_px=PRINT_WIDTH_PX)


def esc(value) -> str:
    """Data text made safe to place in HTML text or attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


def page_bytes(record: RunRecord, generated_at: datetime | None = None) -> bytes:
    """The whole page as UTF-8 bytes."""
    title = f"Rip-and-replace plan: {record.scenario.get('name', '')} ({record.summary['dataset']})"
    sections = [
        ("summary", "Summary", summary_section(record)),
        ("national", "National charts", national_section(record)),
        ("missed", "Carriers that miss the deadline", missed_section(record)),
        ("allocation", "Allocation by carrier", allocation_section(record)),
        ("carriers", "Each carrier", carriers_section(record)),
        ("scenario", "Scenario", rows_table(wording.scenario_rows(record))),
        ("provenance", "Provenance", rows_table(wording.provenance_rows(record, generated_at))),
        (
            "assumptions",
            "Assumptions",
            "<ul>" + "".join(f"<li>{esc(a)}</li>" for a in wording.assumptions(record)) + "</ul>",
        ),
        (
            "glossary",
            "Glossary",
            "<dl>" + "".join(f"<dt><b>{esc(t)}</b></dt><dd>{esc(d)}</dd>" for t, d in wording.GLOSSARY) + "</dl>",
        ),
    ]
    body = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="sub">Dataset {esc(record.summary["dataset"])} &middot; rule {esc(record.rule)} &middot; '
        f"status {esc(record.summary['status'])} &middot; plan solved at "
        f"{esc(record.provenance.get('solved_at', 'not recorded'))} &middot; report made at "
        f"{esc(utc_timestamp(generated_at))}</p>",
        "<nav><ol>"
        + "".join(f'<li><a href="#{key}">{esc(name)}</a></li>' for key, name, _ in sections)
        + "</ol></nav>",
    ]
    body += [f'<section id="{key}"><h2>{esc(name)}</h2>{content}</section>' for key, name, content in sections]
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n"
        f"<script>{get_plotlyjs()}</script>\n<script>{PAGE_SCRIPT}</script>\n</head>\n"
        "<body>\n<main>\n" + "\n".join(body) + "\n</main>\n</body>\n</html>\n"
    )
    return page.encode("utf-8")


def summary_section(record: RunRecord) -> str:
    cards = "".join(
        f"<div><dt>{esc(label)}</dt><dd>{esc(wording.show(value, unit))}</dd></div>"
        for label, value, unit in wording.headline_rows(record)
    )
    details = "".join(f"<p>{esc(s)}</p>" for s in wording.detail_sentences(record))
    notes = "".join(f"<p><b>Note:</b> {esc(n)}</p>" for n in record.summary.get("notes") or [])
    headline = f'<p class="headline">{esc(wording.headline_sentence(record))}</p>'
    return f'{headline}{details}{notes}<dl class="figures">{cards}</dl>'


def national_section(record: RunRecord) -> str:
    monthly = record.monthly
    charts = [
        (
            "coverage",
            plots.coverage_over_time(
                monthly, deadline_month=record.deadline_month, title="People by service state, per month"
            ),
        ),
        (
            "spend",
            plots.spend_over_time(
                monthly,
                money_available_usd=record.summary["available_usd"],
                title="Spend per month and cumulative spend against the money available",
            ),
        ),
        ("allocation-by-rule", allocation_by_rule_figure(record)),
    ]
    if any(c.startswith("crew_") for c in monthly.columns):
        charts.append(("crews", plots.crews_over_time(monthly, title="Crews in use against capacity, all carriers")))
    parts = [chart_html(key, figure) for key, figure in charts]
    if len(record.rules) == 1:
        parts.insert(
            2,
            f"<p>Only the {esc(rule_name(record.rule))} rule was solved for this run, so the chart below shows its "
            "allocation; pass other rules' plans to compare.</p>",
        )
    else:
        parts.append(rule_outcomes_table(record))
    return "".join(parts)


def chart_html(key: str, figure) -> str:
    """A plotly figure as a div with a fixed id (plotly.js is already in the head)."""
    return (
        '<div class="chart">'
        + pio.to_html(
            figure,
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{key}",
            config=CHART_CONFIG,
            default_height=figure.layout.height or 450,
        )
        + "</div>"
    )


def allocation_by_rule_figure(record: RunRecord):
    """One rule: its allocation against each carrier's demand (`plots.allocation_by_carrier`); several:
    `plots.allocation_by_rule`. Tall enough that every carrier's name is labelled."""
    if len(record.rules) == 1:
        carriers = record.carriers.copy()
        carriers["name"] = [esc(name) for name in carriers["name"]]  # plotly draws labels as a little HTML
        figure = plots.allocation_by_carrier(carriers, title=_rule_title(record))
        labels = [f"{name} ({cid})" for name, cid in zip(carriers["name"], carriers["carrier_id"], strict=True)]
        bars = 2 + int((carriers["own_funds_usd"] > 0).any())
    else:
        table = _rule_table(record)
        figure = plots.allocation_by_rule(table, title=_rule_title(record))
        labels, bars = list(table["name"]), len(record.rules)
    figure.update_layout(height=max(450, 9 * len(labels) * bars + 200), margin={"t": 110})
    figure.update_yaxes(tickmode="array", tickvals=labels, automargin=True)
    return figure


def _rule_table(record: RunRecord) -> pd.DataFrame:
    table = record.carriers[["carrier_id", "name"]].sort_values("carrier_id").copy()
    # Plotly draws tick labels as a little HTML; escaping shows a name exactly as written.
    table["name"] = [esc(f"{name} ({cid})") for name, cid in zip(table["name"], table["carrier_id"], strict=True)]
    for result in record.rules:
        table[rule_name(result.rule)] = [result.allocation_usd.get(c, 0.0) for c in table["carrier_id"]]
    return table


def _rule_title(record: RunRecord) -> str:
    if len(record.rules) == 1:
        return f"Demand and allocation by carrier under the {rule_name(record.rule)} rule (the only rule solved)"
    return "Allocation by carrier under each rule"


def rule_outcomes_table(record: RunRecord) -> str:
    rows = "".join(
        f'<tr><td>{esc(rule_name(r.rule))}</td><td class="num">{esc(usd(r.allocated_usd))}</td>'
        f'<td class="num">{r.carriers_done_by_deadline:,}</td>'
        f'<td class="num">{r.population_left_without_service:,}</td></tr>'
        for r in record.rules
    )
    return (
        '<h3>Outcome under each rule</h3><table><thead><tr><th>Rule</th><th class="num">Allocated</th>'
        '<th class="num">Carriers done by the deadline</th><th class="num">People left without service</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def missed_section(record: RunRecord) -> str:
    missed = record.missed
    if missed.empty:
        return "<p>Every carrier replaces all its sites by the deadline.</p>"
    rows = "".join(
        f'<tr class="late"><td><a href="#carrier-{esc(_anchor(r.carrier_id))}">{esc(r.name)}</a> '
        f"({esc(r.carrier_id)})</td>"
        f'<td>{esc(r.state)}</td><td class="num">{r.sites_replaced:,} / {r.sites:,}</td>'
        f'<td class="num">{r.population_left_without_service:,}</td><td class="reason">{esc(r.reason)}</td></tr>'
        for r in _rows(missed)
    )
    return (
        f"<p>{len(missed)} of {len(record.carriers)} carriers do not finish every site by "
        f"{esc(record.deadline_month)}.</p><table><thead><tr><th>Carrier</th><th>State</th>"
        '<th class="num">Sites replaced</th><th class="num">People left without service</th><th>Reason</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def allocation_section(record: RunRecord) -> str:
    """Money per carrier in whole dollars, the part it cannot spend flagged, and when it completes (or why not)."""

    def idle_cell(r) -> str:
        amount = getattr(r, "idle_allocation_usd", 0.0) or 0.0
        return f'<td class="num late">{esc(usd_exact(amount))}</td>' if amount >= 1.0 else '<td class="num">-</td>'

    rows = "".join(
        ('<tr class="late">' if not r.on_time else "<tr>")
        + f"<td>{esc(r.carrier_id)}</td><td>{esc(r.name)}</td><td>{esc(r.state)}</td>"
        f'<td class="num">{esc(usd_exact(r.demand_usd))}</td><td class="num">{esc(usd_exact(r.allocation_usd))}</td>'
        + idle_cell(r)
        + f'<td class="num">{esc(usd_exact(r.own_funds_usd))}</td><td class="num">{esc(usd_exact(r.spend_usd))}</td>'
        f'<td class="num">{r.sites_replaced:,} / {r.sites:,}</td><td>{esc(wording.completion_words(r._asdict()))}</td>'
        f'<td class="num">{r.population_left_without_service:,}</td></tr>'
        for r in _rows(record.carriers.sort_values("carrier_id"))
    )
    idle = record.summary.get("idle_allocation_usd") or 0.0
    lead = f"<p>{esc(wording.idle_sentence(record))}</p>" if idle >= 1.0 else ""
    return (
        lead + '<table><thead><tr><th>ID</th><th>Carrier</th><th>State</th><th class="num">Demand</th>'
        '<th class="num">Allocation</th><th class="num">Allocated but unusable</th><th class="num">Own funds</th>'
        '<th class="num">Spend</th><th class="num">Sites replaced</th><th>Completion</th>'
        '<th class="num">People left without service</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def carriers_section(record: RunRecord) -> str:
    """One collapsible block per carrier: its sentence, reason, the sites left unfunded and its site schedule."""
    blocks = []
    for carrier_id in record.carrier_ids:
        row = record.carrier(carrier_id)
        sites = record.carrier_sites(carrier_id)
        unfunded = sites[~sites["replaced"]]
        parts = [f"<p>{esc(wording.carrier_sentence(record, carrier_id))}</p>"]
        if row["reason"]:
            parts.append(f'<p class="reason"><b>Why it misses the deadline:</b> {esc(row["reason"])}</p>')
        if len(unfunded):
            parts.append(
                f"<p><b>{len(unfunded):,} sites left unfunded</b> "
                f'({unfunded["population"].sum():,} people): <span class="ids">'
                + esc(", ".join(unfunded["site_id"]))
                + "</span></p>"
            )
        done = sites[sites["replaced"]]
        if len(done):
            rows = "".join(
                f'<tr><td class="ids">{esc(s.site_id)}</td><td>{esc(s.kind)}</td><td>{esc(s.month)}</td>'
                f'<td>{esc(s.finish_month)}</td><td class="num">{esc(usd(s.cost_usd))}</td>'
                f'<td class="num">{s.population:,}</td></tr>'
                for s in _rows(done)
            )
            parts.append(
                "<table><thead><tr><th>Site</th><th>Kind</th><th>Start</th><th>In service on new gear</th>"
                f'<th class="num">Cost</th><th class="num">People</th></tr></thead><tbody>{rows}</tbody></table>'
            )
        status = "done by the deadline" if row["on_time"] else "misses the deadline"
        blocks.append(
            f'<details id="carrier-{esc(_anchor(carrier_id))}"><summary>{esc(row["name"])} '
            f"({esc(carrier_id)}) &mdash; {status}</summary>{''.join(parts)}</details>"
        )
    return "".join(blocks)


def rows_table(rows) -> str:
    body = "".join(
        f'<tr><th scope="row">{esc(label)}</th><td>{esc(wording.show(value, unit))}</td></tr>'
        for label, value, unit in rows
    )
    return f"<table><tbody>{body}</tbody></table>"


def _rows(table: pd.DataFrame) -> Iterator[Any]:
    """`table.itertuples()`; a field's type is its column's, which pandas-stubs cannot know (it says any scalar)."""
    return table.itertuples()


def _anchor(carrier_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in carrier_id)
