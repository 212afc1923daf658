"""An act the question takes for granted that no article reports: "Why did Trump fire Robert Mueller?"

The names and words are all in the archive (Trump, Mueller, "fired"), so the name and word checks pass, and
the quotes about Trump and Mueller read as if the question were right. act_doer.other_doer names another
doer when the articles give the act to someone else; when they give it to no one (Mueller was never
fired; Putin never resigned, gave Flynn no award, never blocked Facebook) it says nothing. This check
reads the sentences that hold the act's past form, its object (or the word after the verb: "resign as
president") and the asked doer's name, and asks whether one names the asked doer doing it, as other_doer
reads them. None does: a caveat beside the quotes, not a refusal, as a sentence may tell the act in other
words ("ordered the expulsion") or by a pronoun ("he fired").
"""

from __future__ import annotations

import re

from retrieval import event_check
from retrieval.act_doer import (
    _DENIALS,
    _NEGATIONS,
    _PASSIVE,
    _WORD,
    MAX_READ,
    _names_of,
    _object_run,
    _sentences,
    asked_act,
    past_forms,
)
from retrieval.event_check import chunks_with
from retrieval.index import StoredVersion
from retrieval.lexical import stem, tokenize
from retrieval.prompts import render_prompt
from retrieval.truecase import restore_case

# Words before the verb in which the sentence may name its doer: "Trump expelled 60 Russian intelligence
# officers Monday and closed Russia's consulate in Seattle" names Trump 9 words before "closed".
DOER_REACH = 25
# Words that make an act a supposition, a wish or an order, not a report: "if he fired Mueller", "calling for
# Mueller to be fired", "attempted to order Mueller be fired".
_UNREAL = frozenset("if whether unless be would could should might may must".split())
# "What award did ...", "What death toll did ...": a noun asked, the act's object when no name follows the verb.
_WHAT_NOUN_DID = re.compile(r"\s*what\s+[a-z]+(?:\s+[a-z]+)?\s+(?:did|does|do)\b", re.IGNORECASE)


def tells_act(sentence: str, forms: set[str], target: set[str], complement: str, asked: set[str]) -> bool:
    """Whether the sentence may tell the asked doer doing the act: the verb's past form, not negated, done to
    the target (or followed closely by the complement), and the doer named before it (anywhere in the
    passive). Loose on purpose: it only clears a question, so a clause's subject named far off counts."""
    words = _WORD.findall(sentence)
    lower = [w.lower().removesuffix("'s").removesuffix("’s").rstrip(".") for w in words]
    for at, w in enumerate(lower):
        if w not in forms and stem(w) not in forms:
            continue
        passive = (at > 0 and lower[at - 1] in _PASSIVE) or lower[at + 1 : at + 2] == ["by"]
        if complement and complement not in lower[at + 1 : at + 4]:
            continue
        if _NEGATIONS & set(lower[max(0, at - 3) : at + 3]) or _DENIALS & set(lower[max(0, at - 6) : at]):
            continue
        if _UNREAL & set(lower[max(0, at - 3) : at]):
            continue
        if target and not target & _object_run(words, lower, at, passive):
            continue
        named = lower if passive else lower[max(0, at - DOER_REACH) : at]
        if asked & set(named):
            return True
    return False


def unreported_act(index: StoredVersion, question: str) -> str | None:
    """The caveat when no sentence of the archive names the asked doer doing the asked act."""
    if len(index.articles) < event_check.MIN_ARTICLES:
        return None
    question = restore_case(index, question)  # a name typed in lower case is still a name
    act = asked_act(question)
    if act is None:
        return None
    doer, verb, obj, complement = act
    if doer.endswith(("'s", "’s")):
        return None  # "did America's top diplomat call": the doer is the noun after the possessive
    forms = past_forms(index, verb)
    if not forms:
        return None
    if _WHAT_NOUN_DID.match(question) and not obj:
        return None  # "What death toll did the UN give for ...": the asked noun is the act's object
    asked = _names_of(doer, leaders=True)
    target = _names_of(obj) if obj else set()
    passages = chunks_with(index, sorted(forms))
    for words in (target, {complement} if complement else set(), asked):
        if words:
            passages &= chunks_with(index, sorted({t for w in words for t in tokenize(w)}))
    if len(passages) > MAX_READ:
        return None
    for sentence in _sentences(index, sorted(passages)):
        if tells_act(sentence, forms, target, complement, asked):
            return None
    what = f"{verb} {obj}" if obj else f"{verb} {complement}"
    return render_prompt("gap_unreported.txt", doer=doer, act=what)
