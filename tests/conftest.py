"""Fixtures shared by the test files: one demo county per (households, seed, clean) per test
run, written once and read by every file that asks for it (never written into)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cardcheck.demo import write_demo

DemoCounty = Callable[..., Path]


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
