"""The terminal summary: numbers shown, masking, skipped rules, hubs, profile; and that it fits
80, 100, 120 and 160 columns on two demo counties (no line too wide, no amount split, the
headline first, a bounded number of lines)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import polars as pl
import pytest
from rich.cells import cell_len
from rich.console import Console
from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.config import load_config
from cardcheck.engines.runner import run_rules
from cardcheck.example import CARDS, IDS, example_run
from cardcheck.ingest import load_inputs
from cardcheck.outputs.write import write_outputs
from cardcheck.pipeline.options import Timer, read_inputs_file
from cardcheck.progress import Progress
from cardcheck.report import summary as S
from cardcheck.report.terminal import SHOWN, SummaryInput, render

WIDTHS = (80, 100, 120, 160)
COUNTIES = [(300, 5), (400, 11)]
MAX_LINES = 70  # by default, whatever the county: the tables are bounded (SHOWN)
LONE_DECIMALS = re.compile(r"(^|\s)\.\d{2}(\s|$)")  # the tail of an amount cut in two


def summary(tmp_path: Path, width: int = 220, **options: object) -> str:
    buf = io.StringIO()
    run = example_run(tmp_path / "out", **options)
    write_outputs(run, Timer(), Progress(quiet=True), Console(file=buf, width=width))
    return buf.getvalue()


def cells(line: str) -> list[str]:
    """A table row's cells (the columns are set apart by runs of two or more spaces)."""
    return [c for c in re.split(r"\s{2,}", line.strip()) if c]


def test_summary_numbers(tmp_path: Path) -> None:
    text = summary(tmp_path)
    lines = text.splitlines()
    assert lines[1] == "核查 5 户 6 人 5 张卡，发放 15 笔 8,100.00 元"
    assert lines[2].startswith("发现问题 7 个，涉及 9,100.00 元")
    row = next(line for line in lines if line.startswith("C04 ") and "代管代取" in line)
    assert cells(row)[2:6] == ["2", "2", "0", "3,600.00"]
    total = next(line for line in lines if line.startswith("合计") and "9,100.00" in line)
    assert cells(total) == ["合计", "7", "9,100.00"]
    assert "未运行：E01 死亡人员领取（no deaths file）" in text  # skipped rule with its reason
    assert "跳过 1（合计行 1）" in text  # skipped input rows with the reason, in Chinese
    assert "无问题：C01、C07" in text
    town = next(line for line in lines if line.startswith("柳林镇"))
    assert cells(town) == ["柳林镇", "1", "2", "-", "-", "1", "4"]  # C03 C04 C05 E06 P03 合计
    assert lines[-1].startswith("小结：发现问题 7 个，涉及 9,100.00 元；明细见 cardcheck_")


def test_masked_by_default(tmp_path: Path) -> None:
    text = summary(tmp_path)
    assert "141125********0025" in text and "6228****0003" in text
    assert "持卡人 141125********001X" in text  # the hub, masked and in Chinese
    for value in [*IDS.values(), *CARDS.values()]:
        assert value not in text


def test_unmask_shows_full_numbers(tmp_path: Path) -> None:
    text = summary(tmp_path, unmask=True)
    assert IDS["d"] in text and CARDS["C"] in text and f"持卡人 {IDS['a']}" in text


def test_largest_amounts_and_hubs(tmp_path: Path) -> None:
    lines = summary(tmp_path).splitlines()
    hub = next(line for line in lines if line.startswith("持卡人 "))
    assert cells(hub)[1:] == ["C04", "2", "2", "3,600.00"]
    top = [line for line in lines if line.startswith(("e51bbb3d7be8", "a948757cbbf5"))]
    assert top and any("1,800.00" in line for line in top)


def test_profile_and_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "各阶段耗时" in summary(tmp_path, profile=True)
    assert "各阶段耗时" not in summary(tmp_path / "b")
    run = example_run(tmp_path / "q", quiet=True)
    write_outputs(run, Timer(), Progress(quiet=True))
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------- widths, on demo counties


@pytest.fixture(scope="module", params=COUNTIES, ids=[f"{n}-seed{s}" for n, s in COUNTIES])
def county(request: pytest.FixtureRequest, demo_county) -> SummaryInput:
    """A demo county read and checked (no outputs written), as the summary gets it."""
    config = load_config()
    inputs = load_inputs(read_inputs_file(demo_county(*request.param)), config)
    result = run_rules(inputs.frames, config)
    return SummaryInput(
        result.findings, inputs.frames, inputs.counts, result.runs, "自查自纠",
        outputs={"ledger": Path("检查结果/cardcheck.db"),
                 "findings": Path("检查结果/findings.csv"),
                 "workbook": Path("检查结果/cardcheck_141125_202301-202312.xlsx"),
                 "manifest": Path("检查结果/manifest.json")},
        ledger_line="台账 检查结果/cardcheck.db：第 1 次记录，本次 79 个问题，新增 79，"
                    "数据中已消除 0，不属实后证据变化重新核查 0")


def shown(s: SummaryInput, width: int, **changes: object) -> list[str]:
    buf = io.StringIO()
    for key, value in changes.items():
        setattr(s, key, value)
    try:
        render(Console(file=buf, width=width, color_system=None), s)
    finally:
        s.verbose = False
    return buf.getvalue().splitlines()


@pytest.mark.parametrize("width", WIDTHS)
def test_fits_the_width_with_no_amount_split(county: SummaryInput, width: int) -> None:
    lines = shown(county, width)
    too_wide = [line for line in lines if cell_len(line) > width]
    assert not too_wide, too_wide[:3]
    assert not [line for line in lines if LONE_DECIMALS.search(line)]
    text = "\n".join(lines)
    f = county.findings
    # every amount shown whole on one line: the total, each rule's, each township's shown
    total = S.yuan_text(int(f.get_column("amount").sum()))
    assert sum(total in line for line in lines) >= 3  # headline, 合计 rows, recap
    for r in S.by_rule(f, county.runs).filter(pl.col("count") > 0).iter_rows(named=True):
        row = next(line for line in lines if line.startswith(f"{r['rule']} "))
        assert row.rstrip().endswith(S.yuan_text(r["amount"])), row
    for t in S.by_township(f).head(SHOWN["townships"]).iter_rows(named=True):
        assert S.yuan_text(t["amount"]) in text or width >= 160  # the matrix has counts only


@pytest.mark.parametrize("width", WIDTHS)
def test_headline_first_recap_last_and_bounded(county: SummaryInput, width: int) -> None:
    lines = shown(county, width)
    f = county.findings
    total = S.yuan_text(int(f.get_column("amount").sum()))
    assert lines[0].startswith("cardcheck 核查结果")
    assert lines[2].startswith(f"发现问题 {f.height:,} 个，涉及 {total} 元")
    recap = next(i for i, line in enumerate(lines) if line.startswith("小结："))
    assert recap >= len(lines) - 3 and total in "".join(lines[recap:])
    assert len(lines) <= MAX_LINES, len(lines)
    everything = shown(county, width, verbose=True)
    assert len(everything) > len(lines)
    assert not [line for line in everything if cell_len(line) > width]
    assert "--verbose" not in "\n".join(everything)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_matrix_where_it_fits_else_the_workbook(county: SummaryInput, width: int) -> None:
    text = "\n".join(shown(county, width))
    if "乡镇 × 规则（问题数）" in text:
        codes = S.township_by_rule(county.findings).columns[1:-1]
        header = next(line for line in text.splitlines() if line.startswith("乡镇  "))
        assert cells(header) == ["乡镇", *codes, "合计"]  # one code per column, not stacked
    else:
        assert "各乡镇问题" in text
        assert "乡镇 × 规则全表此处放不下：" in text
        assert "「表1」（按问题类型）和「汇总」" in text.replace("\n  ", "")
    if width <= 120:  # 23 rules do not fit 120 columns
        assert "各乡镇问题" in text


def test_evidence_on_one_line_with_an_ellipsis(county: SummaryInput) -> None:
    lines = shown(county, 80)
    start = next(i for i, line in enumerate(lines) if line.startswith("涉及金额最大的问题"))
    rows = lines[start + 3:start + 3 + SHOWN["top"]]
    top = S.top_amounts(county.findings, SHOWN["top"]).get_column("finding_id").to_list()
    assert [r.split()[0] for r in rows] == top  # one line each, one after the other
    assert any(r.rstrip().endswith("…") for r in rows)


def test_check_honours_columns_through_a_pipe(demo_county, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["check", "--inputs", str(demo_county(300, 5)), "--out",
                                      str(out), "--no-excel"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()  # the progress lines go to stderr
    assert max(cell_len(line) for line in lines) <= 80
    assert lines[0].startswith("cardcheck 核查结果")
    assert any(line.startswith("小结：") for line in lines[-3:])
    assert "见工作簿（本次未写：去掉 --no-excel 即写出）" in result.stdout
    assert len(lines) <= MAX_LINES
