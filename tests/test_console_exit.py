"""The console entry ends the process without Python's teardown: what it prints through a pipe,
its exit codes and the exit handlers must come through all the same."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cardcheck.cli import exit_status


def cardcheck(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cardcheck", *args], capture_output=True,
                          text=True, encoding="utf-8", check=False, timeout=300)


@pytest.fixture(scope="module")
def demo(demo_county) -> Path:
    return demo_county(300, 3, clean=True)


def test_a_check_through_a_pipe_prints_everything(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = cardcheck("check", "--inputs", str(demo), "--out", str(out), "--no-excel")
    assert done.returncode == 0, done.stderr
    tail = done.stdout.rstrip().splitlines()[-4:]  # the recap comes last (maybe wrapped)
    assert any(line.startswith("小结：发现问题") for line in tail), done.stdout[-500:]
    assert "manifest.json" in done.stdout
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["findings"] > 0


def test_exit_codes_come_through(demo: Path, tmp_path: Path) -> None:
    found = cardcheck("check", "--inputs", str(demo), "--out", str(tmp_path / "a"), "--no-excel",
                      "-q", "--fail-on", "low")
    assert found.returncode == 1 and found.stdout == ""
    bad = cardcheck("check", "--inputs", str(demo), "--out", str(tmp_path / "b"),
                    "--stage", "年检")
    assert bad.returncode == 2
    assert "--stage" in bad.stderr and "自查自纠" in bad.stderr


def test_exit_handlers_run() -> None:
    code = ("import atexit, sys\nfrom cardcheck.cli import main\n"
            "atexit.register(lambda: print('handler ran'))\n"
            "sys.argv = ['cardcheck', '--help']\nmain()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0
    assert "Usage: cardcheck" in done.stdout and done.stdout.rstrip().endswith("handler ran")


def test_exit_status_as_python_gives_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_status(None) == 0
    assert exit_status(0) == 0 and exit_status(3) == 3
    assert exit_status("stopped") == 1
    assert capsys.readouterr().err == "stopped\n"


def test_a_profiler_still_gets_its_report(tmp_path: Path) -> None:
    stats = tmp_path / "cardcheck.prof"
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "cardcheck",
                           "--help"], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0 and "Usage: cardcheck" in done.stdout
    assert stats.stat().st_size > 0
