"""What every reader checks before it trusts a file: that it is a regular file, not too large,
and (for text) that no line is longer than a line can reasonably be (cardcheck/limits.py).

A FIFO would block the reader for ever (no writer), a device such as /dev/zero (also through a
symlink) never ends, a directory cannot be read: each is refused from its `stat`, before it is
opened, naming what it is. The file is then opened without blocking and checked again on the
open descriptor, so a path swapped between the two looks is refused too.
"""

from __future__ import annotations

import os
import stat as st
from pathlib import Path

from cardcheck.errors import InputError
from cardcheck.limits import MB, Limits, over_limit

KINDS = (  # (test, what the path is) for everything that is not a regular file
    (st.S_ISDIR, "是一个文件夹，不是文件；请给出文件夹里的某个文件"),
    (st.S_ISFIFO, "是命名管道（FIFO），不是普通文件；请先把内容保存成文件"),
    (st.S_ISCHR, "是字符设备（如 /dev/zero），不是普通文件"),
    (st.S_ISBLK, "是块设备（磁盘），不是普通文件"),
    (st.S_ISSOCK, "是套接字（socket），不是普通文件"),
)
READ_BLOCK = 1 << 24  # bytes read at a time past the size the file had when opened


def _what(mode: int) -> str:
    for test, what in KINDS:
        if test(mode):
            return what
    return "不是普通文件"


def _refuse(path: Path, mode: int) -> InputError:
    link = ""
    if path.is_symlink():
        try:
            link = f"（符号链接，指向 {os.path.realpath(path)}）"
        except OSError:
            link = "（符号链接）"
    return InputError(f"{path}{link}：{_what(mode)}")


def check_file(path: Path, limits: Limits) -> os.stat_result:
    """The file's stat when `path` is a regular file within `limits.file_mb`; else InputError
    (missing, no permission, a directory, FIFO, device or socket, too large). Nothing is
    opened."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path}：文件不存在") from None
    except OSError as exc:
        raise InputError(f"{path}：无法读取（{exc.strerror}）") from None
    if not st.S_ISREG(info.st_mode):
        raise _refuse(path, info.st_mode)
    _check_size(path, info.st_size, limits)
    return info


def _check_size(path: Path, size: int, limits: Limits) -> None:
    if size > limits.file_mb * MB:
        raise over_limit(path.name, f"文件大小 {size / MB:,.0f} MB", "file_mb", limits.file_mb,
                         " MB")


def read_file(path: Path, limits: Limits, most: int | None = None
              ) -> tuple[bytes, os.stat_result, bool]:
    """(the bytes, the stat of the open file, whether they are the whole file) of a regular file
    within the limits; at most `most` bytes when given. InputError as `check_file`, and for a
    file that grows past the limit while it is read."""
    check_file(path, limits)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{path}：文件不存在") from None
    except OSError as exc:
        raise InputError(f"{path}：无法读取（{exc.strerror}）") from None
    with open(fd, "rb", closefd=True) as fh:
        info = os.fstat(fd)
        if not st.S_ISREG(info.st_mode):  # replaced since it was looked at
            raise _refuse(path, info.st_mode)
        _check_size(path, info.st_size, limits)
        try:
            if most is not None:
                data = fh.read(most)
                return data, info, len(data) < most or not fh.read(1)
            data = fh.read(info.st_size)
            more = fh.read(1)
            if more:  # grown since, or a file whose size says nothing (/proc)
                parts = [data, more]
                total = len(data) + 1
                while block := fh.read(READ_BLOCK):
                    total += len(block)
                    _check_size(path, total, limits)
                    parts.append(block)
                data = b"".join(parts)
        except OSError as exc:
            raise InputError(f"{path}：无法读取（{exc.strerror}）") from None
    return data, info, True


def check_lines(data: bytes, name: str, limits: Limits) -> None:
    """InputError when a line of `data` (a text file's bytes; line breaks LF, CRLF or CR) is
    longer than limits.line_mb.

    Not a scan of every line: a line longer than the limit holds a whole window of half the
    limit without a line break, windows laid end to end from the start, so one `find` per window
    (each stops at the first break, a few hundred bytes in) finds every candidate; only those
    are measured."""
    limit = limits.line_mb * MB
    size = len(data)
    if size <= limit:
        return
    half = max(limit // 2, 1)
    pos = 0
    while pos + half <= size:
        end = pos + half
        if data.find(b"\n", pos, end) >= 0 or data.find(b"\r", pos, end) >= 0:
            pos = end
            continue
        first = max(data.rfind(b"\n", 0, pos), data.rfind(b"\r", 0, pos)) + 1
        stops = [i for i in (data.find(b"\n", end), data.find(b"\r", end)) if i >= 0]
        last = min(stops, default=size)
        if last - first > limit:
            line = data.count(b"\n", 0, first) + 1 if b"\n" in data[:first] else \
                data.count(b"\r", 0, first) + 1
            raise over_limit(name, f"第 {line} 行长 {(last - first) / MB:,.1f} MB（中间没有换行）",
                             "line_mb", limits.line_mb, " MB")
        pos = last + 1
