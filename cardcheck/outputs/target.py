"""Where a run's outputs go: a local folder, or (with Spark) a URL.

A URL gets a local staging folder for the small files (findings.csv, manifest.json, …), copied
there through the cluster's file system once they are whole; the engine writes its Parquet
outputs there directly. The ledger is always a local file (--ledger)."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import narwhals.stable.v2 as nw
import polars as pl

from cardcheck.engines import Engine, owner_only
from cardcheck.engines.store import join, local_path, store_for
from cardcheck.errors import CardcheckError
from cardcheck.model import REJECTS
from cardcheck.outputs.staging import Staging
from cardcheck.pipeline.options import CheckOptions


@dataclass
class Target:
    """OUT: a local folder, or a URL (Spark) with a local staging folder for the small files."""

    local: Path
    url: str | None = None
    store: Any = None

    @classmethod
    def of(cls, options: CheckOptions, engine: Engine) -> Target:
        url = options.out_url
        if url and local_path(url) is not None and engine.name != "spark":
            return cls(Path(local_path(url) or "."))
        if not url:
            return cls(options.out)
        if engine.name != "spark":
            store_for(url, engine, "--out")  # raises: a URL needs Spark
        if options.ledger is None:
            raise CardcheckError(f"--out {url}: the ledger is a local SQLite file; give "
                                 "--ledger FILE (it keeps the findings across runs)")
        return cls(Path(tempfile.mkdtemp(prefix="cardcheck-out-")), url,
                   store_for(url, engine, "--out"))

    def place(self, staging: Staging, name: str) -> str:
        """Where the engine writes `name`: the run's partial folder, or the URL itself."""
        return join(self.url, name) if self.url else str(staging.path(name))

    def publish(self, outputs: dict[str, Any]) -> None:
        """Copy the small local files to the URL (the outputs already name them there)."""
        if not self.url:
            return
        for key, where in outputs.items():
            p = self.local / Path(str(where)).name
            if key != "ledger" and str(where).startswith(self.url) and p.is_file():
                self.store.put(p, str(where))
                if local_path(self.url) is not None:  # file://: owner-only as every output
                    owner_only(join(local_path(self.url) or "", p.name))
        if local_path(self.url) is not None:
            owner_only(local_path(self.url) or "")

    def cleanup(self) -> None:
        if self.url:
            shutil.rmtree(self.local, ignore_errors=True)


def parquet_outputs(engine: Engine, target: Target, staging: Staging, findings: pl.DataFrame,
                    rejects: nw.LazyFrame | pl.DataFrame | None) -> dict[str, str]:
    """findings.parquet and rejects.parquet, written by the engine (rejects never come through
    this machine when the engine read them). The outputs name where they will stand."""
    places = {"findings_parquet": target.place(staging, "findings.parquet"),
              "rejects_parquet": target.place(staging, "rejects.parquet")}
    engine.write_parquet(engine.lazy(findings), places["findings_parquet"], small=True)
    if rejects is None:
        rejects = pl.DataFrame(schema=REJECTS)
    lf = engine.lazy(rejects) if isinstance(rejects, pl.DataFrame) else rejects
    engine.write_parquet(lf, places["rejects_parquet"])
    return {k: (v if target.url else str(staging.final(v))) for k, v in places.items()}
