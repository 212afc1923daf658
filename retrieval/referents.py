"""Which sentence a sentence leans on: "They made up a phony story …" is quoted with the sentence before it.

score_sentences joins such a sentence to its referent, quoting both and scoring the pair, when the
referent is a sentence of the article right before it: not a page's furniture, nor a link to another story.
"""

from __future__ import annotations

import re

from retrieval.non_answers import is_link, line_of

# A sentence opening with one of these leans on the sentence before it for its meaning.
_ANAPHORA = re.compile(
    r"^[\"'“‘]?(?:This|That|These|Those|It|He|She|They|His|Her|Their|Its|Such|Both|The latter"
    r"|The (?:[A-Z]?[\w-]+ ){0,2}(?:leader|president|premier|minister|envoy|ambassador|official|diplomat"
    r"|spokes\w+|invitation|statement|remarks?|move|letter|decision|comments?))\b"
)
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")


def leans_on_previous(sentence: str) -> bool:
    """Whether the sentence opens with words that point back ("It", "They", "The minister")."""
    return bool(_ANAPHORA.match(sentence))


def is_referent(text: str, start: int, end: int, before: int) -> bool:
    """Whether text[start:end], just before a sentence that leans on it (at `before`), can be what it leans on.

    A sentence, and nothing but space between: "Story Continued Below", Politico's ad marker, is no
    sentence, and a marker dropped as furniture would be quoted in the joined span (h4-31). Nor a link to
    another article: "SEE ALSO: Kremlin calls the sanctions draconian." is not what "They will cut off
    exports" means (a38).
    """
    return (
        bool(_SENTENCE_END.search(text[start:end]))
        and not text[end:before].strip()
        and not is_link(line_of(text, start, end))
    )
