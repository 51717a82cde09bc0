"""Commands of the ledger: `ledger import`, `ledger export` and `sample` (registered by cli.py)."""


from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cardcheck.errors import CardcheckError

if TYPE_CHECKING:
    from cardcheck.ledger.store import Ledger
    from cardcheck.report.spec import ReportSpec

LEDGER_HELP = "SQLite ledger of findings across runs (the check run's OUT/cardcheck.db)."


def _fail(error: CardcheckError) -> None:
    from cardcheck.cli.common import fail

    fail(error)


def _spec(config: Path | None) -> ReportSpec:
    from cardcheck.config import load_config
    from cardcheck.report.spec import report_spec

    return report_spec(load_config(config))


def _open(path: Path, spec: ReportSpec) -> Ledger:
    from cardcheck.ledger.store import Ledger

    if not path.is_file():
        raise CardcheckError(f"--ledger {path}: no ledger there (run cardcheck check first)")
    return Ledger(path, spec.statuses)


def ledger_import(
    files: list[Path] = typer.Argument(..., metavar="FILE.xlsx...", help="Returned workbooks with 表4 (one per township, or the county's); read in the order given."),
    ledger: Path = typer.Option(..., "--ledger", metavar="FILE", help=LEDGER_HELP),
    by: str | None = typer.Option(None, "--by", metavar="WHO", help="Who returned or checked it (e.g. 县民政局 李四): kept in the history and as who closed (销号) a problem."),
    allow_reopen: bool = typer.Option(False, "--allow-reopen", help="Accept a status moving back (已整改/不属实/销号 to 未整改/整改中); refused otherwise."),
    config: Path | None = typer.Option(None, "--config", metavar="FILE", help="Your YAML settings."),
) -> None:
    """Read back what a township filled in 表4 (整改状态, 整改措施, 追回金额, 备注), matching rows on
    问题编号: only what differs from the copy as issued is applied, field by field, and a report
    per township lists every refused entry, deleted, duplicated and hand-added row."""
    from cardcheck.ledger.excel import import_t4
    from cardcheck.masking import terminal_text

    try:
        spec = _spec(config)
        for file in files:
            if not file.is_file():
                raise CardcheckError(f"{file}：找不到这个文件")
        with _open(ledger, spec) as book:
            for file in files:
                report = import_t4(book, file, spec, by=by, allow_reopen=allow_reopen)
                for line in report.lines():  # quotes the filled 表4's cells
                    typer.echo(terminal_text(line))
    except CardcheckError as error:
        _fail(error)
        return


def ledger_export(
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Folder for the workbook."),
    ledger: Path = typer.Option(..., "--ledger", metavar="FILE", help=LEDGER_HELP),
    unmask: bool = typer.Option(False, "--unmask", help="Full ID and card numbers."),
    config: Path | None = typer.Option(None, "--config", metavar="FILE", help="Your YAML settings."),
) -> None:
    """Write 表4 and 表5 from the ledger's state: every problem recorded, its status, measure,
    money recovered, and those gone from the data."""
    from cardcheck.ledger.excel import export_tables

    try:
        spec = _spec(config)
        with _open(ledger, spec) as book:
            path = export_tables(book, out, spec, unmask=unmask)
    except CardcheckError as error:
        _fail(error)
        return
    typer.echo(f"wrote {path}")


def sample(
    stage: str = typer.Option("重点抽查", "--stage", metavar="STAGE", help="Campaign stage the sample is for."),
    ledger: Path = typer.Option(..., "--ledger", metavar="FILE", help=LEDGER_HELP),
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Folder for the visit list."),
    seed: int | None = typer.Option(None, "--seed", metavar="N", help="Random seed; printed and stored, the same seed gives the same sample."),
    townships: int | None = typer.Option(None, "--townships", metavar="N", min=1, help="Townships to draw (default: every township)."),
    villages: int = typer.Option(2, "--villages", metavar="N", min=1, help="Villages per township drawn."),
    households: int = typer.Option(5, "--households", metavar="N", min=1, help="Households per village drawn."),
    weighted: bool = typer.Option(True, "--weighted/--uniform", help="Weighted by risk (the default: findings, severity, money, and 已整改/不属实 claims to verify; configs/sampling.yaml), or every place and household equally likely."),
    unmask: bool = typer.Option(False, "--unmask", help="Full phone and card numbers on the visit list."),
    config: Path | None = typer.Option(None, "--config", metavar="FILE", help="Your YAML settings."),
) -> None:
    """Draw a reproducible sample of townships, villages and households for the joint team's
    visits (stratified by township, weighted by risk unless --uniform), store it in the ledger
    and write the visit list to carry and sign."""
    from cardcheck.config import load_config
    from cardcheck.ledger.sampling import SampleSpec, new_seed, run_sample, weights_of
    from cardcheck.ledger.store import STAGES
    from cardcheck.report.spec import report_spec

    try:
        if stage not in STAGES:
            raise CardcheckError(f"--stage {stage!r}: expected one of {', '.join(STAGES)}")
        cfg = load_config(config)
        spec = report_spec(cfg)
        weights = weights_of(cfg, spec.statuses)
        chosen = new_seed() if seed is None else seed
        with _open(ledger, spec) as book:
            path, drawn = run_sample(book, out, stage, SampleSpec(
                chosen, townships, villages, households, weighted, weights), unmask)
    except CardcheckError as error:
        _fail(error)
        return
    towns = drawn.get_column("township").n_unique()
    places = drawn.select("township", "village").n_unique()
    risky = int((drawn.get_column("findings") > 0).sum())
    claimed = int((drawn.get_column("claimed") > 0).sum())
    how = "按风险加权" if weighted else "等概率"
    typer.echo(f"随机种子 {chosen}（{how}）：抽取 {towns} 个乡镇 {places} 个村 {drawn.height} 户，"
               f"其中台账有问题 {risky} 户（标为已整改、不属实或销号 {claimed} 户）")
    typer.echo(f"走访名单：{path}")


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="The campaign ledger: read a filled 表4 back, write 表4/表5 from it.",
                        no_args_is_help=True)
    group.command("import")(ledger_import)
    group.command("export")(ledger_export)
    app.add_typer(group, name="ledger")
    app.command("sample")(sample)
