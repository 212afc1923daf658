"""Whose words a question asks for: "What did Hillary Clinton say in Helsinki?" asks for her words.

Quotes are chosen by closeness to the whole question, so a question about what one person said may be
answered with another's words: Trump's, quoted in Helsinki, for Clinton (a28). When no shown quote even
names the person, a caveat says so; a quote that names them ("…, Clinton said") may still be a reply to
them, so it is a warning about the quotes, not a refusal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from retrieval.act_doer import _country
from retrieval.lexical import tokenize
from retrieval.prompts import render_prompt

# "What did Hillary Clinton say …", "How did Lavrov react …", "What has Peskov told …".
_SPEECH = re.compile(
    r"^\s*(?i:what|how|why|when)\s+(?i:did|does|do|has|had)\s+"
    r"(?P<name>(?:[A-Z][\w’'.-]*\s+){0,2}[A-Z][\w’'.-]*)\s+"
    r"(?:say|said|tell|told|think|thought|describe|call|warn|claim|react|respond|comment|reply|write|wrote)\b"
)


def asked_speaker(question: str) -> str | None:
    """The person whose words the question asks for, as it names them; None for a country or body."""
    m = _SPEECH.match(question)
    if m is None:
        return None
    name = m.group("name")
    # "What did Russia say": a state speaks through many people, whom its quotes name instead.
    return None if _country(name) is not None else name


def unnamed_speaker(question: str, quotes: Sequence[str]) -> str | None:
    """The caveat when the question asks for someone's words and no quote names them."""
    name = asked_speaker(question)
    if name is None:
        return None
    surname = (tokenize(name) or [""])[-1]
    if not surname or any(surname in tokenize(quote) for quote in quotes):
        return None
    return render_prompt("gap_speaker.txt", speaker=name)
