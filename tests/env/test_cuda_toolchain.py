"""CI's smoke of the CUDA toolchain from the index: one small .cu compiled for sm_90 and sm_120 with the
index's nvcc, in scripts/stack/cuda.py's environment, linked against cudart, and listed by cuobjdump.

Runs in the cu130 variant only (its lock installs nvcc); the full mmcv CUDA build is a recorded session
run (docs/benchmarks.md, "CUDA build"), not a test.
"""

from __future__ import annotations

import os
import subprocess
import sysconfig
from pathlib import Path

import pytest

from mmlab_core.settings import current
from scripts.stack import cuda

SITE = Path(sysconfig.get_paths()["purelib"])
HOME = cuda.index_cuda_home(SITE)
KERNEL = """
#include <cuda_runtime.h>
__global__ void axpy(float a, const float* x, float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] += a * x[i];
}
extern "C" int launch(float a, const float* x, float* y, int n) {
  axpy<<<(n + 255) / 256, 256>>>(a, x, y, n);
  return static_cast<int>(cudaGetLastError());
}
"""

pytestmark = pytest.mark.skipif(
    not (HOME / "bin" / "nvcc").exists(),
    reason=f"the cu130 toolchain is not installed here (no {HOME}/bin/nvcc): this environment is the CPU "
    "variant; the test runs in a stack built with `nox -s setup -- --cuda`",
)


def test_index_nvcc_compiles_for_hopper_and_blackwell(tmp_path):
    settings = current().with_(cuda_archs="9.0;12.0", cuda_home=None)
    env = cuda.build_env(SITE, settings, tmp_path / "link")
    source = tmp_path / "axpy.cu"
    source.write_text(KERNEL)
    library = tmp_path / "libaxpy.so"
    gencode = [f"-gencode=arch=compute_{a},code=sm_{a}" for a in ("90", "120")]
    # as torch's BuildExtension does: nvcc compiles, the host compiler links against cudart
    compile_ = [f"{env['CUDA_HOME']}/bin/nvcc", "-std=c++20", "-O3", "--compiler-options", "-fPIC", *gencode]
    link = ["c++", "-shared", str(tmp_path / "axpy.o"), f"-L{env['CUDA_HOME']}/lib", "-lcudart", "-o", str(library)]
    for cmd in ([*compile_, "-c", str(source), "-o", str(tmp_path / "axpy.o")], link):
        proc = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    listing = subprocess.run(
        [f"{env['CUDA_HOME']}/bin/cuobjdump", "--list-elf", str(library)], capture_output=True, text=True, check=True
    ).stdout
    assert "sm_90" in listing and "sm_120" in listing, listing
    needed = subprocess.run(["readelf", "-d", str(library)], capture_output=True, text=True).stdout
    assert "libcudart.so.13" in needed
