"""Post-training INT8 quantization of an exported ONNX model with onnxruntime's static quantizer.

The calibration set is real model inputs (voxels for LiDAR models, images for 2D ones) made from
training frames by the deploy pipeline itself (mmdeploy's ``create_input``), so the activation ranges
are those the deployed model sees. Output: ``end2end.int8.onnx`` in QDQ form (QuantizeLinear /
DequantizeLinear pairs around int8 weights), which ONNX Runtime runs with int8 kernels and OpenVINO
converts to its own int8 graph.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from mmlab_core.files import atomic_path
from scripts.loop.common.checks import UsageError, point_dims

CALIBRATION_FRAMES = 8  # training frames fed to the calibrator by default
QDQ_OPSET = 13  # QuantizeLinear/DequantizeLinear with a per-channel axis
QUANTIZED_OPS = ["Conv", "ConvTranspose"]


def calibration_samples(model_cfg, info_file: str | None, count: int) -> list[str]:
    """Input files of the first ``count`` frames of the calibration set: ``info_file`` (an info .pkl written
    by ``nox -s data``), or the model config's training set. ``UsageError`` when it is empty or when its
    frames carry a point dimension other than the model's."""
    from mmengine.registry import DATASETS, init_default_scope

    init_default_scope(model_cfg.get("default_scope", "mmdet3d"))
    dataset_cfg = model_cfg.train_dataloader.dataset
    dataset_cfg = dataset_cfg.get("dataset", dataset_cfg)  # RepeatDataset and friends wrap the real one
    if info_file:
        dataset_cfg = dict(dataset_cfg, ann_file=str(Path(info_file).resolve()))
    where = info_file or f"the training set of the model config ({dataset_cfg.get('ann_file')})"
    if count < 1:
        raise UsageError(
            f"--calibration-frames {count}: INT8 calibration needs at least one frame. Nothing was quantized. "
            f"Pass --calibration-frames N with N >= 1 (default {CALIBRATION_FRAMES})."
        )
    listed = len(_data_list(info_file)) if info_file else None  # the dataset cannot even be built from none
    dataset = DATASETS.build(dataset_cfg) if listed != 0 else []
    if len(dataset) == 0:
        raise UsageError(
            f"the calibration set, {where}, has no frames: INT8 calibration needs real inputs to measure the "
            "activation ranges. Nothing was quantized. Point --calibration at an info file that lists training "
            "frames (nox -s data writes them), or leave it out to use the model config's training set."
        )
    infos = [dataset.get_data_info(i) for i in range(min(count, len(dataset)))]
    if "img_path" in infos[0]:
        return [info["img_path"] for info in infos]
    _check_point_dimension(infos, point_dims(model_cfg), where)
    return [info["lidar_points"]["lidar_path"] for info in infos]


def _data_list(info_file: str) -> list:
    """The frames an info file lists; ``UsageError`` for a file that is not one."""
    import pickle

    path = Path(info_file)
    try:
        infos = pickle.loads(path.read_bytes())
        return list(infos["data_list"])
    except (OSError, pickle.UnpicklingError, KeyError, TypeError) as error:
        raise UsageError(
            f"--calibration {info_file} is not an info file with a data_list ({error}). Nothing was quantized. "
            "Pass an info .pkl written by nox -s data (e.g. <data root>/lidar_infos_train.pkl)."
        ) from error


def _check_point_dimension(infos: Sequence[dict], expected: int, where: str) -> None:
    for info in infos:
        points = info["lidar_points"]
        found = points.get("num_pts_feats")
        if found is None:  # an info file without the field: the file size must fit whole points
            size = Path(points["lidar_path"]).stat().st_size
            found = expected if size % (4 * expected) == 0 else None
        if found != expected:
            raise UsageError(
                f"the calibration set, {where}, holds {points['lidar_path']} with {found or 'a different number of'} "
                f"values per point, and the model reads {expected} (its voxel encoder's in_channels). Calibrating "
                "on other data would measure the wrong activation ranges. Nothing was quantized. Calibrate on "
                "frames from the sensor setup the model was trained for (--calibration INFO_PKL)."
            )


class _Reader:
    """onnxruntime's ``CalibrationDataReader`` protocol over prepared input dictionaries."""

    def __init__(self, inputs: list[dict[str, np.ndarray]]):
        self._iter: Iterator[dict[str, np.ndarray]] = iter(inputs)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._iter, None)


def model_inputs(pair, samples: Sequence[str]) -> list[dict[str, np.ndarray]]:
    """The exported graph's inputs for each sample, as the deploy pipeline makes them (a ``Pair``)."""
    feeds = []
    for sample in samples:
        _, args = pair.inputs(sample)
        feeds.append({name: arg.detach().cpu().numpy() for name, arg in zip(pair.input_names, args, strict=True)})
    return feeds


def output_convs(model) -> list[str]:
    """The convolutions whose results reach a graph output through no other convolution: the heads' last
    layers, which turn features into scores and box offsets."""
    producer = {name: node for node in model.graph.node for name in node.output}
    found, seen, todo = [], set(), [o.name for o in model.graph.output]
    while todo:
        node = producer.get(todo.pop())
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if node.op_type in QUANTIZED_OPS:
            found.append(node.name)
        else:
            todo.extend(node.input)
    return sorted(found)


def quantize(onnx_path: Path, inputs: list[dict[str, np.ndarray]], out: Path) -> Path:
    """``out`` (written whole or not at all): ``onnx_path`` with its convolutions in int8, their activation
    ranges measured on ``inputs``.

    The choices, measured on the CPU PointPillars (docs/benchmarks.md): QDQ format at opset 13 (per-channel
    scales need it), int8 per-channel weights and uint8 activations (x86's u8s8 kernels; int8 activations
    ran at half the speed), MinMax ranges (Percentile raised the largest logit error from 0.3 to 1.2).
    Only Conv and ConvTranspose are quantized: the pillar encoder's inputs are coordinates in metres, which
    8 bits over a 70 m range round to 0.3 m, and quantizing them raised the largest logit error to 6. The
    heads' last convolutions stay float32 (``output_convs``): on the demo's trained PointPillars, quantizing
    them too cost 8.75 points of Car 3D AP40 and matched 15 of 42 final boxes; kept float, +0.48 and 32."""
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory(dir=out.parent) as work, atomic_path(out) as tmp:
        model = onnx.load(str(onnx_path))
        if max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) < QDQ_OPSET:
            model = version_converter.convert_version(model, QDQ_OPSET)
        onnx.save(model, f"{work}/opset.onnx")
        # shapes inferred and batch norms folded into the convolutions, as the quantizer advises
        quant_pre_process(f"{work}/opset.onnx", f"{work}/pre.onnx", skip_symbolic_shape=True)
        quantize_static(
            f"{work}/pre.onnx",
            str(tmp),
            _Reader(inputs),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            op_types_to_quantize=QUANTIZED_OPS,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=output_convs(onnx.load(f"{work}/pre.onnx")),
        )
        onnx.checker.check_model(str(tmp))
    return out
