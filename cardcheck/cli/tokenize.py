"""`cardcheck tokenize`: keyed pseudonyms for ID and card numbers (see cardcheck/tokenize.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from cardcheck.errors import CardcheckError


def tokenize(
    source: Path = typer.Argument(..., metavar="IN", help="An input folder with inputs.yaml, or one file (with --kind)."),
    out: Path = typer.Argument(..., metavar="OUT", help="Folder for the tokenised files (and their inputs.yaml)."),
    key_file: Path = typer.Option(..., "--key-file", metavar="FILE", help="File holding the secret key (16+ bytes); both sides use the same key."),
    kind: str | None = typer.Option(None, "--kind", metavar="KIND", help="With a single file: roll, accounts, payments, transactions, other_roll or a list kind."),
    config: Path | None = typer.Option(None, "--config", metavar="FILE", help="Your YAML settings."),
) -> None:
    """Replace ID and card numbers by keyed HMAC-SHA256 pseudonyms, so files can be exchanged
    without raw identifiers and still be joined; checks that need raw IDs (E09) run first."""
    from cardcheck.cli.common import fail, internal_error
    from cardcheck.config import load_config
    from cardcheck.pipeline.options import read_inputs_file
    from cardcheck.report.files import write_csv
    from cardcheck.tokenize import read_key, tokenise_inputs, write_inputs_yaml

    try:
        key = read_key(key_file)
        cfg = load_config(config)
        if source.is_dir():
            paths = read_inputs_file(source)
        elif kind:
            paths = {kind: [source]}
        elif source.is_file():
            raise CardcheckError(f"{source}: a single file needs --kind (roll, accounts, payments, …)")
        else:
            raise CardcheckError(f"{source}: no such file or folder")
        inputs_folder = source if source.is_dir() else source.parent
        if out.resolve() == inputs_folder.resolve():
            raise CardcheckError(f"{out}: is the input folder; give another folder for the "
                                 "tokenised files (the raw files and their inputs.yaml stay)")
        written, raw_checks = tokenise_inputs(paths, key, out, cfg)
        if source.is_dir():
            write_inputs_yaml(written, out)
        write_csv(raw_checks, out / "E09_raw_ids.csv")
    except CardcheckError as error:
        fail(error)
        return
    except Exception as error:  # noqa: BLE001 - a bug: its type on screen, never file data
        internal_error(error, None)
        return
    files = sum(len(v) for v in written.values())
    typer.echo(f"tokenised {files} file(s) into {out}")
    typer.echo(f"E09 (ID checksum, birth date, region) needs raw IDs: checked before tokenising, "
               f"{raw_checks.height} finding(s) in {out / 'E09_raw_ids.csv'}")


def register(app: typer.Typer) -> None:
    app.command("tokenize")(tokenize)
