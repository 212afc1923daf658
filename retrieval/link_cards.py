"""Removing the inline link cards a scraped news page carries inside its sentences.

The Hill links each politician's name to a hover card, and scrapers keep the card's text in the
sentence: "Sen. Kevin Cramer Kevin John CramerGOP senators balk at lengthy impeachment trial GOP senators
plan to tune out impeachment week … MORE (R-N.D.), a member of …". The card is the person's full name
glued to three of the site’s later headlines, ended by "MORE". In the AllSides dump 1,020 articles hold
5,770 cards (1.4 million characters): quoted, they put 2019 headlines into 2015 sentences; indexed, they
make an article about one thing match questions about another. The reader of the page saw
"Sen. Kevin Cramer (R-N.D.), a member of …", which is what is kept.

Running text repeats names too ("Fox News Fox Business", "Trump Tower. Trump Jr.") and quotes tweets in
capitals ("MORE Border Security!"), so a card needs the name written twice with nothing between the
repeated surname and the card's first headline ("CramerGOP", "Harris2020"), or, without that glue, the
reader's name repeated in the card's full name in an article that has glued cards too (outside attack a37).
"""

from __future__ import annotations

import re

_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
# A card ends in "MORE" after a headline (" MORE") or, when the card has no headlines, glued to the full name
# ("John Francis KellyMORE"); not "READ MORE:" nor "LEARN MORE".
_END = re.compile(rf"(?<=\S) MORE\b|(?<=[{_LOWER}])MORE\b")
# Letters only: "Tu-160 Blackjack Tu-160M2" and "MiG-29 Fulcrum MiG-29SMT" are aircraft, not names (a38).
_LETTERS = rf"A-Za-z{_UPPER}{_LOWER}'’-"
_WORD = rf"[{_UPPER}][{_LETTERS}]{{0,30}}"
# The first part of a surname is no surname: "Governors De Blasio Ron DeSantis", "Senators McCain McConnell".
_PREFIX = "".join(rf"(?<!\b{p})" for p in "Mac Mc De Di Da Du La Le Van Von Del Des St".split())
# One word of a full name: capitalised ("Rodham", "O'Rourke"), initials or a suffix with their stops ("W.",
# "G.K.", "Jr."), a nickname in brackets ("(Ron)", "(G.K.)"), or a particle ("Bill de Blasio"). A capitalised
# word with a stop ends a sentence ("Trump Tower. Trump Jr."): no name runs over it. Bounded: linear search.
_NAME = (
    rf"(?:{_WORD}|(?:[{_UPPER}]\.){{1,3}}|(?:Jr|Sr|St)\.|\((?:{_WORD}|(?:[{_UPPER}]\.){{1,3}})\)"
    r"|de|da|di|du|del|der|van|von|la|le|bin|al)"
)
# The first headline starts right after the full name: a capital, or a number and a space ("Harris2020
# Democrats push …"); not a quote mark ("Trump“We will …"; one card of 5,771 started so), a possessive
# ("Putin'S") nor a party label ("Smith(R)").
_GLUE = rf"(?=[{_UPPER}]|[0-9]+\s)"
# The surname the sentence shows, then the card's full name ending in it, glued to the first headline:
# after a space ("Mitch McConnell Addison (Mitch) Mitchell McConnellGOP …"), or glued to the shown name too
# ("George PapadopoulosGeorge Demetrios PapadopoulosThe …"). The surname needs a small letter: all-capital
# transcripts repeat words ("THE FEARS … THE") without being cards.
_SURNAME = rf"(?<![\w'’.-])(?=[{_UPPER}][{_LETTERS}]{{0,30}}[{_LOWER}])({_WORD}){_PREFIX}"
_SPACED = re.compile(rf"{_SURNAME} ((?:{_NAME} ){{1,4}}?)\1{_GLUE}")
_GLUED = re.compile(
    rf"(?<![\w'’.-])([{_UPPER}][{_LETTERS}]{{0,30}}?[{_LOWER}]){_PREFIX}(?=[{_UPPER}])((?:{_NAME} ){{1,4}}?)\1{_GLUE}"
)
# Without glue: "Speaker Paul Ryan Paul Davis Ryan Retirees should say …", taken only beside glued cards.
_UNGLUED = re.compile(rf"{_SURNAME} ((?:{_NAME} ){{1,4}}?)\1 (?!(?:Jr|Sr)\.)(?=[{_UPPER}0-9])")
# "Donald Trump Jr. Donald (Don) John TrumpTrump Jr …": the suffix belongs to the name the reader saw.
_SUFFIX = re.compile(r"(?:Jr\.|Sr\.|I{2,3}|IV)(?= )")
_SHOWN = re.compile(rf"((?:{_WORD} ){{0,3}})$")
# Any line or paragraph break: "\r" and U+2028 end a paragraph as "\n" does (a38).
_LINE_BREAK = re.compile(r"[\n\r\x0b\x0c\x85\u2028\u2029]")
# A card's headlines run to MORE: three of them, 9 words or more in all of the AllSides corpus' 5,720 (and 50
# cards have none, "KellyMORE"). "Ocasio-Cortez Alexandria Ocasio-Cortez2020 rally drew MORE people" has three.
MIN_HEADLINE_WORDS = 8
# The longest card in the AllSides dump runs about 700 characters from the full name to "MORE".
MAX_CARD_CHARS = 800


def find_link_cards(text: str) -> list[tuple[int, int]]:
    """The [start, end) spans of the link cards in text, each from the space before the full name to MORE."""
    cards: dict[int, tuple[int, int]] = {}
    unglued: list[tuple[int, str, int]] = []
    floor = 0
    for end in _END.finditer(text):
        if text[max(0, end.start() - 6) : end.start()].strip() in (
            "READ",
            "Read",
            "LEARN",
        ) or text.startswith(":", end.end()):
            continue
        # A card lies on one line, after the previous "MORE": each character is searched once.
        lo = max(floor, end.start() - MAX_CARD_CHARS)
        for line_break in _LINE_BREAK.finditer(text, lo, end.start()):
            lo = line_break.end()
        segment = text[lo : end.end()]
        floor = end.end()
        start = _card_start(text, lo, segment, _SPACED, repeats=False) or _card_start(
            text, lo, segment, _GLUED, repeats=True
        )
        if start is None:
            unglued.append((lo, segment, end.end()))
        else:
            cards[start] = (start, end.end())
    if cards:
        for lo, segment, stop in unglued:
            start = _card_start(text, lo, segment, _UNGLUED, repeats=True)
            if start is not None:
                cards[start] = (start, stop)
    return [cards[s] for s in sorted(cards)]


def _card_start(text: str, lo: int, segment: str, pattern: re.Pattern[str], repeats: bool) -> int | None:
    """Where the card begins (the space before its full name), or None when the segment holds none.

    `repeats`: the full name must repeat a word of the name shown before it ("Paul Ryan" … "Paul Davis
    Ryan", "Chris Pappas" … "Christopher (Chris) Charles Pappas"), not merely end in the same word.
    """
    at = 0
    while match := pattern.search(segment, at):
        # "Paul Ryan Paul Davis Ryan Retirees …" first matches "Paul Ryan Paul"; the name that starts inside
        # it and repeats too is the card's.
        while inner := pattern.match(segment, match.start(2)):
            match = inner
        start = lo + match.start(2)
        suffix = _SUFFIX.match(text, start)
        full = match.group(2)
        if suffix:
            start = suffix.end()
            full = full[suffix.end() - suffix.start() :]
        headlines = segment[match.end() :].removesuffix("MORE")
        if (not headlines or len(headlines.split()) >= MIN_HEADLINE_WORDS) and (
            not repeats or _repeats_shown(text[max(0, lo - 100) : lo + match.start(1)], full)
        ):
            return start - 1 if text[start - 1] == " " else start
        at = match.start(1) + 1
    return None


def _repeats_shown(before: str, full: str) -> bool:
    """Whether the card's full name repeats a word of the name just before the surname shown."""
    at = _SHOWN.search(before) if before.endswith(" ") else None
    shown = at.group(1).split() if at else []
    names = [w.strip("()") for w in full.split()]
    first = [names[0], *(w.strip("()") for w in full.split() if w.startswith("("))] if names else []
    return any(
        s == f or (min(len(s), len(f)) >= 3 and (s.startswith(f) or f.startswith(s)))
        for s in shown
        for f in first
    )


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
