"""Who may talk to the bot, as PTB filters, and the handlers that drop or refuse everyone else."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Bot, Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, BaseHandler, ContextTypes, filters

from bot.bot_settings import BotSettings
from bot.telegram.replies import REFUSAL
from bot.telegram.state import state_of
from bot.telegram.transport import send
from bot.telegram_format import escape

log = logging.getLogger(__name__)

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def is_group(message: Message) -> bool:
    """Whether the message is in a group or supergroup."""
    return message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


def command_target(message: Message) -> str | None:
    """'' for a bare /command, the bot name for /command@name, None when there is no command."""
    for entity in message.entities:
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            return message.parse_entity(entity).partition("@")[2].lower()
    return None


def is_addressed(message: Message, bot_id: int, bot_username: str) -> bool:
    """Whether a group message is meant for this bot: a command, a mention or a reply to it."""
    target = command_target(message)
    if target is not None:
        return target in ("", bot_username.lower())
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == bot_id:
        return True
    entities = {**message.parse_entities(), **message.parse_caption_entities()}
    for entity, text in entities.items():
        if entity.type == MessageEntity.MENTION and text[1:].lower() == bot_username.lower():
            return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == bot_id:
            return True
    return False


class UpdateRule(filters.UpdateFilter):
    """A filter that sees button presses too (PTB's own filters pass only messages).

    Combining rules with & | ~ gives PTB's message-only behaviour back, so each is used on its own.
    """

    def check_update(self, update: Update) -> bool:
        """Whether the update passes this rule."""
        return bool(self.filter(update))


class FromPerson(UpdateRule):
    """Updates from a person, not a bot or a channel."""

    def filter(self, update: Update) -> bool:
        """Whether a person sent it."""
        user = update.effective_user
        return user is not None and not user.is_bot


class ForThisBot(UpdateRule):
    """Button presses, private messages, and group messages addressed to this bot; never channels."""

    def __init__(self, bot: Bot) -> None:
        super().__init__(name="ForThisBot")
        self.bot = bot

    def filter(self, update: Update) -> bool:
        """Whether the update is meant for this bot."""
        if update.callback_query is not None:
            return True
        message = update.effective_message
        if message is None or message.chat.type == ChatType.CHANNEL:
            return False
        return not is_group(message) or is_addressed(message, self.bot.id, self.bot.username)


class Allowed(UpdateRule):
    """Users on TELEGRAM_ALLOWED_USERS (everyone when it is empty) and admins."""

    def __init__(self, bot_settings: BotSettings) -> None:
        super().__init__(name="Allowed")
        self.bs = bot_settings

    def filter(self, update: Update) -> bool:
        """Whether the sender may ask."""
        user = update.effective_user
        return user is not None and self.bs.is_allowed(user.id, user.username)


class Admins(UpdateRule):
    """Users on TELEGRAM_ADMINS."""

    def __init__(self, bot_settings: BotSettings) -> None:
        super().__init__(name="Admins")
        self.bs = bot_settings

    def filter(self, update: Update) -> bool:
        """Whether the sender is an admin."""
        user = update.effective_user
        return user is not None and self.bs.is_admin(user.id, user.username)


class Unless(BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]):
    """Handles the updates a rule refuses, so that one handler stops them before any other sees them."""

    def __init__(self, rule: UpdateRule, callback: Callback) -> None:
        super().__init__(callback)
        self.rule = rule

    def check_update(self, update: object) -> bool:
        """Whether the update fails the rule."""
        return isinstance(update, Update) and not self.rule.check_update(update)


async def note_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Remember the newest update fetched, whatever becomes of it, to confirm it on stop."""
    state = state_of(context)
    state.last_update_id = max(update.update_id, state.last_update_id or 0)


async def drop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ignore the update: it is not for us."""
    raise ApplicationHandlerStop


async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Refuse a user outside the allowlist: an alert on buttons, one message per user otherwise."""
    user = update.effective_user
    assert user is not None
    log.info("Refused user %s", user.id)
    message = update.effective_message
    if update.callback_query is not None:
        await update.callback_query.answer(REFUSAL, show_alert=True)
    elif message is not None and state_of(context).first_refusal(user.id):
        await send(context, message.chat_id, escape(REFUSAL), reply_to=message)
    raise ApplicationHandlerStop
