"""Who a passage names: people's names with the words that describe them, and the roles it gives them.

Split out of details.py: the "who" rules (holds_detail, the chunk after a retrieved one, a role the question asks
for) all read people the same way, from runs of capitalised words after any title.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from retrieval.lexical import tokenize

MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec"
)
PERSON_NOUNS = (
    r"person|man|woman|people|senator|senators|judge|lawyer|attorney|official|officials|ambassador|minister"
    r"|prosecutor|member|operative|delegate|hacker|adviser|advisor|aide|lawmaker|congressman|journalist"
    r"|reporter|spy|director|chairman|leader|president|oligarch|businessman|general|founder|candidate"
    r"|spokesman|spokeswoman|secretary|agent|diplomat|columnist|analyst|envoy|executive|billionaire|manager"
    r"|contractor|partner|veteran|employee|staffer|author|writer|officer|politician|activist|critic|expert"
    r"|scientist|democrat|republican|congresswoman|representative|governor|mayor|donor|lobbyist|consultant"
    # Broadcasters' people: "Which Fox News anchor clashed with Swalwell?" asks for a name (dev cv-31).
    r"|anchor|anchorman|anchorwoman|host|correspondent|commentator|pundit|presenter|interviewer"
)
CAPITALISED = re.compile(r"(?<![\w’'])[A-Z][\w’'.-]*[A-Za-z0-9]|(?<![\w’'])[A-Z]\b")
# Capitalised words that say nothing specific: they do not name the person or thing asked for.
GENERIC = frozenset(
    """the a an this that these those he she it they we i his her their its in on at for of to and but or
    as by with from after before during when where while if mr mrs ms dr sen rep gov gen president
    republican republicans democrat democrats democratic senate house congress white federal u.s us usa
    washington moscow russia russian russians america american americans u.s. trump putin monday tuesday
    wednesday thursday friday saturday sunday reuters cnn ap""".split()
)


# A run of capitalised words (with initials, a bracketed first name as Reuters inserts one, "Ambassador (Anatoly)
# Antonov", and name particles, "van der Zwaan"); a person's name is its last words after any title.
NAME_RUN = re.compile(
    r"(?<![\w’'])\(?[A-Z][\w’'.-]*\)?(?:\s(?:(?:van|von|der|de|del|da|bin|al)\s)*\(?[A-Z][\w’'.-]*\)?)*"
)
_INSTITUTIONS = frozenset(
    """committee court district house senate department times post street journal news agency council party
    bureau office union commission administration ministry parliament group inc corp company bank university
    institute center centre foundation act treaty lab labs security intelligence affairs school project
    states kingdom city county beach island river valley republic federation forces army navy force""".split()
)
# Titles and the words written before a name ("Florida Congressman Matt Gaetz", "U.S. District Judge Emmet
# Sullivan"): the name is what follows the last of them.
_TITLES = frozenset(
    """judge ambassador senator congressman congresswoman representative secretary minister president
    director chairman chairwoman chief deputy attorney general counsel special spokesman spokeswoman adviser
    advisor aide sen sen. rep rep. gov gov. lt col col. gen gen. sgt former prime foreign defense state
    vice acting agent officer lawyer judge justice democrat republican businessman billionaire oligarch
    prosecutor professor dr dr. mr mr. mrs mrs. ms ms. sir lord king queen prince pope san new los st st. fort
    north south east west united""".split()
)
_MONTH = re.compile(rf"(?:{MONTHS})", re.I)
# The words before a name that may describe the person ("before Russian ambassador Andrey Karlov was shot").
_TITLE_WORDS = 4
_APPOSITION = re.compile(r"[’']?s?,\s+((?:the|a|an)\s[^,.;:!?\n]{1,80})")
_WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())


def named_people(passage: str) -> list[tuple[list[str], str]]:
    """The names of people in a passage (two or more capitalised words after any title, none an institution),
    each with the words that describe the person: the title before the name (in its run of capitals or the few
    words before it) and an apposition after it ("Andrey Karlov, the Russian ambassador to Turkey, ...")."""
    names = []
    for m in NAME_RUN.finditer(passage):
        words = [w.strip("()") for w in m.group(0).split()]
        words[-1] = re.sub(r"[’']s$", "", words[-1])
        cut = 0
        for i, w in enumerate(words):
            low = w.lower().rstrip(".").rstrip(",")
            # "Kaspersky Lab" or "House Judiciary Committee" names no person: a name follows such words.
            if (
                low in _TITLES
                or low in GENERIC
                or low in _INSTITUTIONS
                or low in _WEEKDAYS
                or _MONTH.fullmatch(low)
            ):
                cut = i + 1
        name = words[cut:]
        if len(name) >= 2 and re.search(r"[a-z]", name[-1]):
            before = re.split(r"[.;:!?,\n]", passage[: m.start()])[-1].split()[-_TITLE_WORDS:]
            after = _APPOSITION.match(passage, m.end())
            described = [*before, *words[:cut], *(after.group(1).split() if after else [])]
            names.append((name, " ".join(described)))
    return names


_ROLE = re.compile(rf"\b({PERSON_NOUNS})s?\b", re.I)
# Titles written short before a name: "Sen. Mark Warner said …" names a senator for "Which senator said …?" (dev p43).
_SHORT_TITLES = {"Sen": "senator", "Rep": "representative", "Gov": "governor", "Gen": "general"}
# Not before a lone letter ("Gen. Z" is none), and plural before two names ("Sens. John McCain and …", a22).
_SHORT_TITLE = re.compile(r"\b(Sen|Rep|Gov|Gen)s?\.(?!\s*[A-Z]\b)")


def roles(passage: str) -> set[str]:
    """The words for people's roles in a passage ("spokesman", "lawyer", "Sen.": senator), named or not."""
    short = {_SHORT_TITLES[m.group(1)] for m in _SHORT_TITLE.finditer(passage)}
    return short | {m.group(1).lower() for m in _ROLE.finditer(passage)}


def named_roles(passage: str) -> set[str]:
    """The roles the passage gives a named person ("spokesman Ken Grubbs said": spokesman)."""
    return {role for _, described in named_people(passage) for role in roles(described)}


# The first role word after "Which" ("Which veteran of the spy agency": veteran, not spy), past a possessive
# ("Which of the president's lawyers": lawyer), or after "Who is the".
_ASKED_ROLE = re.compile(
    rf"^\W*(?:which|what)\s+(?:of\s+(?:the\s+)?[\w'’-]+\s+)?(?:[\w'’-]+\s+){{0,3}}?({PERSON_NOUNS})s?\b"
    rf"|^\W*who\s+(?:is|was|are|were)\s+the\s+(?:[\w'’-]+\s+){{0,3}}?({PERSON_NOUNS})s?\b",
    re.I,
)


def asked_role(question: str) -> str | None:
    """The role of the person a question asks for ("Which veteran of the NSA …": veteran), or None."""
    m = _ASKED_ROLE.search(" ".join(question.split()))
    return (m.group(1) or m.group(2)).lower() if m else None


def role_owner(question: str) -> frozenset[str]:
    """The terms of the name a "Which …" question puts before the asked role ("Which Fox News anchor": fox,
    news), which a person in that role must be named beside; none for an office every story names (White
    House, Russian, Senate) or a lower-case word ("Which career prosecutor")."""
    m = _ASKED_ROLE.search(" ".join(question.split()))
    if m is None or m.group(1) is None:
        return frozenset()
    before = m.group(0)[: m.start(1) - m.start(0)].split()[1:]
    return frozenset(
        t
        for w in before
        if CAPITALISED.fullmatch(w) and w.lower().rstrip(".") not in GENERIC
        for t in tokenize(w)
    )


def new_person(name: list[str], asked: set[str], common: Callable[[str], bool] | None = None) -> bool:
    """Whether the name is of someone the question does not name, nor the archive names everywhere."""
    terms = tokenize(" ".join(name))
    # The surname in the question ("since Devin Nunes stepped aside") names no one new, nor does one that runs
    # through the archive: "Special Counsel Robert Mueller" sits in the leads of half the Russia stories.
    return bool(terms) and terms[-1] not in asked and not (common is not None and common(terms[-1]))
