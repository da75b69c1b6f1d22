#!/usr/bin/env bash
# One-shot WebGPU check and benchmark for a GPU machine without internet or npm:
# adapter info (with the f16 and matrix-unit features Dawn offers with and without NVIDIA's toggles),
# the WebGPU kernel tests, the PyTorch-fixture selftest, the measured float32 peak and per-layer
# kernel timings of ResNet-9 (batch 512), full training steps on 32x32 and 28x28 images with 25-epoch
# projections, the same step in PyTorch on the same machine (the peer: float32, bf16 autocast,
# torch.compile), optionally the full Fashion-MNIST recipe, then a summary table (last).
#
# Needs the repo's dist/ (npm run build), node_modules/webgpu, and on the machine the Vulkan
# loader (libvulkan1) plus libglvnd (libGLdispatch: NVIDIA's Vulkan driver lives in
# libGLX_nvidia.so.0 and fails to load without it; Debian's libglvnd0 and libglx0 provide it).
# No other npm package is used, but puppeteer-core (and pngjs) for the web page's run. Settings:
#   NODE      node >= 20 binary (default: node on PATH)
#   FIXTURES  folder of fixture folders (shared/fixtures) for `selftest`; skipped when unset
#   BATCH=512 ITERS=10 WIDTH=64 STEPS=5   benchmark sizes
#   PEAK_ITERS=4096  FMA rounds per thread of the peak probe (SwiftShader: 8)
#   SWEEP=1   also time every convolution with every tile shape (to tune src/backends/webgpu/conv.ts)
#   LOG_DIR   where the step logs and JSON go (default: a temporary folder)
#   STEP_TIMEOUT=240  seconds allowed for each step
#   FASHION_DIR  folder with Fashion-MNIST's IDX files: also train the full recipe on it (25 epochs,
#             width 64, `--backend webgpu --augment online --no-report`; needs the CLI's npm packages)
#   RECIPE_TIMEOUT=900  seconds allowed for that run
#   TORCH_PYTHON=python3  the interpreter with PyTorch for the peer (skipped when it has none)
#   TORCH_DEVICE=cuda     where the peer runs (cpu: to try this script on a machine without a GPU)
#   CHROMIUM_PATH=/usr/bin/chromium  the browser for the web page's run beside Node's (page.mjs;
#             skipped without it or without node_modules/puppeteer-core)
# How long it took on an H100: BENCHMARKS.md, "WebGPU tuning choices (H100)"; every step is
# bounded by its timeout.
set -uo pipefail
cd "$(dirname "$0")/../../.."

NODE=${NODE:-node}
BATCH=${BATCH:-512}
ITERS=${ITERS:-10}
WIDTH=${WIDTH:-64}
STEPS=${STEPS:-5}
PEAK_ITERS=${PEAK_ITERS:-4096}
STEP_TIMEOUT=${STEP_TIMEOUT:-240}
RECIPE_TIMEOUT=${RECIPE_TIMEOUT:-900}
LOG_DIR=${LOG_DIR:-$(mktemp -d)}
mkdir -p "$LOG_DIR"
: >"$LOG_DIR/steps.tsv"

section() { printf '\n==== %s ====\n' "$1"; }

# run_step NAME COMMAND...: runs with a timeout, logs to LOG_DIR/NAME.log, appends
# "NAME<tab>pass|FAIL ..." to LOG_DIR/steps.tsv; returns the command's status.
run_step() {
  local name=$1 verdict=pass code=0
  shift
  section "$name"
  timeout "$STEP_TIMEOUT" "$@" 2>&1 | tee "$LOG_DIR/$name.log"
  code=${PIPESTATUS[0]}
  [[ $code == 0 ]] || verdict="FAIL (exit $code, log $LOG_DIR/$name.log)"
  printf '%s\t%s\n' "$name" "$verdict" >>"$LOG_DIR/steps.tsv"
  return "$code"
}

# NVIDIA's container runtime mounts its Vulkan driver manifest where the loader does not look.
NVIDIA_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [[ -z ${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-} && -f $NVIDIA_ICD ]]; then export VK_DRIVER_FILES=$NVIDIA_ICD; fi

section environment
echo "node: $("$NODE" --version)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
# (grep without -q: an early exit would SIGPIPE ldconfig and fail the pipeline under pipefail)
if ldconfig -p 2>/dev/null | grep libvulkan.so.1 >/dev/null; then echo 'vulkan loader: found'; else echo 'vulkan loader: MISSING (libvulkan1)'; fi
echo "VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-} VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"

if ! run_step adapter "$NODE" src/bench/gpu/adapter.mjs --json "$LOG_DIR/adapter.json"; then
  echo 'no WebGPU adapter: nothing else can run' >&2
  exit 1
fi

KILOSECOND_TEST_BACKENDS=webgpu run_step kernel-tests "$NODE" --test --test-concurrency=1 --test-reporter=spec dist/backends/webgpu/ dist/backends/kernels.test.js

if [[ -n ${FIXTURES:-} ]]; then
  for fixture in "$FIXTURES"/*/; do
    run_step "selftest-$(basename "$fixture")" "$NODE" src/bench/gpu/selftest.mjs "$fixture"
  done
fi

run_step kernel-bench "$NODE" dist/bench/gpu/kernels.js --batch "$BATCH" --iters "$ITERS" --peak-iters "$PEAK_ITERS" --json ${SWEEP:+--sweep}
grep '^{' "$LOG_DIR/kernel-bench.log" | tail -1 >"$LOG_DIR/kernels.json" || rm -f "$LOG_DIR/kernels.json"

# The same measurement as `kilosecond bench engine --backend webgpu --json`, without the CLI's npm
# packages: CIFAR-10's 3x32x32 step, then the MNISTs' 1x28x28 one (the summary projects 25 epochs of each).
run_step train-step "$NODE" src/bench/gpu/engine.mjs "$WIDTH" "$BATCH" "$STEPS" 32 3
grep '^{' "$LOG_DIR/train-step.log" | tail -1 >"$LOG_DIR/engine.json" || rm -f "$LOG_DIR/engine.json"
run_step train-step-28 "$NODE" src/bench/gpu/engine.mjs "$WIDTH" "$BATCH" "$STEPS" 28 1
grep '^{' "$LOG_DIR/train-step-28.log" | tail -1 >"$LOG_DIR/engine-28.json" || rm -f "$LOG_DIR/engine-28.json"

# The peer: the same 3x32x32 step in this machine's PyTorch, variant by variant (torch_step.py).
TORCH_PYTHON=${TORCH_PYTHON:-python3}
if "$TORCH_PYTHON" -c 'import torch' 2>/dev/null; then
  run_step torch-step "$TORCH_PYTHON" src/bench/gpu/torch_step.py "$WIDTH" "$BATCH" "$STEPS" 32 3 --device "${TORCH_DEVICE:-cuda}"
  grep '^{' "$LOG_DIR/torch-step.log" | tail -1 >"$LOG_DIR/torch.json" || rm -f "$LOG_DIR/torch.json"
else
  printf 'torch-step\tskipped (%s has no torch)\n' "$TORCH_PYTHON" >>"$LOG_DIR/steps.tsv"
fi

# The web page beside Node on this GPU (issue 24): the same fast-recipe run in headless Chromium
# and with Dawn, when a Chromium and puppeteer-core are here.
if [[ -x ${CHROMIUM_PATH:-/usr/bin/chromium} && -d node_modules/puppeteer-core ]]; then
  STEP_TIMEOUT=$RECIPE_TIMEOUT run_step web-page "$NODE" src/bench/gpu/page.mjs --width "$WIDTH" --json "$LOG_DIR/page.json"
else
  echo "web page: skipped (no chromium at ${CHROMIUM_PATH:-/usr/bin/chromium}, or no node_modules/puppeteer-core)"
fi

# The full recipe, when Fashion-MNIST's four IDX files (gzipped or not) are in FASHION_DIR.
if [[ -n ${FASHION_DIR:-} ]]; then
  STEP_TIMEOUT=$RECIPE_TIMEOUT run_step fashion-mnist-recipe "$NODE" bin/kilosecond.js train fashion-mnist \
    --backend webgpu --augment online --no-report --data-dir "$FASHION_DIR" --out "$LOG_DIR/fashion-mnist"
fi

"$NODE" src/bench/gpu/summary.mjs "$LOG_DIR"
echo "logs: $LOG_DIR"
