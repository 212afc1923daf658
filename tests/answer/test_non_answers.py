"""Photo captions and video teasers left in an article's text are scored down like headlines; links to other articles out."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.non_answers import W_CAPTION, W_HEADLINE, W_LINK, weigh_non_answer
from tests.conftest import score_articles


@pytest.mark.parametrize(
    "span",
    [
        "Hide Caption 71 of 104 Photos: Photos: Crisis in Ukraine Crisis in Ukraine – Clouds of smoke are on the"
        " horizon as Ukrainian forces and pro-Russian rebels clash in Yasynuvata, Ukraine, on Tuesday, August 19.",
        "FILE PHOTO: Special Counsel Robert Mueller departs after briefing members of the U.S. Senate.",
        "Photos: Turkey-Syria border: Russian warplane crashes A Russian warplane goes down in Syria's Bayirbucak"
        " region, near the Turkish border, on November 24, 2015.",
        "JUST WATCHED Senator calls for weapons aid to Ukraine Replay More Videos ...",
        "The FBI seal outside the bureau's headquarters in Washington. (Photo: Yuri Gripas/AFP/Getty Images)",
    ],
)
def test_a_caption_is_scored_down(span: str) -> None:
    assert weigh_non_answer(span) == W_CAPTION


@pytest.mark.parametrize(
    "span",
    [
        "The town of Novoazovsk, located in southern Ukraine, had earlier escaped the violence.",
        "The photos showed Russian tanks crossing the border, a NATO official said.",
        "Here are a few of the photos, tweeted by US Ambassador to Ukraine Geoffrey Pyatt:",
        # A link's text pasted into a real report (a22).
        "Trump told Mueller he didn't recall discussing WikiLeaks with Roger Stone 2019 in Photos: 35 pictures in"
        " politics MORE, who was convicted of lying to Congress last week.",
    ],
)
def test_a_statement_about_photos_is_not_a_caption(span: str) -> None:
    assert weigh_non_answer(span) == 0.0


@pytest.mark.parametrize(
    "span",
    [
        "More:Donald Trump still subject of probe by special counsel Robert Mueller, but not a target",
        "More: We looked for the 'Nicest Place in America.' Our contest hit a nerve.",
        "Russian woman charged with spying for Moscow by 'infiltrating' NRA Read more",
        # Outside attack a38: the Washington Times' 314 "SEE ALSO:" lines, and others.
        "SEE ALSO: Ukraine issues arrest warrant for missing leader",
        "Read More: Trump says Russia is no longer targeting the U.S.",
        "Related Coverage: Kremlin calls the sanctions illegal",
        "( WATCH: Putin says he never met Trump",
        "Putin meets Xi in Beijing Continue reading",
        # The head of a list of links (a39).
        "More about the conclusion of special counsel Robert Mueller's investigation:",
    ],
)
def test_a_link_to_another_article_is_never_quoted(span: str) -> None:
    assert weigh_non_answer(span) == W_LINK


def test_more_and_read_more_inside_a_sentence_are_no_link() -> None:
    assert weigh_non_answer("Readers wanted more: the paper said so.") == 0.0
    assert weigh_non_answer("He told readers they could read more about it online.") == 0.0
    assert weigh_non_answer("Watch your step, he said.") == 0.0


def test_a_sentence_of_a_link_line_is_scored_as_the_link(tmp_path: Path) -> None:
    """a39: "More:Awkward! Donald Trump Jr. and Robert Mueller spotted at same gate …" splits at its "!", and the
    second sentence was quoted as USA Today's report."""
    link = "Donald Trump Jr. and Robert Mueller spotted at same gate in Washington airport"
    lead = "The special counsel's office declined to comment on the sighting on Sunday, a spokesman said.\n\n"
    articles = {"link.md": f"{lead}More:Awkward! {link}\n", "plain.md": f"{lead}Awkward! {link}\n"}
    question = "Were Donald Trump Jr. and Robert Mueller spotted at the same gate at an airport?"
    score = {
        source: c.score for source, span, c in score_articles(tmp_path, articles, question, 2) if span == link
    }
    # The same sentence but for the line it is on; the plain one loses a headline's share (no closing stop).
    assert score["plain.md"] - score["link.md"] > W_LINK - W_HEADLINE - 0.05
