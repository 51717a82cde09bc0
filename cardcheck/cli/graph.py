"""`cardcheck explain` and `cardcheck graph`: a finding's evidence, and the identity graph."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from cardcheck.config import Config
from cardcheck.errors import CardcheckError, InputError

INT_COLUMNS = ("first_month", "last_month", "months", "amount")
CANONICAL = "__canonical__"  # read_manifest's key for a run over canonical tables


def find_finding(out: Path, finding_id: str) -> dict[str, Any]:
    """The row of OUT/findings.csv with this id (or an unambiguous prefix of six or more)."""
    path = out / "findings.csv"
    if not path.is_file():
        raise InputError(f"--out {out}: no findings.csv there; run `cardcheck check --out {out}` first")
    found = pl.read_csv(path, infer_schema=False)
    key = finding_id.strip().lower()
    hits = found.filter(pl.col("finding_id") == key)
    if hits.height == 0 and len(key) >= 6:
        hits = found.filter(pl.col("finding_id").str.starts_with(key))
    if hits.height == 0:
        raise InputError(f"finding {finding_id} is not in {path}")
    if hits.height > 1:
        raise InputError(f"finding {finding_id} matches {hits.height} findings in {path}; "
                         "give more of its id")
    row = hits.row(0, named=True)
    for col in INT_COLUMNS:
        row[col] = int(row[col]) if row.get(col) not in (None, "") else None
    return row


def read_manifest(run: Path) -> tuple[dict[str, list[Path]], Path | None]:
    """The input files and config a run used, from RUN/manifest.json."""
    path = run / "manifest.json"
    if not path.is_file():
        raise InputError(
            f"{path} is missing: explain and graph --run re-read the run's input files named "
            "there, and `cardcheck check --out` writes it; re-run check with that folder")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        inputs = {str(k): [Path(p) for p in v] for k, v in manifest["inputs"].items() if v}
        config = Path(manifest["config"]) if manifest.get("config") else None
        canonical = (manifest.get("canonical") or {}).get("location")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{path}: not a cardcheck manifest ({exc})") from None
    if canonical:  # a `check --canonical` run read canonical tables, not input files
        from cardcheck.engines.store import local_path

        if local_path(canonical) is None:
            raise InputError(f"{path}: the run read the canonical tables at {canonical}; "
                             "copy them to a local folder to explain or graph this run")
        return {CANONICAL: [Path(local_path(canonical) or ".")]}, config
    gone = [str(p) for files in inputs.values() for p in files if not p.is_file()]
    if gone:
        raise InputError(f"{path} names input files that are no longer there: {', '.join(gone)}")
    return inputs, config


def load_frames(inputs: dict[str, list[Path]],
                config_path: Path | None) -> tuple[dict[str, pl.DataFrame], Config]:
    from cardcheck.config import load_config
    from cardcheck.ingest import load_inputs

    config = load_config(config_path)
    if CANONICAL in inputs:
        from cardcheck.canonical import load_frames as canonical_frames

        return canonical_frames(str(inputs[CANONICAL][0]), config), config
    return load_inputs(inputs, config).frames, config


def ledger_view(finding_id: str, out: Path, ledger: Path | None) -> Any:
    """The finding's row and history in the ledger (--ledger, else OUT/cardcheck.db, else the
    ledger the run's manifest names), read only; a missing ledger is said so, not created."""
    from cardcheck.graph.explain import LedgerView
    from cardcheck.ledger.store import Ledger

    path = ledger or out / "cardcheck.db"
    if ledger is None and not path.is_file():
        try:
            named = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
            recorded = Path(str(named["outputs"]["ledger"]))
        except (OSError, ValueError, KeyError, TypeError):
            recorded = path
        path = recorded if recorded.is_file() else path
    if not path.is_file():
        return LedgerView(path, missing=f"没有找到台账文件 {path}；用 --ledger 指定本次检查的台账")
    with Ledger(path) as book:
        state = book.state([finding_id])
        if state.is_empty():
            return LedgerView(path, missing="台账中没有这个问题（这份台账可能属于另一次检查）")
        runs = {int(r["run_id"]): str(r["stage"]) for r in book.runs()}
        return LedgerView(path, state.row(0, named=True), book.history(finding_id), runs)


def explain(finding_id: str, out: Path, unmask: bool = False, console: Any = None,
            ledger: Path | None = None) -> None:
    from rich.console import Console

    from cardcheck.graph.build import neighbourhood
    from cardcheck.graph.explain import sections
    from cardcheck.graph.tree import explain_view

    row = find_finding(out, finding_id)
    inputs, config_path = read_manifest(out)
    frames, config = load_frames(inputs, config_path)
    graph = neighbourhood(frames, row, config=config)
    view = ledger_view(row["finding_id"], out, ledger)
    head, facts, book, checklist = sections(row, frames, config, view, unmask)
    (console or Console()).print(explain_view(head, facts, graph, book, checklist, unmask))


def register(app: typer.Typer) -> None:
    from cardcheck.cli.common import fail

    @app.command("explain")
    def explain_cmd(
        finding_id: Annotated[str, typer.Argument(metavar="FINDING_ID", help="The finding's id (column finding_id of findings.csv; six or more leading characters will do).")],
        out: Annotated[Path, typer.Option("--out", metavar="DIR", help="The folder of the check run (holding findings.csv and manifest.json).")],
        unmask: Annotated[bool, typer.Option("--unmask", help="Show full ID, card and phone numbers.")] = False,
        ledger: Annotated[Path | None, typer.Option("--ledger", metavar="FILE", help="The campaign ledger holding the finding's status and history (default DIR/cardcheck.db).")] = None,
    ) -> None:
        """Explain one finding for a visit: its evidence; the person's roll rows; for E08 the
        official and the 近亲属备案 rows, for the card rules the bank's account and which phone
        is the bank's and which the roll's; its status and history in the ledger; the graph of
        who holds, opened and shares the cards; and what to verify on the visit
        (configs/explain.yaml). ID, card and phone numbers masked unless --unmask."""
        try:
            explain(finding_id, out, unmask, ledger=ledger)
        except CardcheckError as error:
            fail(error)

    @app.command("graph")
    def graph_cmd(
        out: Annotated[Path, typer.Option("--out", metavar="FILE.graphml", help="The GraphML file to write.")],
        run: Annotated[Path | None, typer.Option("--run", metavar="DIR", help="Take the inputs and config of this check run (its manifest.json).")] = None,
        inputs: Annotated[Path | None, typer.Option("--inputs", metavar="DIR", help="A folder (or its inputs.yaml) naming every input file.")] = None,
        roll: Annotated[Path | None, typer.Option("--roll", metavar="FILE", help="The roll of beneficiaries (救助对象名册).")] = None,
        accounts: Annotated[Path | None, typer.Option("--accounts", metavar="FILE", help="The bank's account master (账户信息).")] = None,
        payments: Annotated[list[Path] | None, typer.Option("--payments", metavar="FILE", help="Disbursement detail (代发明细); may repeat.")] = None,
        transactions: Annotated[list[Path] | None, typer.Option("--transactions", metavar="FILE", help="Card transactions (交易流水); may repeat.")] = None,
        config: Annotated[Path | None, typer.Option("--config", metavar="FILE", help="Your YAML settings, merged over the defaults in configs/.")] = None,
        unmask: Annotated[bool, typer.Option("--unmask", help="Write full ID, card and phone numbers (node ids and values).")] = False,
    ) -> None:
        """Write the identity graph (people, households, cards, phones, addresses, outside
        accounts and the ties between them) as GraphML for Gephi or yEd; ID, card and phone
        numbers masked unless --unmask."""
        try:
            graph_file(out, run, inputs, roll, accounts, list(payments or []),
                       list(transactions or []), config, unmask)
        except CardcheckError as error:
            fail(error)


def graph_file(out: Path, run: Path | None, inputs: Path | None, roll: Path | None,
               accounts: Path | None, payments: list[Path], transactions: list[Path],
               config: Path | None, unmask: bool = False) -> None:
    from cardcheck.config import load_config
    from cardcheck.graph.export import export_graphml
    from cardcheck.pipeline.options import CheckOptions, resolve_paths

    if run is not None:
        if inputs or roll or accounts or payments or transactions:
            raise CardcheckError("--run takes the inputs of that run; give either --run or the "
                                 "input options, not both")
        paths, config_path = read_manifest(run)
        config_path = config or config_path
    else:
        options = CheckOptions(roll=roll, accounts=accounts, payments=payments, out=out.parent,
                               inputs=inputs, transactions=transactions, config=config)
        paths, config_path = resolve_paths(options, load_config(config)), config
    t0 = time.perf_counter()
    frames, cfg = load_frames(paths, config_path)
    t1 = time.perf_counter()
    counts = export_graphml(frames, out, cfg, unmask)
    typer.echo(f"{out}: {counts['nodes']:,} nodes, {counts['edges']:,} edges "
               f"(inputs read in {t1 - t0:.1f}s, graph written in {time.perf_counter() - t1:.1f}s)")
