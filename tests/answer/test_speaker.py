"""A question asking for someone's words is warned when no quote names them (retrieval/speaker.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.speaker import asked_speaker, unnamed_speaker
from tests.answer.test_presupposition import build


def test_the_speaker_asked_for_is_a_person_not_a_country() -> None:
    assert asked_speaker("What did Hillary Clinton say in Helsinki in 2018?") == "Hillary Clinton"
    assert asked_speaker("How did Lavrov react to the expulsions?") == "Lavrov"
    assert asked_speaker("What did Russia say about the poisoning?") is None
    assert asked_speaker("What did the U.S. say?") is None
    assert asked_speaker("Why did Trump fire Comey?") is None


def test_no_quote_naming_the_speaker_is_a_caveat_one_naming_them_is_none() -> None:
    question = "What did Hillary Clinton say in Helsinki in 2018?"
    note = unnamed_speaker(question, ["Trump said in Helsinki that he saw no reason it would be Russia."])
    assert note is not None and "Hillary Clinton" in note, note
    assert unnamed_speaker(question, ["Clinton said the summit was a disgrace."]) is None


@pytest.mark.parametrize(
    ("question", "quote"),
    [
        ("What did Xi Jinping say about Russia?", "Xi said ties were strong."),
        ("What did Erdogan say about the jet?", "Erdoğan said Turkey would not apologize."),
        ("What did Beto O'Rourke say about Putin?", "O’Rourke said Putin was an adversary."),
        ("What did President Trump say about Putin?", "The president said he trusted him."),
    ],
)
def test_a_quote_naming_them_by_any_word_title_or_spelling_names_them(question: str, quote: str) -> None:
    """a30: "Xi said" for Xi Jinping, "Erdoğan", "O’Rourke" and "the president" were taken for no one."""
    assert unnamed_speaker(question, [quote]) is None


def test_a_body_is_no_speaker_to_name() -> None:
    """a30: "not NATO's" stood under a Stoltenberg quote."""
    for question in ("What did NATO say about Crimea?", "What did Congress say?", "What did CNN report say?"):
        assert asked_speaker(question) is None, question


def test_the_answer_carries_the_caveat(tmp_path: Path) -> None:
    """a28: Clinton's words were asked for and Trump's, said in Helsinki, were quoted without a word."""
    service = build(
        tmp_path,
        (
            ("Trump said in Helsinki that he saw no reason Russia would meddle.", "2018-07-16"),
            ("Putin said in Helsinki that Russia never interfered.", "2018-07-16"),
        ),
        min_relevance=0.0,
    )
    answer = service.answer("What did Hillary Clinton say in Helsinki in 2018?")
    assert answer.status == "answered"
    assert answer.note is not None and "None of these quotes names Hillary Clinton" in answer.note, (
        answer.note
    )
    named = service.answer("What did Putin say in Helsinki in 2018?")
    assert named.note is None or "None of these quotes" not in named.note, named.note
