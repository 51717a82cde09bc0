"""`cardcheck explain` on two demo counties: in Chinese, masked, with the facts a visit checks
(E08's official and 近亲属备案 row, C04's two phones), the finding's ledger status and history,
and the rule's checklist (configs/explain.yaml)."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from rich.console import Console
from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.cli.graph import explain
from cardcheck.config import load_config
from cardcheck.ingest import load_inputs
from cardcheck.ledger.store import Ledger
from cardcheck.masking import mask_value
from cardcheck.pipeline.options import CheckOptions, read_inputs_file
from cardcheck.pipeline.run import run_check

COUNTIES = [(300, 5), (300, 3)]
CONFIG = load_config()
runner = CliRunner()
Run = tuple[Path, Path, pl.DataFrame]  # (the county's folder, the run's folder, findings)


@pytest.fixture(scope="module")
def checked(demo_county, tmp_path_factory: pytest.TempPathFactory) -> Callable[[int, int], Run]:
    runs: dict[tuple[int, int], Run] = {}

    def run(households: int, seed: int) -> Run:
        if (households, seed) not in runs:
            folder = demo_county(households, seed)
            out = tmp_path_factory.mktemp(f"explain{households}_{seed}")
            code = run_check(CheckOptions(roll=None, accounts=None, payments=[], out=out,
                                          inputs=folder, quiet=True, excel=False))
            assert code == 0
            runs[households, seed] = folder, out, pl.read_csv(out / "findings.csv",
                                                              infer_schema=False)
        return runs[households, seed]

    return run


@pytest.fixture(scope="module", params=COUNTIES, ids=[f"{n}-seed{s}" for n, s in COUNTIES])
def county(request: pytest.FixtureRequest, checked: Callable[[int, int], Run]) -> Run:
    return checked(*request.param)


def shown(out: Path, finding_id: str, unmask: bool = False, ledger: Path | None = None,
          width: int = 120) -> str:
    buf = io.StringIO()
    explain(finding_id, out, unmask, console=Console(file=buf, width=width, color_system=None),
            ledger=ledger)
    text = buf.getvalue()
    assert all(len(line) <= width for line in text.splitlines())
    return text


def flat(text: str) -> str:
    """The output with the tree's guides and line breaks taken out (a label may wrap)."""
    return re.sub(r"[ ]*\n[│├└─ ]*", "", text)


def first(findings: pl.DataFrame, cond: pl.Expr) -> dict[str, str]:
    hit = findings.filter(cond)
    assert hit.height, f"no finding where {cond}"
    return hit.row(0, named=True)


@pytest.mark.parametrize("family", ["C", "P", "E"])
def test_one_finding_of_each_family_in_chinese_and_masked(county: Run, family: str) -> None:
    _, out, findings = county
    row = first(findings, pl.col("rule").str.starts_with(family)
                & pl.col("id_number").is_not_null() & pl.col("card_no").is_not_null())
    text = shown(out, row["finding_id"])
    for heading in ("对象", "台账（", "关联关系（", "走访核实清单（configs/explain.yaml）"):
        assert f"\n{heading}" in text, heading
    assert f"{row['rule']} {row['rule_name']}［" in text.splitlines()[0]
    assert f"□ 1. {CONFIG.checklist(row['rule'])[0]}" in flat(text)
    # no English label left: phone:, memo:generic, holder:, [high] …
    assert not re.search(r"[a-z_]{3,}:|\[(high|medium|low|warning)\]", text), text
    for raw in (row["id_number"], row["card_no"]):
        assert raw not in text
    assert mask_value("id", row["id_number"]) in text
    full = shown(out, row["finding_id"], unmask=True)
    assert row["id_number"] in full and row["card_no"] in full


def test_e08_shows_the_official_and_the_filing_row(county: Run) -> None:
    folder, out, findings = county
    relatives = pl.read_csv(folder / "近亲属备案.csv", infer_schema=False)
    filed = relatives.select(("official:" + pl.col("干部身份证号")).alias("hub"),
                             pl.col("亲属身份证号").alias("id_number"),
                             (pl.int_range(pl.len()) + 2).alias("line"))
    row = first(findings.join(filed, on=["hub", "id_number"]), pl.col("rule") == "E08")
    official_id = row["hub"].split(":", 1)[1]
    officials = pl.read_csv(folder / "经办人员村干部.csv", infer_schema=False)
    off = officials.filter(pl.col("身份证号码") == official_id).row(0, named=True)
    text = flat(shown(out, row["finding_id"]))
    assert "干部或经办人员" in text and "近亲属备案" in text
    assert f"{off['职务']} {off['姓名']} {mask_value('id', official_id)}（经办人员村干部.csv 第" in text
    assert f"任职地区：{off['所在地区']}" in text
    assert re.search(r"是否经办本案：(是|可能|待核实|未见)，", text)
    assert re.search(rf"近亲属备案\.csv 第 {row['line']} 行：干部 {off['姓名']} "
                     rf"{re.escape(mask_value('id', official_id))}，亲属 {row['name']} "
                     rf"{re.escape(mask_value('id', row['id_number']))}，关系 \S+，是否备案 (否|未填)",
                     text)
    assert official_id not in text


def test_e08_never_says_同户_for_an_official_absent_from_the_members(county: Run) -> None:
    folder, out, findings = county
    roll = load_inputs(read_inputs_file(folder), CONFIG).frames["roll"]
    members = roll.select(pl.concat_str([pl.col("household_id"), pl.col("id_number")],
                                        separator="|").alias("key"))
    e08 = findings.filter(pl.col("rule") == "E08").with_columns(
        pl.concat_str([pl.col("household_id"), pl.col("hub").str.slice(9)],
                      separator="|").alias("key"))
    # the official is not among the members the roll lists for the finding's household
    absent = e08.join(members, on="key", how="anti").filter(
        pl.col("hub").str.slice(9) != pl.col("id_number"))
    listed = absent.filter(pl.col("evidence").str.contains("经办人员名单上登记的户"))
    assert listed.height, "the demo plants a cadre's household from the officials list"
    for row in absent.iter_rows(named=True):
        assert "同户（名册本户成员）" not in row["evidence"]
    row = listed.row(0, named=True)
    text = flat(shown(out, row["finding_id"]))
    assert "是否同户：待核实，经办人员名单登记其户编号" in text
    assert re.search(r"名册本户成员 \d+ 人中无其本人", text)
    assert "是否同户：是" not in text and "同户（名册本户成员）" not in text


def test_c04_says_which_phone_is_the_banks_and_which_the_rolls(county: Run) -> None:
    _, out, findings = county
    row = first(findings, (pl.col("rule") == "C04") & pl.col("hub").str.starts_with("phone:"))
    phone = mask_value("phone", row["hub"].split(":", 1)[1])
    text = flat(shown(out, row["finding_id"]))
    assert f"关联标识：手机号 {phone}" in text
    assert f"银行预留手机号（银行发短信验证码的号码）：{phone}（＝关联标识）" in text
    assert re.search(r"名册联系电话：(\d{3}\*{4}\d{4}|名册未登记)", text)
    assert f"关联手机号 {phone} 是本卡的银行预留手机号" in text
    assert "预留此手机号的卡：卡 " in text  # the graph: the other households' cards
    assert row["hub"].split(":", 1)[1] not in text


def test_the_ledger_status_and_its_history(county: Run, tmp_path: Path) -> None:
    _, out, findings = county
    row = first(findings, pl.col("rule") == "P03")
    before = flat(shown(out, row["finding_id"]))
    assert "状态：未整改" in before and "首次发现（自查自纠）" in before
    ledger = tmp_path / "台账.db"
    shutil.copy(out / "cardcheck.db", ledger)
    with Ledger(ledger) as book:
        book.apply_updates(pl.DataFrame({"finding_id": [row["finding_id"]], "status": ["已整改"],
                                         "recovered": [12000]}), source="import 表4_三交镇.xlsx")
    result = runner.invoke(app, ["explain", row["finding_id"], "--out", str(out), "--ledger",
                                 str(ledger)], terminal_width=120)
    assert result.exit_code == 0, result.output
    text = flat(result.output)
    assert f"台账（{ledger}）" in text
    assert "状态：已整改" in text and "追回金额：120.00 元" in text
    assert "变更记录（共 3 条）" in text
    assert re.search(r"导入 表4_三交镇\.xlsx：状态 未整改 → 已整改", text)
    assert "导入 表4_三交镇.xlsx：追回金额 0.00 → 120.00 元" in text
    assert "代发明细" in text  # a P rule shows its payments


def test_a_ledger_that_is_not_there_is_said_so_and_not_made(county: Run, tmp_path: Path) -> None:
    _, out, findings = county
    fid = findings.get_column("finding_id")[0]
    gone = tmp_path / "none.db"
    text = flat(shown(out, fid, ledger=gone))
    assert f"没有找到台账文件 {gone}" in text
    assert not gone.exists()


def test_a_region_code_is_not_masked_as_a_card(county: Run) -> None:
    _, out, findings = county
    row = first(findings, pl.col("hub").str.starts_with("region:"))
    region = row["hub"].split(":", 1)[1]
    text = flat(shown(out, row["finding_id"]))
    assert f"关联标识：外地名册地区 {region}" in text
    assert "外地名册" in text and "****" + region[-2:] not in text


def test_the_ledger_the_run_kept_elsewhere(county: Run, tmp_path: Path) -> None:
    """A run with --ledger elsewhere: explain finds it through the manifest."""
    folder, _, _ = county
    out, ledger = tmp_path / "run", tmp_path / "台账" / "县.db"
    code = run_check(CheckOptions(roll=None, accounts=None, payments=[], out=out, inputs=folder,
                                  ledger=ledger, quiet=True, excel=False,
                                  rules="C04"))
    assert code == 0 and not (out / "cardcheck.db").exists()
    fid = pl.read_csv(out / "findings.csv", infer_schema=False).get_column("finding_id")[0]
    text = flat(shown(out, fid))
    assert f"台账（{ledger}）" in text and "状态：未整改" in text
