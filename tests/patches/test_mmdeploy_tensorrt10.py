"""mmdeploy's TensorRT backend on the name-based tensor API of TensorRT 10 and 11:
patches/mmdeploy/backend-tensorrt-port-to-tensorrt-10-s-name-based-tensor-api.patch

There is no GPU here (nor in CI) and the `tensorrt` wheel cannot be imported without one's libraries (PyPI holds
only the bindings; libnvinfer comes from pypi.nvidia.com), so the backend runs against tests/helpers/fake_tensorrt.py:
an engine, context and builder that implement only what TensorRT 10/11 kept, on host memory. What the fake cannot
show (CUDA memory, real kernels, plugin loading) needs a GPU: tests/loop/test_deploy_cli.py builds and runs a real
engine where one and TensorRT are present. Where the real module imports, the names the backend calls are checked
on its classes. (Checked by hand on the bindings wheels' symbol strings: all present in 8.6.1, 10.0.1, 10.16.1.11
and 11.4.0.106; the binding API is gone from 10.0.1 on.)
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
import types

import pytest
import torch

from tests.helpers import fake_tensorrt

MODULES = [f"mmdeploy.backend.tensorrt.{name}" for name in ("init_plugins", "utils", "torch_allocator", "wrapper")]
STREAM = 0x5EED  # the handle of the fake "current CUDA stream"
SHAPES = dict(voxels=dict(min_shape=[1, 4], opt_shape=[8, 4], max_shape=[64, 4]),
              num_points=dict(min_shape=[1], opt_shape=[8], max_shape=[64]))  # fmt: skip


@pytest.fixture
def trt(monkeypatch):
    """The fake ``tensorrt`` in sys.modules and mmdeploy's TensorRT modules imported afresh against it; afterwards
    sys.modules and the registrations that importing the wrapper makes (backend wrapper, timer) are as before."""
    import mmdeploy.backend.tensorrt as package  # imported before the fake: as without tensorrt
    from mmdeploy.backend.base import BACKEND_WRAPPER
    from mmdeploy.utils.timer import TimeCounter

    for name in MODULES:  # importing a submodule sets it on the package
        monkeypatch.setattr(package, name.rsplit(".", 1)[1], None, raising=False)
        monkeypatch.delattr(package, name.rsplit(".", 1)[1])
    monkeypatch.delitem(BACKEND_WRAPPER.module_dict, "tensorrt", raising=False)
    monkeypatch.delitem(TimeCounter.names, "tensorrt", raising=False)
    # TRTWrapper runs TensorRT on torch's current CUDA stream and takes scratch memory from torch's CUDA caching
    # allocator; CPU-only torch has neither, so stand in for exactly those two
    monkeypatch.setattr(torch.cuda, "current_stream", lambda *args: types.SimpleNamespace(cuda_stream=STREAM))
    monkeypatch.setattr(torch._C, "_cuda_cudaCachingAllocator_raw_delete", lambda address: None, raising=False)
    saved = {name: sys.modules.pop(name) for name in [*MODULES, "tensorrt"] if name in sys.modules}
    sys.modules["tensorrt"] = fake_tensorrt.module()
    try:
        for name in MODULES:
            importlib.import_module(name)
        yield sys.modules["tensorrt"]
    finally:
        for name in [*MODULES, "tensorrt"]:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


def test_the_fake_implements_only_what_the_backend_may_call():
    for cls, names in fake_tensorrt.API.items():
        public = {name for name in dir(getattr(fake_tensorrt, cls)) if not name.startswith("_")}
        assert public == set(names), cls


def test_wrapper_runs_an_engine_by_tensor_name(trt):
    from mmdeploy.backend.tensorrt.torch_allocator import TorchAllocator
    from mmdeploy.backend.tensorrt.wrapper import TRTWrapper

    wrapper = TRTWrapper(trt.ICudaEngine())
    assert wrapper._input_names == ["voxels", "num_points"]
    assert wrapper.output_names == ["features", "count"]  # in the engine's order
    assert isinstance(wrapper.context.temporary_allocator, TorchAllocator)
    for count in (5, 11):  # a dynamic voxel dimension: the input shapes are set on every call
        voxels, num_points = torch.randn(count, 4), torch.arange(count)  # int64, the engine takes int32
        out = wrapper(dict(voxels=voxels, num_points=num_points))
        assert wrapper.context.shapes == dict(voxels=(count, 4), num_points=(count,))
        assert out["features"].dtype == torch.float32 and out["count"].dtype == torch.int64
        torch.testing.assert_close(out["features"], voxels * num_points[:, None].float())
        assert out["count"].tolist() == [count]
        assert wrapper.context.addresses["features"] == out["features"].data_ptr()
    assert wrapper.context.streams == [STREAM, STREAM]


def test_wrapper_refuses_an_input_outside_the_engine_profile(trt):
    from mmdeploy.backend.tensorrt.wrapper import TRTWrapper

    wrapper = TRTWrapper(trt.ICudaEngine())
    count = fake_tensorrt.MAX_VOXELS + 1
    with pytest.raises(AssertionError, match="Input shape should be between"):
        wrapper(dict(voxels=torch.zeros(count, 4), num_points=torch.zeros(count, dtype=torch.int32)))


def test_from_onnx_builds_with_the_tensorrt_10_builder_and_the_wrapper_runs_the_file(trt, tmp_path, monkeypatch):
    from mmdeploy.backend.tensorrt.utils import from_onnx
    from mmdeploy.backend.tensorrt.wrapper import TRTWrapper

    builder = fake_tensorrt.Builder(trt.Logger())
    monkeypatch.setattr(trt, "Builder", lambda logger: builder)
    (tmp_path / "end2end.onnx").write_bytes(b"")  # parsed by the fake parser only
    from_onnx(str(tmp_path / "end2end.onnx"), str(tmp_path / "end2end"), SHAPES, max_workspace_size=1 << 20)
    assert builder.network_flags == [0]  # explicit batch is the only mode; TensorRT 11 removed the flag
    [config] = builder.configs
    assert config.pool_limits == {trt.MemoryPoolType.WORKSPACE: 1 << 20}
    assert config.profiles[0].shapes["voxels"] == ((1, 4), (8, 4), (64, 4))
    engine = tmp_path / "end2end.engine"
    assert engine.read_bytes() == fake_tensorrt.ENGINE_BYTES
    out = TRTWrapper(str(engine))(dict(voxels=torch.ones(3, 4), num_points=torch.full((3,), 2)))
    assert out["features"].tolist() == [[2.0] * 4] * 3


def test_a_plugin_library_for_another_tensorrt_is_a_warning(trt):
    """mmdeploy's wheel ships lib/libmmdeploy_tensorrt_ops.so, built for TensorRT 8 and CUDA 11 (libnvinfer.so.8);
    where it cannot load, graphs of built-in layers still build and run."""
    import ctypes
    import os

    from mmdeploy.backend.tensorrt.init_plugins import get_ops_path, load_tensorrt_plugin

    if not os.path.exists(get_ops_path()):
        pytest.skip("this mmdeploy has no prebuilt TensorRT plugin library")
    try:
        ctypes.CDLL(get_ops_path())
    except OSError:
        assert load_tensorrt_plugin() is False
    else:
        pytest.skip("the prebuilt plugin library loads here (TensorRT 8 and CUDA 11 are present)")


@pytest.mark.parametrize("version", ["8.5.3.1", "12.0.0.1"])
def test_an_unsupported_tensorrt_is_one_paragraph(trt, version, monkeypatch):
    from mmdeploy.backend.tensorrt.utils import TensorRTVersionError, from_onnx
    from mmdeploy.backend.tensorrt.wrapper import TRTWrapper

    monkeypatch.setattr(trt, "__version__", version)
    expected = rf"TensorRT {version} is not supported: .* supports TensorRT 8\.6 to 11\.x"
    with pytest.raises(TensorRTVersionError, match=expected):
        TRTWrapper(trt.ICudaEngine())
    with pytest.raises(TensorRTVersionError, match=expected):
        from_onnx("end2end.onnx", "end2end", SHAPES)


def test_fp16_on_tensorrt_11_is_one_paragraph(trt, monkeypatch):
    from mmdeploy.backend.tensorrt.utils import TensorRTVersionError, from_onnx

    monkeypatch.setattr(trt, "__version__", "11.4.0.106")
    with pytest.raises(TensorRTVersionError, match=r"fp16_mode and int8_mode need TensorRT 8\.6 to 10\.x"):
        from_onnx("end2end.onnx", "end2end", SHAPES, fp16_mode=True)


@pytest.mark.skipif(importlib.util.find_spec("tensorrt") is None, reason="the tensorrt package is not installed")
def test_the_backend_calls_only_names_the_real_tensorrt_has():
    try:
        import tensorrt as real
    except ImportError as error:  # the bindings without NVIDIA's libraries (libnvinfer)
        pytest.skip(f"tensorrt does not import here: {error}")
    missing = [f"{cls}.{name}" for cls, names in fake_tensorrt.API.items() for name in names
               if not hasattr(getattr(real, cls), name)]  # fmt: skip
    assert not missing, f"TensorRT {real.__version__} lacks {missing}"


def _site_with_tensorrt(root, version: str) -> str:
    """A folder for PYTHONPATH that holds only the metadata of an installed TensorRT ``version``."""
    info = root / f"tensorrt_cu13-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: tensorrt_cu13\nVersion: {version}\n")
    (info / "top_level.txt").write_text("tensorrt\n")
    return str(root)


@pytest.mark.parametrize("version", ["8.6.1", "10.16.1.11", "11.4.0.106"])
def test_deploy_accepts_the_tensorrt_versions_the_patch_drives(tmp_path, monkeypatch, version):
    from scripts.loop.deploy.export import check_backend_package

    monkeypatch.syspath_prepend(_site_with_tensorrt(tmp_path, version))
    check_backend_package("tensorrt", "configs/deploy/voxel-detection_tensorrt_dynamic.py")  # no UsageError


def test_deploy_refuses_an_unsupported_tensorrt_with_a_paragraph(tmp_path):
    from mmlab_core.settings import REPO_ROOT
    from scripts.loop.deploy.export import TENSORRT_PATCH

    site = _site_with_tensorrt(tmp_path / "site", "12.0.0")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([site, os.environ.get("PYTHONPATH", "")]))
    deploy = "configs/deploy/voxel-detection_tensorrt_dynamic.py"
    args = [deploy, "configs/pointpillars_lidar-custom-3class.py", str(tmp_path / "model.pth")]
    cmd = [sys.executable, "-m", "scripts.loop.deploy", *args, "--work-dir", str(tmp_path / "out")]
    result = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"{deploy} deploys to TensorRT, and this environment has tensorrt 12.0.0" in result.stderr
    assert TENSORRT_PATCH in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
