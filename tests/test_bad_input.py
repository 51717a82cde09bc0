"""Hostile and broken inputs through a full `cardcheck check`: a one-line message naming the file
and what was expected, exit 2, never a traceback; or, for a bad row, the row in rejects.csv with
its reason while the run goes on. Every file here is written by the test itself (one fixture:
fixtures/io/bad/roll_password.xlsx, a real Office-encrypted workbook)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.config import load_config
from cardcheck.errors import InputError
from cardcheck.ingest import checks, load_file
from cardcheck.ingest.checks import same_files

BAD = Path(__file__).parent.parent / "fixtures" / "io" / "bad"
ROLL = ("户编号,姓名,身份证号,与户主关系,救助类别,月保障金额,保障起始日期,保障终止日期,银行卡号\n"
        "H001,张三,110101195001010019,户主,农村低保,300,2020-01-01,,6217000000000001\n")
ACCOUNTS = ("卡号,户名,身份证号,开户日期\n"
            "6217000000000001,张三,110101195001010019,2019-01-01\n")
PAYMENTS = ("卡号,户名,金额,摘要,发放日期\n"
            "6217000000000001,张三,300.00,2023年04月农村低保,2023-04-10\n")


def inputs(tmp_path: Path, **files: str | bytes | Path) -> dict[str, Path]:
    """roll.csv, accounts.csv and payments.csv, good unless replaced by text, bytes or a file."""
    out = {}
    for kind, good in (("roll", ROLL), ("accounts", ACCOUNTS), ("payments", PAYMENTS)):
        value = files.get(kind, good)
        if isinstance(value, Path):
            out[kind] = value
            continue
        path = tmp_path / f"{kind}.csv"
        path.write_bytes(value.encode("utf-8") if isinstance(value, str) else value)
        out[kind] = path
    return out


def check(tmp_path: Path, *extra: str, **files: str | bytes | Path):
    f = inputs(tmp_path, **files)
    args = ["check", "--roll", str(f["roll"]), "--accounts", str(f["accounts"]),
            "--payments", str(f["payments"]), "--out", str(tmp_path / "out"), "--no-excel", "-q",
            "--rules", "C01", *extra]  # the inputs are under test, not the rules: one is enough
    result = CliRunner().invoke(app, args)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result


def error_of(tmp_path: Path, **files: str | bytes | Path) -> str:
    """The one error line of a run that must stop with exit 2 before writing anything."""
    result = check(tmp_path, **files)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert not (tmp_path / "out" / "findings.csv").exists()
    return lines[0]


def rejects(tmp_path: Path) -> list[list[str]]:
    with open(tmp_path / "out" / "rejects.csv", encoding="utf-8") as fh:
        return list(csv.reader(fh))[1:]


def counts(tmp_path: Path, kind: str) -> dict:
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    return next(c for c in manifest["counts"] if c["kind"] == kind)


# ------------------------------------------------------------------ the file cannot be used


def test_empty_file(tmp_path: Path) -> None:
    assert error_of(tmp_path, roll=b"") == "cardcheck: error: roll.csv：文件是空的"


def test_only_blank_lines_is_empty(tmp_path: Path) -> None:
    assert error_of(tmp_path, accounts=b" \r\n\r\n\t\n") == (
        "cardcheck: error: accounts.csv：文件是空的")


def test_header_only(tmp_path: Path) -> None:
    assert error_of(tmp_path, payments="卡号,户名,金额,摘要,发放日期\n") == (
        "cardcheck: error: payments.csv：只有表头，没有数据行；代发明细（payments）至少要有一行数据"
        "才能核查")


def test_header_with_only_a_total_row(tmp_path: Path) -> None:
    roll = ROLL.splitlines()[0] + "\n合计,,,,,300,,,\n\n"
    assert error_of(tmp_path, roll=roll) == (
        "cardcheck: error: roll.csv：只有表头，没有数据行（表头下的 2 行都是空行、合计或表尾）；"
        "救助对象名册（roll）至少要有一行数据才能核查")


def test_binary_garbage_named_csv(tmp_path: Path) -> None:
    garbage = bytes(range(256)) * 40  # every byte value: not UTF-8, GBK or a spreadsheet
    assert error_of(tmp_path, accounts=garbage) == (
        "cardcheck: error: accounts.csv：不是表格文件（内容是二进制数据，既不是 Excel 也不是文本），"
        "请确认选对了文件")


def test_a_jpeg_named_csv(tmp_path: Path) -> None:
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(500)
    assert error_of(tmp_path, roll=jpeg) == (
        "cardcheck: error: roll.csv：不是表格文件（内容是二进制数据，既不是 Excel 也不是文本），"
        "请确认选对了文件")


def _xlsx_bytes(rows: list[list[object]]) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet("名册")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    return buf.getvalue()


def test_truncated_xlsx(tmp_path: Path) -> None:
    whole = _xlsx_bytes([["姓名", "身份证号", "救助类别"], ["张三", "110101195001010019", "农村低保"]])
    cut = tmp_path / "名册.xlsx"
    cut.write_bytes(whole[: len(whole) // 2])
    assert error_of(tmp_path, roll=cut) == (
        "cardcheck: error: 名册.xlsx：Excel（XLSX）文件不完整或已损坏（压缩包无法打开），"
        "可能下载或复制时被截断，请重新导出")


def test_a_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "名册.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    assert error_of(tmp_path, roll=path) == (
        "cardcheck: error: 名册.xlsx：是 zip 压缩包，但不是 Excel（XLSX）工作簿")


def test_password_protected_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "名册.xlsx"
    shutil.copy(BAD / "roll_password.xlsx", path)  # Office "encrypted package" (an OLE2 file)
    assert path.read_bytes().startswith(b"\xd0\xcf\x11\xe0")
    assert error_of(tmp_path, roll=path) == (
        "cardcheck: error: 名册.xlsx：文件设有打开密码（加密的 Excel 工作簿），请在 Excel 中取消密码"
        "后另存再试")


def test_xls_that_is_html_loads(tmp_path: Path) -> None:
    html = ("<html><head><meta http-equiv=Content-Type content=\"text/html; charset=gbk\"></head>"
            "<body><table><tr><td>卡号</td><td>户名</td><td>金额</td><td>摘要</td><td>发放日期</td>"
            "</tr><tr><td>6217000000000001</td><td>张三</td><td>300.00</td>"
            "<td>2023年04月农村低保</td><td>2023-04-10</td></tr></table></body></html>")
    path = tmp_path / "代发明细.xls"
    path.write_bytes(html.encode("gbk"))
    result = check(tmp_path, payments=path)
    assert result.exit_code == 0, result.output
    got = counts(tmp_path, "payments")
    assert (got["format"], got["encoding"], got["read"], got["loaded"], got["rejected"]) == (
        "html", "gbk", 1, 1, 0)


def test_big5_read_as_gb18030_says_which_encoding(tmp_path: Path) -> None:
    # Big5 bytes happen to decode as GB18030, into nonsense: no header is found
    big5 = "姓名,身份證號,救助類別\n張三,110101195001010019,農村低保\n".encode("big5")
    assert error_of(tmp_path, roll=big5) == (
        "cardcheck: error: roll.csv：在前 3 行中找不到 roll 表的表头（没有一格是已知的列名，如 姓名、"
        "身份证号、救助类别；全部列名见 configs/columns.yaml；文件按 GB18030 编码读取，若表头是乱码，"
        "说明文件是别的编码（如 Big5、Latin-1），请在 Excel 中另存为“CSV UTF-8”后重试）")


def test_latin1_file_names_the_encodings_tried(tmp_path: Path) -> None:
    latin1 = "Nom,Prénom,Âge,Numéro\nJosé,Ñoño,3,ü\n".encode("latin-1")
    assert error_of(tmp_path, roll=latin1) == (
        "cardcheck: error: roll.csv：无法识别文件的文字编码（试过 UTF-8、GBK、GB18030），请在 Excel "
        "中另存为“CSV UTF-8”后重试")


def test_mojibake_headers_say_utf8_was_tried(tmp_path: Path) -> None:
    # GBK bytes once decoded as Latin-1 and saved again as UTF-8: valid UTF-8, garbled headers
    garbled = "姓名,身份证号,救助类别\n".encode("gbk").decode("latin-1")
    text = garbled + "x,110101195001010019,y\n"
    assert error_of(tmp_path, roll=text) == (
        "cardcheck: error: roll.csv：在前 3 行中找不到 roll 表的表头（没有一格是已知的列名，如 姓名、"
        "身份证号、救助类别；全部列名见 configs/columns.yaml；文件按 UTF-8 编码读取，若表头是乱码，"
        "说明文件是别的编码（如 Big5、Latin-1），请在 Excel 中另存为“CSV UTF-8”后重试）")


def test_utf16_without_bom_loads(tmp_path: Path) -> None:
    result = check(tmp_path, accounts=ACCOUNTS.replace(",", "\t").encode("utf-16-le"))
    assert result.exit_code == 0, result.output
    got = counts(tmp_path, "accounts")
    assert (got["encoding"], got["loaded"]) == ("utf-16-le", 1)


# ------------------------------------------------------------------ the header is wrong


def test_duplicate_header_names(tmp_path: Path) -> None:
    roll = "姓名,身份证号,救助类别,身份证号\n张三,110101195001010019,农村低保,1\n"
    assert error_of(tmp_path, roll=roll) == (
        "cardcheck: error: roll.csv：第 2 列和第 4 列表头都是“身份证号”，但内容不同（第 2 行："
        "“110101195001010019”与“1”），无法确定用哪一列；请删去或改名其中一列")


def test_required_column_missing_names_aliases(tmp_path: Path) -> None:
    assert error_of(tmp_path, payments="卡号,户名,摘要,发放日期\n1,张三,x,2023-04-10\n") == (
        "cardcheck: error: payments.csv：缺少必需的列 amount（已尝试：金额、交易金额、发放金额、"
        "代发金额、入账金额、实发金额）")


def test_two_columns_for_one_canonical_column_use_the_better_ranked(tmp_path: Path) -> None:
    accounts = "卡号,银行卡号,户名\n6217000000000001,6217000000000009,张三\n"
    result = check(tmp_path, accounts=accounts)
    assert result.exit_code == 0, result.output
    assert counts(tmp_path, "accounts")["loaded"] == 1


# ------------------------------------------------------------------ the same file twice


def test_same_file_under_two_kinds(tmp_path: Path) -> None:
    copy = tmp_path / "copy.csv"
    copy.write_text(ROLL, encoding="utf-8")
    digest = hashlib.sha256(ROLL.encode()).hexdigest()[:12]
    assert error_of(tmp_path, payments=copy) == (
        f"cardcheck: error: 同一个文件给了两次：roll.csv（roll）和 copy.csv（payments）内容完全相同"
        f"（SHA-256 {digest}…），请检查每一项给的是不是对的文件")


def test_same_file_twice_for_one_kind(tmp_path: Path) -> None:
    f = inputs(tmp_path)
    result = CliRunner().invoke(app, [
        "check", "--roll", str(f["roll"]), "--accounts", str(f["accounts"]),
        "--payments", str(f["payments"]), "--payments", str(f["payments"]),
        "--out", str(tmp_path / "out"), "-q"])
    digest = hashlib.sha256(PAYMENTS.encode()).hexdigest()[:12]
    assert result.exit_code == 2
    assert result.stderr == (
        f"cardcheck: error: 同一个文件给了两次：{f['payments']}（payments）和 {f['payments']}"
        f"（payments）内容完全相同（SHA-256 {digest}…），请检查每一项给的是不是对的文件\n")


# ------------------------------------------------------------------ bad rows: rejected, run goes on


def test_one_megabyte_cell_rejects_the_row(tmp_path: Path) -> None:
    huge = "王" * 1_000_000
    roll = ROLL + f"H002,{huge},110101195001010027,户主,农村低保,300,2020-01-01,,6217000000000002\n"
    result = check(tmp_path, roll=roll)
    assert result.exit_code == 0, result.output
    assert rejects(tmp_path) == [[
        "roll.csv", "3", "姓名", "王" * 50 + "…（共 1000000 个字符）",
        "单元格超过 10000 个字符，文件可能已损坏（如引号不配对）"]]
    got = counts(tmp_path, "roll")
    assert (got["read"], got["loaded"], got["rejected"]) == (2, 1, 1)


def test_unclosed_quote_swallowing_the_file_is_one_rejected_row(tmp_path: Path) -> None:
    rows = "".join(f"6217000000000001,张三,{i},2023年04月农村低保,2023-04-10\n" for i in range(3000))
    payments = PAYMENTS + '6217000000000001,"张三,300,x,2023-04-10\n' + rows
    result = check(tmp_path, payments=payments)
    assert result.exit_code == 0, result.output
    # Python's reader takes the rest of the file into the open quote (polars refuses it); the
    # card number in the cell quoted is masked
    assert rejects(tmp_path) == [[
        "payments.csv", "3", "户名；金额；发放日期",
        "张三,300,x,2023-04-10\\n6217****0001,张三,0,2023年04月…（共 145910 个字符）",
        "单元格超过 10000 个字符，文件可能已损坏（如引号不配对）；缺少金额；缺少发放日期"]]
    got = counts(tmp_path, "payments")
    assert (got["read"], got["loaded"], got["rejected"]) == (2, 1, 1)


def test_nul_bytes_reject_the_row_and_trailing_padding_is_dropped(tmp_path: Path) -> None:
    roll = (ROLL + "H002,李\x00四,110101195001010027,户主,农村低保,300,2020-01-01,,"
            "6217000000000002\n").encode() + b"\x00" * 4096
    result = check(tmp_path, roll=roll)
    assert result.exit_code == 0, result.output
    assert rejects(tmp_path) == [[
        "roll.csv", "3", "姓名", "李\\0四", "单元格含有空字符（\\0），文件可能已损坏"]]
    got = counts(tmp_path, "roll")
    assert (got["read"], got["loaded"], got["rejected"], got["skipped"]) == (2, 1, 1, 0)


def test_mixed_types_in_one_column(tmp_path: Path) -> None:
    payments = PAYMENTS + (
        "6217000000000001,张三,三百元,2023年05月农村低保,2023-05-10\n"
        "6217000000000001,张三,300,2023年06月农村低保,六月十日\n"
        "6217000000000001,张三,12.345,2023年07月农村低保,2023-07-10\n")
    result = check(tmp_path, payments=payments)
    assert result.exit_code == 0, result.output
    assert rejects(tmp_path) == [
        ["payments.csv", "3", "金额", "三百元", "不是金额"],
        ["payments.csv", "4", "发放日期", "六月十日", "无法识别的日期"],
        ["payments.csv", "5", "金额", "12.345", "金额超过两位小数"],
    ]


def test_mixed_types_in_an_xlsx_column(tmp_path: Path) -> None:
    path = tmp_path / "代发明细.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    import datetime as dt
    sheet.write_row(0, 0, ["卡号", "户名", "金额", "摘要", "发放日期"])
    sheet.write_row(1, 0, ["6217000000000001", "张三", 300, "2023年04月农村低保"])
    sheet.write_datetime(1, 4, dt.datetime(2023, 4, 10), date)
    sheet.write_row(2, 0, ["6217000000000001", "张三", "叁佰", "2023年05月农村低保", 45056])
    sheet.write_row(3, 0, ["6217000000000001", "张三", True, "2023年06月农村低保", "待定"])
    book.close()
    result = check(tmp_path, payments=path)
    assert result.exit_code == 0, result.output
    assert rejects(tmp_path) == [
        ["代发明细.xlsx", "Sheet1!3", "金额", "叁佰", "不是金额"],
        ["代发明细.xlsx", "Sheet1!4", "金额；发放日期", "true；待定", "不是金额；无法识别的日期"],
    ]
    assert counts(tmp_path, "payments")["loaded"] == 1


def test_dates_in_the_future_or_before_1900(tmp_path: Path) -> None:
    payments = PAYMENTS + (
        "6217000000000001,张三,300,2023年05月农村低保,2099-05-10\n"
        "6217000000000001,张三,300,2023年06月农村低保,1899-06-10\n")
    result = check(tmp_path, payments=payments)
    assert result.exit_code == 0, result.output
    reason = "日期早于1900年或晚于一年之后，不合常理"
    assert rejects(tmp_path) == [["payments.csv", "3", "发放日期", "2099-05-10", reason],
                                 ["payments.csv", "4", "发放日期", "1899-06-10", reason]]


def test_negative_and_absurd_amounts_are_rejected_or_dropped(tmp_path: Path) -> None:
    payments = PAYMENTS + (
        "6217000000000001,张三,-300,2023年05月农村低保,2023-05-10\n"
        "6217000000000001,张三,\"1,000,000.01\",2023年06月农村低保,2023-06-10\n"
        "6217000000000001,张三,99999999999999999,2023年07月农村低保,2023-07-10\n")
    roll = ROLL.replace(",300,", ",-50,")
    result = check(tmp_path, payments=payments, roll=roll + roll.splitlines()[1]
                   .replace("-50", "100001") + "\n")
    assert result.exit_code == 0, result.output
    assert rejects(tmp_path) == [
        # the roll's approved amount is not the row's key: the beneficiary loads without it
        ["roll.csv", "2", "月保障金额", "'-50", "字段已置空，行已载入：金额为负数"],
        ["roll.csv", "3", "月保障金额", "100001", "字段已置空，行已载入：金额超过 100,000 元，不合常理"],
        ["payments.csv", "4", "金额", "1,000,000.01", "金额超过 1,000,000 元，不合常理"],
        ["payments.csv", "5", "金额", "9999****9999", "金额位数过多"],  # 17 digits: masked
    ]
    # a negative payment is a reversal: it loads, and nets the 300 元 credit of 2023-04-10
    assert [counts(tmp_path, k)["loaded"] for k in ("roll", "payments")] == [2, 2]
    assert counts(tmp_path, "roll")["dropped"] == 2
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["reversals"] == [{"table": "payments", "netted_pairs": 1, "unmatched": 0}]


# ------------------------------------------------------------------ the run goes on, with a warning


def test_roll_and_payments_of_different_years_warn(tmp_path: Path) -> None:
    roll = ROLL.replace("2020-01-01,,", "2015-01-01,2016-06-30,")
    result = check(tmp_path, roll=roll)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "cardcheck: warning: 名册中没有一个对象在代发明细的月份（2023年04月）内处于保障期，名册的保障期"
        "在 2015年01月–2016年06月；名册和代发明细可能不是同一年度的，请核对（核查照常进行）\n")
    assert (tmp_path / "out" / "findings.csv").exists()


def test_no_warning_when_the_roll_covers_the_payments(tmp_path: Path) -> None:
    result = check(tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


@pytest.mark.parametrize("name", ["missing.csv", "folder"])
def test_missing_or_unreadable_path(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    if name == "folder":
        target.mkdir()
    message = error_of(tmp_path, accounts=target)
    expected = "文件不存在" if name == "missing.csv" else "是一个文件夹，不是文件；请给出文件夹里的某个文件"
    assert message == f"cardcheck: error: {target}：{expected}"


def test_only_equal_content_is_the_same_file(tmp_path: Path) -> None:
    """Files of one size are compared by content: equal sizes alone are no error."""
    a, b, c = (tmp_path / n for n in ("a.csv", "b.csv", "c.csv"))
    a.write_text("卡号,金额\n1,2\n", encoding="utf-8")
    b.write_text("卡号,金额\n1,3\n", encoding="utf-8")
    c.write_text("卡号,金额\n1,2\n", encoding="utf-8")
    same_files({"payments": [a, b], "transactions": []})
    with pytest.raises(InputError, match="a.csv（payments）和 c.csv（transactions）"):
        same_files({"payments": [a, b], "transactions": [c]})


def test_reader_notes_the_digest_of_the_bytes_on_disk(tmp_path: Path) -> None:
    """The manifest's SHA-256 of an input comes from the bytes the reader read (GBK here, not
    the text decoded from them)."""
    path = tmp_path / "roll.csv"
    path.write_bytes(ROLL.encode("gbk"))
    load_file(path, "roll", load_config())
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    assert checks._DIGESTS[key] == hashlib.sha256(ROLL.encode("gbk")).hexdigest()
    assert checks.sha256(path) == checks._DIGESTS[key]
