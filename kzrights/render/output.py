"""Writing the output: once, to stdout, through a pager when a person would lose its top.

The pager follows git: on a terminal, output taller than the screen goes through
``$KZRIGHTS_PAGER``, else ``$PAGER``, else ``less -R`` (with ``LESS=FRX`` when ``LESS`` is
unset: quit at once when it fits, keep the text on the screen after quitting, colours
through); ``KZRIGHTS_PAGER=`` (empty) or ``--no-pager`` turns it off. Never in a pipe.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from ..safe import clean

DEFAULT_PAGER = "less -R"


def terminal() -> tuple[int, bool, bool]:
    """Width for wrapping, whether to colour (only on a terminal, without ``NO_COLOR``) and
    whether stdout is a terminal at all."""
    import shutil

    tty = sys.stdout.isatty()
    color = tty and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
    return shutil.get_terminal_size((80, 24)).columns, color, tty


def pager_command(
    lines: int, tty: bool, height: int, enabled: bool = True, env: Mapping[str, str] = os.environ
) -> list[str] | None:
    """The pager to run for output of ``lines`` lines, or None to write it straight out:
    only on a terminal (``tty``), only when it is taller than the screen (``height`` rows, one
    kept for the prompt), never when turned off (``--no-pager``, ``KZRIGHTS_PAGER=``)."""
    if not enabled or not tty or lines < height:
        return None
    command = env["KZRIGHTS_PAGER"] if "KZRIGHTS_PAGER" in env else env.get("PAGER") or DEFAULT_PAGER
    import shlex

    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    return words if words and words != ["cat"] else None


def show(text: str, styled: bool = False, pager: bool = True) -> None:
    """Write ``text`` to stdout, through the pager when ``pager_command`` says so. Text is
    cleaned (``safe.clean``) unless ``styled``: text carrying our own colour codes, whose
    every piece of data was cleaned as it was drawn."""
    text = text if styled else clean(text)
    import shutil

    command = pager_command(text.count("\n"), sys.stdout.isatty(), shutil.get_terminal_size((80, 24)).lines, pager)
    if command is None or not _page(command, text):
        sys.stdout.write(text)


def _page(command: list[str], text: str) -> bool:
    """Run the pager on ``text``; False when it cannot be started (then the text is written
    as it is). Ctrl-C belongs to the pager while it runs, as in git."""
    import signal
    import subprocess

    sys.stdout.flush()
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    env.setdefault("LV", "-c")
    try:
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, env=env)
    except OSError:
        return False
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert proc.stdin is not None
        proc.stdin.write(text.encode(sys.stdout.encoding or "utf-8", "replace"))
        proc.stdin.close()
    except OSError:  # the reader quit before reading it all
        pass
    finally:
        proc.wait()
        signal.signal(signal.SIGINT, previous)
    return True
