"""Photo captions and video teasers left in an article's text are scored down like headlines."""

from __future__ import annotations

import pytest

from retrieval.non_answers import W_CAPTION, weigh_non_answer


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
