"""Flow blocks of text, tables and charts onto US Letter pages drawn with matplotlib.

Heights are computed from wrapped line counts and fixed line heights, never by rendering, so
the pages are known before anything is drawn and every footer can say "page n of N". Text is
placed line by line with mathtext off (a `$` in a carrier's name or in "$1.90B" stays a dollar
sign). A table longer than the room left continues on the next page under a repeated header; a
heading never ends a page on its own.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.ft2font import LoadFlags
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

PAGE_WIDTH_IN, PAGE_HEIGHT_IN = 8.5, 11.0
MARGIN_IN, TOP_IN, BOTTOM_IN = 0.75, 0.7, 0.75  # bottom leaves room for the footer
BODY_WIDTH_IN = PAGE_WIDTH_IN - 2 * MARGIN_IN
BODY_HEIGHT_IN = PAGE_HEIGHT_IN - TOP_IN - BOTTOM_IN
LINE_SPACING = 1.3
MIN_ROWS_CARRIED = 3  # a table split leaves at least this many rows on each page
INK, MUTED, RULE, SHADE = "#1f2933", "#52606d", "#c8d2dc", "#eef2f6"


def line_height_in(size_pt: float) -> float:
    return size_pt * LINE_SPACING / 72.0


CORE_FONT_FILES = {False: "Helvetica.afm", True: "Helvetica-Bold.afm"}  # what matplotlib draws with in core mode


def core_fonts() -> bool:
    """True when the active matplotlib style draws with the PDF core fonts (Helvetica, not embedded)."""
    return bool(matplotlib.rcParams["pdf.use14corefonts"])


def regular_weight() -> str:
    # Helvetica's regular face calls itself "medium"; asking for "normal" makes matplotlib warn.
    return "medium" if core_fonts() else "normal"


@lru_cache(maxsize=2)
def _core_widths(bold: bool) -> dict[str, float]:
    """Advance widths in ems of the printable ASCII characters of Helvetica, from matplotlib's AFM file."""
    path = Path(matplotlib.get_data_path()) / "fonts" / "pdfcorefonts" / CORE_FONT_FILES[bold]
    widths = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith("C "):  # C 97 ; WX 556 ; N a ; B ...
            fields = dict(part.strip().split(" ", 1) for part in line.split(";") if part.strip())
            code = int(fields["C"])
            if 32 <= code < 127:
                widths[chr(code)] = float(fields["WX"]) / 1000
    return widths


@cache
def _advance_em(char: str, bold: bool, core: bool) -> float:
    """Advance width of one character in ems (kerning ignored: lines stay a hair short)."""
    if core and char in _core_widths(bold):
        return _core_widths(bold)[char]
    font = get_font(findfont(FontProperties(family="DejaVu Sans", weight="bold" if bold else "normal")))
    font.set_size(100, 72)
    try:
        return font.load_char(ord(char), flags=LoadFlags.NO_HINTING).linearHoriAdvance / 65536 / 100
    except RuntimeError:  # a character the font lacks (matplotlib draws a box): reserve a full em
        return 1.0


def text_width_in(text: str, size_pt: float, bold: bool = False) -> float:
    core = core_fonts()
    return sum(_advance_em(char, bold, core) for char in text) * size_pt / 72.0


def wrap(text: str, size_pt: float, width_in: float, bold: bool = False) -> list[str]:
    """Greedy word wrap by measured glyph widths; explicit newlines kept, over-long words cut."""
    room = width_in * 0.98
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if text_width_in(candidate, size_pt, bold) <= room:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = word
            while text_width_in(line, size_pt, bold) > room and len(line) > 1:
                cut = max(1, next(i for i in range(len(line), 0, -1) if text_width_in(line[:i], size_pt, bold) <= room))
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line)
    return lines


def _text(fig: Figure, x_in: float, top_in: float, text: str, size: float, **style) -> None:
    fig.text(
        x_in / PAGE_WIDTH_IN,
        1 - top_in / PAGE_HEIGHT_IN,
        text,
        fontsize=size,
        va="top",
        ha=style.pop("ha", "left"),
        parse_math=False,
        color=style.pop("color", INK),
        **style,
    )


class Block:
    """Something placed on a page at a given top; `split` lets long blocks continue on the next page."""

    keep_with_next = False

    def height(self) -> float:
        raise NotImplementedError

    def min_height(self) -> float:
        return self.height()

    def split(self, room_in: float) -> tuple[Block | None, Block]:
        """(what fits in `room_in`, the rest); (None, self) when nothing worth placing fits."""
        return None, self

    def draw(self, fig: Figure, top_in: float) -> None:
        raise NotImplementedError


@dataclass
class Text(Block):
    """A wrapped paragraph (or heading) with space before and after it."""

    text: str
    size: float = 10.0
    bold: bool = False
    color: str = INK
    before_in: float = 0.0
    after_in: float = 0.08
    indent_in: float = 0.0
    shade: bool = False  # a pale box behind the text, for the quotable sentence
    keep_with_next: bool = False

    def lines(self) -> list[str]:
        return wrap(self.text, self.size, BODY_WIDTH_IN - self.indent_in - (0.3 if self.shade else 0.0), self.bold)

    def height(self) -> float:
        pad = 0.2 if self.shade else 0.0
        return self.before_in + len(self.lines()) * line_height_in(self.size) + pad + self.after_in

    def draw(self, fig: Figure, top_in: float) -> None:
        top = top_in + self.before_in
        lines = self.lines()
        left = MARGIN_IN + self.indent_in
        if self.shade:
            box_height = len(lines) * line_height_in(self.size) + 0.2
            fig.add_artist(
                Rectangle(
                    (left / PAGE_WIDTH_IN, 1 - (top + box_height) / PAGE_HEIGHT_IN),
                    (BODY_WIDTH_IN - self.indent_in) / PAGE_WIDTH_IN,
                    box_height / PAGE_HEIGHT_IN,
                    transform=fig.transFigure,
                    facecolor="#f0f6fb",
                    edgecolor="#0072B2",
                    linewidth=0.8,
                )
            )
            top, left = top + 0.1, left + 0.15
        for index, line in enumerate(lines):
            _text(
                fig,
                left,
                top + index * line_height_in(self.size),
                line,
                self.size,
                fontweight="bold" if self.bold else regular_weight(),
                color=self.color,
            )


def heading(text: str, level: int = 1) -> Text:
    size = {0: 22.0, 1: 16.0, 2: 11.5}[level]
    return Text(
        text, size=size, bold=True, before_in={0: 0.0, 1: 0.12, 2: 0.1}[level], after_in=0.08, keep_with_next=True
    )


@dataclass
class Table(Block):
    """Rows of wrapped cells, under a shaded bold header if there is one; widths are fractions of the body."""

    header: tuple[str, ...]  # () for a table of label/value pairs
    rows: list[tuple[str, ...]]
    widths: tuple[float, ...]
    size: float = 8.5
    align: tuple[str, ...] = ()  # "left" or "right" per column
    after_in: float = 0.12
    bold_first_column: bool = False

    def _cells(self, row: tuple[str, ...], bold: bool) -> list[list[str]]:
        return [
            wrap(cell, self.size, BODY_WIDTH_IN * width - 0.1, bold or (self.bold_first_column and index == 0))
            for index, (cell, width) in enumerate(zip(row, self.widths, strict=True))
        ]

    def _row_height(self, row: tuple[str, ...], bold: bool = False) -> float:
        if not row:
            return 0.0
        return max(len(c) for c in self._cells(row, bold)) * line_height_in(self.size) + 0.06

    def height(self) -> float:
        return self._row_height(self.header, True) + sum(self._row_height(r) for r in self.rows) + self.after_in

    def min_height(self) -> float:
        return self._row_height(self.header, True) + (self._row_height(self.rows[0]) if self.rows else 0.0)

    def split(self, room_in: float) -> tuple[Block | None, Block]:
        used, count = self._row_height(self.header, True), 0
        for row in self.rows:
            if used + self._row_height(row) > room_in:
                break
            used += self._row_height(row)
            count += 1
        if count == len(self.rows):
            return None, self
        count = min(count, len(self.rows) - MIN_ROWS_CARRIED)  # no lonely last row on the next page
        if count < MIN_ROWS_CARRIED:
            return None, self
        head = Table(self.header, self.rows[:count], self.widths, self.size, self.align, 0.0, self.bold_first_column)
        tail = Table(
            self.header, self.rows[count:], self.widths, self.size, self.align, self.after_in, self.bold_first_column
        )
        return head, tail

    def draw(self, fig: Figure, top_in: float) -> None:
        y = top_in
        if self.header:
            header_height = self._row_height(self.header, True)
            fig.add_artist(
                Rectangle(
                    (MARGIN_IN / PAGE_WIDTH_IN, 1 - (y + header_height) / PAGE_HEIGHT_IN),
                    BODY_WIDTH_IN / PAGE_WIDTH_IN,
                    header_height / PAGE_HEIGHT_IN,
                    transform=fig.transFigure,
                    facecolor=SHADE,
                    edgecolor="none",
                )
            )
        rows = [(self.header, True)] if self.header else []
        for row, bold in [*rows, *((r, False) for r in self.rows)]:
            cells, x = self._cells(row, bold), MARGIN_IN
            for index, (lines, width) in enumerate(zip(cells, self.widths, strict=True)):
                right = (self.align[index] if index < len(self.align) else "left") == "right"
                heavy = bold or (self.bold_first_column and index == 0)
                for k, line in enumerate(lines):
                    _text(
                        fig,
                        x + (BODY_WIDTH_IN * width - 0.05 if right else 0.05),
                        y + 0.03 + k * line_height_in(self.size),
                        line,
                        self.size,
                        ha="right" if right else "left",
                        fontweight="bold" if heavy else regular_weight(),
                    )
                x += BODY_WIDTH_IN * width
            y += max(len(c) for c in cells) * line_height_in(self.size) + 0.06
            fig.add_artist(
                Line2D(
                    [MARGIN_IN / PAGE_WIDTH_IN, (MARGIN_IN + BODY_WIDTH_IN) / PAGE_WIDTH_IN],
                    [1 - y / PAGE_HEIGHT_IN] * 2,
                    transform=fig.transFigure,
                    color=RULE,
                    linewidth=0.5,
                )
            )


def pairs_table(rows: list[tuple[str, str]], size: float = 9.0, label_width: float = 0.34) -> Table:
    """A two-column label/value table without a header row."""
    return Table((), [(label, value) for label, value in rows], (label_width, 1 - label_width), size=size)


@dataclass
class Chart(Block):
    """An axes of `height_in` with room around it for tick labels; `draw_axes(ax)` fills it."""

    draw_axes: Callable
    height_in: float
    left_in: float = 0.8
    right_in: float = 0.2
    top_in: float = 0.35
    bottom_in: float = 0.45
    after_in: float = 0.1

    def height(self) -> float:
        return self.height_in + self.after_in

    def draw(self, fig: Figure, top_in: float) -> None:
        inner_height = self.height_in - self.top_in - self.bottom_in
        rect = (
            (MARGIN_IN + self.left_in) / PAGE_WIDTH_IN,
            1 - (top_in + self.top_in + inner_height) / PAGE_HEIGHT_IN,
            (BODY_WIDTH_IN - self.left_in - self.right_in) / PAGE_WIDTH_IN,
            inner_height / PAGE_HEIGHT_IN,
        )
        self.draw_axes(fig.add_axes(rect))


class PageBreak(Block):
    def height(self) -> float:
        return 0.0

    def draw(self, fig: Figure, top_in: float) -> None:
        pass


def block_texts(blocks: list[Block]):
    """Every string the blocks will draw (charts excepted), e.g. to choose a font that has every character."""
    for block in blocks:
        if isinstance(block, Text):
            yield block.text
        elif isinstance(block, Table):
            yield from block.header
            for row in block.rows:
                yield from row


def paginate(blocks: list[Block]) -> list[list[tuple[Block, float]]]:
    """Place blocks top to bottom; start a new page on PageBreak or when a block does not fit."""
    pages: list[list[tuple[Block, float]]] = [[]]
    used = 0.0
    queue = list(reversed(blocks))
    while queue:
        block = queue.pop()
        if isinstance(block, PageBreak):
            if pages[-1]:
                pages.append([])
                used = 0.0
            continue
        room = BODY_HEIGHT_IN - used
        following = next((b for b in reversed(queue) if not isinstance(b, PageBreak)), None)
        needs = block.height() + (following.min_height() if block.keep_with_next and following is not None else 0.0)
        if needs <= room:
            pages[-1].append((block, used))
            used += block.height()
            continue
        head, tail = block.split(room)
        if head is not None:  # fill this page, continue on the next
            pages[-1].append((head, used))
            queue.append(tail)
        elif not pages[-1]:  # taller than a whole page and cannot split: place it and let it run over
            pages[-1].append((block, used))
        else:
            queue.append(block)
        pages.append([])
        used = 0.0
    return [page for page in pages if page]


def render(
    pages: list[list[tuple[Block, float]]],
    footer: Callable[[int, int], tuple[str, str]],
    metadata: dict,
    creation_date: datetime,
) -> bytes:
    """Draw every page into one PDF; `footer(n, total)` gives the left and right footer text."""
    buffer = io.BytesIO()
    info = {**metadata, "CreationDate": creation_date, "ModDate": creation_date}
    with PdfPages(buffer, metadata=info) as pdf:
        for number, page in enumerate(pages, start=1):
            fig = Figure(figsize=(PAGE_WIDTH_IN, PAGE_HEIGHT_IN))
            for block, used in page:
                block.draw(fig, TOP_IN + used)
            left, right = footer(number, len(pages))
            footer_top = PAGE_HEIGHT_IN - BOTTOM_IN + 0.3
            fig.add_artist(
                Line2D(
                    [MARGIN_IN / PAGE_WIDTH_IN, (MARGIN_IN + BODY_WIDTH_IN) / PAGE_WIDTH_IN],
                    [1 - (footer_top - 0.06) / PAGE_HEIGHT_IN] * 2,
                    transform=fig.transFigure,
                    color=RULE,
                    linewidth=0.5,
                )
            )
            _text(fig, MARGIN_IN, footer_top, left, 7.5, color=MUTED)
            _text(fig, MARGIN_IN + BODY_WIDTH_IN, footer_top, right, 7.5, color=MUTED, ha="right")
            pdf.savefig(fig)
    return buffer.getvalue()
