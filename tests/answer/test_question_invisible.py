"""Invisible characters and terminal sequences pasted into a question (outside attack, a12).

The event checks refuse a large archive's questions that name a word no article uses; a zero-width space
inside "Kislyak" made "Kisl" such a word ("No indexed article mentions Kisl."), and a coloured paste
left "[31mKislyak" behind ("No indexed article mentions mKislyak.").
"""

from __future__ import annotations

from retrieval.service import clean_question


def test_characters_that_show_as_nothing_do_not_split_a_word() -> None:
    assert clean_question("What did Kisl\u200byak say?", 100) == "What did Kislyak say?"
    assert clean_question("What did Kis\u200dl\ufeffyak\u2060 say?", 100) == "What did Kislyak say?"
    assert clean_question("What did \u200fKislyak say?", 100) == "What did Kislyak say?"


def test_terminal_sequences_are_dropped_whole() -> None:
    assert clean_question("What did \x1b[31;1mKislyak\x1b[0m say?", 100) == "What did Kislyak say?"
    assert clean_question("What did \x1b]0;title\x07Kislyak say?", 100) == "What did Kislyak say?"
    # A lone escape or control character still only separates words.
    assert clean_question("Is Russia\x1b ready\x00to talk?", 100) == "Is Russia ready to talk?"


def test_a_decomposed_accent_is_composed() -> None:
    # Typed or pasted decomposed (e + U+0301, as macOS file names and some keyboards give it), "Mélenchon"
    # tokenized as "me" + "lenchon": the name was lost and "lenchon" refused as a word no article uses.
    assert clean_question("What did Me\u0301lenchon say?", 100) == "What did M\u00e9lenchon say?"
