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
    try:
        if interrupted_meanwhile(keep_blocked=end_by_signal):
            status = INTERRUPTED
    except KeyboardInterrupt:  # a pending one, run as the call began
        status = INTERRUPTED
    if end_by_signal:
        end(status)
    return status


def interrupted_meanwhile(*, keep_blocked: bool) -> bool:
    """Whether a Ctrl-C came that no code has acted on yet; SIGINT stays blocked after if `keep_blocked`.

    Ctrl-C that also ends what feeds `usru ask` on stdin can land as its last read sees the end of input:
    the read returns, the interrupt waits for the next Python call, and that came only in the interpreter's
    shutdown, which printed "Exception ignored … KeyboardInterrupt" and exited 0, so a shell loop went on (a22).
    """
    if not hasattr(signal, "pthread_sigmask"):
        return False
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    interrupted = signal.SIGINT in signal.sigpending()
    try:
        _run_pending_handlers()
    except KeyboardInterrupt:
        interrupted = True
    if not keep_blocked:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    return interrupted


def _run_pending_handlers() -> None:
    """Nothing: calling a Python function runs the signal handlers whose signals have come (CPython)."""


def end(status: int) -> None:
    """Flush the output; end by SIGINT if interrupted, else leave SIGINT to its default action and return."""
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with that descriptor closed (`usru sources >&-`, a23)
            continue
        with contextlib.suppress(OSError, ValueError):  # a closed or broken stream: nothing can reach it
            stream.flush()
    if not hasattr(signal, "pthread_sigmask"):  # no blocked SIGINT to let go of, nor a default action
        return
    # From here a Ctrl-C ends the process at once, by SIGINT: the work is done and its output flushed, and
    # one during the interpreter's shutdown printed a traceback.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if status == INTERRUPTED:
        os.kill(os.getpid(), signal.SIGINT)  # delivered, with its default action, as it is unblocked
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


if __name__ == "__main__":
    sys.exit(main())
