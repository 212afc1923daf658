"""Spans that echo a question's words without answering it: questions, headlines, photo captions and links to
other articles, scored down."""

from __future__ import annotations

import re

# Taken off a sentence that asks a question ("So, what kind of player is Putin?") or that is a headline
# (no closing punctuation): it echoes the question's words without answering it.
W_NO_ANSWER = 0.2
W_HEADLINE = 0.2
# Taken off a photo caption or video teaser left in an article's text ("Hide Caption 71 of 104 Photos: Crisis in
# Ukraine – Clouds of smoke …", "FILE PHOTO: …", "JUST WATCHED … Replay More Videos"): it names a place, a date
# and people, so it holds "a detail" of every kind and echoes a gallery's topic, yet reports no event. Asked
# where separatists opened a new front, three captions of one gallery filled the answer ahead of the sentence
# naming Novoazovsk (archive dev split: 135 -> 136 of 175 quoted, no answer lost).
W_CAPTION = 0.2

# Taken off a link to another article left in the text: USA Today's "More:Trump blasts '13 Angry Democrats' …",
# the Washington Times' "SEE ALSO: Ukraine issues arrest warrant …", the Guardian's "Russian woman charged with
# spying for Moscow by 'infiltrating' NRA Read more" (about 2,700 lines in the AllSides corpus). It is another
# story's headline, never this one's report: it falls below any floor, and no sentence leans on it.
W_LINK = 1.0
_LINK_LEAD = re.compile(
    r"^\W*(?i:more|related(?: \w+){0,2}|see also|also see|read(?: more)?|watch(?: more)?|continue reading)\s*:"
    # The head of a list of links: "More about the conclusion of special counsel Robert Mueller's investigation:".
    r"|^\W*(?i:more|related|read|see|watch)\b[^.!?]*:\s*$"
)
_LINK_TAILS = (" read more", " continue reading")
_PUNCTUATION = " \t\n.…!?»”’\"')]"
_CLOSING = re.compile(r"[.!…:;][\"'”’»)\]]*\s*$|[\"”»]\s*$")
_CAPTION = re.compile(
    # "Photos:" only opening the span or a credit in brackets: inside a sentence it is a link's text pasted into a
    # real report ("… with Roger Stone … 2019 in Photos: 35 pictures in politics MORE, who was convicted …", a22).
    r"\bHide Caption \d+ of \d+\b|^\W*Photos?:\s|\(Photos?:\s|\bFILE PHOTO:|\bJUST WATCHED\b|\bReplay More Videos\b"
)


def is_link(span: str) -> bool:
    """Whether the span is a link to another article ("SEE ALSO: …", "… Read more")."""
    # The tail by string methods: a regex tried at every space cost 0.6 ms per 250 candidates (0.14 ms now).
    return bool(_LINK_LEAD.match(span)) or span.rstrip(_PUNCTUATION).lower().endswith(_LINK_TAILS)


def weigh_non_answer(span: str) -> float:
    """What a span loses for being a question, a headline, a caption or a link rather than a statement."""
    if is_link(span):
        return W_LINK
    if _CAPTION.search(span):
        return W_CAPTION
    last = span.rstrip().rstrip("\"'”’»)]").rstrip()
    if last.endswith("?"):
        return W_NO_ANSWER
    return 0.0 if _CLOSING.search(span) else W_HEADLINE


def line_of(text: str, start: int, end: int) -> str:
    """The whole line text[start:end] lies on: "More:Awkward! Donald Trump Jr. and Robert Mueller spotted …" is
    one link, split in two sentences at its "!" (a39)."""
    return text[text.rfind("\n", 0, start) + 1 : (text.find("\n", end) + 1 or len(text) + 1) - 1]


def weigh_quoted_span(text: str, start: int, end: int) -> float:
    """What text[start:end] loses as a quote: all of a link's weight if its line is a link, else weigh_non_answer's."""
    return W_LINK if is_link(line_of(text, start, end)) else weigh_non_answer(text[start:end])
