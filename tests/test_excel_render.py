"""Render the example workbook with LibreOffice (PDF → PNG); skipped where soffice is absent."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
                    reason="LibreOffice (soffice) and poppler (pdftoppm) not installed")
def test_workbook_renders_to_pages(tmp_path: Path) -> None:
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "render_workbook.sh"), "",
                           str(tmp_path)], capture_output=True, text=True, timeout=240,
                          check=False)
    assert done.returncode == 0, done.stderr
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 11  # 汇总 (2 pages: tables, charts), 表1–表5 and five rule sheets
    assert all(p.stat().st_size > 5_000 for p in pages)
