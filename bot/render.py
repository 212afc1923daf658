"""Showing answers and article lists in a terminal: colour on a TTY, plain text when piped."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from retrieval.answer import Answer
from retrieval.citations import display_quote, same_story_note
from retrieval.index import ArticleInfo, IndexSummary
from retrieval.textsafety import escape_unsafe, one_line

# Article text is always printed as rich Text, never as a string: a string would be parsed for
# markup ("[/bold]" raises, "[link=…]" makes a hyperlink) and emoji codes (":thumbs_up:" becomes 👍),
# so what is printed would not be what the article says. Unsafe characters are shown escaped.


def plural(n: int, word: str) -> str:
    """'1 article', '2 articles'."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def print_text(console: Console, text: str, style: str = "") -> None:
    """Print text as it is, on as many lines as it has, with unsafe characters escaped."""
    console.print(Text(escape_unsafe(text, keep="\n"), style=style), soft_wrap=True)


def print_answer(console: Console, answer: Answer) -> None:
    """Print an answer: plain text when piped, quotes set off as quotes on a terminal."""
    if not console.is_terminal:
        print_text(console, answer.answer)
        if answer.note:
            print_text(console, f"Note: {answer.note}")
        return
    if answer.status != "answered":
        print_text(console, answer.lead, style="yellow")
        print_note(console, answer)
        console.print(Text("Type /sources to see which articles are indexed.", style="dim"))
        return
    print_text(console, answer.lead, style="bold")
    print_note(console, answer)
    print_citations(console, answer)


def print_note(console: Console, answer: Answer) -> None:
    """Print what the articles lack for this question (a year or a name none mentions), if anything."""
    if answer.note:
        print_text(console, f"Note: {answer.note}", style="yellow")


def print_citations(console: Console, answer: Answer) -> None:
    """Print an answer's numbered quotes with their sources (a terminal's part of print_answer)."""
    same_as = {n: group[0] for group in answer.groups for n in group[1:]}
    by_n = {c.n: c for c in answer.citations}
    for c in answer.citations:
        console.print()
        console.print(
            _hanging(
                Text(f"[{c.n}] ", style="bold cyan"), Text(one_line(display_quote(c.quote)), style="italic")
            )
        )
        who = Text()
        source = one_line(c.source)
        who.append(one_line(c.publisher or c.source), style="green")
        who.append(
            f", {one_line(c.date or 'undated')}, “{one_line(c.title or c.source)}”  ({source}:{c.start}-{c.end})",
            style="dim",
        )
        console.print(_hanging(Text("    — ", style="dim"), who))
        if c.n in same_as:
            console.print(Text(same_story_note(by_n[same_as[c.n]], c), style="dim"))


def _hanging(label: Text, body: Text) -> Table:
    """The label, then the body wrapped so that its later lines start under its first (a hanging indent)."""
    grid = Table.grid()
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(label, body)
    return grid


def print_sources(console: Console, articles: list[ArticleInfo]) -> None:
    """Print the indexed articles: a table on a terminal, tab-separated lines when piped."""
    if not console.is_terminal:
        console.print(Text(f"{len(articles)} indexed articles"))
        for a in articles:
            source = a.source + "".join(f" (also {alias})" for alias in a.aliases)
            row = (source, a.publisher or "-", a.date or "undated", a.title or "-", str(a.chunks))
            console.print(Text("\t".join(" ".join(one_line(f).split()) for f in row)), soft_wrap=True)
        return
    table = Table(title=f"{len(articles)} indexed articles", title_justify="left")
    for column in ("article", "publisher", "date", "title", "chunks"):
        table.add_column(column, overflow="fold", justify="right" if column == "chunks" else "left")
    for a in articles:
        source = one_line(a.source) + "".join(f"\n(also {one_line(alias)})" for alias in a.aliases)
        cells = (a.publisher or "—", a.date or "undated", a.title or "—")
        table.add_row(Text(source), *(Text(one_line(cell)) for cell in cells), Text(str(a.chunks)))
    console.print(table)


def print_summary(console: Console, summary: IndexSummary) -> None:
    """Print what an index run did, and every skipped file with its reason."""
    console.print(
        f"Indexed {summary.articles} articles ({summary.chunks} chunks, {summary.sentences} sentences) "
        f"in {summary.seconds:.1f} s as version {summary.version}: {len(summary.new)} new, "
        f"{len(summary.changed)} changed, {len(summary.removed)} removed, "
        f"{summary.embedded_articles} embedded, {summary.reused_articles} reused.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    # One line per file however long, and names escaped, so the list can be read (and grepped) line by line.
    for duplicate, original in summary.duplicates:
        console.print(
            Text(f"  {one_line(duplicate)}: the same article as {one_line(original)}; indexed once"),
            soft_wrap=True,
        )
    if summary.skipped:
        console.print(Text(f"Skipped {plural(len(summary.skipped), 'file')}:"))
        for source, reason in summary.skipped:
            console.print(Text(f"  {one_line(source)}: {one_line(reason)}"), soft_wrap=True)
    else:
        console.print("Skipped 0 files.")
