"""Who the articles say did an act: "Why did Michael Flynn fire Sally Yates?" asks a real firing with the wrong doer.

The question names an act (a verb, and the person or country it was done to) and says who did it. The
quotes about the act are all there, so relevance and the name checks pass, and the answer reads as if the
question were right. The articles' sentences that report the act name its doer just before the verb
("Trump fired Yates", "President Trump fired Sally Yates") or after "by" in the passive ("Yates was fired
by Trump"), as retrieval/act_doer.py reads them. When several such sentences name another doer and none
names the question's (by surname, or a country by any of its names or its leader's, or, as a country, by
its adjective and forces), the answer carries a caveat saying what the articles say instead.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from retrieval import event_check
from retrieval.act_doer import (
    _BODIES,
    _COUNTRIES,
    _LEADERS,
    _PASSIVE,
    _WORD,
    MAX_READ,
    _country,
    _names_of,
    _object_run,
    _sentences,
    asked_act,
    bare_word,
    clause_breaks,
    object_heads,
    past_forms,
    sentence_doers,
)
from retrieval.event_check import chunks_with, sorted_vocabulary
from retrieval.index import StoredVersion
from retrieval.lexical import tokenize
from retrieval.morphology import snowball_forms
from retrieval.prompts import render_prompt
from retrieval.truecase import restore_case

# Sentences naming another doer needed before the answer says so: one may be a slip or a quoted claim.
MIN_EVIDENCE = 2
# Passages read per question that report the act without the asked doer's name: a sample of who did it.
MAX_PASSAGES = 40
# The bodies that act for their head: "Trump officials pleaded guilty" or "Trump's campaign" is no plea of his.
_ACTS_FOR_HEAD = frozenset({"administration", "government"})


def other_doer(index: StoredVersion, question: str) -> str | None:
    """The caveat when the archive's sentences reporting the asked act name another doer, never the asked one."""
    if len(index.articles) < event_check.MIN_ARTICLES:
        return None
    question = restore_case(index, question)  # a name typed in lower case is still a name
    act = asked_act(question)
    if act is None:
        return None
    doer, verb, obj, complement = act
    forms = past_forms(index, verb)
    if not forms:
        return None
    asked = _names_of(doer, leaders=True)
    # A person asked is not answered by a country's act ("the U.S. expelled" may be Obama's doing).
    person = _country(doer) is None
    target = _names_of(obj) if obj else set()
    heads = frozenset(object_heads(question, verb, obj)) if obj else frozenset()
    passages = chunks_with(index, sorted(forms))
    for words in (target, {complement} if complement else set()):
        if words:
            passages &= chunks_with(index, sorted({t for w in words for t in tokenize(w)}))
    with_doer = passages & chunks_with(index, sorted({t for w in asked for t in tokenize(w)}))
    if len(with_doer) > MAX_READ:
        return None
    others = sorted(passages - with_doer)[:MAX_PASSAGES]
    found: Counter[str] = Counter()
    country = None if person else _country(doer)
    told_forms = act_forms(index, verb) if country is not None else frozenset()
    wanted, named, qualifier = _object_terms(target, complement, heads)
    if country is not None and _country_told(index, country, told_forms, target, complement, heads):
        return None
    for sentence in _sentences(index, [*sorted(with_doer), *others]):
        if any(
            _is_asked(name, asked, person)
            for name in sentence_doers(sentence, forms, target, complement, True)
        ):
            return None
        if (
            country is not None
            and wanted
            and _told_of_country(sentence, country, told_forms, wanted, named, qualifier)
        ):
            return None
        for name in sentence_doers(sentence, forms, target, complement, heads=heads):
            # "Trump officials pleaded guilty" is neither Trump's plea nor another doer to name against him.
            # The object itself, not a noun it names ("U.S. rivals"), cannot be its own doer.
            same_side = not heads and _same_side(name, target)
            if not (person and _country(name)) and not _names(name) & asked and not same_side:
                found[name] += 1
    if sum(found.values()) < MIN_EVIDENCE:
        return None
    said = found.most_common(1)[0][0]
    # "U.S." loses its last dot to the word pattern.
    said = said + "." if re.search(r"\b[A-Z]\.[A-Z]$", said) else said
    said = "the " + said if said.startswith(("U.S.", "United")) else said
    what = f"{verb} {obj}" if obj else f"{verb} {complement}"
    return render_prompt("gap_other_doer.txt", said=said, act=what, asked=doer)


# Words a country's adjective may stand before the act in ("Russian fighter jets dropped bombs"), and the
# words after it its object may stand in ("bombs deep into the heart of Syria").
COUNTRY_REACH = 6  # "Russia announced Thursday that it had banned imports"
OBJECT_REACH_WORDS = 8
# Words after the verb in which the name qualifying its object stands ("banned imports of meat, fish and
# milk from the United States").
QUALIFIER_REACH = 16
# Who acts for a country in its news besides its leaders: "the administration banned the use of Kaspersky
# software by the U.S. government" (a31).
_STAND_INS = {"us": ("administration", "pentagon", "white")}
# What may stand between a country and its act: who acts for it, auxiliaries and reported speech.
_SUBJECT_WORDS = frozenset(
    """forces force troops soldiers military army navy air jets jet warplanes planes aircraft fighter
    fighters bombers pilots officials authorities government ministry administration leaders leader president
    parliament lawmakers diplomats security service services intelligence agents hackers police state media
    foreign defense defence minister secretary spokesman spokeswoman deputy prime ambassador envoy chief head
    dropped launched carried out conducted began started continued resumed stepped up its their a new
    has have had was were is are will would also then later announced said says that it they on monday
    tuesday wednesday thursday friday saturday sunday house department to""".split()
)


def _country_told(
    index: StoredVersion,
    country: tuple[str, ...],
    forms: frozenset[str],
    target: set[str],
    complement: str,
    heads: frozenset[str] = frozenset(),
) -> bool:
    """Whether a passage naming the country and the object tells the country doing the act by its
    adjective and any of the act's `forms` (act_forms), its noun too ("dropped bombs" has no "bombed");
    given `heads`, the noun the object's name qualifies is what must follow ("close the U.S. embassy")."""
    wanted, named, qualifier = _object_terms(target, complement, heads)
    if not forms or not wanted:
        return False
    passages = (
        chunks_with(index, sorted(forms))
        & chunks_with(index, sorted({t for w in country for t in tokenize(w)}))
        & chunks_with(index, sorted({t for w in wanted for t in tokenize(w)}))
    )
    return any(
        _told_of_country(sentence, country, forms, wanted, named, qualifier)
        for sentence in _sentences(index, sorted(passages)[:MAX_PASSAGES])
    )


def _object_terms(
    target: set[str], complement: str, heads: frozenset[str]
) -> tuple[set[str], bool, set[str]]:
    """What must follow a country's act: (the words wanted after the verb, whether they are a name to read
    as the first name after it, the name that must qualify them): the noun a name qualifies ("the U.S.
    embassy": embassy, qualified by the U.S.), else the named object, else the act's complement."""
    wanted = set(heads) or target or ({complement} if complement else set())
    return wanted, bool(target) and not heads, target if heads else set()


def act_forms(index: StoredVersion, verb: str) -> frozenset[str]:
    """The verb's forms in the archive, its noun's too: its Snowball forms ("bomb": bombs, bombed, bombing;
    "ban": banned, not "bank" as a shared root would have it) and its past forms ("give": gave)."""
    return frozenset(snowball_forms(sorted_vocabulary(index), verb)) | past_forms(index, verb)


def _told_of_country(
    sentence: str,
    country: tuple[str, ...],
    verb_forms: frozenset[str],
    wanted: set[str],
    named: bool = False,
    qualifier: set[str] | frozenset[str] = frozenset(),
) -> bool:
    """Whether the sentence tells the country doing the act by its name or adjective (its forces too) before
    any form of the verb, its noun too, with the object (or the act's complement) after it: "Russian fighter
    jets dropped bombs deep into the heart of Syria" for "Why did Russia bomb Syria?", which was caveated
    "The articles say Trump did this" (a30). A named object must be the first name after the verb: "Russia
    blocked LinkedIn ... and threatened Facebook" blocked no Facebook."""
    words = _WORD.findall(sentence)
    lower = [bare_word(w) for w in words]
    breaks = clause_breaks(sentence)
    forms = {*country, *_LEADERS.get(country[0], ()), *_STAND_INS.get(country[0], ())}
    for i, word in enumerate(lower):
        if word not in forms:
            continue
        start = i + 1
        if start in breaks and lower[start : start + 1] in (["which"], ["who"]):
            # "Ukraine, which is not an EU member, is to expel 13 Russian diplomats" (a31): past the clause.
            start = next((b for b in sorted(breaks) if b > start), len(lower))
        for j in range(start, min(len(lower), start + COUNTRY_REACH)):
            # Forms as the index spells them: "bombs" is the term "bomb".
            if lower[j] not in verb_forms and not set(tokenize(lower[j])) & verb_forms:
                continue
            # The country is the verb's subject only over its forces and auxiliaries ("Russian fighter jets
            # dropped", "Russia announced … that it had banned"): "U.S. officials called the poisoning of
            # Skripal" and "the people of Ukraine … bombs" tell no act of theirs (a31).
            if any(
                w not in _SUBJECT_WORDS and not w.endswith("ly") and not words[k][:1].isupper()
                for k, w in enumerate(lower[start:j], start=start)
            ) or any(k in breaks for k in range(i + 1 if start == i + 1 else start + 1, j + 1)):
                break
            if lower[j - 1] in _PASSIVE and (
                lower[j].endswith(("ed", "en")) or lower[j + 1 : j + 2] == ["by"]
            ):
                break  # "since Ukraine was invaded by Russia": done to the country, not by it (a31)
            held = (
                _object_run(words, lower, j, False, breaks)
                if named
                else _words_after(lower, j, OBJECT_REACH_WORDS)
            )
            # "expel British diplomats": Russian diplomats expelled are no British ones (a31).
            if wanted & held and (not qualifier or qualifier & _words_after(lower, j, QUALIFIER_REACH)):
                return True
    return False


def _words_after(lower: Sequence[str], at: int, reach: int) -> set[str]:
    """The `reach` words after word `at`, as written and as index terms."""
    return {t for w in lower[at + 1 : at + 1 + reach] for t in (w, *tokenize(w))}


def _same_side(name: str, target: set[str]) -> bool:
    """Whether the doer read is the act's object or its leader: no country warns itself, so "After threats
    against the United States, Trump warned that he would use America's arsenal" was misread (a28's "The
    articles say Trump did this ("warn US"); none says Russia did")."""
    return bool(target) and bool(_names(name) & _names_of_each(target))


def _names_of_each(target: set[str]) -> set[str]:
    """The target's words with its country's leaders, when it names a country."""
    country = next((names for names in _COUNTRIES if target & set(names)), None)
    return target | set(_LEADERS.get(country[0], ())) if country else target


def _is_asked(name: str, asked: set[str], person: bool) -> bool:
    """Whether the doer a sentence names is the asked one: a person by name or his administration, not his
    officials or campaign ("Trump officials pleaded guilty")."""
    if person and name.split()[-1].lower() in _BODIES - _ACTS_FOR_HEAD:
        return False
    return bool(_names(name) & asked)


def _names(name: str) -> set[str]:
    """The words of a name as the asked doer's names are spelt ("Trump's" is "trump", "U.S." is "u.s")."""
    return {bare_word(w) for w in name.split()}
