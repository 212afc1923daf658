"""A bad setting, settings file or path is one sentence on stderr that shows what the user gave (a16)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from bot import cli
from bot.bot_settings import BotSettings
from bot.cli import main
from retrieval.errors import UsruError
from retrieval.settings import Settings
from tests.conftest import copy_seeds


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current folder with the seeds, no usru settings in the environment and no user .env."""
    for key in list(os.environ):
        if key.startswith(("USRU_", "TELEGRAM_")) or key in ("EMBEDDING_MODEL", "COLUMNS"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing")
    work = tmp_path / "work"
    work.mkdir()
    copy_seeds(work / "seeds")
    monkeypatch.chdir(work)
    return work


def one_error_line(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert code == 2, captured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("usru: ")
    return lines[0]


def test_the_value_shown_is_the_one_given_not_the_normalised_one(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USRU_EMBED_PRECISION", "bf\x1b[31mRED")
    line = one_error_line(capsys, "sources")
    assert "USRU_EMBED_PRECISION is 'bf\\x1b[31mRED'" in line, line
    monkeypatch.setenv("USRU_EMBED_PRECISION", "   ")
    line = one_error_line(capsys, "sources")
    assert "USRU_EMBED_PRECISION is '   '" in line, line


def test_a_value_from_a_env_file_is_shown_as_written(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / ".env").write_text("USRU_VECTORS=Two-Pass\n", encoding="utf-8")
    line = one_error_line(capsys, "sources")
    assert "USRU_VECTORS is 'Two-Pass'" in line, line


def test_a_long_value_is_cut_with_an_ellipsis(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USRU_MAX_QUOTES", "9" * 50 + "x" * 50)
    line = one_error_line(capsys, "sources")
    assert f"USRU_MAX_QUOTES is '{'9' * 50}{'x' * 10}'…" in line, line
    assert "(100 characters)" in line


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_non_finite_timeout_asks_for_a_finite_number(
    value: str, workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USRU_LLM_TIMEOUT", value)
    line = one_error_line(capsys, "sources")
    assert f"USRU_LLM_TIMEOUT is '{value}'" in line, line
    assert "finite number" in line and "600" not in line, line


@pytest.mark.parametrize("value", ["nan", "inf", "-5", "3"])
def test_min_relevance_out_of_range_or_not_finite_is_refused(
    value: str, workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USRU_MIN_RELEVANCE", value)
    line = one_error_line(capsys, "sources")
    assert f"USRU_MIN_RELEVANCE is '{value}'" in line, line


@pytest.mark.parametrize("value", ["0", "0.57", "1.2", "2"])
def test_min_relevance_in_range_is_accepted(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USRU_MIN_RELEVANCE", value)
    assert Settings(_env_file=None).min_relevance == float(value)


@pytest.mark.parametrize(
    ("name", "value"),
    [("USRU_MIN_RELEVANCE", "1_0"), ("USRU_MAX_QUOTES", "1_0"), ("USRU_LLM_TIMEOUT", "1_0.5")],
)
def test_a_number_written_with_underscores_is_refused_as_typed(
    name: str, value: str, workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python reads "1_0" as 10: USRU_MIN_RELEVANCE=1_0 became a floor of 10 and refused everything."""
    monkeypatch.setenv(name, value)
    line = one_error_line(capsys, "sources")
    assert f"The setting {name} is '{value}': it should be a number" in line, line


def test_bot_number_settings_refuse_underscores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_PORT", "8_443")
    with pytest.raises(UsruError, match=r"TELEGRAM_WEBHOOK_PORT is invalid: .*without underscores"):
        BotSettings(_env_file=None)


def test_text_settings_keep_their_underscores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USRU_LLM", "openai:gpt_4")
    assert Settings(_env_file=None).llm == "openai:gpt_4"


def test_bot_float_settings_refuse_infinity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_RETRY_BACKOFF_S", "inf")  # passes ge=0: only allow_inf_nan stops it
    with pytest.raises(UsruError, match=r"TELEGRAM_RETRY_BACKOFF_S is invalid: .*finite"):
        BotSettings(_env_file=None)


def test_a_env_file_that_is_not_utf8_is_named_in_one_sentence(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / ".env").write_bytes(b"USRU_MAX_QUOTES=\xff\n")
    line = one_error_line(capsys, "sources")
    assert ".env is not UTF-8 text" in line, line


def test_a_env_line_that_cannot_be_parsed_is_named_once_by_file_line_and_setting(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """python-dotenv warned twice, naming no file, and the setting was dropped: the command ran anyway."""
    (workdir / ".env").write_text('USRU_VECTORS=two-passes\nUSRU_MAX_QUOTES="3\n', encoding="utf-8")
    line = one_error_line(capsys, "sources")
    assert "Line 2 of the settings file .env (USRU_MAX_QUOTES) cannot be read" in line, line
    assert '"3' not in line, line  # the value is never shown: it may be an API key


def test_the_bot_settings_name_a_env_line_that_cannot_be_parsed(workdir: Path) -> None:
    (workdir / ".env").write_text("TELEGRAM_ADMINS='42\n", encoding="utf-8")
    with pytest.raises(UsruError, match=r"Line 1 of the settings file \.env \(TELEGRAM_ADMINS\)"):
        BotSettings()


def test_the_bot_settings_name_a_env_file_that_is_not_utf8(workdir: Path) -> None:
    (workdir / ".env").write_bytes(b"TELEGRAM_ADMINS=\xff\n")
    with pytest.raises(UsruError, match=r"\.env is not UTF-8 text"):
        BotSettings()


def test_a_too_long_index_folder_name_is_one_sentence(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_error_line(capsys, "--index-dir", "x" * 300, "ask", "hi")
    assert "too long" in line.lower(), line


@pytest.mark.parametrize("command", [["ask", "hi"], ["index"], ["sources"]])
def test_a_long_index_folder_in_an_error_sentence_is_cut_keeping_its_end(
    command: list[str], workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The core's sentences ("Cannot read the index at …") printed all 300 characters of --index-dir."""
    index_dir = "x" * 300 + "/my-index"
    line = one_error_line(capsys, "--index-dir", index_dir, *command)
    assert "x" * 100 not in line and "…" in line and "/my-index (309 characters)" in line, line


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (errno.ENAMETOOLONG, "too long"),
        (errno.ENOTDIR, "not a folder"),
        (errno.ELOOP, "links"),
        (errno.ENOENT, "does not exist"),
        (errno.EACCES, "permission denied"),
        (errno.EROFS, "read-only"),
    ],
)
def test_a_path_the_system_refuses_anywhere_in_a_command_is_one_sentence_with_the_path_shortened(
    code: int,
    reason: str,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Wherever it is raised (the ONNX export under a 300-character --index-dir, with the real model)."""
    long_path = "/tmp/" + "x" * 300 + "/model.onnx"

    def refuse(*_args: object) -> int:
        raise OSError(code, os.strerror(code), long_path)

    monkeypatch.setitem(cli.COMMANDS, "sources", refuse)
    line = one_error_line(capsys, "sources")
    assert reason in line and "x" * 100 not in line and "…" in line and "model.onnx" in line, line


def test_an_index_folder_under_a_file_is_one_sentence(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "plain").write_text("not a folder\n", encoding="utf-8")
    line = one_error_line(capsys, "--index-dir", "plain/index", "ask", "hi")
    assert "plain/index" in line, line


def test_an_index_folder_that_cannot_be_made_is_one_sentence(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # With the real model the ONNX export's folder was claimed first, and that raised a traceback (a17).
    line = one_error_line(capsys, "--index-dir", "/proc/self/idx", "index")
    assert "/proc/self/idx" in line, line


@pytest.mark.parametrize("code", [errno.EIO, errno.ENOSPC])
def test_a_file_that_fails_to_read_or_write_is_named_not_taken_for_the_output(
    code: int, workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An I/O error on the model's export while embedding said "Could not write the output" (a24)."""

    def fail(*_args: object) -> int:
        raise OSError(code, os.strerror(code), "/models/export/model.onnx")

    monkeypatch.setitem(cli.COMMANDS, "sources", fail)
    line = one_error_line(capsys, "sources")
    assert "/models/export/model.onnx" in line and os.strerror(code) in line and "the output" not in line, (
        line
    )
