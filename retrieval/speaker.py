"""Whose words a question asks for: "What did Hillary Clinton say in Helsinki?" asks for her words.

Quotes are chosen by closeness to the whole question, so a question about what one person said may be
answered with another's words: Trump's, quoted in Helsinki, for Clinton (a28). When no shown quote even
names the person, a caveat says so; a quote that names them ("…, Clinton said") may still be a reply to
them, so it is a warning about the quotes, not a refusal.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from retrieval.act_doer import _country
from retrieval.lexical import tokenize
from retrieval.prompts import render_prompt

# Bodies and places that speak through people ("What did NATO/Congress/CNN/Europe say"), and titles.
_BODIES = frozenset(
    """nato congress senate house pentagon kremlin cnn fox nbc cbs abc bbc reuters europe eu un administration
    government ministry department committee court white times post journal news agency council party
    commission parliament duma cia fbi nsa gru""".split()
)
_TITLES = frozenset("president senator sen rep gov general gen mr mrs ms dr secretary minister prime".split())
# The verbs of a question asking for someone's words (followup.py reads who spoke by them too).
SPEECH_VERBS = (
    "say|said|tell|told|think|thought|describe|call|warn|claim|react|respond|comment|reply|write|wrote"
)
# "What did Hillary Clinton say …", "How did Lavrov react …", "What has Peskov told …".
_SPEECH = re.compile(
    r"^\s*(?i:what|how|why|when)\s+(?i:did|does|do|has|had)\s+"
    rf"(?P<name>(?:[A-Z][\w’'.-]*\s+){{0,2}}[A-Z][\w’'.-]*)\s+(?:{SPEECH_VERBS})\b"
)


def asked_speaker(question: str) -> str | None:
    """The person whose words the question asks for, as it names them; None for a country or body."""
    m = _SPEECH.match(question)
    if m is None:
        return None
    name = m.group("name")
    words = name.split()
    # "What did Russia say", "What did NATO say": a state or body speaks through people its quotes name
    # instead (a30: "not NATO's" under a Stoltenberg quote); so does a title alone ("the President").
    if _country(name) is not None or (len(words) == 1 and (name.isupper() or name.lower() in _BODIES)):
        return None
    if any(w.lower().strip(".") in _BODIES for w in words):
        return None
    return name


def unnamed_speaker(question: str, quotes: Sequence[str]) -> str | None:
    """The caveat when the question asks for someone's words and no quote names them by any word of the
    name ("Xi said" for Xi Jinping, "Clinton" for Hillary Clinton), accents and apostrophes aside."""
    name = asked_speaker(question)
    if name is None:
        return None
    # A title the question gives them names them too: "the president said" for "President Trump".
    parts = {t for t in tokenize(_plain(name)) if len(t) > 1}
    if not parts - _TITLES or any(parts & set(tokenize(_plain(quote))) for quote in quotes):
        return None
    return render_prompt("gap_speaker.txt", speaker=name)


def _plain(text: str) -> str:
    """The text without accents and with one apostrophe: "Erdoğan" is "Erdogan", "O’Rourke" "O'Rourke"."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
