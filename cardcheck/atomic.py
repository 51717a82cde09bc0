"""A single output file whole or absent, and files owner-only from creation.

`written(path)` yields a temporary name beside `path` (same folder, so the rename is atomic);
when the block ends well the file is renamed over `path`, on any failure it is removed and
`path` is as it was. A run's many outputs use outputs/staging.py, built on the same idea.
`private_umask()`: within it, files are created 0600 and folders 0700."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

PARTIAL_MARK = ".cardcheck-partial-"


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """Files created 0600 and folders 0700 from the start (no window before a chmod)."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


@contextlib.contextmanager
def written(path: Path) -> Iterator[Path]:
    """A temporary path beside `path`, renamed over it when the block ends without error."""
    path = Path(path)
    tmp = path.with_name(f"{PARTIAL_MARK}{secrets.token_hex(4)}-{path.name}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
