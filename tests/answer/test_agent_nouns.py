"""A question's verb is held by a sentence that names its doer: "Who founded Fusion GPS?" is answered by
"Fusion GPS founder Glenn Simpson …" (archive d02 quoted three sentences on who paid Fusion GPS)."""

from __future__ import annotations

from pathlib import Path

from retrieval.morphology import related_terms
from tests.conftest import score_articles


def test_a_verb_stands_for_its_agent_nouns_found_in_the_vocabulary() -> None:
    vocab = dict.fromkeys("found founded founder prosecute prosecutor advise adviser advisor lead".split(), 1)
    assert related_terms(vocab, "founded") == {"founded", "founder"}
    assert related_terms(vocab, "prosecuted") == {"prosecuted", "prosecutor"}
    assert related_terms(vocab, "advise") == {"advise", "adviser", "advisor"}
    # Only words the index holds; and no other forms of the stem, which cost quotes on the archive (355 -> 351).
    assert related_terms(vocab, "negotiated") == {"negotiated"}
    assert related_terms(vocab, "found") == {"found", "founder"}
    assert "led" not in related_terms(vocab, "lead")


def test_a_sentence_naming_the_doer_holds_the_verb(tmp_path: Path) -> None:
    articles = {
        "fusion.md": "Fusion GPS founder Glenn Simpson testified for ten hours on Tuesday.\n",
        "paid.md": "Perkins Coie confirmed on Tuesday that it had paid Fusion GPS in April.\n",
    }
    lexical = {
        source: c.lexical for source, _, c in score_articles(tmp_path, articles, "Who founded Fusion GPS?", 2)
    }
    # fusion, gps and founded against fusion and gps alone.
    assert lexical["fusion.md"] > lexical["paid.md"] > 0
