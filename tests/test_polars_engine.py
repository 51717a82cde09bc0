"""Which polars engine a run's queries use: in memory for a county's files, streaming beyond,
the same findings either way, and the user's own POLARS_ENGINE_AFFINITY left alone."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import cardcheck.pipeline.canonical
import cardcheck.pipeline.run
import cardcheck.pipeline.sources
from cardcheck.config import load_config
from cardcheck.engines.runner import run_rules
from cardcheck.ingest import checks, load_inputs
from cardcheck.pipeline.canonical import run_normalise
from cardcheck.pipeline.options import CheckOptions, read_inputs_file
from cardcheck.pipeline.run import run_check

MB = 1024 ** 2


@pytest.fixture(scope="module")
def demo(demo_county) -> Path:
    return demo_county(300, 5)


def test_a_county_runs_in_memory_a_prefecture_streaming(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = {"payments": [Path("p.csv")]}
    monkeypatch.setattr(checks, "text_size", lambda _paths: 113 * MB)  # 30k households
    assert checks.polars_engine(paths) == "in-memory"
    monkeypatch.setattr(checks, "text_size", lambda _paths: checks.IN_MEMORY_UP_TO)
    assert checks.polars_engine(paths) == "in-memory"
    monkeypatch.setattr(checks, "text_size", lambda _paths: 1200 * MB)  # 300k households
    assert checks.polars_engine(paths) == "auto"


def _spy(monkeypatch: pytest.MonkeyPatch, module: object, name: str, seen: dict[str, str | None]
         ) -> None:
    real = getattr(module, name)

    def spy(*args, **kwargs):
        seen[name] = os.environ.get("POLARS_ENGINE_AFFINITY")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)


def test_check_reads_and_runs_its_rules_in_memory_then_restores(
        demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POLARS_ENGINE_AFFINITY", raising=False)
    seen: dict[str, str | None] = {}
    _spy(monkeypatch, cardcheck.pipeline.sources, "load_inputs", seen)
    _spy(monkeypatch, cardcheck.pipeline.run, "run_rules", seen)
    run_check(CheckOptions(roll=None, accounts=None, payments=[], out=tmp_path / "out",
                           inputs=demo, excel=False, quiet=True))
    assert seen == {"load_inputs": "in-memory", "run_rules": "in-memory"}
    assert "POLARS_ENGINE_AFFINITY" not in os.environ


def test_normalise_reads_in_memory(demo: Path, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POLARS_ENGINE_AFFINITY", raising=False)
    seen: dict[str, str | None] = {}
    _spy(monkeypatch, cardcheck.pipeline.canonical, "load_inputs", seen)
    run_normalise(CheckOptions(roll=None, accounts=None, payments=[], out=tmp_path / "canon",
                               inputs=demo, quiet=True), None)
    assert seen == {"load_inputs": "in-memory"}
    assert "POLARS_ENGINE_AFFINITY" not in os.environ


def test_the_users_own_engine_wins(demo: Path, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLARS_ENGINE_AFFINITY", "streaming")
    seen: dict[str, str | None] = {}
    _spy(monkeypatch, cardcheck.pipeline.run, "run_rules", seen)
    run_check(CheckOptions(roll=None, accounts=None, payments=[], out=tmp_path / "out",
                           inputs=demo, excel=False, quiet=True))
    assert seen == {"run_rules": "streaming"}
    assert os.environ["POLARS_ENGINE_AFFINITY"] == "streaming"


def test_both_engines_load_and_find_the_same(demo: Path) -> None:
    config = load_config()
    paths = read_inputs_file(demo)
    runs = []
    for engine in ("in-memory", "streaming"):
        with pl.Config(engine_affinity=engine):
            inputs = load_inputs(paths, config)
            findings = run_rules(inputs.frames, config).findings
        runs.append((inputs, findings.sort("finding_id")))
    (a, fa), (b, fb) = runs
    for kind in a.frames:
        assert_frame_equal(a.frames[kind], b.frames[kind])
    assert_frame_equal(a.rejects, b.rejects)
    assert a.counts == b.counts
    assert fa.height > 0
    assert_frame_equal(fa, fb)
