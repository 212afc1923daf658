"""Spans that echo a question's words without answering it: questions and headlines, scored down."""

from __future__ import annotations

import re

# Taken off a sentence that asks a question ("So, what kind of player is Putin?") or that is a headline
# (no closing punctuation): it echoes the question's words without answering it.
W_NO_ANSWER = 0.2
W_HEADLINE = 0.2

_CLOSING = re.compile(r"[.!…:;][\"'”’»)\]]*\s*$|[\"”»]\s*$")


def weigh_non_answer(span: str) -> float:
    """What a span loses for being a question or a headline rather than a statement."""
    last = span.rstrip().rstrip("\"'”’»)]").rstrip()
    if last.endswith("?"):
        return W_NO_ANSWER
    return 0.0 if _CLOSING.search(span) else W_HEADLINE
