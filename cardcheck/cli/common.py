"""What every command does with an error: a plain message and its exit code, never a
traceback on screen.

The machine's problems are the user's to fix, not bugs: an OSError (disk full, no permission,
a read-only file system), the ledger held by another run, memory exhausted — exit 2 with a
plain message. Anything else unexpected is a bug: exit 3, its traceback in a file."""

from __future__ import annotations

import sqlite3
import tempfile
import traceback
from pathlib import Path

import typer

from cardcheck.errors import CardcheckError, EnvironmentProblem, ExitCode


def fail(error: CardcheckError) -> None:
    """Print an inspector-readable error (never a traceback) and exit with its code; the file
    names and cells it quotes with their control characters made visible."""
    from cardcheck.masking import terminal_text

    typer.echo(f"cardcheck: error: {terminal_text(error, newlines=True)}", err=True)
    raise typer.Exit(int(error.exit_code))


def environment_problem(error: BaseException) -> CardcheckError | None:
    """The plain message for an error of the machine, or None for a bug."""
    if isinstance(error, CardcheckError):
        return error
    if isinstance(error, OSError):
        return EnvironmentProblem.from_os(error, "cardcheck")
    if isinstance(error, sqlite3.OperationalError) and (
            "locked" in str(error).lower() or "busy" in str(error).lower()):
        return EnvironmentProblem.ledger_busy("（台账）")
    if isinstance(error, sqlite3.DatabaseError):
        return EnvironmentProblem(f"台账文件已损坏或不是 cardcheck 台账（{error}）")
    if isinstance(error, MemoryError):
        return EnvironmentProblem("内存不足：这台机器的内存放不下这些文件；请先用 cardcheck "
                                  "normalise 分部分处理，再用 check --canonical 核查")
    return None


def internal_error(error: Exception, out: Path | None) -> None:
    """An unexpected error: the machine's problems as a plain message (exit 2); a bug as its
    type on screen, the traceback (no local values) in a file (exit 3)."""
    plain = environment_problem(error)
    if plain is not None:
        fail(plain)
    folder = out if out is not None and out.is_dir() else Path(tempfile.gettempdir())
    report = folder / "cardcheck-crash.txt"
    try:
        report.write_text("".join(traceback.format_exception(error)), encoding="utf-8")
        report.chmod(0o600)
        where = f"; details for the developers in {report}"
    except OSError:
        where = ""
    typer.echo(f"cardcheck: internal error ({type(error).__name__}): this is a bug in cardcheck, "
               f"not in your files{where}", err=True)
    raise typer.Exit(int(ExitCode.INTERNAL))
