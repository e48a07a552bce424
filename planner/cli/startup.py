"""The first thing the `rrplan` command runs: Ctrl-C or SIGTERM while Python is still importing ends quietly.

Importing the planner (pandas, PuLP, HiGHS, matplotlib) takes a second or more; a Ctrl-C then
used to print a raw KeyboardInterrupt traceback from deep inside an import. `planner/__init__.py`
imports this module before anything else; when the process is the `rrplan` command (the console
script, or `python -m planner.cli.main`) it installs handlers that print one line and exit with
130 (SIGINT) or 143 (SIGTERM) at once, nothing having been read or written yet. `cli.main.main`
replaces them with the ones that stop a solve cleanly. A library user's process is left alone.
Standard library only, so it is ready within milliseconds.
"""

from __future__ import annotations

import os
import signal
import sys


def started_as_command() -> bool:
    """True in the `rrplan` console script and in `python -m planner.cli.main`."""
    original = getattr(sys, "orig_argv", sys.argv)
    script = os.path.basename(sys.argv[0]) if sys.argv else ""
    return script in ("rrplan", "rrplan.exe") or any(
        flag == "-m" and module == "planner.cli.main" for flag, module in zip(original, original[1:], strict=False)
    )


def _end_quietly(number: int, frame) -> None:
    os.write(2, b"rrplan: interrupted while starting; nothing was done\n")
    os._exit(128 + number)


if started_as_command():
    for _number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(_number, _end_quietly)
