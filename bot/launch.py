"""The `usru` console script: Ctrl-C while the program's modules load is handled like Ctrl-C later.

`bot.cli.main` turns Ctrl-C into exit status 130 once it runs, but loading its modules (pydantic, rich,
numpy) takes about half a second first, and an interrupt there printed a traceback (a20). The script then
ends by SIGINT itself, as a shell expects of a command Ctrl-C stopped: a plain exit status of 130 tells
bash and xargs the command handled the interrupt, and `for f in …; do usru import "$f"; done` went on to
the next file (a21). Python's own start-up, before any of usru's code runs (about 0.1 s), stays out of
reach: an interrupt there ends the interpreter with its own message.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

INTERRUPTED = 130  # 128 + SIGINT: bot.cli.main's status for a run Ctrl-C stopped


def main(*, end_by_signal: bool = True) -> int:
    """Load the command line and run it; stopped by Ctrl-C, end by SIGINT (or return 130 if told not to)."""
    try:
        from bot.cli import main as run_cli

        status = run_cli()
    except KeyboardInterrupt:
        status = INTERRUPTED
    if status == INTERRUPTED and end_by_signal:
        end_by_sigint()
    return status


def end_by_sigint() -> None:
    """End this process by SIGINT with its default action, after flushing what was printed."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed or broken stream: nothing can reach it
            stream.flush()
    if sys.platform == "win32":  # no default SIGINT action to take there: the status says it
        return
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)


if __name__ == "__main__":
    sys.exit(main())
