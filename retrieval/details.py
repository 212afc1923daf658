"""The kind of detail a question asks for (a name, number, date, place), and whether a passage holds one.

A question such as "What was the name of the Russian lawyer…" is answered by the sentence that names her,
not by the lead that calls her "a Russian lawyer": a passage holds the detail when it has a token of the
asked kind that the question does not already contain. Rules over the question's wording; measured on the
dev split of tests/eval/archive.yaml (see bench/archive_eval.py).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Literal

from retrieval.act_doer import sentence_doers
from retrieval.lexical import tokenize
from retrieval.morphology import snowball_stem
from retrieval.people import (
    CAPITALISED,
    GENERIC,
    MONTHS,
    NAME_RUN,
    PERSON_NOUNS,
    asked_role,
    named_people,
    new_person,
)

Detail = Literal[
    "title",
    "quote",
    "condition",
    "money",
    "count",
    "length",
    "person",
    "number",
    "date",
    "place",
    "model",
    "name",
    "list",
]

# The verbs a question asks someone's words with ("What did Graham urge …", "How did Putin describe …").
_SPEECH_ASKED = r"say|tell|urge|warn|suggest|propose|predict|promise|claim|argue|demand|ask|write|tweet"
# A verb between "what" and a role word ends the noun phrase: "Under what condition would the president-elect
# accept…" asks for a condition, not a person (dev cv-02).
_AUXILIARY = r"(?:did|does|do|is|was|were|are|has|have|had|will|would|can|could|should|may|might|must)"
# Arms go by model names ("the Novator 9M729", "S-400", "a Buk missile"). Aircraft are asked for by type as
# often: "What aircraft was spotted above the site?" is answered by "a drone belonging to either Russia or
# Syria" (dev cv-28), so they are no question's model, only the word a model name stands before.
_ARMS = r"weapons?|missiles?|rockets?|warheads?|bombs?"
_WEAPON_NOUNS = rf"{_ARMS}|warplanes?|planes?|jets?|aircraft|bombers?|drones?|tanks?|warships?|submarines?"
# What goes by a title: a work, a ship, or a phrase someone coined.
_TITLED = (
    r"books?|memoirs?|novels?|films?|movies?|documentar(?:y|ies)|musicals?|plays?|songs?|albums?|shows?|series"
    r"|ships?|vessels?|destroyers?|cruisers?|carriers?|nicknames?|slogans?|hashtags?|mottos?|headlines?"
)
# How a which/what question opens, with the preposition the asked thing may take ("Near which station …").
_OPENING = r"^\W*(?:(?:in|on|at|near|from|to|with|for|by|under|into|through|against|during|after|before) )?(?:which|what)"
_TITLED_ASKED = re.compile(rf"\b({_TITLED})\b", re.I)
_PLACE_NOUNS = r"country|countries|state|states|city|cities|nation|nations|region|place|town|capital|island"
_RULES: list[tuple[Detail, re.Pattern[str]]] = [
    # "Which Mel Brooks musical …", "What nickname …", "What is the title of the book …": a work, a ship or a
    # coined phrase is answered by its name, given in quotes, as a hashtag or after USS ("His darkly comical musical
    # "The Producers""), not by the sentence that names its author ("… identified by Mel Brooks", holdout5 h5-12).
    (
        "title",
        re.compile(
            rf"{_OPENING} (?:(?!{_AUXILIARY}\b)[\w'’-]+ ){{0,3}}(?:{_TITLED})\b"
            rf"|^\W*what (?:is|was) the (?:title|name) of (?:the|his|her|their|a|an) (?:[\w'’-]+ ){{0,2}}(?:{_TITLED})\b"
            r"|^\W*what (?:is|was) the title\b",
            re.I,
        ),
    ),
    (
        "quote",
        re.compile(
            r"\bwhat did (?:[\w'’-]+ ){1,4}call\b|\bhow did (?:[\w'’-]+ ){1,4}(?:describe|call|characteri[sz]e|portray)\b"
            # "How did the Kurdish-led fighters react …" is answered by what they said ("the US's move would have
            # 'dangerous implications for international stability'", dev cv-20), not by the lead saying they condemned it.
            r"|\bhow did (?:[\w'’-]+ ){1,4}(?:react|respond)\b"
            # "What did Senator Graham urge Trump to do …" is answered by Graham's words (dev cv-09); asked of a
            # speaker named by a proper name only, as the speaker then pins whose words answer (_SPEAKER).
            rf"|\bwhat did (?:[\w'’.-]+ ){{0,3}}(?-i:[A-Z])[\w'’-]* (?:{_SPEECH_ASKED})\b",
            re.I,
        ),
    ),
    # "Under what condition would Trump accept…" is answered by the clause that sets it ("he would accept the
    # conclusion if they would get together"), not by whatever else the articles say of him (dev cv-02).
    (
        "condition",
        re.compile(r"\b(?:under|on|in) what (?:conditions?|circumstances?|terms)\b", re.I),
    ),
    # "How much did Iran pay…" asks for a sum: "two warships" is a number, not the price (dev split d35).
    # "How much gas…" names what is measured and stays a number.
    (
        "money",
        # "What does the modernization cost?" asks for a sum too.
        re.compile(
            r"\bhow much (?:money )?(?:did|does|do|was|is|were|has|have|had|will|would)\b"
            r"|^\W*what (?:[\w'’.,-]+ ){0,10}costs?\b"
            # A Russian question's rendering: "Сколько стоила сделка …" is "how many cost worth deal …".
            r"|^\W*how (?:many|much) (?:cost|costs|worth|price)\b",
            re.I,
        ),
    ),
    # "How long…" is answered by a number with its unit ("for six months", "a 45-day detail", "27-page").
    ("length", re.compile(r"\bhow long\b", re.I)),
    # "How many lawyers…" counts things: "$3.5 million" or "Sept. 30" is no answer to it.
    ("count", re.compile(r"\bhow many\b", re.I)),
    (
        "number",
        re.compile(
            r"\bhow (?:many|much|long|old|often|far|large|big)\b|\bwhat (?:share|percentage"
            r"|proportion|number|amount|sum|price|fraction)\b|\bby how\b",
            re.I,
        ),
    ),
    (
        "date",
        re.compile(
            r"^\W*when\b|,\s+when\s+(?:had|has|have|did|does|do|was|were|is|are|would|will)\b|\b(?:what|which) (?:date|year|day|month)\b|\bon what\b|\bin what year\b",
            re.I,
        ),
    ),
    ("place", re.compile(rf"^\W*where\b|\b(?:which|what) (?:\w+ )?(?:{_PLACE_NOUNS})\b", re.I)),
    (
        "person",
        re.compile(
            rf"^\W*(?:who|whom|whose)\b|\bwhat (?:was|is) (?:the|his|her) (?:\w+ )?name\b"
            rf"|\b(?:which|what) (?:(?!{_AUXILIARY}\b)[\w-]+ ){{0,4}}(?:{PERSON_NOUNS})s?\b|\bnamed? whom\b"
            rf"|\bwith whom\b|\bby whom\b",
            re.I,
        ),
    ),
    # "What Russian weapon did Washington say broke the accord?" is answered by the model ("the Novator 9M729"):
    # every sentence of an arms story names a country or a treaty, which the name rule counts (dev q2-08). The
    # weapon word must head the asked noun phrase: "What range of missiles…" asks for a range, "Which … missile
    # agreement" for a treaty.
    (
        "model",
        re.compile(
            rf"{_OPENING} (?:(?!of\b)[\w-]+ ){{0,2}}(?:{_ARMS})\s+(?:{_AUXILIARY}|\w+ed)\b"
            # "What type of Russian warplane did Turkey shoot down?" is answered by "Su-24" (dev d38).
            rf"|{_OPENING} (?:type|kind|model|make|class) of (?:[\w-]+ ){{0,2}}(?:{_WEAPON_NOUNS})\b",
            re.I,
        ),
    ),
    (
        "name",
        re.compile(
            rf"{_OPENING} (?:[\w'’-]+ ){{0,3}}(?:type|kind|name|law|bill|treaty|company|firm|group"
            r"|app|agency|document|report|station|broadcasters?|bank|lender|weapon|warplane"
            r"|plane|missile|system|committee|panel|party|organi[sz]ation|event|field)s?\b"
            r"|\bwhat (?:\w+ ){1,4}called\b|\bwhat did \w+(?: \w+)? call\b|\bcalled\W*$",
            re.I,
        ),
    ),
    # "Which parts of the economy …", "What changes did Tillerson promise …" ask for several things by a plural
    # noun no other rule knows: they are answered by the sentence listing them ("Russia's energy, arms and
    # financial sectors", dev cv-03), not by the lead saying "penalties targeting key sectors".
    (
        "list",
        re.compile(
            rf"{_OPENING} (?:[\w-]+ ){{0,2}}?(?!{_AUXILIARY}\b)[a-z]+[^s\W]s (?:of|{_AUXILIARY})\b",
            re.I,
        ),
    ),
]

_NUMBER = re.compile(
    r"\d[\d,.]*\d|\d|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|thousands?"
    r"|millions?|billions?|half|third|quarter|percent)\b",
    re.I,
)
_MONEY = re.compile(
    r"[$€£]\s?\d[\d,.]*|\d[\d,.]*\s?(?:million|billion|trillion|thousand)?\s?(?:dollars|euros|rubles|roubles|pounds)\b"
    r"|\b\d[\d,.]*\s?(?:million|billion|trillion|bn|mln)\b|\b(?:millions|billions) of\b",
    re.I,
)
# Reported speech: "How did Putin describe…" is answered by "Putin said … that investigations are interfering",
# which has no quotation mark (dev split p19).
_SPEECH = re.compile(
    r"\b(?:said|says|told|tells|called|calls|described|describes|tweeted|wrote|writes|added|warned|argued"
    r"|saying|according to)\b"
)
# A question asking what someone called something, and the verbs that give a thing a name ("called on them to"
# and "called for talks" name nothing, nor does "so-called", nor a telephone call: "received a call from
# Putin", "a call with Trump" answered "What did Putin call Trump?", a17).
_ASKS_NAMING = re.compile(r"\bcall(?:s|ed)?\b(?!\s+(?:for|on|off|in|up|back|out)\b)", re.I)
# The caller when named by a proper name alone ("What did Vladimir Putin call ..."): then the name a passage
# gives must be theirs. "What did the Arizona senator call ..." names the caller in other words than the
# passage ("McCain called"), so a caller with a lower-case word pins nothing.
_NAMED_CALLER = re.compile(r"\b(?i:what (?:did|does)) ((?:[A-Z][\w'’.-]* ){1,3})call\b")
# Whose words a question asks for, when it names them by a proper name at the end of the phrase ("How did retired
# General Clark describe …": Clark; "What did Senator Graham urge …": Graham); "the Arizona senator" or "Russia's
# foreign ministry" name the speaker in other words than the articles, and pin no one.
_SPEAKER = re.compile(
    r"^\W*(?i:how|what) (?i:did|does|do) ((?:[\w'’.-]+ ){0,3}[A-Z][\w'’.-]*) "
    rf"(?i:describe|call|characteri[sz]e|portray|react|respond|{_SPEECH_ASKED})\b"
)
# The verb saying whose words a passage reports, with the word before it ("Graham said", "Trump has tweeted",
# "he went on") and the name after it ("said Sen. Lindsey Graham", "said spokeswoman Heather Nauert"): the speaker.
_ATTRIBUTION = re.compile(
    r"([\w'’.-]+)\s+(?:(?:has|had|have|also|later|then|again|once)\s+)?"
    r"(?:said|says|told|tells|tweeted|wrote|writes|added|adds|warned|argued|urged|replied|insisted|stated|went on)\b"
    rf"|\b(?:said|says|told|tweeted|wrote|added|warned|according to)\s+(?:(?:{PERSON_NOUNS})\s+)?"
    r"((?:[A-Z][\w'’.-]*\s?){1,4})"
)
# An apposition between the speaker and the verb ("Clark, the former supreme allied commander of NATO, said").
_APPOSED = re.compile(r",\s+(?:the|a|an|who|which|whose)\b[^,;:]{0,120},")
_PRONOUNS = frozenset("he she they".split())
_WORD = re.compile(r"[\w'’-]+")
_HOW_MANY = frozenset("how many much".split())
# Words either side of a number that may name what it counts ("hired a staff of 16 lawyers").
COUNT_REACH = 4
# Nouns news uses for one another when counting people: "How many lawyers has the budget been paying for?" is
# answered by "17 attorneys" (dev n02), "How many prosecutors did Mueller hire" by "16 lawyers" (dev cv-17).
_COUNTED_KIN = (
    frozenset({"lawyer", "attorney", "prosecutor", "counsel"}),
    frozenset({"soldier", "troop", "servicemen", "servicemembers"}),
)
# "Who is Russia's ambassador?", "What was the name of the lawyer …?" ask who someone is, whatever they did in the
# sentence that names them: "“Soon,” Ambassador (Anatoly) Antonov said" answers.
_ASKS_WHO_IS = re.compile(r"^\W*(?:who|whom)\s+(?:is|was|are|were)\b|\bname\b", re.I)
# A question about someone's words: a name quoted as their source answers it
# ("Who asked for a special counsel …" is answered by "John Kelly said … a special counsel should be appointed").
_ASKS_WORDS = re.compile(
    r"\b(?:say|says|said|tell|tells|told|write|writes|wrote|written|speak\w*|spoke\w*|call|calls|called"
    r"|(?:urg|warn|suggest|propos|predict|promis|claim|argu|demand|ask|tweet|describ|announc|testif|accus|comment"
    r"|respond|react|report|interview|insist|denounc|prais|criticiz|criticis|blam|deni|deny)\w*)\b",
    re.I,
)
_NAMING = re.compile(
    r"(?<!so-)(?<!\ba )(?<!\bthe )(?<!phone )(?<!conference )(?<!telephone )"
    r"\b(?:call(?:s|ed|ing)?(?!\s+(?:for|on|off|in|up|back|out|from|with)\b)|label(?:s|ed|led|ing|ling)?|dub(?:s|bed|bing)?"
    r"|brand(?:s|ed|ing)|term(?:s|ed)|nicknamed?|describ(?:es|ed|ing) (?:[\w'’-]+ ){0,4}as|referred to (?:[\w'’-]+ ){0,4}as)\b",
    re.I,
)
# A month or a year. Not a weekday, "yesterday" or "today": a news sentence names the day it reports on
# ("said on Wednesday"), which is rarely the date asked for ("When was FARA first passed?" → 1938); counting
# them let sentences from that week outrank the one with the year (archive dev split: 54 → 55 of 65 quoted).
_DATE = re.compile(rf"\b(?:{MONTHS})\b\.?|\b(?:19|20)\d\d\b")
_LENGTH = re.compile(
    rf"(?:{_NUMBER.pattern})[\s-](?:(?:and a half|or so|more|full)\s)?(?:seconds?|minutes?|hours?|days?|weeks?|months?"
    rf"|years?|decades?|centur(?:y|ies)|pages?|words?|miles?|kilomet(?:er|re)s?|meters?|metres?|feet|foot)\b",
    re.I,
)
# A duration in words ("for about an hour", "lasted nearly a week"): only after a word saying how long, since
# "a day after" and "a year ago" place an event in time instead.
_LENGTH_IN_WORDS = re.compile(
    r"\b(?:for|lasted|lasting|lasts|last|ran for|took|nearly|almost|roughly|more than|less than|over|under)\s"
    r"(?:(?:about|nearly|almost|roughly|more than|less than|over|just|only|barely)\s)?"
    r"(?:an?|one|several|a few|a couple of)\s(?:full\s)?"
    r"(?:second|minute|hour|day|week|month|year|decade)s?\b",
    re.I,
)
# Sums of money and calendar dates, which count nothing.
# A number joined to letters names a thing (the G-20, an S-400, an F-35, the 9M729): it counts nothing.
_DESIGNATION = re.compile(r"\b[A-Za-z]+-?\d[\w-]*|\b\d+[A-Za-z][\w-]*")
_SUM_OR_DATE = re.compile(
    rf"[$€£]\s?\d[\d,.]*(?:\s?(?:million|billion|trillion|bn|mln)\b)?"
    rf"|\b\d[\d,.]*\s?(?:million\s|billion\s|trillion\s)?(?:dollars|euros|rubles|roubles|pounds)\b"
    rf"|\b(?:{MONTHS})\b\.?\s\d{{1,2}}\b|\b(?:19|20)\d\d\b"
)
# A clause setting a condition: "if they would get together", "unless Moscow stuck to the accord". "Provided"
# sets one as a conjunction ("provided that", ", provided Moscow complies"), not as a verb: "oligarchs, who have
# provided millions of dollars to Manafort" led the answer to when Manafort and Gates must post bail (a18).
_CONDITION = re.compile(
    r"\b(?:if|unless|as long as|so long as|only when|on condition|in exchange for|in return for|as soon as"
    r"|provid(?:ed|ing) that)\b|,\s+provided\b(?!\s+(?:with|by|to|for|in|on|at|from|under)\b)",
    re.I,
)
# Three or more things listed: "energy, arms and financial sectors", "merging agency email lists, allowing more
# telecommuting for employees and partially easing a hiring freeze".
_ENUMERATION = re.compile(r"[\w'’-]+(?:\s[\w'’-]+){0,5},\s(?:[\w'’-]+\s){0,6}?(?:and|or)\s[\w'’-]+")
# A model name: letters joined to digits ("9M729", "S-400", "SSC-8"), not an ordinal ("21st"); or a name before a
# weapon word ("a Buk missile", "Kalibr cruise missiles"), not an acronym or a nation's adjective: "new NATO
# missiles" and "Russian missiles" name no model.
_MODEL = re.compile(
    rf"\b(?!\d+(?:st|nd|rd|th)\b)(?:[A-Za-z]+-?\d[\w-]*|\d+[A-Za-z][\w-]*)"
    rf"|(?<![\w’'])(?!Soviet\b)[A-Z][a-z]+(?<!an)(?<!ese)(?<!ish)(?<!ch)(?<!i)(?=\s(?:[a-z-]+\s)?(?:{_WEAPON_NOUNS})\b)"
)


# A title: a phrase in quotes that reads as a name (_is_title), a hashtag, or a ship's name. The quote marks are
# not apostrophes ("Trump’s", "it’s"), so they touch no letter outside the phrase.
_QUOTED = re.compile(
    r"(?:(?<=^[\"“‘'])|(?<=[^\w][\"“‘']))[\w#][^\"“”‘’.!?]{0,100}?(?=[,.]?[\"”’'](?![A-Za-z]))(?<!\s)"
)
_HASHTAG = re.compile(r"#[A-Za-z]\w+")
_SHIP_NAME = re.compile(r"\b(?:USS|HMS|RFS|INS)\s+[A-Z][\w'’-]+")
_SHIPS = frozenset(
    tokenize("ship ships vessel vessels destroyer destroyers cruiser cruisers carrier carriers")
)
# A quoted phrase is the title only where the sentence says what it names ("his book, “Fear”", "the musical
# "The Producers"", "Trump's nickname for Clinton") or that it is a name ("called", "dubbed"): any quoted name
# alone let "I wrote "Understanding Trump"" answer which book Luke Harding wrote, and a campaign trail's "Back
# to Mike Pence" which musical's cast addressed him (a32).
_NAMES_IT = frozenset(tokenize("called titled entitled dubbed named nicknamed known"))


# "Who shot the Russian ambassador to Turkey?": the act's verb and whom it was done to. A name the articles give
# that description ("Andrey Karlov, the Russian ambassador to Turkey") is the one the act was done to.
_WHO_DID = re.compile(
    r"^\W*who\s+(?!(?:is|was|are|were|did|does|do|has|have|had|will|would|can|could|should|may|might|must)\b)"
    r"(?P<verb>[\w'’-]+)\s+(?:(?:down|up|out|off|over|away)\s+)?(?P<done_to>.+)$",
    re.I,
)
# Words of that description a name's own description must share to be that person.
_DESCRIBED = 2


def asked_detail(question: str) -> Detail | None:
    """The kind of specific detail the question asks for, or None for a why/what-happened question."""
    q = " ".join(question.split())
    for kind, rule in _RULES:
        if rule.search(q):
            return kind
    return None


def holds_detail(
    kind: Detail | None, passage: str, question: str, common: Callable[[str], bool] | None = None
) -> bool:
    """Whether the passage has a detail of this kind that the question does not already contain.

    `common(term)`: whether a surname is so common in the archive that it names no one new ("Robert Mueller").
    """
    if kind is None:
        return False
    asked = set(tokenize(question))
    if kind == "quote":
        if _ASKS_NAMING.search(question):
            # "What did X call Y?" is answered by the name X gave Y: "Tillerson labeled the two U.S. rivals the
            # 'principal economic enablers'", not by whatever X or anyone else said about Y.
            caller = _NAMED_CALLER.search(" ".join(question.split()))
            if caller and not set(tokenize(caller.group(1))[-1:]) & set(tokenize(passage)):
                return False  # "What did Putin call the Skripal poisoning?": not what Theresa May called it
            return bool(_NAMING.search(passage))
        if not (any(ch in passage for ch in '"“”') or _SPEECH.search(passage)):
            return False
        speaker = _find_speaker(question)
        return speaker is None or _is_said_by(passage, speaker)
    if kind == "title":
        return _holds_title(passage, question, asked)
    if kind == "condition":
        return bool(_CONDITION.search(passage))
    if kind == "list":
        return bool(_ENUMERATION.search(passage))
    if kind == "model":
        return any(_new_name(m.group(0), asked) for m in _MODEL.finditer(passage))
    if kind == "money":
        return any(not _in_question(m.group(0), asked) for m in _MONEY.finditer(passage))
    if kind == "length":
        return any(
            not _in_question(m.group(0), asked)
            for pattern in (_LENGTH, _LENGTH_IN_WORDS)
            for m in pattern.finditer(passage)
        )
    if kind in ("number", "count"):
        if kind == "count":
            passage = _DESIGNATION.sub(" ", _SUM_OR_DATE.sub(" ", passage))
            counted = _find_counted_terms(question)
            return any(
                not _in_question(m.group(0), asked) and _counts_asked_thing(passage, m, counted)
                for m in _NUMBER.finditer(passage)
            )
        return any(not _in_question(m.group(0), asked) for m in _NUMBER.finditer(passage))
    if kind == "date":
        return any(not _in_question(m.group(0), asked) for m in _DATE.finditer(passage))
    if kind == "person":
        # "Who…" is answered by a person's full name the question lacks, not by any capitalised word
        # ("The U.S. District Court … judge" names no judge); measured on the archive's dev split.
        if names_doer(passage, question):
            return True
        act = _asked_act(question)
        done_to = set(tokenize(act.group("done_to"))) if act else set()
        # "Who would have taken over the spy agency …?" is not answered by the spokeswoman who said the reports
        # were untrue (dev q2-16): a name given only as the source of the sentence's words did no act asked about,
        # unless the question asks for words, who someone is or a role ("Which veteran of the NSA …": "said
        # Debora Plunkett").
        new = [
            name
            for name, described in named_people(passage)
            if new_person(name, asked, common) and len(done_to & set(tokenize(described))) < _DESCRIBED
        ]
        if not new or _takes_sources(question):
            return bool(new)
        sources = _find_sources(passage)
        return any(not set(tokenize(" ".join(name))[-1:]) & sources for name in new)
    return any(
        _new_name(m.group(0), asked) for m in CAPITALISED.finditer(passage) if not _opens(passage, m.start())
    )


# The question-level helpers below are asked once per candidate sentence: cached by question.
@functools.lru_cache(maxsize=256)
def _takes_sources(question: str) -> bool:
    """Whether a name given as the source of a sentence's words may answer the question."""
    return bool(_ASKS_WORDS.search(question) or _ASKS_WHO_IS.search(question) or asked_role(question))


@functools.lru_cache(maxsize=256)
def _find_counted_terms(question: str) -> frozenset[str]:
    """The stems of the question's common words ("How many prosecutors did Mueller hire …": prosecutor, hire, …)."""
    # Names are left out: the subject ("Mueller brought dozens of charges") stands beside every count about it.
    words = [w for w in _WORD.findall(question) if not w[0].isupper() and w.lower() not in _HOW_MANY]
    stems = {snowball_stem(t) for w in words for t in tokenize(w)}
    return frozenset(stems.union(*(kin for kin in _COUNTED_KIN if kin & stems)))


def _counts_asked_thing(passage: str, number: re.Match[str], counted: frozenset[str]) -> bool:
    """Whether a number stands within COUNT_REACH words of what the question counts or does to it."""
    # "How many prosecutors did Mueller hire …" is answered by "hired 16 lawyers", not by "35 people" charged or
    # "dozens of charges" brought (dev cv-17); a question naming nothing but names takes any number.
    if not counted:
        return True
    before = _WORD.findall(passage[: number.start()])[-COUNT_REACH:]
    after = _WORD.findall(passage[number.end() :])[:COUNT_REACH]
    return any(snowball_stem(t) in counted for w in before + after for t in tokenize(w))


@functools.lru_cache(maxsize=256)
def _find_speaker(question: str) -> str | None:
    """The surname of the speaker whose words a question asks for ("How did Putin describe …": putin), or None."""
    m = _SPEAKER.search(" ".join(question.split()))
    terms = tokenize(m.group(1)) if m else []
    return terms[-1] if terms else None


def _find_attributions(passage: str) -> list[re.Match[str]]:
    """Each place the passage says whose words it reports, appositions skipped ("Clark, the former …, said")."""
    return list(_ATTRIBUTION.finditer(_APPOSED.sub("", passage)))


def _find_sources(passage: str) -> set[str]:
    """The terms of the names the passage gives as saying its words ("Heather Nauert said": nauert)."""
    return {t for m in _find_attributions(passage) for t in tokenize(m.group(1) or m.group(2))}


def _is_said_by(passage: str, speaker: str) -> bool:
    """Whether the passage's words may be the speaker's: said by them or by "he"/"she", or said by no one named."""
    # "How did Trump react …" is not answered by "“… President Trump obstructed justice,” Dershowitz said". A
    # pronoun is a stopword to tokenize, so the word itself stands for it.
    said_by = [
        set(tokenize(m.group(1) or m.group(2))) or {(m.group(1) or "").lower()}
        for m in _find_attributions(passage)
    ]
    return not said_by or any(speaker in who or who & _PRONOUNS for who in said_by)


# Cached: score_sentences asks it of each candidate again, after holds_detail has (issue 13).
@functools.lru_cache(maxsize=1024)
def names_doer(passage: str, question: str) -> bool:
    """Whether the passage names who did the act a "Who <verb> <object>?" question asks about."""
    act = _asked_act(question)
    return act is not None and _names_doer(passage, act, set(tokenize(question)))


@functools.lru_cache(maxsize=256)
def _asked_act(question: str) -> re.Match[str] | None:
    """The verb and object of a "Who <verb> <object>?" question, or None."""
    return _WHO_DID.match(" ".join(question.split()))


def _names_doer(passage: str, act: re.Match[str], asked: set[str]) -> bool:
    """Whether the passage names who did the act a "Who <verb> <object>?" question asks about, whoever it is."""
    # "Who fired Sally Yates?" is answered by "Trump fired Yates" or "Yates … fired by Trump", though Trump runs
    # through every story, and "Who shot down the Russian warplane?" by "two of its F-16s shot down a Russian
    # warplane": the doer of the asked act, a name before its verb or after "by", need be no person's full name.
    # The object is the first name after the verb: "the Russian warplane near the Syrian border" is no Syrian jet;
    # the words of its phrase must be there too: "shot down a Russian warplane" shot no Russian ambassador.
    verb = act.group("verb").lower()
    if verb not in passage.lower():
        return False  # most sentences never use the verb: the doers are not looked for there (a who-question's cost)
    first = NAME_RUN.search(act.group("done_to"))
    target = {w.lower().strip("()") for w in first.group(0).split()} if first else set()
    phrase = re.split(
        r"\s(?:to|near|in|on|at|for|from|with|by|of|over|after|before|during|when|while|and)\s",
        act.group("done_to"),
    )[0]
    if not set(tokenize(" ".join(w for w in phrase.split() if w.islower()))) <= set(tokenize(passage)):
        return False
    doers = sentence_doers(passage, {verb}, target)
    return any(not _in_question(doer, asked) for doer in doers)


def _holds_title(passage: str, question: str, asked: set[str]) -> bool:
    """Whether the passage names a title of what the question asks for that the question lacks."""
    noun = _TITLED_ASKED.search(question)
    wanted = set(tokenize(noun.group(1))) if noun else set()
    if wanted & _SHIPS and any(not _in_question(m.group(0), asked) for m in _SHIP_NAME.finditer(passage)):
        return True
    if "hashtag" in wanted and any(not _in_question(m.group(0), asked) for m in _HASHTAG.finditer(passage)):
        return True
    held = set(tokenize(passage))
    if not (wanted & held or _NAMES_IT & held):
        return False
    return any(
        _is_title(m.group(0)) and not _in_question(m.group(0), asked) for m in _QUOTED.finditer(passage)
    )


def _is_title(phrase: str) -> bool:
    """Whether a quoted phrase reads as a name: at most three words, or every long word capitalised."""
    words = phrase.split()
    return len(words) <= 3 or all(w[:1].isupper() for w in words if len(w) > 3)


def _in_question(token: str, asked: set[str]) -> bool:
    terms = tokenize(token)
    return bool(terms) and all(t in asked for t in terms)


def _new_name(word: str, asked: set[str]) -> bool:
    low = word.lower().rstrip(".")
    if low in GENERIC or re.fullmatch(rf"(?:{MONTHS})", word.rstrip("."), re.I):
        return False
    return not _in_question(word, asked)


def _opens(text: str, pos: int) -> bool:
    """Whether pos starts the passage or a sentence in it, where any word is capitalised."""
    before = text[:pos].rstrip(" \"'“‘(")
    return not before or before[-1] in ".!?:\n"
