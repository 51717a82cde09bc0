"""Name keys: derive takes a name of Han characters as its own key and works out the others with
name_key; both ways give name_key's result."""

from __future__ import annotations

import polars as pl

from cardcheck.config import load_config
from cardcheck.normalize.derive import PLAIN_NAME, derive
from cardcheck.normalize.names import name_key


def test_every_name_the_shortcut_takes_is_its_own_key() -> None:
    """Every character the shortcut's pattern admits is left as it is by name_key (丶 is not:
    it is one of the dots name_key unifies)."""
    chars = pl.Series("c", [chr(i) for i in range(0x4E00, 0xA000)])
    admitted = chars.filter(chars.str.contains(PLAIN_NAME))
    assert len(admitted) == 0xA000 - 0x4E00 - 1 and "丶" not in admitted.to_list()
    keys = pl.DataFrame({"c": admitted}).select(name_key(pl.col("c"))).to_series()
    assert keys.to_list() == admitted.to_list()


def test_derived_keys_equal_name_key_row_by_row() -> None:
    names = ["张三", "阿卜杜·艾力", "阿卜杜.艾力", "王 五", "ＡＢＣ", "李丶四", "abc", None, "",
             "张三", "欧阳修修"]
    df = pl.DataFrame({"account_name": names}, schema={"account_name": pl.String})
    got = derive("payments", df, load_config()).get_column("account_name_key").to_list()
    want = df.select(name_key(pl.col("account_name"))).to_series().to_list()
    assert got == want
    assert got[1] == got[2] == "阿卜杜·艾力" and got[5] == "李·四" and got[6] == "ABC"
    only_han = pl.DataFrame({"name": ["张三", "李四", None]}, schema={"name": pl.String})
    assert derive("roll", only_han, load_config()).get_column("name_key").to_list() == [
        "张三", "李四", None]
