"""The same county in every shape real systems export gives exactly the same findings.

Two plain demo counties (different seeds and sizes) are checked once; each shape of
tests/reshape.py rewrites both, and each rewrite must be checked with exit 0, the plain county's
findings finding by finding (rule, keys, months, amount, as a multiset), and no more rejected rows
than the plain county (title, 栏次, 合计, page and footer rows are skipped, never rejected).
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
import reshape

COUNTIES = {"seed 3, 400 households": (3, 400), "seed 11, 300 households": (11, 300)}
KEY = ["rule", "id_number", "household_id", "card_no", "fund", "hub", "first_month",
       "last_month", "months", "amount"]
SHOWN = 5  # differing findings shown each way

# Shapes that cannot be read without a declared layout: config_for() writes it, as a user
# would, in the `layouts:` block of a --config file (docs/bank-layouts.md).
NEEDS_LAYOUT = {"payments_pipe_no_header", "payments_fixed_width"}
# the plain payments' headers as the canonical columns a layout names
PAYMENT_COLUMNS = {"交易日期": "pay_date", "账号": "card_no", "户名": "account_name",
                   "金额": "amount", "摘要": "memo", "批次号": "batch", "代发单位": "payer"}


def config_for(shape: str, folder: Path) -> Path | None:
    """The --config file a shape needs, written beside its files; None for most shapes."""
    if shape == "payments_pipe_no_header":
        layout = {"kind": "payments", "encoding": "gbk", "delimiter": "|", "header": False,
                  "columns": [PAYMENT_COLUMNS[c] for c in reshape.PAYMENTS_PIPE_FIELDS]}
    elif shape == "payments_fixed_width":
        layout = {"kind": "payments", "encoding": "gbk", "units": "bytes",
                  "widths": [[PAYMENT_COLUMNS[c], width]
                             for c, _, width in reshape.PAYMENTS_FIXED_LAYOUT]}
    else:
        return None
    path = folder / "layout.yaml"
    text = yaml.safe_dump({"layouts": {"银行代发明细": layout}}, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Run:
    code: int
    output: str
    findings: Counter
    rules: Counter
    rejects: pl.DataFrame


def start(inputs: Path, out: Path, config: Path | None = None) -> tuple:
    """`cardcheck check --inputs IN --out OUT --no-excel -q [--config C]` started: the two
    counties run side by side (one process each, as the machine has two cores)."""
    command = [sys.executable, "-m", "cardcheck", "check", "--inputs", str(inputs),
               "--out", str(out), "--no-excel", "-q"]
    if config:
        command += ["--config", str(config)]
    log = out.with_name(out.name + ".log").open("w+", encoding="utf-8")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True,
                               cwd=out.parent)
    return process, log, out


def finished(process: subprocess.Popen, log, out: Path) -> Run:
    code = process.wait(timeout=300)
    log.seek(0)
    output = log.read().strip()
    log.close()
    if code or not (out / "findings.csv").is_file():
        return Run(code, output, Counter(), Counter(), pl.DataFrame())
    findings = pl.read_csv(out / "findings.csv", infer_schema=False).select(KEY).fill_null("")
    rejects = pl.read_csv(out / "rejects.csv", infer_schema=False)
    return Run(code, output, Counter(findings.rows()), Counter(findings["rule"].to_list()),
               rejects)


@dataclass
class County:
    label: str
    folder: Path
    run: Run


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> list[County]:
    roots = []
    for seed, households in COUNTIES.values():
        root = tmp_path_factory.mktemp(f"plain_seed{seed}")
        subprocess.run([sys.executable, "-m", "cardcheck", "demo", "--out", str(root / "county"),
                        "--households", str(households), "--seed", str(seed), "--clean"],
                       check=True, capture_output=True, timeout=300)
        roots.append(root)
    runs = [finished(*job) for job in [start(root / "county", root / "out") for root in roots]]
    counties = []
    for label, root, run in zip(COUNTIES, roots, runs, strict=True):
        assert run.code == 0, f"{label}: the plain county's check failed: {run.output}"
        assert run.findings, f"{label}: the plain county has no findings to compare"
        counties.append(County(label, root / "county", run))
    return counties


def differences(label: str, plain: Run, variant: Run) -> list[str]:
    """What differs, readably: per-rule counts, the first differing findings, new rejects."""
    if variant.code:
        last = variant.output.splitlines()[-3:] if variant.output else ["(no output)"]
        return [f"{label}: exit {variant.code}: " + " | ".join(last)]
    out = []
    if variant.findings != plain.findings:
        rules = sorted(set(plain.rules) | set(variant.rules))
        changed = [f"{r} {plain.rules[r]}->{variant.rules[r]}"
                   for r in rules if plain.rules[r] != variant.rules[r]]
        missing = sorted((plain.findings - variant.findings).elements())
        extra = sorted((variant.findings - plain.findings).elements())
        out.append(f"{label}: exit 0 but findings differ: {plain.findings.total()} plain, "
                   f"{variant.findings.total()} here; per rule: {', '.join(changed) or 'same'}")
        out += [f"    missing {dict(zip(KEY, row, strict=True))}" for row in missing[:SHOWN]]
        out += [f"    extra   {dict(zip(KEY, row, strict=True))}" for row in extra[:SHOWN]]
        if len(missing) > SHOWN or len(extra) > SHOWN:
            out.append(f"    ({len(missing)} missing and {len(extra)} extra in all)")
    if variant.rejects.height > plain.rejects.height:
        out.append(f"{label}: {variant.rejects.height} rejected rows, plain "
                   f"{plain.rejects.height}; first:")
        out += [f"    {row}" for row in variant.rejects.head(SHOWN).rows()]
    return out


SHAPES = [pytest.param(name, id=name) for name in reshape.SHAPES]


@pytest.mark.parametrize("shape", SHAPES)
def test_same_findings_in_every_shape(shape: str, plain: list[County], tmp_path) -> None:
    started = []
    for i, county in enumerate(plain):  # each county's check runs while the next is reshaped
        folder = reshape.SHAPES[shape](county.folder, tmp_path / f"county{i}")
        started.append(start(folder, tmp_path / f"out{i}", config_for(shape, folder)))
    runs = [finished(*job) for job in started]
    problems = [line for county, run in zip(plain, runs, strict=True)
                for line in differences(county.label, county.run, run)]
    if problems:
        what = " ".join(reshape.SHAPES[shape].__doc__.split())
        pytest.fail("\n".join([f"{shape}: {what}", *problems]), pytrace=False)
