"""The same inputs give the same findings, byte for byte, whatever the row order of the inputs."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cardcheck.config import load_config
from cardcheck.engines.runner import run_rules
from cardcheck.report.files import write_csv


@pytest.fixture(scope="module")
def frames(demo_county) -> dict[str, pl.DataFrame]:
    from cardcheck.ingest import load_inputs
    from cardcheck.pipeline.options import read_inputs_file

    return load_inputs(read_inputs_file(demo_county(300, 3, clean=True)), load_config()).frames


def test_row_order_does_not_matter(frames: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    cfg = load_config()
    shuffled = {k: v.sample(fraction=1.0, shuffle=True, seed=42) for k, v in frames.items()}
    reversed_ = {k: v.reverse() for k, v in frames.items()}
    outputs = []
    for i, data in enumerate((frames, shuffled, reversed_)):
        findings = run_rules(data, cfg).findings
        assert findings.height > 0
        outputs.append(write_csv(findings, tmp_path / f"f{i}.csv").read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]
