"""Bank text files (报盘/回盘) in pipe-delimited and fixed-width layouts: declared under
`layouts:` of a --config file, or (headerless pipe files) recognised by shape. Every file is
written here the way a bank system writes it: GBK bytes, CRLF, fixed widths padded with spaces
in GBK, a batch header and trailer line, amounts in fen."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.config import load_config
from cardcheck.errors import ConfigError, InputError
from cardcheck.ingest import Loaded, load_file
from cardcheck.ingest.layout import layout_grid

# card, name, amount in fen, date, memo
PAYMENTS = [
    ("6217000000000001", "张三", 30000, "20230105", "2023年01月农村低保"),
    ("6228480000000000002", "欧阳娜娜", 123456, "20230105", "2023年01月特困供养"),
    ("6217000000000003", "李四", 5, "20230210", "2月份低保金"),
    ("6217000000000004", "王五", 100000, "20230310", ""),
]
# (column, width in GBK bytes); the bank pads text on the right and amounts on the left
WIDTHS = [("card_no", 19), ("account_name", 12), ("amount", 12), ("pay_date", 8),
          ("memo", 30)]
HEADER = "H|20230105|0001|4"
TRAILER = "T|4|00000253461"
PIPE_LAYOUT = """\
layouts:
  农商行代发回盘:
    kind: payments
    files: ["*回盘*.txt"]
    encoding: gbk
    delimiter: "|"
    header: false
    skip: {first: 1, last: 1}
    columns: [card_no, account_name, amount, pay_date, memo]
    units: {amount: fen}
"""
FIXED_LAYOUT = """\
layouts:
  信用社报盘:
    kind: payments
    files: ["*报盘*.txt"]
    skip: {first: 1, last: 1}
    widths: [[card_no, 19], [account_name, 12], [amount, 12], [pay_date, 8], [memo, 30]]
    units: {widths: bytes, amount: fen}
"""


def gbk_pad(text: str, width: int, right: bool = False) -> bytes:
    raw = text.encode("gbk")
    assert len(raw) <= width, text
    pad = b" " * (width - len(raw))
    return pad + raw if right else raw + pad


def fixed_record(row: tuple) -> bytes:
    card, name, fen, date, memo = row
    return (gbk_pad(card, 19) + gbk_pad(name, 12) + str(fen).zfill(12).encode()
            + date.encode() + gbk_pad(memo, 30))


def pipe_record(row: tuple) -> bytes:
    return "|".join(str(v) for v in row).encode("gbk")


def bank_file(path: Path, records: list[bytes]) -> Path:
    """Batch header, the records, batch trailer: GBK, CRLF after every line."""
    lines = [HEADER.encode(), *records, TRAILER.encode()]
    path.write_bytes(b"".join(line + b"\r\n" for line in lines))
    return path


def config(tmp_path: Path, text: str, name: str = "layouts.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def load(path: Path, cfg, kind: str = "payments") -> Loaded:
    loaded = load_file(path, kind, cfg)
    c = loaded.counts
    assert c.read == c.loaded + c.rejected + c.skipped, c
    assert c.skipped == sum(c.skipped_reasons.values())
    assert loaded.frame.height == c.loaded and loaded.rejects.height == c.rejected + c.dropped
    return loaded


def values(loaded: Loaded) -> list[tuple]:
    cols = ("source_line", "card_no", "account_name", "amount", "pay_date", "memo")
    return [tuple(r) for r in loaded.frame.select(cols).iter_rows()]


def rejects(loaded: Loaded) -> list[tuple]:
    return [tuple(r) for r in loaded.rejects.select("line", "column", "reason").iter_rows()]


EXPECTED = [
    (2, "6217000000000001", "张三", 30000, dt.date(2023, 1, 5), "2023年01月农村低保"),
    (3, "6228480000000000002", "欧阳娜娜", 123456, dt.date(2023, 1, 5), "2023年01月特困供养"),
    (4, "6217000000000003", "李四", 5, dt.date(2023, 2, 10), "2月份低保金"),
    (5, "6217000000000004", "王五", 100000, dt.date(2023, 3, 10), None),
]
SKIPPED = {"batch header (批次头)": 1, "batch trailer (批次尾)": 1}


def test_pipe_file_with_batch_header_and_trailer(tmp_path: Path) -> None:
    cfg = config(tmp_path, PIPE_LAYOUT)
    path = bank_file(tmp_path / "代发回盘202301.txt", [pipe_record(r) for r in PAYMENTS])
    got = load(path, cfg)
    assert values(got) == EXPECTED
    assert got.frame.schema["amount"] == pl.Int64
    c = got.counts
    assert (c.format, c.encoding, c.read, c.loaded, c.rejected, c.skipped) == (
        "txt:农商行代发回盘", "gbk", 6, 4, 0, 2)
    assert c.skipped_reasons == SKIPPED


def test_fixed_width_gbk_bytes_loads_as_the_pipe_file(tmp_path: Path) -> None:
    cfg = config(tmp_path, PIPE_LAYOUT.rstrip() + "\n" + FIXED_LAYOUT.split("\n", 1)[1])
    pipe = load(bank_file(tmp_path / "代发回盘.txt", [pipe_record(r) for r in PAYMENTS]), cfg)
    fixed = load(bank_file(tmp_path / "信用社报盘.txt", [fixed_record(r) for r in PAYMENTS]), cfg)
    assert values(fixed) == EXPECTED
    assert fixed.counts.format == "txt:信用社报盘" and fixed.counts.skipped_reasons == SKIPPED
    drop = ("source_file", "source_line")
    assert fixed.frame.drop(drop).equals(pipe.frame.drop(drop))


def test_fixed_width_in_characters(tmp_path: Path) -> None:
    cfg = config(tmp_path, """\
layouts:
  按字符定宽:
    kind: payments
    widths: [[card_no, 19], [null, 2], [account_name, 6], [amount, 10], [pay_date, 8]]
""")
    lines = ["6217000000000001".ljust(19) + "01" + "张三".ljust(6, "\u3000") + "300.00".rjust(10)
             + "20230105",
             "6217000000000003".ljust(19) + "02" + "欧阳娜娜".ljust(6) + "5.50".rjust(10)
             + "20230210"]
    path = tmp_path / "代发.txt"
    path.write_bytes("\r\n".join(lines).encode("gbk") + b"\r\n")
    got = load(path, cfg)
    assert [tuple(r) for r in got.frame.select("source_line", "card_no", "account_name",
                                               "amount", "pay_date").iter_rows()] == [
        (1, "6217000000000001", "张三", 30000, dt.date(2023, 1, 5)),
        (2, "6217000000000003", "欧阳娜娜", 550, dt.date(2023, 2, 10)),
    ]


def test_ragged_lines_are_rejects_with_their_line(tmp_path: Path) -> None:
    cfg = config(tmp_path, PIPE_LAYOUT.rstrip() + "\n" + FIXED_LAYOUT.split("\n", 1)[1])
    good = [pipe_record(r) for r in PAYMENTS]
    pipe = bank_file(tmp_path / "回盘.txt", [good[0], b"6217000000000009|\xd5\xc5|100", good[1],
                                             good[2] + b"|extra", b"", good[3]])
    got = load(pipe, cfg)
    assert rejects(got) == [
        (3, "整行", "该行有 3 个字段（以“|”分隔），按布局“农商行代发回盘”应为 5 个"),
        (5, "整行", "该行有 6 个字段（以“|”分隔），按布局“农商行代发回盘”应为 5 个"),
    ]
    assert got.rejects.get_column("value").to_list()[0] == "6217000000000009|张|100"
    assert [r[0] for r in values(got)] == [2, 4, 7]
    assert (got.counts.read, got.counts.skipped_reasons) == (8, {**SKIPPED, "blank": 1})

    rows = [fixed_record(r) for r in PAYMENTS]
    # valid GBK every one, but the fields do not fall where the widths say
    card_short = b"6217000000000005  " + gbk_pad("王小明", 13) + rows[0][31:]
    name_long = rows[0][:19] + gbk_pad("张三", 11) + "李".encode("gbk") + rows[0][31:]
    fixed = bank_file(tmp_path / "报盘.txt", [rows[0], rows[1][:59], rows[2], card_short,
                                              name_long, rows[3], rows[1]])
    got = load(fixed, cfg)
    assert rejects(got) == [
        (3, "整行", "该行长 59 字节，短于布局“信用社报盘”各列宽度之和 81 字节"),
        (5, "整行", ("第 20 字节落在一个汉字的中间（account_name 列从这里开始），按布局“信用社报盘”"
                    "的字节宽度无法切分这一行，请核对 widths")),
        (6, "整行", ("第 32 字节落在一个汉字的中间（amount 列从这里开始），按布局“信用社报盘”"
                    "的字节宽度无法切分这一行，请核对 widths")),
    ]
    assert [r[0] for r in values(got)] == [2, 4, 7, 8]


def test_a_layout_that_fits_no_line_stops_with_the_first_misfit(tmp_path: Path) -> None:
    cfg = config(tmp_path, FIXED_LAYOUT)
    path = bank_file(tmp_path / "报盘.txt", [pipe_record(r) for r in PAYMENTS])
    with pytest.raises(InputError) as err:
        load_file(path, "payments", cfg)
    assert str(err.value) == (
        f"报盘.txt：按 {tmp_path / 'layouts.yaml'} 中的布局“信用社报盘”读取，大部分行对不上（第 2 "
        "行：该行长 55 字节，短于布局“信用社报盘”各列宽度之和 81 字节）；请核对该布局的widths")


def test_widths_in_characters_on_a_byte_width_file_say_to_count_bytes(tmp_path: Path) -> None:
    cfg = config(tmp_path, FIXED_LAYOUT.replace("units: {widths: bytes, amount: fen}",
                                                "units: {amount: fen}"))
    path = bank_file(tmp_path / "报盘.txt", [fixed_record(r) for r in PAYMENTS])
    with pytest.raises(InputError, match=r"（第 2 行：该行长 73 个字符，短于布局“信用社报盘”各列"
                       r"宽度之和 81 个字符（按 GBK 字节数正好合适：若银行按字节定宽，请在布局中加 "
                       r"units: bytes））"):
        load_file(path, "payments", cfg)


def test_header_line_and_layout_without_files(tmp_path: Path) -> None:
    cfg = config(tmp_path, """\
layouts:
  带表头:
    kind: payments
    delimiter: "|"
    header: true
    skip: {first: 1}
    columns: [card_no, null, account_name, amount, pay_date, ""]
""")
    lines = ["20230105 批量代发", "ACCT|SEQ|NAME|AMT|DATE|NOTE",
             "6217000000000001|1|张三|300.00|2023-01-05|x", "6217000000000003|2|李四|5.00|20230210|"]
    path = tmp_path / "pay.dat"
    path.write_bytes("\n".join(lines).encode("gbk"))
    got = load(path, cfg)
    assert [tuple(r) for r in got.frame.select("source_line", "card_no", "account_name",
                                               "amount").iter_rows()] == [
        (3, "6217000000000001", "张三", 30000), (4, "6217000000000003", "李四", 500)]
    assert got.counts.skipped_reasons == {"batch header (批次头)": 1, "header line (表头行)": 1}
    assert got.counts.read == 4
    # a file with a header the usual reader knows is not taken by a layout without files:
    csv = tmp_path / "pay.csv"
    csv.write_text("账号,户名,金额,交易日期\n6217000000000001,张三,300.00,2023-01-05\n",
                   encoding="utf-8")
    assert layout_grid(csv, "payments", cfg) is None
    assert load(csv, cfg).counts.format == "csv"


def test_headerless_pipe_file_recognised_by_shape(tmp_path: Path) -> None:
    rows = [(d, c, n, f"{fen / 100:.2f}", m, "CB01", "柳林县民政局")
            for c, n, fen, d, m in PAYMENTS]
    path = tmp_path / "代发明细.txt"
    path.write_bytes(b"".join("|".join(r).encode("gbk") + b"|\r\n" for r in rows))
    cfg = load_config()
    grid = layout_grid(path, "payments", cfg)
    assert grid is not None and grid.notes == [
        ("代发明细.txt：没有表头，按内容识别为以“|”分隔的 payments 文件：第 1 列 pay_date、"
        "第 2 列 card_no、第 3 列 account_name、第 4 列 amount、第 5 列 memo、第 7 列 payer"
        "（第 6 列未读取），金额按元读取；若识别有误，请在配置的 layouts: 中声明各列（见 "
        "docs/bank-layouts.md）")]
    got = load(path, cfg)
    assert values(got) == [(line - 1, *rest) for line, *rest in EXPECTED]  # no batch header
    assert got.frame.get_column("payer").unique().to_list() == ["柳林县民政局"]


@pytest.mark.parametrize(("lines", "why"), [
    (["6217000000000001|6217000000000002|300.00|20230105",
      "6217000000000003|6217000000000004|5.00|20230210"],
     "第 1、2 列都像12–19 位数字的卡号，分不清哪一列是 card_no"),
    (["6217000000000001|张三|30000|20230105", "6217000000000003|李四|500|20230210"],
     "第 3 列全是整数，分不清金额的单位是元还是分"),
    (["H|20230105|2", "6217000000000001|张三|300.00|20230105",
      "6217000000000003|李四|5.00|20230210"],
     "各行的字段数不同（第 1 个非空行 3 个，第 2 个非空行 4 个），可能有批次头或批次尾行"),
])
def test_headerless_file_that_shape_cannot_tell_says_how_to_declare_it(
        tmp_path: Path, lines: list[str], why: str) -> None:
    path = tmp_path / "回盘.txt"
    path.write_bytes("\r\n".join(lines).encode("gbk"))
    with pytest.raises(InputError) as err:
        load_file(path, "payments", load_config())
    text = str(err.value)
    assert text == (
        f"回盘.txt：在前 {len(lines)} 行中找不到 payments 表的表头（没有一格是已知的列名，如 "
        f"交易日期、账号、金额；全部列名见 configs/columns.yaml），也无法按内容认出各列（{why}）。"
        "若这是银行的无表头文本文件（报盘/回盘），请在 --config 指定的配置文件中用 layouts: "
        "声明它的格式（分隔符或各列宽度，以及各列的顺序），见 docs/bank-layouts.md")
    assert "编码" not in text  # GBK read fine: no advice about encodings


@pytest.mark.parametrize(("body", "message"), [
    ("  x:\n    kind: payment\n    delimiter: '|'\n    columns: [card_no]\n",
     "layouts.x.kind: expected one of roll, accounts, payments"),
    ("  x:\n    kind: payments\n    delimiter: '|'\n    columns: [card_no, cardholder]\n",
     "layouts.x.columns[1]: expected a column of the table payments (pay_date, card_no"),
    ("  x:\n    kind: payments\n    columns: [card_no]\n",
     "layouts.x: expected a delimiter (e.g. delimiter: \"|\") or fixed widths"),
    ("  x:\n    kind: payments\n    delimiter: '|'\n    widths: [[card_no, 19]]\n",
     "layouts.x: expected either delimiter or widths, not both"),
    ("  x:\n    kind: payments\n    widths: [[card_no, 19], [amount]]\n",
     "layouts.x.widths[1]: expected a pair [column, width]"),
    ("  x:\n    kind: payments\n    widths: [[card_no, 0]]\n",
     "layouts.x.widths[0]: expected a width of 1 or more"),
    ("  x:\n    kind: payments\n    widths: [card_no, 19]\n",
     "layouts.x.widths[0]: expected a pair [column, width]"),
    ("  x:\n    kind: payments\n    widths: [[card_no, 19]]\n    units: words\n",
     "layouts.x.units.widths: expected chars (characters after decoding) or bytes"),
    (("  x:\n    kind: payments\n    delimiter: '|'\n    columns: [card_no]\n"
     "    units: {memo: fen}\n"), "layouts.x.units: expected columns of this layout (card_no)"),
    (("  x:\n    kind: payments\n    delimiter: '|'\n    columns: [card_no]\n"
     "    encoding: klingon\n"), "layouts.x.encoding: expected an encoding name"),
    (("  x:\n    kind: payments\n    delimiter: '|'\n    columns: [card_no]\n"
     "    skip: {top: 1}\n"), "layouts.x.skip.top: expected first or last"),
    ("  x:\n    kind: payments\n    delimiter: '|'\n    colums: [card_no]\n",
     "layouts.x.colums: expected one of kind, files, encoding, delimiter, widths"),
])
def test_layout_config_errors_name_the_file_and_key(tmp_path: Path, body: str,
                                                    message: str) -> None:
    with pytest.raises(ConfigError) as err:
        config(tmp_path, "layouts:\n" + body)
    assert str(err.value).startswith(f"{tmp_path / 'layouts.yaml'}: {message}"), str(err.value)


def test_config_keeps_the_declared_layout(tmp_path: Path) -> None:
    lay = config(tmp_path, FIXED_LAYOUT).layouts["信用社报盘"]
    assert (lay.kind, lay.files, lay.widths, lay.width_unit, lay.units, lay.skip_first,
            lay.skip_last, lay.delimiter) == (
        "payments", ("*报盘*.txt",), (19, 12, 12, 8, 30), "bytes", {"amount": "fen"}, 1, 1, None)
    assert lay.columns == ("card_no", "account_name", "amount", "pay_date", "memo")
    assert load_config().layouts == {}


# ------------------------------------------------------------------ a whole check

DEMO_WIDTHS = [("交易日期", 8), ("账号", 19), ("户名", 20), ("金额", 12), ("摘要", 48),
               ("批次号", 16), ("代发单位", 40)]
DEMO_LAYOUT = """\
layouts:
  县农商行代发:
    kind: payments
    files: ["*.txt"]
    encoding: gbk
    skip: {first: 1, last: 1}
    widths: [[pay_date, 8], [card_no, 19], [account_name, 20], [amount, 12], [memo, 48],
             [batch, 16], [payer, 40]]
    units: {widths: bytes, amount: fen}
"""


def to_fixed_width(csv_path: Path, out: Path) -> int:
    """The demo's 代发明细.csv as the bank's fixed-width GBK file: dates YYYYMMDD, amounts in
    fen zero-padded, a batch header and a trailer with the count and total."""
    pay = pl.read_csv(csv_path, infer_schema=False)
    fen = [round(float(a) * 100) for a in pay.get_column("金额")]
    records = []
    for row, amount in zip(pay.iter_rows(named=True), fen, strict=True):
        row = {**row, "交易日期": row["交易日期"].replace("-", ""), "金额": str(amount).zfill(12)}
        records.append(b"".join(gbk_pad(row[c] or "", w) for c, w in DEMO_WIDTHS))
    lines = [f"H|{pay.item(0, '交易日期').replace('-', '')}|{len(records)}".encode(), *records,
             f"T|{len(records)}|{sum(fen)}".encode()]
    out.write_bytes(b"".join(line + b"\r\n" for line in lines))
    return len(records)


def test_check_with_fixed_width_payments_finds_what_the_csv_finds(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(demo), "--households", "300",
                                      "--clean"])
    assert result.exit_code == 0, result.output
    n = to_fixed_width(demo / "代发明细.csv", tmp_path / "代发明细.txt")
    (tmp_path / "bank.yaml").write_text(DEMO_LAYOUT, encoding="utf-8")
    runs = {}
    for name, extra in (("csv", []), ("txt", ["--payments", str(tmp_path / "代发明细.txt"),
                                              "--config", str(tmp_path / "bank.yaml")])):
        out = tmp_path / name
        result = CliRunner().invoke(app, ["check", "--inputs", str(demo), "--out", str(out),
                                          "--no-excel", "-q", *extra])
        assert result.exit_code in (0, 1), result.output
        runs[name] = out
    csv_findings = pl.read_csv(runs["csv"] / "findings.csv", infer_schema=False)
    txt_findings = pl.read_csv(runs["txt"] / "findings.csv", infer_schema=False)
    assert csv_findings.height > 50
    assert txt_findings.equals(csv_findings)
    counts = {c["file"]: c for c in json.loads(
        (runs["txt"] / "manifest.json").read_text(encoding="utf-8"))["counts"]}
    got = counts["代发明细.txt"]
    assert (got["read"], got["loaded"], got["rejected"], got["skipped"]) == (n + 2, n, 0, 2)
    assert got["skipped_reasons"] == SKIPPED


def test_the_guides_examples_load_as_it_says(tmp_path: Path) -> None:
    """docs/bank-layouts.md: each example file, read by the layout shown beside it."""
    doc = (Path(__file__).parent.parent / "docs" / "bank-layouts.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(\w*)\n(.*?)```", doc, re.DOTALL)
    files = [b for lang, b in blocks if lang == ""]
    layouts = [b for lang, b in blocks if lang == "yaml"]
    pipe = tmp_path / "代发回盘202301.txt"
    pipe.write_bytes(files[0].replace("\n", "\r\n").encode("gbk"))
    got = load(pipe, config(tmp_path, layouts[0]))
    assert values(got) == [r for r in EXPECTED if r[0] < 5]
    fixed = tmp_path / "信用社报盘.txt"
    fixed.write_bytes(("H|20230105|1\r\n" + files[1] + "T|1|30000\r\n").encode("gbk"))
    got = load(fixed, config(tmp_path, layouts[1], "b.yaml"))
    assert values(got) == [EXPECTED[0]]
