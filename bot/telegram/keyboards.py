"""Our inline keyboards and their callback data: "ex:N", "ctx:KEY:N", "ctm:KEY:N", "more:KEY"."""

from __future__ import annotations

import re
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram.answers import CachedAnswer
from bot.telegram_format import button_label

# KEY is an AnswerCache key; N numbers an example question or a group of quotes from one article.
_BUTTON_RE = re.compile(
    r"(ex):([0-9]{1,2})|(ctx|ctm):([A-Za-z0-9_-]{8}):([0-9]{1,2})|(more):([A-Za-z0-9_-]{8})"
)


def parse_button(data: str) -> tuple[str, str, int] | None:
    """(kind, cache key, number) of one of our buttons' callback data, or None for anything else."""
    m = _BUTTON_RE.fullmatch(data)
    if m is None:
        return None
    if m.group(1):
        return "ex", "", int(m.group(2))
    if m.group(3):
        return m.group(3), m.group(4), int(m.group(5))
    return "more", m.group(7), 0


def examples_keyboard(examples: Sequence[str]) -> InlineKeyboardMarkup:
    """One button per example question."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(q if len(q) <= 60 else q[:59] + "…", callback_data=f"ex:{i}")]
            for i, q in enumerate(examples)
        ]
    )


def answer_keyboard(key: str, entry: CachedAnswer, *, with_more: bool) -> InlineKeyboardMarkup:
    """A passage button per article quoted, and "more quotes" while there are more to show."""
    rows = [
        [InlineKeyboardButton("📄 " + button_label(group), callback_data=f"ctx:{key}:{k}")]
        for k, group in enumerate(entry.shown)
    ]
    if with_more and entry.answer.more:
        rows.append(
            [InlineKeyboardButton(f"➕ More quotes ({len(entry.answer.more)})", callback_data=f"more:{key}")]
        )
    return InlineKeyboardMarkup(rows)


def more_keyboard(key: str, entry: CachedAnswer) -> InlineKeyboardMarkup:
    """A passage button per article among the further quotes."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("📄 " + button_label(g), callback_data=f"ctm:{key}:{k}")]
            for k, g in enumerate(entry.more)
        ]
    )
