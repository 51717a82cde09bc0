"""Faults: a run's outputs are whole or absent, inputs are never replaced, the machine's problems
are plain messages (exit 2), files are owner-only from their creation.

Each kill test runs a previous check (a few rules only, so its files differ), then a full check
killed (SIGKILL) at one stage, and looks at OUT: either the new run's files are all there with a
complete manifest, or the previous run's files are exactly as they were."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cardcheck.errors import EnvironmentProblem, InputError
from cardcheck.ingest.checks import sha256
from cardcheck.outputs.staging import JOURNAL, PARTIAL, recover
from cardcheck.pipeline.options import CheckOptions
from cardcheck.pipeline.run import run_check

KILL_POINTS = ("read", "rules", "findings", "ledger", "workbook-save", "workbook", "manifest",
               "commit", "committed")


def cli(*args: str, env: dict[str, str] | None = None, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cardcheck", *args], capture_output=True, check=False,
                          text=True, env={**os.environ, **(env or {})}, timeout=300, **kw)  # type: ignore[call-overload]


def visible(out: Path) -> dict[str, str]:
    """OUT's files (not the ledger, not the partial folders) with their SHA-256."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())
            if p.is_file() and p.name != "cardcheck.db" and not p.name.startswith(".")}


def whole(out: Path) -> bool:
    """OUT holds one run whole: a complete manifest naming files that are all there, and
    findings.csv has the rows the manifest counts."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("complete") is not True:
        return False
    for path in manifest["outputs"].values():
        if not Path(path).is_file():
            return False
    rows = (out / "findings.csv").read_text(encoding="utf-8").count("\n") - 1
    return rows >= manifest["findings"]  # a quoted line break may add lines, never remove


@pytest.fixture
def county(demo_county, tmp_path: Path) -> Path:
    """A private copy of a small demo county (the tests write beside it)."""
    folder = tmp_path / "county"
    shutil.copytree(demo_county(300, 5), folder)
    return folder


@pytest.fixture
def previous(county: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    out = tmp_path / "out"
    done = cli("check", "--inputs", str(county), "--out", str(out), "--rules", "C01,C05", "-q")
    assert done.returncode == 0, done.stderr
    return out, visible(out)


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_killed_run_leaves_the_previous_files_or_the_new_ones_whole(
        county: Path, previous: tuple[Path, dict[str, str]], point: str) -> None:
    out, before = previous
    done = cli("check", "--inputs", str(county), "--out", str(out), "-q",
               env={"CARDCHECK_KILL_AT": point})
    assert done.returncode == -9, (point, done.returncode, done.stderr)
    now = visible(out)
    if (out / JOURNAL).exists():  # killed between the renames: the next run completes them
        assert point == "commit"
        recover(out)
        now = visible(out)
        assert now != before and whole(out)
    elif point == "committed":
        assert now != before and whole(out)
    else:
        assert now == before, point
        assert whole(out)
    # the next run sweeps what the killed one left, and writes whole
    again = cli("check", "--inputs", str(county), "--out", str(out), "-q")
    assert again.returncode == 0, again.stderr
    assert whole(out)
    assert not list(out.glob(f"{PARTIAL}*")) and not (out / JOURNAL).exists()


def test_killed_at_random_times_never_leaves_a_mix(
        county: Path, previous: tuple[Path, dict[str, str]]) -> None:
    out, before = previous
    t0 = time.perf_counter()
    assert cli("check", "--inputs", str(county), "--out", str(out), "-q").returncode == 0
    took = time.perf_counter() - t0
    state = visible(out)  # the full run's files
    for share in (0.35, 0.6, 0.8, 0.9, 0.97):
        proc = subprocess.Popen([sys.executable, "-m", "cardcheck", "check", "--inputs",
                                 str(county), "--out", str(out), "-q"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(took * share)
        proc.kill()
        proc.wait()
        if (out / JOURNAL).exists():
            recover(out)
        now = visible(out)
        assert whole(out), share
        # the same inputs give the same findings; only the manifest's times and the ledger's
        # run number may differ between two whole runs
        assert now["findings.csv"] == state["findings.csv"]
    assert before != state


def test_a_full_disk_leaves_no_partial_file_and_the_previous_run(
        county: Path, previous: tuple[Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    from cardcheck.report import excel

    out, before = previous

    def full(self: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(out / "x.xlsx"))

    monkeypatch.setattr(excel.Writer, "close", full)
    opts = CheckOptions(roll=None, accounts=None, payments=[], out=out, inputs=county, quiet=True)
    with pytest.raises(EnvironmentProblem, match="磁盘已满"):
        run_check(opts)
    assert visible(out) == before
    assert not list(out.glob(f"{PARTIAL}*"))


def _tmpfs(path: Path, size: str, *flags: str) -> bool:
    """A small tmpfs at `path` (root only, where the sandbox allows mounts)."""
    path.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    options = ",".join([f"size={size}", *flags])
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True, check=False).returncode == 0


def test_a_real_full_disk_is_exit_2_and_leaves_nothing(county: Path, tmp_path: Path) -> None:
    small = tmp_path / "small"
    if not _tmpfs(small, "400k"):
        pytest.skip("cannot mount a small tmpfs here (the patched writer test covers it)")
    try:
        out = small / "out"
        done = cli("check", "--inputs", str(county), "--out", str(out), "-q")
        assert done.returncode == 2, done.stderr
        assert "磁盘已满" in done.stderr and "Traceback" not in done.stderr
        left = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
        assert all(p.name == "cardcheck.db" for p in left), left
    finally:
        subprocess.run(["umount", str(small)], capture_output=True, check=False)


def test_an_out_folder_holding_the_inputs_never_replaces_one(county: Path) -> None:
    inputs = json_free_inputs(county)
    pays = inputs["payments"]
    named = county / "findings.csv"
    pays.rename(named)  # the payments file happens to be called findings.csv
    digest = sha256(named)
    done = cli("check", "--roll", str(inputs["roll"]), "--accounts", str(inputs["accounts"]),
               "--payments", str(named), "--out", str(county), "-q")
    assert done.returncode == 2, done.stderr
    assert "findings.csv" in done.stderr and "Traceback" not in done.stderr
    assert hashlib.sha256(named.read_bytes()).hexdigest() == digest
    assert not (county / "manifest.json").exists()


def test_an_output_hard_linked_to_an_input_is_refused(county: Path, tmp_path: Path) -> None:
    inputs = json_free_inputs(county)
    out = tmp_path / "out"
    out.mkdir()
    os.link(inputs["payments"], out / "rejects.csv")  # another name, the same file
    digest = sha256(inputs["payments"])
    done = cli("check", "--roll", str(inputs["roll"]), "--accounts", str(inputs["accounts"]),
               "--payments", str(inputs["payments"]), "--out", str(out), "-q")
    assert done.returncode == 2 and "rejects.csv" in done.stderr, done.stderr
    assert hashlib.sha256(inputs["payments"].read_bytes()).hexdigest() == digest


def test_the_ledger_may_not_be_an_input(county: Path, tmp_path: Path) -> None:
    inputs = json_free_inputs(county)
    opts = CheckOptions(roll=inputs["roll"], accounts=inputs["accounts"],
                        payments=[inputs["payments"]], out=tmp_path / "out",
                        ledger=inputs["payments"], quiet=True)
    with pytest.raises(InputError, match="--ledger"):
        run_check(opts)


def json_free_inputs(county: Path) -> dict[str, Path]:
    """The roll, accounts and payments files the demo's inputs.yaml names."""
    import yaml

    names = yaml.safe_load((county / "inputs.yaml").read_text(encoding="utf-8"))
    first = {k: (v[0] if isinstance(v, list) else v) for k, v in names.items()
             if k in ("roll", "accounts", "payments")}
    return {k: county / str(v) for k, v in first.items()}


def test_the_manifest_hashes_the_bytes_that_were_read(
        county: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file appended to after it was read is recorded as read, not as it is at the end."""
    from cardcheck.pipeline import run as pipeline

    inputs = json_free_inputs(county)
    pays = inputs["payments"]
    size, digest = pays.stat().st_size, sha256(pays)

    def grow(name: str) -> None:
        if name == "read":
            with open(pays, "ab") as fh:
                fh.write(b"\r\n" * 10)

    monkeypatch.setattr(pipeline, "failpoint", grow)
    out = tmp_path / "out"
    run_check(CheckOptions(roll=None, accounts=None, payments=[], out=out, inputs=county,
                           quiet=True))
    files = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["input_files"]
    record = next(f for f in files["payments"] if Path(f["path"]).name == pays.name)
    assert record == {"path": str(pays.resolve()), "size": size, "sha256": digest}
    assert pays.stat().st_size == size + 20


def test_a_ledger_held_by_another_run_is_exit_2_and_changes_nothing(
        previous: tuple[Path, dict[str, str]], county: Path) -> None:
    out, before = previous
    holder = sqlite3.connect(out / "cardcheck.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another run writing
    try:
        done = cli("check", "--inputs", str(county), "--out", str(out), "-q")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 2, done.stderr
    assert "另一个 cardcheck 正在使用这个台账" in done.stderr
    assert "not a cardcheck ledger" not in done.stderr
    assert visible(out) == before


def test_a_damaged_ledger_stops_the_run_before_any_output_changes(
        previous: tuple[Path, dict[str, str]], county: Path) -> None:
    out, before = previous
    (out / "cardcheck.db").write_bytes(b"not a database" * 100)
    done = cli("check", "--inputs", str(county), "--out", str(out), "-q")
    assert done.returncode == 2, done.stderr
    assert visible(out) == before


def test_files_are_owner_only_from_creation_and_existing_folders_keep_their_mode(
        county: Path, tmp_path: Path) -> None:
    out = tmp_path / "shared"
    out.mkdir()
    out.chmod(0o755)
    ledger = tmp_path / "new" / "deeper" / "ledger.db"
    done = cli("check", "--inputs", str(county), "--out", str(out), "--ledger", str(ledger), "-q")
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o755  # not chmod'ed behind the user's back
    for p in [*out.iterdir(), ledger]:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    assert stat.S_IMODE(ledger.parent.stat().st_mode) == 0o700


def test_a_failed_run_with_a_new_ledger_folder_leaves_it_owner_only(
        county: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cardcheck.report import excel

    def broken(self: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(excel.Writer, "close", broken)
    ledger = tmp_path / "ledgers" / "county.db"
    opts = CheckOptions(roll=None, accounts=None, payments=[], out=tmp_path / "out",
                        inputs=county, ledger=ledger, quiet=True)
    with pytest.raises(EnvironmentProblem, match="只读"):
        run_check(opts)
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o600
    assert stat.S_IMODE(ledger.parent.stat().st_mode) == 0o700
    assert not [p for p in (tmp_path / "out").iterdir() if p.name != ".."]


def test_a_read_only_out_folder_is_exit_2_not_a_bug(county: Path, tmp_path: Path) -> None:
    out = tmp_path / "ro"
    if os.geteuid() == 0:  # root writes into a 0500 folder: a read-only file system then
        if not _tmpfs(out, "1m", "ro"):
            pytest.skip("root, and no read-only tmpfs can be mounted here")
        why = "只读"
    else:
        out.mkdir()
        out.chmod(0o500)
        why = "没有权限"
    try:
        done = cli("check", "--inputs", str(county), "--out", str(out), "-q",
                   "--ledger", str(tmp_path / "ledger.db"))
        assert done.returncode == 2 and why in done.stderr, done.stderr
        assert "bug" not in done.stderr
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(out)], capture_output=True, check=False)


def test_every_command_creates_owner_only_files_and_folders(county: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert cli("check", "--inputs", str(county), "--out", str(out), "-q").returncode == 0
    db = str(out / "cardcheck.db")
    key = tmp_path / "key"
    key.write_bytes(os.urandom(32))
    made = {
        "graph": (["graph", "--run", str(out), "--out", str(tmp_path / "g" / "x.graphml")],
                  tmp_path / "g"),
        "sample": (["sample", "--ledger", db, "--out", str(tmp_path / "s"), "--seed", "3"],
                   tmp_path / "s"),
        "export": (["ledger", "export", "--ledger", db, "--out", str(tmp_path / "e")],
                   tmp_path / "e"),
        "tokenize": (["tokenize", "--key-file", str(key), str(county), str(tmp_path / "t")],
                     tmp_path / "t"),
    }
    for name, (args, folder) in made.items():
        done = cli(*args)
        assert done.returncode == 0, (name, done.stderr)
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, name
        files = [p for p in folder.rglob("*") if p.is_file()]
        assert files, name
        for p in files:
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, (name, p)
        assert not [p for p in folder.rglob(f"{PARTIAL}*")], name


def test_a_workbook_that_fails_to_save_leaves_the_last_good_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import polars as pl

    from cardcheck.report.excel import Writer
    from cardcheck.report.spec import SheetSpec

    path = tmp_path / "book.xlsx"
    sheet = SheetSpec("s", "t", (("a", "A"),))
    first = Writer(path)
    first.table(sheet, pl.DataFrame({"a": ["one"]}), "")
    first.close()
    good = path.read_bytes()
    second = Writer(path)
    second.table(sheet, pl.DataFrame({"a": ["two"] * 1000}), "")

    def full(*a: object, **k: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(second.wb, "_store_workbook", full)
    with pytest.raises(OSError):
        second.close()
    assert path.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]
