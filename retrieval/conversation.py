"""One chat session, the same for every front end: validate → make standalone → answer → remember."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Protocol, runtime_checkable

from cachetools import LRUCache

from retrieval.answer import Answer
from retrieval.filters import Filters, parse_filter_words
from retrieval.followup import ChatHistory
from retrieval.service import AnsweringService, clean_question


class QuestionAnswerer(Protocol):
    """The least a front end's service must do: answer one standalone question."""

    def answer(self, question: str, *, filters: Filters | None = None) -> Answer: ...


@runtime_checkable
class ChatService(Protocol):
    """A service that understands follow-ups and can report a model's draft as it is written."""

    @property
    def streams(self) -> bool: ...
    def standalone_question(self, question: str, history: ChatHistory | None) -> str: ...
    def answer(self, question: str, on_text: Callable[[str], None] | None = None) -> Answer: ...
    def remember(self, history: ChatHistory | None, answer: Answer) -> None: ...


def streams(service: QuestionAnswerer) -> bool:
    """Whether the service writes answers with a model, so that drafts can be shown as they come."""
    return isinstance(service, ChatService) and service.streams


class Conversation:
    """One chat's questions and answers; follow-ups are read in the light of the turns before them."""

    def __init__(self, service: QuestionAnswerer, max_question_chars: int, max_turns: int) -> None:
        self.service = service
        self.max_question_chars = max_question_chars
        self.history = ChatHistory(max_turns)

    def check(self, question: str) -> str:
        """The question as it will be asked; raises QuestionError (one sentence) when it cannot be."""
        return clean_question(question, self.max_question_chars)

    def ask(self, question: str, on_text: Callable[[str], None] | None = None) -> Answer:
        """Answer a message, remembering the turn; `on_text` gets a model's draft text as it comes."""
        text = self.check(question)
        only, text = parse_filter_words(text)
        if only:
            # A filtered question (since:/until:/outlet:) stands alone, answered from what the filters admit.
            return self.service.answer(text, filters=only)
        service = self.service
        if not isinstance(service, ChatService):
            return service.answer(text)
        standalone = service.standalone_question(text, self.history)
        # Only a drafting caller passes `on_text`, so services whose answer() takes just the question work.
        answer = service.answer(standalone, on_text) if on_text is not None else service.answer(standalone)
        service.remember(self.history, answer)
        return answer

    def forget(self) -> None:
        """Start afresh: later questions no longer lean on earlier ones."""
        self.history.clear()


class Conversations:
    """A conversation per chat, forgetting the least recently used chats beyond `max_chats`."""

    def __init__(
        self, service: QuestionAnswerer, max_question_chars: int, max_turns: int, max_chats: int = 2000
    ) -> None:
        self.service = service
        self.max_question_chars = max_question_chars
        self.max_turns = max_turns
        self._chats: LRUCache[Hashable, Conversation] = LRUCache(maxsize=max_chats)
        self._lock = threading.Lock()

    def get(self, chat_id: Hashable) -> Conversation:
        """The chat's conversation, started on first use."""
        with self._lock:
            conversation = self._chats.get(chat_id)
            if conversation is None:
                conversation = Conversation(self.service, self.max_question_chars, self.max_turns)
                self._chats[chat_id] = conversation
            return conversation

    def __len__(self) -> int:
        return len(self._chats)


def conversation_with(service: AnsweringService) -> Conversation:
    """A new conversation with the service, bounded by its settings."""
    return Conversation(service, service.settings.max_question_chars, service.settings.history_turns)
