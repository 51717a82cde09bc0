"""`cardcheck precheck`: screen a month's 代发 batch before it goes to the bank, and record the
approver's decisions on what it held (--release)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cardcheck.errors import CardcheckError


def register(app: typer.Typer) -> None:
    from cardcheck.cli.common import fail, internal_error

    @app.command("precheck")
    def precheck_cmd(
        batch: Annotated[Path | None, typer.Option("--batch", metavar="FILE", help="The month's 代发 batch (报盘文件) as it would go to the bank: XLSX, CSV, or pipe / fixed-width text with a layout in --config.")] = None,
        month: Annotated[str | None, typer.Option("--month", metavar="YYYY-MM", help="The month the batch pays, e.g. 2024-05.")] = None,
        out: Annotated[Path | None, typer.Option("--out", metavar="DIR", help="Folder for 可发_<batch>, 暂缓_<batch>, the hold list 暂缓清单_<batch>.xlsx and precheck.json (with --release: for 放行_<batch>).")] = None,
        inputs: Annotated[Path | None, typer.Option("--inputs", metavar="DIR", help="A folder (or its inputs.yaml) naming the roll, accounts, payments and lists; options below override it.")] = None,
        roll: Annotated[list[Path] | None, typer.Option("--roll", metavar="FILE", help="The roll of beneficiaries (救助对象名册); may repeat.")] = None,
        accounts: Annotated[Path | None, typer.Option("--accounts", metavar="FILE", help="The bank's account master (账户信息), for cards held by someone else (C03).")] = None,
        payments: Annotated[list[Path] | None, typer.Option("--payments", metavar="FILE", help="Payments already made (代发明细/回盘), for months paid twice (P04) and exclusive funds (E06); may repeat.")] = None,
        ref: Annotated[list[str] | None, typer.Option("--ref", metavar="KIND=PATH", help="A reference list as KIND=PATH (deaths, prisoners, payroll, business, pensions …); may repeat.")] = None,
        ledger: Annotated[Path | None, typer.Option("--ledger", metavar="FILE", help="The campaign ledger: open C04/C07 findings hold their cards, earlier prechecks' released lines count as paid, and this run is recorded (default OUT/cardcheck.db).")] = None,
        config: Annotated[Path | None, typer.Option("--config", metavar="FILE", help="Your YAML settings, merged over the defaults in configs/.")] = None,
        release: Annotated[Path | None, typer.Option("--release", metavar="HOLDLIST.xlsx", help="Record the approver's decisions (放行 column) of a filled hold list into --ledger; with --batch and --out also write the lines released as 放行_<batch>.")] = None,
        by: Annotated[str | None, typer.Option("--by", metavar="NAME", help="With --release: who decided (recorded with each decision).")] = None,
        unmask: Annotated[bool, typer.Option("--unmask", help="Show full ID and card numbers in the hold list.")] = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    ) -> None:
        """Screen a month's 代发 batch before it goes to the bank: every line against the roll,
        the reference lists, the account master, what was already paid and the ledger's open
        findings, with the same rules as check. Writes the batch back split in its own layout
        (可发 to send, 暂缓 held), a hold list for the approver and a summary; exit 0 when
        nothing is held, 1 when something is. --release records the approver's decisions."""
        from cardcheck.precheck.release import ReleaseOptions, run_release
        from cardcheck.precheck.run import PrecheckOptions, run_precheck

        try:
            if release is not None:
                if ledger is None:
                    raise CardcheckError("--release: give the --ledger the precheck recorded into")
                given = [f for f, v in (("--month", month), ("--inputs", inputs),
                                        ("--roll", roll), ("--accounts", accounts),
                                        ("--payments", payments), ("--ref", ref)) if v]
                if given:
                    raise CardcheckError(f"--release records decisions; {', '.join(given)} "
                                         "cannot be given with it")
                lines = run_release(ReleaseOptions(release, ledger, batch, out, by, config,
                                                   quiet))
                if not quiet:
                    typer.echo("\n".join(lines))
                return
            missing = [f for f, v in (("--batch", batch), ("--month", month), ("--out", out))
                       if v is None]
            if missing:
                raise CardcheckError(f"missing {', '.join(missing)}")
            assert batch is not None and month is not None and out is not None
            code = run_precheck(PrecheckOptions(
                batch=batch, month=month, out=out, roll=list(roll or []), accounts=accounts,
                payments=list(payments or []), refs=list(ref or []), inputs=inputs,
                ledger=ledger, config=config, unmask=unmask, quiet=quiet))
        except CardcheckError as error:
            fail(error)
            return
        except Exception as error:  # noqa: BLE001 - a bug: its type on screen, no data
            internal_error(error, out)
            return
        raise typer.Exit(int(code))
