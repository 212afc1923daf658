"""The `usru` console script: Ctrl-C while the program's modules load ends it quietly too.

`bot.cli.main` turns Ctrl-C into exit status 130 once it runs, but loading its modules (pydantic, rich,
numpy) takes about half a second first, and an interrupt there printed a traceback (a20).
"""

from __future__ import annotations

import sys

INTERRUPTED = 130  # 128 + SIGINT, as shells report a command Ctrl-C ended


def main() -> int:
    """Load the command line and run it; 130 if interrupted at any point."""
    try:
        from bot.cli import main as run_cli

        return run_cli()
    except KeyboardInterrupt:
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
