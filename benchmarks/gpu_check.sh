#!/usr/bin/env bash
# The GPU check, in under 5 minutes on one GPU: the unit tests that need CUDA, the
# population benchmark (member-steps/s against a plain loop, P up to 1024) and a
# population of two cells' settings trained on the GPU, then one summary table.
# On a machine without CUDA it says so and exits 0.
#
#   bash benchmarks/gpu_check.sh            (PYTHON=... to pick the interpreter)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    echo "gpu_check: no CUDA device on this machine; nothing to check"
    exit 0
fi
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
export PYTHONUNBUFFERED=1

timeout 120 "$PY" -m pytest -m cuda tests/unit -q -p no:cacheprovider 2>&1 | tee "$out/cuda_tests.log"
tests_rc=${PIPESTATUS[0]}

timeout 150 "$PY" -m benchmarks.population --device cuda --sizes 1,64,256,1024 --steps 20 --repeats 3 \
    --out "$out" 2>&1 | tee "$out/population_benchmark.log"
bench_rc=${PIPESTATUS[0]}

timeout 60 "$PY" -m benchmarks.population --device cuda --train-check "$out/train_check" 2>&1 | tee "$out/train_check.log"
train_rc=${PIPESTATUS[0]}

echo
echo "== gpu_check summary ($("$PY" -c 'import torch; print(torch.cuda.get_device_name())')) =="
printf '%-28s %s\n' "CUDA unit tests" "$(tail -n 1 "$out/cuda_tests.log") (exit $tests_rc)"
printf '%-28s %s\n' "population benchmark" "exit $bench_rc; table above, csv in $out"
printf '%-28s %s\n' "two-cell population" "$(grep '^train check' "$out/train_check.log" | tail -n 1) (exit $train_rc)"
[ "$tests_rc" -eq 0 ] && [ "$bench_rc" -eq 0 ] && [ "$train_rc" -eq 0 ]
