"""A stand-in ``tensorrt`` module with only the name-based API that TensorRT 10 and 11 kept, for machines without
a GPU. Its engine runs a tiny "network" on host memory at the addresses it is given, so a wrapper that hands it
the wrong pointers, shapes or dtypes gets wrong numbers; a call to a binding-API method (``get_binding_index``,
``execute_async_v2``, iterating the engine, ...) is an AttributeError or TypeError, as on the real TensorRT 10.

The network: inputs ``voxels`` float32 (N, 4) and ``num_points`` int32 (N,); outputs ``features`` float32 (N, 4)
= voxels * num_points[:, None] and ``count`` int64 (1,) = [N].
"""

from __future__ import annotations

import ctypes
import enum
import importlib.machinery
import types

import numpy as np

# what mmdeploy's patched TensorRT backend calls, per class (the fakes below implement exactly these)
API = {
    "ICudaEngine": ("create_execution_context", "get_tensor_dtype", "get_tensor_location", "get_tensor_mode",
                    "get_tensor_name", "get_tensor_profile_shape", "num_io_tensors"),
    "IExecutionContext": ("execute_async_v3", "get_tensor_shape", "set_input_shape", "set_tensor_address",
                          "temporary_allocator"),
    "Builder": ("build_serialized_network", "create_builder_config", "create_network", "create_optimization_profile"),
    "IBuilderConfig": ("add_optimization_profile", "set_memory_pool_limit"),
    "Runtime": ("deserialize_cuda_engine",),
}  # fmt: skip
ENGINE_BYTES = b"fake voxel engine"
MAX_VOXELS = 64


class DataType(enum.Enum):
    FLOAT, HALF, BF16, INT8, UINT8, INT32, INT64, BOOL = range(8)


class TensorIOMode(enum.Enum):
    NONE, INPUT, OUTPUT = range(3)


class TensorLocation(enum.Enum):
    DEVICE, HOST = range(2)


class MemoryPoolType(enum.Enum):
    WORKSPACE = 0


class Logger:
    class Severity(enum.IntEnum):
        INTERNAL_ERROR, ERROR, WARNING, INFO, VERBOSE = range(5)

    INTERNAL_ERROR, ERROR, WARNING, INFO, VERBOSE = Severity

    def __init__(self, min_severity: Severity = Severity.WARNING):
        self.min_severity = min_severity


NUMPY = {DataType.FLOAT: np.float32, DataType.INT32: np.int32, DataType.INT64: np.int64}
TENSORS = {  # name: (mode, dtype, shape with -1 for the voxel dimension)
    "voxels": (TensorIOMode.INPUT, DataType.FLOAT, (-1, 4)),
    "num_points": (TensorIOMode.INPUT, DataType.INT32, (-1,)),
    "features": (TensorIOMode.OUTPUT, DataType.FLOAT, (-1, 4)),
    "count": (TensorIOMode.OUTPUT, DataType.INT64, (1,)),
}


def _array(address: int, shape: tuple, dtype) -> np.ndarray:
    """A writable NumPy view of the host memory at ``address``."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    return np.frombuffer((ctypes.c_char * nbytes).from_address(address), dtype=dtype).reshape(shape)


class ICudaEngine:
    num_io_tensors = len(TENSORS)

    def get_tensor_name(self, index: int) -> str:
        return list(TENSORS)[index]

    def get_tensor_mode(self, name: str) -> TensorIOMode:
        return TENSORS[name][0]

    def get_tensor_dtype(self, name: str) -> DataType:
        return TENSORS[name][1]

    def get_tensor_location(self, name: str) -> TensorLocation:
        return TensorLocation.HOST  # host tensors, so that CPU torch tensors can stand in for device memory

    def get_tensor_profile_shape(self, name: str, profile_index: int) -> list[tuple]:
        assert TENSORS[name][0] is TensorIOMode.INPUT and profile_index == 0
        shape = TENSORS[name][2]
        return [tuple(1 if d == -1 else d for d in shape), shape, tuple(MAX_VOXELS if d == -1 else d for d in shape)]

    def create_execution_context(self) -> IExecutionContext:
        return IExecutionContext()


class IExecutionContext:
    temporary_allocator = None

    def __init__(self):
        self.shapes: dict[str, tuple] = {}
        self.addresses: dict[str, int] = {}
        self.streams: list[int] = []

    def set_input_shape(self, name: str, shape: tuple) -> bool:
        assert TENSORS[name][0] is TensorIOMode.INPUT, f"{name} is not an input"
        self.shapes[name] = tuple(shape)
        return True

    def get_tensor_shape(self, name: str) -> tuple:
        voxels = self.shapes.get("voxels", (-1,))[0]
        return tuple(voxels if d == -1 else d for d in TENSORS[name][2])

    def set_tensor_address(self, name: str, address: int) -> bool:
        self.addresses[name] = address
        return True

    def execute_async_v3(self, stream_handle: int) -> bool:
        missing = set(TENSORS) - set(self.addresses)
        assert not missing, f"no address set for {sorted(missing)}"
        arrays = {name: _array(self.addresses[name], self.get_tensor_shape(name), NUMPY[TENSORS[name][1]])
                  for name in TENSORS}  # fmt: skip
        arrays["features"][:] = arrays["voxels"] * arrays["num_points"][:, None]
        arrays["count"][:] = len(arrays["voxels"])
        self.streams.append(stream_handle)
        return True


class IBuilderConfig:
    def __init__(self):
        self.pool_limits: dict = {}
        self.profiles: list = []

    def set_memory_pool_limit(self, pool: MemoryPoolType, size: int) -> None:
        self.pool_limits[pool] = size

    def add_optimization_profile(self, profile) -> int:
        self.profiles.append(profile)
        return len(self.profiles) - 1


class IOptimizationProfile:
    def __init__(self):
        self.shapes: dict = {}

    def set_shape(self, name: str, min, opt, max) -> None:
        self.shapes[name] = (tuple(min), tuple(opt), tuple(max))


class Builder:
    def __init__(self, logger: Logger):
        self.network_flags: list[int] = []
        self.configs: list[IBuilderConfig] = []

    def create_network(self, flags: int = 0) -> types.SimpleNamespace:
        self.network_flags.append(flags)
        return types.SimpleNamespace(parsed=[])

    def create_builder_config(self) -> IBuilderConfig:
        self.configs.append(IBuilderConfig())
        return self.configs[-1]

    def create_optimization_profile(self) -> IOptimizationProfile:
        return IOptimizationProfile()

    def build_serialized_network(self, network, config: IBuilderConfig) -> bytes:
        assert network.parsed and config.profiles, "built before the ONNX model was parsed and a profile was added"
        return ENGINE_BYTES


class OnnxParser:
    num_errors = 0

    def __init__(self, network, logger: Logger):
        self.network = network

    def parse_from_file(self, path: str) -> bool:
        self.network.parsed.append(path)
        return True


class Runtime:
    def __init__(self, logger: Logger):
        self.logger = logger

    def deserialize_cuda_engine(self, serialized: bytes) -> ICudaEngine:
        assert serialized == ENGINE_BYTES
        return ICudaEngine()


class IGpuAllocator:
    pass


def module(version: str = "10.16.1.11") -> types.ModuleType:
    """A fresh ``tensorrt`` module reporting ``version``; import-machinery ready (``__spec__`` set)."""
    trt = types.ModuleType("tensorrt")
    trt.__spec__ = importlib.machinery.ModuleSpec("tensorrt", None)
    trt.__version__ = version
    for cls in (DataType, TensorIOMode, TensorLocation, MemoryPoolType, Logger, ICudaEngine, IExecutionContext,
                IBuilderConfig, IOptimizationProfile, Builder, OnnxParser, Runtime, IGpuAllocator):  # fmt: skip
        setattr(trt, cls.__name__, cls)
    trt.float32, trt.float16, trt.bfloat16 = DataType.FLOAT, DataType.HALF, DataType.BF16
    trt.int8, trt.uint8, trt.int32, trt.int64, trt.bool = (DataType.INT8, DataType.UINT8, DataType.INT32,
                                                           DataType.INT64, DataType.BOOL)  # fmt: skip
    trt.init_libnvinfer_plugins = lambda logger, namespace: True
    return trt
