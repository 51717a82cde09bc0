"""`cardcheck normalise`: read and normalise the input files once, write canonical tables.

`cardcheck check --canonical` then reads them on any engine: the same pipeline as a check of the
files (pipeline/run.py), with the canonical tables as its source (pipeline/sources.py).
"""

from __future__ import annotations

from pathlib import Path

from cardcheck.atomic import private_umask
from cardcheck.canonical import Written, default_part, write_canonical
from cardcheck.config import load_config
from cardcheck.engines import polars_affinity
from cardcheck.ingest import load_inputs
from cardcheck.ingest.checks import (
    digest_read,
    empty_tables,
    polars_engine,
    read_workers,
    same_files,
    sha256,
)
from cardcheck.pipeline.options import CheckOptions, resolve_paths
from cardcheck.progress import Progress

# ---------------------------------------------------------------- normalise


def run_normalise(options: CheckOptions, part: str | None) -> Written:
    """Read and normalise the messy inputs once; write the canonical tables of one part."""
    config = load_config(options.config)
    paths = resolve_paths(options, config)
    same_files(paths, config.limits)
    with private_umask(), Progress(quiet=options.quiet) as progress, \
            polars_affinity(polars_engine(paths)):
        inputs = load_inputs(paths, config, progress=progress.step,
                             workers=read_workers(paths))
        empty_tables(inputs.counts)
        files = {k: [_file(Path(p)) for p in v] for k, v in paths.items()}
        progress.step("writing the canonical tables")
        return write_canonical(inputs.frames, inputs.rejects, inputs.counts, config,
                               options.out, part or default_part(inputs.frames, options.inputs),
                               files)


def normalise_summary(w: Written) -> str:
    rows = ", ".join(f"{k} {n:,}" for k, n in w.tables.items())
    lines = [(f"{'replaced' if w.replaced else 'wrote'} part {w.part} in {w.folder}: {rows}; "
             f"rejects {w.rejects:,}")]
    bad = [c for c in w.counts if c.read != c.loaded + c.rejected + c.skipped]
    lines += [f"warning: {c.file}: read {c.read} != loaded + rejected + skipped" for c in bad]
    if w.removed:
        lines.append(f"removed this part's old {', '.join(w.removed)} (not in these inputs)")
    lines.append(f"check it with: cardcheck check --canonical {w.folder} --out <folder>")
    return "\n".join(lines)


def _file(path: Path) -> dict[str, object]:
    """An input as the canonical manifest records it: the bytes the reader read."""
    size, digest = digest_read(path) or (path.stat().st_size, sha256(path))
    return {"path": str(path.resolve()), "size": size, "sha256": digest}
