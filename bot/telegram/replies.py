"""The bot's fixed replies, in one place so that tests and handlers agree on the wording."""

from __future__ import annotations

REFUSAL = "Sorry, this bot only answers its approved users."
NOT_TEXT = "I can only read text. Please type your question as a message."
EDITED = "I answer new messages only, not edits: please send the corrected question as a new message."
EMPTY = "Please ask a question, for example: <i>What did Putin say about relations with the US?</i>"
ASK_USAGE = "Put the question after the command, for example: <code>/ask Is Russia ready for dialogue?</code>"
STALE = "That answer is no longer in my memory; please ask the question again."
UNKNOWN_BUTTON = "That button is not one of mine; please ask your question as a message."
WENT_WRONG = "Sorry, something went wrong on my side. Please try again in a moment."
TOO_SLOW = "Sorry, that took too long to answer. Please try again, perhaps with a shorter question."
NOT_ADMIN = "Only the bot's admins can re-index the articles."
