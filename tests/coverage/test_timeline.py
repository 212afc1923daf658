"""`timeline`: counts per period and leaning equal a direct count over the slice; the chart; the CLI."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from matplotlib.patches import Rectangle
from PIL import Image

from bot.chart import COLOURS, timeline_figure, timeline_png
from bot.cli import main
from retrieval import api
from retrieval.article import read_article
from retrieval.errors import QuestionError
from retrieval.lexical import tokenize
from retrieval.service import AnsweringService
from retrieval.timeline import period_of, period_span
from tests.support.corpus import assert_verbatim


def direct_count(
    records: list[dict[str, Any]], sources: Path, topic: str, by: str
) -> Counter[tuple[str, str]]:
    """Articles whose title or body holds every word of the topic, by period and AllSides bias.

    Read from each imported file with the article reader, not from the index: page furniture (photo
    captions, share buttons) is no part of what an article says, so a word only there is no mention.
    """
    terms = set(tokenize(topic))
    names = {
        p.name.split("-")[0] + "-" + p.name.split("-")[1].removesuffix(".md"): p
        for p in sources.rglob("*.md")
    }
    out: Counter[tuple[str, str]] = Counter()
    for r in records:
        article = read_article(names[r["id"]])
        body = [article.text[s.start : s.end] for s in article.paragraphs]
        if terms <= set(tokenize("\n".join([article.title or "", *body]))):
            period = period_of(r["date"], by)  # type: ignore[arg-type]
            assert period is not None
            out[(period, r["bias"])] += 1
    return out


@pytest.mark.parametrize(
    ("topic", "by"), [("sanctions", "month"), ("Helsinki summit", "week"), ("NATO", "week")]
)
def test_counts_equal_a_direct_count_over_the_slice(
    slice_service: AnsweringService, slice_records: list[dict[str, Any]], topic: str, by: str
) -> None:
    timeline = api.topic_timeline(slice_service, topic, by)  # type: ignore[arg-type]
    expected = direct_count(slice_records, slice_service.settings.sources, topic, by)
    got = Counter(
        {
            (p, label): n
            for label, row in timeline.counts.items()
            for p, n in zip(timeline.periods, row, strict=True)
            if n
        }
    )
    assert got == expected
    assert timeline.undated == 0 and timeline.total == sum(expected.values()) > 0
    assert list(timeline.periods) == sorted(timeline.periods)


def test_peaks_are_the_busiest_periods_quoted_verbatim(slice_service: AnsweringService) -> None:
    timeline = api.topic_timeline(slice_service, "Helsinki summit", "week")
    assert 1 <= len(timeline.peaks) <= 3
    busiest = sorted(timeline.totals, reverse=True)[: len(timeline.peaks)]
    assert sorted((p.count for p in timeline.peaks), reverse=True) == busiest
    for peak in timeline.peaks:
        assert peak.citation is not None
        assert_verbatim(slice_service, [peak.citation])
        first, last = period_span(peak.period)
        assert peak.citation.date is not None and first <= peak.citation.date <= last
        article = slice_service.index.article_by_source(peak.citation.source)
        assert article is not None and peak.leaning == article.leaning
        assert {"helsinki", "summit"} <= set(tokenize(article.title + "\n" + article.text))  # type: ignore[operator]


def test_a_russian_topic_counts_what_its_english_counts(slice_service: AnsweringService) -> None:
    russian = api.topic_timeline(slice_service, "санкции")
    english = api.topic_timeline(slice_service, "sanctions")
    assert russian.terms == english.terms and russian.topic == "санкции"
    assert (russian.periods, russian.counts) == (english.periods, english.counts)
    assert russian.total == english.total > 0


def test_a_topic_no_article_mentions_is_empty_and_stopwords_are_refused(
    slice_service: AnsweringService,
) -> None:
    timeline = api.topic_timeline(slice_service, "xqzv blorft")
    assert (timeline.periods, timeline.peaks, timeline.total) == ((), (), 0)
    with pytest.raises(QuestionError):
        api.topic_timeline(slice_service, "what is the")


def test_the_png_is_a_real_image_with_one_bar_per_period_and_leaning(slice_service: AnsweringService) -> None:
    timeline = api.topic_timeline(slice_service, "sanctions", "week")
    bars = [p for p in timeline_figure(timeline).axes[0].patches if isinstance(p, Rectangle)]
    assert len(bars) == len(timeline.periods) * len(timeline.leanings)
    heights = sorted(round(b.get_height()) for b in bars)
    assert heights == sorted(n for row in timeline.counts.values() for n in row)
    data = timeline_png(timeline)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data)).convert("RGB")
    assert image.width >= 600 and image.height >= 300
    pixels = {rgb for _, rgb in image.getcolors(maxcolors=1 << 24) or []}
    for label in timeline.leanings:
        colour = COLOURS[label]
        rgb = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
        assert rgb in pixels, f"no {label} bar drawn"


def test_usru_timeline_prints_the_table_and_writes_the_png(
    slice_service: AnsweringService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = slice_service.settings
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing")
    base = ["--sources", str(settings.sources), "--index-dir", str(settings.index_dir)]
    png = tmp_path / "chart.png"
    assert main(["timeline", "sanctions", *base, "--png", str(png)]) == 0
    out = capsys.readouterr().out
    timeline = api.topic_timeline(slice_service, "sanctions")
    for period, total in zip(timeline.periods, timeline.totals, strict=True):
        assert period in out and str(total) in out
    assert Image.open(png).format == "PNG"
    assert main(["timeline", "sanctions", "--json", *base]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"] == {k: list(v) for k, v in timeline.counts.items()}
    assert main(["timeline", "sanctions", *base, "--png", str(tmp_path / "no" / "such" / "dir.png")]) == 2
    assert "Could not write the chart" in capsys.readouterr().err


def test_usru_compare_json_and_text(
    slice_service: AnsweringService, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = slice_service.settings
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing")
    base = ["--sources", str(settings.sources), "--index-dir", str(settings.index_dir)]
    question = "What did Trump and Putin say at the Helsinki summit?"
    assert main(["compare", question, "--json", *base]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [g["leaning"] for g in data["groups"]] == ["left", "center", "right"]
    assert main(["compare", question, *base]) == 0
    out = capsys.readouterr().out
    for g in data["groups"]:
        assert f"{g['leaning']} ({g['articles']} articles)" in out
        for c in g["citations"]:
            assert c["publisher"] in out
    assert main(["compare", "\x1b[2J sanctions \x07", *base]) == 0
    assert "\x1b" not in capsys.readouterr().out


def test_one_article_is_counted_in_the_singular(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "one.md").write_text(
        "---\ntitle: Talks\npublisher: Daily Example\ndate: 2018-07-16\nleaning: left\n---\n\n"
        "Diplomats met in Vienna to discuss the zeppelin treaty and its verification.\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing")
    base = ["--sources", str(sources), "--index-dir", str(tmp_path / "idx")]
    assert main(["timeline", "zeppelin treaty", *base]) == 0
    out = capsys.readouterr().out
    assert "1 article" in out and "1 articles" not in out
