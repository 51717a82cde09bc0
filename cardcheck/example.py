"""A small synthetic run (two townships, five households, three months) for the report tests
and benchmarks/render_workbook.sh: frames from plain rows, a findings frame as the engine
stamps it, file counts and rule runs. All names and numbers are invented.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from cardcheck.config import Config, load_config
from cardcheck.engines.runner import FINDINGS_OUT, RuleRun, RunResult, finding_ids
from cardcheck.pipeline.options import CheckOptions, CheckRun
from cardcheck.rules.cases import frames as case_frames

# valid GB 11643 numbers (one with X) and Luhn-free card numbers: synthetic, not real people
IDS = {"a": "14112519600101001X", "b": "141125196502020026", "c": "141125197003030011",
       "d": "141125198004040025", "e": "141125199005050017", "f": "141125195506060034"}
CARDS = {"A": "6217000010000001", "B": "6217000010000002", "C": "6228480010000003",
         "D": "6228480010000004", "E": "6217000010000005"}
HYPERLINK = '=HYPERLINK("http://example.invalid","点此")'


@dataclass
class ExampleCounts:
    file: str
    kind: str
    format: str = "csv"
    encoding: str | None = "utf-8"
    header_line: int | None = 1
    read: int = 0
    loaded: int = 0
    rejected: int = 0
    skipped: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    title_lines: int = 0


@dataclass
class ExampleInputs:
    frames: dict[str, pl.DataFrame]
    rejects: pl.DataFrame
    counts: list[ExampleCounts]


def _roll() -> list[dict[str, Any]]:
    def row(hh: str, town: str, village: str, who: str, name: str, rel: str, fund: str,
            amount: int, card: str) -> dict[str, Any]:
        return {"region_code": "141125", "township": town, "village": village,
                "household_id": hh, "name": name, "id_number": IDS[who], "relation": rel,
                "fund": fund, "monthly_amount": amount, "start_date": "2020-01-01",
                "card_no": CARDS[card]}
    return [
        row("H1", "柳林镇", "东村", "a", "张三", "户主", "农村低保", 30000, "A"),
        row("H1", "柳林镇", "东村", "b", "李四", "配偶", "农村低保", 30000, "A"),
        row("H2", "柳林镇", "西村", "c", "王五", "户主", "农村低保", 45000, "B"),
        row("H3", "柳林镇", "西村", "d", "赵六", "户主", "特困供养", 60000, "C"),
        row("H4", "穆村镇", "南村", "e", "钱七", "户主", "城市低保", 50000, "D"),
        row("H5", "穆村镇", "南村", "f", "孙八", "户主", "特困供养", 55000, "E"),
    ]


def _payments() -> list[dict[str, Any]]:
    rows = []
    plan = [("A", "张三", 60000, "{y}年{m}月农村低保"), ("B", "王五", 45000, "农低保{y}{m}"),
            ("C", "赵六", 60000, "{y}年{m}月特困供养"), ("D", "钱七", 50000, "代发"),
            ("E", "孙八", 55000, HYPERLINK)]
    for month in (1, 2, 3):
        for card, name, amount, memo in plan:
            rows.append({"pay_date": f"2023-{month:02d}-08", "card_no": CARDS[card],
                         "account_name": name, "amount": amount,
                         "memo": memo.format(y=2023, m=f"{month:02d}"), "batch": f"B{month}"})
    return rows


def _accounts() -> list[dict[str, Any]]:
    def acc(card: str, who: str, name: str, branch: str) -> dict[str, Any]:
        return {"card_no": CARDS[card], "holder_name": name, "holder_id": IDS[who],
                "branch": branch, "open_date": "2019-05-01", "status": "正常"}
    return [acc("A", "a", "张三", "柳林支行"), acc("B", "c", "王五", "柳林支行"),
            acc("C", "a", "张三", "穆村分理处"), acc("D", "e", "钱七", "穆村分理处"),
            acc("E", "f", "孙八", "穆村分理处")]


def example_rows() -> dict[str, list[dict[str, Any]]]:
    """The example's roll, accounts and payments as plain rows (a rule case's `tables`): a new
    list each call, for a test to add rows to before making frames of them."""
    return {"roll": _roll(), "accounts": _accounts(), "payments": _payments()}


def example_frames(config: Config) -> dict[str, pl.DataFrame]:
    return case_frames(example_rows(), config)


def example_findings() -> pl.DataFrame:
    """Findings as the engine stamps them (finding_id, FINDINGS columns, rule_name)."""
    rows = [
        ("C03", "high", "柳林镇", "西村", "H3", IDS["d"], "赵六", CARDS["C"], "特困供养", None,
         202301, 202303, 3, 180000, "赵六 的发放卡 6228****0003 持卡人为 张三; 期内入账 1800.00 元"),
        ("C05", "medium", "穆村镇", "南村", "H4", None, "钱七", CARDS["D"], "城市低保", None,
         202301, 202303, 3, 150000, "摘要“代发”未写明资金项目和月份, 3 笔 1500.00 元"),
        ("C05", "medium", "穆村镇", "南村", "H5", None, "孙八", CARDS["E"], "特困供养", None,
         202301, 202303, 3, 165000, HYPERLINK),
        ("C04", "high", "柳林镇", "东村", "H1", None, "张三", CARDS["A"], "农村低保",
         "holder:" + IDS["a"], 202301, 202303, 3, 180000, "持卡人 张三 名下 2 户的卡"),
        ("C04", "high", "柳林镇", "西村", "H3", None, "赵六", CARDS["C"], "特困供养",
         "holder:" + IDS["a"], 202301, 202303, 3, 180000, "持卡人 张三 名下 2 户的卡"),
        ("P03", "medium", "柳林镇", "东村", "H1", None, "张三", CARDS["A"], "农村低保", None,
         202301, 202303, 3, 0, "-核定 600.00 元, 实发 600.00 元"),
        ("E06", "high", "穆村镇", "南村", "H5", IDS["f"], "@孙八", None, "特困供养", None,
         202302, 202302, 1, 55000, "孙八 同月享受 特困供养 和 困难残疾人生活补贴"),
    ]
    cols = ["rule", "severity", "township", "village", "household_id", "id_number", "name",
            "card_no", "fund", "hub", "first_month", "last_month", "months", "amount", "evidence"]
    df = pl.DataFrame([dict(zip(cols, r)) for r in rows]).with_columns(
        pl.lit("141125").alias("region_code"),
        pl.col("rule").replace_strict(RULE_NAMES, default="").alias("rule_name"))
    df = df.with_columns(finding_ids(df))
    return df.select([pl.col(c).cast(t) for c, t in FINDINGS_OUT.items()])


RULE_NAMES = {"C01": "一人多卡", "C03": "救助对象与持卡人不一致", "C04": "代管代取",
              "C05": "发放摘要不规范", "C07": "资金归集", "P03": "金额不符", "E06": "重复享受",
              "E01": "死亡人员领取"}


def example_runs(findings: pl.DataFrame) -> list[RuleRun]:
    runs = []
    for code in ("C01", "C03", "C04", "C05", "C07", "P03", "E06"):
        part = findings.filter(pl.col("rule") == code)
        runs.append(RuleRun(code, RULE_NAMES[code], "ran", seconds=0.01, count=part.height,
                            amount=int(part.get_column("amount").sum())))
    runs.append(RuleRun("E01", RULE_NAMES["E01"], "skipped", "no deaths file"))
    return runs


def example_run(out: Path, config: Config | None = None, **options: Any) -> Any:
    """A CheckRun as run_check builds it, writing into `out`."""

    config = config or load_config()
    frames = example_frames(config)
    findings = options.pop("findings", None)
    findings = example_findings() if findings is None else findings
    counts = [ExampleCounts("名册.csv", "roll", read=8, loaded=6, rejected=1, skipped=1,
                            skipped_reasons={"total (合计)": 1}),
              ExampleCounts("账户.xlsx", "accounts", "xlsx", None, read=5, loaded=5),
              ExampleCounts("代发.csv", "payments", read=15, loaded=15)]
    rejects = pl.DataFrame({"file": ["名册.csv"], "line": [5], "column": ["monthly_amount"],
                            "value": ["abc"], "reason": ["not a sum of money"]})
    opts = CheckOptions(roll=Path("名册.csv"), accounts=Path("账户.xlsx"),
                        payments=[Path("代发.csv")], out=out, **options)
    inputs = ExampleInputs(frames, rejects, counts)
    return CheckRun(opts, config, inputs, RunResult(findings, example_runs(findings)))
