"""The console entry point, kept apart from ``cli`` so that it wraps the whole process.

A query is one short process that makes no reference cycles worth collecting, so the cyclic
garbage collector only costs time: it rescans every imported object (typer's, rich's) many
times over while modules load, and once more in full when the interpreter shuts down. So it
is off, and once the answer is written and flushed the process ends at once with its exit
code (``os._exit``), skipping a teardown that frees nothing the system would not.

It also owns the standard streams, so that every command ends the same way whatever they are:

- the reader of stdout went away (``| head -1``): the rest of the output is dropped, exit 0
  and nothing on stderr, as grep does;
- stdout closed (``>&-``) or full (``>/dev/full``): one line on stderr, exit 2;
- stderr closed or gone: messages are dropped, the exit code is what it would have been;
- Ctrl-C: one line on stderr, exit 130.
"""

from __future__ import annotations

import io  # io, os and sys are loaded with the interpreter: importing them here costs nothing
import os
import sys

INTERRUPTED = 130


class StdoutFailed(OSError):
    """stdout cannot take the output: closed, full, or failing."""


class _Sink(io.RawIOBase):
    """File descriptor 1 or 2 as the raw layer under ``sys.stdout``/``sys.stderr``.

    Nothing above it (our code, typer's help, rich's tables) then needs its own handling of
    a reader that went away: that output just vanishes. Any other failure of stdout becomes
    ``StdoutFailed``; stderr's failures are ignored (a message has nowhere else to go).
    """

    def __init__(self, fd: int, is_stdout: bool, closed: bool):
        super().__init__()
        self.fd = fd
        self.is_stdout = is_stdout
        self.closed_at_start = closed
        self.gone = False  # the reader went away

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.fd

    def isatty(self) -> bool:
        return not self.closed_at_start and os.isatty(self.fd)

    def write(self, data: bytes) -> int:  # type: ignore[override]
        n = len(memoryview(data))
        if self.gone:
            return n
        if self.closed_at_start:
            if self.is_stdout:
                raise StdoutFailed(9, "standard output is closed")
            return n
        try:
            return os.write(self.fd, data)
        except BrokenPipeError:
            self.gone = True
            return n
        except OSError as exc:
            if not self.is_stdout:
                self.gone = True
                return n
            raise StdoutFailed(exc.errno, exc.strerror) from None


def _guard_streams() -> _Sink:
    """Put ``_Sink``s under stdout and stderr. A standard descriptor that is closed is first
    pointed at /dev/null, so no file kzrights opens (a cache, an export) can take its number
    and receive output meant for the terminal."""
    closed = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.append(fd)
    for fd in closed:
        null = os.open(os.devnull, os.O_RDWR)
        if null != fd:  # the lowest free number: fd itself, when the lower ones are open
            os.dup2(null, fd)
            os.close(null)
    if 0 in closed or sys.stdin is None:
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115
    sinks = []
    for fd, name in ((1, "stdout"), (2, "stderr")):
        old = getattr(sys, name)
        sink = _Sink(fd, fd == 1, fd in closed or old is None)
        stream = io.TextIOWrapper(
            io.BufferedWriter(sink),  # type: ignore[type-var]
            encoding=getattr(old, "encoding", None) or "utf-8",
            errors=getattr(old, "errors", None) or ("strict" if fd == 1 else "backslashreplace"),
            line_buffering=bool(getattr(old, "line_buffering", False)) or fd == 2,
        )
        setattr(sys, name, stream)
        sinks.append(sink)
    return sinks[0]


def _interrupted(signum: int, frame: object) -> None:
    """Ctrl-C: one line and exit 130 at once, wherever the run is (an interrupt that lands in
    an import machinery callback would otherwise be printed and ignored). While a file is
    being written, it is a KeyboardInterrupt instead, so the temporary file is removed."""
    writer = sys.modules.get("kzrights.safe_write")
    if writer is not None and writer.busy:
        raise KeyboardInterrupt
    try:  # noqa: SIM105 (in a signal handler: no import)
        os.write(2, b"kzrights: interrupted\n")
    except OSError:
        pass
    os._exit(INTERRUPTED)


def run() -> int:
    """Run the command line; return the exit code (``main`` ends the process with it)."""
    stdout_failed: StdoutFailed | None = None
    try:
        import signal

        signal.signal(signal.SIGINT, _interrupted)
        _guard_streams()
        from .cli import main as cli_main

        cli_main()
        code = 0
    except SystemExit as exc:  # click always ends with one
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            sys.stderr.write(f"{exc.code}\n")
            code = 1
    except KeyboardInterrupt:
        code = INTERRUPTED
    except StdoutFailed as exc:
        stdout_failed, code = exc, 2
    if code == INTERRUPTED:  # typer turns Ctrl-C into exit 130 without a word
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C does not interrupt the goodbye
        sys.stderr.write("kzrights: interrupted\n")
    try:
        sys.stdout.flush()
    except StdoutFailed as exc:
        stdout_failed, code = stdout_failed or exc, 2
    except (OSError, ValueError):
        pass
    if stdout_failed is not None:
        sys.stderr.write(f"kzrights: cannot write to standard output: {stdout_failed.strerror}\n")
    try:  # noqa: SIM105 (contextlib is not imported yet when Ctrl-C comes during start-up)
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr gone: nothing to tell
        pass
    return code


def main() -> None:
    import gc

    gc.disable()
    os._exit(run())
