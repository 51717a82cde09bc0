"""Fixtures shared by the test files, each made once per test run and the same for the same
arguments: the demo county in memory (`demo_build`), as canonical frames (`demo_frames`) and as
files (`demo_county`). Tests read them and never change them: a run's output goes to a folder of
its own, not into a county's folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from cardcheck.demo import build, canonical_frames, write_demo
from cardcheck.demo.county import Demo

DemoCounty = Callable[..., Path]
DemoBuild = Callable[..., Demo]
DemoFrames = Callable[..., tuple[dict[str, pl.DataFrame], pl.DataFrame]]


@pytest.fixture(scope="session")
def demo_county(tmp_path_factory: pytest.TempPathFactory) -> DemoCounty:
    """`demo_county(households=300, seed=5, clean=False)`: the folder of that demo county (its
    inputs.yaml and files); the same folder for the same arguments throughout the run."""
    made: dict[tuple[int, int, bool], Path] = {}

    def county(households: int = 300, seed: int = 5, clean: bool = False) -> Path:
        key = (households, seed, clean)
        if key not in made:
            folder = tmp_path_factory.mktemp(f"demo-{households}-{seed}-{'clean' if clean else 'messy'}")
            write_demo(folder, households=households, seed=seed, clean=clean)
            made[key] = folder
        return made[key]

    return county


@pytest.fixture(scope="session")
def demo_build() -> DemoBuild:
    """`demo_build(households=300, seed=5)`: that demo county as generated in memory
    (cardcheck.demo.build: its world, payments, truth); the same object for the same arguments
    throughout the run."""
    made: dict[tuple[int, int], Demo] = {}

    def built(households: int = 300, seed: int = 5) -> Demo:
        if (households, seed) not in made:
            made[households, seed] = build(households, seed)
        return made[households, seed]

    return built


@pytest.fixture(scope="session")
def demo_frames(demo_build: DemoBuild) -> DemoFrames:
    """`demo_frames(households=300, seed=5)`: (canonical frames, truth) of that demo county, as
    cardcheck.demo.demo_frames gives them, made once per arguments; each call a new dict of the
    same frames, so a test may add or replace a table without touching another's."""
    made: dict[tuple[int, int], tuple[dict[str, pl.DataFrame], pl.DataFrame]] = {}

    def frames(households: int = 300, seed: int = 5
               ) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
        if (households, seed) not in made:
            demo = demo_build(households, seed)
            made[households, seed] = canonical_frames(demo), demo.truth
        tables, truth = made[households, seed]
        return dict(tables), truth

    return frames
