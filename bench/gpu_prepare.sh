#!/usr/bin/env bash
# Run HERE (not on the GPU machine) before bench/gpu_check.sh: puts what the GPU machine lacks into
# .gpu/ (ignored by git through .git/info/exclude; carry it with the device tool: carry [".gpu"]):
#   .gpu/wheels/  seqeval (the GPU machine has no package index; everything else the tagger needs is there)
#   .gpu/data/    the SEC filings files of the small-job bench (the ../shared data does not travel)
# Never committed; `rm -rf .gpu` when done.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${TAGGER_SHARED_DATA:-../shared/data}
mkdir -p .git/info .gpu/wheels .gpu/data/sec-filings
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
PY=${PY:-.venv/bin/python}
[ -e .gpu/wheels/seqeval-1.2.2-py3-none-any.whl ] || $PY -m pip wheel -q --no-deps seqeval==1.2.2 -w .gpu/wheels
cp -f "$SHARED/sec-filings/FIN5.txt" "$SHARED/sec-filings/FIN3.txt" .gpu/data/sec-filings/
# what travels: tracked files + untracked files git does not ignore + .gpu (limit 64 MiB)
{ git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 du -cb 2>/dev/null | tail -1 | \
  awk -v gpu="$(du -sb .gpu | cut -f1)" '{printf "working tree %.1f MiB + .gpu %.1f MiB = %.1f MiB (limit 64)\n", $1/2^20, gpu/2^20, ($1+gpu)/2^20}'
