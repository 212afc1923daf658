"""Follow-up questions in a chat: bounded per-chat history and the rule that makes a question standalone."""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass

from cachetools import LRUCache

from retrieval.lexical import STOPWORDS, shared_prefix
from retrieval.people import MONTHS
from retrieval.speaker import SPEECH_VERBS

# At most this many of the previous question's content words are carried into a follow-up.
MAX_CARRIED_WORDS = 8
# A question opening with one of these leans on the one before it.
_LEANING = re.compile(
    r"^(?:and|but|also|so|then|plus|what about|how about|what of|what else|anything else|"
    r"tell me more|more on|more about|same for|as for|and if|if so|in that case|"
    r"he|she|it|they|them|him|her|his|its|their|this|that|these|those|there)\b",
    re.IGNORECASE,
)
# Pronouns that point back to someone named earlier, unless the question names someone before them.
_PERSONAL = frozenset("he she they him her them his hers their theirs himself herself themselves".split())
# Words that point back to something said earlier when the question has nothing else to go on.
_DEICTIC = frozenset("it its this that these those there then such".split())
# Words that carry no subject of their own: "why?", "when was that?", "tell me more", "how so?".
_EMPTY = frozenset(
    "more else again exactly so really details detail happened happen mean means meant anything "
    "something explain elaborate go on next after before later earlier".split()
)
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")
_QUESTION_WORDS = frozenset(
    "what who whom whose when where why how which is are was were did do does".split()
)
# "Was it in 2017?", "Why did that happen?": the subject of the question is a word pointing back.
_POINTING_SUBJECT = re.compile(
    r"^(?:(?:why|when|where|how|what|who)\s+)?(?:was|is|were|are|did|does|do|will|would|could|can|has|have|had)"
    r"\s+(?:it|that|this|these|those)\b",
    re.IGNORECASE,
)
# "there" as a place ("killed there", "there and then"), not "is there", "there are".
_THERE = re.compile(
    r"(?<!\bis )(?<!\bare )(?<!\bwas )(?<!\bwere )(?<!\bbe )\bthere\b(?!\s+(?:is|are|was|were|be|been|have|has)\b)",
    re.IGNORECASE,
)
_NAME = re.compile(r"^[A-Z][\w’'.-]*$")
# Words a faithful rewrite adds without changing what is asked: ways of asking ("discuss" for "talk about")
# and titles and first names beside a name the conversation has ("President Putin", "Vladimir Putin").
_REWORDING = frozenset(
    """discuss discussed discussion mention mentioned comment comments commented respond responded response
    react reacted reaction reactions statement statements remark remarks view views position stance plan
    plans decision decide decided happen happened cause caused reason reasons result results role talk talked
    meet met meeting about regarding concerning latest recent recently current currently now still further
    other else also""".split()
)
_TITLES = frozenset(
    """president vice prime minister foreign defense defence secretary state senator sen rep representative
    gov governor mr mrs ms dr general gen director chancellor ambassador spokesman spokeswoman spokesperson
    former then special counsel attorney deputy chief adviser advisor leader""".split()
)
# One name written in full or short ("U.S." for "US", "United States" for "US").
_ALIASES = (
    frozenset({"us", "u.s", "u.s.", "usa", "united", "states", "america", "american", "americans"}),
    frozenset({"uk", "u.k", "britain", "british", "united", "kingdom", "england"}),
    *(
        frozenset(pair)
        for pair in (
            ("china", "chinese"),
            ("turkey", "turkish"),
            ("france", "french"),
            ("ukraine", "ukrainian"),
            ("russia", "russian"),
            ("israel", "israeli"),
            ("iran", "iranian"),
            ("syria", "syrian"),
            ("germany", "german"),
            ("poland", "polish"),
            ("japan", "japanese"),
            ("netherlands", "dutch"),
            ("iraq", "iraqi"),
            ("afghanistan", "afghan"),
            ("korea", "korean"),
            ("cuba", "cuban"),
        )
    ),
)
# Endings that make a name's adjective or plural ("Russia" → "Russian", "Russians").
_NAME_ENDINGS = ("n", "an", "ian", "ns", "ans", "ians", "s", "es")


@dataclass(frozen=True)
class Turn:
    """One answered question: the standalone question and the answer's prose."""

    question: str
    answer: str


class ChatHistory:
    """The last few turns of one chat (thread-safe, bounded)."""

    def __init__(self, max_turns: int = 4) -> None:
        self._turns: deque[Turn] = deque(maxlen=max(max_turns, 0) or None)
        self._max = max_turns
        self._lock = threading.Lock()

    def add(self, question: str, answer: str) -> None:
        """Remember a turn, forgetting the oldest beyond the bound."""
        if self._max <= 0:
            return
        with self._lock:
            self._turns.append(Turn(question, answer[:1000]))

    def turns(self) -> list[Turn]:
        """The remembered turns, oldest first."""
        with self._lock:
            return list(self._turns)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._turns.clear()

    def __len__(self) -> int:
        return len(self._turns)


class ChatMemory:
    """Histories per chat id, forgetting the least recently used chats beyond `max_chats`."""

    def __init__(self, max_turns: int = 4, max_chats: int = 2000) -> None:
        self.max_turns = max_turns
        self.max_chats = max_chats
        self._chats: LRUCache[Hashable, ChatHistory] = LRUCache(maxsize=max(1, max_chats))
        self._lock = threading.Lock()

    def get(self, chat_id: Hashable) -> ChatHistory:
        """The chat's history, created empty on first use."""
        with self._lock:
            history = self._chats.get(chat_id)
            if history is None:
                history = self._chats[chat_id] = ChatHistory(self.max_turns)
            return history

    def __len__(self) -> int:
        return len(self._chats)


def is_follow_up(question: str) -> bool:
    """Whether the question leans on the one before: an "and"/"what about" opening, a word pointing
    back ("he", "that", "there") with nobody named before it, or no subject of its own ("why?")."""
    text = question.strip()
    if _LEANING.match(text) or points_back(text):
        return True
    own = [w for w in content_words(text) if w.lower() not in _EMPTY and w.lower() not in _DEICTIC]
    return bool(_WORD.search(text)) and not own


def points_back(question: str) -> bool:
    """Whether a pronoun or "there" in the question can only mean something said before it."""
    text = question.strip()
    if _POINTING_SUBJECT.match(text) or _THERE.search(text):
        return True
    for i, word in enumerate(_WORD.findall(text)):
        low = word.lower()
        if low in _PERSONAL:
            return True
        # A capitalised word past the first, or a first word that is not a question word, names someone.
        if _NAME.match(word) and (i > 0 or low not in _QUESTION_WORDS) and low not in STOPWORDS:
            return False
    return False


def own_names(question: str) -> list[str]:
    """The capitalised words of a question past its first word (names of people, places, bodies); a month
    is a time, not a name ("And in March 2019?" kept the earlier question's names, a30)."""
    return [
        w
        for i, w in enumerate(_WORD.findall(question))
        if i > 0 and _NAME.match(w) and w.lower() not in STOPWORDS and not _MONTH.fullmatch(w)
    ]


def content_words(question: str) -> list[str]:
    """The question's words without stopwords and question words, in order, each once."""
    out: list[str] = []
    for word in _WORD.findall(question):
        low = word.lower()
        if low in STOPWORDS or low in _QUESTION_WORDS or word in out:
            continue
        out.append(word)
    return out


_YEAR = re.compile(r"^(?:1[89]|20)\d\d$")


def carried_subject(question: str, previous: str) -> str:
    """The previous question's content words a follow-up carries over (its own names and years replace the
    old)."""
    words = content_words(previous)
    if own_names(question):
        # "and what did Nebenzia say?": the follow-up's own name replaces the earlier ones, not joins them.
        words = [w for w in words if not _NAME.match(w)] or words
    if any(_YEAR.match(w) for w in _WORD.findall(question)):
        # "And in 2018?" after "… in 2025?": the time asked now, not both (a28 was refused for 2025).
        words = [w for w in words if not _YEAR.match(w) and not _MONTH.fullmatch(w)]
    return " ".join(words[:MAX_CARRIED_WORDS])


# "and Lavrov?", "what about the RNC?": a follow-up that is nothing but another name.
# "in 2017", "in March 2019": when, said after a name ("And Peskov in 2017?") or in a question.
_WHEN = rf"(?:in|during)\s+(?:(?:{MONTHS})\.?\s+)?(?:1[89]|20)\d\d"
_ONLY_NAME = re.compile(
    r"^(?i:and|but|also|what about|how about|what of|same for|as for)\s+(?P<the>(?i:the)\s+)?"
    r"(?P<name>[A-Z][\w’'.-]*(?:\s+(?:of\s+)?[A-Z][\w’'.-]*)*)"
    rf"(?:\s+(?P<when>{_WHEN}))?\s*[?.!]*$"
)
_ASKED_WHEN = re.compile(rf"\s*\b{_WHEN}\b", re.IGNORECASE)
_MONTH = re.compile(rf"(?:{MONTHS})\.?")
_PLACES = frozenset(w for group in _ALIASES for w in group if w not in ("united", "states", "kingdom"))


def _name_spans(question: str) -> list[tuple[int, int]]:
    """Where the question's names stand: runs of capitalised words past its first word."""
    spans: list[tuple[int, int]] = []
    for i, m in enumerate(_WORD.finditer(question)):
        if i == 0 or not _NAME.match(m.group(0)) or m.group(0).lower() in STOPWORDS:
            continue
        if spans and not question[spans[-1][1] : m.start()].strip():
            spans[-1] = (spans[-1][0], m.end())
        else:
            spans.append((m.start(), m.end()))
    return spans


def _is_place(name: str) -> bool:
    return any(w.lower().rstrip(".") in _PLACES or w.lower() in _PLACES for w in name.split())


# "What did Lavrov say about …", "How did Peskov react to …": the name is who spoke, the rest what about.
_SPEAKER = re.compile(
    r"^\s*(?i:what|how|why|when|where)\s+(?i:did|does|do|has|had)\s+(?P<name>[A-Z][\w’'.-]*)"
    rf"(?:\s+[A-Z][\w’'.-]*)*\s+(?:{SPEECH_VERBS}|mean)\b"
)
# "in Helsinki", "to Moscow": a name after these is a place, whatever it is.
_LOCATIVE = re.compile(r"\b(?:in|at|to|from|near|into|inside|outside)\s+(?:the\s+)?$", re.IGNORECASE)


def swap_name(question: str, previous: str) -> str | None:
    """The previous question asked of the follow-up's name instead ("and Lavrov?" after "Why did Putin
    resign?": "Why did Lavrov resign?"), when exactly one name of it is of the same kind (a place for a
    place, a person or body for one) to be replaced."""
    m = _ONLY_NAME.match(question.strip())
    if m is None or not any(ch.islower() for ch in previous):
        return None  # "WHY DID TILLERSON RESIGN?": in capitals, every word reads as a name (a18)
    name = re.sub(r"(?:['’]s|\.)$", "", m.group("name"))  # "Lavrov's", "as for Lavrov."
    if name.split()[0].lower() in STOPWORDS | _QUESTION_WORDS | _PERSONAL | {"i"}:
        return None  # "and The?", "and Why?", "and I?" name no one
    place = _is_place(name)
    spans = [
        sp
        for sp in _name_spans(previous)
        if (_is_place(previous[sp[0] : sp[1]]) or bool(_LOCATIVE.search(previous[: sp[0]]))) == place
    ]
    if len(spans) > 1 and not place and (speaker := _SPEAKER.match(previous)):
        # "What did Lavrov say about the Skripal case?" then "And Peskov?": another speaker on the same
        # matter, not Lavrov on Peskov (a28 carried "say case" and lost Skripal).
        spans = [sp for sp in spans if sp[0] == speaker.start("name")]
    if len(spans) != 1 or previous[spans[0][0] : spans[0][1]].lower() == name.lower():
        return None
    start, end = spans[0]
    if m.group("the") and not re.search(r"\bthe\s+$", previous[:start], re.IGNORECASE):
        name = f"the {name}"
    swapped = previous[:start] + name + previous[end:]
    if m.group("when"):
        # "And Peskov in 2017?": the new time replaces the old one, or is added (a30).
        swapped = _ASKED_WHEN.sub("", swapped).rstrip(" ?.!") + f" {m.group('when')}?"
    return swapped


def carry_subject(question: str, previous: str, max_chars: int = 1000) -> str:
    """The follow-up with the previous question's content words in front (the extractive rule), or the
    previous question with the follow-up's name swapped in (swap_name)."""
    swapped = swap_name(question, previous)
    if swapped is not None and len(swapped) <= max_chars:
        return swapped
    subject = carried_subject(question, previous)
    if not subject:
        return question
    combined = f"{subject}: {question}"
    return combined if len(combined) <= max_chars else question


def standalone_by_rule(question: str, history: ChatHistory, max_chars: int = 1000) -> str:
    """The question itself, or with the last question's subject carried over when it leans on it."""
    turns = history.turns()
    if not turns or not is_follow_up(question):
        return question
    return carry_subject(question, turns[-1].question, max_chars)


def _forms(word: str) -> str:
    """A word without case, possessive or a plural/verb ending, for matching its other forms."""
    low = re.sub(r"['’]s$", "", word.lower())
    if len(low) > 5 and low.endswith(("es", "ed")):
        return low[:-2]
    return low[:-1] if len(low) > 3 and low.endswith("s") else low


def _known(word: str, vocabulary: set[str]) -> bool:
    """Whether the conversation used the word in some form ("Russia" for "Russian", "talks" for "talk")."""
    form = _forms(word)
    if form in vocabulary:
        return True
    # A shared stem: at least five letters, at most three letters short of the shorter word.
    return len(form) >= 5 and any(
        len(v) >= 5 and shared_prefix(form, v) >= max(5, min(len(form), len(v)) - 3) for v in vocabulary
    )


def _is_name(word: str, first: bool) -> bool:
    """Whether a word is written as a name: a capital in any script (not a question's opening word)."""
    return word[:1].isupper() and not (first and word.lower() in _QUESTION_WORDS | STOPWORDS)


def _vocabulary(texts: list[str]) -> set[str]:
    """The forms of the texts' words, with every alias of a name one of them writes."""
    vocabulary = {_forms(w) for text in texts for w in _WORD.findall(text)}
    for group in _ALIASES:
        forms = {_forms(w) for w in group}
        if vocabulary & forms:
            vocabulary |= forms
    return vocabulary


def _known_name(word: str, vocabulary: set[str]) -> bool:
    """Whether the conversation wrote this name, or its adjective or plural ("Russian" for "Russia")."""
    form = _forms(word)
    return form in vocabulary or any(
        form.endswith(end) and form[: -len(end)] in vocabulary
        for end in _NAME_ENDINGS
        if len(form) > len(end) + 2
    )


def invented_words(rewritten: str, question: str, history: ChatHistory) -> list[str]:
    """The names, numbers and other content words of a model's rewrite that neither the follow-up nor the
    remembered turns used, beyond ways of asking and titles or first names beside a known name."""
    vocabulary = _vocabulary([question] + [f"{t.question} {t.answer}" for t in history.turns()])
    spans = list(_WORD.finditer(rewritten))
    words = [m.group(0) for m in spans]
    names = [_is_name(w, i == 0) and _known_name(w, vocabulary) for i, w in enumerate(words)]
    # A first name stands right before its surname, nothing but a space between ("Medvedev, Putin's ally" no).
    joined = [
        i + 1 < len(spans) and not rewritten[m.end() : spans[i + 1].start()].strip()
        for i, m in enumerate(spans)
    ]
    new: list[str] = []
    for i, word in enumerate(words):
        low = word.lower()
        if low in STOPWORDS or low in _QUESTION_WORDS or low in _EMPTY or low in _DEICTIC or low in _PERSONAL:
            continue
        if any(ch.isdigit() for ch in word):
            # A number or a date only as the conversation wrote it: "2018-07-30" is no form of "2018-07-16".
            if low not in vocabulary:
                new.append(word)
        elif low in _TITLES or low in _REWORDING:
            continue
        elif _is_name(word, i == 0):
            # A first name is new only if the name it opens is: "Vladimir Putin" where "Putin" was said.
            if not (names[i] or (joined[i] and names[i + 1])):
                new.append(word)
        elif not _known(word, vocabulary):
            new.append(word)
    return new


def dropped_words(rewritten: str, question: str) -> list[str]:
    """The follow-up's own names and numbers a rewrite left out ("and what did Nebenzia say?")."""
    kept = _vocabulary([rewritten])
    return [
        w
        for i, w in enumerate(_WORD.findall(question))
        if (any(ch.isdigit() for ch in w) or _is_name(w, i == 0)) and not _known_name(w, kept)
    ]
