"""One table for every deploy runtime: ``python -m benchmarks deploy``.

For each model (PointPillars and CenterPoint-pillar on generated LiDAR frames, RetinaNet-R18 on generated
camera images) it exports once, builds every runtime (PyTorch eager, ONNX Runtime, OpenVINO float32 and
bf16, and both INT8 variants of one onnxruntime-quantized model) and times them all in one run,
interleaved per input, so that the ratios hold on a busy machine. Parity is against PyTorch on the same
inputs: raw |diff| of the head outputs, matched final boxes, and the AP change where a trained checkpoint
is given (``--checkpoint NAME=PATH``); otherwise the weights are random and the table says so.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from mmlab_core.files import atomic_write
from scripts.loop.common.checks import load_config
from scripts.loop.deploy.accuracy import ap_drop, evaluate
from scripts.loop.deploy.export import export, to_openvino
from scripts.loop.deploy.latency import stats, timed
from scripts.loop.deploy.parity import Pair, compare, summarise
from scripts.loop.deploy.quantize import calibration_samples, model_inputs, quantize

MODELS = {  # name: (model config, deploy config task prefix)
    "PointPillars": ("configs/pointpillars_lidar-custom-cpu.py", "voxel-detection", "dynamic"),
    "CenterPoint-pillar": ("configs/centerpoint_pillar_lidar-custom-cpu.py", "voxel-detection", "dynamic"),
    "RetinaNet-R18": ("configs/retinanet_r18_camera-synth.py", "detection", "static"),
}
SECTION = "## Deploy runtimes: one table"
BF16 = {"INFERENCE_PRECISION_HINT": "bf16"}  # AVX512-BF16 (and AMX where the CPU has it)


@dataclass
class Variant:
    """One runtime x precision of a model, and what was measured of it."""

    runtime: str
    precision: str
    pair: Pair | None  # None for PyTorch eager (timed through the first deployed pair)
    times: list[float] = field(default_factory=list)
    parity: dict = field(default_factory=dict)
    ap_change: float | None = None


def _recompile(pair: Pair, config: dict) -> Pair:
    """Compile the OpenVINO model of ``pair`` again with other CPU properties (e.g. a bf16 precision hint)."""
    wrapper = pair.deployed.wrapper
    wrapper.config = {**wrapper.config, **config}  # kept when a new input shape makes it compile again
    wrapper.sess = wrapper.core.compile_model(wrapper.net, "CPU", wrapper.config)
    wrapper.request = wrapper.sess.create_infer_request()
    return pair


def build_variants(
    model_cfg, checkpoint: str, out: Path, samples: list[str], calibration: list[str], task: str, shape: str
) -> list[Variant]:
    """Export once, then every runtime of the table over the same ONNX model."""
    ort_cfg = load_config(f"configs/deploy/{task}_onnxruntime_{shape}.py")
    ov_cfg = load_config(f"configs/deploy/{task}_openvino_{shape}.py")
    onnx = export(ort_cfg, model_cfg, checkpoint, samples[0], out)
    ort = Pair(ort_cfg, model_cfg, checkpoint, onnx)
    xml = to_openvino(ov_cfg, onnx)
    onnx_int8 = quantize(onnx, model_inputs(ort, calibration), out / "end2end.int8.onnx")
    xml_int8 = to_openvino(ov_cfg, onnx_int8)
    return [
        Variant("PyTorch eager", "fp32", None),
        Variant("ONNX Runtime", "fp32", ort),
        Variant("OpenVINO", "fp32", Pair(ov_cfg, model_cfg, checkpoint, xml)),
        Variant("OpenVINO", "bf16 hint", _recompile(Pair(ov_cfg, model_cfg, checkpoint, xml), BF16)),
        Variant("ONNX Runtime", "int8", Pair(ort_cfg, model_cfg, checkpoint, onnx_int8)),
        Variant("OpenVINO", "int8", Pair(ov_cfg, model_cfg, checkpoint, xml_int8)),
    ]


def measure(variants: list[Variant], samples: list[str], repeat: int) -> None:
    """Latency of every variant, interleaved per sample (same inputs), then parity against PyTorch."""
    reference = variants[1].pair
    for sample in samples:
        data, args = reference.inputs(sample)
        for v in variants:
            if v.pair is None:
                v.times += timed(lambda data=data: reference.run_eager(data), repeat)
            else:
                v.times += timed(lambda pair=v.pair, args=args: pair.run_deployed(args), repeat)
    for v in variants[1:]:
        v.parity = summarise([compare(v.pair, sample) for sample in samples])


def ap_changes(variants: list[Variant], model_cfg, frames: int) -> None:
    """AP change (largest drop, in points) of each deployed variant against PyTorch on the test set."""
    reference = evaluate(variants[1].pair.torch_model, model_cfg, frames)
    for v in variants[1:]:
        v.ap_change = -ap_drop(reference, evaluate(v.pair.deployed, model_cfg, frames))


def rows(name: str, variants: list[Variant], trained: bool) -> list[str]:
    """Markdown table rows of one model."""
    eager = statistics.median(variants[0].times)
    lines = []
    for v in variants:
        s = stats(v.times)
        p = v.parity
        boxes = f"{p['boxes_matched']}/{p['boxes_reference']}" if p else "reference"
        raw = f"{p['max_abs_diff']:.2g}" if p else "-"
        ap = "-" if not p else (f"{v.ap_change + 0.0:+.2f}" if trained else "random weights")  # no "-0.00"
        lines.append(
            f"| {name} | {v.runtime} | {v.precision} | {s['median_ms']:.1f} | {s['p90_ms']:.1f} | "
            f"{eager / s['median_ms']:.2f}x | {raw} | {boxes} | {ap} |"
        )
    return lines


def table(results: dict[str, tuple[list[Variant], bool]], how: str) -> str:
    """The docs section: how it was measured, then one row per model x runtime x precision."""
    columns = (
        "model",
        "runtime",
        "precision",
        "median ms",
        "p90 ms",
        "vs PyTorch eager",
        "raw max abs diff",
        "boxes matched",
        "AP change (points)",
    )
    head = [SECTION, "", how, "", "| " + " | ".join(columns) + " |", "| --- | --- | --- |" + " ---: |" * 6]
    return "\n".join(head + [r for name, (v, trained) in results.items() for r in rows(name, v, trained)]) + "\n"


def write_section(doc: Path, section: str) -> None:
    """Replace (or append) the table's section in ``doc``, keeping the others."""
    text = doc.read_text()
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    atomic_write(doc, text)


def random_checkpoint(model_cfg, path: Path, zero_classifier_bias: bool = True) -> str:
    """Random weights (seed 0), by default with every classifier bias zeroed (score 0.5 everywhere), so that
    each frame keeps many final boxes to match."""
    import torch
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner.checkpoint import save_checkpoint

    init_default_scope(model_cfg.get("default_scope", "mmdet3d"))
    torch.manual_seed(0)
    state = MODELS.build(model_cfg.model).state_dict()
    for key in state if zero_classifier_bias else ():
        if re.search(r"(conv_cls|retina_cls|heatmap\.\d+)\.bias$", key):
            state[key].zero_()
    save_checkpoint(dict(state_dict=state, meta={}), str(path))
    return str(path)


def run_model(name: str, checkpoint: str | None, settings, out: Path, frames: int, repeat: int) -> list[Variant]:
    """Every variant of one model, measured; AP changes when a trained ``checkpoint`` is given."""
    from scripts.loop.deploy.command import validation_samples

    config, task, shape = MODELS[name]
    model_cfg = load_config(config, settings=settings)
    (out / name).mkdir(parents=True, exist_ok=True)
    trained = checkpoint is not None
    checkpoint = checkpoint or random_checkpoint(model_cfg, out / name / "random.pth")
    samples = validation_samples(model_cfg, frames)
    calibration = calibration_samples(model_cfg, None, 8)
    print(f"{name}: export, quantize and build 6 runtimes", flush=True)
    variants = build_variants(model_cfg, checkpoint, out / name, samples, calibration, task, shape)
    print(f"{name}: timing {len(samples)} inputs x {repeat} runs per runtime", flush=True)
    measure(variants, samples, repeat)
    if trained:
        print(f"{name}: AP of PyTorch and each runtime on the test set", flush=True)
        ap_changes(variants, model_cfg, None)
    return variants


def deploy_table(
    frames: int, repeat: int, checkpoints: dict[str, str], datasets: Path | None, models: list[str], doc: Path
) -> dict:
    """Measure ``models`` on ``frames`` validation inputs (generated data unless ``datasets``), write the table
    into ``doc``, and return its figures."""
    import os
    import tempfile

    from mmlab_core.settings import current

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        if datasets is None:
            from scripts.data.convert_lidar import convert
            from scripts.data.synth_scenes import generate

            datasets = Path(tmp) / "datasets"
            generate(datasets / "synthetic", train=8, val=frames, seed=0, camera=True)
            convert(datasets / "synthetic")
        settings = current().with_(datasets=datasets)
        import extensions

        extensions.register(rewriters=True)

        results = {
            name: (run_model(name, checkpoints.get(name), settings, Path(tmp), frames, repeat), name in checkpoints)
            for name in models
        }
    load = [round(x, 2) for x in (*load_before, *os.getloadavg())]
    how = (
        f"`python -m benchmarks deploy --frames {frames} --repeat {repeat}`: {frames} validation inputs "
        f"x {repeat} timed runs per runtime (2 warm-up runs each), runtimes interleaved per input; raw forward "
        "(voxels or image in, head outputs out; voxelization and box decoding excluded). Parity against PyTorch "
        "on the same inputs; AP change = largest drop of any whole-range AP on the test set, where a trained "
        f"checkpoint was given. Load average (1, 5, 15 min) before {load[:3]}, after {load[3:]}, "
        f"{os.cpu_count()} CPUs."
    )
    write_section(doc, table(results, how))
    return dict(
        load_average=load,
        rows=[
            dict(
                model=name,
                runtime=v.runtime,
                precision=v.precision,
                **stats(v.times),
                ap_change=v.ap_change,
                **{k: v.parity[k] for k in ("max_abs_diff", "boxes_matched", "boxes_reference") if k in v.parity},
            )
            for name, (variants, _) in results.items()
            for v in variants
        ],
    )
