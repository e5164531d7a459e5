#!/usr/bin/env bash
# The GPU check on a machine with its own CUDA torch and no network (the lent H200: CPython 3.12, torch
# 2.11+cu130, a system nvcc), from the repository root, with the bundle that
# `python -m scripts.loop.gpu_check --bundle .gpu-bundle --download` made here (carried as `.gpu-bundle`):
#   bash scripts/loop/gpu_check/bootstrap.sh [gpu_check args...]
# 1. the carried wheels into $WORK/site (pip, no index, no dependencies);
# 2. the forks unpacked into $WORK/forks, spconv's patched Python files over the spconv wheel;
# 3. mmcv's CPU + CUDA ops compiled in the unpacked fork against the torch found here, for this GPU's
#    compute capability only, with every core;
# 4. python -m scripts.loop.gpu_check with the forks, the repository and the wheels on PYTHONPATH, its budget
#    what is left of CALL_SECONDS (default 570) after the build.
set -euo pipefail
started=$SECONDS
BUNDLE=${GPU_BUNDLE:-.gpu-bundle}
WORK=${GPU_WORK:-/tmp/gpu-check}
REPORTS=${OUT:-$WORK}
CALL_SECONDS=${CALL_SECONDS:-570}
mkdir -p "$WORK/site" "$REPORTS"
export PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$WORK/site" "$BUNDLE"/wheels/*.whl
tar -xzf "$BUNDLE/forks.tar.gz" -C "$WORK"
cp -r "$WORK/spconv-py/." "$WORK/site/spconv/"
forks=$WORK/forks
export PYTHONPATH="$PWD:$forks/mmengine:$forks/mmcv:$forks/mmdetection:$forks/mmdetection3d:$forks/mmdeploy:$forks/nuscenes-devkit:$forks/lyft-dataset-sdk:$WORK/site"
arch=$(python3 -c 'import torch; print("%d.%d" % torch.cuda.get_device_capability())')
cores=$(nproc)
echo "==> compiling mmcv's ops for sm_${arch/./} with $cores jobs against torch $(python3 -c 'import torch; print(torch.__version__)'); log: $REPORTS/mmcv-build.log"
build_started=$SECONDS
(cd "$forks/mmcv" && MMCV_WITH_OPS=1 FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST="$arch" MAX_JOBS="$cores" \
    CFLAGS="-O3 -DNDEBUG -g0" CXXFLAGS="-O3 -DNDEBUG -g0" python3 setup.py build_ext --inplace) \
    >"$REPORTS/mmcv-build.log" 2>&1 || { tail -n 40 "$REPORTS/mmcv-build.log"; exit 1; }
echo "    compiled in $((SECONDS - build_started)) s"
export MMLAB_DATASET_PATH=$WORK/data MMLAB_CHECKPOINTS_PATH=$WORK/checkpoints
budget=$((CALL_SECONDS - (SECONDS - started) - 20))
python3 -m scripts.loop.gpu_check --out "$REPORTS" --budget "$budget" \
    --setup-note "bootstrap: wheels, forks and mmcv's ops (sm_${arch/./}, $cores jobs) in $((SECONDS - started)) s" "$@" \
    2>&1 | tee "$REPORTS/gpu-check.log"
