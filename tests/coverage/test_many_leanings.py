"""Twelve leanings (an outlet mapping with many labels): compare stays readable, the charts tell each apart."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.patches import Rectangle
from rich.console import Console

from bot.chart import timeline_figure
from bot.coverage_cli import print_comparison
from retrieval import api
from retrieval.service import AnsweringService, build_service
from tests.conftest import hashing_settings_for

LABELS = [f"camp {n:02}" for n in range(12)]


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> AnsweringService:
    """One article per leaning, each in its own month, all on the same treaty."""
    root = tmp_path_factory.mktemp("many_leanings")
    sources = root / "sources"
    sources.mkdir()
    for n, label in enumerate(LABELS):
        (sources / f"a{n:02}.md").write_text(
            f"---\ntitle: Zeppelin talks {n}\npublisher: Outlet {n}\ndate: 2018-{n + 1:02}-16\n"
            f"leaning: {label}\n---\n\n"
            f"Diplomats met in Vienna to discuss the zeppelin treaty and its verification regime, report {n}.\n",
            encoding="utf-8",
        )
    return build_service(hashing_settings_for(sources, root / "idx"))


def test_compare_with_twelve_leanings_keeps_headers_and_sources_whole(many: AnsweringService) -> None:
    comparison = api.compare_leanings(many, "What did diplomats say about the zeppelin treaty verification?")
    assert [g.leaning for g in comparison.groups] == LABELS and all(g.citations for g in comparison.groups)
    console = Console(width=100, force_terminal=True, record=True)
    print_comparison(console, comparison)
    text = console.export_text()
    for n, label in enumerate(LABELS):
        # Twelve columns in 100 characters folded each header and source over several lines.
        assert f"{label} (1 article)" in text, text
        assert f"Outlet {n}," in text and f"2018-{n + 1:02}-16" in text, text  # wrapped between words only
    assert max(len(line) for line in text.splitlines()) <= 100


def test_the_chart_gives_each_of_twelve_leanings_its_own_look(many: AnsweringService) -> None:
    timeline = api.topic_timeline(many, "zeppelin treaty")
    assert timeline.leanings == tuple(LABELS)
    axes = timeline_figure(timeline).axes[0]
    looks: dict[str, set[tuple[tuple[float, ...], str]]] = {}
    for container in axes.containers:
        label = container.get_label().strip()
        looks[label] = {
            (p.get_facecolor(), p.get_hatch() or "") for p in container if isinstance(p, Rectangle)
        }
    assert sorted(looks) == LABELS
    assert all(len(v) == 1 for v in looks.values())  # one look per leaning
    assert len({next(iter(v)) for v in looks.values()}) == len(LABELS), looks  # and no two alike
    legend = axes.get_legend()
    assert legend is not None and len(legend.get_texts()) == len(LABELS)


def test_the_terminal_bars_give_each_of_twelve_leanings_its_own_look(many: AnsweringService) -> None:
    from bot.coverage_cli import timeline_bar

    timeline = api.topic_timeline(many, "zeppelin treaty")
    looks = set()
    for i in range(len(timeline.periods)):
        bar = timeline_bar(timeline, i, [])
        (span,) = [s for s in bar.spans if s.end > s.start and bar.plain[s.start] != " "]
        looks.add((str(span.style), bar.plain[span.start]))
    assert len(looks) == len(LABELS), looks


def test_a_png_of_a_topic_no_dated_article_mentions_is_not_written(
    many: AnsweringService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    monkeypatch.setenv("EMBEDDING_MODEL", "hashing")
    settings = many.settings
    base = ["--sources", str(settings.sources), "--index-dir", str(settings.index_dir)]
    png = tmp_path / "chart.png"
    png.write_bytes(b"an older chart")
    assert main(["timeline", "xqzv blorft", *base, "--png", str(png)]) == 1
    captured = capsys.readouterr()
    assert png.read_bytes() == b"an older chart"  # neither a blank chart nor a stale one passed off as new
    assert captured.out.strip() == "No dated article mentions xqzv blorft."
    assert captured.err.strip().splitlines() == [
        f"usru: No chart written to {png}: no dated article mentions xqzv blorft."
    ]
