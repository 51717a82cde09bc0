"""Reading two files at once: when it is chosen, and that it changes nothing in what is loaded,
rejected or counted, nor which error is reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from cardcheck.config import load_config
from cardcheck.errors import InputError
from cardcheck.ingest import checks, load_inputs
from cardcheck.pipeline.options import read_inputs_file

GB = 1024 ** 3


def sized(tmp_path: Path, name: str, n: int) -> Path:
    path = tmp_path / name
    path.write_bytes(b"x" * n)
    return path


def test_two_at_once_with_two_cores_and_memory_to_spare(tmp_path: Path) -> None:
    paths = {"payments": [sized(tmp_path, "p.csv", 1000)], "roll": [sized(tmp_path, "r.csv", 1000)]}
    assert checks.read_workers(paths, available=2000 * 6, cores=2) == 2  # needs 2000 × 4.5
    assert checks.read_workers(paths, available=2000 * 5, cores=2) == 1  # not a fifth to spare
    assert checks.read_workers(paths, available=2000 * 6, cores=1) == 1
    assert checks.read_workers(paths, available=0, cores=2) == 1  # free memory unknown


def test_a_province_is_read_one_file_at_a_time(tmp_path: Path, monkeypatch) -> None:
    paths = {"transactions": [tmp_path / "t.csv"]}
    # 1M households: 3.7 GB of CSV, 20 GB free (README "Speed"); 300k: 1.2 GB
    monkeypatch.setattr(checks, "text_size", lambda _paths: 3.7 * GB)
    assert checks.read_workers(paths, available=20 * GB, cores=2) == 1
    monkeypatch.setattr(checks, "text_size", lambda _paths: 1.2 * GB)
    assert checks.read_workers(paths, available=20 * GB, cores=2) == 2


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory, demo_county) -> dict[str, list[Path]]:
    paths = read_inputs_file(demo_county(300, 11))
    # a second file of one kind, with a row to reject (beside, not in, the shared county)
    extra = tmp_path_factory.mktemp("extra") / "deaths_extra.csv"
    extra.write_text("姓名,身份证号,死亡日期\n张三,110101195001010019,2023-04-10\n"
                     "李四,110101195201010028,不详\n", encoding="utf-8")
    return {**paths, "deaths": [*paths.get("deaths", []), extra]}


def test_two_at_once_loads_exactly_what_one_at_a_time_loads(messy: dict[str, list[Path]]) -> None:
    config = load_config()
    one = load_inputs(messy, config, workers=1)
    two = load_inputs(messy, config, workers=2)
    assert list(two.frames) == list(one.frames)
    for kind in one.frames:
        assert_frame_equal(two.frames[kind], one.frames[kind])
    assert one.rejects.height > 0 and sum(c.skipped for c in one.counts) > 0
    assert_frame_equal(two.rejects, one.rejects)
    assert two.counts == one.counts


def test_the_first_bad_file_in_order_is_the_error(tmp_path: Path,
                                                  messy: dict[str, list[Path]]) -> None:
    bad_roll = tmp_path / "roll.csv"
    bad_roll.write_text("a,b,c\n1,2,3\n", encoding="utf-8")  # no header cardcheck knows
    paths = {**messy, "roll": [bad_roll], "accounts": [tmp_path / "missing.csv"]}
    with pytest.raises(InputError) as one:
        load_inputs(paths, load_config(), workers=1)
    with pytest.raises(InputError) as two:
        load_inputs(paths, load_config(), workers=2)
    assert "roll.csv" in str(two.value)
    assert str(two.value) == str(one.value)


def test_progress_names_every_file_once(messy: dict[str, list[Path]]) -> None:
    seen: list[str] = []
    load_inputs(messy, load_config(), progress=seen.append, workers=2)
    files = [p.name for files in messy.values() for p in files]
    assert sorted(s.rsplit(": ", 1)[1] for s in seen) == sorted(files)
