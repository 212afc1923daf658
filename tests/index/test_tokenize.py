"""The BM25 tokenizer: its terms, and the word → term memory that makes it fast (issue 13)."""

from __future__ import annotations

import re

import pytest

from retrieval import lexical
from retrieval.lexical import tokenize


def reference_tokenize(text: str) -> list[str]:
    """The tokenizer as it was before words' terms were remembered: every rule applied to every word."""
    text = re.sub(r"\b([A-Za-z])\.([A-Za-z])\.", r"\1\2", text)
    out = []
    for raw in re.findall(r"[^\W_]+(?:['’][^\W_]+)*", text.lower()):
        if raw in lexical.STOPWORDS:
            continue
        out.append(lexical.stem(lexical._CANONICAL.get(raw, raw)))
    return out


TEXTS = [
    "The U.S. and Russia's envoys met in Helsinki.",
    "U.S.-Russia talks: the U.N. said so. A.B.C. news, e.g. this.",
    "Americans' policies; the countries' leaders; Russians voted.",
    "snake_case words_and ’curly’ apostrophes in Trump’s tweets",
    "",
    "... .a. b.c. x.Y.z",
    "Москва и Вашингтон, Lavrov’s counterpart",
    "the the the of and",
]


@pytest.mark.parametrize("text", TEXTS)
def test_tokenize_gives_the_terms_every_rule_gives(text: str) -> None:
    assert tokenize(text) == reference_tokenize(text)
    assert tokenize(text) == reference_tokenize(text)  # now from the remembered terms


def test_tokenize_reads_initials_and_drops_stopwords() -> None:
    assert tokenize("The U.S. sanctions were imposed on Russia's banks.") == [
        "usa",
        "sanction",
        "imposed",
        "russia",
        "bank",
    ]


def test_remembered_terms_stay_under_their_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexical, "TERMS_KEPT", 50)
    monkeypatch.setattr(lexical, "_TERMS", {})
    words = [f"word{i}s" for i in range(400)]
    for start in range(0, 400, 7):
        chunk = " ".join(words[start : start + 7])
        assert tokenize(chunk) == reference_tokenize(chunk)
        assert len(lexical._TERMS) <= 50
    assert tokenize("the words") == ["word"]


def test_long_words_are_read_but_not_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    # 200,000 distinct 1,000-letter words from questions held 411 MiB when every word was remembered (a21).
    monkeypatch.setattr(lexical, "_TERMS", {})
    long_word = "x" * 1000 + "s"
    assert tokenize(f"Sanctions {long_word}") == ["sanction", "x" * 1000]
    assert set(lexical._TERMS) == {"sanctions"}
    assert max(map(len, lexical._TERMS)) <= lexical.REMEMBERED_CHARS
