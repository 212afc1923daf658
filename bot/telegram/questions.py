"""Questions: a text message or /ask goes through the chat's conversation and comes back as cited quotes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re

from telegram import InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.ext import ContextTypes

from bot.telegram.access import is_group
from bot.telegram.answers import CachedAnswer, by_article
from bot.telegram.keyboards import answer_keyboard
from bot.telegram.replies import ASK_USAGE, EMPTY, TOO_SLOW
from bot.telegram.state import BotState, state_of
from bot.telegram.transport import keep_typing, send, send_all
from bot.telegram_format import escape, format_answer
from bot.telegram_stream import DraftMessage
from retrieval.answer import Answer
from retrieval.conversation import Conversation, streams
from retrieval.errors import QuestionError, UsruError

log = logging.getLogger(__name__)


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text message is a question (in groups the access filters have checked it is for us)."""
    message = update.message
    assert message is not None and message.text is not None
    text = message.text
    if is_group(message):
        text = strip_mention(text, context.bot.username)
    await answer(update, context, text, reply_to=message if is_group(message) else None)


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask <question>: the way to ask in a group chat."""
    message = update.message
    assert message is not None
    text = message.text or ""
    command = next(
        (e for e in message.entities if e.type == MessageEntity.BOT_COMMAND and e.offset == 0), None
    )
    rest = message.parse_entity(command) if command is not None else ""
    asked = text[len(rest) :].strip() if text.startswith(rest) else " ".join(context.args or [])
    if not asked:
        await send(context, message.chat_id, ASK_USAGE, reply_to=message)
        return
    await answer(update, context, asked, reply_to=message if is_group(message) else None)


def strip_mention(text: str, bot_username: str) -> str:
    """The text without @botname."""
    return re.sub(rf"(?<![\w@])@{re.escape(bot_username)}\b", " ", text, flags=re.IGNORECASE).strip()


async def answer(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    text: str,
    *,
    reply_to: Message | None,
    echo: bool = False,
) -> None:
    """Check and rate-limit, answer off the event loop while showing typing, send the cited reply."""
    state = state_of(context)
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    conversation = state.conversations.get(chat.id)
    try:
        text = conversation.check(text)
    except QuestionError as exc:
        await send(context, chat.id, EMPTY if exc.reason == "empty" else escape(str(exc)), reply_to=reply_to)
        return
    if not state.bs.is_admin(user.id, user.username) and not await _within_rate(
        state, context, user.id, chat.id, reply_to
    ):
        return
    typing = asyncio.create_task(keep_typing(context, chat.id, state.bs.answer_timeout_s))
    draft = _draft(state, context, chat.id, reply_to)
    try:
        reply = await asyncio.wait_for(state.run(_ask, conversation, text, draft), state.bs.answer_timeout_s)
    except UsruError as exc:
        await _reply(context, chat.id, [escape(str(exc))], reply_to, draft)
        return
    except TimeoutError:
        log.warning("Answering took longer than %.0fs in chat %s", state.bs.answer_timeout_s, chat.id)
        await _reply(context, chat.id, [escape(TOO_SLOW)], reply_to, draft)
        return
    finally:
        typing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await typing
        if draft is not None:
            await draft.stop()
    messages = format_answer(reply, echo_question=echo)
    if reply.status != "answered" or not reply.citations:
        await _reply(context, chat.id, messages, reply_to, draft)
        return
    entry = CachedAnswer(reply, by_article(reply.citations), by_article(reply.more))
    key = await state.on_state_thread(state.cache.put, chat.id, entry)
    last = await _reply(
        context, chat.id, messages, reply_to, draft, answer_keyboard(key, entry, with_more=True)
    )
    if state.gate is not None:  # the answer is out: marked done now, not after the buttons are stored
        await state.gate.mark_answered(update.update_id)
    if last is not None:
        await state.on_state_thread(
            state.cache.replace,
            chat.id,
            key,
            CachedAnswer(entry.answer, entry.shown, entry.more, last.message_id),
        )


async def _within_rate(
    state: BotState, context: ContextTypes.DEFAULT_TYPE, user_id: int, chat_id: int, reply_to: Message | None
) -> bool:
    """Whether the user may ask now; the first question over the limit gets one notice."""
    wait = await state.on_state_thread(state.limiter.check, user_id)
    if wait <= 0:
        return True
    if await state.on_state_thread(state.limiter.first_warning, user_id):
        await send(
            context,
            chat_id,
            escape(
                f"You're asking faster than I can keep up with "
                f"({state.limiter.per_minute} questions a minute). "
                f"Please wait {max(1, round(wait))} seconds and ask again."
            ),
            reply_to=reply_to,
        )
    return False


def _draft(
    state: BotState, context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply_to: Message | None
) -> DraftMessage | None:
    """A message to stream the model's answer into, when the service writes answers with a model."""
    if not streams(state.service):
        return None
    draft = DraftMessage(
        context.bot, chat_id, reply_to.message_id if reply_to else None, asyncio.get_running_loop()
    )
    draft.start()
    return draft


def _ask(conversation: Conversation, text: str, draft: DraftMessage | None) -> Answer:
    """Answer in the chat's conversation, reporting drafts; runs on an answering thread."""
    return conversation.ask(text, draft.update if draft is not None else None)


async def _reply(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    messages: list[str],
    reply_to: Message | None,
    draft: DraftMessage | None,
    markup: InlineKeyboardMarkup | None = None,
) -> Message | None:
    """Send the reply, turning a streamed draft into its first message."""
    if draft is not None:
        last = await draft.finalise(messages, markup)
        if last is not None:
            return last
    return await send_all(context, chat_id, messages, reply_to=reply_to, markup=markup)
