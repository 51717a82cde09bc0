#!/usr/bin/env bash
# Render a cardcheck workbook to PDF and PNG pages with LibreOffice, to look at what prints.
#   benchmarks/render_workbook.sh [WORKBOOK.xlsx] [OUTDIR]
# Without a workbook, writes the small example run's workbook first (cardcheck.example).
# Needs: apt-get install -y libreoffice-calc poppler-utils fonts-noto-cjk fonts-crosextra-carlito
# (Carlito has Calibri's widths, the workbook's default font: without it columns print wider)
set -euo pipefail
out="${2:-/tmp/cardcheck_render}"
mkdir -p "$out"
book="${1:-}"
if [ -z "$book" ]; then
  book=$(python - "$out" <<'PY'
import sys
from pathlib import Path
from cardcheck.outputs.write import write_outputs
from cardcheck.progress import Progress
from cardcheck.example import example_run
from cardcheck.pipeline.run import Timer
run = example_run(Path(sys.argv[1]) / "run", quiet=True)
write_outputs(run, Timer(), Progress(quiet=True))
print(run.outputs["workbook"])
PY
)
fi
command -v soffice >/dev/null || { echo "soffice not found: apt-get install -y libreoffice-calc" >&2; exit 3; }
soffice --headless --convert-to pdf --outdir "$out" "$book" >/dev/null
pdf="$out/$(basename "${book%.*}").pdf"
pdftoppm -r 70 -png "$pdf" "$out/page"
ls "$out"/page*.png
