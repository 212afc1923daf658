"""Every setting is documented in .env.example, and where `.env` files are read from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import AliasChoices

from bot.bot_settings import BotSettings
from retrieval.settings import Settings, env_files
from tests.conftest import REPO


def setting_names() -> list[str]:
    """The environment variable of every setting: Settings' first alias, TELEGRAM_ + each bot field."""
    names = []
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        assert isinstance(alias, AliasChoices)
        names.append(str(alias.choices[0]))
    names += ["TELEGRAM_" + name.upper() for name in BotSettings.model_fields]
    # Read by retrieval/prompts.py, not a pydantic field.
    return [*names, "USRU_PROMPTS_DIR"]


def test_every_setting_is_in_env_example() -> None:
    listed = set(re.findall(r"^([A-Z_]+)=", (REPO / ".env.example").read_text(encoding="utf-8"), re.M))
    missing = [name for name in setting_names() if name not in listed]
    assert not missing, f".env.example lacks {missing}"
    assert len(setting_names()) >= 35


def test_env_files_are_read_from_the_user_config_folder_then_the_current_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("USRU_MAX_QUOTES", "USRU_HISTORY_TURNS"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    (config / "usru").mkdir(parents=True)
    (config / "usru" / ".env").write_text("USRU_MAX_QUOTES=2\nUSRU_HISTORY_TURNS=7\n", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.chdir(work)
    assert env_files() == (config / "usru" / ".env", Path(".env"))
    settings = Settings(_env_file=env_files())
    assert (settings.max_quotes, settings.history_turns) == (2, 7)
    (work / ".env").write_text("USRU_MAX_QUOTES=3\n", encoding="utf-8")
    settings = Settings(_env_file=env_files())
    assert (settings.max_quotes, settings.history_turns) == (3, 7), "./.env wins over the user's"
    monkeypatch.setenv("USRU_MAX_QUOTES", "5")
    assert Settings(_env_file=env_files()).max_quotes == 5, "the environment wins over both"
