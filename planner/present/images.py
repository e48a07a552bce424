"""Charts as PNG or SVG files for a memo, drawn offline by kaleido in the machine's own Chrome or Chromium.

plotly writes images only through kaleido, and kaleido 1.x draws them in a headless Chrome. It
never downloads one here: `image_browser()` finds a Chrome or Chromium already installed (Debian's
`chromium`, Google Chrome, ...) and, when there is none (or kaleido is not installed), says so and
the app offers the chart as an offline web page and its data as CSV instead. MathJax, which kaleido
would otherwise fetch from a CDN for LaTeX labels (the planner draws none), is switched off.
"""

from __future__ import annotations

import html
import importlib.util
from collections.abc import Callable
from functools import lru_cache

import plotly.graph_objects as go
import plotly.io as pio

try:  # kaleido and its browser driver come with the app and reports extras; the library works without them
    from choreographer.browsers.chromium import Chromium as _Chromium

    find_browser: Callable[..., str | None] | None = _Chromium.find_browser
except ImportError:  # pragma: no cover - the locked environment has both
    find_browser = None
KALEIDO = importlib.util.find_spec("kaleido") is not None

IMAGE_FORMATS = {"png": "image/png", "svg": "image/svg+xml"}


@lru_cache(maxsize=1)
def image_browser() -> str | None:
    """The Chrome or Chromium kaleido would draw with (never downloaded), or None: no image export then."""
    if find_browser is None or not KALEIDO:
        return None
    try:
        return find_browser(skip_local=True) or None
    except (OSError, RuntimeError, TypeError, ValueError):  # a changed finder or an unreadable path: no export
        return None


def figure_image(figure: go.Figure, fmt: str, caption: str = "", scale: float = 2.0) -> bytes:
    """The figure as PNG (at `scale` times its size, for print) or SVG, its caption under the plot.

    Raises RuntimeError when there is no browser to draw with (see `image_browser`).
    """
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"image format {fmt!r}: choose one of {', '.join(IMAGE_FORMATS)}")
    if image_browser() is None:
        raise RuntimeError("no Chrome or Chromium on this machine to draw images with (kaleido needs one)")
    pio.defaults.mathjax = None  # no CDN: the figures hold no LaTeX
    drawn = with_caption(figure, caption) if caption else go.Figure(figure)
    width = drawn.layout.width or DEFAULT_WIDTH_PX
    height = drawn.layout.height or 560
    return pio.to_image(drawn, format=fmt, width=width, height=height, scale=scale if fmt == "png" else 1)


DEFAULT_WIDTH_PX = 1100
CAPTION_CHARACTER_PX = 7  # about, at the caption's 11 px
CAPTION_LINE_PX = 16


def caption_lines(caption: str, width_px: int) -> list[str]:
    """The caption wrapped at about the figure's width, at word boundaries."""
    lines, line = [], ""
    for word in caption.split():
        if line and len(line) + 1 + len(word) > width_px // CAPTION_CHARACTER_PX:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


def with_caption(figure: go.Figure, caption: str) -> go.Figure:
    """A copy of the figure with the caption under the plot, so an image file carries its scenario, source and date."""
    copy = go.Figure(figure)
    width = int(copy.layout.width or DEFAULT_WIDTH_PX)
    lines = caption_lines(caption, width)
    bottom = int(copy.layout.margin.b or 60) + CAPTION_LINE_PX * len(lines)
    height = int(copy.layout.height or 560) + CAPTION_LINE_PX * len(lines)
    copy.update_layout(width=width, height=height, margin={"b": bottom})
    copy.add_annotation(
        text="<br>".join(html.escape(line) for line in lines),
        xref="paper",
        yref="paper",
        x=0,
        y=0,
        yshift=-(bottom - 8),
        xanchor="left",
        yanchor="bottom",
        showarrow=False,
        align="left",
        font={"size": 11, "color": "#555555"},
    )
    return copy
