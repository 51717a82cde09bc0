"""What every command does with an error: a plain message and its exit code, never a
traceback on screen."""

from __future__ import annotations

import tempfile
import traceback
from pathlib import Path

import typer

from cardcheck.errors import CardcheckError, ExitCode


def fail(error: CardcheckError) -> None:
    """Print an inspector-readable error (never a traceback) and exit with its code; the file
    names and cells it quotes with their control characters made visible."""
    from cardcheck.masking import terminal_text

    typer.echo(f"cardcheck: error: {terminal_text(error, newlines=True)}", err=True)
    raise typer.Exit(int(error.exit_code))


def internal_error(error: Exception, out: Path | None) -> None:
    """An unexpected error: the type on screen, the traceback (no local values) in a file."""
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
