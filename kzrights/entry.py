"""The console entry point, kept apart from ``cli`` so that it runs before the imports.

A query is one short process that makes no reference cycles worth collecting, so the
cyclic garbage collector only costs time (it rescans every imported object, typer's
included, many times over: about a third of a run). It is off for the whole process.
"""


def main() -> None:
    import gc

    gc.disable()
    from .cli import main as cli_main

    cli_main()
