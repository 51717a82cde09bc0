"""The command line: parse, call, render, exit. Work lives in the modules it calls.

Commands of other areas (graph/explain, ledger/sample, tokenize) register themselves from their
own modules in this package (graph.py, ledger.py, tokenize.py), so this file stays a thin table
of contents. A command imports what it runs when it runs (the only function-level imports of the
package outside optional engines): `cardcheck rules` need not load the workbook writer.
"""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path

import typer

from cardcheck.cli import graph as graph_commands
from cardcheck.cli import ledger as ledger_commands
from cardcheck.cli import precheck as precheck_commands
from cardcheck.cli import tokenize as tokenize_commands
from cardcheck.cli.common import fail, internal_error
from cardcheck.errors import CardcheckError, ExitCode
from cardcheck.ledger.store import STAGES

app = typer.Typer(
    name="cardcheck",
    help="Check one-card (一卡通) social-assistance payments: load the bank's and the roll's "
    "files, find 一人多卡, 代管代取, payments to the dead and the rest, and write the evidence "
    "and the campaign tables.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def private_files() -> None:
    """Before every command: what it creates is owner-only from the start (files 0600, folders
    0700), for the outputs hold personal data; an existing folder keeps its mode."""
    os.umask(0o077)


@app.command()
def check(
    inputs: Path | None = typer.Option(None, "--inputs", metavar="DIR", help="A folder (or its inputs.yaml) naming every input file, as `cardcheck demo` writes; options below override it."),
    roll: list[Path] | None = typer.Option(None, "--roll", metavar="FILE", help="The roll of beneficiaries (救助对象名册); may repeat (民政's and 残联's rolls are stacked)."),
    accounts: Path | None = typer.Option(None, "--accounts", metavar="FILE", help="The bank's account master (账户信息)."),
    payments: list[Path] | None = typer.Option(None, "--payments", metavar="FILE", help="Disbursement detail (代发明细); may repeat."),
    transactions: list[Path] | None = typer.Option(None, "--transactions", metavar="FILE", help="Card transactions (交易流水); may repeat."),
    ref: list[str] | None = typer.Option(None, "--ref", metavar="KIND=PATH", help="A reference list as KIND=PATH (deaths, prisoners, payroll, business, pensions, officials, relatives, or a kind your config adds); may repeat."),
    other_roll: list[Path] | None = typer.Option(None, "--other-roll", metavar="FILE", help="A roll of another region, for cross-region duplicates (E07); may repeat."),
    config: Path | None = typer.Option(None, "--config", metavar="FILE", help="Your YAML settings, merged over the defaults in configs/."),
    out: str = typer.Option(..., "--out", metavar="DIR", help="Folder for findings.csv, rejects.csv, the workbook and the manifest (with --engine spark --canonical also an hdfs:// or s3a:// URL)."),
    rules: str | None = typer.Option(None, "--rules", metavar="CODES", help="Only these rule codes, comma-separated (e.g. C01,C04)."),
    engine: str = typer.Option("polars", "--engine", metavar="NAME", help="polars (default), duckdb or spark."),
    spark_master: str = typer.Option("local[*]", "--spark-master", metavar="URL", help="Spark master URL, with --engine spark."),
    spark_conf: list[str] | None = typer.Option(None, "--spark-conf", metavar="KEY=VALUE", help="Spark setting KEY=VALUE; may repeat."),
    stage: str = typer.Option("自查自纠", "--stage", metavar="STAGE", help="Campaign stage of this run: " + ", ".join(STAGES) + "."),
    ledger: Path | None = typer.Option(None, "--ledger", metavar="FILE", help="SQLite ledger of findings across runs (default OUT/cardcheck.db)."),
    no_excel: bool = typer.Option(False, "--no-excel", help="Skip the Excel workbook."),
    findings_xlsx: bool = typer.Option(False, "--findings-xlsx", help="Also write findings.xlsx: findings.csv for Excel (Chinese headers, amounts in 元, every digit of ID and card numbers kept; full numbers, like findings.csv)."),
    unmask: bool = typer.Option(False, "--unmask", help="Show full ID and card numbers on screen and in the workbook."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
    profile: bool = typer.Option(False, "--profile", help="Print the time and memory of every stage."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print the summary in full: every rule, township, hub and input file (by default it is kept short; the workbook has it all)."),
    fail_on: str | None = typer.Option(None, "--fail-on", metavar="SEVERITY", help="Exit 1 when a finding at or above this severity (high, medium, low) is found."),
    canonical: str | None = typer.Option(None, "--canonical", metavar="PATH", help="Check the canonical tables `cardcheck normalise` wrote (a folder, or with --engine spark an hdfs://, s3a:// or file:// URL), read by the engine itself."),
    parquet: bool | None = typer.Option(None, "--parquet/--no-parquet", help="Also write findings.parquet and rejects.parquet, by the engine (default on with --engine spark --canonical)."),
    report_rows: int = typer.Option(10_000_000, "--report-rows", metavar="N", min=0, help="With --canonical: build the workbook only when the roll, accounts, payments and rejects hold at most N rows (they come to this machine for it)."),
) -> None:
    """Load every input, run the rule catalogue, and write the findings and reports."""
    from cardcheck.pipeline.options import CheckOptions, check_out
    from cardcheck.pipeline.run import run_check

    out_path, out_url = check_out(out)
    options = CheckOptions(
        inputs=inputs, roll=list(roll or []) or None, accounts=accounts, payments=list(payments or []),
        transactions=list(transactions or []),
        refs=list(ref or []), other_rolls=list(other_roll or []), config=config, out=out_path,
        rules=rules, engine=engine, spark_master=spark_master, spark_conf=list(spark_conf or []),
        stage=stage, ledger=ledger, excel=not no_excel, findings_xlsx=findings_xlsx, unmask=unmask, quiet=quiet,
        profile=profile, verbose=verbose, fail_on=fail_on, canonical=canonical, out_url=out_url, parquet=parquet,
        report_rows=report_rows,
    )
    try:
        code = run_check(options)
    except CardcheckError as error:
        fail(error)
        return
    except Exception as error:  # noqa: BLE001 - a bug: its type on screen, no data
        internal_error(error, None if out_url else out_path)
        return
    raise typer.Exit(int(code))


@app.command()
def normalise(
    inputs: Path | None = typer.Option(None, "--inputs", metavar="DIR", help="A folder (or its inputs.yaml) naming every input file; options below override it."),
    roll: list[Path] | None = typer.Option(None, "--roll", metavar="FILE", help="The roll of beneficiaries (救助对象名册); may repeat (民政's and 残联's rolls are stacked)."),
    accounts: Path | None = typer.Option(None, "--accounts", metavar="FILE", help="The bank's account master (账户信息)."),
    payments: list[Path] | None = typer.Option(None, "--payments", metavar="FILE", help="Disbursement detail (代发明细); may repeat."),
    transactions: list[Path] | None = typer.Option(None, "--transactions", metavar="FILE", help="Card transactions (交易流水); may repeat."),
    ref: list[str] | None = typer.Option(None, "--ref", metavar="KIND=PATH", help="A reference list as KIND=PATH; may repeat."),
    other_roll: list[Path] | None = typer.Option(None, "--other-roll", metavar="FILE", help="A roll of another region (E07); may repeat."),
    config: Path | None = typer.Option(None, "--config", metavar="FILE", help="Your YAML settings, merged over the defaults in configs/."),
    out: Path = typer.Option(..., "--out", metavar="CANON", help="Folder of canonical tables to write this part into (one folder per table kind, Parquet)."),
    part: str | None = typer.Option(None, "--part", metavar="NAME", help="Name of this part (default: the roll's 6-digit county code, else the inputs folder's name); counties merge by copying their parts into one folder."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
) -> None:
    """Read and normalise the input files once and write the canonical tables as Parquet, for
    `cardcheck check --canonical` (on any engine; Spark reads them on the cluster)."""
    from cardcheck.masking import terminal_text
    from cardcheck.pipeline.canonical import normalise_summary, run_normalise
    from cardcheck.pipeline.options import CheckOptions

    options = CheckOptions(
        inputs=inputs, roll=list(roll or []) or None, accounts=accounts, payments=list(payments or []),
        transactions=list(transactions or []), refs=list(ref or []),
        other_rolls=list(other_roll or []), config=config, out=out, quiet=quiet,
    )
    try:
        written = run_normalise(options, part)
    except CardcheckError as error:
        fail(error)
        return
    except Exception as error:  # noqa: BLE001 - a bug: its type on screen, no data
        internal_error(error, out)
        return
    if not quiet:
        typer.echo(terminal_text(normalise_summary(written), newlines=True))


@app.command()
def demo(
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Folder to write the synthetic county into."),
    households: int = typer.Option(2000, "--households", metavar="N", min=300, help="Number of households (at least 300, so every planted case has its own)."),
    seed: int = typer.Option(7, "--seed", metavar="N", help="Random seed; the same seed gives the same files."),
    clean: bool = typer.Option(False, "--clean", help="Plain UTF-8 CSV without the mess of real exports (for benchmarks)."),
) -> None:
    """Write a synthetic county (roll, accounts, payments, transactions, reference lists) with
    planted problems of every rule and a truth file listing them."""
    from cardcheck.demo import write_demo

    try:
        summary = write_demo(out, households=households, seed=seed, clean=clean)
    except CardcheckError as error:
        fail(error)
        return
    typer.echo(summary)


@app.command("inspect")
def inspect(
    files: list[Path] = typer.Argument(..., metavar="FILE...", help="Input files to look at."),
    kind: str | None = typer.Option(None, "--kind", metavar="KIND", help="What the files are (roll, accounts, payments, transactions, other_roll or a list kind); default: the kind whose header each fits best."),
    config: Path | None = typer.Option(None, "--config", metavar="FILE", help="Your YAML settings, merged over the defaults in configs/."),
    unmask: bool = typer.Option(False, "--unmask", help="Show full ID and card numbers in the rejects shown."),
) -> None:
    """Show how each file is read: sheets read and ignored, the header row(s), every header and
    the column it fills (or why it is ignored), rows by fate and the first rejects."""
    from cardcheck.config import load_config
    from cardcheck.inspect import inspect_file, render
    from cardcheck.masking import terminal_text

    try:
        cfg = load_config(config)
        failed = 0
        for i, path in enumerate(files):
            try:
                lines = render(inspect_file(path, cfg, kind), unmask)
            except CardcheckError as error:  # this file cannot be read: say why, go on
                failed += 1
                lines = [f"{path.name}: cannot be read: {error}"]
            typer.echo(("\n" if i else "") + "\n".join(terminal_text(line) for line in lines))
    except CardcheckError as error:
        fail(error)
        return
    except Exception as error:  # noqa: BLE001 - a bug: its type on screen, no data
        internal_error(error, None)
        return
    raise typer.Exit(int(ExitCode.INPUT) if failed else 0)


@app.command("rules")
def list_rules(config: Path | None = typer.Option(None, "--config", help="Your YAML settings.")) -> None:
    """List the rule catalogue: code, Chinese name, severity and what each needs."""
    from cardcheck.config import load_config
    from cardcheck.masking import terminal_text
    from cardcheck.rules import catalogue

    try:
        cfg = load_config(config)
    except CardcheckError as error:
        fail(error)
        return
    for rule in catalogue(cfg):
        needs = "; ".join(f"{t}: {', '.join(c)}" for t, c in rule.needs.items())
        typer.echo(terminal_text(f"{rule.code}  {rule.name}  [{rule.severity_for(cfg)}]  {rule.title}  ({needs})"))


for _commands in (graph_commands, ledger_commands, precheck_commands, tokenize_commands):
    _commands.register(app)


def main() -> None:
    """The console entry: the command, then a quick exit.

    Python's own teardown frees every frame and module one by one (0.2 s after a county's
    check, 0.4-0.6 s after a prefecture's), with nothing left to do by then: the command has written
    and closed its files. So once the command returns, the exit handlers run, the output is
    flushed and the process ends at once, with the command's exit code. Under a profiler,
    debugger or coverage tracer the exit is Python's own, so they can write their reports."""
    try:
        app(prog_name="cardcheck")
        code = 0
    except SystemExit as exc:
        code = exit_status(exc.code)
    except Exception as error:  # noqa: BLE001 - a command without its own handler
        try:
            internal_error(error, None)
        except typer.Exit as done:
            code = done.exit_code
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)  # under a profiler, debugger or coverage: they write their report at exit
    atexit._run_exitfuncs()  # what `sys.exit` would run: staging folders removed, logs closed
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    os._exit(code)


def exit_status(code: object) -> int:
    """The process status `raise SystemExit(code)` gives: None 0, an int itself, anything else
    printed to stderr and 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":  # pragma: no cover
    main()
