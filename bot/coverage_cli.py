"""`usru compare` and `usru timeline`: how outlets of each leaning cover a question or a topic."""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.render import plural
from retrieval.citations import display_quote
from retrieval.errors import UsruError
from retrieval.textsafety import one_line

if TYPE_CHECKING:
    from retrieval.answer import Citation
    from retrieval.compare import Comparison, LeaningGroup
    from retrieval.settings import Settings
    from retrieval.timeline import Timeline

NO_LEANINGS = (
    "No indexed article has a leaning: import with the dump's leaning field (`usru import --leaning bias`) "
    "or name an outlet mapping file with USRU_LEANINGS."
)
BAR_WIDTH = 30
# The narrowest column a leaning gets in compare's side-by-side table.
MIN_COLUMN = 24
Run = Callable[["Settings", argparse.Namespace, Console, Console], int]


def add_coverage_parsers(
    sub: Any, common: argparse.ArgumentParser, add_filters: Callable[[argparse.ArgumentParser], None]
) -> None:
    """The compare and timeline subcommands."""
    p = sub.add_parser(
        "compare", parents=[common], help="quote each leaning's outlets on one question, side by side"
    )
    p.add_argument("question", nargs="+", help="the question")
    p.add_argument("--json", action="store_true", help="print JSON with one group per leaning")
    p.add_argument(
        "--per-leaning",
        type=int,
        default=2,
        choices=range(1, 6),
        metavar="N",
        help="quotes per leaning (1-5)",
    )
    add_filters(p)
    p = sub.add_parser(
        "timeline", parents=[common], help="articles mentioning a topic per month or week, by leaning"
    )
    p.add_argument("topic", nargs="+", help="the topic, in the words articles use")
    p.add_argument("--by", choices=("month", "week"), default="month", help="period of each bar")
    p.add_argument(
        "--png",
        type=Path,
        metavar="FILE",
        help="also write the chart as a PNG image (none, and exit status 1, when no dated article matches)",
    )
    p.add_argument("--json", action="store_true", help="print JSON: periods, counts per leaning, peaks")
    add_filters(p)


def run_compare(
    settings: Settings, args: argparse.Namespace, out: Console, err: Console, service: Any
) -> int:
    """`usru compare QUESTION`."""
    from bot.terminal import require_utf8
    from retrieval import api
    from retrieval.filters import make_filters

    filters = make_filters(args.since, args.until, args.outlet)
    comparison = api.compare_leanings(
        service, require_utf8(" ".join(args.question)), filters or None, args.per_leaning
    )
    if args.json:
        print(json.dumps(comparison.to_dict(), ensure_ascii=False, indent=2), flush=True)
    else:
        print_comparison(out, comparison)
    return 0


def run_timeline(
    settings: Settings, args: argparse.Namespace, out: Console, err: Console, service: Any
) -> int:
    """`usru timeline TOPIC`."""
    from bot.terminal import require_utf8
    from retrieval import api
    from retrieval.filters import make_filters

    filters = make_filters(args.since, args.until, args.outlet)
    timeline = api.topic_timeline(service, require_utf8(" ".join(args.topic)), args.by, filters or None)
    # No dated article: no chart to draw. An empty picture (or an older chart left as if new) would pass
    # for a result, so the file is left alone and the exit status says it was not written.
    chart = args.png is not None and bool(timeline.periods)
    if chart:
        write_png(timeline, args.png)
    if args.json:
        print(json.dumps(timeline.to_dict(), ensure_ascii=False, indent=2), flush=True)
    else:
        print_timeline(out, timeline)
    if args.png is None:
        return 0
    if not chart:
        err.print(
            Text(
                f"usru: No chart written to {one_line(str(args.png))}: "
                f"no dated article mentions {one_line(timeline.topic)}."
            ),
            soft_wrap=True,
        )
        return 1
    err.print(Text(f"Wrote the chart to {one_line(str(args.png))}."), soft_wrap=True)
    return 0


def write_png(timeline: Timeline, path: Path) -> None:
    """Write the chart: a regular file (or a link's target) is replaced only once the image is complete."""
    from bot.chart import timeline_png

    data = timeline_png(timeline)
    try:
        if path.exists() and not path.is_file() and not path.is_dir():
            # A device or a pipe (/dev/stdout, /dev/full) is written to; renaming over it would replace it.
            with path.open("wb") as stream:
                stream.write(data)
            return
        target = path.resolve()  # through a symlink: the link stays, its target gets the chart
        if not target.name or target.is_dir():
            raise IsADirectoryError(errno.EISDIR, "Is a directory")
        tmp = target.with_name(f".{target.name}.tmp")
        try:
            tmp.write_bytes(data)
            tmp.replace(target)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise UsruError(f"Could not write the chart to {path} ({exc.strerror or exc}).") from exc
    except RuntimeError as exc:  # Python 3.11's Path.resolve() on a symlink loop
        raise UsruError(f"Could not write the chart to {path} ({exc}).") from exc


def _quote_text(c: Citation) -> Text:
    text = Text()
    text.append(one_line(display_quote(c.quote)), style="italic")
    text.append("\n— ")
    text.append(one_line(c.publisher or c.source), style="green")
    text.append(f", {one_line(c.date or 'undated')}", style="dim")
    return text


def _comparison_table(groups: Sequence[LeaningGroup]) -> Table:
    """Some leanings' quotes side by side, one column each."""
    table = Table(show_lines=True, expand=True)
    for g in groups:
        table.add_column(
            Text(f"{g.leaning} ({plural(g.articles, 'article')})", style="bold"), overflow="fold"
        )
    cells = []
    for g in groups:
        cell = Text()
        for i, c in enumerate(g.citations):
            cell.append_text(Text("\n\n") if i else Text())
            cell.append_text(_quote_text(c))
        cells.append(cell if g.citations else Text(NOTHING, style="dim"))
    table.add_row(*cells)
    return table


def print_comparison(console: Console, comparison: Comparison) -> None:
    """Each leaning's quotes: side by side in columns on a terminal, one section after another when piped."""
    if comparison.status != "answered":
        lead = comparison.groups[0].answer.lead if comparison.groups else "The articles do not cover this."
        note = f" {comparison.note}" if comparison.note else ""
        console.print(Text(one_line(lead + note), style="yellow"), soft_wrap=True)
        return
    if comparison.all_unrated:
        console.print(Text(NO_LEANINGS, style="dim"), soft_wrap=True)
    if console.is_terminal:
        # Side by side only as many leanings as get MIN_COLUMN characters each; more go in further tables
        # (twelve columns in 100 characters folded every header and source over several lines).
        groups = comparison.groups
        fit = max(1, console.width // MIN_COLUMN)
        per_table = -(-len(groups) // -(-len(groups) // fit))
        for start in range(0, len(groups), per_table):
            console.print(_comparison_table(groups[start : start + per_table]))
        return
    for g in comparison.groups:
        console.print(Text(f"{g.leaning} ({plural(g.articles, 'article')})"), soft_wrap=True)
        if not g.citations:
            console.print(Text(f"  {NOTHING}"))
        for c in g.citations:
            who = f"{one_line(c.publisher or c.source)}, {one_line(c.date or 'undated')}"
            console.print(Text(f"  {one_line(display_quote(c.quote))} — {who}"), soft_wrap=True)
        console.print()


NOTHING = "Nothing relevant from these outlets."


def timeline_bar(timeline: Timeline, i: int, others: list[str], top: int = 0) -> Text:
    """Period i's stacked bar: each leaning's colour and block character, then its peak number if any."""
    from bot.chart import block_of, colour_of

    top = top or max(timeline.totals) or 1
    bar = Text()
    for label in timeline.leanings:
        cells = round(timeline.counts[label][i] * BAR_WIDTH / top)
        bar.append(block_of(label, others) * cells, style=colour_of(label, others))
    peaks = {p.period: n for n, p in enumerate(timeline.peaks, start=1)}
    if timeline.periods[i] in peaks:
        bar.append(f" [{peaks[timeline.periods[i]]}]", style="bold")
    return bar


def print_timeline(console: Console, timeline: Timeline) -> None:
    """A compact stacked-bar chart and the counts in one table, then the quote at each peak."""
    from bot.chart import block_of, colour_of

    if not timeline.periods:
        undated = f" ({timeline.undated} undated)" if timeline.undated else ""
        console.print(Text(f"No dated article mentions {one_line(timeline.topic)}{undated}."), soft_wrap=True)
        return
    top = max(timeline.totals) or 1
    table = Table(
        title=Text(f"Articles mentioning {one_line(timeline.topic)}, per {timeline.by}"),
        title_justify="left",
        box=None,
        pad_edge=False,
    )
    table.add_column(timeline.by, no_wrap=True)
    table.add_column("", no_wrap=True, min_width=BAR_WIDTH)
    others: list[str] = []
    for label in timeline.leanings:
        # The header shows the leaning's bar piece: its key in the bars.
        key = Text(block_of(label, others), style=colour_of(label, others))
        table.add_column(Text.assemble(key, " ", one_line(label)), justify="right")
    table.add_column("total", justify="right")
    for i, period in enumerate(timeline.periods):
        bar = timeline_bar(timeline, i, others, top)
        counts = [Text(str(timeline.counts[label][i])) for label in timeline.leanings]
        table.add_row(Text(period), bar, *counts, Text(str(timeline.totals[i])))
    console.print(table)
    if timeline.undated:
        console.print(Text(f"{timeline.undated} more articles mention it but carry no usable date."))
    for n, peak in enumerate(timeline.peaks, start=1):
        head = f"[{n}] {peak.period}: {plural(peak.count, 'article')}"
        if peak.citation is None:
            console.print(Text(f"{head}; no passage is close enough to the topic to quote."), soft_wrap=True)
            continue
        c = peak.citation
        who = f"{one_line(c.publisher or c.source)}, {one_line(c.date or 'undated')}"
        leaning = f" ({one_line(peak.leaning)})" if peak.leaning else ""
        console.print(
            Text(f"{head}\n    {one_line(display_quote(c.quote))} — {who}{leaning}"), soft_wrap=True
        )
