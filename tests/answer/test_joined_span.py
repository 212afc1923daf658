"""A sentence quoted with the one it leans on is scored by both sentences' closeness to the question, not its own
alone (dev cv-23: "… pushed back on a report that the special counsel … obstructed justice. "They made up a phony
collusion … story, found zero proof"" ranked by the second sentence, which shares no word with the question)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.extractive import score_sentences
from retrieval.search import chunk_document, search_chunks
from retrieval.service import build_service
from tests.conftest import hashing_settings_for, score_articles

QUESTION = (
    "How did Trump react to the report that the special counsel examined whether he obstructed justice?"
)
LEAD = "Trump pushed back on the report that the special counsel examined whether he obstructed justice."
LEANING = "They made up a phony story, found zero proof, so now they go for something else."


def test_a_joined_span_is_as_close_as_its_two_sentences_together(tmp_path: Path) -> None:
    sources = tmp_path / "src"
    sources.mkdir()
    (sources / "tweet.md").write_text(f"{LEAD} {LEANING}\n", encoding="utf-8")
    (sources / "other.md").write_text("The council met and adjourned without a vote.\n", encoding="utf-8")
    service = build_service(hashing_settings_for(sources, tmp_path / "idx"))
    service.reindex()
    index = service.index
    qvec = service.embedder.embed_query(QUESTION)
    docs = [chunk_document(index, h) for h in search_chunks(index, service.embedder, QUESTION, 2, qvec=qvec)]
    candidates = score_sentences(index, service.embedder, QUESTION, docs, qvec)
    text = index.article(candidates[0].article_id).text
    joined = next(c for c in candidates if c.joined)
    assert text[joined.start : joined.end].startswith(LEAD) and text[joined.start : joined.end].endswith(
        LEANING
    )
    own = float(index.sentence_vecs[joined.sentence_id] @ qvec)
    lead = float(index.sentence_vecs[joined.sentence_id - 1] @ qvec)
    assert lead > own
    assert joined.dense == pytest.approx((own + lead) / 2)
    # The referent quoted alone keeps its own closeness.
    alone = next(c for c in candidates if not c.joined and c.sentence_id == joined.sentence_id - 1)
    assert alone.dense == pytest.approx(lead)


def _spans(tmp_path: Path, text: str) -> set[str]:
    """The spans score_sentences offers for QUESTION from one article of this text."""
    return {span for _, span, _ in score_articles(tmp_path, {"article.md": text}, QUESTION, 1)}


def test_a_line_without_a_sentence_end_is_no_referent(tmp_path: Path) -> None:
    """h4-31 quoted "Story Continued Below\n\nIt turns out that …": Politico's ad marker, taken as what "It" means."""
    spans = _spans(
        tmp_path,
        f"The council met on Monday and adjourned without a vote.\n\nStory Continued Below\n\n"
        f"{LEANING.replace('They', 'It')}\n\nTrump spoke.\n\n{LEANING}\n",
    )
    assert LEANING.replace("They", "It") in spans  # alone, not joined over the marker to the council
    assert f"Trump spoke.\n\n{LEANING}" in spans  # a sentence is still the one leaned on
    assert not any("Story Continued Below" in s for s in spans)


def test_a_link_to_another_article_is_no_referent(tmp_path: Path) -> None:
    """a38: "SEE ALSO: Kremlin calls the sanctions draconian and illegal." before "They will cut off exports …"
    was quoted as one span, as if the Kremlin would cut off exports."""
    spans = _spans(
        tmp_path,
        f"The council met on Monday and adjourned without a vote.\n\nSEE ALSO: Kremlin calls the sanctions "
        f"draconian and illegal.\n\n{LEANING}\n",
    )
    assert LEANING in spans
    assert not any("SEE ALSO" in s and LEANING in s for s in spans)
