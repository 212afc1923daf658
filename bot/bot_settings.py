"""Settings of the Telegram bot, read from TELEGRAM_* environment variables and `.env`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from retrieval.errors import UsruError
from retrieval.settings import check_env_files, refuse_digit_separators

TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{30,}$")
DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_EXAMPLES = (
    "What did Putin say about relations with the United States?",
    "Is Russia ready for dialogue with Washington?",
    "How bad are US-Russia relations, according to the articles?",
)


class BotSettingsError(UsruError):
    """A TELEGRAM_* setting is missing or invalid."""


def _split(value: Any, sep: str = ",") -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(sep) if part.strip()]
    return value


class BotSettings(BaseSettings):
    """How the bot talks to Telegram and whom it serves."""

    # Empty values mean "use the default", as in .env.example.
    model_config = SettingsConfigDict(
        env_prefix="TELEGRAM_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
        # A nan or infinite delay or rate would wait forever or never.
        allow_inf_nan=False,
    )

    bot_token: SecretStr | None = None
    # User ids or @usernames; empty means everyone may ask.
    allowed_users: Annotated[list[str], NoDecode] = Field(default_factory=list)
    admins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    rate_limit_per_minute: int = Field(default=6, ge=1, le=1000)
    api_base_url: str = DEFAULT_API_BASE_URL
    # Telegram's own server needs no setting; a self-hosted one serves files beside the API.
    api_base_file_url: str | None = None
    webhook_url: str | None = None
    # Random per start when unset: Telegram learns it from setWebhook, nobody else needs it.
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    # Defaults to the path of webhook_url, which suits a reverse proxy passing paths through.
    webhook_path: str | None = None
    # Several `usru bot` workers on one port: the kernel spreads Telegram's connections over them
    # (SO_REUSEPORT, Linux). Off by default, so a forgotten second bot cannot silently share the port.
    webhook_reuse_port: bool = False
    # Telegram drops bots that send more than about one message a second to one chat.
    chat_messages_per_second: float = Field(default=1.0, gt=0)
    # Telegram allows a bot about 30 messages a second in all: with N workers, give each 30/N.
    messages_per_second: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=3, ge=0, le=10)
    retry_backoff_s: float = Field(default=1.0, ge=0)
    read_timeout_s: float = Field(default=10.0, gt=0)
    poll_timeout_s: int = Field(default=30, ge=0, le=50)
    answer_workers: int = Field(default=4, ge=1, le=64)
    answer_timeout_s: float = Field(default=120.0, gt=0)
    example_questions: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(DEFAULT_EXAMPLES))
    # TELEGRAM_WATCH=true: watch the sources folder, re-index when articles change, tell the admins.
    watch: bool = False
    watch_debounce_s: float = Field(default=1.0, gt=0, le=600)
    # Where the answers behind buttons are kept so that buttons work after a restart (SQLite, never
    # pickle); empty means `<USRU_INDEX_DIR>/telegram-answers.sqlite3`.
    state_file: Path | None = None

    def __init__(self, **values: Any) -> None:
        # A .env that is not UTF-8 is named in one sentence, not a bare UnicodeDecodeError.
        check_env_files(values.get("_env_file", self.model_config.get("env_file")))
        try:
            super().__init__(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = "TELEGRAM_" + "_".join(str(p) for p in first["loc"][:1]).upper()
            raise BotSettingsError(f"{name} is invalid: {first['msg']}.") from exc

    @field_validator("*", mode="before")
    @classmethod
    def _plain_numbers(cls, value: object, info: ValidationInfo) -> object:
        return refuse_digit_separators(cls, value, info)

    @field_validator("allowed_users", "admins", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return _split(value, ",")

    @field_validator("example_questions", mode="before")
    @classmethod
    def _bar_list(cls, value: Any) -> Any:
        return _split(value, "|")

    @field_validator("api_base_url", "webhook_url", "api_base_file_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and urlparse(value).scheme not in ("http", "https"):
            raise ValueError("it must be an http:// or https:// URL")
        return value

    def token(self) -> str:
        """The bot token; raises BotSettingsError (without echoing it) when missing or malformed."""
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise BotSettingsError(
                "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and put its token in .env "
                "or the environment."
            )
        token = self.bot_token.get_secret_value().strip()
        if not TOKEN_RE.match(token):
            raise BotSettingsError(
                "TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then at least 30 "
                "letters, digits, '-' or '_'): copy it again from @BotFather."
            )
        return token

    def file_url(self) -> str:
        """Base URL for file downloads, next to the API base URL."""
        if self.api_base_file_url:
            return self.api_base_file_url
        if self.api_base_url.endswith("/bot"):
            return self.api_base_url[: -len("/bot")] + "/file/bot"
        return self.api_base_url.rstrip("/") + "/file/bot"

    def url_path(self) -> str:
        """The path the webhook server listens on."""
        if self.webhook_path is not None:
            return self.webhook_path.strip("/")
        return urlparse(self.webhook_url or "").path.strip("/")

    def is_allowed(self, user_id: int, username: str | None) -> bool:
        """Whether this user may ask questions."""
        if not self.allowed_users:
            return True
        return _matches(self.allowed_users, user_id, username) or self.is_admin(user_id, username)

    def is_admin(self, user_id: int, username: str | None) -> bool:
        """Whether this user may run admin commands such as /reindex."""
        return _matches(self.admins, user_id, username)

    def admin_chat_ids(self) -> list[int]:
        """The admins listed by numeric id: a bot can only start a private chat with an id, not a @name."""
        ids = []
        for entry in self.admins:
            e = entry.strip()
            if e.lstrip("-").isdigit() and int(e) not in ids:
                ids.append(int(e))
        return ids


def _matches(entries: list[str], user_id: int, username: str | None) -> bool:
    name = (username or "").lower()
    for entry in entries:
        e = entry.strip().lstrip("@").lower()
        if e.lstrip("-").isdigit():
            if int(e) == user_id:
                return True
        elif name and e == name:
            return True
    return False
