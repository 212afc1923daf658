"""Removing the inline link cards a scraped news page carries inside its sentences.

The Hill links each politician's name to a hover card, and scrapers keep the card's text in the
sentence: "Sen. Kevin Cramer Kevin John CramerGOP senators balk at lengthy impeachment trial GOP senators
plan to tune out impeachment week … MORE (R-N.D.), a member of …". The card is the person's full name
glued to three of the site's later headlines, ended by "MORE". In the AllSides dump 1,019 articles hold
5,735 cards (1.4 million characters): quoted, they put 2019 headlines into 2015 sentences; indexed, they
make an article about one thing match questions about another. The reader of the page saw
"Sen. Kevin Cramer (R-N.D.), a member of …", which is what is kept.
"""

from __future__ import annotations

import re

# A card ends in " MORE" (not "READ MORE:", "LEARN MORE", nor capitals in running text, which never
# find the name pattern below).
_END = re.compile(r"(?<=\S) MORE\b")
# One word of a full name: capitalised ("Rodham", "O'Rourke", "Jr."), a nickname in brackets ("(Ron)"), or
# a particle ("Bill de Blasio"). Bounded, so a run of long capitalised words costs linear time.
_NAME = r"(?:[A-Z][\w'’.-]{0,30}|\([A-Z][\w'’.-]{0,30}\)|de|da|di|du|del|der|van|von|la|le|bin|al)"
# The first headline starts right after the full name, with no space: "TrumpTrump faces …", "Harris2020 …".
_GLUE = r"(?=[A-Z0-9\"'‘“(])"
# The name as the sentence shows it, ending in the surname the card's full name ends in too. Tried in
# order: then a space ("Mitch McConnell Addison (Mitch) Mitchell McConnellGOP …"); then nothing, the
# card glued to the name ("George PapadopoulosGeorge Demetrios PapadopoulosThe …"); then a card whose
# headline follows after a space ("Paul Ryan Paul Davis Ryan Retirees …"). The surname needs a small
# letter: all-capital transcripts repeat words ("THE FEARS … THE") without being cards.
_CARD_STARTS = (
    re.compile(
        rf"(?<![\w'’.-])(?=[A-Z][\w'’-]{{0,30}}[a-z])([A-Z][\w'’-]{{1,31}}) ((?:{_NAME} ){{0,4}}?)\1{_GLUE}"
    ),
    re.compile(rf"(?<![\w'’.-])([A-Z][\w'’-]{{0,30}}?[a-z])(?=[A-Z])((?:{_NAME} ){{1,4}}?)\1{_GLUE}"),
    re.compile(
        rf"(?<![\w'’.-])(?=[A-Z][\w'’-]{{0,30}}[a-z])([A-Z][\w'’-]{{1,31}}) ((?:{_NAME} ){{1,4}}?)\1 {_GLUE}"
    ),
)
# "Donald Trump Jr. Donald (Don) John TrumpTrump Jr …": the suffix belongs to the name the reader saw.
_SUFFIX = re.compile(r"(?:Jr\.|Sr\.|I{2,3}|IV)(?= )")
# The longest card in the AllSides dump runs about 700 characters from the full name to "MORE".
MAX_CARD_CHARS = 800


def find_link_cards(text: str) -> list[tuple[int, int]]:
    """The [start, end) spans of the link cards in text, each from the space before the full name to MORE."""
    cards: list[tuple[int, int]] = []
    floor = 0
    for end in _END.finditer(text):
        if text[max(0, end.start() - 5) : end.start()].strip() in (
            "READ",
            "Read",
            "LEARN",
        ) or text.startswith(":", end.end()):
            continue
        # A card lies on one line, after the previous "MORE": each character is searched once.
        lo = max(floor, end.start() - MAX_CARD_CHARS)
        lo = text.rfind("\n", lo, end.start()) + 1 or lo
        segment = text[lo : end.start()]
        floor = end.end()
        for pattern in _CARD_STARTS:
            match = pattern.search(segment)
            if match:
                # "Paul Ryan Paul Davis Ryan Retirees …" first matches "Paul Ryan Paul"; the name that
                # starts inside it and repeats too is the card's.
                while match.group(2) and (inner := pattern.match(segment, match.start(2))):
                    match = inner
                break
        else:
            continue
        start = lo + (match.start(2) if match.group(2) else match.end(1) + 1)
        suffix = _SUFFIX.match(text, start)
        if suffix:
            start = suffix.end()
        if text[start - 1] == " ":
            start -= 1
        cards.append((start, end.end()))
    return cards


def strip_link_cards(text: str) -> tuple[str, int]:
    """The text without its link cards, and how many were removed."""
    cards = find_link_cards(text)
    if not cards:
        return text, 0
    kept, cursor = [], 0
    for start, end in cards:
        kept.append(text[cursor:start])
        cursor = end
    kept.append(text[cursor:])
    return "".join(kept), len(cards)
