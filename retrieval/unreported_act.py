"""An act the question takes for granted that no article reports: "Why did Trump fire Robert Mueller?"

The names and words are all in the archive (Trump, Mueller, "fired"), so the name and word checks pass, and
the quotes about Trump and Mueller read as if the question were right. wrong_doer.other_doer names another
doer when the articles give the act to someone else; when they give it to no one (Mueller was never
fired; Putin never resigned, gave Flynn no award, never blocked Facebook) it says nothing. This check
reads the sentences that hold the act's past form, its object (or the word after the verb: "resign as
president") and the asked doer's name, and asks whether one names the asked doer doing it, as other_doer
reads them. None does: a caveat beside the quotes, not a refusal, as a sentence may tell the act in other
words ("ordered the expulsion") or by a pronoun ("he fired").
"""

from __future__ import annotations

import re

import numpy as np

from retrieval import event_check
from retrieval.act_doer import (
    _DENIALS,
    _GENERIC,
    _JOINING,
    _LEADERS,
    _NAME,
    _NEGATIONS,
    _OBJECT,
    _PASSIVE,
    _PRESUPPOSING,
    _WH_DID,
    _WORD,
    MAX_READ,
    _country,
    _names_of,
    _object_run,
    _sentences,
    asked_act,
    bare_word,
    object_heads,
    reported_forms,
)
from retrieval.arrays import contains, distinct
from retrieval.index import StoredVersion
from retrieval.lexical import STOPWORDS, stem, tokenize
from retrieval.prompts import render_prompt
from retrieval.truecase import restore_case
from retrieval.wrong_doer import _country_told, act_forms

# Words before the verb in which the sentence may name its doer: "Trump expelled 60 Russian intelligence
# officers Monday and closed Russia's consulate in Seattle" names Trump 9 words before "closed".
DOER_REACH = 25
# Words after a passive's "by" in which its agent is named: "by then-President Barack Obama".
BY_REACH = 5
# Words after the verb (before it in the passive) in which its object's head noun stands: "expelled four
# Russian diplomats", "closed Russia's consulate".
OBJECT_REACH = 8
# Words that make an act a supposition, a wish or an order, not a report: "if he fired Mueller", "calling for
# Mueller to be fired", "attempted to order Mueller be fired".
_UNREAL = frozenset("if whether unless be would could should might may must".split())
# A condition stands further off, before the doer's full name: "if President Donald Trump fires Mueller".
_CONDITIONS = frozenset("if whether unless".split())
# The acts a state does by its offices, so that news tells them without the agent ("Deripaska was
# sanctioned"). Not any act: "Skripal was poisoned" tells no act of Britain's (a16).
_OFFICIAL = frozenset(
    "sanction expel ban bar arrest detain charge indict deport close block jail imprison sentence convict "
    "fine freeze seize annex recognize suspend revoke deny approve impose strip designate blacklist evict "
    "order summon extradite exchange release pardon".split()
)
# The words that make a country's adjective name its leader: "the Russian leader", "the U.S. president".
_LEADER_NOUNS = frozenset(
    "leader leaders president counterpart premier head chief secretary diplomat".split()
)
# Passages read for a state's act told in the passive without its agent, beyond those naming the state.
AGENTLESS_READ = 40
# Words before a verb's noun that make it an act of someone's: "his visit to Syria", "Trump's visit".
_OWNERS = frozenset("his her its their the a".split())
# An agentless passive that reports the act done ("was fired", "has been sanctioned"); not "being fired".
_REPORTED_PASSIVE = frozenset("was were been is are".split())
# "What award did ...", "What death toll did ...": a noun asked, the act's object when no name follows the verb.
_WHAT_NOUN_DID = re.compile(r"\s*what\s+[a-z]+(?:\s+[a-z]+)?\s+(?:did|does|do)\b", re.IGNORECASE)


# Words after the verb that tell when, not what: no complement of the act.
_TIMES = frozenset(
    "january february march april may june july august september october november december monday tuesday "
    "wednesday thursday friday saturday sunday today yesterday".split()
)
# A lone adjective of a people or place: "the Canadian", "Russian", "the Republican".
_ADJECTIVE = re.compile(r"^(?:the\s+)?[A-Z][a-z]+(?:an|ese|ish|ic|i)$")
# "Why did a Russian gunman kill ...": a country's someone, then the verb.
_ASKED_SOME = re.compile(
    r"\b(?:did|does|do)\s+(?P<some>(?:a|an|the)\s+(?P<doer>[A-Z][\w.'’-]*)\s+(?:[a-z]+\s+)?[a-z]{3,})\s+"
    r"(?P<verb>[a-z]{3,})\b(?P<rest>[^?]*)"
)
# The noun a country's adjective or name qualifies: "the Russian ambassador", "the U.S. embassy".
_HEAD = re.compile(r"\s*([a-z]{3,})\b")


# "How many American diplomats did Russia arrest": the counted noun is the act's object.
_HOW_MANY = re.compile(
    r"^\s*(?i:how\s+many)\s+(?P<noun>(?:[\w.'’-]+\s+){0,2}?[a-z]{3,})\s+(?:did|does|do)\s+"
    r"(?P<doer>(?:the\s+)?(?:[A-Z][\w.'’-]*\s+){0,2}[A-Z][\w.'’-]*)\s+(?P<verb>[a-z]{3,})\b"
)


# A participle right after the verb: "How many soldiers did Trump order withdrawn": the counted noun is the
# participle's object, the verb the doer's causing it ("order", "want", "have"). Who did the act is not the
# doer, and "ordered soldiers" is no act, so the check has nothing to read (dev cv-19 was caveated "order
# soldiers" over "Trump's order for a full, rapid withdrawal of more than 2,000 US troops").
_CAUSED = re.compile(r"\s+[a-z]{2,}(?:ed|en|wn)\b")


def counted_act(question: str) -> tuple[str, str, str, str] | None:
    """(doer, verb, "", counted noun) of "How many American diplomats did Russia arrest in Moscow?": a count
    of an act takes the act for granted."""
    m = _HOW_MANY.match(question)
    if m is None or m.group("verb") in STOPWORDS or not m.group("doer")[:1].isupper():
        return None
    if _CAUSED.match(question, m.end()):
        return None
    return m.group("doer"), m.group("verb"), "", m.group("noun").split()[-1].lower()


def some_act(question: str) -> tuple[str, str, str, str] | None:
    """(country, verb, object, complement) of "Why did a Russian gunman kill Turkey's ambassador", as
    act_doer.asked_act reads "Why did Russia kill ..."."""
    opening = question.lstrip().lower()
    if not opening.startswith(_PRESUPPOSING):
        return None
    m = _ASKED_SOME.search(question)
    if m is None or _country(m.group("doer")) is None or m.group("verb") in STOPWORDS:
        return None
    obj = _OBJECT.match(m.group("rest"))
    if obj is None and (opening.startswith(("when", "how", "where")) and not _WH_DID.match(opening)):
        return None
    complement = next((w.lower() for w in _WORD.findall(m.group("rest")) if w.lower() not in STOPWORDS), "")
    if obj is None and not complement:
        return None
    return m.group("some"), m.group("verb"), obj.group("name") if obj else "", "" if obj else complement


# "Why did Putin resign?", "Did Putin resign?": an act told by its verb alone. Read by this check only:
# that another person resigned says nothing of this one, so wrong_doer.other_doer has no use for it.
_BARE = re.compile(
    rf"^\s*(?i:(?:(?:why|when|how)\s+)?did)\s+(?P<doer>(?:the\s+)?{_NAME})\s+(?P<verb>[a-z]{{3,}})\s*\?*\s*$"
)


def bare_act(question: str) -> tuple[str, str, str, str] | None:
    """(doer, verb, "", "") of "Why did Putin resign?"."""
    m = _BARE.match(question)
    if m is None or m.group("verb") in STOPWORDS or m.group("verb") in _GENERIC:
        return None
    return m.group("doer"), m.group("verb"), "", ""


# A count right after the asked verb: "expel 35 Russian diplomats". Read from the sentence's words, which
# keep no digits, so from its text.
_NUMBER = re.compile(r"\b\d[\d,]*\b")


def _beside(sentence: str, at: int, passive: bool, reach: int = OBJECT_REACH) -> str:
    """The sentence's text from its word `at` to `reach` words after it (before it, in the passive)."""
    spans = [m.span() for m in _WORD.finditer(sentence)]
    if passive:
        return sentence[spans[max(0, at - reach)][0] : spans[at][0]]
    return sentence[spans[at][1] : spans[min(len(spans) - 1, at + reach)][1]]


def asked_count(question: str, verb: str) -> tuple[str, str]:
    """The number right after the asked verb and what it counts ("expel 35 Russian diplomats": "35",
    "35 Russian diplomats"), or empty strings."""
    words = r"(?:\s+[A-Za-z][\w'’-]*){0,3}"
    m = re.search(rf"\b{re.escape(verb)}\s+((\d[\d,]*){words})", question, re.IGNORECASE)
    if m is None:
        return "", ""
    counted = m.group(1).split()
    while counted[-1].lower() in STOPWORDS:  # "expel 60 Russian diplomats in 2018": not "in"
        counted.pop()
    return m.group(2), " ".join(counted)


def object_head(question: str, obj: str) -> str:
    """The noun after a country named as the act's object ("the Russian ambassador": "ambassador"), as a term."""
    if not obj or _country(obj) is None:
        return ""
    at = question.find(obj)
    m = _HEAD.match(question, at + len(obj)) if at >= 0 else None
    if m is None or m.group(1) in STOPWORDS:
        return ""
    return (tokenize(m.group(1)) or [""])[0]


def tells_act(
    sentence: str,
    forms: set[str],
    target: set[str],
    complement: str,
    asked: set[str],
    head: str = "",
    nouns: frozenset[str] = frozenset(),
    state: bool = False,
    count: str = "",
    leader_of: frozenset[str] = frozenset(),
) -> bool:
    """Whether the sentence may tell the asked doer doing the act: the verb's past form (or, given `nouns`,
    its noun after a possessive, "Trump's visit to Helsinki", or its present after the doer, "Assad
    Visits"), not negated, done to the target (and its head noun: "the Russian ambassador", not "Russian
    diplomats"; or with the complement near: "signed into law new sanctions"), and the doer named before
    it, or, for a `state` asked, not named at all in the passive ("Deripaska was sanctioned": news names a
    person who acts, not always the office acting for a state). Loose on purpose: it only clears a
    question, so a clause's subject named far off counts."""
    text = sentence.lower()
    if not any(f in text for f in (*forms, *nouns)):
        return False  # most sentences read: tokenizing each word of them was most of the check's time
    words = _WORD.findall(sentence)
    lower = [bare_word(w) for w in words]
    terms = [(tokenize(w) or [w])[0] for w in lower] if complement else lower
    complement = (tokenize(complement) or [complement])[0] if complement else ""
    for at, w in enumerate(lower):
        # "his visit", "a quick visit", "Trump's visit"; and a headline's present "Assad Visits Moscow". A
        # possessive names the doer only as the asked one's: "Trump Adviser's Visit to Moscow" is the
        # adviser's visit, and cleared "When did Trump visit Moscow as president?" (a28).
        noun = w in nouns and any(
            (words[i].endswith(("'s", "’s")) and lower[i] in asked) or lower[i] in _OWNERS
            for i in range(max(0, at - 2), at)
        )
        headline = w in nouns and w.endswith("s") and at > 0 and lower[at - 1] in asked
        if w not in forms and stem(w) not in forms and not noun and not headline:
            continue
        if noun and _by_another(words, lower, at, asked):
            continue  # "a June 2016 visit to Moscow by Carter Page" is Page's visit, whoever the sentence names
        passive = not noun and ((at > 0 and lower[at - 1] in _PASSIVE) or lower[at + 1 : at + 2] == ["by"])
        if complement and complement not in terms[max(0, at - OBJECT_REACH) : at + 1 + OBJECT_REACH]:
            continue
        if _NEGATIONS & set(lower[max(0, at - 3) : at + 3]) or _DENIALS & set(lower[max(0, at - 6) : at]):
            continue
        if _UNREAL & set(lower[max(0, at - 3) : at]) or _CONDITIONS & set(lower[max(0, at - 6) : at]):
            continue
        matched = target & _object_run(words, lower, at, passive)
        if target and not matched:
            continue
        near = lower[max(0, at - OBJECT_REACH) : at] if passive else lower[at + 1 : at + 1 + OBJECT_REACH]
        if leader_of and matched <= leader_of and not _LEADER_NOUNS & set(near):
            continue  # "the Russian leader" is Putin; "acting U.S. attorney general" is not Tillerson (a17)
        if head and not any(head in tokenize(w) for w in near):
            continue
        if count and count not in _NUMBER.findall(_beside(sentence, at, passive)):
            continue  # "expelled 60 Russian diplomats" tells no expelling of 35
        if state and passive and lower[at + 1 : at + 2] != ["by"] and lower[at - 1] in _REPORTED_PASSIVE:
            return True  # "Deripaska was sanctioned": a state's act, told without its agent
        if not passive and _other_subject(words, lower, at, asked):
            continue
        if passive:
            # The agent after "by" ("signed by then-President Barack Obama"); an agentless passive names no
            # doer, whoever else the sentence names ("British authorities have said Skripal ... were
            # poisoned" is no act of Britain's, a16).
            named = lower[at + 2 : at + 2 + BY_REACH] if lower[at + 1 : at + 2] == ["by"] else []
        else:
            named = lower[max(0, at - DOER_REACH) : at]
        if asked & set(named):
            return True
    return False


def _by_another(words: list[str], lower: list[str], at: int, asked: set[str]) -> bool:
    """Whether a "by" within a few words after the noun at `at` names someone other than the asked doer."""
    for i in range(at + 1, min(len(words) - 1, at + 1 + BY_REACH)):
        if lower[i] == "by" and words[i + 1][:1].isupper():
            run = []
            j = i + 1
            while j < len(words) and words[j][:1].isupper():
                run.append(lower[j])
                j += 1
            return not asked & set(run)
    return False


# Words that may stand between a verb's subject and the verb: "Obama also expelled", "Obama had expelled".
_BETWEEN = frozenset("also then later had has have subsequently eventually".split())


def _other_subject(words: list[str], lower: list[str], at: int, asked: set[str]) -> bool:
    """Whether the verb's subject, the capitalised words right before it ("after Obama expelled 35
    diplomats", "the White House expelled"), names no asked doer: then the asked doer, named further
    off, is not the one acting. A time ("on Monday expelled") is no subject."""
    i = at - 1
    while i >= 0 and words[i].islower() and (lower[i] in _BETWEEN or lower[i].endswith("ly")):
        i -= 1
    run: list[str] = []
    while i >= 0 and (words[i][:1].isupper() or lower[i] in _JOINING) and lower[i] not in _TIMES:
        run.append(lower[i])
        i -= 1
    # A sentence's first word is capitalised too: "He expelled", "The embassy expelled" name no one.
    names = [w for w in run if w not in _JOINING and w not in STOPWORDS]
    return bool(names) and not asked & set(names)


def _with_all(index: StoredVersion, groups: list[list[str]]) -> set[int]:
    """The chunks holding a term of every group.

    The smallest group's chunks are looked up in the others' postings (each in chunk order): a country
    with its leaders ("russia", "putin", ...) is in most chunks of a large index, and a set of those cost
    some 150-400 ms per question on the whole-AllSides index.
    """
    bm25 = index.bm25
    postings = [
        [
            bm25.doc_ids[int(bm25.offsets[t]) : int(bm25.offsets[t + 1])]
            for term in group
            if (t := bm25.vocab.get(term)) is not None
        ]
        for group in groups
    ]
    postings.sort(key=lambda parts: sum(len(p) for p in parts))
    if not postings or not postings[0]:
        return set()
    found = distinct(np.concatenate(postings[0]))
    for parts in postings[1:]:
        held = np.zeros(len(found), dtype=bool)
        for part in parts:
            held |= _holds(part, found)
        found = found[held]
        if not len(found):
            break
    return {int(c) for c in found}


def _holds(postings: np.ndarray, chunks: np.ndarray) -> np.ndarray:
    """Which of the chunks a term's postings hold (binary search where the postings are in order)."""
    if len(postings) and not (np.diff(postings) > 0).all():
        return contains(chunks, postings)
    at = np.searchsorted(postings, chunks)
    inside = at < len(postings)
    held = np.zeros(len(chunks), dtype=bool)
    held[inside] = postings[at[inside]] == chunks[inside]
    return held


def unreported_act(index: StoredVersion, question: str) -> str | None:
    """The caveat when no sentence of the archive names the asked doer doing the asked act."""
    if len(index.articles) < event_check.MIN_ARTICLES:
        return None
    question = restore_case(index, question)  # a name typed in lower case is still a name
    act = asked_act(question) or some_act(question) or counted_act(question) or bare_act(question)
    if act is None:
        return None
    doer, verb, obj, complement = act
    if not obj and complement in _TIMES:
        return (
            None  # "did Turkey shoot down in November": the word after the verb is a time, no part of the act
        )
    if doer.endswith(("'s", "’s")) or _ADJECTIVE.match(doer):
        # "did America's top diplomat call", "did the Canadian firm bought by ... own": the doer is the noun
        # after the possessive or adjective, not the verb act_doer read there.
        return None
    forms = reported_forms(index, verb)
    if not forms:
        return None
    if _WHAT_NOUN_DID.match(question) and not obj:
        return None  # "What death toll did the UN give for ...": the asked noun is the act's object
    asked = _names_of(doer, leaders=True)
    target = _names_of(obj) if obj else set()
    pins = [
        sorted({t for w in words for t in tokenize(w)})
        for words in (target, {complement}, asked)
        if words and all(words)
    ]
    passages = _with_all(index, [sorted(forms), *pins])
    head = object_head(question, obj)
    # The verb's noun ("visit", "visits") reports the act after a possessive; found in passages with it too.
    # And its -ment noun: "Mueller's indictment … against Manafort", "with the indictments of … Paul Manafort"
    # tell "indict Paul Manafort" (the note said no article reports it).
    nouns = frozenset({verb, verb + "s", verb + "es", verb + "ment", verb + "ments"})
    if noun_terms := sorted({t for n in nouns for t in tokenize(n)} & index.bm25.vocab.keys()):
        passages |= _with_all(index, [noun_terms, *pins])
    if len(passages) > MAX_READ:
        return None
    state = _country(doer) is not None and verb.lower() in _OFFICIAL
    read = sorted(passages)
    if state and pins[:-1]:
        # A state's act told without its agent ("Deripaska was sanctioned") names no doer in its passage.
        read += sorted(_with_all(index, [sorted(forms), *pins[:-1]]) - passages)[:AGENTLESS_READ]
    # A leader is named by his country's adjective too: "Trump invited the Russian leader to Washington"
    # tells "invite Putin" (a true control was caveated). Only read sentences: the passages still hold his name.
    leader_of = frozenset(
        n for c, leaders in _LEADERS.items() if target & set(leaders) for n in _country(c) or ()
    )
    described = target | leader_of
    count, counted = asked_count(question, verb)
    for sentence in _sentences(index, read):
        if tells_act(
            sentence, forms, described, complement, asked, head, nouns, state, count, leader_of - target
        ):
            return None
    country = _country(doer)
    heads = frozenset(object_heads(question, verb, obj)) if obj else frozenset()
    if (
        country is not None
        and not count
        and _country_told(index, country, act_forms(index, verb), target, complement, heads)
    ):
        return None  # "Russian fighter jets dropped bombs deep into the heart of Syria" (a30)
    if count:
        what = f"{verb} {counted}"
    else:
        what = f"{verb} {obj}" + (f" {head}" if head else "") if obj else as_asked(question, verb, complement)
    return render_prompt("gap_unreported.txt", doer=doer, act=what)


# The further words of a name ("Mike" then " Pompeo").
_NAME_REST = re.compile(r"(?:\s+[A-Z][\w.'’-]*)*")


def as_asked(question: str, verb: str, complement: str) -> str:
    """The act as the question words it, from the verb to its complement and the rest of the name that
    word opens ("demand that Mike Pompeo", where the bare words read "demand mike"), or the bare words."""
    if not complement:
        return verb
    found = re.search(
        rf"\b{re.escape(verb)}(?:\s+[\w.'’-]+){{0,3}}?\s+{re.escape(complement)}\b", question, re.IGNORECASE
    )
    if found is None:
        return f"{verb} {complement}"
    end = found.end()
    rest = _NAME_REST.match(question, end)
    if rest is not None and question[end - len(complement) : end][:1].isupper():
        end = rest.end()
    return question[found.start() : end]
