"""Keyed pseudonyms for ID and card numbers, so a bank and a civil-affairs bureau can exchange
files without raw identifiers and still join them.

A usable ID (normalised to 18 digits first, so 15-digit and lower-case-x forms give the same
token) becomes `T` + 24 hex digits of HMAC-SHA256(key, "id:" + ID); a card becomes
`T` + HMAC of "card:" + number. An ID that is not usable (checksum, Excel damage …) becomes
`BAD` + its HMAC, which the readers treat as unusable, so it is never matched. The key is read
from a file and never written anywhere.

Checks that need the raw ID (E09: checksum, birth date, region) run here, before tokenising, and
their findings are written beside the tokenised files with tokens in place of the IDs.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import polars as pl
import yaml

from cardcheck.config import Config
from cardcheck.engines.runner import run_rules
from cardcheck.errors import CardcheckError
from cardcheck.ingest import load_file
from cardcheck.model import ID_USABLE, SCHEMAS
from cardcheck.normalize.ids import id_status

ID_COLUMNS = ("id_number", "payee_id", "holder_id", "agent_id", "official_id", "relative_id",
              "head_id")
CARD_COLUMNS = ("card_no", "counterparty_account")
STATUS_OF = {"id_number": "id_status", "holder_id": "holder_id_status"}
DERIVED = {"name_key", "payee_name_key", "holder_name_key", "agent_name_key", "account_name_key",
           "pay_month", "txn_month", "memo_fund", "memo_family", "memo_funds", "memo_generic",
           "memo_period", "id_status", "holder_id_status", "source_file", "source_line",
           "source_region", "card_damage"}
MIN_KEY_BYTES = 16


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


def tokenise_frame(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """Replace every ID and card column of a canonical frame by its token."""
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
    frames: dict[str, pl.DataFrame] = {}
    written: dict[str, list[str]] = {}
    taken: set[str] = set()
    for kind, files in paths.items():
        parts = []
        for path in files:
            loaded = load_file(path, kind, config)
            parts.append(loaded.frame)
            name = _free_name(Path(path).stem, taken)
            write_private(writable(tokenise_frame(loaded.frame, key)), out / name)
            written.setdefault(kind, []).append(name)
        frames[kind] = pl.concat(parts) if len(parts) > 1 else parts[0]
    raw_checks = run_rules({k: v for k, v in frames.items() if k in SCHEMAS}, config,
                           select=["E09"]).findings
    raw_checks = tokenise_frame(raw_checks, key)
    return written, raw_checks


def _free_name(stem: str, taken: set[str]) -> str:
    """`stem.tokenised.csv`, numbered when two inputs share a stem (a/名册.csv and b/名册.xlsx)."""
    name, n = f"{stem}.tokenised.csv", 1
    while name in taken:
        n += 1
        name = f"{stem}.{n}.tokenised.csv"
    taken.add(name)
    return name


def private_dir(out: Path) -> None:
    """The output folder, owner-only (0700) where the OS allows."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        os.chmod(out, 0o700)
    except FileExistsError:
        raise CardcheckError(f"{out}: exists and is not a folder") from None
    except PermissionError as exc:
        raise CardcheckError(f"{out}: cannot write there ({exc.strerror})") from None


def write_private(df: pl.DataFrame, path: Path) -> None:
    """A tokenised canonical CSV, owner-only (0600). Cells are written as they are (no formula
    escaping): these files are read back by cardcheck, not opened as reports."""
    df.write_csv(path)
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
