"""Follow-up questions in a chat: bounded per-chat history and the rule that makes a question standalone."""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass

from cachetools import LRUCache

from retrieval.lexical import STOPWORDS

MAX_FOLLOW_UP_WORDS = 6
# A question opening with one of these leans on the one before it.
_LEANING = re.compile(
    r"^(?:and|but|also|so|then|what about|how about|and what about|what of|"
    r"he|she|it|they|them|him|her|his|its|their|this|that|these|those|there|then)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")
_QUESTION_WORDS = frozenset(
    "what who whom whose when where why how which is are was were did do does".split()
)


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
    """Short questions and ones that open with a pronoun, "and" or "what about" lean on the last one."""
    words = _WORD.findall(question)
    return len(words) <= MAX_FOLLOW_UP_WORDS or bool(_LEANING.match(question.strip()))


def content_words(question: str) -> list[str]:
    """The question's words without stopwords and question words, in order, each once."""
    out: list[str] = []
    for word in _WORD.findall(question):
        low = word.lower()
        if low in STOPWORDS or low in _QUESTION_WORDS or word in out:
            continue
        out.append(word)
    return out


def carry_subject(question: str, previous: str, max_chars: int = 1000) -> str:
    """The follow-up with the previous question's content words in front (the extractive rule)."""
    subject = " ".join(content_words(previous))
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
