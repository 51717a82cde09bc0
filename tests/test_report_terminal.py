"""The terminal summary: numbers shown, masking, skipped rules, hubs, profile."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from cardcheck.example import CARDS, IDS, example_run
from cardcheck.outputs.write import write_outputs
from cardcheck.pipeline.options import Timer
from cardcheck.progress import Progress


def summary(tmp_path: Path, **options: object) -> str:
    buf = io.StringIO()
    run = example_run(tmp_path / "out", **options)
    write_outputs(run, Timer(), Progress(quiet=True), Console(file=buf, width=220))
    return buf.getvalue()


def test_summary_numbers(tmp_path: Path) -> None:
    text = summary(tmp_path)
    assert "核查 5 户 6 人 5 张卡，发放 15 笔 8,100.00 元；发现问题 7 个，涉及 9,100.00 元" in text
    lines = text.splitlines()
    row = next(line for line in lines if "│ C04 " in line and "代管代取" in line)
    assert [c.strip() for c in row.split("│")[3:7]] == ["2", "2", "0", "3,600.00"]
    total = next(line for line in lines if line.startswith("│ 合计") and "9,100.00" in line)
    assert "│      7 │" in total
    assert "未运行：no deaths file" in text  # skipped rule with its reason
    assert "total (合计) 1" in text  # skipped input rows with the reason
    town = next(line for line in lines if line.startswith("│ 柳林镇") and line.count("│") == 8)
    assert [c.strip() for c in town.split("│")[2:7]] == ["1", "2", "0", "0", "1"]


def test_masked_by_default(tmp_path: Path) -> None:
    text = summary(tmp_path)
    assert "141125********0025" in text and "6228****0003" in text
    assert "holder:141125********001X" in text  # the hub is masked too
    for value in [*IDS.values(), *CARDS.values()]:
        assert value not in text


def test_unmask_shows_full_numbers(tmp_path: Path) -> None:
    text = summary(tmp_path, unmask=True)
    assert IDS["d"] in text and CARDS["C"] in text and f"holder:{IDS['a']}" in text


def test_largest_amounts_and_hubs(tmp_path: Path) -> None:
    lines = summary(tmp_path).splitlines()
    hub = next(line for line in lines if "holder:" in line)
    assert [c.strip() for c in hub.split("│")[2:6]] == ["C04", "2", "2", "3,600.00"]
    top = [line for line in lines if "│ e51bbb3d7be8" in line or "│ a948757cbbf5" in line]
    assert any("550.00" in line for line in top)


def test_profile_and_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "各阶段耗时" in summary(tmp_path, profile=True)
    assert "各阶段耗时" not in summary(tmp_path / "b")
    run = example_run(tmp_path / "q", quiet=True)
    write_outputs(run, Timer(), Progress(quiet=True))
    assert capsys.readouterr().out == ""
