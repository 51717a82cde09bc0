"""Errors an inspector may see, and the process exit codes (documented in the README)."""

from __future__ import annotations

import errno
from enum import IntEnum
from typing import ClassVar


class ExitCode(IntEnum):
    """Exit codes of every cardcheck command."""

    OK = 0  # ran; findings or not
    FINDINGS = 1  # findings at or above --fail-on
    INPUT = 2  # bad input, bad config, bad usage, or the machine (disk full, no permission)
    INTERNAL = 3  # a bug in cardcheck; the traceback goes to a file, not the screen


class CardcheckError(Exception):
    """An error with a message written for an inspector; never shown as a traceback."""

    exit_code: ExitCode = ExitCode.INPUT


class InputError(CardcheckError):
    """An input file cannot be read or lacks what the run needs."""


class ConfigError(CardcheckError):
    """A configuration file is malformed; the message names the file and the key."""


class EnvironmentProblem(CardcheckError):
    """The machine, not the files: disk full, no permission, a read-only file system, the ledger
    in use by another run. The previous run's outputs are left as they were."""

    WHY: ClassVar[dict[int, str]] = {
        errno.ENOSPC: "磁盘已满（no space left on device）",
        errno.EDQUOT: "磁盘配额已用完（disk quota exceeded）",
        errno.EACCES: "没有权限（permission denied）",
        errno.EPERM: "没有权限（operation not permitted）",
        errno.EROFS: "文件系统只读（read-only file system）",
        errno.ENOENT: "路径不存在（no such file or folder）",
        errno.ENOTDIR: "路径中有一项不是文件夹（not a directory）",
        errno.EISDIR: "是文件夹，不是文件（is a directory）",
        errno.EMFILE: "打开的文件太多（too many open files）",
        errno.EIO: "读写设备出错（input/output error）",
    }

    @classmethod
    def from_os(cls, exc: OSError, where: str) -> EnvironmentProblem:
        why = cls.WHY.get(exc.errno or 0, exc.strerror or type(exc).__name__)
        name = f"（{exc.filename}）" if exc.filename else ""
        return cls(f"{where}：{why}{name}；上一次的结果文件保持不变")

    @classmethod
    def ledger_busy(cls, path: object) -> EnvironmentProblem:
        return cls(f"--ledger {path}：另一个 cardcheck 正在使用这个台账（database is locked）；"
                   "等它结束后再运行，台账和上一次的结果都没有改动")
