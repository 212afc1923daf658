"""Which words of a question carry its premise, for the check that a quoted passage says them beside a name.

event_check.quoted_gap warns "No indexed article says “X” about Name" when no passage says a rare word of
the question beside a rare name of it. On a true question that warning is a false statement to the user,
and on dev it fell on words that assert no event (issue 12):
- the words of what is asked: "Which encrypted messaging apps ...", "Which Fox News anchor ...",
  "Which Soviet leader's treatment of ...": the answer names the thing, the question only its kind;
- a descriptive word before the noun it qualifies: "the natural gas agreement", "second intercontinental
  missile": the article says "gas deal", "ICBM";
- a verb of saying or reacting: "How did the Kurdish-led fighters react", "How did Russia's foreign ministry
  characterize ...": what anyone says of anything is asked, no event is assumed, and the article tells it
  in its own words ("condemned", "accused");
- the act wished or asked for ("want Asian leaders to handle the dispute"): the premise is the wish;
- a name that only qualifies a noun ("the Philippine president", "the Malaysian airliner"): it says whose
  or where, not what the event is about, and news names it another way (Duterte, MH17); so does a capital
  before a word of government ("the Damascus government": news says "the Syrian government", "Assad");
- a name in a side phrase: a clause that dates the event ("before they first met in Hamburg", "before
  coming down near Japan") or the agent of a participle that says which thing is meant ("the arms deal
  signed by Reagan and Gorbachev"). The name belongs to that phrase's act, not to the asked one: "talked by
  telephone" was never said about Hamburg, nor "outlaw" about Reagan, and both questions are true.
The words that stay are the act and the named things ("How did Alexei Navalny die", "Who blew up the Nord
Stream pipelines", "How much grain did Ukraine export under the Black Sea grain deal").
"""

from __future__ import annotations

import re

from retrieval.lexical import STOPWORDS

# "Which X ... did/does/is": the words up to the first auxiliary name the answer's kind.
_ASKED = re.compile(
    r"^\s*(?:which|what|how\s+many|how\s+much)\s+(?!(?:did|does|do|is|are|was|were|has|have|had|will|would|could|can)\b)(?P<kind>[^?]*?)\s+"
    r"(?:did|does|do|is|are|was|were|has|have|had|will|would|could|can)\b",
    re.IGNORECASE,
)
# Without an auxiliary ("Which Fox News anchor clashed with ..."), the kind runs to the first past-tense verb.
_ASKED_BARE = re.compile(
    r"^\s*(?:which|what)\s+(?P<kind>(?:[\w.'’-]+\s+){1,4}?)"
    r"(?:[a-z]+ed|said|told|made|took|gave|met|won|led|sent|got|became|came|went|left|held|wrote|spoke|saw"
    r"|knew|thought|found|ran|paid|sold|bought|brought|caught|fought|shot|struck|stole|flew|says|tells)\b",
    re.IGNORECASE,
)
# Verbs of wanting and asking: the act after their "to" is wished, not reported ("want leaders to handle").
_WISH = frozenset(
    "want wanted wants urge urged urges ask asked asks hope hoped expect expected plan planned".split()
)
# Past forms that share no root with the verb the question uses ("fly" / "flew").
IRREGULAR = {
    "fly": ("flew", "flown"),
    "shoot": ("shot",),
    "strike": ("struck",),
    "fight": ("fought",),
    "sell": ("sold",),
    "buy": ("bought",),
    "steal": ("stole", "stolen"),
    "give": ("gave", "given"),
    "take": ("took", "taken"),
    "send": ("sent",),
    "win": ("won",),
    "meet": ("met",),
    "speak": ("spoke", "spoken"),
    "tell": ("told",),
    "seek": ("sought",),
    "leave": ("left",),
    "hold": ("held",),
    "bring": ("brought",),
    "run": ("ran",),
    "begin": ("began", "begun"),
    "teach": ("taught",),
}
# "..., according to a report for Congress?": the clause names the source.
_ACCORDING = re.compile(r"\baccording to\s+([^,;?]*)", re.IGNORECASE)
# A word of the question, as event_check reads them (apostrophes kept inside a word).
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*(?:-[^\W\d_]+)*")
# A word of a name, digits allowed once it has a letter: "MI6", "G-20".
_NAME_WORD = re.compile(r"(?=[\w'’-]*[^\W\d_])[^\W_]+(?:['’][^\W_]+)*(?:-[^\W_]+)*")
# Verbs whose object is an opinion or a reaction: "How did X react", "What did X call Y".
_SAYING = frozenset(
    "react reacted reacting reaction respond responded responding response characterize characterized "
    "characterise characterised describe described view viewed feel felt think thought say said call called "
    "explain explained portray portrayed reply replied answer answered justify justified".split()
)
# Words before a descriptive word that make it one: articles, numbers, ordinals, possessives.
_BEFORE_DESCRIPTION = frozenset(
    "the a an its their his her our this that these those first second third new old two three four five".split()
)
# A name of a people, place or side used as an adjective: "Philippine", "Malaysian", "Kurdish-led".
_DESCRIBING_NAME = re.compile(r"^[A-Z][a-z]+(?:an|ese|ish|ic|ine|i)(?:-(?:led|backed|based|born|run))?$")
# Words of government a capital stands for its state before: "the Damascus government", "the Kremlin regime".
_SEAT_NOUNS = frozenset("government governments regime leadership authorities".split())
# A side clause that dates the asked event: "... before they first met in Hamburg", "... after the vote".
# Not the question's first word ("When did ..." asks the time of the event itself); to a comma or the end.
_SIDE_CLAUSE = re.compile(
    r"(?<=\s)(?:before|after|until|since|while|once|when|whenever)\b[^,;?]*", re.IGNORECASE
)
# A participle with its agent, saying which thing is meant: "the arms deal signed by Reagan and Gorbachev",
# "the sanctions imposed by the Obama administration". The agent's name run ends at a lower-case word.
_AGENT_PHRASE = re.compile(
    r"\b[a-z]+(?:ed|en|wn)\s+by\s+(?:the\s+)?(?:then-)?[A-Z][\w.'’-]*(?:\s+(?:(?:and|of|the)\s+)*[A-Z][\w.'’-]*)*"
)


def _kind_match(question: str) -> re.Match[str] | None:
    """The wh-phrase's match, the shorter of the two readings ("Which senator said Russia did ...": the kind
    is "senator", not "senator said Russia")."""
    found = [m for m in (_ASKED.match(question), _ASKED_BARE.match(question)) if m is not None]
    return min(found, key=lambda m: m.end("kind"), default=None)


def asked_kind(question: str) -> set[str]:
    """The lower-cased words of the wh-phrase ("Which encrypted messaging apps did ..."): the answer's kind."""
    m = _kind_match(question)
    return {w.lower() for w in _WORD.findall(m.group("kind"))} if m else set()


def wished_words(question: str) -> set[str]:
    """The verbs after "to" of a wish or a request ("want Asian leaders to handle ..."), lower-cased."""
    words = [w.lower() for w in _WORD.findall(question)]
    out = set()
    for i, word in enumerate(words):
        if word == "to" and i + 1 < len(words) and any(w in _WISH for w in words[max(0, i - 5) : i]):
            out.add(words[i + 1])
    return out


def descriptive_words(question: str) -> set[str]:
    """Words standing only before the noun they qualify ("the natural gas agreement"), lower-cased."""
    words = _WORD.findall(question)
    seen: dict[str, bool] = {}
    for i, word in enumerate(words):
        low = word.lower()
        before = words[i - 1].lower() if i else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        describes = (
            before in _BEFORE_DESCRIPTION
            and after[:1].islower()
            and after.lower() not in STOPWORDS
            and low not in STOPWORDS
        )
        seen[low] = seen.get(low, True) and describes
    return {w for w, d in seen.items() if d}


def unpremised_words(question: str) -> set[str]:
    """The question's words that assert no event: the answer's kind, descriptions, saying and reacting."""
    kind = asked_kind(question)
    rest = question
    m = _kind_match(question)
    if m:
        rest = question[m.end("kind") :]
    elsewhere = {w.lower() for w in _WORD.findall(rest)}
    saying = {w.lower() for w in _WORD.findall(question) if w.lower() in _SAYING}
    return (
        (kind - elsewhere)
        | descriptive_words(question)
        | saying
        | wished_words(question)
        | manner_words(question)
    )


def manner_words(question: str) -> set[str]:
    """An adverb, and a verb's -ing form used as a verb: how or in what circumstance, not the event.

    "Would the U.S. government consider pardoning Snowden?", "Did Poland's president back letting Russia
    return?", "How did Trump's adviser justify not loudly criticizing …": the articles tell it as "clemency",
    "readmitted", "yell". Of the 46 word notes on the archive's 590 questions, 11 fell on such words beside
    true questions and none beside a false one. An -ing noun after a determiner ("the bombing", "a
    meeting") is an event and stays, and so does the main verb ("Was Mark Galeotti dominating …").
    """
    adverbs = set(_ADVERB.findall(question))
    verbal = set(_VERBAL_ING.findall(question)) - set(_NAMED_ING.findall(question))
    # The main verb of "Was Mark Galeotti dominating the president?" is the asked act.
    return adverbs | (verbal - {m.group(1) for m in _PROGRESSIVE.finditer(question)})


# A lower-case adverb ("loudly", "tentatively"): a word in -ly but the nouns and verbs that end so. One
# definition for the word notes here and presupposition's act check ("was Rex Tillerson tentatively scheduled").
_NOT_ADVERBS = (
    "family rally assembly supply reply ally anomaly monopoly bully apply rely comply imply multiply".split()
)
ADVERB = rf"(?!(?:{'|'.join(_NOT_ADVERBS)})\b)[a-z]{{3,}}ly"
_ADVERB = re.compile(rf"\b({ADVERB})\b")
# An -ing form not after a determiner or a possessive.
_VERBAL_ING = re.compile(
    r"(?<!\bthe )(?<!\bhis )(?<!\bher )(?<!\bits )(?<!\ba )(?<!\ban )(?<!\bthis )(?<!\bthat )(?<!\btheir )"
    r"(?<!['’]s )\b([a-z]{3,}ing)\b"
)
# A name before it and a preposition or the end after it: "the OSCE meeting in December" is a noun.
_NAMED_ING = re.compile(
    r"\b[A-Z][\w-]*\s+([a-z]{3,}ing)(?=\s+(?:in|on|at|of|for|with|from|to|and|or)\b|\W*$|[,;:])"
)
# A be-auxiliary, its subject (names, determiners, "and") and the -ing form: the progressive main verb.
_PROGRESSIVE = re.compile(
    r"\b(?i:was|were|is|are)\s+(?:(?:[A-Z][\w'’.-]*|the|a|an|and|his|her|their|its)\s+){1,6}([a-z]{3,}ing)\b"
)


def names_the_kind(question: str, name: str) -> bool:
    """Whether the name only qualifies what is asked for ("Which Texas senator mocked ...": the answer is a
    senator from Texas), not the event: every word of it is in the wh-phrase and nowhere else."""
    m = _kind_match(question)
    if m is None:
        return False
    kind = {w.lower() for w in _WORD.findall(m.group("kind"))}
    rest = {w.lower() for w in _WORD.findall(question[m.end("kind") :])}
    words = {w.lower() for w in _WORD.findall(name)}
    return bool(words) and words <= kind and not words & rest


def attribution_words(question: str) -> set[str]:
    """The words of an "according to ..." clause (cv-13: "according to a report for Congress"): who tells
    the event, not the event, lower-cased."""
    m = _ACCORDING.search(question)
    # Letters and digits: "MI6", "G-20" (a bare number or year is no teller's name).
    return {w.lower() for w in _NAME_WORD.findall(m.group(1))} if m else set()


def describing_name(question: str, name: str) -> bool:
    """Whether the name only qualifies the noun after it ("the Philippine president", "the Damascus
    government"), naming no party."""
    follows = re.search(re.escape(name) + r"\s+([a-z][\w'’-]*)", question)
    if follows is None:
        return False
    if follows.group(1) in _SEAT_NOUNS:
        return True
    return bool(_DESCRIBING_NAME.match(name)) and follows.group(1).lower() not in STOPWORDS


def side_words(question: str, name: str) -> set[str] | None:
    """The lower-cased words of the side phrase the name stands in ("before they first met in Hamburg",
    "signed by Reagan and Gorbachev"), or None when it stands in the asked event's own clause."""
    at = question.find(name)
    if at < 0:
        return None
    for m in (*_SIDE_CLAUSE.finditer(question), *_AGENT_PHRASE.finditer(question)):
        if m.start() <= at and at + len(name) <= m.end():
            return {w.lower() for w in _WORD.findall(m.group(0))}
    return None
