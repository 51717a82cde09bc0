"""Errors an inspector may see, and the process exit codes (documented in the README)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of every cardcheck command."""

    OK = 0  # ran; findings or not
    FINDINGS = 1  # findings at or above --fail-on
    INPUT = 2  # bad input, bad config or bad usage: nothing was checked
    INTERNAL = 3  # a bug in cardcheck; the traceback goes to a file, not the screen


class CardcheckError(Exception):
    """An error with a message written for an inspector; never shown as a traceback."""

    exit_code: ExitCode = ExitCode.INPUT


class InputError(CardcheckError):
    """An input file cannot be read or lacks what the run needs."""


class ConfigError(CardcheckError):
    """A configuration file is malformed; the message names the file and the key."""
