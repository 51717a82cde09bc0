"""A finding's hub (findings' `hub` column, `kind:value`) in the words an inspector reads:
phone:13812345678 → 手机号 138****5678, memo:generic → 摘要问题：只写通用词或人名,
region:141124 → 外地名册地区 141124 (a region code names no one and is never masked).

The value is masked by its kind as cardcheck.masking.mask_hub masks it, unless `unmask`.
"""

from __future__ import annotations

import re

from cardcheck.masking import CARD_HUBS, ID_HUBS, mask_text_value, mask_value

KINDS = {"holder": "持卡人", "agent": "代办人", "phone": "手机号", "address": "联系地址",
         "account": "转入账户", "card": "卡", "official": "干部或经办人员", "person": "人员",
         "relative": "亲属", "region": "外地名册地区", "memo": "摘要问题"}
# C05's problems (memo:<problem>)
MEMO = {"missing": "摘要为空", "generic": "只写通用词或人名", "no_fund": "未写救助资金名称",
        "wrong_fund": "所写资金与名册不符", "no_period": "未写所属月份",
        "period": "所写月份与发放月份不符"}
# E09's problems (the hub is the problem itself)
PROBLEMS = {"precision_lost": "身份证号被 Excel 存成数字（后几位丢失）",
            "bad_checksum": "身份证号校验位错误", "bad_birth_date": "身份证号的出生日期不存在",
            "bad_format": "身份证号位数或格式不对", "bad_region": "身份证号前两位不是有效的省份代码",
            "name_mismatch_bank": "银行户名与名册姓名不一致",
            "name_mismatch_payments": "代发户名与名册姓名不一致", "missing": "身份证号缺失"}


def hub_value(kind: str, value: str, unmask: bool = False) -> str:
    """The value of a hub of `kind`, masked as mask_hub masks it (unless `unmask`)."""
    if unmask or not value or kind == "region":
        return value
    if not re.fullmatch(r"[0-9]+[Xx]?", value):
        return mask_text_value(value)
    if kind in ID_HUBS:
        return mask_value("id", value)
    if kind == "phone":
        return mask_value("phone", value)
    if kind in CARD_HUBS:
        return mask_value("card", value)
    form = "phone" if len(value) == 11 else "id" if len(value) >= 18 else "card"
    return mask_value(form, value)


def hub_label(hub: str | None, unmask: bool = False) -> str:
    """The hub in Chinese: 手机号 138****5678, 代办人 110101********0016, 摘要问题：摘要为空 …;
    '' for none."""
    if not hub:
        return ""
    kind, sep, value = hub.partition(":")
    if not sep or not re.fullmatch(r"[a-z_]+", kind):
        return PROBLEMS.get(hub, hub if unmask else mask_text_value(hub))
    if kind == "memo":
        return f"摘要问题：{MEMO.get(value, value)}"
    return f"{KINDS.get(kind, kind)} {hub_value(kind, value, unmask)}"
