"""The ledger's round trip through Excel: read a returned 表4 back, write 表4/表5 from the ledger.

Every 表4 row goes out pre-filled with the ledger's values (未整改, the proposed measure, 0), so
a value is only an entry when it differs from what that copy issued: the ledger keeps what each
run's workbook and each export issued (store.issues / issued). An export names its issue in a
hidden sheet; a run's workbook is recognised by its rows (the issue whose values most rows still
hold). A township returning an old or unfilled copy therefore resets nothing.

Import matches rows on 问题编号 and reads 整改状态, 整改措施, 追回金额(元) and 备注, found by
their headers (the column order does not matter); an empty cell is no entry (nothing is cleared
by an import). Each field is checked on its own: a wrong
status refuses that field, the row's other entries are still applied. A status moving back
(已整改/不属实/销号 → 未整改/整改中) needs allow_reopen. The report, in Chinese and per
township, names every refused field, deleted, duplicated and hand-added row with its sheet and
Excel row.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import fastexcel
import polars as pl

from cardcheck.errors import InputError
from cardcheck.ingest.guard import read_file
from cardcheck.ingest.xlsx import check_xlsx
from cardcheck.ledger.precheck import STOPPED_SHEET, stopped
from cardcheck.ledger.store import Ledger, now_text, own_note
from cardcheck.limits import Limits
from cardcheck.report import tables as T
from cardcheck.report.excel import Writer
from cardcheck.report.spec import ReportSpec
from cardcheck.report.summary import NO_TOWNSHIP, TOTAL

READ = ("finding_id", "status", "measure", "recovered", "note", "township")
STAMP_SHEET = "下发信息"  # hidden sheet of an export: which ledger and issue it is
STAMP_NOTE = "此表由 cardcheck 写入，供 ledger import 核对下发的内容，请勿修改或删除"
# the lines under a table (填报单位（盖章）：, 负责人：, 单位：元…), not rows
FURNITURE = r"^(填报|负责人|审核|联系电话|单位|制表|说明|注)\S{0,6}[：:（(]"
HEAD_SEARCH = 30  # the header row is looked for in the first rows of a sheet
MONEY_LIMIT = 1e13  # 元; above this a number is shown as typed (1e308), never as fen
ROW_COLS = {"sheet": pl.String, "line": pl.Int64, "finding_id": pl.String, "township": pl.String,
            "status": pl.String, "measure": pl.String, "recovered": pl.String, "note": pl.String,
            "kind": pl.String}


@dataclass
class ImportReport:
    """What an import read and did. `rows`: one per row read (township, sheet, line,
    finding_id, changed, refused); `problems`: township, sheet, line, finding_id, message;
    `deleted`: rows issued but not returned (township, finding_id, village, category);
    `unreturned`: townships the file has no row of (township, rows issued)."""
    file: str
    basis: str
    rows: pl.DataFrame
    problems: pl.DataFrame
    deleted: pl.DataFrame
    unreturned: pl.DataFrame
    findings_changed: int = 0

    def counts(self, township: str | None = None) -> dict[str, int]:
        """读取 / 更新 / 无变化 / 拒绝 rows, of one township or of the file."""
        df = self.rows if township is None else self.rows.filter(pl.col("township") == township)
        return {"read": df.height, "changed": int(df["changed"].sum()),
                "unchanged": int((~df["changed"] & ~df["refused"]).sum()),
                "refused": int(df["refused"].sum()),
                "partly": int((df["refused"] & df["changed"]).sum()),
                "deleted": self.deleted.filter(
                    pl.col("township") == township).height if township else self.deleted.height}

    def lines(self) -> list[str]:
        def tally(c: dict[str, int]) -> str:
            partly = f"（其中 {c['partly']} 行其余内容已更新）" if c["partly"] else ""
            return (f"读取 {c['read']} 行，更新 {c['changed']} 行，无变化 {c['unchanged']} 行，"
                    f"拒绝 {c['refused']} 行{partly}")

        out = [(f"{self.file}：按{self.basis}核对；{tally(self.counts())}；"
                f"台账中 {self.findings_changed} 个问题有更新")]
        towns = pl.concat([self.rows.select("township"), self.deleted.select("township")])
        order = towns.unique().sort(pl.col("township") == NO_TOWNSHIP, "township")
        quiet = []
        for town in order.get_column("township").to_list():
            c = self.counts(town)
            if c["read"] == c["unchanged"] and not c["deleted"] and not self.problems.filter(
                    pl.col("township") == town).height:
                quiet.append(f"{town} {c['read']} 行")
                continue
            out.append(f"【{town}】{tally(c)}")
            mine = self.problems.filter(pl.col("township") == town).sort("sheet", "line", "order")
            for sheet, line, fid, message in mine.select(
                    "sheet", "line", "finding_id", "message").iter_rows():
                where = f"（问题编号 {fid}）" if fid else ""
                out.append(f"  {sheet} 第 {line} 行{where}：{message}")
            gone = self.deleted.filter(pl.col("township") == town)
            if gone.height:
                listed = "；".join(f"{f} {v} {c}".rstrip() for f, v, c in gone.select(
                    "finding_id", pl.col("village").fill_null(""),
                    pl.col("category").fill_null("")).iter_rows())
                out.append(f"  下发时有、退回时没有的 {gone.height} 行（被删除？台账未变）：{listed}")
        if quiet:
            out.append(f"无变化的乡镇（所有行与下发时相同或与台账一致）：{'、'.join(quiet)}")
        if self.unreturned.height:
            listed = "、".join(f"{t} {n} 行" for t, n in self.unreturned.iter_rows())
            out.append(f"未退回的乡镇（本文件中没有这些乡镇的行，台账未变）：{listed}")
        return out


# ---------------------------------------------------------------------- reading the workbook

def _norm(text: str | None) -> str:
    return "".join(str(text or "").split()).strip("*＊")


def _fields_of(header: tuple[object, ...], spec: ReportSpec) -> dict[int, str]:
    """Column index → field, by header text: exact, else a header that begins with the
    config's (整改状态（请选择） is 整改状态)."""
    wanted = {_norm(h): f for f, h in spec.sheets["t4"].columns if f in READ}
    out: dict[int, str] = {}
    for exact in (True, False):
        for j, cell in enumerate(header):
            text = _norm(str(cell)) if cell is not None else ""
            if not text or j in out:
                continue
            for head, f in wanted.items():
                hit = text == head if exact else text.startswith(head)
                if hit and f not in out.values():
                    out[j] = f
    return out


def read_t4(path: Path, spec: ReportSpec) -> tuple[pl.DataFrame, dict[str, str]]:
    """Every row of every 表4 sheet (continuations included) under its header row: ROW_COLS,
    kind 'data' (has a 问题编号), 'added' (content but no 问题编号), 合计 and label-only
    lines (填报人：…) left out; and the export's stamp (ledger, issue) when it has one."""
    sheet = spec.sheets["t4"]
    # the filled 表4 comes back from the townships: held to the readers' limits (a FIFO, a zip
    # bomb or a far cell is refused before calamine sees it)
    data, _, _ = read_file(Path(path), Limits())
    if data.startswith(b"PK\x03\x04"):
        check_xlsx(data, Path(path), Limits())
    try:
        reader = fastexcel.read_excel(data)
    except (fastexcel.FastExcelError, OSError) as exc:
        raise InputError(f"{path}：无法作为 Excel 工作簿读取（{exc}）") from None
    names = [n for n in reader.sheet_names
             if n == sheet.name or n.startswith(sheet.name[:24] + "（续")]
    if not names:
        raise InputError(f"{path}：没有名为“{sheet.name}”的工作表（退回的表4）")
    id_head = _norm(sheet.header("finding_id"))
    parts = []
    for name in names:
        df = reader.load_sheet(name, header_row=None, dtypes="string", skip_rows=0).to_polars()
        cells = [pl.col(c).cast(pl.String).fill_null("").str.strip_chars() for c in df.columns]
        head_at = next((i for i, row in enumerate(df.head(HEAD_SEARCH).iter_rows())
                        if id_head in [_norm(v) for v in row if v is not None]), None)
        if head_at is None:
            raise InputError(f"{path}：工作表“{name}”前 {HEAD_SEARCH} 行中没有“"
                             f"{sheet.header('finding_id')}”列")
        fields = _fields_of(df.row(head_at), spec)
        missing = [sheet.header(f) for f in ("status",) if f not in fields.values()]
        if missing:
            raise InputError(f"{path}：工作表“{name}”没有“{'、'.join(missing)}”列")
        body = df.with_row_index("_i").slice(head_at + 1)
        picked = [pl.col(df.columns[j]).cast(pl.String).fill_null("").str.strip_chars().alias(f)
                  for j, f in fields.items()]
        empty = pl.all_horizontal([c == "" for c in cells])
        total = pl.any_horizontal([c.str.starts_with(TOTAL) for c in cells])
        label = (pl.all_horizontal([(c == "") | c.str.contains("[:：]") for c in cells])
                 | pl.coalesce([pl.when(c != "").then(c) for c in cells]).str.contains(FURNITURE))
        part = body.select(
            pl.lit(name).alias("sheet"), (pl.col("_i").cast(pl.Int64) + 1).alias("line"),
            *picked, empty.alias("_empty"), total.alias("_total"), label.alias("_label"))
        for f in READ:
            if f not in part.columns:
                part = part.with_columns(pl.lit("").alias(f))
        part = part.with_columns(pl.col("finding_id").str.to_lowercase())
        # a 合计 or signature line is no row, even where its text sits in the 问题编号 column
        line_only = (pl.col("_total") | pl.col("_label")) & ~pl.col("finding_id").str.contains(
            r"^[0-9a-f]+$")
        part = part.filter(~pl.col("_empty")).with_columns(
            pl.when(line_only).then(pl.lit("skip"))
            .when(pl.col("finding_id") != "").then(pl.lit("data"))
            .otherwise(pl.lit("added")).alias("kind"))
        parts.append(part.filter(pl.col("kind") != "skip").select(list(ROW_COLS)))
    rows = pl.concat(parts) if parts else pl.DataFrame(schema=ROW_COLS)
    stamp: dict[str, str] = {}
    if STAMP_SHEET in reader.sheet_names:
        hidden = reader.load_sheet(STAMP_SHEET, header_row=None, dtypes="string",
                                   skip_rows=0).to_polars()
        stamp = {str(r[0]): str(r[1]) for r in hidden.iter_rows() if len(r) > 1 and r[0] and r[1]}
    return rows.select([pl.col(c).cast(t) for c, t in ROW_COLS.items()]), stamp


# ---------------------------------------------------------------------- checking the rows

def _cents(fen: pl.Expr) -> pl.Expr:
    """fen as '720.00' (no thousands separator)."""
    fen = fen.fill_null(0)
    return pl.format("{}.{}", fen // 100, (fen % 100).cast(pl.String).str.zfill(2))


def parse_money(raw: pl.Expr, amount: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(fen, Chinese reason it is refused) of a 追回金额 cell in 元; both null when the cell is
    empty. Never raises: text, NaN, Infinity, 1e308, negatives and fractions of a fen are
    reasons; so is more than the finding's 涉及金额 (`amount`, fen). The fen is there for any
    sum of money, whatever the amount."""
    clean = raw.str.replace_all(r"[,，\s元]", "").str.replace(r"^[￥¥]", "")
    num = clean.cast(pl.Float64, strict=False)
    cents = num * 100
    sane = num.is_not_null() & ~num.is_nan() & (num.abs() <= MONEY_LIMIT)
    whole = sane & ((cents - cents.round(0)).abs() <= 1e-6)
    shown = pl.when(sane).then(_cents(cents.round(0).cast(pl.Int64, strict=False))).otherwise(
        num.cast(pl.String))
    quoted = pl.lit("追回金额“") + raw + pl.lit("”")
    reason = (
        pl.when(raw == "").then(pl.lit(None, pl.String))
        .when(num.is_null()).then(quoted + pl.lit("不是金额，请填写元数，如 1650.00"))
        .when(num.is_nan() | num.is_infinite()).then(quoted + pl.lit("不是有效的金额，请填写元数"))
        .when(num < 0).then(quoted + pl.lit("不能是负数"))
        .when(cents > amount.fill_null(0).cast(pl.Float64) + 1e-6)
        .then(pl.lit("追回金额 ") + shown + pl.lit(" 元大于涉及金额 ") + _cents(amount)
              + pl.lit(" 元，未导入"))
        .when(~whole).then(quoted + pl.lit("最多两位小数（到分）"))
        .otherwise(pl.lit(None, pl.String)))
    reason = pl.when(reason.is_not_null() & ~reason.str.ends_with("未导入")).then(
        reason + pl.lit("，未导入")).otherwise(reason)
    fen = pl.when((raw != "") & whole & (num >= 0)).then(
        cents.round(0).cast(pl.Int64, strict=False))
    return fen, reason


def _choose_issue(ledger: Ledger, rows: pl.DataFrame, stamp: dict[str, str],
                  path: Path) -> int | None:
    """The issue this copy is: the one its stamp names, else the issue whose values most of its
    rows still hold (the latest on a tie). None when nothing was ever issued."""
    issues = ledger.issues()
    if stamp.get("ledger"):
        if stamp["ledger"] != ledger.meta("ledger_id"):
            raise InputError(f"{path}：这个工作簿是从另一个台账导出的，不能导入 {ledger.path}"
                             "（请用导出它的台账，或重新导出）")
        issue = int(stamp.get("issue", "0") or 0)
        if issue in issues.get_column("issue_id").to_list():
            return issue
    issued = ledger.issued(rows.get_column("finding_id").unique().to_list())
    if issued.height == 0:
        return None
    seen = rows.unique("finding_id", keep="first").join(issued, on="finding_id", suffix="_i")
    fen, _ = parse_money(pl.col("recovered"), pl.lit(None, pl.Int64))
    same = (((pl.col("status") == "") | (pl.col("status") == pl.col("status_i").fill_null("")))
            & (pl.col("measure") == pl.col("measure_i").fill_null(""))
            & ((pl.col("recovered") == "") | (fen == pl.col("recovered_i")).fill_null(False))
            & (own_note(pl.col("note")) == pl.col("note_i").fill_null("")))
    score = seen.group_by("issue_id").agg(same.sum().alias("same"), pl.len().alias("n"))
    # most rows as issued; then the issue with fewest rows this copy lacks; then the latest
    score = score.join(issues.select("issue_id", "rows"), on="issue_id").with_columns(
        (pl.col("rows") - pl.col("n")).alias("lacks"))
    best = score.sort(["same", "lacks", "issue_id"], descending=[True, False, True])
    return int(best.item(0, "issue_id"))


def _basis(ledger: Ledger, issue: int | None) -> str:
    if issue is None:
        return "台账当前的状态（找不到这份表4的下发记录）"
    row = ledger.issues().filter(pl.col("issue_id") == issue).row(0, named=True)
    at = str(row["at"])[:16].replace("T", " ")
    if row["kind"] == "export":
        return f"台账 {at} 导出的 {row['file']} "
    rebuilt = "（按台账历史重建）" if row["kind"] == "rebuilt" else ""
    return f"第 {row['run_id']} 次运行（{row['stage']}，{at}）下发的表4{rebuilt}"


def import_t4(ledger: Ledger, path: Path, spec: ReportSpec, by: str | None = None,
              allow_reopen: bool = False) -> ImportReport:
    """Apply what the clerk changed in a returned 表4, field by field; see the module doc."""
    new, doing, done, unfounded, closed = ledger.statuses[:5]
    rows, stamp = read_t4(path, spec)
    issue = _choose_issue(ledger, rows.filter(pl.col("kind") == "data"), stamp, path)
    state = ledger.state().select(
        "finding_id", pl.col("township").fill_null(NO_TOWNSHIP).alias("town"), "village",
        pl.col("rule").replace_strict(spec.categories, default=pl.col("rule_name"),
                                      return_dtype=pl.String).alias("category"),
        pl.col("status").alias("c_status"), pl.col("measure").fill_null("").alias("c_measure"),
        pl.col("recovered").fill_null(0).alias("c_recovered"),
        pl.col("own_note").alias("c_note"), pl.col("amount"), pl.col("present"))
    issued = ledger.issued(rows.get_column("finding_id").unique().to_list())
    chosen = issued.filter(pl.col("issue_id") == issue) if issue is not None else issued.clear()
    # a finding the chosen issue lacks is compared with what it was last issued with
    base = pl.concat([chosen, issued.join(chosen, on="finding_id", how="anti")
                      .sort("issue_id").unique("finding_id", keep="last")])
    base = base.select("finding_id", pl.col("status").alias("b_status"),
                       pl.col("measure").alias("b_measure"),
                       pl.col("recovered").alias("b_recovered"), pl.col("note").alias("b_note"))
    df = rows.join(state, on="finding_id", how="left").join(base, on="finding_id", how="left")
    known = pl.col("town").is_not_null()
    df = df.with_columns(
        pl.coalesce(pl.when(known).then(pl.col("town")),
                    pl.when(pl.col("township") != "").then(pl.col("township")),
                    pl.lit(NO_TOWNSHIP)).alias("township"),
        # never issued (a ledger without issues): compare with the ledger itself
        pl.coalesce("b_status", "c_status").alias("b_status"),
        pl.coalesce("b_measure", "c_measure").fill_null("").alias("b_measure"),
        pl.coalesce("b_recovered", "c_recovered").alias("b_recovered"),
        pl.coalesce("b_note", "c_note").fill_null("").alias("b_note"),
        own_note(pl.col("note")).alias("note_in"),
    )
    fen, money_err = parse_money(pl.col("recovered"), pl.col("amount"))
    df = df.with_columns(fen.alias("fen"), money_err.alias("money_err"))
    data = (pl.col("kind") == "data") & known
    df = df.with_columns(
        (data & (pl.col("status") != "") & (pl.col("status") != pl.col("b_status")))
        .alias("e_status"),
        (data & (pl.col("measure") != "") & (pl.col("measure") != pl.col("b_measure")))
        .alias("e_measure"),
        (data & (pl.col("recovered") != "")
         & (pl.col("money_err").is_not_null() | (pl.col("fen") != pl.col("b_recovered"))))
        .alias("e_recovered"),
        (data & (pl.col("note_in") != "") & (pl.col("note_in") != pl.col("b_note")))
        .alias("e_note"),
    )
    # the same 问题编号 on more than one row: one import if they agree, none if not
    entry = pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in
                           ("status", "measure", "recovered", "note_in")], separator="\x1f")
    df = df.with_columns(
        pl.len().over("finding_id").alias("_copies"),
        entry.n_unique().over("finding_id").alias("_versions"),
        pl.col("line").cast(pl.String).str.join("、").over("finding_id").alias("_lines"),
        pl.int_range(pl.len()).over("finding_id").alias("_nth"))
    dup = data & (pl.col("_copies") > 1)
    clash = dup & (pl.col("_versions") > 1)
    live = data & ~clash & ~(dup & (pl.col("_nth") > 0))
    # the status: allowed, not backward unless allowed, 销号 only after 已整改, 不属实 with reason
    note_after = pl.when(pl.col("e_note")).then(pl.col("note_in")).otherwise(pl.col("c_note"))
    ended = pl.col("c_status").is_in([done, unfounded, closed])
    back = ((ended & pl.col("status").is_in([new, doing]))
            | ((pl.col("c_status") == closed) & pl.col("status").is_in([done, unfounded])))
    allowed = "、".join(ledger.statuses)
    # what the ledger has already (销号 is 已整改 and more): nothing to do, nothing to say
    has = (pl.col("status") == pl.col("c_status")) | (
        (pl.col("status") == done) & (pl.col("c_status") == closed))
    status_err = (
        pl.when(~pl.col("e_status") | ~live).then(pl.lit(None, pl.String))
        .when(~pl.col("status").is_in(list(ledger.statuses)))
        .then(pl.lit("整改状态“") + pl.col("status") + pl.lit(f"”不是可选的状态（可选：{allowed}），"
                                                           "此项未导入"))
        .when(has).then(pl.lit(None, pl.String))
        .when(back & pl.lit(not allow_reopen))
        .then(pl.lit("整改状态由“") + pl.col("c_status") + pl.lit("”改回“") + pl.col("status")
              + pl.lit("”，未导入（确需重新整改的，导入时加 --allow-reopen）"))
        .when((pl.col("status") == closed) & (pl.col("c_status") != done))
        .then(pl.lit(f"只有{done}的问题才能{closed}（台账中为“") + pl.col("c_status")
              + pl.lit("”），此项未导入"))
        .when((pl.col("status") == unfounded) & (note_after == ""))
        .then(pl.lit(f"改为{unfounded}须在备注中写明理由，此项未导入"))
        .otherwise(pl.lit(None, pl.String)))
    df = df.with_columns(status_err.alias("status_err"))
    take_status = live & pl.col("e_status") & pl.col("status_err").is_null() & ~has
    money_err = pl.when(live & pl.col("e_recovered")).then(pl.col("money_err"))
    df = df.with_columns(money_err.alias("money_err"))
    # 已整改 on a finding gone from the data is 销号 at once
    to_closed = take_status & (pl.col("status") == done) & ~pl.col("present").fill_null(True)
    new_status = pl.when(to_closed).then(pl.lit(closed)).when(take_status).then(pl.col("status"))
    new_measure = pl.when(live & pl.col("e_measure")).then(pl.col("measure"))
    new_recovered = pl.when(live & pl.col("e_recovered") & pl.col("money_err").is_null()).then(
        pl.col("fen"))
    new_note = pl.when(live & pl.col("e_note")).then(pl.col("note_in"))
    df = df.with_columns(
        new_status.alias("n_status"), new_measure.alias("n_measure"),
        new_recovered.alias("n_recovered"), new_note.alias("n_note"), to_closed.alias("closes"))
    df = df.with_columns(
        pl.when(pl.col("n_status") == pl.col("c_status")).then(None).otherwise(pl.col("n_status"))
        .alias("n_status"),
        pl.when(pl.col("n_measure") == pl.col("c_measure")).then(None)
        .otherwise(pl.col("n_measure")).alias("n_measure"),
        pl.when(pl.col("n_recovered") == pl.col("c_recovered")).then(None)
        .otherwise(pl.col("n_recovered")).alias("n_recovered"),
        pl.when(pl.col("n_note") == pl.col("c_note")).then(None).otherwise(pl.col("n_note"))
        .alias("n_note"))
    changed = pl.any_horizontal([pl.col(c).is_not_null() for c in
                                 ("n_status", "n_measure", "n_recovered", "n_note")])
    # what is said about each row, in the order of its fields
    msg = [
        (0, pl.when(pl.col("kind") == "added").then(pl.lit(
            "没有问题编号（手工添加的行？），未导入；新发现的问题请另行报县级核查组"))),
        (0, pl.when((pl.col("kind") == "data") & ~known).then(
            pl.lit("问题编号 ") + pl.col("finding_id") + pl.lit(" 不在台账中（被改动过？），未导入"))),
        (0, pl.when(clash).then(pl.lit("问题编号 ") + pl.col("finding_id") + pl.lit(" 在第 ")
                                + pl.col("_lines") + pl.lit(" 行重复出现且填写不同，均未导入"))),
        (1, pl.when(dup & ~clash).then(pl.lit("问题编号 ") + pl.col("finding_id") + pl.lit(" 在第 ")
                                       + pl.col("_lines") + pl.lit(" 行重复出现，填写相同，只导入一次"))),
        (0, pl.col("status_err")), (0, pl.col("money_err")),
        (1, pl.when(pl.col("closes")).then(pl.lit(f"已不在数据中，{done}即{closed}"))),
    ]
    df = df.with_columns(changed.alias("changed"), pl.any_horizontal(
        [e.is_not_null() for refusal, e in msg if refusal == 0]).alias("refused"))
    problems = pl.concat([
        df.select("township", "sheet", "line", pl.when(known).then(pl.col("finding_id"))
                  .alias("finding_id"), e.alias("message"), pl.lit(i).alias("order"))
        .filter(pl.col("message").is_not_null()) for i, (_, e) in enumerate(msg)])
    changes = df.filter(pl.col("changed")).select(
        "finding_id", pl.col("n_status").alias("status"), pl.col("n_measure").alias("measure"),
        pl.col("n_recovered").alias("recovered"), pl.col("n_note").alias("note"))
    ledger.apply_import(changes, path.name, by=by, issue_id=issue, rows=rows.height,
                        refused=int(df["refused"].sum()), at=now_text())
    # issued but not returned: deleted rows, or townships that sent nothing back
    returned = rows.get_column("finding_id").unique().to_list()
    sent = (ledger.issued(issue_id=issue).select("finding_id").join(state, on="finding_id")
            if issue is not None else state.clear())
    missing = sent.filter(~pl.col("finding_id").is_in(returned))
    towns = df.get_column("township").unique().to_list()
    deleted = missing.filter(pl.col("town").is_in(towns)).select(
        pl.col("town").alias("township"), "finding_id", "village", "category").sort(
        "township", "finding_id")
    unreturned = missing.filter(~pl.col("town").is_in(towns)).group_by("town").agg(
        pl.len().alias("rows")).sort(pl.col("town") == NO_TOWNSHIP, "town").rename(
        {"town": "township"})
    return ImportReport(
        path.name, _basis(ledger, issue),
        df.select("township", "sheet", "line", "finding_id", "changed", "refused"),
        problems, deleted, unreturned, findings_changed=changes.height)


# ---------------------------------------------------------------------- export

def ledger_findings(ledger: Ledger, spec: ReportSpec) -> pl.DataFrame:
    """The ledger's findings shaped as the tables' enriched findings (备注 as shown: 销号 and
    gone-from-the-data dates in 【】 before the clerk's note)."""
    state = ledger.state()
    return state.with_columns(
        pl.col("rule").replace_strict(spec.categories, default=pl.col("rule_name"),
                                      return_dtype=pl.String).alias("category"),
        pl.col("stage_found").alias("stage"),
        pl.col("county").fill_null(pl.col("region_code")),
        pl.col("persons").fill_null(1),
        pl.col("basis").fill_null(pl.col("rule")),
    )


def export_tables(ledger: Ledger, out: Path, spec: ReportSpec, unmask: bool = False) -> Path:
    """表4 and 表5 from the ledger's state (every problem recorded, gone ones noted), and the
    batches `cardcheck precheck` screened (预审拦截) when there are any; what 表4 issues is
    recorded in the ledger and named in a hidden sheet, for the import."""
    out.mkdir(parents=True, exist_ok=True)
    now = datetime.now()
    path = out / f"cardcheck_ledger_{now:%Y%m%d}.xlsx"
    df = ledger_findings(ledger, spec)
    at = now.isoformat(timespec="seconds")
    issue = ledger.record_export(df.get_column("finding_id").to_list(), path.name, at)
    # the county's name and 填报单位 as the last check resolved them (config, roll's title line)
    county = spec.county or ledger.meta("county") or ""
    reporter = spec.furniture.reporter or ledger.meta("reporter") or ""
    codes = df.get_column("region_code").drop_nulls().unique()
    if county and codes.len() == 1:
        # one county's ledger: a row without a region (paid off the roll) is that county's too
        blank = pl.col("county").is_null() | (pl.col("county") == "")
        df = df.with_columns(pl.when(blank | (pl.col("county") == codes[0])).then(pl.lit(county))
                             .otherwise(pl.col("county")).alias("county"))
    sub = (f"{'地区：' + county + '　' if county else ''}台账导出：{ledger.path.name}　"
           f"制表时间：{now:%Y-%m-%d %H:%M}" + ("" if unmask else "　身份证号、卡号已脱敏"))
    w = Writer(path, rows=df.height, date=f"{now:%Y年%m月%d日}",
               furniture=dataclasses.replace(spec.furniture, reporter=reporter))
    w.table(spec.sheets["t4"], T.table4(df, unmask), sub, spec.statuses)
    w.table(spec.sheets["t5"], T.table5(df, spec), sub)
    screened = stopped(ledger)  # `cardcheck precheck`'s batches, when the ledger has any
    if screened.height:
        w.table(STOPPED_SHEET, screened, sub)
    stamp = w.wb.add_worksheet(STAMP_SHEET)
    for r, (key, value) in enumerate((("说明", STAMP_NOTE), ("ledger", ledger.meta("ledger_id")),
                                      ("issue", str(issue)), ("at", at))):
        stamp.write_string(r, 0, key)
        stamp.write_string(r, 1, value or "")
    stamp.hide()
    w.close()
    return path
