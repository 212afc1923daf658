"""The console script's launcher: Ctrl-C while modules load ends with status 130 and no traceback."""

from __future__ import annotations

import importlib.abc
import sys
from types import ModuleType

import pytest

from bot import launch


class _InterruptOnLoad(importlib.abc.MetaPathFinder):
    """Raises KeyboardInterrupt when the command line's module is loaded, as Ctrl-C does mid-import."""

    def find_spec(self, fullname: str, path: object, target: ModuleType | None = None) -> None:
        if fullname == "bot.cli":
            raise KeyboardInterrupt
        return None


def test_ctrl_c_while_the_command_line_loads_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "bot.cli", raising=False)
    monkeypatch.delattr("bot.cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_InterruptOnLoad(), *sys.meta_path])
    assert launch.main() == launch.INTERRUPTED == 130


def test_ctrl_c_before_the_command_line_catches_it_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.cli

    def interrupted_parser() -> object:
        raise KeyboardInterrupt  # main() builds its parser before its own handler is in place

    monkeypatch.setattr(bot.cli, "build_parser", interrupted_parser)
    assert launch.main() == 130


def test_the_launcher_runs_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["usru", "--help"])
    with pytest.raises(SystemExit) as exit_:
        launch.main()
    assert exit_.value.code == 0
    assert "usage: usru" in capsys.readouterr().out


def test_the_console_script_is_the_launcher() -> None:
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "usru"]
    assert script.value == "bot.launch:main"
