"""The demo's file names and headers, and its tables as the text a clean export holds."""

from __future__ import annotations

import polars as pl

PRECISION_LOST_TEXT = "1.41125E+17"  # how Excel writes an 18-digit number into a CSV
FILES = {
    "roll": "救助对象名册", "accounts": "账户信息", "payments": "代发明细", "transactions": "交易流水",
    "deaths": "死亡人员名单", "prisoners": "服刑人员名单", "payroll": "财政供养人员",
    "business": "工商登记", "pensions": "企业养老金", "officials": "经办人员村干部",
    "relatives": "近亲属备案", "other_roll": "外县名册",
}
ROLL_HEADERS = {
    "region_code": "行政区划代码", "township": "乡镇", "village": "村", "household_id": "户编号",
    "name": "姓名", "id_number": "身份证号码", "relation": "与户主关系", "fund": "救助类别",
    "monthly_amount": "月保障金额", "start_date": "保障起始日期", "end_date": "终止日期",
    "card_no": "银行卡号", "payee_name": "持卡人姓名", "payee_id": "持卡人身份证号", "phone": "联系电话",
}
HEADERS: dict[str, dict[str, str]] = {
    "roll": ROLL_HEADERS,
    "other_roll": ROLL_HEADERS,
    "accounts": {"card_no": "卡号", "holder_name": "户名", "holder_id": "证件号码", "open_date": "开户日期",
                 "branch": "开户网点", "phone": "预留手机号", "address": "联系地址",
                 "agent_name": "代办人姓名", "agent_id": "代办人证件号", "status": "账户状态"},
    "payments": {"pay_date": "交易日期", "card_no": "账号", "account_name": "户名", "amount": "金额",
                 "memo": "摘要", "batch": "批次号", "payer": "代发单位"},
    "transactions": {"txn_time": "交易时间", "card_no": "卡号", "channel": "交易渠道",
                     "direction": "借贷标志", "amount": "交易金额", "terminal": "终端号",
                     "counterparty_account": "对方账号", "counterparty_name": "对方户名"},
    "deaths": {"name": "姓名", "id_number": "身份证号码", "death_date": "死亡日期"},
    "prisoners": {"name": "姓名", "id_number": "身份证号码", "start_date": "入监日期",
                  "end_date": "刑满释放日期"},
    "payroll": {"name": "姓名", "id_number": "身份证号码", "employer": "工作单位",
                "start_date": "入职日期", "end_date": "离职日期"},
    "business": {"name": "姓名", "id_number": "身份证号码", "role": "登记身份", "entity": "市场主体名称",
                 "start_date": "成立日期", "end_date": "注销日期"},
    "pensions": {"name": "姓名", "id_number": "身份证号码", "monthly_pension": "月养老金",
                 "start_date": "领取起始日期", "end_date": "停发日期"},
    "officials": {"name": "姓名", "id_number": "身份证号码", "position": "职务", "region": "所在地区",
                  "household_id": "户编号"},
    "relatives": {"official_name": "干部姓名", "official_id": "干部身份证号", "relative_name": "亲属姓名",
                  "relative_id": "亲属身份证号", "relation": "关系", "filed": "是否备案"},
}
MONEY = {"monthly_amount", "amount", "monthly_pension"}


def text_frame(df: pl.DataFrame, table: str) -> pl.DataFrame:
    """Canonical columns as the text a clean export holds, under the file's headers."""
    headers = HEADERS[table]
    cols = []
    for col, header in headers.items():
        e = pl.col(col)
        dtype = df.schema[col]
        if col in MONEY:
            e = (e // 100).cast(pl.String) + "." + (e % 100).cast(pl.String).str.zfill(2)
        elif dtype == pl.Date:
            e = e.dt.strftime("%Y-%m-%d")
        elif isinstance(dtype, pl.Datetime):
            e = e.dt.strftime("%Y-%m-%d %H:%M:%S")
        elif dtype == pl.Boolean:
            e = pl.when(e).then(pl.lit("是")).when(~e).then(pl.lit("否")).otherwise(pl.lit(""))
        cols.append(e.cast(pl.String).alias(header))
    return df.select(cols)
