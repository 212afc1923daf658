"""A caveat that says no article reports the asked act must not sit above a quote that reports it.

The act checks (presupposition.unsaid_act, wrong_doer.other_doer, unreported_act) read the archive's sentences
with word-order rules: the doer before an active verb, the object after it. A sentence outside those rules
("The Magnitsky Act, a 2012 bill passed by Congress and signed by then-President Barack Obama") is no report
to them, and the answer showed that very sentence under "No indexed article reports that Obama did this".
A note the reader can see contradicted is worse than no note, so a shown quote holding the doer, a form of
the verb and the object's words (not negated) silences the act caveat. Loose on purpose, as the quotes are
few and the note is only a caveat.
"""

from __future__ import annotations

from collections.abc import Sequence

from retrieval.act_doer import (
    _NEGATIONS,
    _PASSIVE,
    _WORD,
    _names_of,
    asked_act,
    bare_word,
    object_heads,
    reported_forms,
)
from retrieval.index import StoredVersion
from retrieval.lexical import STOPWORDS, tokenize
from retrieval.unreported_act import _NUMBER, _beside, asked_count, counted_act, some_act

# Words before the verb that deny it: "Trump did not sign", "never signed".
NEGATION_REACH = 3
# How near the doer stands to the verb: before it ("Trump signed", "Trump on Wednesday signed"), or after
# "by" in the passive ("signed by then-President Barack Obama").
DOER_REACH = 4
# And the object after the verb ("fired the FBI director ... fire Robert Mueller" did not fire Mueller), or
# before it in the passive.
OBJECT_REACH = 8
# And a count of a counted act right after the verb: "hired 16 lawyers", "expelled some 60 diplomats".
COUNT_REACH = 3


def quotes_tell_act(index: StoredVersion, question: str, quotes: Sequence[str]) -> bool:
    """Whether a shown quote names the question's doer doing its verb (a past form) to most of its object."""
    act = asked_act(question) or some_act(question)
    # "How many prosecutors did Mueller hire": the counted noun is the answer's kind, and news counts in
    # its own noun ("Mueller has hired 16 lawyers", dev cv-17): a number after the verb stands for it.
    counted = act is None
    act = act or counted_act(question)
    if act is None:
        return False
    doer, verb, obj, complement = act
    doers = {t for name in _names_of(doer, leaders=True) for t in tokenize(name)} - set(STOPWORDS)
    forms = reported_forms(index, verb)
    wanted = (
        set()
        if counted
        else {t for t in tokenize(obj or complement) if t not in STOPWORDS and not t.isdigit()}
    )
    if not doers or not forms:
        return False
    count = asked_count(question, verb)[0]
    heads = object_heads(question, verb, obj) if obj and not counted else set()
    nouns = frozenset() if counted else frozenset({verb.lower(), verb.lower() + "s"})
    return any(_tells(quote, doers, forms, wanted, count, counted, heads, nouns) for quote in quotes)


def _tells(
    quote: str,
    doers: set[str],
    forms: set[str],
    wanted: set[str],
    count: str = "",
    counted: bool = False,
    heads: set[str] | None = None,
    nouns: frozenset[str] = frozenset(),
) -> bool:
    """Whether the quote has the doer right before a past form of the verb (or after its "by"), not
    negated, and half the object's words or a word of the noun the name qualifies (`heads`: "the Senate
    passed a bill" tells "pass the Russia sanctions bill", a28), and the asked count ("expel 35", not
    "expelled 60"; or, for a `counted` act, some number right beside the verb: "hired 16 lawyers")."""
    words = _WORD.findall(quote)
    lower = [bare_word(w) for w in words]
    for at, w in enumerate(lower):
        if (
            nouns
            and w in nouns
            and at > 0
            and words[at - 1].endswith(("'s", "’s"))
            and lower[at - 1] in doers
        ):
            # The act's noun after the doer's possessive: "Trump’s label of the media as the enemy of the
            # people" tells "label US media" (a30 saw it under "No indexed article reports that Trump did this").
            held = _terms(lower[at + 1 : at + 1 + OBJECT_REACH])
            if len(wanted & held) * 2 >= len(wanted) or (heads and heads & held):
                return True
        if w not in forms or _NEGATIONS & set(lower[max(0, at - NEGATION_REACH) : at]):
            continue
        passive = lower[at + 1 : at + 2] == ["by"]
        if count and count not in _NUMBER.findall(_beside(quote, at, passive)):
            continue
        if counted and not _NUMBER.search(_beside(quote, at, passive, COUNT_REACH)):
            continue
        if passive:
            near, done_to = lower[at + 2 : at + 2 + DOER_REACH], lower[max(0, at - OBJECT_REACH) : at]
        elif at > 0 and lower[at - 1] in _PASSIVE:
            continue  # "Yates was fired": done to someone, by no one named
        else:
            near, done_to = lower[max(0, at - DOER_REACH) : at], lower[at + 1 : at + 1 + OBJECT_REACH]
        held = _terms(done_to)
        if doers & _terms(near) and (len(wanted & held) * 2 >= len(wanted) or (heads and heads & held)):
            return True
    return False


def _terms(words: list[str]) -> set[str]:
    """The index terms of the words."""
    return {t for w in words for t in tokenize(w)}
