"""A topic's timeline as a picture: stacked bars per period, one colour per leaning (matplotlib, headless).

The figure is built with matplotlib's object API and the Agg canvas, not pyplot: no display is needed and
no global figure state is shared between the bot's answering threads.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from retrieval.leanings import UNRATED
from retrieval.textsafety import one_line

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from retrieval.timeline import Timeline

COLOURS = {
    "left": "#1f5fbf",
    "lean left": "#7fa8e6",
    "center": "#8c6bb1",
    "lean right": "#ee8d8d",
    "right": "#c0282d",
    UNRATED: "#a0a0a0",
}
OTHER_COLOURS = ("#2ca02c", "#ff7f0e", "#17becf", "#bcbd22", "#e377c2", "#8c564b")
# Past six other labels the colours come round again: each round gets its own hatch (bars) and block
# character (terminal), so 36 labels look different before any two look alike.
HATCHES = ("", "//", "..", "xx", "\\\\", "oo")
BLOCKS = ("█", "▓", "▒", "░", "▚", "▞")
MAX_TICKS = 24
INSIDE_LEGEND = 8  # more leanings than this: the legend beside the plot
LEGEND_ROWS = 18


def colour_of(label: str, others: list[str]) -> str:
    """A leaning's colour: AllSides' blue to red, other labels from a fixed palette, unrated grey."""
    if label in COLOURS:
        return COLOURS[label]
    if label not in others:
        others.append(label)
    return OTHER_COLOURS[others.index(label) % len(OTHER_COLOURS)]


def round_of(label: str, others: list[str]) -> int:
    """How many times the palette came round before this label's colour (0 for AllSides' and unrated)."""
    if label in COLOURS:
        return 0
    colour_of(label, others)
    return others.index(label) // len(OTHER_COLOURS)


def hatch_of(label: str, others: list[str]) -> str:
    """The bar hatch telling apart labels that share a colour."""
    return HATCHES[round_of(label, others) % len(HATCHES)]


def block_of(label: str, others: list[str]) -> str:
    """The terminal bar character telling apart labels that share a colour."""
    return BLOCKS[round_of(label, others) % len(BLOCKS)]


def plain(text: str) -> str:
    """Text for a matplotlib label: one line, and no `$` that would start its math mode."""
    return one_line(text).replace("$", r"\$")


def legend_label(text: str) -> str:
    """A leaning as a legend entry: matplotlib leaves out any label starting with "_", so it gets a space."""
    label = plain(text)
    return f" {label}" if label.startswith("_") else label


def timeline_figure(timeline: Timeline) -> Figure:
    """Stacked bars: one bar segment per period and leaning (zero-height ones included), peaks numbered."""
    from matplotlib.figure import Figure

    n = len(timeline.periods)
    # Many leanings: the legend goes beside the bars, in columns, instead of over them.
    columns = -(-len(timeline.leanings) // LEGEND_ROWS) if len(timeline.leanings) > INSIDE_LEGEND else 0
    fig = Figure(figsize=(min(16.0, max(6.0, 0.3 * n + 2.5)) + 2.2 * columns, 4.0), dpi=100)
    ax = fig.add_subplot()
    xs = list(range(n))
    bottom = [0] * n
    others: list[str] = []
    for label in timeline.leanings:
        heights = list(timeline.counts[label])
        hatch = hatch_of(label, others)
        # A hatch is drawn in the edge colour: white lines over the shared colour, and no outline.
        hatched: dict[str, Any] = {"hatch": hatch, "edgecolor": "white", "linewidth": 0} if hatch else {}
        ax.bar(
            xs,
            heights,
            bottom=bottom,
            color=colour_of(label, others),
            label=legend_label(label),
            width=0.8,
            **hatched,
        )
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    step = max(1, -(-n // MAX_TICKS))
    ax.set_xticks(xs[::step], [timeline.periods[i] for i in xs[::step]], rotation=60, ha="right", fontsize=8)
    where = {p: i for i, p in enumerate(timeline.periods)}
    for number, peak in enumerate(timeline.peaks, start=1):
        i = where[peak.period]
        ax.annotate(str(number), (i, bottom[i]), ha="center", va="bottom", fontsize=9, fontweight="bold")
    ax.set_ylabel("articles")
    ax.set_title(f"Articles mentioning “{plain(timeline.topic)[:80]}”, per {timeline.by}", fontsize=10)
    if columns:
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0), ncol=columns)
    elif timeline.leanings:
        ax.legend(fontsize=8, frameon=False)
    ax.margins(y=0.15)
    fig.tight_layout()
    return fig


def timeline_png(timeline: Timeline) -> bytes:
    """The timeline chart as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = timeline_figure(timeline)
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
