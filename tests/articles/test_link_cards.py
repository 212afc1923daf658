"""Inline link cards (a linked name's hover text kept by a scraper) are removed; running text is kept."""

from __future__ import annotations

import re

import pytest

from bench.corpora import corpus_path, read_corpus
from retrieval.link_cards import find_link_cards, strip_link_cards

# A card's headlines as the AllSides dump holds them (The Hill): three, 9 words or more in all.
HEADLINES = "GOP senators balk at lengthy impeachment trial Graham says Schiff should be a witness"
CARDS = [
    (
        "Sen. Kevin Cramer Kevin John CramerGOP senators balk at lengthy impeachment trial GOP senators plan "
        "to tune out impeachment week MORE (R-N.D.), a member of the Senate, said so.",
        "Sen. Kevin Cramer (R-N.D.), a member of the Senate, said so.",
    ),
    (
        "Hillary Clinton Hillary Diane Rodham Clinton2020 Democrats make play for veterans' votes The Memo: "
        "Democrats confront prospect of long primary MORE’s email problems are taking a bite out of her approval "
        "ratings.",
        "Hillary Clinton’s email problems are taking a bite out of her approval ratings.",
    ),
    (
        f"Senate Majority Leader Mitch McConnell Addison (Mitch) Mitchell McConnell{HEADLINES} MORE (R-Ky.) had "
        "tried to defuse the uproar.",
        "Senate Majority Leader Mitch McConnell (R-Ky.) had tried to defuse the uproar.",
    ),
    (
        # The card glued to the name the reader saw.
        "comments made by a former Trump campaign aide, George PapadopoulosGeorge Demetrios PapadopoulosThe "
        "Hill's Campaign Report: Red-state governors races pose test for Trump MORE, in 2016.",
        "comments made by a former Trump campaign aide, George Papadopoulos, in 2016.",
    ),
    (
        "The mayor of the nation's largest city — Bill de Blasio Bill de BlasioDNC raises qualifying "
        "thresholds for fifth presidential debate MORE — is in the race.",
        "The mayor of the nation's largest city — Bill de Blasio — is in the race.",
    ),
    (
        # The headline after a space, not glued: taken beside a glued card only.
        "Speaker Paul Ryan Paul Davis Ryan Retirees should say 'no thanks' to Romney's Social Security plan "
        f"MORE (R-Wis.) and Sen. Kevin Cramer Kevin John Cramer{HEADLINES} MORE agreed.",
        "Speaker Paul Ryan (R-Wis.) and Sen. Kevin Cramer agreed.",
    ),
    (
        # A card with no headlines, glued to the full name.
        "White House chief of staff John Kelly John Francis KellyMORE called Tillerson on Friday night.",
        "White House chief of staff John Kelly called Tillerson on Friday night.",
    ),
    (
        f"Sen. Ángel Taveras Ángel Taveras{HEADLINES} MORE (D) said.",
        "Sen. Ángel Taveras (D) said.",
    ),
    (
        # "Jr." is the reader's; the card starts after it.
        f"Donald Trump Jr. Donald (Don) John TrumpTrump Jr mocks {HEADLINES} MORE, the president’s son, met her.",
        "Donald Trump Jr., the president’s son, met her.",
    ),
    (
        f"Sens. Elizabeth Warren Elizabeth Ann WarrenWarren to Sanders: 'I disagree' {HEADLINES} MORE (D-Mass.) "
        "and Kamala Harris Kamala Devi Harris2020 Democrats push for gun control action at forum MORE (D-Calif.) "
        "voted no.",
        "Sens. Elizabeth Warren (D-Mass.) and Kamala Harris (D-Calif.) voted no.",
    ),
]


@pytest.mark.parametrize(("raw", "kept"), CARDS)
def test_a_card_is_cut_to_the_name_the_reader_saw(raw: str, kept: str) -> None:
    assert strip_link_cards(raw) == (kept, raw.count("MORE"))


@pytest.mark.parametrize(
    "text",
    [
        # "MORE" that is no card's end.
        "Join NRPLUS. LEARN MORE",
        "Our War Against Memory.\n\nREAD MORE:\n\nThe Hollywood Conspiracy",
        "Should be charging MUCH MORE!” Trump tweeted.",
        # All-capital transcripts repeat words without being cards.
        "SUCH A CHANGE COULD EASE SOME OF THE FEARS IN THE FAMILY, BUT THE FORCEFUL STEP MORE THAN WORDS.",
        "NDAA WATCH — MORE PROGRESS AS FINAL BILL IS WITHIN REACH, said Ben Weyl.",
        # A repeated name in running text, no MORE after it.
        "Putin met Trump. Trump Donald said little, and Trump said more about Putin later.",
        # The name pattern on the line before MORE: a card lies on one line.
        "Vladimir Putin Vladimir Vladimirovich Putin\nTrump said he would go. MORE to come.",
        # Names repeated in running text, with capitals later on the line (outside attack a37).
        "Speaking on Fox News Fox Business host Maria Bartiromo asked Antonov, who wants MORE respect.",
        "“The Witch Hunt Rigged Witch Hunt must end now. Republicans want MORE Border Security!” Trump wrote.",
        "Senators McCain McConnell and Graham met Lavrov, who demanded MORE guarantees on Syria.",
        "Donald Trump Jr. met a Russian lawyer at Trump Tower. Trump Jr. said: “NO MORE WITCH HUNT!”",
        "He stayed at the Trump Organization Trump Tower property, where guests asked for MORE security.",
        "United Nations Security Council United Nations General Assembly votes show Russia wants MORE vetoes.",
        "Secretary Rex Tillerson Rex Tillerson’s trip to Moscow yielded no MORE than promises.",
        "President Trump Trump's lawyers said the Kremlin must do MORE to help.",
        "Officials DeSantis DeVos and Pence spoke. Putin wants MORE.",
        "Gen. Douglas Mac MacArthur said the Soviets wanted MORE land.",
        "PUTIN: Putin Vladimir Putin'S reply was no MORE talks.",
        "Witness Smith John Smith(R) said they wanted MORE money.",
        "Russia Russia2016 hashtags were tweeted MORE often.",
        "Frank Sinatra sang New York New York Times critics called it MORE than a song.",
        "Donald Trump Jr. Donald Trump Jr.'s emails showed the Russians offered MORE dirt.",
        # Outside attack a38: designations, name prefixes, short "headlines", quote marks, other line breaks.
        "The Tu-160 Blackjack Tu-160M2 upgrade will let the bomber carry cruise missiles further, officials said, "
        'hours after President Donald Trump tweeted that NATO allies "must pay MORE" for their own defence.',
        "The MiG-29 Fulcrum MiG-29SMT jets will fly again, and Moscow may send MORE aircraft.",
        "Governors De Blasio Ron DeSantis and Cuomo asked for MORE.",
        "Ocasio-Cortez Alexandria Ocasio-Cortez2020 rally drew MORE people.",
        "Supporters chanted Trump Pence Trump2020 and demanded MORE.",
        "Trump Donald Trump“We will have MORE sanctions,” he said.",
        "Paul Ryan Paul RyanRussia section\rNew paragraph with real words here.\rTrump wants MORE walls.",
        "Paul Ryan Paul RyanRussia section\u2028New paragraph with real words here. Trump wants MORE walls.",
    ],
)
def test_running_text_is_kept(text: str) -> None:
    assert strip_link_cards(text) == (text, 0)


def test_spans_are_exact_and_in_order() -> None:
    raw = CARDS[-1][0]
    cards = find_link_cards(raw)
    assert [raw[s:e] for s, e in cards] == [
        f" Elizabeth Ann WarrenWarren to Sanders: 'I disagree' {HEADLINES} MORE",
        " Kamala Devi Harris2020 Democrats push for gun control action at forum MORE",
    ]


def test_each_more_is_searched_back_only_to_the_one_before() -> None:
    # 200,000 "MORE"s: a search back to the line's start from each would take minutes.
    text = "the cat " * 10 + "A MORE " * 200_000
    assert strip_link_cards(text) == (text, 0)


needs_allsides = pytest.mark.skipif(
    not corpus_path("allsides-2014-2019").exists(),
    reason=f"the shared archives are not at {corpus_path('allsides-2014-2019').parent} (set USRU_CORPORA)",
)


@needs_allsides
def test_the_hill_articles_lose_every_card_and_only_cards() -> None:
    hill = []
    for record in read_corpus("allsides-2014-2019"):
        if record["publisher"] == "The Hill" and " MORE" in record["text"]:
            hill.append(record["text"])
            if len(hill) == 40:
                break
    assert len(hill) == 40
    removed = 0
    for text in hill:
        kept, n = strip_link_cards(text)
        removed += n
        assert not re.search(r"\bMORE\b", kept)
        # Lines without a card are kept as they are.
        assert [line for line in text.split("\n") if "MORE" not in line] == [
            line for line in kept.split("\n") if line in text.split("\n")
        ]
        for start, end in find_link_cards(text):
            # Each card repeats the name the reader saw just before it: its surname opens the card.
            shown = [w for w in text[:start].split() if w not in ("Jr.", "Sr.")][-1]
            assert shown.strip("(),") in text[start : start + 80], text[start - 40 : end]
    assert removed >= 40
