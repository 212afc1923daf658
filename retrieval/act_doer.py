"""How a question and the archive's sentences name an act: its doer, its verb and what it was done to.

"Why did Michael Flynn fire Sally Yates?" asks an act (asked_act: doer, verb, object); a sentence reports
one by naming its doer just before the verb ("Trump fired Yates", "President Trump fired Sally Yates") or
after "by" in the passive ("Yates was fired by Trump"), and its object after the verb (sentence_doers).
The checks that read acts (retrieval/wrong_doer.py, unreported_act.py, caveat_guard.py, details.py) read
them through these rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from retrieval.index import StoredVersion
from retrieval.lexical import STOPWORDS, stem, tokenize

# Passages that report the act (its verb and object) beside the asked doer's name: all are read, since one
# sentence of them naming the asked doer clears the question. Past this many the check is off, to bound its
# time, not because a name met often must have done it: "Why did Donald Trump plead guilty?" meets Trump
# beside most guilty pleas (274 passages on the 4,358-article AllSides index, read in 30-160 ms).
MAX_READ = 400
# The act's object is the first name within this many words after the verb ("fired acting Attorney General
# Sally Yates"), or the last before it in the passive.
OBJECT_WINDOW = 6
# Words that may stand between a doer and its verb: "Trump has fired", "Putin also gave".
_BETWEEN = frozenset(
    "has had have would will also later then reportedly allegedly eventually finally abruptly summarily "
    "himself herself itself ultimately initially did".split()
)
# "Manafort, who pleaded guilty": the name before "who" is the doer, but as often a place or an employer ("an
# aide on Capitol Hill, who served"): such a name may clear the asked doer, never stand for another.
_RELATIVE = "who"
# A body named after its head or country: "the Obama administration", "Russian authorities".
_BODIES = frozenset(
    "administration government officials authorities campaign team lawyers forces military".split()
)
# Capitalised words that name a time, not a doer ("in December expelled"); not "May", a surname too.
_NOT_NAMES = STOPWORDS | frozenset(
    "january february march april june july august september october november december monday tuesday "
    "wednesday thursday friday saturday sunday".split()
)
_PASSIVE = frozenset({"was", "were", "been", "being", "be", "is", "are"})


# The lower-case words right after an object's name that are the thing named: "the Russia sanctions bill".
HEAD_WORDS = 3
_FOLLOWING = re.compile(r"\s+([a-z][a-z'’-]*)")


def object_heads(question: str, verb: str, obj: str) -> set[str]:
    """The terms of the common nouns the object's name stands before in the question ("pass the Russia
    sanctions bill": sanction, bill): what the act was done to, which the name only qualifies. None in the
    passive, where the verb follows the object ("Why was Sally Yates fired by ...")."""
    at = question.find(obj)
    told = re.search(rf"\b{re.escape(verb)}\b", question)
    if at < 0 or told is None or told.start() > at:
        return set()
    heads: set[str] = set()
    pos = at + len(obj)
    for _ in range(HEAD_WORDS):
        m = _FOLLOWING.match(question, pos)
        if m is None or m.group(1) in STOPWORDS:
            break
        heads.update(tokenize(m.group(1)))
        pos = m.end()
    return heads


# Words that deny the act when they stand just before its verb ("never fired", "denied he fired") or between
# the verb and its complement ("pleaded not guilty"): such a sentence reports no one doing it.
_NEGATIONS = frozenset("not never didn't hasn't hadn't wasn't weren't".split())
# Denials stand further off: "Trump denied that he fired".
_DENIALS = frozenset("denied denies deny denying".split())
_NAME = r"(?:[A-Z][\w.'’-]*\s+){0,4}[A-Z][\w.'’-]*"
# "did Michael Flynn fire Sally Yates", "did the U.S. close": the doer (capitalised words, with "the" as the
# question writes it, for the note), then the verb; "What led Michael Flynn to fire Sally Yates" too.
_ASKED = re.compile(
    rf"\b(?:did|does|do|led|prompted|caused|drove|pushed)\s+(?P<doer>(?:the\s+)?{_NAME})\s+(?:to\s+)?"
    r"(?P<verb>[a-z]{3,})\b(?P<rest>[^?]*)"
)
# Words joining several doers of one act, and lower-case particles inside a name.
_JOINING = frozenset({"and", "&"})
_PARTICLES = frozenset({"van", "der", "de", "von", "da", "di", "al", "el", "bin", "la", "le", "du", "dos"})
_WH_DID = re.compile(r"(?:when|how|where)\s+(?:did|does|do)\b")
# "Why was Sally Yates fired by Michael Flynn": the object, the verb's past form, then the doer after "by".
_ASKED_PASSIVE = re.compile(
    rf"\b(?:was|were)\s+(?:the\s+)?(?P<obj>{_NAME})\s+(?P<verb>[a-z]{{3,}})\s+by\s+"
    rf"(?P<doer>(?:the\s+)?{_NAME})"
)
# Questions that take the act for granted: "Why/When/How/Where did X do it", "What led X to do it".
_PRESUPPOSING = ("why", "what", "when", "how", "where")
# The name right after the asked verb: the act's object ("fire Sally Yates", "block Facebook").
_OBJECT = re.compile(r"\s+(?:the\s+|a\s+)?(?P<name>(?:[A-Z][\w.'’-]*\s+){0,2}[A-Z][\w.'’-]*)")
_WORD = re.compile(r"[A-Za-z][\w.'’-]*[A-Za-z]|[A-Za-z]")
# Countries by any of their names: "did Russia" is answered by "Moscow ordered" as well.
_COUNTRIES = (
    ("russia", "russian", "moscow", "kremlin"),
    ("us", "usa", "america", "american", "washington", "u.s", "united"),
    ("turkey", "turkish", "ankara"),
    ("syria", "syrian", "damascus"),
    ("ukraine", "ukrainian", "kiev", "kyiv"),
    ("britain", "british", "uk", "london"),
    ("germany", "german", "berlin"),
    ("china", "chinese", "beijing"),
)
# Who acts for a country: a country asked is answered by its leader's act, never a person by the country's.
_LEADERS = {
    "russia": ("putin", "medvedev", "lavrov"),
    "us": ("trump", "obama", "biden", "tillerson", "pompeo", "kerry"),
    "turkey": ("erdogan",),
    "syria": ("assad",),
    "ukraine": ("poroshenko", "zelensky"),
    "germany": ("merkel",),
}
# How anyone described, explained or justified something is asked, as premise_words reads these words: "How did
# Putin describe Turkey's downing of the Russian jet?" was caveated as an act "describe Turkey's downing" that
# no article reported (archive h28).
DESCRIBING = frozenset(
    "describe characterize characterise portray explain justify view feel reply answer".split()
)
# Verbs every name meets somewhere: they pin no act. A meeting or talk has two doers ("Trump met a Russian"
# says nothing against Erik Prince's meeting), and "agree to pay", "decide to leave" tell their act by the
# verb after them.
_GENERIC = (
    frozenset(
        "say said tell think know want mean make get go come see look react respond call ask use believe claim "
        "need try have happen become meet talk speak agree decide refuse plan hope promise threaten offer seek "
        "fail urge".split()  # "urge": advice anyone gives (cv-09: "did Senator Graham urge Trump" is his advice)
        # What an outlet or a person reports or writes is asked, not taken for granted: "What did Breitbart report
        # about Putin" was caveated as an act "report putin" (a17).
        + "report write announce reveal disclose publish".split()
    )
    | DESCRIBING
)
_IRREGULAR = {
    "give": ("gave", "given"),
    "shoot": ("shot",),
    "take": ("took", "taken"),
    "send": ("sent",),
    "pay": ("paid",),
    "meet": ("met",),
    "win": ("won",),
    "sell": ("sold",),
    "buy": ("bought",),
    "lead": ("led",),
    "steal": ("stole", "stolen"),
}


def _country(name: str) -> tuple[str, ...] | None:
    """The country a name is one of the names of ("Moscow", "the U.S."), if any."""
    words = [w.lower().rstrip(".").removesuffix("'s").removesuffix("’s") for w in name.split()]
    return next((names for names in _COUNTRIES if any(w in names for w in words)), None)


def _names_of(doer: str, leaders: bool = False) -> set[str]:
    """The words a sentence may name the doer by: a country's names (and, given `leaders`, its leaders':
    "Mr. Putin expelled" is Russia's act), else the surname."""
    doer = re.sub(r"^the\s+", "", doer)
    country = _country(doer)
    if country is not None:
        return {*country, *(_LEADERS.get(country[0], ()) if leaders else ())}
    return {doer.lower().split()[-1].rstrip(".").removesuffix("'s")}


# Verbs news uses for one act: "Turkish authorities detained Brunson" reports "Why did Turkey arrest Andrew
# Brunson?" (a31). Read only to clear a question (the act reported), never to name another doer. Not "fire":
# "Trump has dismissed Mueller's probe as a witch hunt" fires no one (dev v20 lost its true caveat).
_SAME_ACT = {
    "arrest": ("detain", "jail", "imprison"),
    "detain": ("arrest", "jail"),
    "jail": ("imprison", "detain"),
    "kill": ("murder", "assassinate"),
    "ban": ("prohibit", "bar"),
}


def reported_forms(index: StoredVersion, verb: str) -> set[str]:
    """The past forms of the verb and of the verbs news uses for the same act ("arrest": detained, jailed)."""
    forms = past_forms(index, verb)
    for other in _SAME_ACT.get(verb.lower(), ()):
        forms |= past_forms(index, other)
    return forms


def past_forms(index: StoredVersion, verb: str) -> set[str]:
    """The verb's past forms in the archive ("fire": fired; "plug": plugged; "give": gave, given).

    Only the past: "did X fire" is told "Trump fired Yates", and a base form after a capitalised word is
    as often a noun ("U.S. law", "Harvard election").
    """
    vocab = index.bm25.vocab
    # The passive question gives the past form itself ("was Yates fired by").
    if verb.endswith("ed") or any(verb in irregular for irregular in _IRREGULAR.values()):
        return {verb} & vocab.keys()
    if verb.endswith("e"):
        found = {verb + "d"}
    elif verb.endswith("y") and verb[-2] not in "aeou":
        found = {verb[:-1] + "ied"}
    else:
        found = {verb + "ed", verb + verb[-1] + "ed"}
    return {f for f in found if f in vocab} | {f for f in _IRREGULAR.get(verb, ()) if f in vocab}


def _doer_before(
    words: Sequence[str], at: int, relative: bool = False, breaks: frozenset[int] = frozenset()
) -> str | None:
    """The capitalised name just before the verb at `at` (over "has", "also" ..., and given `relative` a
    "who"), as the sentence spells it."""
    i = at - 1
    while i >= 0 and (words[i].lower() in _BETWEEN or (relative and words[i].lower() == _RELATIVE)):
        i -= 1
    end = i + 1
    # "the Obama administration expelled": the name of whose body it was.
    if i > 0 and words[i].lower() in _BODIES:
        i -= 1
    start = i + 1
    i = _name_start(words, i, breaks)
    if i + 1 >= start:
        return None  # "the administration expelled" names no one
    # "Britain, Germany and France expelled", "Gates and van der Zwaan pleaded": every name joined to the
    # doer by "and" did it too, and so does each name of the list before it, a comma apart.
    first = i + 1
    joined = False
    while i >= 0:
        if i > 0 and words[i].lower() in _JOINING and words[i - 1][:1].isupper():
            j = _name_start(words, i - 1, breaks)
            if j + 1 > i - 1:
                break
            joined = True
        elif joined and first in breaks and words[i][:1].isupper():
            j = _name_start(words, i, breaks)  # "Britain," before "Germany and France"
            if j + 1 > i:
                break
        else:
            break
        first, i = j + 1, j
    return " ".join(words[first:end])


def _name_start(words: Sequence[str], i: int, breaks: frozenset[int] = frozenset()) -> int:
    """The index before the name that ends at word i (capitalised words and particles such as "van der"),
    not past a comma (`breaks`): "against the United States, Trump warned" names Trump (a28's "the United
    States Trump")."""
    end = i
    while i >= 0 and (
        (words[i][:1].isupper() and words[i].lower() not in _NOT_NAMES)
        or (
            words[i] in _PARTICLES
            and i + 1 < len(words)
            and (words[i + 1][:1].isupper() or words[i + 1] in _PARTICLES)
        )
    ):
        if i < end and i + 1 in breaks:
            break
        i -= 1
    return i


def _doer_after_by(words: Sequence[str], at: int) -> str | None:
    """The capitalised name after "by" that follows a verb in the passive ("fired by President Trump")."""
    if at + 1 < len(words) and words[at + 1].lower() == "by":
        run = []
        for w in words[at + 2 : at + 6]:
            if not w[:1].isupper() or w.lower() in _NOT_NAMES:
                break
            run.append(w)
        return " ".join(run) or None
    return None


# Words opening a clause after a verb: a name after them is that clause's subject, not the verb's object.
_CLAUSE_OPENERS = frozenset({"that", "whether", "if", "because", "while", "when", "as"})


def _object_run(
    words: Sequence[str], lower: Sequence[str], at: int, passive: bool, breaks: frozenset[int] = frozenset()
) -> set[str]:
    """The words of the first name after the verb at `at` ("fired acting Attorney General Sally Yates"), or in
    the passive the last one before it ("Yates was fired"): "expelled 23 Russian diplomats and the U.S. ..."
    did nothing to the U.S. Not past a clause's comma (`breaks`: the words a comma or semicolon stands
    before): "criticized the idea, saying Moscow could not be trusted" criticized no Moscow (a30 of a28's)."""
    span = (
        range(max(0, at - OBJECT_WINDOW), at)[::-1]
        if passive
        else range(at + 1, min(len(words), at + 1 + OBJECT_WINDOW))
    )
    run: set[str] = set()
    for i in span:
        if (i in breaks) if not passive else (i + 1 in breaks):
            break
        if not passive and lower[i] in _CLAUSE_OPENERS:
            break  # "Sanders warned that the U.S. cannot go it alone": the U.S. is the clause's, not warned
        if words[i][:1].isupper() and lower[i] not in STOPWORDS:
            run.add(lower[i])
        elif run:
            break
    return run


def clause_breaks(sentence: str) -> frozenset[int]:
    """The indices of the sentence's words (as _WORD finds them) that a comma, semicolon or colon precedes."""
    spans = [m.span() for m in _WORD.finditer(sentence)]
    return frozenset(
        i for i in range(1, len(spans)) if any(ch in ",;:" for ch in sentence[spans[i - 1][1] : spans[i][0]])
    )


def _near_terms(lower: Sequence[str], at: int, passive: bool) -> set[str]:
    """The terms of the words an object stands in: after the verb, or before it in the passive."""
    span = lower[max(0, at - OBJECT_WINDOW) : at] if passive else lower[at + 1 : at + 1 + OBJECT_WINDOW]
    return {t for w in span for t in tokenize(w)}


def sentence_doers(
    sentence: str,
    forms: set[str],
    target: set[str],
    complement: str = "",
    relative: bool = False,
    heads: frozenset[str] = frozenset(),
) -> list[str]:
    """The doers the sentence names for the verb done to the target (any word of it), or followed closely by
    the complement ("pleaded guilty"); given `relative`, also a name before "who" ("Manafort, who pleaded");
    given `heads`, the noun the target's name qualifies must stand beside the verb too (object_heads)."""
    words = _WORD.findall(sentence)
    lower = [w.lower().removesuffix("'s").removesuffix("’s") for w in words]
    breaks = clause_breaks(sentence)
    doers = []
    for at, w in enumerate(lower):
        if w not in forms and stem(w) not in forms:
            continue
        # "Yates was fired", "the same Sally Yates fired by Trump".
        passive = (at > 0 and lower[at - 1] in _PASSIVE) or lower[at + 1 : at + 2] == ["by"]
        if complement and complement not in lower[at + 1 : at + 4]:
            continue
        # "pleaded not guilty", "never fired", "had not fired", "denied he fired": the act denied.
        after = lower[at + 1 : at + 1 + lower[at + 1 : at + 4].index(complement)] if complement else []
        if _NEGATIONS & {*lower[max(0, at - 3) : at], *after} or _DENIALS & set(lower[max(0, at - 6) : at]):
            continue
        if target and not target & _object_run(words, lower, at, passive, breaks):
            continue
        # "Tillerson labeled the two U.S. rivals" is no labelling of "US media" (a28).
        if heads and not heads & _near_terms(lower, at, passive):
            continue
        doer = _doer_after_by(words, at) if passive else _doer_before(words, at, relative, breaks)
        if doer:
            doers.append(doer)
    return doers


def asked_act(question: str) -> tuple[str, str, str, str] | None:
    """(doer, verb, object, complement) of "Why/What/When/How/Where did <doer> <verb> [<object name> |
    <word>...]", "What led <doer> to <verb> ..." or "Why was <object> <verbed> by <doer>" (the past form)."""
    opening = question.lstrip().lower()
    if not opening.startswith(_PRESUPPOSING):
        return None
    # "How did X give Y" takes the giving for granted; "How much warning did X give Y" asks an amount of it.
    if opening.startswith(("when", "how", "where")) and not _WH_DID.match(opening):
        return None
    p = _ASKED_PASSIVE.search(question)
    if p is not None and p.group("verb") not in _GENERIC and p.group("verb") not in STOPWORDS:
        return p.group("doer"), p.group("verb"), p.group("obj"), ""
    m = _ASKED.search(question)
    if m is None or m.group("verb") in _GENERIC or m.group("verb") in STOPWORDS:
        return None
    rest = m.group("rest")
    # "plead not guilty" takes no plea of guilt for granted.
    if _NEGATIONS & {w.lower() for w in _WORD.findall(rest)[:3]}:
        return None
    # The object is the name right after the verb ("fire Sally Yates", "give Michael Flynn"); without
    # one, the act is told by the verb and the next content word ("plead guilty").
    obj = _OBJECT.match(rest)
    complement = next((w.lower() for w in _WORD.findall(rest) if w.lower() not in STOPWORDS), "")
    if obj is None and not complement:
        return None
    # An act told by a common word ("send the email") is done by many: read only in the shapes checked on dev
    # since the start, "Why/What did X plead guilty"; "When/How/Where" need the act's named object.
    if obj is None and not question.lstrip().lower().startswith(("why", "what")):
        return None
    return m.group("doer"), m.group("verb"), obj.group("name") if obj else "", "" if obj else complement


def bare_word(word: str) -> str:
    """A word lower-cased, without a possessive or a final full stop, as names and verbs are compared."""
    return word.lower().removesuffix("'s").removesuffix("’s").rstrip(".")


def _sentences(index: StoredVersion, chunk_ids: Sequence[int]) -> Iterator[str]:
    """The text of each sentence of the chunks, read as asked: the first naming the asked doer ends the read."""
    sentences = index.sentences
    texts: dict[int, str] = {}
    for c in chunk_ids:
        row = index.chunks.row(int(c))
        text = texts.get(row.article) or texts.setdefault(row.article, index.article(row.article).text)
        for s in range(row.first_sentence, row.end_sentence):
            srow = sentences.row(s)
            yield text[srow.start : srow.end]
