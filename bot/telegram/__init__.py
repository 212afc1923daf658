"""The Telegram front end: a thin adapter from PTB updates to one conversation per chat.

`app` wires everything; `access` holds who may talk to the bot (PTB filters), `questions`, `buttons`
and `commands` the handlers, `transport` flood control and retries, `answers` the answers behind
buttons (kept on disk, so buttons work after a restart), `state` what the handlers share.
"""
