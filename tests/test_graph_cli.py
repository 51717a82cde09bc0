"""`cardcheck explain` and `cardcheck graph` from the command line (typer's CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import polars as pl
import pytest
from typer.testing import CliRunner

from cardcheck.cli import app

runner = CliRunner()
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id18(body: str) -> str:
    """A valid 18-digit ID (GB 11643 check digit) from its first 17 digits."""
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS)) % 11]


PEOPLE = [("H1", "张三", id18("11010119500101001"), "6217000000000001"),
          ("H2", "李四", id18("11010119600101001"), "6217000000000002"),
          ("H3", "赵六", id18("11010119550101001"), "6217000000000003")]
PHONE = "13812345678"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A check run over three households whose cards share one reserved phone (C04)."""
    folder = tmp_path_factory.mktemp("explain")
    roll = ["户编号,姓名,身份证号,与户主关系,救助类别,月保障金额,银行卡号"]
    accounts = ["卡号,户名,证件号码,预留手机号"]
    payments = ["交易日期,账号,户名,金额,摘要"]
    for hh, name, pid, card in PEOPLE:
        roll.append(f"{hh},{name},{pid},户主,农村低保,300.00,{card}")
        accounts.append(f"{card},{name},{pid},{PHONE}")
        payments.append(f"2023-04-10,{card},{name},300.00,2023年04月农村低保")
    for fname, lines in (("roll.csv", roll), ("accounts.csv", accounts),
                         ("payments.csv", payments)):
        (folder / fname).write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = folder / "run"
    result = runner.invoke(app, ["check", "--roll", str(folder / "roll.csv"),
                                 "--accounts", str(folder / "accounts.csv"),
                                 "--payments", str(folder / "payments.csv"),
                                 "--out", str(out), "--rules", "C04", "--no-excel", "-q"])
    assert result.exit_code == 0, result.output
    return out


def _finding(run_dir: Path, card: str) -> str:
    found = pl.read_csv(run_dir / "findings.csv", infer_schema=False)
    assert found.height == 3
    return found.filter(pl.col("card_no") == card).get_column("finding_id").item()


def test_explain_prints_a_masked_tree(run_dir: Path) -> None:
    fid = _finding(run_dir, "6217000000000002")
    result = runner.invoke(app, ["explain", fid, "--out", str(run_dir)], terminal_width=200)
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"C04 代管代取［中］　问题编号 {fid}　涉及 300.00 元" in out
    assert "李四 110101********" in out
    assert "名册登记卡/持有卡［农村低保］：卡 6217****0002（开户人 李四）" in out
    assert "银行预留手机号：138****5678" in out
    assert "预留此手机号的卡：卡 6217****0001（开户人 张三）" in out
    assert "预留此手机号的卡：卡 6217****0003（开户人 赵六）" in out
    assert PHONE not in out and "6217000000000001" not in out and PEOPLE[1][2] not in out


def test_explain_unmasked_and_by_prefix(run_dir: Path) -> None:
    fid = _finding(run_dir, "6217000000000002")
    result = runner.invoke(app, ["explain", fid[:8], "--out", str(run_dir), "--unmask"],
                           terminal_width=200)
    assert result.exit_code == 0, result.output
    assert PHONE in result.output and PEOPLE[1][2] in result.output


def test_explain_unknown_finding(run_dir: Path) -> None:
    result = runner.invoke(app, ["explain", "ffffffffffff", "--out", str(run_dir)])
    assert result.exit_code == 2
    assert f"finding ffffffffffff is not in {run_dir / 'findings.csv'}" in result.output


def test_explain_without_manifest(run_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "findings.csv").write_bytes((run_dir / "findings.csv").read_bytes())
    fid = _finding(run_dir, "6217000000000001")
    result = runner.invoke(app, ["explain", fid, "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path / 'manifest.json'} is missing" in result.output
    assert "cardcheck check --out" in result.output


def test_explain_without_findings(tmp_path: Path) -> None:
    result = runner.invoke(app, ["explain", "abc", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "no findings.csv there" in result.output


def test_explain_when_an_input_is_gone(run_dir: Path, tmp_path: Path) -> None:
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest["inputs"]["roll"] = [str(tmp_path / "gone.csv")]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (tmp_path / "findings.csv").write_bytes((run_dir / "findings.csv").read_bytes())
    fid = _finding(run_dir, "6217000000000001")
    result = runner.invoke(app, ["explain", fid, "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "no longer there" in result.output and "gone.csv" in result.output


def test_graph_from_a_run_and_from_files(run_dir: Path, tmp_path: Path) -> None:
    first = tmp_path / "run.graphml"
    result = runner.invoke(app, ["graph", "--run", str(run_dir), "--out", str(first)])
    assert result.exit_code == 0, result.output
    assert f"{first}: 10 nodes, 15 edges" in result.output  # 3 people, households, cards; 1 phone
    graph = nx.read_graphml(first)  # masked by default
    assert graph.nodes["phone:138****5678"] == {"type": "phone", "value": "138****5678"}
    assert sorted(u for u, _ in graph.in_edges("phone:138****5678")) == [
        f"card:6217****000{i}" for i in (1, 2, 3)]
    text = first.read_text(encoding="utf-8")
    assert [v for *_, pid, card in PEOPLE for v in (pid, card, PHONE) if v in text] == []
    full = tmp_path / "full.graphml"
    result = runner.invoke(app, ["graph", "--run", str(run_dir), "--out", str(full), "--unmask"])
    assert result.exit_code == 0, result.output
    graph = nx.read_graphml(full)
    assert graph.nodes[f"phone:{PHONE}"]["type"] == "phone"
    assert sorted(u for u, _ in graph.in_edges(f"phone:{PHONE}")) == [
        f"card:{card}" for *_, card in PEOPLE]
    folder = run_dir.parent
    second = tmp_path / "files.graphml"
    result = runner.invoke(app, ["graph", "--roll", str(folder / "roll.csv"),
                                 "--accounts", str(folder / "accounts.csv"),
                                 "--payments", str(folder / "payments.csv"),
                                 "--out", str(second)])
    assert result.exit_code == 0, result.output
    assert second.read_text(encoding="utf-8") == first.read_text(encoding="utf-8")


def test_graph_refuses_run_and_files_together(run_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["graph", "--run", str(run_dir), "--roll", "x.csv",
                                 "--out", str(tmp_path / "g.graphml")])
    assert result.exit_code == 2
    assert "give either --run or the input options, not both" in result.output


def test_graph_needs_inputs(tmp_path: Path) -> None:
    result = runner.invoke(app, ["graph", "--out", str(tmp_path / "g.graphml")])
    assert result.exit_code == 2
    assert "missing --roll, --accounts, --payments" in result.output
