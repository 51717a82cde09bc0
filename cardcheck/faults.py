"""Named places where the fault-injection tests stop the process as a kill would.

`failpoint("rules")` does nothing unless the environment says CARDCHECK_KILL_AT=rules; then the
process sends itself SIGKILL there (no cleanup, no exit handlers: what a power cut or the
system's out-of-memory killer does)."""

from __future__ import annotations

import os
import signal


def failpoint(name: str) -> None:
    if os.environ.get("CARDCHECK_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
