"""Where canonical tables and run outputs live: a local folder, or a URL that only Spark reaches.

`store_for(location, engine)` gives one small interface for both: list a folder, read a small
text file, copy a local file there. URLs (hdfs://, s3a://, abfs://, file:// …) go through the
Hadoop FileSystem of the Spark session, so they work wherever the cluster's own jobs do.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from cardcheck.errors import CardcheckError

URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(location: str) -> bool:
    return bool(URL.match(str(location)))


def local_path(location: str) -> str | None:
    """The local path of a plain path or a file:// URL; None for any other URL."""
    if location.startswith("file://"):
        return location.removeprefix("file://") or "/"
    return None if is_url(location) else location


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


class LocalStore:
    def __init__(self, root: str) -> None:
        self.root = root

    def exists(self, path: str) -> bool:
        return Path(path).exists()

    def entries(self, path: str) -> list[tuple[str, bool]]:
        """(name, is_folder) of everything in a folder, sorted by name."""
        return sorted((p.name, p.is_dir()) for p in Path(path).iterdir())

    def is_dir(self, path: str) -> bool:
        return Path(path).is_dir()

    def read_text(self, path: str) -> str:
        return Path(path).read_text(encoding="utf-8")

    def put(self, local: Path, target: str) -> None:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, target)


class HadoopStore:
    """The Hadoop FileSystem behind a Spark session (classic PySpark, through its JVM)."""

    def __init__(self, root: str, spark: Any) -> None:
        self.root = root
        try:
            self.jvm = spark._jvm
            self.conf = spark._jsc.hadoopConfiguration()
        except AttributeError:
            raise CardcheckError(f"{root}: this Spark session gives no access to the Hadoop "
                                 "file system (Spark Connect?); copy the folder locally") from None

    def _fs(self, path: str) -> tuple[Any, Any]:
        p = self.jvm.org.apache.hadoop.fs.Path(path)
        return p.getFileSystem(self.conf), p

    def exists(self, path: str) -> bool:
        fs, p = self._fs(path)
        return bool(fs.exists(p))

    def is_dir(self, path: str) -> bool:
        fs, p = self._fs(path)
        return bool(fs.exists(p) and fs.getFileStatus(p).isDirectory())

    def entries(self, path: str) -> list[tuple[str, bool]]:
        fs, p = self._fs(path)
        return sorted((str(s.getPath().getName()), bool(s.isDirectory()))
                      for s in fs.listStatus(p))

    def read_text(self, path: str) -> str:
        fs, p = self._fs(path)
        stream = fs.open(p)
        try:
            data = self.jvm.org.apache.commons.io.IOUtils.toByteArray(stream)
        finally:
            stream.close()
        return bytes(data).decode("utf-8")

    def put(self, local: Path, target: str) -> None:
        fs, p = self._fs(target)
        fs.copyFromLocalFile(False, True, self.jvm.org.apache.hadoop.fs.Path(str(local)), p)


def store_for(location: str, engine: Any, what: str) -> LocalStore | HadoopStore:
    """A store for `location`; a URL other than file:// needs --engine spark (`what` names the
    option in the message)."""
    if not is_url(location):
        return LocalStore(location)
    if getattr(engine, "name", "") == "spark":
        return HadoopStore(location, engine.spark)
    local = local_path(location)
    if local is not None:
        return LocalStore(local)
    raise CardcheckError(f"{what} {location}: only --engine spark reads and writes URLs like "
                         f"{location.split('://')[0]}://; with --engine "
                         f"{getattr(engine, 'name', '?')} give a local folder (copy it down "
                         "first) or add --engine spark")
