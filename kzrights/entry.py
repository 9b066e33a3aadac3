"""The console entry point, kept apart from ``cli`` so that it wraps the whole process.

A query is one short process that makes no reference cycles worth collecting, so the cyclic
garbage collector only costs time: it rescans every imported object (typer's, rich's) many
times over while modules load, and once more in full when the interpreter shuts down. So it
is off, and once the answer is written and flushed the process ends at once with its exit
code (``os._exit``), skipping a teardown that frees nothing the system would not.
"""


def main() -> None:
    import contextlib
    import gc
    import os
    import sys

    gc.disable()
    from .cli import main as cli_main

    try:
        cli_main()
        code = 0
    except SystemExit as exc:  # click always ends with one
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            sys.stderr.write(f"{exc.code}\n")
            code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError):  # the reader went away: nothing more to say
            stream.flush()
    os._exit(code)
