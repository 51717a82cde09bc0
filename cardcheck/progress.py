"""Progress on long steps: a rich status line on a terminal, nothing when quiet or piped. Steps
and warnings name input files and quote their cells: shown through `terminal_text`, never read
as markup."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Self

from rich.console import Console
from rich.status import Status
from rich.text import Text

from cardcheck.masking import terminal_text


class Progress:
    def __init__(self, quiet: bool = False, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = not quiet
        self.live = self.enabled and self.console.is_terminal
        self._status: Status | None = None
        self._t0 = time.perf_counter()

    def __enter__(self) -> Self:
        if self.live:
            self._status = self.console.status("cardcheck …")
            self._status.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._status is not None:
            self._status.__exit__(exc_type, exc, tb)
            self._status = None

    def step(self, message: str) -> None:
        """Announce the step now starting."""
        if not self.enabled:
            return
        if self._status is not None:
            self._status.update(Text(f"{terminal_text(message)} …"))
        else:
            elapsed = time.perf_counter() - self._t0
            print(f"[{elapsed:6.1f}s] {terminal_text(message)}", file=sys.stderr, flush=True)

    def warn(self, text: str) -> None:
        """A warning line on stderr, printed even when quiet (it may change what the user does)."""
        self.console.print(f"cardcheck: warning: {terminal_text(text, newlines=True)}",
                           soft_wrap=True, markup=False, highlight=False, emoji=False)
