"""Hostile files against every reader: each is refused with exit 2 and one line naming the file
and the limit (configs/limits.yaml), within seconds and a few hundred MB, never a crash, a hang
or a traceback.

Every file is made here and small on disk (a sparse file, a zip bomb of a few hundred KB). Each
`cardcheck check` runs in a subprocess bounded by RLIMIT_DATA (the heap: polars and rayon reserve
gigabytes of address space up front, so RLIMIT_AS would fail a healthy run) and a timeout: a
reader that allocates what a hostile file asks for dies there (exit 134 from Rust, MemoryError)
instead of taking the machine."""

from __future__ import annotations

import os
import random
import re
import resource
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
import xlsxwriter

from cardcheck.config import load_config
from cardcheck.errors import ConfigError, InputError
from cardcheck.ingest import xlsx as X
from cardcheck.ingest.guard import check_lines
from cardcheck.limits import MB, Limits
from cardcheck.yamlsafe import ALIAS_NODES
from cardcheck.yamlsafe import load as load_yaml

ROOT = Path(__file__).parent.parent
MEMORY = 512 << 20  # RLIMIT_DATA of each run: a healthy small check needs under 300 MB
TIMEOUT = 30  # seconds; a refusal takes about as long as starting Python and polars
ROLL_HEADER = ["户编号", "姓名", "身份证号", "与户主关系", "救助类别", "月保障金额", "保障起始日期",
               "保障终止日期", "银行卡号"]
ROLL_ROW = ["H001", "张三", "110101195001010019", "户主", "农村低保", "300", "2020-01-01", "",
            "6217000000000001"]
ROLL = ",".join(ROLL_HEADER) + "\n" + ",".join(ROLL_ROW) + "\n"
ACCOUNTS = "卡号,户名,身份证号,开户日期\n6217000000000001,张三,110101195001010019,2019-01-01\n"
PAYMENTS = "卡号,户名,金额,摘要,发放日期\n6217000000000001,张三,300.00,2023年04月农村低保,2023-04-10\n"


def _bounded() -> None:
    resource.setrlimit(resource.RLIMIT_DATA, (MEMORY, MEMORY))


def bounded(args: list[str], cwd: Path) -> tuple[int, str]:
    """(exit code, stderr) of `python -m cardcheck ARGS` in a bounded subprocess."""
    env = {**os.environ, "POLARS_MAX_THREADS": "2",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "cardcheck", *args], preexec_fn=_bounded,
                          capture_output=True, text=True, timeout=TIMEOUT, env=env, cwd=cwd,
                          check=False)
    assert time.monotonic() - start < TIMEOUT
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stderr


def run(tmp_path: Path, *extra: str, **files: Path) -> tuple[int, str]:
    """`cardcheck check` on good roll, accounts and payments unless replaced by `files`, in a
    bounded subprocess: (exit code, stderr)."""
    paths = {}
    for kind, text in (("roll", ROLL), ("accounts", ACCOUNTS), ("payments", PAYMENTS)):
        if kind in files:
            paths[kind] = files[kind]
        else:
            paths[kind] = tmp_path / f"{kind}.csv"
            paths[kind].write_text(text, encoding="utf-8")
    return bounded(["check", "--roll", str(paths["roll"]), "--accounts", str(paths["accounts"]),
                    "--payments", str(paths["payments"]), "--out", str(tmp_path / "out"),
                    "--no-excel", "-q", "--rules", "C01", *extra], tmp_path)


def refused(tmp_path: Path, *extra: str, **files: Path) -> str:
    """The one error line of a run that must stop with exit 2, writing nothing (a warning
    before it, such as the memory one for a file of 5 GB, may come first)."""
    code, err = run(tmp_path, *extra, **files)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert all(line.startswith("cardcheck: warning:") for line in lines[:-1]), lines
    assert not (tmp_path / "out" / "findings.csv").exists()
    return lines[-1]


def config(tmp_path: Path, text: str) -> tuple[str, str]:
    path = tmp_path / "本县设置.yaml"
    path.write_text(text, encoding="utf-8")
    return "--config", str(path)


# ------------------------------------------------------------------------------ XLSX


def far_cell_xlsx(path: Path, cell: str = "XFD1048576", dimension: str | None = None) -> Path:
    """A roll header and one more cell far away; `dimension` replaces the declared one ("" takes
    it out)."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("名册")
    ws.write_row(0, 0, ROLL_HEADER)
    ws.write(cell, "x")
    wb.close()
    if dimension is not None:
        new = f'<dimension ref="{dimension}"/>'.encode() if dimension else b""
        rewrite(path, lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', new, xml))
    return path


def rewrite(path: Path, change: Callable[[bytes], bytes],
            part: str = "xl/worksheets/sheet1.xml") -> None:
    with zipfile.ZipFile(path) as z:
        parts = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts:
            z.writestr(info, change(data) if info.filename == part else data)


@pytest.mark.parametrize("dimension", [None, "A1:C2", ""], ids=["declared", "lying", "none"])
@pytest.mark.parametrize("cell", ["XFD1048576", "ZZ500000", "XFD10000"])
def test_one_far_cell(tmp_path: Path, cell: str, dimension: str | None) -> None:
    """One cell at XFD1048576 made calamine ask for 512 GiB (exit 134); the dimension the sheet
    declares, true, false or absent, changes nothing."""
    path = far_cell_xlsx(tmp_path / "名册.xlsx", cell, dimension)
    line = refused(tmp_path, roll=path)
    letters, digits = re.match(r"([A-Z]+)(\d+)", cell).groups()  # type: ignore[union-attr]
    cols = X.col_index(letters.encode())
    assert f"名册.xlsx 工作表“名册”：有内容的单元格从 A1:{cell}" in line
    assert f"共 {int(digits):,} 行 × {cols:,} 列 = {int(digits) * cols:,} 个单元格" in line
    assert "超过上限 100,000,000（limits.sheet_cells）" in line
    assert "limits: {sheet_cells: 400000000}" in line
    if dimension is None:
        assert f"工作表声明的范围是 A1:{cell}" in line


def test_huge_declared_dimension_alone_is_read(tmp_path: Path) -> None:
    """A declared <dimension> of the whole sheet over a few real cells: calamine allocates from
    the cells, not the declaration, so the file is read."""
    path = tmp_path / "名册.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ROLL_HEADER)
    ws.write_row(1, 0, ROLL_ROW)
    wb.close()
    rewrite(path, lambda xml: re.sub(rb'<dimension ref="[^"]*"/>',
                                     b'<dimension ref="A1:XFD1048576"/>', xml))
    code, err = run(tmp_path, roll=path)
    assert code == 0, err


def test_the_limit_can_be_raised(tmp_path: Path) -> None:
    path = far_cell_xlsx(tmp_path / "名册.xlsx", "Z1000")  # 26,000 cells
    line = refused(tmp_path, *config(tmp_path, "limits:\n  sheet_cells: 20000\n"), roll=path)
    assert "共 1,000 行 × 26 列 = 26,000 个单元格，工作表声明的范围是 A1:Z1000，超过上限 20,000" in line
    code, err = run(tmp_path, *config(tmp_path, "limits:\n  sheet_cells: 30000\n"), roll=path)
    assert code == 0, err


def zip_bomb(path: Path, megabytes: int, lie: bool = False) -> Path:
    """A workbook whose sheet is `megabytes` of XML padding (a few hundred KB zipped); with
    `lie`, the zip declares the sheet as its first 4 KB."""
    far_cell_xlsx(path, "C2")
    with zipfile.ZipFile(path) as z:
        parts = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts:
            if info.filename != "xl/worksheets/sheet1.xml":
                z.writestr(info, data)
                continue
            head, tail = data.split(b"<sheetData>")
            with z.open(info.filename, "w") as fh:
                fh.write(head + b"<sheetData>")
                for _ in range(megabytes):
                    fh.write(b" " * MB)
                fh.write(tail)
    if lie:
        _declare(path, "xl/worksheets/sheet1.xml", 4096)
    return path


def _declare(path: Path, name: str, size: int) -> None:
    """Make the zip declare `name` as its first `size` bytes (size and CRC, local header and
    central directory), as a crafted file would."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
        with z.open(name) as fh:
            crc = zlib.crc32(fh.read(size))
    at = info.header_offset
    struct.pack_into("<I", data, at + 14, crc)
    struct.pack_into("<I", data, at + 22, size)
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46:central + 46 + length] == name.encode():
            struct.pack_into("<I", data, central + 16, crc)
            struct.pack_into("<I", data, central + 24, size)
            break
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))


def test_zip_bomb(tmp_path: Path) -> None:
    path = zip_bomb(tmp_path / "名册.xlsx", 300)
    assert path.stat().st_size < 2 * MB
    line = refused(tmp_path, roll=path)
    assert "名册.xlsx：压缩包中的部件 xl/worksheets/sheet1.xml 解压后是压缩时的" in line
    assert "超过上限 100 倍（limits.zip_ratio）" in line


def test_zip_bomb_whose_zip_lies_about_its_size(tmp_path: Path) -> None:
    """The zip declares 4 KB: Python's zipfile reads only those, calamine inflates it all."""
    path = zip_bomb(tmp_path / "名册.xlsx", 300, lie=True)
    line = refused(tmp_path, roll=path)
    assert line.endswith("名册.xlsx：Excel（XLSX）文件不完整或已损坏（部件 xl/worksheets/sheet1.xml"
                         " 解压后比压缩包记录的 4,096 字节更长，压缩包被改动过），可能下载或复制时被截断，请重新导出")


def test_far_cell_hidden_past_the_declared_size(tmp_path: Path) -> None:
    """The declared size and CRC cover the sheet without its far cell: zipfile sees a harmless
    sheet, calamine reads on to the cell (and aborted)."""
    path = far_cell_xlsx(tmp_path / "名册.xlsx")
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    _declare(path, "xl/worksheets/sheet1.xml", xml.index(b'<row r="1048576"'))
    assert "压缩包被改动过" in refused(tmp_path, roll=path)


@pytest.mark.parametrize(("key", "found"), [
    ("part_mb", "压缩包中的部件 xl/worksheets/sheet1.xml 解压后有 3 MB，超过上限 2 MB"),
    ("unzipped_mb", "压缩包解压后共有 3 MB，超过上限 2 MB"),
    ("zip_parts", "压缩包中有 {parts} 个部件，超过上限 2"),
])
def test_zip_limits_from_the_config(tmp_path: Path, key: str, found: str) -> None:
    path = zip_bomb(tmp_path / "名册.xlsx", 3)
    with zipfile.ZipFile(path) as z:
        found = found.format(parts=len(z.namelist()))
    extra = config(tmp_path, f"limits:\n  {key}: 2\n  zip_ratio: 100000\n")
    assert f"名册.xlsx：{found}（limits.{key}）" in refused(tmp_path, *extra, roll=path)


def test_shared_strings_declaring_billions(tmp_path: Path) -> None:
    """calamine reserves room for the declared uniqueCount before reading a string."""
    path = far_cell_xlsx(tmp_path / "名册.xlsx", "C2")
    rewrite(path, lambda xml: re.sub(rb'uniqueCount="[0-9]+"', b'uniqueCount="2000000000"', xml),
            "xl/sharedStrings.xml")
    line = refused(tmp_path, roll=path)
    assert "（共享字符串表 xl/sharedStrings.xml 声明有 2,000,000,000 个字符串，但它只有" in line


def test_a_sheet_the_reader_cannot_load(tmp_path: Path) -> None:
    """A string index past the shared strings: calamine's error on loading the sheet is an
    input error naming the file and the sheet (it was a traceback, exit 3)."""
    path = tmp_path / "名册.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("名册").write_row(0, 0, ROLL_HEADER)
    wb.close()
    rewrite(path, lambda xml: xml.replace(b"<v>1</v>", b"<v>99</v>", 1))
    line = refused(tmp_path, roll=path)
    assert "名册.xlsx 工作表“名册”：无法读取，Excel 文件可能已损坏（" in line
    assert "shared strings" in line


def test_a_damaged_sheet_xml(tmp_path: Path) -> None:
    path = tmp_path / "名册.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("名册").write_row(0, 0, ROLL_HEADER)
    wb.close()
    rewrite(path, lambda xml: xml.replace(b"</c></row>", b"</row>", 1))
    assert "名册.xlsx 工作表“名册”：无法读取，Excel 文件可能已损坏" in refused(tmp_path, roll=path)


# ------------------------------------------------------------------------------ XLS


def test_legacy_xls_with_a_far_column(tmp_path: Path) -> None:
    """A BIFF column is 16 bits: one RK record at column 65,000 asks for 4 billion cells."""
    xlwt = pytest.importorskip("xlwt")
    path = tmp_path / "名册.xls"
    wb = xlwt.Workbook()
    ws = wb.add_sheet("名册")
    for i, name in enumerate(ROLL_HEADER):
        ws.write(0, i, name)
    ws.write(60000, 200, 12345.5)
    wb.save(str(path))
    data = path.read_bytes()
    at = data.find(struct.pack("<HHHH", 0x027E, 10, 60000, 200))
    assert at > 0
    path.write_bytes(data[:at] + struct.pack("<HHHH", 0x027E, 10, 60000, 65000) + data[at + 8:])
    line = refused(tmp_path, roll=path)
    assert ("名册.xls 工作表“名册”：有内容的单元格从第 1 行第 1 列到第 60001 行第 65001 列，共 60,001 行 × "
            "65,001 列 = 3,900,125,001 个单元格，超过上限 100,000,000（limits.sheet_cells）") in line


# ------------------------------------------------------------------------------ text


def test_very_long_line(tmp_path: Path) -> None:
    path = tmp_path / "名册.csv"
    with open(path, "wb") as fh:
        fh.write(ROLL.encode())
        fh.write(b"H002," + b"x" * (17 * MB) + b"\n")
    line = refused(tmp_path, roll=path)
    assert "名册.csv：第 3 行长 17.0 MB（中间没有换行），超过上限 16 MB（limits.line_mb）" in line


def test_very_long_line_in_a_bank_text_file(tmp_path: Path) -> None:
    """A file read by a declared layout (cardcheck/ingest/layout.py), its long line past the
    first MB the layout is tried on."""
    path = tmp_path / "回盘.txt"
    good = b"6217000000000001|\xd5\xc5\xc8\xfd|300.00|2023-04-10\n"  # 张三 in GBK
    path.write_bytes(good * 40_000 + b"6217000000000001|" + b"9" * (3 * MB) + b"|1|2023-04-10\n")
    extra = config(tmp_path, "limits:\n  line_mb: 1\nlayouts:\n  回盘:\n    kind: payments\n"
                   '    files: "回盘*.txt"\n    delimiter: "|"\n'
                   "    columns: [card_no, account_name, amount, pay_date]\n")
    line = refused(tmp_path, *extra, payments=path)
    assert "回盘.txt：第 40001 行长 3.0 MB（中间没有换行），超过上限 1 MB（limits.line_mb）" in line


def test_huge_file(tmp_path: Path) -> None:
    path = tmp_path / "名册.csv"
    with open(path, "wb") as fh:
        fh.write(ROLL.encode())
        fh.truncate(5 << 30)  # sparse: nothing written
    line = refused(tmp_path, roll=path)
    assert "名册.csv：文件大小 5,120 MB，超过上限 4,096 MB（limits.file_mb）" in line


def test_too_many_columns(tmp_path: Path) -> None:
    path = tmp_path / "名册.csv"
    path.write_text(",".join(ROLL_HEADER + [f"备注{i}" for i in range(2_500)]) + "\n"
                    + ",".join(ROLL_ROW) + "\n", encoding="utf-8")
    line = refused(tmp_path, roll=path)
    assert "名册.csv：第 1 行（表头）有 2,509 列，超过上限 2,000（limits.columns）" in line


def test_a_wide_file_within_the_bounds(tmp_path: Path) -> None:
    """500 columns under the limit: read in the same few hundred MB (the skip reasons' plan
    over 500 columns took over 3 GB)."""
    path = tmp_path / "名册.csv"
    path.write_text(",".join(ROLL_HEADER + [f"备注{i}" for i in range(500)]) + "\n"
                    + (",".join(ROLL_ROW) + "," * 500 + "\n") * 3, encoding="utf-8")
    code, err = run(tmp_path, roll=path)
    assert code == 0, err


def test_csv_with_carriage_returns_only(tmp_path: Path) -> None:
    """Old Mac line ends in the payments (once a panic in polars): read as lines."""
    path = tmp_path / "代发明细.csv"
    path.write_bytes(PAYMENTS.replace("\n", "\r").encode("utf-8"))
    code, err = run(tmp_path, payments=path)
    assert code == 0, err
    counts = (tmp_path / "out" / "manifest.json").read_text(encoding="utf-8")
    assert '"file": "代发明细.csv"' in counts


# ------------------------------------------------------------------------------ HTML


def test_html_colspan_bomb(tmp_path: Path) -> None:
    path = tmp_path / "代发明细.xls"
    path.write_text("<html><table><tr><td>卡号</td><td>金额</td></tr><tr>"
                    + '<td colspan="1000">1</td>' * 11_000 + "</tr></table></html>",
                    encoding="utf-8")
    assert path.stat().st_size < MB
    line = refused(tmp_path, payments=path)
    assert "代发明细.xls：网页格式的文件中表格共有超过 10,000,000 个单元格" in line
    assert "（limits.html_cells）" in line


def test_html_rowspan_bomb(tmp_path: Path) -> None:
    path = tmp_path / "代发明细.xls"
    path.write_text("<table><tr>" + '<td rowspan="65534" colspan="1000">1</td>' * 20
                    + "</tr>" + "<tr></tr>" * 5000 + "</table>", encoding="utf-8")
    assert "（limits.html_cells）" in refused(tmp_path, payments=path)


def test_html_deep_nesting(tmp_path: Path) -> None:
    path = tmp_path / "代发明细.xls"
    path.write_text("<html>" + "<table><tr><td>" * 100_000 + "卡号", encoding="utf-8")
    line = refused(tmp_path, payments=path)
    assert "代发明细.xls：网页格式的文件中表格嵌套了 33 层（表格里套表格），超过上限 32（limits.html_depth）" in line


def test_html_span_of_many_digits(tmp_path: Path) -> None:
    """A rowspan of 5,000 digits (int() refuses to read so many) is the most a browser reads."""
    path = tmp_path / "代发明细.xls"
    path.write_text("<table><tr><td>卡号</td><td>户名</td><td>金额</td><td>摘要</td><td>发放日期</td>"
                    f'<td rowspan="{"9" * 5000}">x</td></tr><tr><td>6217000000000001</td>'
                    "<td>张三</td><td>300.00</td><td>2023年04月农村低保</td><td>2023-04-10</td></tr>"
                    "</table>", encoding="utf-8")
    code, err = run(tmp_path, payments=path)
    assert code == 0, err


# ------------------------------------------------------------------------------ not files


def test_fifo_without_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "名册.csv"
    os.mkfifo(path)
    line = refused(tmp_path, roll=path)
    assert line.endswith(f"{path}：是命名管道（FIFO），不是普通文件；请先把内容保存成文件")


def test_symlink_to_dev_zero(tmp_path: Path) -> None:
    path = tmp_path / "名册.csv"
    path.symlink_to("/dev/zero")
    line = refused(tmp_path, roll=path)
    assert line.endswith(f"{path}（符号链接，指向 /dev/zero）：是字符设备（如 /dev/zero），不是普通文件")


def test_directory(tmp_path: Path) -> None:
    path = tmp_path / "名册.csv"
    path.mkdir()
    assert refused(tmp_path, roll=path).endswith(f"{path}：是一个文件夹，不是文件；请给出文件夹里的某个文件")


def test_fifo_given_twice_does_not_hang(tmp_path: Path) -> None:
    """Two inputs of one size are hashed to find the same file given twice: not a FIFO."""
    fifo = tmp_path / "名册.csv"
    os.mkfifo(fifo)
    other = tmp_path / "账户.csv"
    os.mkfifo(other)
    assert "命名管道" in refused(tmp_path, roll=fifo, accounts=other)


# ------------------------------------------------------------------------------ YAML


def laughs(levels: int = 9) -> str:
    items = ['&a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    items += [f"&a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels + 1)]
    return "".join(f"  - {item}\n" for item in items)


def test_billion_laughs_config(tmp_path: Path) -> None:
    line = refused(tmp_path, *config(tmp_path, "generic_memos:\n" + laughs()))
    assert line == (f"cardcheck: error: {tmp_path / '本县设置.yaml'}: its YAML aliases (*name) "
                    f"repeat more than {ALIAS_NODES:,} values (an alias nested in aliases, or a "
                    "value that contains itself); a configuration never needs that many: write "
                    "the values out")


def test_billion_laughs_inputs_yaml(tmp_path: Path) -> None:
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "inputs.yaml").write_text("refs:\n  deaths:\n" + laughs().replace("  - ", "    - "),
                                        encoding="utf-8")
    code, err = bounded(["check", "--inputs", str(folder), "--out", str(tmp_path / "out"), "-q"],
                        tmp_path)
    assert code == 2, err
    assert f"{folder / 'inputs.yaml'}: its YAML aliases (*name) repeat more than" in err


@pytest.mark.parametrize("levels", [1, 2])
def test_a_few_aliases_are_fine(levels: int) -> None:
    data = load_yaml("base: &b {a: 1, b: [1, 2]}\ncopy: *b\nmerged:\n  <<: *b\n  c: 3\nlist:\n"
                     + laughs(levels), "x.yaml")
    assert data["merged"] == {"a": 1, "b": [1, 2], "c": 3}
    assert len(data["list"]) == levels + 1


def test_a_value_that_contains_itself() -> None:
    with pytest.raises(ConfigError, match="repeat more than"):
        load_yaml("a: &a [1, *a]\n", "x.yaml")


# ------------------------------------------------------------------------------ the limits


def test_the_defaults_are_the_config() -> None:
    assert load_config().limits == Limits()


@pytest.mark.parametrize(("text", "message"), [
    ("limits:\n  file_mb: 0\n", ("limits.file_mb: expected a whole number 1 or more (the MB "
                                  "an input file may have), got 0")),
    ("limits:\n  line_mb: big\n", "limits.line_mb: expected a whole number 1 or more"),
    ("limits:\n  rows: 5\n", "limits.rows: expected one of file_mb, line_mb"),
    ("limits: 5\n", "limits: expected a mapping of limits, got 5"),
])
def test_bad_limits_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "本县设置.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(f"{path}: {message}")):
        load_config(path)


@pytest.mark.parametrize("seed", range(6))
def test_long_lines_are_found_wherever_they_are(seed: int) -> None:
    """The windowed search finds a line just over the limit at any place, among lines just under
    it, with any line break."""
    rng = random.Random(seed)
    limits = Limits(line_mb=1)
    limit = MB
    breaks = rng.choice([b"\n", b"\r\n", b"\r"])
    lines = [b"x" * rng.randrange(limit - 5, limit + 1) for _ in range(rng.randrange(1, 6))]
    data = breaks.join(lines)
    check_lines(data, "f.csv", limits)  # none over
    at = rng.randrange(len(lines) + 1)
    lines.insert(at, b"y" * (limit + 1 + rng.randrange(3)))
    with pytest.raises(InputError, match=rf"f\.csv：第 {at + 1} 行长"):
        check_lines(breaks.join(lines), "f.csv", limits)


# ------------------------------------------------------------------------------ the sheet scan


@pytest.mark.parametrize("seed", range(12))
def test_the_scan_finds_the_filled_extent(seed: int) -> None:
    """The chunked search against a plain reading of every cell: sheets of random size, with
    empty cells, formulas, inline strings, cells out of order and a far cell anywhere, cut
    into chunks anywhere."""
    rng = random.Random(seed)
    rows = rng.randrange(1, 300)
    cols = rng.randrange(1, 40)
    cells = []
    for r in range(1 + rng.randrange(3), rows + 2):
        for c in range(1 + rng.randrange(2), cols + 1):
            kind = rng.random()
            cells.append((r, c, "empty" if kind < 0.2 else "formula" if kind < 0.3 else
                          "nocache" if kind < 0.35 else "inline" if kind < 0.45 else "value"))
    if rng.random() < 0.7:  # a far cell, somewhere in the document order
        far = (rng.randrange(1, 1_048_577), rng.randrange(1, 16_385), "value")
        cells.insert(rng.randrange(len(cells) + 1), far)
    if rng.random() < 0.3:
        rng.shuffle(cells)
    xml = b'<worksheet><dimension ref="A1"/><sheetData>' + b"".join(
        _cell(r, c, kind) for r, c, kind in cells) + b"</sheetData></worksheet>"
    filled = [(r, c) for r, c, kind in cells if kind not in ("empty", "nocache")]
    size = rng.choice([7, 64, 1000, len(xml)])
    scan = X._Scan("s", Limits(sheet_cells=1 << 40, columns=1 << 20))
    scan.run(iter([xml[i:i + size] for i in range(0, len(xml), size)]), scan.fast)
    ext = scan.extent
    if not filled:
        assert ext.r2 == 0
        return
    assert (ext.r1, ext.r2) == (min(r for r, _ in filled), max(r for r, _ in filled))
    assert (ext.c1, ext.c2) == (min(c for _, c in filled), max(c for _, c in filled))


def _cell(r: int, c: int, kind: str) -> bytes:
    ref = f'r="{X.col_letters(c)}{r}"'.encode()
    return {"empty": b"<c " + ref + b' s="1"/>',
            "formula": b"<c " + ref + b"><f>A1+1</f><v>2</v></c>",
            "nocache": b"<c " + ref + b"><f>A1+1</f></c>",
            "inline": b"<c " + ref + b' t="inlineStr"><is><t>x</t></is></c>',
            "value": b"<c " + ref + b' t="s"><v>0</v></c>'}[kind]


@pytest.mark.parametrize("xml", [
    b'<row r="3"><c><v>1</v></c><c><v>1</v></c></row><row><c><v>1</v></c></row>',  # no r
    b'<row r="3"><c t="s" r="B3"><v>1</v></c></row>',  # r not first
    b'<x:row r="3"><x:c r="B3"><x:v>1</x:v></x:c></x:row>',  # prefixed
    b'<row r="3"><c r="b3"><v>1</v></c></row>',  # lower case
])
def test_cells_written_otherwise_are_walked(xml: bytes) -> None:
    scan = X.scan_sheet(lambda: iter([b"<sheetData>" + xml + b"</sheetData>"]), "s", Limits())
    assert scan.first_row == 2  # calamine's grid starts at row 3


@pytest.mark.parametrize("seed", range(5))
def test_greater_and_less_patterns(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        n = rng.randrange(1, 10 ** rng.randrange(1, 8))
        other = rng.randrange(1, 10 ** rng.randrange(1, 8))
        gt = re.compile("(?:" + "|".join(X._greater(str(n), X.DIGITS)) + ")$")
        lt = re.compile("(?:" + "|".join(X._less(str(n), X.DIGITS)) + ")$") \
            if X._less(str(n), X.DIGITS) else None
        assert bool(gt.match(str(other))) == (other > n)
        assert bool(lt and lt.match(str(other))) == (other < n)
        a, b = X.col_letters(rng.randrange(1, 16385)), X.col_letters(rng.randrange(1, 16385))
        gt = re.compile("(?:" + "|".join(X._greater(a, X.LETTERS)) + ")$")
        assert bool(gt.match(b)) == (X.col_index(b.encode()) > X.col_index(a.encode()))
