"""A run's files are whole or absent: written under a partial folder inside OUT, then renamed into
place, the manifest last.

- `Staging.open` makes OUT (0700 when cardcheck creates it; an existing folder keeps its mode),
  finishes an interrupted commit, removes partial folders of runs that are no longer alive, and
  makes this run's partial folder `.cardcheck-partial-<pid>-<token>` (0700).
- Writers write into `staging.folder`; nothing under OUT's own names changes until `commit`.
- `commit` refuses to replace an input file (by path and by inode), writes a journal naming the
  renames, renames every file, manifest.json last, then removes the journal and the partial
  folder. A process killed during the renames leaves the journal; the next run into OUT (or
  `recover`) completes them, so OUT then holds the new run whole.
- `abort` (any failure before the commit) removes the partial folder: the previous run's files
  stay exactly as they were.

Every file is created 0600 from the start: the pipeline runs under `private_umask`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from cardcheck.atomic import PARTIAL_MARK
from cardcheck.errors import EnvironmentProblem, InputError
from cardcheck.faults import failpoint

PARTIAL = PARTIAL_MARK
JOURNAL = ".cardcheck-commit.json"
LAST = "manifest.json"  # renamed last: its presence with "complete": true marks a whole run


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _replace(src: Path, dst: Path) -> None:
    """Rename src over dst; a folder (Spark's part files) over an old folder of that name."""
    if src.is_dir() and dst.is_dir() and not dst.is_symlink():
        trash = dst.with_name(f"{PARTIAL}old-{secrets.token_hex(4)}-{dst.name}")
        os.replace(dst, trash)
        os.replace(src, dst)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(src, dst)


def recover(out: Path) -> list[str]:
    """Complete a commit a killed run left half done; returns the names it moved."""
    journal = out / JOURNAL
    if not journal.is_file():
        return []
    try:
        plan = json.loads(journal.read_text(encoding="utf-8"))
        folder = out / str(plan["folder"])
        names = [str(n) for n in plan["names"]]
    except (OSError, ValueError, KeyError, TypeError):
        journal.unlink(missing_ok=True)  # a journal cut short: the commit never began
        return []
    moved = []
    for name in names:
        src = folder / name
        if src.exists():
            _replace(src, out / name)
            moved.append(name)
    _fsync_dir(out)
    journal.unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    return moved


class Staging:
    """This run's partial folder in OUT; see the module docstring."""

    def __init__(self, out: Path, inputs: Iterable[Path] = (), url: str | None = None) -> None:
        self.out = Path(out)
        self.url = url.rstrip("/") if url else None  # the files are copied there after commit
        self.inputs = [Path(p) for p in inputs]
        self.folder = self.out  # until open()
        self.recovered: list[str] = []
        self.created_out = False

    def open(self) -> Staging:
        try:
            if not self.out.exists():
                self.out.mkdir(parents=True, mode=0o700)
                self.created_out = True
            elif not self.out.is_dir():
                raise InputError(f"--out {self.out}: is a file, expected a folder")
            self.recovered = recover(self.out)
            self._sweep()
            self.folder = self.out / f"{PARTIAL}{os.getpid()}-{secrets.token_hex(4)}"
            self.folder.mkdir(mode=0o700)
        except OSError as exc:
            raise EnvironmentProblem.from_os(exc, f"--out {self.out}") from None
        return self

    def _sweep(self) -> None:
        """Remove partial folders whose run is no longer alive (killed, or the machine died)."""
        for entry in self.out.glob(f"{PARTIAL}*"):
            pid_text = entry.name[len(PARTIAL):].split("-", 1)[0]
            if pid_text.isdigit() and _alive(int(pid_text)) and int(pid_text) != os.getpid():
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)

    def path(self, name: str) -> Path:
        return self.folder / name

    def final(self, staged: Path | str) -> Path | str:
        """Where a staged file will stand after the commit (and after the copy to the URL)."""
        name = Path(staged).name
        return f"{self.url}/{name}" if self.url else self.out / name

    def check_inputs(self, names: Iterable[str]) -> None:
        """InputError when an output name in OUT is one of the inputs (same path or inode)."""
        inputs = {i for i in (_identity(p) for p in self.inputs) if i is not None}
        resolved = {p.resolve() for p in self.inputs}
        for name in names:
            target = self.out / name
            if target.resolve() in resolved or (_identity(target) in inputs):
                raise InputError(
                    f"--out {self.out}: {name} there is one of this run's input files; writing "
                    "the results would replace it. Give --out a folder of its own for the results")

    def commit(self) -> list[Path]:
        """Rename every staged file into OUT (manifest.json last); returns the final paths."""
        names = sorted(p.name for p in self.folder.iterdir())
        names.sort(key=lambda n: n == LAST)
        self.check_inputs(names)
        try:
            journal = self.folder / JOURNAL
            journal.write_text(json.dumps({"folder": self.folder.name, "names": names}),
                               encoding="utf-8")
            os.replace(journal, self.out / JOURNAL)  # the journal whole, or not there
            _fsync_dir(self.out)
            for i, name in enumerate(names):
                _replace(self.folder / name, self.out / name)
                if i == 0:
                    failpoint("commit")
            _fsync_dir(self.out)
            (self.out / JOURNAL).unlink(missing_ok=True)
            self.folder.rmdir()
        except OSError as exc:
            raise EnvironmentProblem.from_os(exc, f"--out {self.out}") from None
        return [self.out / n for n in names]

    def abort(self) -> None:
        if self.folder != self.out:
            shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def staged(out: Path, inputs: Iterable[Path] = (), url: str | None = None) -> Iterator[Staging]:
    """A Staging for the block: committed when the block ends well, aborted on any failure."""
    staging = Staging(out, inputs, url).open()
    try:
        yield staging
        staging.commit()
    except OSError as exc:  # the machine's: disk full, no permission, read-only
        staging.abort()
        raise EnvironmentProblem.from_os(exc, f"写入 --out {out} 时") from None
    except BaseException:
        staging.abort()
        raise
