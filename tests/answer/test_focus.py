"""A question naming what only a few articles mention reaches into those articles' other passages."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval import focus
from retrieval.focus import focus_chunks, named_articles
from retrieval.search import search_chunks
from retrieval.service import AnsweringService, build_service
from retrieval.settings import Settings

QUESTION = "For how many years has Putin dominated Russia, according to Mark Galeotti?"
OTHER = (
    "Putin has dominated Russia for years, and how many more years he dominates Russia is the question. "
    "Analysts say Putin dominated Russian politics for years. Story {n} on the years of Putin."
)
# The name in one passage, the detail in another: the detail's passage repeats few of the question's words.
LEAD = "Mark Galeotti, an expert on Russian security, spoke about the Kremlin in an interview on Monday. "
FILLER = "The weather in the capital was cold and grey, and the streets were quiet that week. " * 14
DETAIL = "Over his 17 years at the top, the Kremlin leader has kept a tight grip on the country."


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> AnsweringService:
    root = tmp_path_factory.mktemp("focus")
    src = root / "src"
    src.mkdir()
    for n in range(40):
        write(src / f"other{n:02d}.md", f"Putin story {n}", OTHER.format(n=n))
    write(src / "galeotti.md", "An interview", LEAD + FILLER + "\n\n" + DETAIL)
    settings = Settings(
        _env_file=None, sources=src, index_dir=root / "idx", embedding_model="hashing", min_relevance=0.0
    )
    return build_service(settings)


def write(path: Path, title: str, body: str) -> None:
    path.write_text(f"---\ntitle: {title}\npublisher: Wire\n---\n{body}\n", encoding="utf-8")


def detail_ranked(service: AnsweringService, k: int) -> bool:
    index = service.index
    hits = search_chunks(index, service.embedder, QUESTION, k)
    texts = [index.article(int(index.chunks.article[h.chunk_id])).text for h in hits]
    starts = [index.chunks.row(h.chunk_id)[1:3] for h in hits]
    return any("17 years" in t[s:e] for t, (s, e) in zip(texts, starts, strict=True))


def test_the_other_passages_of_the_one_article_naming_a_rare_name_are_searched(
    service: AnsweringService, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = service.index
    galeotti = index.article_by_source("galeotti.md")
    assert galeotti is not None and len(index.articles) == 41
    assert int((index.chunks.article == galeotti.id).sum()) >= 2
    assert named_articles(index, QUESTION) == {galeotti.id}
    assert named_articles(index, "For how many years has Putin dominated Russia?") == set()
    assert detail_ranked(service, 8)
    # Without the pointed-at article, the passage with the detail is out of reach.
    monkeypatch.setattr(focus, "NAMED_ARTICLES", 0)
    assert focus_chunks(index, QUESTION) is None
    assert not detail_ranked(service, 8)
