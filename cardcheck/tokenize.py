"""Keyed pseudonyms for ID and card numbers, so a bank and a civil-affairs bureau can exchange
files without raw identifiers and still join them.

A usable ID (normalised to 18 digits first, so 15-digit and lower-case-x forms give the same
token) becomes `T` + 24 hex digits of HMAC-SHA256(key, "id:" + ID); a card becomes
`T` + HMAC of "card:" + number. An ID that is not usable (checksum, Excel damage …) becomes
`BAD` + its HMAC, which the readers treat as unusable, so it is never matched. The key is read
from a file and never written anywhere.

IDs and cards written inside free text (a memo 代领人身份证…, an address, a name) are replaced
where they stand: every run of 15 or more digits (an ID's trailing X included) in a text column
becomes the token the same value gets in an ID or card column — a known card's card token, an
ID-shaped run (15 or 18 characters) its ID token (BAD… when unusable), any other run a card
token. 户编号 (household_id) is kept.

Checks that need the raw ID (E09: checksum, birth date, region) run here, before tokenising, and
their findings are written beside the tokenised files with tokens in place of the IDs.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from pathlib import Path

import polars as pl
import yaml

from cardcheck.config import Config
from cardcheck.engines.runner import run_rules
from cardcheck.errors import CardcheckError
from cardcheck.ingest import load_file
from cardcheck.masking import visible_controls
from cardcheck.model import ID_USABLE, SCHEMAS
from cardcheck.normalize.ids import id_reading, id_status

ID_COLUMNS = ("id_number", "payee_id", "holder_id", "agent_id", "official_id", "relative_id",
              "head_id")
CARD_COLUMNS = ("card_no", "counterparty_account")
STATUS_OF = {"id_number": "id_status", "holder_id": "holder_id_status"}
DERIVED = {"name_key", "payee_name_key", "holder_name_key", "agent_name_key", "account_name_key",
           "pay_month", "txn_month", "memo_fund", "memo_family", "memo_funds", "memo_generic",
           "memo_period", "id_status", "holder_id_status", "source_file", "source_line",
           "source_region", "card_damage"}
MIN_KEY_BYTES = 16
TEXT_RUN = r"[0-9０-９]{15,}[XxＸｘ]?"  # an ID or card number written inside text
HALF = {chr(0xFF10 + i): str(i) for i in range(10)} | {"Ｘ": "X", "ｘ": "x"}  # full-width forms
KEPT_TEXT = {"household_id", "source_file"}  # text columns not searched for numbers


def read_key(path: Path) -> bytes:
    if Path(path).exists() and not Path(path).is_file():  # a FIFO would block, /dev/zero not end
        raise CardcheckError(f"--key-file {path}: not a regular file (a folder, a FIFO or a "
                             "device); give the file that holds the key")
    try:
        key = Path(path).read_bytes().strip()
    except OSError as exc:
        raise CardcheckError(f"--key-file {path}: cannot be read ({exc.strerror})") from None
    if len(key) < MIN_KEY_BYTES:
        raise CardcheckError(
            f"--key-file {path}: the key is {len(key)} bytes; use at least {MIN_KEY_BYTES} "
            "random bytes (e.g. `head -c 32 /dev/urandom | base64 > key.txt`)"
        )
    return key


def _token_map(values: pl.Series, key: bytes, label: str, prefix: str) -> pl.DataFrame:
    """token per distinct value (hmac is not a column expression, so it runs per distinct value)."""
    distinct = values.drop_nulls().unique()
    tokens = [
        prefix + hmac.new(key, f"{label}:{v}".encode(), hashlib.sha256).hexdigest()[:24].upper()
        for v in distinct.to_list()
    ]
    return pl.DataFrame({"value": distinct, "token": pl.Series(tokens, dtype=pl.String)})


def tokenise_frame(df: pl.DataFrame, key: bytes, cards: pl.Series | None = None) -> pl.DataFrame:
    """Replace every ID and card column of a canonical frame by its token, and every ID and
    card number written inside its text columns (`cards`: the known card numbers, so that an
    18-digit card in a memo gets its card token; default: the frame's own)."""
    if cards is None:
        cards = known_cards([df])
    df = tokenise_text(df, key, cards)
    for col in (c for c in CARD_COLUMNS if c in df.columns):
        mapping = _token_map(df.get_column(col), key, "card", "T")
        df = df.join(mapping.rename({"value": col}), on=col, how="left", maintain_order="left")
        df = df.with_columns(pl.col("token").alias(col)).drop("token")
    for col in (c for c in ID_COLUMNS if c in df.columns):
        status = STATUS_OF.get(col)
        if status and status in df.columns:
            good = pl.col(status).is_in(list(ID_USABLE))
        else:  # payee/agent/official IDs carry no status column: their status is computed
            good = id_status(pl.col(col)).is_in(list(ID_USABLE))
        mapping = _token_map(df.get_column(col), key, "id", "T")
        df = df.join(mapping.rename({"value": col}), on=col, how="left", maintain_order="left")
        df = df.with_columns(
            pl.when(good).then(pl.col("token"))
            .when(pl.col(col).is_not_null()).then(pl.lit("BAD") + pl.col("token").str.slice(1))
            .otherwise(None).alias(col)
        ).drop("token")
    return df


def known_cards(frames: list[pl.DataFrame]) -> pl.Series:
    """Every card number of the frames' card columns."""
    cols = [f.get_column(c) for f in frames for c in CARD_COLUMNS if c in f.columns]
    return (pl.concat(cols).drop_nulls().unique() if cols else pl.Series([], dtype=pl.String)
            ).rename("value")


def run_tokens(runs: pl.Series, key: bytes, cards: pl.Series) -> pl.DataFrame:
    """(value, token) for digit runs found in text: a known card's card token; an ID-shaped run
    (15 or 18 characters) the token its ID column would get; any other run a card token."""
    df = pl.DataFrame({"value": runs.unique()}).with_columns(  # full-width digits as ASCII
        pl.col("value").str.replace_many(list(HALF), list(HALF.values())).alias("ascii"))
    n = pl.col("ascii").str.len_chars()
    df = df.with_columns(pl.col("ascii").is_in(cards.implode()).alias("card"),
                         ((n == 15) | (n == 18)).alias("shaped"))
    as_card = df.filter(pl.col("card") | ~pl.col("shaped"))
    as_id = df.filter(~pl.col("card") & pl.col("shaped"))
    # the ID columns' reading (key and status once per distinct value)
    read = id_reading(as_id.select(pl.col("ascii").str.to_uppercase().alias("upper")), "upper")
    as_id = as_id.with_columns(pl.col("ascii").str.to_uppercase().alias("upper")).join(
        read, on="upper", how="left").rename({"__status": "status", "__id": "id"})
    card_tokens = _token_map(as_card.get_column("ascii"), key, "card", "T").rename(
        {"value": "ascii"}).join(as_card.select("value", "ascii"), on="ascii").select(
        "value", "token")
    id_tokens = _token_map(as_id.get_column("id"), key, "id", "T")
    ids = as_id.join(id_tokens.rename({"value": "id"}), on="id", how="left").select(
        "value", pl.when(pl.col("status").is_in(list(ID_USABLE))).then(pl.col("token"))
        .otherwise(pl.lit("BAD") + pl.col("token").str.slice(1)).alias("token"))
    return pl.concat([card_tokens, ids]).sort(pl.col("value").str.len_chars(), "value",
                                              descending=[True, False])


def tokenise_text(df: pl.DataFrame, key: bytes, cards: pl.Series) -> pl.DataFrame:
    """Every ID and card number written inside the frame's text columns replaced by its
    token (run_tokens), where it stands."""
    cols = [c for c, t in df.schema.items() if t == pl.String and c not in KEPT_TEXT
            and c not in ID_COLUMNS and c not in CARD_COLUMNS and c not in DERIVED]
    if not cols or df.is_empty():
        return df
    hit = df.select(pl.col(c).str.contains(TEXT_RUN).any() for c in cols).row(0)
    cols = [c for c, h in zip(cols, hit) if h]
    if not cols:
        return df
    runs = pl.concat([df.get_column(c).str.extract_all(TEXT_RUN).explode().drop_nulls()
                      for c in cols])
    tokens = run_tokens(runs, key, cards)
    # longest first and leftmost: a run is replaced whole, never a shorter run inside it
    values, replaced = tokens.get_column("value").to_list(), tokens.get_column("token").to_list()
    return df.with_columns(pl.col(c).str.replace_many(values, replaced, leftmost=True)
                           for c in cols)


def writable(df: pl.DataFrame) -> pl.DataFrame:
    """Canonical columns a reader can read back: derived ones dropped, money headed (分)."""
    cols = [c for c in df.columns if c not in DERIVED]
    out = df.select(cols)
    renames = {c: f"{c}(分)" for c in cols if df.schema[c] == pl.Int64 and c != "memo_funds"}
    return out.rename(renames)


def tokenise_inputs(paths: dict[str, list[Path]], key: bytes, out: Path,
                    config: Config) -> tuple[dict[str, list[str]], pl.DataFrame]:
    """Tokenise every file; return the new inputs.yaml mapping and the E09 findings of raw IDs."""

    private_dir(out)
    loaded = {kind: [(Path(path), load_file(path, kind, config).frame) for path in files]
              for kind, files in paths.items()}
    cards = known_cards([frame for parts in loaded.values() for _, frame in parts])
    frames: dict[str, pl.DataFrame] = {}
    written: dict[str, list[str]] = {}
    taken: set[str] = set()
    for kind, parts in loaded.items():
        for path, frame in parts:
            name = _free_name(path.stem, taken)
            write_private(writable(tokenise_frame(frame, key, cards)), out / name)
            written.setdefault(kind, []).append(name)
        frames[kind] = pl.concat([f for _, f in parts]) if len(parts) > 1 else parts[0][1]
    raw_checks = run_rules({k: v for k, v in frames.items() if k in SCHEMAS}, config,
                           select=["E09"]).findings
    raw_checks = tokenise_frame(raw_checks, key, cards)
    return written, raw_checks


def _free_name(stem: str, taken: set[str]) -> str:
    """`stem.tokenised.csv`, numbered when two inputs share a stem (a/名册.csv and b/名册.xlsx);
    control characters of the input's name (an escape sequence) become _."""
    stem = re.sub(r"[\x00-\x1f\x7f-\x9f]", "_", stem)
    name, n = f"{stem}.tokenised.csv", 1
    while name in taken:
        n += 1
        name = f"{stem}.{n}.tokenised.csv"
    taken.add(name)
    return name


def private_dir(out: Path) -> None:
    """The output folder: made owner-only (0700) when it does not exist, else left as it is."""
    try:
        if not out.is_dir():
            out.mkdir(parents=True, mode=0o700)
    except FileExistsError:
        raise CardcheckError(f"{out}: exists and is not a folder") from None
    except PermissionError as exc:
        raise CardcheckError(f"{out}: cannot write there ({exc.strerror})") from None


def write_private(df: pl.DataFrame, path: Path) -> None:
    """A tokenised canonical CSV, owner-only (0600). Cells are written as they are (no formula
    escaping: these files are read back by cardcheck, not opened as reports), but for their
    control characters, shown as escapes (\\x1b) so that printing the file is safe."""
    visible_controls(df).write_csv(path)
    os.chmod(path, 0o600)


def write_inputs_yaml(written: dict[str, list[str]], out: Path) -> Path:
    main = {"roll", "accounts", "payments", "transactions"}
    data: dict[str, object] = {k: v for k, v in written.items() if k in main}
    if "other_roll" in written:
        data["other_rolls"] = written["other_roll"]
    refs = {k: v for k, v in written.items() if k not in main and k != "other_roll"}
    if refs:
        data["refs"] = refs
    path = out / "inputs.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    os.chmod(path, 0o600)
    return path
