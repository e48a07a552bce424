"""The paginated report `plan.pdf`: cover, executive summary, national charts, one section per carrier,
assumptions and a glossary, drawn offline with matplotlib.

Text stays text (pdftotext, pypdf and screen readers get the words back): Helvetica, a PDF
core font, when every character allows it, else DejaVu Sans embedded as TrueType. The
document's creation date is the plan's made-at time, so the only thing that changes between
two reports of one run is the "Report made at" line.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any, cast

import matplotlib

from planner.core.wording import rule_name, usd, usd_exact
from planner.present.documents import pdf_charts, wording
from planner.present.documents.pdf_layout import (
    Block,
    Chart,
    PageBreak,
    Table,
    Text,
    block_texts,
    heading,
    paginate,
    pairs_table,
    render,
)
from planner.runs.folder import RunRecord
from planner.runs.provenance import parse_timestamp

# Helvetica, one of the fonts every PDF reader has, is fast to lay out and needs no embedding, but it
# only covers Windows-1252; a dataset with other characters gets DejaVu Sans embedded as TrueType
# (both keep the text extractable). Measured on rural40: 8 s against 19 s of CPU for 47 pages.
COMMON_STYLE = {"axes.titlesize": 10, "axes.labelsize": 8}
CORE_FONT_STYLE = {
    "pdf.use14corefonts": True,
    "font.family": "sans-serif",
    "font.sans-serif": ["Helvetica"],
    "font.weight": "medium",
    "axes.unicode_minus": False,
}
EMBEDDED_FONT_STYLE = {
    "pdf.use14corefonts": False,
    "pdf.fonttype": 42,
    "font.family": "DejaVu Sans",
    "font.weight": "normal",
}
CORE_FONT_ENCODING = "cp1252"
# matplotlib's style (rcParams) is process-wide: PDFs made on two threads at once (an app's download
# buttons) would draw with each other's fonts, so they are drawn one at a time.
_ONE_AT_A_TIME = threading.Lock()
FALLBACK_TIME = datetime(2000, 1, 1, tzinfo=UTC)
LATE = "#B5470B"
UNFUNDED_LIST_CHARS = 900  # about ten lines of site ids; the full list is in plan.xlsx


def pdf_bytes(record: RunRecord, generated_at: datetime | None = None) -> bytes:
    """The whole report as PDF bytes; identical for identical inputs and `generated_at`."""
    blocks = [*cover(record, generated_at), PageBreak(), *executive_summary(record), PageBreak(), *national(record)]
    for carrier_id in record.carrier_ids:
        blocks += [PageBreak(), *carrier_section(record, carrier_id)]
    blocks += [PageBreak(), *closing(record)]
    f = record.summary
    footer_left = f"rrplan {record.provenance.get('tool_version', '')} · dataset {f['dataset']}" + (
        f" · SHA-256 {f['dataset_sha256'][:16]}…" if f["dataset_sha256"] else ""
    )
    metadata = {
        "Title": _title(record),
        "Subject": wording.headline_sentence(record),
        "Creator": f"rrplan {record.provenance.get('tool_version', '')}".strip(),
        "Keywords": f"dataset {f['dataset']}; sha256 {f['dataset_sha256']}; rule {f['rule']}",
    }
    with _ONE_AT_A_TIME, matplotlib.rc_context(font_style(blocks, record)), _quiet_font_fallbacks():
        pages = paginate(blocks)
        return render(pages, lambda n, total: (footer_left, f"page {n} of {total}"), metadata, _made_at(record))


def font_style(blocks: list, record: RunRecord) -> dict:
    """Core fonts when every character on the pages is in their encoding, else an embedded Unicode font."""
    words = [*block_texts(blocks), *record.carriers["name"], *record.carriers["carrier_id"], *record.schedule["kind"]]
    try:
        "\n".join(words).encode(CORE_FONT_ENCODING)
    except UnicodeEncodeError:
        return {**COMMON_STYLE, **EMBEDDED_FONT_STYLE}
    return {**COMMON_STYLE, **CORE_FONT_STYLE}


def cover(record: RunRecord, generated_at) -> list:
    f = record.summary
    return [
        heading("Rip-and-replace plan", 0),
        Text(
            f"Scenario “{f['scenario'].get('name', '')}” of dataset {f['dataset']}, funding rule "
            f"{rule_name(f['rule'])}",
            size=12,
            color="#52606d",
            after_in=0.15,
        ),
        Text(wording.headline_sentence(record), size=12, shade=True, after_in=0.2),
        heading("Provenance", 2),
        pairs_table(
            [
                (label, wording.show(value, unit))
                for label, value, unit in wording.provenance_rows(record, generated_at)
            ],
            size=8.5,
            label_width=0.3,
        ),
        heading("Scenario", 2),
        pairs_table(
            [(label, wording.show(value, unit)) for label, value, unit in wording.scenario_rows(record)],
            size=8.5,
            label_width=0.3,
        ),
    ]


def executive_summary(record: RunRecord) -> list:
    blocks: list[Block] = [
        heading("Executive summary"),
        Text(wording.headline_sentence(record), size=12.5, shade=True, after_in=0.15),
    ]
    blocks += [Text(sentence, size=10) for sentence in wording.detail_sentences(record)]
    blocks += [Text(f"Note: {note}", size=9, color="#52606d") for note in record.summary.get("notes") or []]
    figures = [(label, wording.show(value, unit)) for label, value, unit in wording.headline_rows(record)]
    half = (len(figures) + 1) // 2
    left, right = figures[:half], figures[half:] + [("", "")] * (2 * half - len(figures))
    blocks += [
        heading("Headline figures", 2),
        Table(
            (),
            [(*a, *b) for a, b in zip(left, right, strict=True)],
            (0.32, 0.16, 0.36, 0.16),
            size=8.5,
            align=("left", "right", "left", "right"),
        ),
        Chart(partial(pdf_charts.coverage, record=record), height_in=3.3, bottom_in=0.75),
    ]
    return blocks


def national(record: RunRecord) -> list:
    """Spend over time, the carriers that miss the deadline (a long table fills the page), then allocation by rule."""
    blocks = [
        heading("National charts"),
        Chart(partial(pdf_charts.national_spend, record=record), height_in=3.6, bottom_in=0.75, right_in=0.75),
    ]
    blocks += [*missed(record), PageBreak(), heading("Allocation by rule")]
    if len(record.rules) == 1:
        blocks.append(
            Text(
                f"Only the {rule_name(record.rule)} rule was solved for this run, "
                "so the chart shows the allocation under that rule against each carrier's demand.",
                size=9,
                color="#52606d",
            )
        )
    blocks.append(
        Chart(
            partial(pdf_charts.allocation_by_rule, record=record),
            height_in=min(8.6, 0.6 + 0.16 * len(record.carriers) * max(1, len(record.rules) * 0.6)),
            left_in=2.6,
            bottom_in=0.4,
        )
    )
    if len(record.rules) > 1:
        blocks += [
            heading("Outcome under each rule", 2),
            Table(
                ("Rule", "Allocated", "Carriers done by the deadline", "People left without service"),
                [
                    (
                        rule_name(r.rule),
                        usd_exact(r.allocated_usd),
                        f"{r.carriers_done_by_deadline:,}",
                        f"{r.population_left_without_service:,}",
                    )
                    for r in record.rules
                ],
                (0.3, 0.2, 0.25, 0.25),
                align=("left", "right", "right", "right"),
            ),
        ]
    return blocks


def missed(record: RunRecord) -> list:
    late = record.missed
    blocks: list[Block] = [heading("Carriers that miss the deadline")]
    if late.empty:
        return blocks + [Text("Every carrier replaces all its sites by the deadline.")]
    blocks.append(
        Text(
            f"{len(late)} of {len(record.carriers)} carriers do not replace every site by "
            f"{record.deadline_month} (month {record.deadline}).",
            size=10,
        )
    )
    rows: list[tuple[str, ...]] = [
        (
            f"{r.name} ({r.carrier_id})",
            f"{r.sites_replaced:,} of {r.sites:,}",
            wording.completion_words(cast(Any, r)._asdict()),
            f"{r.population_left_without_service:,}",
            str(r.reason),
        )
        for r in late.itertuples()
    ]
    blocks.append(
        Table(
            ("Carrier", "Sites replaced", "Completes", "People left without service", "Reason"),
            rows,
            (0.23, 0.1, 0.15, 0.12, 0.4),
            size=7.5,
            align=("left", "right", "left", "right", "left"),
        )
    )
    return blocks + idle(record)


def idle(record: RunRecord) -> list:
    """Carriers allocated money they cannot spend (less than their next whole site), largest first."""
    table = wording.idle_carriers(record)
    if table.empty:
        return []
    return [
        heading("Money allocated but unusable", 2),
        Text(wording.idle_sentence(record), size=10),
        Table(
            ("Carrier", "Allocation", "Unusable", "Sites replaced"),
            [
                (
                    f"{r.name} ({r.carrier_id})",
                    usd_exact(r.allocation_usd),
                    usd_exact(r.idle_allocation_usd),
                    f"{r.sites_replaced:,} of {r.sites:,}",
                )
                for r in table.itertuples()
            ],
            (0.4, 0.22, 0.22, 0.16),
            size=7.5,
            align=("left", "right", "right", "right"),
        ),
    ]


def carrier_section(record: RunRecord, carrier_id: str) -> list:
    row = record.carrier(carrier_id)
    blocks: list[Block] = [
        heading(f"{row['name']} ({carrier_id})"),
        Text(wording.carrier_sentence(record, carrier_id), size=10),
    ]
    if row["reason"]:
        blocks.append(Text(f"Reason for missing the deadline: {row['reason']}", size=10, color=LATE))
    blocks += [
        Chart(partial(pdf_charts.carrier_timeline, record=record, carrier_id=carrier_id), height_in=3.3, left_in=0.5),
        Chart(partial(pdf_charts.carrier_money, record=record, carrier_id=carrier_id), height_in=2.6, bottom_in=0.75),
    ]
    sites = record.carrier_sites(carrier_id)
    unfunded = sites[~sites["replaced"]]
    blocks.append(heading("Sites left unfunded", 2))
    if unfunded.empty:
        blocks.append(Text("None: every site of this carrier is paid for.", size=9))
    else:
        blocks.append(
            Text(
                f"{len(unfunded):,} sites ({unfunded['population'].sum():,} people, "
                f"{usd(unfunded['cost_usd'].sum())} of work): {_id_list(list(unfunded['site_id']))}",
                size=7.5,
            )
        )
    return blocks


def closing(record: RunRecord) -> list:
    blocks: list[Block] = [heading("Assumptions")]
    blocks += [Text(f"• {sentence}", size=9.5, indent_in=0.1) for sentence in wording.assumptions(record)]
    blocks += [heading("Glossary"), Table(("Term", "Meaning"), list(wording.GLOSSARY), (0.25, 0.75), size=9)]
    return blocks


def _id_list(ids: list[str]) -> str:
    """Site ids comma-separated, cut at a length that fits the page, saying how many more there are."""
    shown, length = [], 0
    for site_id in ids:
        if length + len(site_id) + 2 > UNFUNDED_LIST_CHARS:
            break
        shown.append(site_id)
        length += len(site_id) + 2
    text = ", ".join(shown)
    if len(shown) < len(ids):
        text += (
            f", and {len(ids) - len(shown):,} more (every one is listed in plan.xlsx, sheet Schedule, Replaced = FALSE)"
        )
    return text


@contextmanager
def _quiet_font_fallbacks():
    """matplotlib warns when Helvetica's "medium" face stands in for "normal" (its own internals ask for
    both); the substitution is exactly what is wanted, so the warning is held back while drawing."""
    log = logging.getLogger("matplotlib.font_manager")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _title(record: RunRecord) -> str:
    return f"Rip-and-replace plan: {record.scenario.get('name', '')} ({record.summary['dataset']})"


def _made_at(record: RunRecord) -> datetime:
    """When the plan was solved (else when its files were written): the document's date, the same in every report."""
    try:
        return parse_timestamp(record.provenance.get("solved_at") or record.provenance["made_at"])
    except (KeyError, TypeError, ValueError):
        return FALLBACK_TIME
