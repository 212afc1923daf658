"""A follow-up does not carry a subject no article mentions (outside attack, a12).

In the chat, "What did O’Brien say about arms control?" was refused ("No indexed article mentions O’Brien."),
and the next question, "What about Putin?", was taken as "O’Brien: What about Putin?" and refused again,
though asked alone it is answered.
"""

from __future__ import annotations

from retrieval.conversation import conversation_with
from retrieval.service import AnsweringService


def test_a_subject_no_article_mentions_is_not_carried(hashing_service: AnsweringService) -> None:
    alone = hashing_service.answer("What about Putin and arms control?")
    chat = conversation_with(hashing_service)
    first = chat.ask("What did Robert O’Brien say?")
    assert first.note is not None and "O’Brien" in first.note
    follow = chat.ask("What about Putin and arms control?")
    assert follow.question == "What about Putin and arms control?"
    assert follow.status == alone.status and follow.note == alone.note
