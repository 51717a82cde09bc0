"""`cardcheck tokenize`: keyed HMAC pseudonyms for IDs and cards.

A token is `T` + 24 upper-case hex digits of HMAC-SHA256(key, "id:…" or "card:…"); unusable IDs
become `BAD…`. Checking the tokenised demo county finds what the raw county gives, rule by rule,
except E09 (which needs raw IDs and runs before tokenising). The key appears in no output file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import stat
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.config import load_config
from cardcheck.ingest import load_file
from cardcheck.tokenize import tokenise_frame

KEY = b"0123456789abcdef-test-key"
TOKEN = re.compile(r"^T[0-9A-F]{24}$")
SAME = ["rule", "household_id", "fund", "first_month", "last_month", "months", "amount",
        "severity"]


def token(label: str, value: str, key: bytes = KEY, prefix: str = "T") -> str:
    return prefix + hmac.new(key, f"{label}:{value}".encode(), hashlib.sha256).hexdigest()[:24].upper()


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


# ------------------------------------------------------------------ tokens


def test_tokens_are_keyed_hmacs_and_bad_ids_never_match() -> None:
    df = pl.DataFrame({
        "id_number": ["110101195001010017", "110101195001010017", "11010119500101001X"],
        "id_status": ["ok", "ok", "bad_checksum"],
        "card_no": ["6217000000000001", "6217000000000002", None],
        "payee_id": ["110101195001010017", "12345", None],
    })
    out = tokenise_frame(df, KEY)
    good = token("id", "110101195001010017")
    assert out.to_dicts() == [
        {"id_number": good, "id_status": "ok", "card_no": token("card", "6217000000000001"),
         "payee_id": good},
        {"id_number": good, "id_status": "ok", "card_no": token("card", "6217000000000002"),
         "payee_id": token("id", "12345", prefix="BAD")},
        {"id_number": token("id", "11010119500101001X", prefix="BAD"), "id_status": "bad_checksum",
         "card_no": None, "payee_id": None},
    ]
    assert TOKEN.match(good)
    assert tokenise_frame(df, KEY + b"!").get_column("id_number")[0] != good


def test_ids_and_cards_in_text_get_their_column_tokens_where_they_stand() -> None:
    card18 = "621700000000000018"  # an 18-digit card: its card token, not an ID's
    df = pl.DataFrame({
        "household_id": ["141125001002000011"], "id_number": ["110101195001010017"],
        "id_status": ["ok"], "card_no": ["6217000000000001"], "counterparty_account": [card18],
        "memo": [("代领人110101195001010017，旧证110101500101001，卡6217000000000001，"
                  f"转{card18}，坏11010119500101001X，号6217000000000001234，"
                  "全角１１０１０１１９５００１０１００１７，时间20230105084130")],
        "address": ["东关村5号（110101195001010017）"]})
    out = tokenise_frame(df, KEY).row(0, named=True)
    good, card = token("id", "110101195001010017"), token("card", "6217000000000001")
    assert out["id_number"] == good and out["card_no"] == card
    assert out["memo"] == (
        f"代领人{good}，旧证{good}，卡{card}，转{token('card', card18)}，"
        f"坏{token('id', '11010119500101001X', prefix='BAD')}，号{token('card', '6217000000000001234')}，"
        f"全角{good}，时间20230105084130")
    assert out["address"] == f"东关村5号（{good}）"
    assert out["household_id"] == "141125001002000011"  # 户编号 is kept


def test_a_15_digit_id_and_its_18_digit_form_get_one_token(tmp_path: Path) -> None:
    roll = tmp_path / "roll.csv"
    roll.write_text("姓名,身份证号,救助类别,银行卡号\n张三,110101500101001,农村低保,6217000000000001\n"
                    "张三,110101195001010017,特困供养,6217000000000001\n", encoding="utf-8")
    loaded = load_file(roll, "roll", load_config())
    ids = tokenise_frame(loaded.frame, KEY).get_column("id_number").to_list()
    assert ids == [token("id", "110101195001010017")] * 2


def test_tokens_load_back_as_usable_ids_and_cards(tmp_path: Path) -> None:
    t_id, t_card = token("id", "110101195001010017"), token("card", "6217000000000001")
    bad = token("id", "12", prefix="BAD")
    roll = tmp_path / "roll.csv"
    roll.write_text(f"姓名,身份证号,救助类别,银行卡号\n张三,{t_id},农村低保,{t_card}\n"
                    f"李四,{bad},农村低保,{t_card}\n", encoding="utf-8")
    frame = load_file(roll, "roll", load_config()).frame
    assert frame.select("id_number", "id_status", "card_no").rows() == [
        (t_id, "token", t_card), (bad, "bad_format", t_card)]


def test_short_or_missing_key(tmp_path: Path) -> None:
    (tmp_path / "k").write_bytes(b"short\n")
    result = invoke("tokenize", "--key-file", str(tmp_path / "k"), str(tmp_path), str(tmp_path / "o"))
    assert result.exit_code == 2
    assert result.stderr == (f"cardcheck: error: --key-file {tmp_path / 'k'}: the key is 5 bytes; "
                             "use at least 16 random bytes (e.g. `head -c 32 /dev/urandom | base64 "
                             "> key.txt`)\n")
    result = invoke("tokenize", "--key-file", str(tmp_path / "none"), str(tmp_path), "o")
    assert result.exit_code == 2
    assert result.stderr == (f"cardcheck: error: --key-file {tmp_path / 'none'}: cannot be read "
                             "(No such file or directory)\n")


def test_single_file_needs_kind(tmp_path: Path) -> None:
    (tmp_path / "k").write_bytes(KEY)
    src = tmp_path / "roll.csv"
    src.write_text("姓名,身份证号,救助类别\n张三,110101195001010017,农村低保\n", encoding="utf-8")
    result = invoke("tokenize", "--key-file", str(tmp_path / "k"), str(src), str(tmp_path / "o"))
    assert (result.exit_code, result.stderr) == (
        2, f"cardcheck: error: {src}: a single file needs --kind (roll, accounts, payments, …)\n")
    result = invoke("tokenize", "--key-file", str(tmp_path / "k"), "--kind", "roll", str(src),
                    str(tmp_path / "o"))
    assert result.exit_code == 0, result.output
    out = pl.read_csv(tmp_path / "o" / "roll.tokenised.csv", infer_schema=False)
    assert out.columns == [
        "region_code", "township", "village", "household_id", "name", "id_number", "relation",
        "fund", "monthly_amount(分)", "start_date", "end_date", "card_no", "payee_name",
        "payee_id", "phone", "head_name", "head_id"]
    assert out.select("name", "id_number", "fund").rows() == [
        ("张三", token("id", "110101195001010017"), "农村低保")]


def test_output_folder_must_not_be_the_input_folder(tmp_path: Path) -> None:
    (tmp_path / "k").write_bytes(KEY)
    (tmp_path / "inputs.yaml").write_text("roll: roll.csv\n", encoding="utf-8")
    result = invoke("tokenize", "--key-file", str(tmp_path / "k"), str(tmp_path), str(tmp_path))
    assert (result.exit_code, result.stderr) == (2, (
        f"cardcheck: error: {tmp_path}: is the input folder; give another folder for the tokenised "
        "files (the raw files and their inputs.yaml stay)\n"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inputs.yaml", "k"]


# ------------------------------------------------------------------ the demo county, round trip


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("tokenise")
    key = base / "key.txt"
    key.write_bytes(base64.b64encode(os.urandom(32)) + b"\n")
    raw, tok = base / "D", base / "T"
    assert invoke("demo", "--out", str(raw), "--households", "400").exit_code == 0
    for folder, out in ((raw, base / "O"), (tok, base / "OT")):
        if folder == tok:
            result = invoke("tokenize", "--key-file", str(key), str(raw), str(tok))
            assert result.exit_code == 0, result.output
        result = invoke("check", "--inputs", str(folder), "--out", str(out), "-q", "--no-excel")
        assert result.exit_code == 0, result.output
    return {"key": key, "raw": raw, "tok": tok, "out": base / "O", "out_tok": base / "OT"}


def findings(folder: Path) -> pl.DataFrame:
    return pl.read_csv(folder / "findings.csv", infer_schema=False)


def test_tokenised_county_gives_the_same_findings_but_e09(county) -> None:
    raw, tok = findings(county["out"]), findings(county["out_tok"])
    by_rule = {r: n for r, n in raw.group_by("rule").len().rows() if r != "E09"}
    assert by_rule == {r: n for r, n in tok.group_by("rule").len().rows() if r != "E09"}
    every = {f"C0{i}" for i in range(1, 9)} | {f"P0{i}" for i in range(1, 7)} | {
        f"E0{i}" for i in range(1, 9)}
    assert set(by_rule) == every and sum(by_rule.values()) > 50  # every rule has cases
    a = raw.filter(pl.col("rule") != "E09").select(SAME).sort(SAME, nulls_last=True)
    b = tok.filter(pl.col("rule") != "E09").select(SAME).sort(SAME, nulls_last=True)
    assert a.equals(b)
    # IDs and cards in the tokenised findings are tokens (or BAD… for unusable IDs)
    ids = tok.filter(pl.col("rule") != "E09").get_column("id_number").drop_nulls()
    assert ids.str.contains(r"^(T|BAD)[0-9A-F]{24}$").all()


def test_e09_runs_on_raw_ids_before_tokenising(county) -> None:
    raw_e09 = findings(county["out"]).filter(pl.col("rule") == "E09")
    written = pl.read_csv(county["tok"] / "E09_raw_ids.csv", infer_schema=False)
    assert written.height == raw_e09.height > 0
    assert sorted(written.get_column("hub").to_list()) == sorted(raw_e09.get_column("hub").to_list())
    assert written.get_column("id_number").str.contains(r"^(T|BAD)[0-9A-F]{24}$").all()


def test_no_raw_id_or_card_and_no_key_in_tokenised_files(county) -> None:
    roll = load_file(county["raw"] / "救助对象名册.csv", "roll", load_config()).frame
    accounts = load_file(county["raw"] / "账户信息.xlsx", "accounts", load_config()).frame
    secrets = {*roll.get_column("id_number").drop_nulls().to_list(),
               *roll.get_column("card_no").drop_nulls().to_list(),
               *accounts.get_column("card_no").drop_nulls().to_list()}
    secrets = {s for s in secrets if len(s) >= 15}
    assert len(secrets) > 800
    blob = b"".join(p.read_bytes() for p in sorted(county["tok"].iterdir()) if p.suffix == ".csv")
    leaked = [s for s in secrets if s.encode() in blob]
    assert leaked == []
    key = county["key"].read_bytes().strip()
    for folder in ("tok", "out_tok", "out"):
        for path in county[folder].rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert key not in data and base64.b64decode(key) not in data, path


def test_tokenised_files_are_owner_only(county) -> None:
    assert stat.S_IMODE(county["tok"].stat().st_mode) == 0o700
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in county["tok"].iterdir()}
    assert set(modes.values()) == {0o600}
    names = yaml.safe_load((county["tok"] / "inputs.yaml").read_text(encoding="utf-8"))
    assert names["roll"] == ["救助对象名册.tokenised.csv"]
    assert sorted(modes) == sorted([
        "E09_raw_ids.csv", "inputs.yaml", "交易流水.tokenised.csv", "代发明细.tokenised.csv",
        "企业养老金.tokenised.csv", "外县名册.tokenised.csv", "工商登记.tokenised.csv",
        "救助对象名册.tokenised.csv", "服刑人员名单.tokenised.csv", "死亡人员名单.tokenised.csv",
        "经办人员村干部.tokenised.csv", "财政供养人员.tokenised.csv", "账户信息.tokenised.csv",
        "近亲属备案.tokenised.csv"])
