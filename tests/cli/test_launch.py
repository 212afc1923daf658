"""The console script's launcher: Ctrl-C while modules load ends the run as Ctrl-C later does, without a traceback."""

from __future__ import annotations

import importlib.abc
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from bot import launch

ROOT = Path(__file__).resolve().parents[2]


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
    assert launch.main(end_by_signal=False) == launch.INTERRUPTED == 130


def test_ctrl_c_before_the_command_line_catches_it_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.cli

    def interrupted_parser() -> object:
        raise KeyboardInterrupt  # main() builds its parser before its own handler is in place

    monkeypatch.setattr(bot.cli, "build_parser", interrupted_parser)
    assert launch.main(end_by_signal=False) == 130


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


def _interrupted_script(tmp_path: Path, how: str) -> Path:
    """A script running the launcher over a command line whose first step is interrupted (`how`)."""
    script = tmp_path / "interrupted.py"
    script.write_text(
        "import os, signal, sys, time\n"
        "import bot.cli\n"
        "from bot import launch\n"
        "def interrupted_parser():\n"
        f"    {how}\n"
        "bot.cli.build_parser = interrupted_parser\n"
        "print('partial output', flush=False)\n"
        "sys.exit(launch.main())\n",
        encoding="utf-8",
    )
    return script


def test_a_run_ctrl_c_stopped_ends_by_sigint(tmp_path: Path) -> None:
    script = _interrupted_script(tmp_path, "raise KeyboardInterrupt")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == -signal.SIGINT
    assert run.stdout == "partial output\n" and run.stderr == ""  # printed output is flushed first


def test_ctrl_c_in_a_shell_loop_stops_the_loop(tmp_path: Path) -> None:
    # A terminal's Ctrl-C reaches the shell and the command; a command that then exits with a plain 130
    # tells bash it handled the interrupt itself, and the loop went on to the next file (a21).
    script = _interrupted_script(tmp_path, "os.killpg(0, signal.SIGINT); time.sleep(10)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    loop = subprocess.run(
        ["bash", "-c", f'for i in 1 2 3; do "{sys.executable}" "{script}"; echo "went on after $i"; done'],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        start_new_session=True,  # the shell and its commands are the group the interrupt reaches
    )
    assert loop.stdout == "partial output\n"
    assert loop.returncode == -signal.SIGINT


def test_ctrl_c_left_pending_as_the_run_returns_ends_it_by_sigint(tmp_path: Path) -> None:
    # Ctrl-C that also ended what fed `usru ask` could land as its last read saw the end of input: it waited
    # for the interpreter's shutdown, printed "Exception ignored … KeyboardInterrupt" and the exit was 0 (a22).
    # Here the command returns 0 with the signal still held by the kernel.
    how = "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}); os.kill(os.getpid(), signal.SIGINT); return 0"
    script = _interrupted_script(tmp_path, how)
    script.write_text(
        script.read_text().replace(
            "bot.cli.build_parser = interrupted_parser", "bot.cli.main = interrupted_parser"
        )
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert (run.returncode, run.stdout, run.stderr) == (-signal.SIGINT, "partial output\n", "")


def test_a_finished_run_keeps_its_status_and_sigint_is_let_go(tmp_path: Path) -> None:
    script = _interrupted_script(tmp_path, "return 0")
    script.write_text(
        script.read_text()
        .replace("bot.cli.build_parser = interrupted_parser", "bot.cli.main = interrupted_parser")
        .replace(
            "sys.exit(launch.main())",
            "status = launch.main(); print(signal.getsignal(signal.SIGINT) == signal.SIG_DFL, signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, set())); sys.exit(status)",
        )
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert (run.returncode, run.stdout, run.stderr) == (0, "partial output\nTrue False\n", "")


@pytest.mark.parametrize("closed", [1, 2])
def test_a_run_started_with_its_output_closed_keeps_its_status(tmp_path: Path, closed: int) -> None:
    # With the descriptor closed Python's stream is None, and flushing it failed: status 1, a traceback (a23).
    script = _interrupted_script(tmp_path, "return 0")
    script.write_text(
        script.read_text()
        .replace("bot.cli.build_parser = interrupted_parser", "bot.cli.main = interrupted_parser")
        .replace("print('partial output', flush=False)\n", "")
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        timeout=60,
        stdout=subprocess.DEVNULL if closed == 2 else None,
        stderr=subprocess.DEVNULL if closed == 1 else subprocess.PIPE,
        preexec_fn=lambda: os.close(closed),
    )
    assert run.returncode == 0
